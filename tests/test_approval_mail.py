"""The approval reaches the correspondent with its documents: the mail carries the approval letter,
a permit per journalist and the print sheet as PDFs (the stored bytes, named in the recipient's
language); the registration page offers them in one ZIP and as one print sheet."""
from __future__ import annotations

import hashlib
import io
import zipfile
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from app.auth.models import Role, User
from app.documents.models import DocumentKind, IssuedDocument
from app.extensions import db as app_db
from app.outbox.models import OutboxAttachment, OutboxMessage
from app.outbox.service import resend, send_due
from app.outlets.models import CrewMember
from app.registrations import service
from app.registrations.models import Registration, Status
from app.uploads import stored_path
from tests.support import decide as decide_as_drafted
from tests.support import login

SECOND_JOURNALIST = "Nguyễn Văn A"


@pytest.fixture
def approve(app, make_user):
    """The officer proposes, the leader approves as drafted; the mail is queued, not sent."""
    officer, leader = make_user(Role.officer), make_user(Role.leader)

    def approve(registration_id):
        with app.test_request_context():
            decide_as_drafted(app_db.session.get(Registration, registration_id), app_db.session.get(User, officer.id),
                              app_db.session.get(User, leader.id), conditions_en="Stay with the escort.",
                              conditions_vi="Đi cùng cán bộ hướng dẫn.")
            app_db.session.commit()
            app_db.session.remove()

    return approve


@pytest.fixture
def two_journalists(app, make_registration, make_crew_member):
    """An in-review registration of Ingrid Larsen and Nguyễn Văn A; returns (registration, correspondent)."""

    def factory(**kwargs):
        registration, correspondent = make_registration(Status.in_review, **kwargs)
        second = make_crew_member(SimpleNamespace(id=correspondent.outlet_id), full_name=SECOND_JOURNALIST,
                                  nationality="VN")
        with app.app_context():
            stored = app_db.session.get(Registration, registration.id)
            stored.crew_members.append(app_db.session.get(CrewMember, second.id))
            app_db.session.commit()
        return registration, correspondent

    return factory


def deliver(app):
    with app.app_context():
        try:
            return send_due()
        finally:
            app_db.session.remove()


def documents_of(db, registration_id):
    return db.session.scalars(sa.select(IssuedDocument).where(IssuedDocument.registration_id == registration_id)
                              .order_by(IssuedDocument.id)).all()


def attachments(message):
    return [(part.get_filename(), part.get_content_type(), part.get_content()) for part in message.iter_attachments()]


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def top_of(app, registration_id) -> str:
    """templates/registrations/_documents_top.html as the registration page includes it, for its owner."""
    from flask import render_template
    from flask_login import login_user

    with app.test_request_context():
        registration = app_db.session.get(Registration, registration_id)
        owner = app_db.session.scalar(sa.select(User).where(User.outlet_id == registration.outlet_id))
        login_user(owner)
        return render_template("registrations/_documents_top.html", registration=registration,
                               documents=app_db.session.scalars(sa.select(IssuedDocument).where(
                                   IssuedDocument.registration_id == registration_id)).all())


def test_the_mail_carries_the_letter_the_permits_and_the_print_sheet_as_issued(app, db, mailbox, approve,
                                                                              two_journalists):
    registration, correspondent = two_journalists()
    approve(registration.id)
    assert deliver(app)[1] == 0
    ref = registration.reference
    [message] = mailbox.to(correspondent.email)
    letter, notification, first, second, sheet = documents_of(db, registration.id)
    assert notification.kind is DocumentKind.notification_letter and sheet.kind is DocumentKind.permit_set
    found = attachments(message)
    # Named for an English reader, the holders as their passports print them; not the notification letter,
    # which is addressed to the host bodies and MOFA.
    assert [name for name, _type, _content in found] == [
        f"{ref} approval letter.pdf", f"{ref} permit INGRID LARSEN.pdf", f"{ref} permit NGUYEN VAN A.pdf",
        f"{ref} all permits for printing.pdf"]
    assert {content_type for _name, content_type, _content in found} == {"application/pdf"}
    # The bytes stored at issue time, not a new rendering.
    assert [sha(content) for _name, _type, content in found] == [letter.sha256, first.sha256, second.sha256,
                                                                 sheet.sha256]
    [sheet_page] = PdfReader(io.BytesIO(found[3][2])).pages  # both cards on one A4 page, to cut out
    assert round(float(sheet_page.mediabox.height)) == 842
    assert "Ingrid Larsen" in sheet_page.extract_text() and SECOND_JOURNALIST in sheet_page.extract_text()
    text, html = mailbox.text(message), mailbox.html(message)
    assert "Attached to this message (PDF):" in text
    for name, _type, _content in found:
        assert f"- {name}" in text and f"<li>{name}</li>" in html
    assert f"http://localhost/registrations/{registration.id}" in text  # still links to the page
    assert "could not be attached" not in text
    # The outbox holds references, not copies.
    stored = db.session.scalars(sa.select(OutboxAttachment).order_by(OutboxAttachment.position)).all()
    assert [attachment.issued_document_id for attachment in stored] == [letter.id, first.id, second.id, sheet.id]


def test_each_correspondent_reads_the_names_in_their_language(app, db, mailbox, approve, make_user,
                                                              make_registration):
    english = make_user(Role.correspondent, locale="en")
    registration, _ = make_registration(Status.in_review, correspondent=english)
    vietnamese = make_user(Role.correspondent, locale="vi")
    with app.app_context():
        app_db.session.get(User, vietnamese.id).outlet_id = english.outlet_id
        app_db.session.commit()
    approve(registration.id)
    deliver(app)
    ref = registration.reference
    [to_english], [to_vietnamese] = mailbox.to(english.email), mailbox.to(vietnamese.email)
    # One journalist: the print sheet would be the same page again, so it is not attached.
    assert [name for name, _type, _content in attachments(to_english)] == [
        f"{ref} approval letter.pdf", f"{ref} permit INGRID LARSEN.pdf"]
    assert [name for name, _type, _content in attachments(to_vietnamese)] == [
        f"{ref} văn bản chấp thuận.pdf", f"{ref} giấy phép INGRID LARSEN.pdf"]
    assert [content for *_rest, content in attachments(to_english)] == [
        content for *_rest, content in attachments(to_vietnamese)]
    assert "Gửi kèm thư này (định dạng PDF):" in mailbox.text(to_vietnamese)
    # Per recipient, not the outlet's common language (English here, as one of them reads English).
    with app.app_context():
        assert service.correspondent_locale(app_db.session.get(Registration, registration.id)) == "en"


def test_a_missing_or_altered_file_is_left_out_and_the_mail_says_so(app, db, mailbox, approve, two_journalists):
    registration, correspondent = two_journalists()
    approve(registration.id)
    letter, _notification, first, second, sheet = documents_of(db, registration.id)
    with app.app_context():
        stored_path(first.stored_name).unlink()  # lost from the document store
        stored_path(letter.stored_name).write_bytes(b"%PDF-1.4 not what was issued")
    assert deliver(app)[1] == 0  # sent at once, not held back for retries
    ref = registration.reference
    [message] = mailbox.to(correspondent.email)
    found = attachments(message)
    assert [name for name, _type, _content in found] == [f"{ref} permit NGUYEN VAN A.pdf",
                                                         f"{ref} all permits for printing.pdf"]
    assert [sha(content) for *_rest, content in found] == [second.sha256, sheet.sha256]
    text = mailbox.text(message).replace("\r\n", "\n")
    assert text.startswith("These files could not be attached to this message. Please download them from the "
                           f"registration page:\n- {ref} approval letter.pdf\n- {ref} permit INGRID LARSEN.pdf\n")
    assert "These files could not be attached" in mailbox.html(message)
    row = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.recipient == correspondent.email))
    assert row.sent_at is not None and row.last_error.startswith("sent without")
    assert "FileNotFoundError" in row.last_error and "SHA-256" in row.last_error
    # The stored text is left as queued: a resend, once the files are back, says nothing of it.
    assert "could not be attached" not in row.body_text


def test_a_resent_approval_mail_carries_its_documents_again(app, db, mailbox, approve, make_registration):
    registration, correspondent = make_registration(Status.in_review)
    approve(registration.id)
    deliver(app)
    row = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.recipient == correspondent.email))
    with app.app_context():
        resend(row.id)
        app_db.session.commit()
    mailbox.clear()
    deliver(app)
    [again] = mailbox.to(correspondent.email)
    assert len(attachments(again)) == 2


def test_the_zip_holds_the_documents_for_the_outlet_and_staff_only(app, db, approve, two_journalists, make_user,
                                                                   make_registration):
    registration, owner = two_journalists()
    path = f"/registrations/{registration.id}/documents/all.zip"
    before = app.test_client()
    login(before, owner.email)
    assert before.get(path).status_code == 404  # nothing in force before the approval
    assert before.get(f"/registrations/{registration.id}/documents/print-sheet.pdf").status_code == 404
    approve(registration.id)
    letter, _notification, first, second, sheet = documents_of(db, registration.id)
    ref = registration.reference

    response = before.get(path)
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert response.headers["Cache-Control"] == "no-store, private"
    assert f"{ref} approval letter and permits.zip" in response.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        names = archive.namelist()
        contents = [archive.read(name) for name in names]
    assert names == [f"{ref} approval letter.pdf", f"{ref} permit INGRID LARSEN.pdf", f"{ref} permit NGUYEN VAN A.pdf",
                     f"{ref} all permits for printing.pdf"]
    assert [sha(content) for content in contents] == [letter.sha256, first.sha256, second.sha256, sheet.sha256]

    printed = before.get(f"/registrations/{registration.id}/documents/print-sheet.pdf")
    assert printed.status_code == 200 and printed.mimetype == "application/pdf"
    assert sha(printed.data) == sheet.sha256

    other = make_user(Role.correspondent)
    make_registration(Status.draft, correspondent=other)
    for user, expected in ((other, 404), (make_user(Role.officer), 200), (make_user(Role.admin), 404)):
        browser = app.test_client()
        login(browser, user.email)
        assert browser.get(path).status_code == expected, user.role
    assert app.test_client().get(path).status_code == 302  # to the login page


def test_the_zip_is_named_in_the_readers_language(app, db, approve, make_user, make_registration):
    owner = make_user(Role.correspondent, locale="vi")
    registration, _ = make_registration(Status.in_review, correspondent=owner)
    approve(registration.id)
    browser = app.test_client()
    login(browser, owner.email)
    response = browser.get(f"/registrations/{registration.id}/documents/all.zip")
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        assert archive.namelist() == [f"{registration.reference} văn bản chấp thuận.pdf",
                                      f"{registration.reference} giấy phép INGRID LARSEN.pdf"]


def test_a_missing_file_in_the_zip_is_a_clear_message_not_an_error(app, db, approve, make_registration):
    registration, owner = make_registration(Status.in_review)
    approve(registration.id)
    letter = documents_of(db, registration.id)[0]
    with app.app_context():
        stored_path(letter.stored_name).unlink()
    browser = app.test_client()
    login(browser, owner.email)
    response = browser.get(f"/registrations/{registration.id}/documents/all.zip")
    assert response.status_code == 303 and response.location == f"/registrations/{registration.id}"
    page = browser.get(response.location).get_data(as_text=True)
    assert "A document could not be read from the document store." in page


def test_a_permit_revoked_on_its_own_is_not_offered_and_the_sheet_is_put_together(app, db, approve,
                                                                                    two_journalists):
    registration, owner = two_journalists()
    approve(registration.id)
    letter, _notification, first, second, sheet = documents_of(db, registration.id)
    revoked = db.session.get(IssuedDocument, first.id)
    revoked.revoked_at = revoked.issued_at
    db.session.commit()
    browser = app.test_client()
    login(browser, owner.email)
    printed = browser.get(f"/registrations/{registration.id}/documents/print-sheet.pdf")
    assert printed.status_code == 200
    # The A4 sheet again, now with the one permit in force, its card placed as stored (not rendered again).
    [page] = PdfReader(io.BytesIO(printed.data)).pages
    assert round(float(page.mediabox.height)) == 842
    with app.app_context():
        [stored_card] = PdfReader(stored_path(second.stored_name)).pages
        card_lines = [line.strip() for line in stored_card.extract_text().splitlines() if line.strip()]
    sheet_lines = {line.strip() for line in page.extract_text().splitlines()}
    assert SECOND_JOURNALIST in card_lines and "Ingrid Larsen" not in sheet_lines
    assert [line for line in card_lines if line not in sheet_lines] == []
    top = top_of(app, registration.id)
    assert f"/documents/{second.id}" in top and f"/documents/{first.id}" not in top
    assert "No longer valid:" in top and "revoked" in top


def test_the_top_of_the_page_offers_the_documents(app, db, approve, two_journalists, make_user):
    registration, owner = two_journalists()
    browser = app.test_client()
    login(browser, owner.email)
    assert 'id="documents-top"' not in browser.get(f"/registrations/{registration.id}").get_data(as_text=True)
    approve(registration.id)
    letter, notification, first, second, _sheet = documents_of(db, registration.id)
    html = top_of(app, registration.id)
    assert f'href="/registrations/{registration.id}/documents/all.zip"' in html
    assert f'href="/registrations/{registration.id}/documents/print-sheet.pdf"' in html
    for document in (letter, first, second):
        assert f'href="/registrations/{registration.id}/documents/{document.id}"' in html
    assert f"/documents/{notification.id}\"" not in html  # the host bodies' letter stays in the list below
    assert "Ingrid Larsen" in html and SECOND_JOURNALIST in html and "1/GP-BC" in html


def test_revoked_and_superseded_registrations_offer_no_current_documents(app, db, approve, make_registration,
                                                                         make_user):
    registration, owner = make_registration(Status.in_review)
    approve(registration.id)
    leader = make_user(Role.leader)
    with app.test_request_context():
        owner_row = app_db.session.get(User, owner.id)
        revision = service.amend(owner_row, app_db.session.get(Registration, registration.id), None)
        revision.pledge_accepted_at = revision.created_at
        app_db.session.flush()
        service.submit(owner_row, revision, None)
        service.assign(app_db.session.get(User, leader.id), revision, app_db.session.get(User, leader.id), None)
        app_db.session.commit()
        revision_id, revision_reference = revision.id, revision.reference
    approve(revision_id)

    def top(registration_id):
        return top_of(app, registration_id)

    superseded = top(registration.id)
    assert "Replaced by an amendment" in superseded and "all.zip" not in superseded
    assert f'href="/registrations/{revision_id}"' in superseded and revision_reference in superseded
    assert "all.zip" in top(revision_id)
    browser = app.test_client()
    login(browser, owner.email)
    assert browser.get(f"/registrations/{registration.id}/documents/all.zip").status_code == 404

    with app.test_request_context():
        service.revoke(app_db.session.get(User, leader.id), app_db.session.get(Registration, revision_id),
                       reason="Filming outside the programme.", expected_version=None)
        app_db.session.commit()
    revoked = top(revision_id)
    assert "The letter and permits are revoked" in revoked and "all.zip" not in revoked
    assert "badge text-bg-danger" in revoked and "/documents/" not in revoked
    assert browser.get(f"/registrations/{revision_id}/documents/all.zip").status_code == 404


def test_file_names_spell_the_holder_as_a_passport_does_and_never_twice_the_same():
    from app.documents.bundle import distinct_names, passport_style

    assert passport_style("Nguyễn Văn  A") == "NGUYEN VAN A"
    assert passport_style("Łukasz Ødegård-Weiß") == "LUKASZ ODEGARD-WEISS"
    assert passport_style("山田") == ""  # then the permit's number names the file
    assert distinct_names(["X permit A.pdf", "X permit A.pdf", "X letter.pdf"]) == [
        "X permit A.pdf", "X permit A (2).pdf", "X letter.pdf"]
