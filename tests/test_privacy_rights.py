"""The data subject's rights (issue "Personal data and strong sign-in"): the "Your data" page, the
ZIP copy, correction requests handled by staff, and closing an account, which keeps the dossiers
and issued documents and removes or anonymises the rest."""
from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta
from types import SimpleNamespace

import sqlalchemy as sa
import time_machine

from app.audit.models import AuditEvent
from app.auth.models import AccountToken, Role, TokenPurpose, User, UserSession
from app.clock import local_today
from app.documents.models import DocumentKind, IssuedDocument
from app.outlets.models import CrewMember
from app.privacy.models import PrivacyRequest, RequestKind
from app.registrations.models import (Attachment, Consultation, ConsultedBody, InternalNote, Registration,
                                      RegistrationMessage, Status)
from tests.conftest import TEST_PASSWORD, TINY_PDF
from tests.support import csrf_token, login, post_form


def _stored_file(app, stored_name: str):
    from app.uploads import stored_path

    with app.app_context():
        return stored_path(stored_name)


def _add_dossier_records(app, registration, correspondent, officer):
    """A message, an internal note, a consultation with its letter, and an approval letter."""
    from app.extensions import db
    from app.uploads import store_generated_pdf

    with app.test_request_context():
        db.session.add(RegistrationMessage(registration_id=registration.id, author_id=officer.id,
                                           body="Xin bổ sung", body_en="Please add the host's letter"))
        db.session.add(InternalNote(registration_id=registration.id, author_id=officer.id,
                                    body="SECRET internal note"))
        documents = {}
        for kind in (DocumentKind.approval_letter, DocumentKind.consultation_letter):
            stored = store_generated_pdf(TINY_PDF, f"{kind.name}.pdf")
            document = IssuedDocument(registration_id=registration.id, kind=kind, series="UBND-NgV",
                                      year=2026, number=7 if kind is DocumentKind.approval_letter else 8,
                                      issue_date=local_today(), signer_name="Nguyễn Văn A",
                                      stored_name=stored.stored_name, size=stored.size, sha256=stored.sha256)
            db.session.add(document)
            documents[kind] = document
        db.session.flush()
        db.session.add(Consultation(registration_id=registration.id, body=ConsultedBody.police,
                                    body_name="Công an tỉnh", request_note="SECRET consultation",
                                    letter_document_id=documents[DocumentKind.consultation_letter].id))
        db.session.commit()
        return {kind: document.stored_name for kind, document in documents.items()}


def test_my_data_page_says_what_is_held_and_links_the_rights(client, make_registration):
    registration, correspondent = make_registration(Status.refused)
    login(client, correspondent.email)
    page = client.get("/account/data")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert correspondent.email in text and "Ingrid Larsen" in text
    assert "1 registration" in text and "/account/data/export" in text and "/account/close" in text
    assert "/account/data/correction" in text
    assert "no-store" in page.headers["Cache-Control"]
    # The crew page links it.
    assert "/account/data" in client.get("/outlet/crew").get_data(as_text=True)


def test_staff_see_their_own_variant_and_cannot_export(client, make_user):
    officer = make_user(Role.officer)
    login(client, officer.email)
    page = client.get("/account/data")
    assert page.status_code == 200 and "quản trị viên" in page.get_data(as_text=True)  # staff read Vietnamese
    assert post_form(client, "/account/data/export", page="/account/data").status_code == 403


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    assert client.get("/account/data").status_code == 302
    assert client.get("/staff/privacy-requests").status_code == 302


def test_export_zip_holds_the_data_and_files_and_nothing_internal(app, client, db, make_registration, make_user):
    registration, correspondent = make_registration(Status.approved)
    officer = make_user(Role.officer)
    stored = _add_dossier_records(app, registration, correspondent, officer)
    member = db.session.scalars(sa.select(CrewMember).where(CrewMember.outlet_id == correspondent.outlet_id)).one()
    login(client, correspondent.email)
    response = post_form(client, "/account/data/export", page="/account/data")
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert "no-store" in response.headers["Cache-Control"]
    bundle = zipfile.ZipFile(io.BytesIO(response.data))
    names = bundle.namelist()
    data = json.loads(bundle.read("data.json"))
    readme = bundle.read("README.txt").decode()
    assert readme.count("data.json") >= 4  # in English, then in Vietnamese

    assert data["account"]["email"] == correspondent.email
    assert data["account"]["activity"]  # the sign-in just made
    assert data["outlet"]["name"] == f"Outlet of {correspondent.email}"
    [crew] = data["crew_members"]
    assert crew["passport_number"] == member.passport_number  # their own data: in full
    assert crew["date_of_birth"] == "1985-04-12"
    assert crew["photo"] in names
    [exported] = data["registrations"]
    assert exported["reference"] == registration.reference and exported["status"] == "approved"
    assert exported["itinerary"][0]["activity"] == "Film the harvest"
    assert exported["messages"][0]["body_en"] == "Please add the host's letter"
    assert all(attachment["file"] in names for attachment in exported["attachments"]) and exported["attachments"]
    [document] = exported["issued_documents"]  # the consultation letter is the province's own
    assert document["kind"] == "approval_letter" and document["file"] in names
    assert bundle.read(document["file"]) == TINY_PDF
    assert "SECRET" not in bundle.read("data.json").decode()
    assert not any("consultation" in name for name in names)

    request_row = db.session.scalars(sa.select(PrivacyRequest)).one()
    assert request_row.kind is RequestKind.export and request_row.completed_at is not None
    assert request_row.user_id == correspondent.id
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "privacy.data_exported")).one()
    assert event.actor_id == correspondent.id and event.after["files"] == len(data_files(data))
    assert stored  # the stored files are still there: an export removes nothing
    assert _stored_file(app, stored[DocumentKind.approval_letter]).exists()


def data_files(data) -> list[str]:
    files = [crew["photo"] for crew in data["crew_members"] if crew["photo"]]
    for registration in data["registrations"]:
        files += [attachment["file"] for attachment in registration["attachments"] if attachment["file"]]
        files += [document["file"] for document in registration["issued_documents"] if document["file"]]
    return files


def test_another_outlets_data_is_not_in_the_export(client, make_registration):
    _, correspondent = make_registration(Status.submitted)
    other, _ = make_registration(Status.submitted)
    login(client, correspondent.email)
    data = json.loads(zipfile.ZipFile(io.BytesIO(post_form(client, "/account/data/export", page="/account/data")
                                                 .data)).read("data.json"))
    assert other.reference not in json.dumps(data)


def test_a_correction_request_goes_to_staff_who_mark_it_done(client, db, mailbox, make_registration, make_user):
    _, correspondent = make_registration(Status.in_review)
    login(client, correspondent.email)
    empty = post_form(client, "/account/data/correction", {"correction": "  "}, page="/account/data")
    assert empty.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PrivacyRequest)) == 0
    sent = post_form(client, "/account/data/correction",
                     {"correction": "Ingrid's passport number is N123, not N12"}, page="/account/data")
    assert sent.status_code == 302
    correction = db.session.scalars(sa.select(PrivacyRequest)).one()
    assert correction.kind is RequestKind.correction and correction.completed_at is None
    assert "waiting for the department" in client.get("/account/data").get_data(as_text=True)
    assert client.get("/staff/privacy-requests").status_code == 403

    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    officer = make_user(Role.officer)
    login(client, officer.email)
    assert "/staff/privacy-requests" in client.get("/staff/my-work").get_data(as_text=True)
    listing = client.get("/staff/privacy-requests").get_data(as_text=True)
    assert "passport number is N123" in listing and f"Outlet of {correspondent.email}" in listing
    mailbox.clear()
    done = post_form(client, f"/staff/privacy-requests/{correction.id}/complete",
                     {"outcome": "Corrected in PD dossier."}, page="/staff/privacy-requests")
    assert done.status_code == 302
    correction = db.session.get(PrivacyRequest, correction.id)
    assert correction.completed_at is not None and correction.handled_by_id == officer.id
    assert correction.outcome == "Corrected in PD dossier."
    [mail] = mailbox.to(correspondent.email)
    assert "Corrected in PD dossier." in mailbox.text(mail)
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "privacy.request_completed")) \
        is not None
    # Done once: a second completion changes nothing.
    again = post_form(client, f"/staff/privacy-requests/{correction.id}/complete", {"outcome": "Again"},
                      page="/staff/privacy-requests", follow_redirects=True)
    assert "đã được đánh dấu là đã xử lý" in again.get_data(as_text=True)
    assert db.session.get(PrivacyRequest, correction.id).outcome == "Corrected in PD dossier."
    assert post_form(client, "/staff/privacy-requests/999999/complete", {"outcome": "x"},
                     page="/staff/privacy-requests").status_code == 404


def test_admins_see_the_requests_and_the_link(client, make_user):
    admin = make_user(Role.admin)
    login(client, admin.email)
    assert client.get("/staff/privacy-requests").status_code == 200
    assert "/staff/privacy-requests" in client.get("/admin/reference/").get_data(as_text=True)


def _close(client, password=TEST_PASSWORD, understood="y"):
    data = {"password": password}
    if understood:
        data["understood"] = understood
    return post_form(client, "/account/close", data)


def test_closing_keeps_the_dossier_and_removes_the_rest(app, client, db, mailbox, make_registration,
                                                          make_crew_member, make_user):
    kept, correspondent = make_registration(Status.refused)
    officer = make_user(Role.officer)
    stored = _add_dossier_records(app, kept, correspondent, officer)
    draft, _ = make_registration(Status.draft, correspondent=correspondent)
    unused = make_crew_member(SimpleNamespace(id=correspondent.outlet_id), full_name="Unused Person")
    kept_member_id = db.session.scalars(sa.select(Registration).where(Registration.id == kept.id)).one() \
        .crew_members[0].id
    draft_member_id = db.session.get(Registration, draft.id).crew_members[0].id
    draft_files = [_stored_file(app, name) for name in db.session.scalars(
        sa.select(Attachment.stored_name).where(Attachment.registration_id == draft.id))]
    kept_files = [_stored_file(app, name) for name in db.session.scalars(
        sa.select(Attachment.stored_name).where(Attachment.registration_id == kept.id))]
    unused_photo = _stored_file(app, unused.photo_stored_name)
    assert draft_files and kept_files and unused_photo.exists()

    login(client, correspondent.email)
    page = client.get("/account/close")
    assert page.status_code == 200 and "Unused Person" in page.get_data(as_text=True)
    mailbox.clear()
    response = _close(client)
    assert response.status_code == 302

    user = db.session.get(User, correspondent.id)
    assert user.email == f"closed-{user.id}@closed.invalid" and correspondent.full_name not in user.full_name
    assert user.password_hash is None and user.closed_at is not None and not user.active
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UserSession)
                             .where(UserSession.user_id == user.id)) == 0
    # The dossier, its files, the crew member it names and the issued documents stay.
    assert db.session.get(Registration, kept.id) is not None
    assert all(path.exists() for path in kept_files)
    assert db.session.get(CrewMember, kept_member_id) is not None
    assert _stored_file(app, stored[DocumentKind.approval_letter]).exists()
    # The draft and its files, and the crew never in a dossier with their photos, are gone.
    assert db.session.get(Registration, draft.id) is None
    assert not any(path.exists() for path in draft_files)
    assert db.session.get(CrewMember, unused.id) is None and db.session.get(CrewMember, draft_member_id) is None
    assert not unused_photo.exists()

    closure = db.session.scalars(sa.select(PrivacyRequest).where(PrivacyRequest.kind == RequestKind.closure)).one()
    assert closure.completed_at is not None and closure.outlet_id == correspondent.outlet_id
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "privacy.account_closed")).one()
    assert event.after["deleted"] == {"drafts": 1, "crew_members": 2}
    assert correspondent.email not in json.dumps(event.after)
    [mail] = mailbox.to(correspondent.email)
    assert "closed" in mailbox.text(mail)
    # Logged out, and the old credentials no longer work.
    assert client.get("/account/data").status_code == 302
    assert "not correct" in login(client, correspondent.email).get_data(as_text=True)


def test_closing_is_refused_while_a_registration_is_in_review(client, db, make_registration):
    registration, correspondent = make_registration(Status.in_review)
    draft, _ = make_registration(Status.draft, correspondent=correspondent)
    login(client, correspondent.email)
    page = client.get("/account/close").get_data(as_text=True)
    assert registration.reference in page and 'name="password"' not in page
    response = _close(client)
    assert response.status_code == 409 and registration.reference in response.get_data(as_text=True)
    user = db.session.get(User, correspondent.id)
    assert user.closed_at is None and user.email == correspondent.email
    assert db.session.get(Registration, draft.id) is not None


def test_closing_waits_for_the_end_of_an_approved_programme(client, db, make_registration):
    registration, correspondent = make_registration(Status.approved, start_in_days=5, days=2)
    login(client, correspondent.email)
    assert _close(client).status_code == 409
    assert db.session.get(User, correspondent.id).closed_at is None
    with time_machine.travel(registration.end_date + timedelta(days=1), tick=True):
        login(client, correspondent.email)
        assert _close(client).status_code == 302
    assert db.session.get(User, correspondent.id).closed_at is not None
    assert db.session.get(Registration, registration.id) is not None


def test_a_wrong_password_or_no_confirmation_closes_nothing(client, db, make_registration):
    _, correspondent = make_registration(Status.refused)
    login(client, correspondent.email)
    wrong = _close(client, password="not the password")
    assert wrong.status_code == 400 and "password is not correct" in wrong.get_data(as_text=True)
    assert _close(client, understood=None).status_code == 400
    user = db.session.get(User, correspondent.id)
    assert user.closed_at is None and user.email == correspondent.email
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PrivacyRequest)) == 0


def test_a_colleague_keeps_the_outlets_crew_and_drafts(app, client, db, make_user, make_outlet, make_registration,
                                                       make_crew_member):
    leaving, staying = make_user(Role.correspondent), make_user(Role.correspondent)
    outlet = make_outlet(correspondents=[leaving, staying])
    member = make_crew_member(outlet, full_name="Shared Member")
    own_draft, _ = make_registration(Status.draft, correspondent=leaving)
    colleague_draft, _ = make_registration(Status.draft, correspondent=staying)
    login(client, leaving.email)
    assert _close(client).status_code == 302
    assert db.session.get(CrewMember, member.id) is not None
    assert db.session.get(Registration, own_draft.id) is None
    assert db.session.get(Registration, colleague_draft.id) is not None
    assert db.session.get(User, staying.id).closed_at is None


def test_closing_ends_the_links_mailed_before(app, client, db, make_registration):
    from app.auth import service
    from app.extensions import db as app_db

    _, correspondent = make_registration(Status.withdrawn)
    with app.test_request_context():
        service.issue_token(app_db.session.get(User, correspondent.id), TokenPurpose.reset_password)
        app_db.session.commit()
    login(client, correspondent.email)
    assert _close(client).status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AccountToken)
                             .where(AccountToken.user_id == correspondent.id)) == 0
