"""Personal data and access (issue "Personal data and strong sign-in", first part): staff never see a
draft that was never submitted, and nothing a signed-in user gets is kept by a browser or a cache."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.auth.models import Role
from app.registrations.models import Attachment, Status
from tests.support import login, logout


def test_staff_get_404_for_a_draft_never_submitted_and_its_files(client, db, make_registration, make_user):
    draft, _ = make_registration(Status.draft)
    submitted, _ = make_registration(Status.submitted)
    attachment_id = db.session.scalar(sa.select(Attachment.id).where(Attachment.registration_id == draft.id))
    assert attachment_id is not None
    for role in (Role.officer, Role.leader):
        login(client, make_user(role).email)
        assert client.get(f"/registrations/{draft.id}").status_code == 404
        assert client.get(f"/registrations/{draft.id}/dossier.pdf").status_code == 404
        assert client.get(f"/registrations/{draft.id}/attachments/{attachment_id}").status_code == 404
        assert client.get(f"/registrations/{draft.id}/attachments.zip").status_code == 404
        assert client.get(f"/registrations/{submitted.id}").status_code == 200
        logout(client)


def _get_rules(app):
    """Every GET page of the URL map that takes no argument (the static files aside)."""
    return sorted(rule.rule for rule in app.url_map.iter_rules()
                  if "GET" in rule.methods and not rule.arguments and rule.endpoint != "static")


@pytest.mark.parametrize("role", [Role.correspondent, Role.officer, Role.leader, Role.admin])
def test_every_page_a_signed_in_user_gets_is_no_store(app, client, make_user, make_registration, role):
    user = make_user(role)
    registration, correspondent = make_registration(Status.in_review)
    login(client, (correspondent if role is Role.correspondent else user).email)
    client.deliver_mail = False
    answered = 0
    for path in _get_rules(app) + [f"/registrations/{registration.id}", f"/registrations/{registration.id}/dossier.pdf"]:
        if path in ("/logout",):
            continue
        response = client.get(path)
        if response.status_code >= 300:  # not theirs (403/404), or a redirect
            continue
        answered += 1
        assert "no-store" in response.headers.get("Cache-Control", ""), path
    assert answered >= 5
    static = client.get("/static/css/pressdesk.css")
    assert "no-store" not in static.headers.get("Cache-Control", "")
