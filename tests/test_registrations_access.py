"""Access: every route that takes a registration, crew member or attachment id, for every role.

Allowed: the registration's own outlet (correspondent) and reviewing staff (officer,
leader). Everyone else gets 404 (another outlet's ids are not confirmed to exist) or
403 (a role that never has the page); an anonymous visitor is sent to the login page.
"""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.auth.models import Role
from app.registrations.models import Attachment, Consultation, ConsultedBody, Registration, Status
from tests.support import csrf_token, login

OWNER, OTHER, OFFICER, LEADER, ADMIN, ANONYMOUS = "owner", "other", "officer", "leader", "admin", "anonymous"


@pytest.fixture
def world(app, db, make_user, make_registration):
    registration, owner = make_registration(Status.in_review)
    other = make_user(Role.correspondent)
    make_registration(Status.draft, correspondent=other)  # `other` has an outlet of its own
    stored = db.session.get(Registration, registration.id)
    attachment = stored.attachments[0]
    member = stored.crew_members[0]
    with app.test_request_context():
        from app.extensions import db as app_db

        app_db.session.add(Consultation(registration_id=registration.id, body=ConsultedBody.police,
                                        body_name="Police"))
        app_db.session.commit()
    consultation = db.session.scalar(sa.select(Consultation))
    users = {OWNER: owner, OTHER: other, OFFICER: make_user(Role.officer), LEADER: make_user(Role.leader),
             ADMIN: make_user(Role.admin)}
    return {"registration": registration, "attachment": attachment, "member": member,
            "consultation": consultation, "users": users}


def browser_for(app, world, who):
    browser = app.test_client()
    if who != ANONYMOUS:
        login(browser, world["users"][who].email)
    return browser


GET_ROUTES = [
    ("/registrations/{r}", {OWNER, OFFICER, LEADER}),
    ("/registrations/{r}/attachments/{a}", {OWNER, OFFICER, LEADER}),
    ("/crew/{m}/photo", {OWNER, OFFICER, LEADER}),  # the factory's crew member has a photo
]
EDIT_ROUTE = "/registrations/{r}/edit"  # the owner may open it only in draft/needs_info: redirect here
POST_ROUTES = [
    "/registrations/{r}/withdraw", "/registrations/{r}/amend", "/registrations/{r}/messages",
    "/registrations/{r}/assign", "/registrations/{r}/request-info", "/registrations/{r}/consultations",
    "/registrations/{r}/consultations/{c}/answer", "/registrations/{r}/decision", "/registrations/{r}/return",
    "/registrations/{r}/approve", "/registrations/{r}/refuse", "/registrations/{r}/revoke",
    "/registrations/{r}/complete",
    "/registrations/{r}/attachments", "/registrations/{r}/attachments/{a}/remove", "/registrations/{r}/edit",
]
CORRESPONDENT_ONLY = {"/registrations/{r}/withdraw", "/registrations/{r}/amend", "/registrations/{r}/attachments",
                      "/registrations/{r}/attachments/{a}/remove", "/registrations/{r}/edit"}
STAFF_ONLY = {"/registrations/{r}/assign", "/registrations/{r}/request-info", "/registrations/{r}/consultations",
              "/registrations/{r}/consultations/{c}/answer", "/registrations/{r}/revoke",
              "/registrations/{r}/complete", "/registrations/{r}/refuse", "/registrations/{r}/approve",
              "/registrations/{r}/decision", "/registrations/{r}/return"}
PREVIEW_KINDS = ("approval_letter", "notification_letter", "permits", "refusal_letter")


def fill(path, world):
    return path.format(r=world["registration"].id, a=world["attachment"].id, m=world["member"].id,
                       c=world["consultation"].id)


@pytest.mark.parametrize("who", [OWNER, OTHER, OFFICER, LEADER, ADMIN, ANONYMOUS])
def test_get_routes(app, world, who):
    browser = browser_for(app, world, who)
    for path, allowed in GET_ROUTES:
        response = browser.get(fill(path, world))
        if who == ANONYMOUS:
            assert response.status_code == 302 and "/login" in response.location, path
        elif who in allowed:
            assert response.status_code == 200, (path, who)
        elif who == ADMIN:
            assert response.status_code in (403, 404), (path, who)
        else:
            assert response.status_code == 404, (path, who, response.status_code)


@pytest.mark.parametrize("who", [OWNER, OTHER, OFFICER, LEADER, ADMIN, ANONYMOUS])
def test_post_routes_refuse_who_may_not(app, db, world, who):
    browser = browser_for(app, world, who)
    token = csrf_token(browser, "/")
    before = db.session.get(Registration, world["registration"].id)
    for path in POST_ROUTES:
        response = browser.post(fill(path, world), data={"csrf_token": token, "version": before.version,
                                                        "body": "x", "body_en": "x", "reasons": "x", "reason": "x",
                                                        "comment": "x", "summary_vi": "x"})
        status = response.status_code
        if who == ANONYMOUS:
            assert status == 302 and "/login" in response.location, path
        elif who == OTHER:
            assert status in (403, 404), (path, who, status)
        elif who == ADMIN:
            assert status == 403, (path, who, status)
        elif who == OWNER and path in STAFF_ONLY:
            assert status == 403, (path, who, status)
        elif who in (OFFICER, LEADER) and path in CORRESPONDENT_ONLY:
            assert status == 403, (path, who, status)
        else:
            assert status != 500, (path, who)
    after = db.session.get(Registration, world["registration"].id)
    if who in (OTHER, ADMIN, ANONYMOUS):
        assert (after.status, after.version) == (before.status, before.version)


@pytest.mark.parametrize("who", [OWNER, OTHER, OFFICER, LEADER, ADMIN, ANONYMOUS])
def test_draft_previews_are_for_reviewing_staff_only(app, world, who):
    browser = browser_for(app, world, who)
    for kind in PREVIEW_KINDS:
        response = browser.get(fill(f"/registrations/{{r}}/preview/{kind}.pdf", world))
        if who == ANONYMOUS:
            assert response.status_code == 302 and "/login" in response.location, kind
        elif who in (OFFICER, LEADER):
            assert response.status_code == 200, (kind, who)
            assert response.data.startswith(b"%PDF-")
            assert response.headers["Cache-Control"] == "no-store"
        else:  # correspondents and the administrator never preview a draft decision
            assert response.status_code == 403, (kind, who, response.status_code)


def test_no_preview_outside_review(app, db, world, make_registration):
    approved, _ = make_registration(Status.approved)
    browser = browser_for(app, world, LEADER)
    assert browser.get(f"/registrations/{approved.id}/preview/approval_letter.pdf").status_code == 404
    assert browser.get(fill("/registrations/{r}/preview/other.pdf", world)).status_code == 404


def test_staff_queue_is_for_reviewers_only(app, world):
    for who, expected in ((OWNER, 403), (ADMIN, 403), (OFFICER, 200), (LEADER, 200)):
        assert browser_for(app, world, who).get("/staff/registrations").status_code == expected, who
    response = browser_for(app, world, ANONYMOUS).get("/staff/registrations")
    assert response.status_code == 302


def test_correspondent_pages_are_for_correspondents_only(app, world):
    for path in ("/my/registrations", "/registrations/new", "/outlet", "/outlet/crew", "/outlet/crew/new",
                 fill("/outlet/crew/{m}", world)):
        for who in (OFFICER, LEADER, ADMIN):
            assert browser_for(app, world, who).get(path).status_code == 403, (path, who)


def test_another_outlets_crew_member_is_not_found(app, world):
    browser = browser_for(app, world, OTHER)
    assert browser.get(fill("/outlet/crew/{m}", world)).status_code == 404
    token = csrf_token(browser, "/")
    response = browser.post(fill("/outlet/crew/{m}/remove", world), data={"csrf_token": token})
    assert response.status_code == 404


def test_crew_photo_only_for_the_outlet_and_staff(app, db, world):
    """The factory's crew member has a photo."""
    path = fill("/crew/{m}/photo", world)
    for who, expected in ((OWNER, 200), (OFFICER, 200), (LEADER, 200), (OTHER, 404), (ADMIN, 404)):
        response = browser_for(app, world, who).get(path)
        assert response.status_code == expected, who
        if expected == 200:
            assert response.headers["Cache-Control"].startswith("no-store")


def test_attachment_downloads_are_private_and_not_cached(app, world):
    response = browser_for(app, world, OWNER).get(fill("/registrations/{r}/attachments/{a}", world))
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.data.startswith(b"%PDF-")


def test_an_attachment_id_of_another_registration_is_not_found(app, db, world, make_registration):
    other_registration, _ = make_registration(Status.submitted)
    foreign = db.session.scalar(sa.select(Attachment).where(Attachment.registration_id == other_registration.id))
    browser = browser_for(app, world, OWNER)
    assert browser.get(f"/registrations/{world['registration'].id}/attachments/{foreign.id}").status_code == 404
