"""Internal notes: officers and leaders keep them on a dossier; the correspondent never sees them."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.auth.models import Role
from app.registrations.models import InternalNote, Registration, Status
from tests.support import csrf_token, login, post_form

NOTE = "Gọi điện cho Sở Ngoại vụ: đoàn đã làm việc ở tỉnh năm 2024, không có vấn đề."


def browser(app, user=None):
    client = app.test_client()
    if user is not None:
        login(client, user.email)
    return client


def notes_in(db, registration_id):
    return db.session.scalars(sa.select(InternalNote).where(InternalNote.registration_id == registration_id)
                              .order_by(InternalNote.id)).all()


def add_note(client, registration_id, body):
    return post_form(client, f"/registrations/{registration_id}/notes", {"note_body": body},
                     page=f"/registrations/{registration_id}")


@pytest.fixture
def world(app, make_user, make_registration):
    registration, owner = make_registration(Status.in_review)
    other = make_user(Role.correspondent)
    make_registration(Status.draft, correspondent=other)  # `other` has an outlet of its own
    return {"registration": registration, "owner": owner, "other": other,
            "officer": make_user(Role.officer, full_name="Nguyễn Văn Thụ Lý"),
            "leader": make_user(Role.leader, full_name="Trần Thị Lãnh Đạo"), "admin": make_user(Role.admin)}


def test_staff_keep_notes_shown_oldest_first_with_author_and_time(app, db, world):
    registration = world["registration"]
    officer, leader = browser(app, world["officer"]), browser(app, world["leader"])
    version = db.session.get(Registration, registration.id).version
    response = add_note(officer, registration.id, NOTE)
    assert response.status_code == 302 and response.location.endswith(f"/registrations/{registration.id}")
    assert add_note(leader, registration.id, "Second note: check the drone permit.").status_code == 302
    stored = notes_in(db, registration.id)
    assert [(note.body, note.author_id) for note in stored] == [
        (NOTE, world["officer"].id), ("Second note: check the drone permit.", world["leader"].id)]
    # A note is not a change of the dossier: a colleague's open form does not become stale.
    assert db.session.get(Registration, registration.id).version == version

    page = leader.get(f"/registrations/{registration.id}").get_data(as_text=True)
    assert page.index(NOTE) < page.index("Second note: check the drone permit.")
    assert "Nguyễn Văn Thụ Lý" in page and "Trần Thị Lãnh Đạo" in page
    # Staff read Vietnamese; the title says who does not see the notes (English msgid until translated).
    assert 'id="notes-title"' in page and 'name="note_body"' in page


def test_the_audit_names_the_note_but_never_its_text(app, db, world):
    registration = world["registration"]
    add_note(browser(app, world["officer"]), registration.id, NOTE)
    [note] = notes_in(db, registration.id)
    [event] = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "registration.note_added")).all()
    assert (event.object_type, event.object_id, event.actor_id) == ("registrations", str(registration.id),
                                                                     world["officer"].id)
    assert event.after == {"note_id": note.id} and event.before is None
    assert NOTE not in json.dumps(event.after, ensure_ascii=False)


@pytest.mark.parametrize("status", [Status.submitted, Status.needs_info, Status.approved, Status.refused,
                                    Status.withdrawn, Status.completed])
def test_notes_in_any_state_once_submitted(app, db, make_user, make_registration, status):
    registration, _ = make_registration(status)
    response = add_note(browser(app, make_user(Role.officer)), registration.id, f"Note while {status.name}")
    assert response.status_code == 302
    assert [note.body for note in notes_in(db, registration.id)] == [f"Note while {status.name}"]


def test_no_notes_on_a_draft(app, db, make_user, make_registration):
    registration, _ = make_registration(Status.draft)
    response = add_note(browser(app, make_user(Role.officer)), registration.id, "On a draft")
    assert response.status_code == 404  # a draft never submitted is the correspondent's: staff do not see it
    assert notes_in(db, registration.id) == []


@pytest.mark.parametrize("body, problem", [("", None), ("   ", None), ("x" * 5001, "5000")])
def test_an_empty_or_too_long_note_is_refused_with_a_message(app, db, world, body, problem):
    registration = world["registration"]
    response = add_note(browser(app, world["officer"]), registration.id, body)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="note-note_body-error"' in page
    assert problem is None or problem in page
    assert notes_in(db, registration.id) == []


def test_a_note_of_5000_characters_is_kept(app, db, world):
    registration = world["registration"]
    assert add_note(browser(app, world["officer"]), registration.id, "ư" * 5000).status_code == 302
    assert len(notes_in(db, registration.id)[0].body) == 5000


@pytest.mark.parametrize("who", ["owner", "other", "admin"])
def test_correspondents_and_the_admin_may_not_add_notes(app, db, world, who):
    """403 as every staff-only action: the role is refused before the registration is looked up,
    so another outlet's correspondent learns nothing about the id either."""
    client = browser(app, world[who])
    registration = world["registration"]
    response = client.post(f"/registrations/{registration.id}/notes",
                           data={"csrf_token": csrf_token(client, "/"), "note_body": "Let me in"})
    assert response.status_code == 403
    assert notes_in(db, registration.id) == []


def test_anonymous_is_sent_to_login(app, db, world):
    client = app.test_client()
    response = client.post(f"/registrations/{world['registration'].id}/notes",
                           data={"csrf_token": csrf_token(client, "/login"), "note_body": "x"})
    assert response.status_code == 302 and "/login" in response.location
    assert notes_in(db, world["registration"].id) == []


def test_an_unknown_registration_is_not_found(app, world):
    client = browser(app, world["officer"])
    response = client.post("/registrations/999999/notes",
                           data={"csrf_token": csrf_token(client, "/"), "note_body": "x"})
    assert response.status_code == 404


def test_the_correspondent_never_sees_notes_on_the_page_the_timeline_or_in_mail(app, db, mailbox, world):
    registration = world["registration"]
    officer = browser(app, world["officer"])
    add_note(officer, registration.id, NOTE)
    # Staff then write to the correspondent: the mail carries the message, not the note.
    with app.test_request_context():
        from app.auth.models import User
        from app.extensions import db as app_db
        from app.registrations import service

        service.post_message(app_db.session.get(User, world["officer"].id),
                             app_db.session.get(Registration, registration.id), "Đề nghị gửi giấy phép bay.",
                             body_en="Please send the drone permit.")
        app_db.session.commit()
        app_db.session.remove()
    owner = browser(app, world["owner"])
    page = owner.get(f"/registrations/{registration.id}").get_data(as_text=True)
    assert "Please send the drone permit." in page
    assert NOTE not in page
    assert 'id="notes"' not in page and "note_body" not in page
    assert "Internal note added" not in page  # the correspondent's timeline (English) leaves the event out
    mails = mailbox.to(world["owner"].email)
    assert mails, "the message was mailed"
    for mail in mails:
        assert NOTE not in mailbox.text(mail) and NOTE not in mailbox.html(mail)
    for mail in mailbox.messages:  # nobody is mailed a note
        assert NOTE not in mailbox.text(mail)


def test_the_admin_sees_no_notes(app, world):
    add_note(browser(app, world["officer"]), world["registration"].id, NOTE)
    response = browser(app, world["admin"]).get(f"/registrations/{world['registration'].id}")
    assert NOTE not in response.get_data(as_text=True)
