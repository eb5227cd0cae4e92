"""A crew member named on a registration that the province is reviewing or has approved cannot be
changed or removed in place: the page shows them read-only, says why and offers the way through the
registration (an amendment once approved); a POST is refused and nothing changes."""
from __future__ import annotations

import os
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.auth.models import Role, User
from app.clock import local_today
from app.outlets.models import CrewMember
from app.registrations.models import Registration, Status
from tests.support import csrf_token, login, post_form

LOCKING = [Status.submitted, Status.in_review, Status.needs_info, Status.approved]
NOT_LOCKING = [Status.draft, Status.refused, Status.withdrawn, Status.completed, Status.revoked, Status.superseded]


def the_member(db, registration) -> CrewMember:
    return db.session.scalars(sa.select(CrewMember).where(CrewMember.outlet_id == registration.outlet_id)).one()


def changed_data(member: CrewMember, **overrides) -> dict:
    data = {"full_name": "Somebody Else", "nationality": member.nationality,
            "date_of_birth": member.date_of_birth.isoformat(), "role": member.role.name,
            "passport_number": member.passport_number, "passport_expiry": member.passport_expiry.isoformat(),
            "press_card_number": "", "privacy_consent": "y"}
    data.update(overrides)
    return data


def snapshot(db, member_id: int) -> tuple:
    member = db.session.get(CrewMember, member_id)
    return (member.full_name, member.passport_number, member.photo_stored_name, member.active)


@pytest.fixture
def locked(client, db, make_registration, request):
    """A registration in the given state, its crew member, and its correspondent logged in."""
    registration, correspondent = make_registration(request.param)
    login(client, correspondent.email)
    return registration, the_member(db, registration), correspondent


@pytest.mark.parametrize("locked", LOCKING, indirect=True, ids=lambda status: status.name)
def test_each_state_in_review_or_approved_locks_the_member(client, db, locked):
    registration, member, _ = locked
    response = client.get(f"/outlet/crew/{member.id}")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'name="full_name"' not in body and 'type="file"' not in body  # no form: read-only
    assert "These details cannot be changed here" in body and "•••" + member.passport_number[-3:] in body
    assert f'href="/registrations/{registration.id}"' in body and registration.reference in body


@pytest.mark.parametrize("locked", LOCKING, indirect=True, ids=lambda status: status.name)
def test_a_change_or_a_removal_is_refused_and_nothing_changes(client, db, locked):
    registration, member, _ = locked
    before = snapshot(db, member.id)
    response = post_form(client, f"/outlet/crew/{member.id}", changed_data(member), page="/outlet/crew")
    body = response.get_data(as_text=True)
    assert response.status_code == 409
    assert 'role="alert"' in body and "nothing was changed" in body and registration.reference in body
    response = client.post(f"/outlet/crew/{member.id}/remove", data={"csrf_token": csrf_token(client, "/outlet/crew")})
    assert response.status_code == 409 and "nothing was changed" in response.get_data(as_text=True)
    assert snapshot(db, member.id) == before


@pytest.mark.parametrize("locked", NOT_LOCKING, indirect=True, ids=lambda status: status.name)
def test_drafts_and_ended_registrations_do_not_lock(client, db, locked):
    _, member, _ = locked
    assert 'name="full_name"' in client.get(f"/outlet/crew/{member.id}").get_data(as_text=True)
    response = post_form(client, f"/outlet/crew/{member.id}", changed_data(member))
    assert response.status_code == 302
    assert db.session.get(CrewMember, member.id).full_name == "Somebody Else"


def test_a_visit_under_way_locks(client, db, make_registration):
    registration, correspondent = make_registration(Status.approved, start_in_days=-1, days=3)
    login(client, correspondent.email)
    member = the_member(db, registration)
    response = post_form(client, f"/outlet/crew/{member.id}", changed_data(member), page="/outlet/crew")
    assert response.status_code == 409
    assert db.session.get(CrewMember, member.id).full_name != "Somebody Else"


def test_one_draft_does_not_unlock_a_member_another_registration_locks(client, db, make_registration):
    """The member is on a draft (no lock) and on a submitted registration (lock): locked."""
    draft, correspondent = make_registration(Status.draft)
    member = the_member(db, draft)
    submitted, _ = make_registration(Status.submitted, correspondent=correspondent)
    registration = db.session.get(Registration, submitted.id)
    registration.crew_members = [db.session.get(CrewMember, member.id)]
    db.session.commit()
    login(client, correspondent.email)
    body = client.get(f"/outlet/crew/{member.id}").get_data(as_text=True)
    assert submitted.reference in body and draft.reference not in body
    assert post_form(client, f"/outlet/crew/{member.id}", changed_data(member), page="/outlet/crew").status_code == 409


def test_the_crew_list_says_which_registration_locks_and_offers_no_removal(client, db, make_registration,
                                                                          make_crew_member):
    from types import SimpleNamespace

    registration, correspondent = make_registration(Status.in_review)
    free = make_crew_member(SimpleNamespace(id=correspondent.outlet_id), full_name="Ola Nordmann")
    login(client, correspondent.email)
    body = client.get("/outlet/crew").get_data(as_text=True)
    assert f"Locked while {registration.reference} is in review or approved" in body
    assert "Yes, remove Ola Nordmann" in body and "Yes, remove Ingrid Larsen" not in body
    assert f'/outlet/crew/{free.id}/remove' in body


def test_an_approved_registration_offers_its_amendment_which_then_takes_the_new_person(client, db,
                                                                                      make_registration):
    registration, correspondent = make_registration(Status.approved)
    login(client, correspondent.email)
    member = the_member(db, registration)
    body = client.get(f"/outlet/crew/{member.id}").get_data(as_text=True)
    form = re.search(r'<form method="post" action="(/registrations/\d+/amend)">.*?name="version" value="(\d+)"',
                     body, re.S)
    assert form and form.group(1) == f"/registrations/{registration.id}/amend"
    assert f"Ask for an amendment of {registration.reference}" in body

    response = post_form(client, form.group(1), {"version": form.group(2)}, page=f"/outlet/crew/{member.id}")
    amendment = db.session.scalars(sa.select(Registration).where(Registration.amends_id == registration.id)).one()
    assert response.status_code == 302 and response.location.endswith(f"/registrations/{amendment.id}/edit")

    # The approved registration still names the member: locked; the page now leads into the amendment.
    body = client.get(f"/outlet/crew/{member.id}").get_data(as_text=True)
    assert f"Its amendment {amendment.reference} is under way" in body
    assert "Ask for an amendment" not in body
    new_member_url = f"/outlet/crew/new?for_registration={amendment.id}"
    assert new_member_url in body
    response = post_form(client, new_member_url, changed_data(member, passport_number="N7654321"))
    assert response.status_code == 302
    crew = {crew_member.full_name for crew_member in db.session.get(Registration, amendment.id).crew_members}
    assert crew == {member.full_name, "Somebody Else"}
    assert db.session.get(CrewMember, member.id).full_name == member.full_name


def test_needs_info_offers_the_registrations_form(client, db, make_registration):
    registration, correspondent = make_registration(Status.needs_info)
    login(client, correspondent.email)
    member = the_member(db, registration)
    body = client.get(f"/outlet/crew/{member.id}").get_data(as_text=True)
    assert f'href="/registrations/{registration.id}/edit#crew"' in body
    assert f"/outlet/crew/new?for_registration={registration.id}" in body


def test_in_review_says_to_write_to_the_province(client, db, make_registration):
    registration, correspondent = make_registration(Status.in_review)
    login(client, correspondent.email)
    body = client.get(f"/outlet/crew/{the_member(db, registration).id}").get_data(as_text=True)
    assert "write to the province from its page" in body and "/amend" not in body


def test_the_page_says_why_in_vietnamese(client, db, make_user, make_registration):
    correspondent = make_user(Role.correspondent, locale="vi")
    registration, _ = make_registration(Status.approved, correspondent=correspondent)
    login(client, correspondent.email)
    member = the_member(db, registration)
    body = client.get(f"/outlet/crew/{member.id}").get_data(as_text=True)
    assert "Không thể sửa các thông tin này tại đây" in body
    assert f"Đề nghị điều chỉnh hồ sơ {registration.reference}" in body
    response = post_form(client, f"/outlet/crew/{member.id}", changed_data(member), page="/outlet/crew")
    assert response.status_code == 409 and "chưa có gì được thay đổi" in response.get_data(as_text=True)


def test_the_service_refuses_too(app, db, make_registration):
    """No other caller slips past the page: the service functions check the lock themselves."""
    from app.extensions import db as app_db
    from app.outlets import service

    registration, correspondent = make_registration(Status.submitted)
    member_id = the_member(db, registration).id
    with app.test_request_context():
        actor = app_db.session.get(User, correspondent.id)
        member = app_db.session.get(CrewMember, member_id)
        data = service.CrewData(full_name="Somebody Else", nationality="NO", date_of_birth=member.date_of_birth,
                                role=member.role, passport_number="X1", passport_expiry=local_today() + timedelta(days=400),
                                press_card_number=None)
        with pytest.raises(service.CrewMemberLocked) as refused:
            service.save_crew_member(actor, data, member)
        assert refused.value.status == 409 and registration.reference in str(refused.value)
        with pytest.raises(service.CrewMemberLocked):
            service.remove_crew_member(actor, member)
        app_db.session.rollback()
    assert snapshot(db, member_id)[0] == "Ingrid Larsen" and snapshot(db, member_id)[3] is True


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
                    reason="two transactions open at once: PostgreSQL only (SQLite writes one at a time)")
def test_an_edit_during_a_submission_waits_for_it_and_is_refused(app, db, make_registration):
    """A submission holds the crew's rows until it commits; an edit of one of them waits, then
    sees the registration submitted and is refused: no edit slips in after the submission."""
    import threading

    from app.extensions import db as app_db
    from app.outlets import service as crew
    from app.registrations import service as registrations

    registration, correspondent = make_registration(Status.draft)
    member_id = the_member(db, registration).id
    submitted, release = threading.Event(), threading.Event()
    outcome = {}

    def submit():
        with app.test_request_context():
            registrations.submit(app_db.session.get(User, correspondent.id),
                                 app_db.session.get(Registration, registration.id), None, short_notice_accepted=True)
            submitted.set()
            release.wait(10)  # the submission is written, not yet committed
            app_db.session.commit()

    def edit():
        with app.test_request_context():
            member = app_db.session.get(CrewMember, member_id)
            data = crew.CrewData(full_name="Somebody Else", nationality="NO", date_of_birth=member.date_of_birth,
                                 role=member.role, passport_number="X1",
                                 passport_expiry=local_today() + timedelta(days=400), press_card_number=None)
            try:
                crew.save_crew_member(app_db.session.get(User, correspondent.id), data, member)
                app_db.session.commit()
                outcome["edit"] = "saved"
            except crew.CrewMemberLocked:
                app_db.session.rollback()
                outcome["edit"] = "refused"

    submitter = threading.Thread(target=submit)
    submitter.start()
    assert submitted.wait(10)
    editor = threading.Thread(target=edit)
    editor.start()
    editor.join(0.5)
    assert editor.is_alive(), "the edit must wait for the submission's row lock"
    release.set()
    submitter.join(10)
    editor.join(10)
    assert outcome == {"edit": "refused"}
    assert snapshot(db, member_id)[0] != "Somebody Else"
