"""The archive dossier (hồ sơ lưu): the PDF and the ZIP of attachments, and who may export them."""
from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from datetime import timedelta

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from app.audit.models import AuditEvent
from app.auth.models import Role, User
from app.clock import local_today
from app.db import utcnow
from app.documents.models import DocumentKind, IssuedDocument
from app.extensions import db as app_db
from app.registrations import dossier, notes, service
from app.registrations.models import (Attachment, AttachmentKind, Consultation, ConsultedBody, Opinion,
                                      Proposal, Registration, RegistrationMessage, Status)
from tests.conftest import TINY_PDF
from tests.support import login

NOTE = "Ghi chú nội bộ: đã xác minh với Công an tỉnh."
ANSWER = "Đồng ý, đề nghị bố trí cán bộ đi cùng."
REPLY_NUMBER = "45/CAT-PA03"


def browser(app, user=None):
    client = app.test_client()
    if user is not None:
        login(client, user.email)
    return client


def text_of(pdf: bytes) -> str:
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())


def approve(app, registration_id: int, leader_id: int) -> None:
    """The draft decision written as the officer would, proposed, then approved by the leader (the service)."""
    from app.reference.models import EscortOfficer

    with app.test_request_context():
        leader = app_db.session.get(User, leader_id)
        registration = app_db.session.get(Registration, registration_id)
        escort = EscortOfficer(full_name="Trần Văn Hộ", title_vi="Chuyên viên", title_en="Officer",
                               phone="+84 912 000 111")
        app_db.session.add(escort)
        app_db.session.flush()
        registration.summary_vi = "Đưa tin về sản xuất lúa gạo"
        registration.summary_en = "Report on rice farming"
        registration.request_date = local_today()
        registration.escort_officer_id = escort.id
        registration.escort_name, registration.escort_phone = escort.full_name, escort.phone
        registration.proposed_decision, registration.proposed_by_id = Proposal.approve, leader.id
        registration.proposed_at = utcnow()
        app_db.session.flush()
        service.approve(leader, registration, None)
        app_db.session.commit()
        app_db.session.remove()


@pytest.fixture
def people(make_user):
    return {"officer": make_user(Role.officer, full_name="Nguyễn Văn Thụ Lý"),
            "leader": make_user(Role.leader, full_name="Trần Thị Lãnh Đạo"),
            "admin": make_user(Role.admin)}


@pytest.fixture
def archived(app, db, make_registration, people):
    """An approved registration with a message, an internal note, an answered consultation with its
    reply scan, and the issued documents."""
    from app.uploads import store_bytes

    registration, owner = make_registration(Status.in_review, assigned_to=people["officer"])
    with app.test_request_context():
        officer = app_db.session.get(User, people["officer"].id)
        stored = store_bytes(TINY_PDF, "Công văn trả lời.pdf")
        app_db.session.add(Consultation(
            registration_id=registration.id, body=ConsultedBody.police, body_name="Công an tỉnh",
            request_note="Xin ý kiến về đoàn phóng viên", requested_by_id=officer.id,
            due_date=local_today() + timedelta(days=3), answered_at=utcnow(), opinion=Opinion.agree,
            answer=ANSWER, answer_recorded_by_id=officer.id, reply_number=REPLY_NUMBER, reply_date=local_today(),
            reply_stored_name=stored.stored_name, reply_content_type=stored.content_type, reply_size=stored.size,
            reply_sha256=stored.sha256, reply_original_filename=stored.original_filename))
        app_db.session.add(RegistrationMessage(registration_id=registration.id, author_id=officer.id,
                                               body="Đề nghị gửi bản chụp hộ chiếu."))
        notes.add_note(officer, app_db.session.get(Registration, registration.id), NOTE)
        app_db.session.commit()
        app_db.session.remove()
    approve(app, registration.id, people["leader"].id)
    return db.session.get(Registration, registration.id), owner


def documents_of(db, registration_id):
    return db.session.scalars(sa.select(IssuedDocument).where(IssuedDocument.registration_id == registration_id)
                              .order_by(IssuedDocument.id)).all()


def exports(db):
    return db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "registration.dossier_exported")
                              .order_by(AuditEvent.id)).all()


# --- the PDF ---------------------------------------------------------------------------------------

def test_the_dossier_pdf_holds_the_whole_file(app, db, archived, people):
    registration, _owner = archived
    response = browser(app, people["officer"]).get(f"/registrations/{registration.id}/dossier.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert "no-store" in response.headers["Cache-Control"]
    text = text_of(response.data)
    compact = re.sub(r"\s+", "", text)
    member = registration.crew_members[0]
    approval = next(document for document in documents_of(db, registration.id)
                    if document.kind is DocumentKind.approval_letter)
    approved_label = vietnamese_label(app, "registration.approve")
    issued_label = vietnamese_label(app, "document.issued")
    assert approved_label == "Chấp thuận"  # the compiled Vietnamese catalogue, not the English msgid
    for expected in ("HỒ SƠ LƯU", registration.reference, registration.outlet.name, "Nguyễn Văn Thụ Lý",
                     member.full_name, "•••" + member.passport_number[-3:], "Film the harvest", "Farmers' cooperative",
                     "I. HỒ SƠ ĐĂNG KÝ", "II. QUÁ TRÌNH XỬ LÝ HỒ SƠ", approved_label, issued_label,
                     "Trần Thị Lãnh Đạo", "Đề nghị gửi bản chụp hộ chiếu.", NOTE,
                     "Công an tỉnh", ANSWER, REPLY_NUMBER, approval.register_number, "Trần Văn Hộ"):
        assert expected in text, expected
    for attachment in registration.attachments:  # long hashes may wrap inside their table cell
        assert attachment.sha256 in compact
    assert approval.sha256 in compact
    # The approval letter itself follows, with its English courtesy page.
    assert "courtesy translation" in text.lower() and "Nơi nhận:" in text


def test_every_page_is_a4_and_numbered(app, db, archived, people):
    registration, _ = archived
    pdf = browser(app, people["leader"]).get(f"/registrations/{registration.id}/dossier.pdf").data
    reader = PdfReader(io.BytesIO(pdf))
    total = len(reader.pages)
    appended = sum(len(PdfReader(io.BytesIO(_stored(app, document))).pages)
                   for document in documents_of(db, registration.id) if document.kind is not DocumentKind.permit_set)
    assert total > appended  # the dossier's own pages, then the documents
    for number, page in enumerate(reader.pages, start=1):
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)
        assert f"Trang {number}/{total}" in page.extract_text()
    # The cover counts the pages, and the documents list says where each one starts.
    assert f"{total} trang" in reader.pages[0].extract_text()


def _stored(app, document) -> bytes:
    with app.app_context():
        from app.documents.service import document_bytes

        return document_bytes(document)


def test_the_print_all_permit_set_is_listed_not_appended(app, db, archived, people):
    registration, _ = archived
    pdf = browser(app, people["officer"]).get(f"/registrations/{registration.id}/dossier.pdf").data
    own_and_appended = len(PdfReader(io.BytesIO(pdf)).pages)
    documents = documents_of(db, registration.id)
    permit_set = next(document for document in documents if document.kind is DocumentKind.permit_set)
    others = sum(len(PdfReader(io.BytesIO(_stored(app, document))).pages)
                 for document in documents if document is not permit_set)
    set_pages = len(PdfReader(io.BytesIO(_stored(app, permit_set))).pages)
    with app.test_request_context():
        registration_row = app_db.session.get(Registration, registration.id)
        content = dossier.dossier_content(registration_row, app_db.session.get(User, people["officer"].id))
        app_db.session.rollback()
    own = len(PdfReader(io.BytesIO(dossier.render_dossier(content, [None] * len(content.appended)))).pages)
    assert own_and_appended == own + others
    assert set_pages >= 1 and permit_set.sha256 in re.sub(r"\s+", "", text_of(pdf))


def test_each_export_is_audited_with_its_format(app, db, archived, people):
    registration, _ = archived
    client = browser(app, people["officer"])
    client.get(f"/registrations/{registration.id}/dossier.pdf")
    client.get(f"/registrations/{registration.id}/attachments.zip")
    events = exports(db)
    assert [(event.after["format"], event.actor_id, event.object_id) for event in events] == [
        ("pdf", people["officer"].id, str(registration.id)), ("zip", people["officer"].id, str(registration.id))]


def vietnamese_label(app, action: str) -> str:
    from flask_babel import force_locale

    from app.audit.labels import ACTION_LABELS

    with app.test_request_context(), force_locale("vi"):
        return str(ACTION_LABELS[action])


def test_a_later_export_lists_the_earlier_one_in_its_timeline(app, archived, people):
    registration, _ = archived
    client = browser(app, people["officer"])
    first = text_of(client.get(f"/registrations/{registration.id}/dossier.pdf").data)
    second = text_of(client.get(f"/registrations/{registration.id}/dossier.pdf").data)
    label = vietnamese_label(app, "registration.dossier_exported")
    assert label not in first and label in second


# --- the ZIP ---------------------------------------------------------------------------------------

def test_the_zip_holds_every_attachment_and_reply_scan_with_a_manifest(app, db, archived, people):
    registration, _ = archived
    response = browser(app, people["leader"]).get(f"/registrations/{registration.id}/attachments.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert "no-store" in response.headers["Cache-Control"]
    bundle = zipfile.ZipFile(io.BytesIO(response.data))
    assert bundle.testzip() is None
    names = bundle.namelist()
    consultation = db.session.scalar(sa.select(Consultation).where(Consultation.registration_id == registration.id))
    expected = {f"{attachment.kind.name} - {attachment.original_filename}": attachment
                for attachment in registration.attachments}
    reply_name = f"consultation_reply {consultation.id} - Công văn trả lời.pdf"
    assert sorted(names) == sorted([*expected, reply_name, "manifest.csv"])
    with app.app_context():
        from app.uploads import open_stored

        for name, attachment in expected.items():
            with open_stored(attachment.stored_name) as stored:
                assert bundle.read(name) == stored.read()
            assert hashlib.sha256(bundle.read(name)).hexdigest() == attachment.sha256
    assert hashlib.sha256(bundle.read(reply_name)).hexdigest() == consultation.reply_sha256
    manifest = list(csv.reader(io.StringIO(bundle.read("manifest.csv").decode("utf-8-sig"))))
    header, rows = manifest[0], manifest[1:]
    assert header[:5] == ["Tệp trong ZIP", "Loại", "Tên tệp gốc", "Dung lượng (byte)", "SHA-256"]
    by_name = {row[0]: row for row in rows}
    assert set(by_name) == set(expected) | {reply_name}
    for name, attachment in expected.items():
        assert by_name[name][3:5] == [str(attachment.size), attachment.sha256]
        assert by_name[name][-1] == "khớp"
    assert by_name[reply_name][3:5] == [str(consultation.reply_size), consultation.reply_sha256]


def test_zip_names_are_safe_and_unique(app, db, make_registration, people):
    from app.uploads import store_bytes

    registration, _ = make_registration(Status.submitted)
    with app.test_request_context():
        for filename in ("scan.pdf", "scan.pdf", "SCAN.pdf", "../../etc/passwd.pdf", "C:\\Users\\me\\scan.pdf"):
            stored = store_bytes(TINY_PDF, filename)
            app_db.session.add(Attachment.from_stored(stored, registration_id=registration.id,
                                                      kind=AttachmentKind.other, uploaded_by_id=None))
        app_db.session.commit()
        app_db.session.remove()
    response = browser(app, people["officer"]).get(f"/registrations/{registration.id}/attachments.zip")
    names = zipfile.ZipFile(io.BytesIO(response.data)).namelist()
    others = [name for name in names if name.startswith("other - ")]
    assert others == ["other - scan.pdf", "other - scan (2).pdf", "other - SCAN (3).pdf", "other - passwd.pdf",
                      "other - scan (4).pdf"]
    assert all("/" not in name and "\\" not in name and ".." not in name for name in names)
    assert len({name.lower() for name in names}) == len(names)


def test_a_missing_file_is_marked_in_the_manifest(app, db, make_registration, people):
    registration, _ = make_registration(Status.submitted)
    attachment = db.session.get(Registration, registration.id).attachments[0]
    with app.app_context():
        from app.uploads import stored_path

        stored_path(attachment.stored_name).unlink()
    response = browser(app, people["officer"]).get(f"/registrations/{registration.id}/attachments.zip")
    assert response.status_code == 200
    bundle = zipfile.ZipFile(io.BytesIO(response.data))
    assert f"{attachment.kind.name} - {attachment.original_filename}" not in bundle.namelist()
    rows = list(csv.reader(io.StringIO(bundle.read("manifest.csv").decode("utf-8-sig"))))[1:]
    [missing] = [row for row in rows if row[2] == attachment.original_filename]
    assert (missing[0], missing[-1]) == ("", "không tìm thấy tệp")
    assert all(row[-1] == "khớp" for row in rows if row is not missing)


def test_a_zip_over_the_limit_is_refused(app, db, make_registration, people):
    registration, _ = make_registration(Status.submitted)
    app.config["REGISTRATION_MAX_ATTACHMENT_BYTES"] = 10  # smaller than the attachments already kept
    response = browser(app, people["officer"]).get(f"/registrations/{registration.id}/attachments.zip")
    assert response.status_code == 413
    assert exports(db) == []


# --- who may export --------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["dossier.pdf", "attachments.zip"])
def test_only_officers_and_leaders_export(app, db, archived, people, make_user, make_registration, path):
    registration, owner = archived
    other = make_user(Role.correspondent)
    make_registration(Status.draft, correspondent=other)
    url = f"/registrations/{registration.id}/{path}"
    mimetype = "application/pdf" if path.endswith(".pdf") else "application/zip"
    for user in (people["officer"], people["leader"]):
        response = browser(app, user).get(url)
        assert (response.status_code, response.mimetype) == (200, mimetype), user.role
    # Refused by role before any lookup (as every staff-only page): the same 403 whatever the id.
    for user in (owner, other, people["admin"]):
        assert browser(app, user).get(url).status_code == 403, user.role
        assert browser(app, user).get(f"/registrations/999999/{path}").status_code == 403, user.role
    anonymous = app.test_client().get(url)
    assert anonymous.status_code == 302 and "/login" in anonymous.location
    assert browser(app, people["officer"]).get(f"/registrations/999999/{path}").status_code == 404
    assert len(exports(db)) == 2  # the officer's and the leader's


@pytest.mark.parametrize("path", ["dossier.pdf", "attachments.zip"])
def test_a_draft_has_no_dossier(app, db, make_registration, people, path):
    registration, _ = make_registration(Status.draft)
    assert browser(app, people["officer"]).get(f"/registrations/{registration.id}/{path}").status_code == 404
    assert exports(db) == []


def test_the_export_links_are_for_staff_only(app, archived, people):
    registration, owner = archived
    staff_page = browser(app, people["officer"]).get(f"/registrations/{registration.id}").get_data(as_text=True)
    owner_page = browser(app, owner).get(f"/registrations/{registration.id}").get_data(as_text=True)
    for link in (f"/registrations/{registration.id}/dossier.pdf", f"/registrations/{registration.id}/attachments.zip"):
        assert link in staff_page and link not in owner_page


def test_the_correspondent_does_not_see_exports_or_notes_in_the_timeline(app, archived, people):
    registration, owner = archived
    browser(app, people["officer"]).get(f"/registrations/{registration.id}/dossier.pdf")
    owner_page = browser(app, owner).get(f"/registrations/{registration.id}").get_data(as_text=True)
    assert "Archive dossier exported" not in owner_page and "Internal note added" not in owner_page
    assert NOTE not in owner_page
