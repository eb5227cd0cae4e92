"""Issuing documents with decisions: register numbers, stored bytes, downloads, revocation."""
from __future__ import annotations

import hashlib
import io
import threading

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from app.auth.models import Role, User
from app.documents.models import DocumentKind, IssuedDocument
from app.extensions import db as app_db
from app.registrations import service
from app.registrations.models import Proposal, Registration, Status
from tests.support import decide as decide_as_drafted, login, post_form, propose


@pytest.fixture
def decide(app, make_user):
    """The officer proposes a complete draft (conditions, escort Trần Văn Hộ, or the refusal's reasons) and
    the leader approves or refuses it, as drafted."""
    officer = make_user(Role.officer)

    def decide(registration_id, leader_id, approve=True):
        with app.test_request_context():
            leader = app_db.session.get(User, leader_id)
            registration = app_db.session.get(Registration, registration_id)
            if approve:
                decide_as_drafted(registration, app_db.session.get(User, officer.id), leader,
                                  conditions_vi="Đi cùng cán bộ hướng dẫn trong suốt chương trình.",
                                  conditions_en="Stay with the escort.")
            else:
                decide_as_drafted(registration, app_db.session.get(User, officer.id), leader, Proposal.refuse)
            app_db.session.commit()
            app_db.session.remove()

    return decide


def text_of(pdf: bytes) -> str:
    """The PDF's text with line breaks folded into spaces (lines wrap wherever the layout says)."""
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())


def documents_of(db, registration_id):
    return db.session.scalars(sa.select(IssuedDocument).where(IssuedDocument.registration_id == registration_id)
                              .order_by(IssuedDocument.id)).all()


def test_approval_issues_letters_and_a_permit_per_crew_member(app, decide, client, db, make_registration, make_user):
    registration, correspondent = make_registration(Status.in_review)
    leader = make_user(Role.leader, full_name="Trần Thị Lãnh Đạo")
    decide(registration.id, leader.id)
    documents = documents_of(db, registration.id)
    kinds = [document.kind for document in documents]
    assert kinds == [DocumentKind.approval_letter, DocumentKind.notification_letter, DocumentKind.permit,
                     DocumentKind.permit_set]
    approval, notification, permit, permit_set = documents
    assert approval.register_number == "1/UBND-NgV" and notification.register_number == "2/UBND-NgV"
    assert permit.register_number == "1/GP-BC" and permit_set.register_number is None
    assert (permit.valid_from, permit.valid_until) == (registration.start_date, registration.end_date)

    login(client, correspondent.email)
    downloaded = client.get(f"/registrations/{registration.id}/documents/{approval.id}")
    assert downloaded.status_code == 200 and downloaded.mimetype == "application/pdf"
    assert hashlib.sha256(downloaded.data).hexdigest() == approval.sha256
    assert client.get(f"/registrations/{registration.id}/documents/{approval.id}").data == downloaded.data
    text = text_of(downloaded.data)
    for expected in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "Số: 1/UBND-NgV",
                     "Trần Thị Lãnh Đạo", "Nơi nhận:", "Trần Văn Hộ", registration.reference,
                     "Ủy ban nhân dân tỉnh DEMO Tây Ninh",
                     # The officer's draft, as the leader approved it: the conditions and the escort's title.
                     "Đi cùng cán bộ hướng dẫn trong suốt chương trình.", "Chuyên viên Sở Ngoại vụ"):
        assert expected in text, expected
    assert "courtesy translation" in text.lower()
    page = client.get(f"/registrations/{registration.id}").get_data(as_text=True)
    assert "1/UBND-NgV" in page and "1/GP-BC" in page


def test_refusal_issues_a_refusal_letter_with_the_reasons(app, decide, db, make_registration, make_user):
    registration, _ = make_registration(Status.in_review)
    decide(registration.id, make_user(Role.leader).id, approve=False)
    [letter] = documents_of(db, registration.id)
    assert letter.kind is DocumentKind.refusal_letter
    with app.app_context():
        from app.documents.service import document_bytes

        text = text_of(document_bytes(letter))
    assert "không chấp thuận" in text and "Trùng lịch sự kiện của tỉnh." in text


def test_numbers_continue_in_their_series(app, decide, db, make_registration, make_user):
    leader = make_user(Role.leader)
    first, _ = make_registration(Status.in_review)
    second, _ = make_registration(Status.in_review)
    decide(first.id, leader.id)
    decide(second.id, leader.id, approve=False)
    numbers = [document.register_number for document in db.session.scalars(
        sa.select(IssuedDocument).where(IssuedDocument.number.is_not(None)).order_by(IssuedDocument.id))]
    assert numbers == ["1/UBND-NgV", "2/UBND-NgV", "1/GP-BC", "3/UBND-NgV"]


def test_revocation_revokes_the_documents(app, decide, db, make_registration, make_user):
    registration, _ = make_registration(Status.in_review)
    leader = make_user(Role.leader)
    decide(registration.id, leader.id)
    with app.test_request_context():
        service.revoke(app_db.session.get(User, leader.id), app_db.session.get(Registration, registration.id),
                       reason="Filming outside the programme.", expected_version=None)
        app_db.session.commit()
    assert all(document.revoked_at is not None for document in documents_of(db, registration.id))


def test_an_approved_amendment_replaces_the_documents(app, decide, db, make_registration, make_user):
    registration, correspondent = make_registration(Status.in_review)
    leader = make_user(Role.leader)
    decide(registration.id, leader.id)
    with app.test_request_context():
        owner = app_db.session.get(User, correspondent.id)
        revision = service.amend(owner, app_db.session.get(Registration, registration.id), None)
        revision.pledge_accepted_at = revision.created_at
        app_db.session.flush()
        service.submit(owner, revision, None)
        service.assign(app_db.session.get(User, leader.id), revision, app_db.session.get(User, leader.id), None)
        app_db.session.commit()
        revision_id = revision.id
    decide(revision_id, leader.id)
    assert all(document.revoked_at is not None for document in documents_of(db, registration.id))
    assert all(document.revoked_at is None for document in documents_of(db, revision_id))
    assert db.session.get(Registration, registration.id).status is Status.superseded


def test_only_the_outlet_and_staff_download_documents(app, decide, db, make_registration, make_user):
    registration, owner = make_registration(Status.in_review)
    decide(registration.id, make_user(Role.leader).id)
    document = documents_of(db, registration.id)[0]
    path = f"/registrations/{registration.id}/documents/{document.id}"
    other = make_user(Role.correspondent)
    make_registration(Status.draft, correspondent=other)
    for user, expected in ((owner, 200), (make_user(Role.officer), 200), (other, 404), (make_user(Role.admin), 404)):
        browser = app.test_client()
        login(browser, user.email)
        assert browser.get(path).status_code == expected, user.role
    assert app.test_client().get(path).status_code == 302
    # A document id of another registration is not served under this one.
    foreign, _ = make_registration(Status.in_review)
    decide(foreign.id, make_user(Role.leader).id)
    foreign_document = documents_of(db, foreign.id)[0]
    browser = app.test_client()
    login(browser, owner.email)
    assert browser.get(f"/registrations/{registration.id}/documents/{foreign_document.id}").status_code == 404


def test_approval_through_the_page_lists_the_documents(app, client, db, make_registration, make_user):
    registration, _ = make_registration(Status.in_review)
    leader, officer = make_user(Role.leader, locale="en"), make_user(Role.officer)
    with app.test_request_context():
        propose(app_db.session.get(Registration, registration.id), app_db.session.get(User, officer.id))
        app_db.session.commit()
    login(client, leader.email)
    detail = f"/registrations/{registration.id}"
    version = db.session.get(Registration, registration.id).version
    response = post_form(client, f"{detail}/approve", {"version": version}, page=detail, follow_redirects=True)
    body = response.get_data(as_text=True)
    assert "Approval letter" in body and "All permits, for printing" in body


@pytest.mark.skipif("not __import__('os').environ.get('TEST_DATABASE_URL')",
                    reason="two decisions in two transactions at once: PostgreSQL")
def test_two_decisions_at_the_same_moment_get_consecutive_numbers(app, decide, db, make_registration, make_user):
    registrations = [make_registration(Status.in_review)[0] for _ in range(4)]
    leader = make_user(Role.leader)
    start = threading.Barrier(len(registrations), timeout=30)
    errors = []

    def work(registration_id, approve):
        start.wait()
        try:
            decide(registration_id, leader.id, approve)
        except Exception as error:  # collected for the assertion
            errors.append(error)

    threads = [threading.Thread(target=work, args=(registration.id, index % 2 == 0))
               for index, registration in enumerate(registrations)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    letters = sorted(db.session.scalars(sa.select(IssuedDocument.number).where(
        IssuedDocument.series == "UBND-NgV")))
    permits = sorted(db.session.scalars(sa.select(IssuedDocument.number).where(IssuedDocument.series == "GP-BC")))
    assert letters == list(range(1, len(letters) + 1)) and len(letters) == 2 * 2 + 2
    assert permits == [1, 2]


def test_letters_are_signed_when_a_certificate_is_configured(app, decide, db, runner, make_registration, make_user,
                                                             tmp_path):
    """`flask documents dev-certificate`, the two settings, and the approval letter validates with pyHanko;
    one changed byte breaks it."""
    from app.documents.signing import validate_pdf_signature

    result = runner.invoke(args=["documents", "dev-certificate", "--directory", str(tmp_path / "signing")])
    assert result.exit_code == 0, result.output
    cert, key = tmp_path / "signing" / "signer-cert.pem", tmp_path / "signing" / "signer-key.pem"
    app.config.update(SIGNING_CERT_FILE=str(cert), SIGNING_KEY_FILE=str(key))
    registration, _ = make_registration(Status.in_review)
    decide(registration.id, make_user(Role.leader).id)
    letter, notification, permit = documents_of(db, registration.id)[:3]
    assert letter.digitally_signed and notification.digitally_signed and not permit.digitally_signed
    with app.app_context():
        from app.documents.service import document_bytes

        signed = document_bytes(letter)
    report = validate_pdf_signature(signed, [str(cert)])
    assert report["intact"] and report["valid"] and report["trusted"]
    position = len(signed) // 3  # inside the original revision, which the signature covers
    tampered = signed[:position] + bytes([signed[position] ^ 0x01]) + signed[position + 1:]
    assert not validate_pdf_signature(tampered, [str(cert)])["intact"]
