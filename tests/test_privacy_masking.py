"""Passport numbers masked in lists and exports ("•••" and the last 3), in full only on the
registration page to the reviewing staff; every opening of an identity attachment (passport page,
press card) audited, also on a GET."""
from __future__ import annotations

import io
import zipfile

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from app.audit.models import AuditEvent
from app.auth.models import Role
from app.extensions import db as app_db
from app.outlets.models import CrewMember
from app.privacy.masking import mask_passport
from app.registrations.models import Attachment, AttachmentKind, Registration, Status
from tests.conftest import TINY_PDF
from tests.support import login


def browser(app, user):
    client = app.test_client()
    login(client, user.email)
    return client


def member_of(db, registration) -> CrewMember:
    return db.session.get(Registration, registration.id).crew_members[0]


def set_number(app, member_id: int, number: str) -> None:
    with app.app_context():
        app_db.session.get(CrewMember, member_id).passport_number = number
        app_db.session.commit()


def openings(db) -> list[AuditEvent]:
    return db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "attachment.opened")
                              .order_by(AuditEvent.id)).all()


def attachment_of(db, registration, kind: AttachmentKind) -> Attachment:
    return db.session.scalars(sa.select(Attachment).where(Attachment.registration_id == registration.id,
                                                          Attachment.kind == kind)).one()


@pytest.fixture
def officer(make_user):
    return make_user(Role.officer, locale="en", full_name="Officer Lan")


# --- the mask ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("number", "masked"), [
    ("N1234567", "•••567"), ("n 1234-567", "•••567"), ("C01X00T47", "•••T47"),
    ("X1234", "•••34"), ("X1", "•••1"), ("X", "•••"), ("", "—"), (None, "—")])
def test_the_mask_shows_the_last_three_and_never_half_of_a_short_number(number, masked):
    assert mask_passport(number) == masked


# --- pages ------------------------------------------------------------------------------------

def test_the_registration_page_shows_the_number_in_full_to_staff_only(app, db, officer, make_registration):
    registration, correspondent = make_registration(Status.in_review)
    member = member_of(db, registration)
    set_number(app, member.id, "C01X00T47")
    url = f"/registrations/{registration.id}"

    staff_page = browser(app, officer).get(url).get_data(as_text=True)
    assert "C01X00T47" in staff_page
    own_page = browser(app, correspondent).get(url).get_data(as_text=True)
    assert "C01X00T47" not in own_page and "•••T47" in own_page


def test_the_crew_choices_of_the_registration_form_are_masked(app, db, make_registration):
    registration, correspondent = make_registration(Status.draft)
    member = member_of(db, registration)
    set_number(app, member.id, "C01X00T47")
    page = browser(app, correspondent).get(f"/registrations/{registration.id}/edit").get_data(as_text=True)
    assert member.full_name in page and "•••T47" in page and "C01X00T47" not in page


def test_a_locked_crew_member_page_masks_the_number(app, db, make_registration):
    registration, correspondent = make_registration(Status.approved)
    member = member_of(db, registration)
    set_number(app, member.id, "C01X00T47")
    page = browser(app, correspondent).get(f"/outlet/crew/{member.id}").get_data(as_text=True)
    assert "These details cannot be changed here" in page
    assert "•••T47" in page and "C01X00T47" not in page


def test_the_archive_dossier_masks_the_number_and_keeps_the_year_of_birth_only(app, db, officer, make_registration):
    registration, _ = make_registration(Status.in_review, assigned_to=officer)
    member = member_of(db, registration)
    set_number(app, member.id, "C01X00T47")
    response = browser(app, officer).get(f"/registrations/{registration.id}/dossier.pdf")
    assert response.status_code == 200
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages).split())
    assert member.full_name in text and "•••T47" in text and "Năm sinh" in text and "1985" in text
    for full in ("C01X00T47", "12/04/1985", "1985-04-12"):
        assert full not in text


# --- the audit of identity attachments ---------------------------------------------------------

def test_every_opening_of_an_identity_attachment_is_audited(app, db, officer, make_registration):
    registration, correspondent = make_registration(Status.in_review)
    passport = attachment_of(db, registration, AttachmentKind.passport)
    url = f"/registrations/{registration.id}/attachments/{passport.id}"
    staff = browser(app, officer)

    assert staff.get(url).status_code == 200
    assert staff.get(url).status_code == 200
    own = browser(app, correspondent)
    assert own.get(url).status_code == 200

    events = openings(db)
    assert [event.actor_id for event in events] == [officer.id, officer.id, correspondent.id]
    assert all(event.object_type == "registrations" and event.object_id == str(registration.id) for event in events)
    assert events[0].after == {"attachment_id": passport.id, "kind": "passport", "file": "passport.pdf"}
    assert events[0].created_at is not None and events[0].ip_address == "127.0.0.1"
    # Staff see who opened it in the timeline; the correspondent's timeline leaves the internal step out.
    assert "Identity attachment opened" in staff.get(f"/registrations/{registration.id}").get_data(as_text=True)
    assert "Identity attachment opened" not in own.get(f"/registrations/{registration.id}").get_data(as_text=True)


def test_a_press_card_is_an_identity_attachment_and_a_permit_letter_is_not(app, db, officer, make_registration):
    registration, correspondent = make_registration(Status.in_review)
    from app.uploads import store_bytes

    with app.test_request_context():
        stored = store_bytes(TINY_PDF, "press card.pdf")
        app_db.session.add(Attachment.from_stored(stored, registration_id=registration.id,
                                                  kind=AttachmentKind.press_card, uploaded_by_id=correspondent.id))
        app_db.session.commit()
        app_db.session.remove()
    staff = browser(app, officer)
    permit = attachment_of(db, registration, AttachmentKind.mofa_permit)
    assert staff.get(f"/registrations/{registration.id}/attachments/{permit.id}").status_code == 200
    assert openings(db) == []
    card = attachment_of(db, registration, AttachmentKind.press_card)
    assert staff.get(f"/registrations/{registration.id}/attachments/{card.id}").status_code == 200
    assert [event.after["kind"] for event in openings(db)] == ["press_card"]


def test_no_opening_is_recorded_for_someone_who_may_not_see_it(app, db, make_user, make_registration):
    registration, _ = make_registration(Status.in_review)
    passport = attachment_of(db, registration, AttachmentKind.passport)
    stranger = browser(app, make_user(Role.correspondent))
    assert stranger.get(f"/registrations/{registration.id}/attachments/{passport.id}").status_code == 404
    assert openings(db) == []


def test_the_attachments_zip_records_the_identity_files_it_carries_out(app, db, officer, make_registration):
    registration, _ = make_registration(Status.in_review, assigned_to=officer)
    passport = attachment_of(db, registration, AttachmentKind.passport)
    response = browser(app, officer).get(f"/registrations/{registration.id}/attachments.zip")
    assert response.status_code == 200
    assert any(name.startswith("passport - ") for name in zipfile.ZipFile(io.BytesIO(response.data)).namelist())
    event = db.session.scalars(sa.select(AuditEvent)
                               .where(AuditEvent.action == "registration.dossier_exported")).one()
    assert event.after["identity_attachments"] == [passport.id]
