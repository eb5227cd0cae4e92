"""The archive dossier (hồ sơ lưu) of a registration: one PDF to print, and a ZIP of its files.

For the reviewing staff only (officer, leader; see ``notes.can_see_internal``): the dossier holds
the crew's personal data (passport numbers masked) and the internal notes. Every export is audited
("registration.dossier_exported" with the format, and for the ZIP the ids of the passport pages and
press cards it carries out), since it carries personal data out.

The PDF is in Vietnamese, the language of the province's archive: the fixed words are written
here in Vietnamese (as ``app.documents.texts`` and ``app.indicators.report_pdf`` do), the names of
states, kinds, opinions and audit actions are the app's own labels read with ``force_locale("vi")``,
times are the province's (``app.i18n.when``). Its parts:

- a cover: the authority, "HỒ SƠ LƯU", the reference, outlet, kind, status, dates, officer in
  charge and the page count;
- I. the registration as it stands after its last submission (what the province decided on;
  earlier drafts are not kept): every field, the crew (passport numbers masked, year of birth; see
  app/privacy/masking.py), the itinerary day by day, the attachments with their SHA-256;
- II. the timeline: every audit event of the registration, with its label, actor and time;
- III. the exchange with the correspondent, then the internal notes;
- IV. the consultations;
- V. the proposal, the decision and the register of issued documents, whose stored PDFs follow,
  in that order, as copies (a digitally signed original is its own download: the signature of a
  letter copied into another file no longer validates). The print-all permit set is listed but
  not appended: each permit in it is appended on its own. Pages that are not A4 (the A6 permits)
  are centred, at their true size, on an A4 page, so the whole dossier prints on one paper size.

Every page carries "Trang N/M" at the top right (the archive's page count), out of the way of a
letter's own page number at the top centre.

The ZIP holds the registration's attachments and the consultation reply scans (crew photos are
not included: they are profile data of the outlet, not documents of this registration), under
safe, unique names, with ``manifest.csv`` (name, kind, original name, size, SHA-256 and whether the
bytes still match it).

Loading happens first, in the request's read transaction, into plain values; rendering, reading
the stored files and zipping run inside ``app.database.slow_work()`` holding no database lock; the
audit event is written afterwards in a write transaction.
"""
from __future__ import annotations

import csv
import hashlib
import io
import tempfile
import zipfile
from dataclasses import dataclass, field
from typing import IO, Optional, Union

import sqlalchemy as sa
from babel import Locale
from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from reportlab.lib.colors import black
from reportlab.lib.enums import TA_CENTER, TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (BaseDocTemplate, CondPageBreak, Frame, PageBreak, PageTemplate, Paragraph,
                                Spacer, Table, TableStyle)
from sqlalchemy.orm import selectinload

from app.audit.labels import ACTION_LABELS
from app.audit.models import AuditEvent
from app.audit.service import record_event
from app.auth.models import User
from app.authority import authority_profile
from app.clock import local_date_of, local_now
from app.database import slow_work, writes
from app.documents.fonts import SANS_BOLD, SERIF, SERIF_BOLD, SERIF_ITALIC, register_fonts
from app.documents.letters import (BOTTOM_MARGIN_MM, CONTENT_WIDTH, ISSUING_BODY_PT, ISSUING_BODY_RULE_RATIO,
                                   LEFT_MARGIN_MM, PARENT_BODY_PT, RIGHT_MARGIN_MM, TOP_MARGIN_MM, _fit_lines,
                                   _lines_para, _markup, _rule, _style, nfc)
from app.documents.models import DocumentKind, IssuedDocument
from app.documents.permits import WATERMARK
from app.extensions import db
from app.i18n import day, when
from app.privacy.access import IDENTITY_KINDS
from app.privacy.masking import mask_passport
from app.registrations.labels import (ATTACHMENT_KIND_NAMES, CONSULTED_BODY_LABELS, CREW_ROLE_LABELS,
                                      DOCUMENT_LABELS, KIND_LABELS, MEDIA_TYPE_LABELS, OPINION_LABELS,
                                      PROPOSAL_LABELS, STATUS_LABELS)
from app.registrations.models import Consultation, Registration, RegistrationKind, RegistrationMessage
from app.registrations.notes import can_see_internal, has_internal_record, notes_of
from app.registrations.service import NotAllowed, RegistrationError
from app.uploads import download_name, open_stored

DOSSIER_EXPORTED = "registration.dossier_exported"
AUDIT_LABELS = {DOSSIER_EXPORTED: _l("Archive dossier exported")}

# --- layout constants (the page and margins are the letters', Decree 30/2020) ---------------------
PAGE_WIDTH, PAGE_HEIGHT = A4
COVER_TITLE_PT = 26
COVER_SUBTITLE_PT = 15
COVER_FIELDS_PT = 13
SECTION_PT = 14           # "I. HỒ SƠ ĐĂNG KÝ"
SUBSECTION_PT = 13        # "1. Thông tin chung"
TEXT_PT = 12              # field values and free text
TABLE_PT = 11             # table cells; the header row bold
NOTE_PT = 11              # italic notes
PAGE_STAMP_PT = 10        # "Trang N/M", top right
PAGE_STAMP_FROM_TOP_MM = 10
TABLE_PADDING_PT = 3
GRID_LINE_PT = 0.5
SECTION_KEEP_MM = 40      # a heading starts a new page rather than end one with less room than this
PAGE_SIZE_TOLERANCE_PT = 2
APPENDED_PAGE_INSET_MM = 10   # room kept around a page larger than A4 once shrunk onto it
WATERMARK_PT = 150
WATERMARK_ANGLE = 35
MAX_LAYOUT_PASSES = 4     # the page count and the pages of the appended documents settle in two

# --- fixed words, in Vietnamese (the archive's language) -------------------------------------------
DOSSIER_TITLE = "HỒ SƠ LƯU"
DOSSIER_SUBTITLE = "Hồ sơ đăng ký hoạt động báo chí của phóng viên nước ngoài"
INTERNAL_WARNING = ("Tài liệu nội bộ: có dữ liệu cá nhân (số hộ chiếu) và ghi chú nội bộ của cơ quan; "
                    "không cung cấp cho phóng viên, cơ quan báo chí.")
SECTION_REGISTRATION = "I. HỒ SƠ ĐĂNG KÝ"
SECTION_TIMELINE = "II. QUÁ TRÌNH XỬ LÝ HỒ SƠ"
SECTION_EXCHANGE = "III. TRAO ĐỔI VÀ GHI CHÚ NỘI BỘ"
SECTION_CONSULTATIONS = "IV. XIN Ý KIẾN CÁC CƠ QUAN"
SECTION_DOCUMENTS = "V. QUYẾT ĐỊNH VÀ VĂN BẢN ĐÃ BAN HÀNH"
NOTES_TITLE = "2. Ghi chú nội bộ (phóng viên không xem được)"
NONE = "Không có."
MISSING = "-"
APPENDED_NOTE = ("Các văn bản trong danh sách được đính kèm sau đây theo thứ tự trên (cột \"Trang\"), là bản "
                 "sao từ tệp đã lưu khi ban hành; bản có chữ ký số là tệp tải về riêng của từng văn bản. Tệp in "
                 "gộp các thẻ không đính kèm vì từng thẻ đã được đính kèm riêng.")
FILE_GONE = "không tìm thấy tệp đã lưu"
PAGE_STAMP = "Trang {number}/{total}"

# --- the ZIP -------------------------------------------------------------------------------------
MANIFEST_NAME = "manifest.csv"
MANIFEST_COLUMNS = ["Tệp trong ZIP", "Loại", "Tên tệp gốc", "Dung lượng (byte)", "SHA-256", "Ngày tải lên",
                    "Kiểm tra"]
CHECK_OK, CHECK_MISMATCH, CHECK_MISSING = "khớp", "không khớp SHA-256", "không tìm thấy tệp"
ZIP_MEMORY_BYTES = 8 * 1024 * 1024   # beyond this the archive is spooled to a temporary file
ZIP_EARLIEST = (1980, 1, 1, 0, 0, 0)  # the earliest time a ZIP entry can carry
READ_CHUNK_BYTES = 64 * 1024


class DossierTooLarge(RegistrationError):
    status = 413


# --- what the dossier says: plain values, built in the request, rendered outside it ---------------

@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 1  # 1: a section (I., II., ...), 2: a part of one


@dataclass(frozen=True)
class Text:
    text: str
    italic: bool = False


@dataclass(frozen=True)
class Fields:
    """Label / value pairs, in two columns."""

    rows: list[tuple[str, str]]


@dataclass(frozen=True)
class Grid:
    """A table with a header row; `widths` are shares of the text width. With `appended_column`, the
    renderer adds a last column "Trang": the page where the row's appended document starts."""

    header: list[str]
    rows: list[list[str]]
    widths: list[float]
    appended_index: list[Optional[int]] = field(default_factory=list)


Block = Union[Heading, Text, Fields, Grid]


@dataclass(frozen=True)
class AppendedDocument:
    title: str
    stored_name: str


@dataclass(frozen=True)
class DossierContent:
    reference: str
    parent_body: Optional[str]
    issuing_body: str
    cover: list[tuple[str, str]]
    printed: str
    blocks: list[Block]
    appended: list[AppendedDocument]
    demo: bool = False


@dataclass(frozen=True)
class ZipEntry:
    name: str
    kind: str
    original_filename: str
    stored_name: str
    size: int
    sha256: str
    uploaded: str
    date_time: tuple[int, int, int, int, int, int]
    reply_scan: bool = False


# --- access --------------------------------------------------------------------------------------

def check_export(actor: User, registration: Registration) -> None:
    """Officers and leaders export; a draft (the correspondent's own, unseen by staff) has no dossier."""
    if not can_see_internal(actor):
        raise NotAllowed(_l("Your account may not export the dossier."))
    if not has_internal_record(registration):
        raise RegistrationError(_l("A draft has no dossier yet."))


# --- the PDF -------------------------------------------------------------------------------------

def export_pdf(actor: User, registration: Registration) -> bytes:
    """The archive PDF; audited. Flushes, never commits."""
    check_export(actor, registration)
    content = dossier_content(registration, actor)
    with slow_work():
        pdf = render_dossier(content, [_read_stored(document.stored_name) for document in content.appended])
    writes()
    record_event(DOSSIER_EXPORTED, actor=actor, subject=registration, after={"format": "pdf"})
    return pdf


def _vi(label) -> str:
    return str(label) if label is not None else MISSING


def _text_or_missing(value) -> str:
    value = (value or "").strip() if isinstance(value, str) else value
    return str(value) if value not in (None, "") else MISSING


def _country(code: Optional[str]) -> str:
    if not code:
        return MISSING
    return Locale.parse("vi").territories.get(code, code)


def _user_name(user_id: Optional[int]) -> str:
    user = db.session.get(User, user_id) if user_id else None
    return user.full_name if user is not None else MISSING


def _size(size: Optional[int]) -> str:
    if size is None:
        return MISSING
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB".replace(".", ",")
    return f"{max(1, round(size / 1024))} KB"


def dossier_content(registration: Registration, printed_by: User) -> DossierContent:
    """Everything the PDF prints, read from the database now (in the request's transaction)."""
    profile = authority_profile()
    with force_locale("vi"):
        parent = profile.parent_body_vi if profile.parent_body_vi != profile.issuing_body_vi else None
        documents = list(db.session.scalars(
            sa.select(IssuedDocument).options(selectinload(IssuedDocument.crew_member))
            .where(IssuedDocument.registration_id == registration.id).order_by(IssuedDocument.id)))
        appended = [AppendedDocument(_document_title(document), document.stored_name) for document in documents
                    if document.stored_name and document.kind is not DocumentKind.permit_set]
        blocks = (_registration_blocks(registration) + _timeline_blocks(registration)
                  + _exchange_blocks(registration) + _consultation_blocks(registration)
                  + _decision_blocks(registration, documents, appended))
        return DossierContent(
            reference=registration.reference, parent_body=parent, issuing_body=profile.issuing_body_vi,
            cover=_cover(registration), blocks=blocks, appended=appended, demo=profile.is_demo,
            printed=f"Ngày in: {when(local_now())}. Người in: {printed_by.full_name}.")


def _cover(registration: Registration) -> list[tuple[str, str]]:
    outlet = registration.outlet
    rows = [("Mã hồ sơ", registration.reference),
            ("Cơ quan báo chí", f"{outlet.name} ({_country(outlet.country)})"),
            ("Loại hồ sơ", _vi(KIND_LABELS.get(registration.kind))),
            ("Trạng thái", _vi(STATUS_LABELS.get(registration.status)))]
    if registration.amends is not None:
        rows.append(("Sửa đổi của hồ sơ", registration.amends.reference))
    rows += [("Thời gian hoạt động", _period(registration)),
             ("Ngày nộp lần đầu", when(registration.first_submitted_at) or MISSING),
             ("Ngày nộp gần nhất", when(registration.submitted_at) or MISSING),
             ("Hạn trả lời", f"chậm nhất ngày {day(registration.due_date)}" if registration.due_date else MISSING),
             ("Chuyên viên thụ lý", registration.assigned_officer.full_name if registration.assigned_officer
              else MISSING),
             ("Ngày quyết định", when(registration.decided_at) or MISSING)]
    if registration.revoked_at:
        rows.append(("Ngày thu hồi", when(registration.revoked_at)))
    if registration.completed_at:
        rows.append(("Ngày kết thúc", when(registration.completed_at)))
    return rows


def _period(registration: Registration) -> str:
    if registration.start_date and registration.end_date:
        return f"từ ngày {day(registration.start_date)} đến ngày {day(registration.end_date)}"
    return MISSING


def _registration_blocks(registration: Registration) -> list[Block]:
    outlet = registration.outlet
    general = [("Cơ quan báo chí", outlet.name), ("Quốc gia", _country(outlet.country)),
               ("Loại hình", _vi(MEDIA_TYPE_LABELS.get(outlet.media_type))),
               ("Trang thông tin", _text_or_missing(outlet.website))]
    if outlet.is_resident_office:
        general += [("Địa chỉ văn phòng thường trú", _text_or_missing(outlet.office_address)),
                    ("Số công nhận của Bộ Ngoại giao", _text_or_missing(outlet.mofa_accreditation_number))]
    general.append(("Loại hồ sơ", _vi(KIND_LABELS.get(registration.kind))))
    if registration.kind is RegistrationKind.non_resident:
        general.append(("Số giấy phép hoạt động báo chí của Bộ Ngoại giao",
                        _text_or_missing(registration.mofa_permit_number)))
    drone = (f"Có; giấy phép bay: {_text_or_missing(registration.drone_permit_reference)}"
             if registration.has_drone else "Không")
    pledge = (f"Đã cam kết ngày {when(registration.pledge_accepted_at)}" if registration.pledge_accepted_at
              else "Chưa cam kết")
    general += [("Thời gian hoạt động", _period(registration)),
                ("Mục đích", _text_or_missing(registration.purpose)),
                ("Nội dung, chủ đề", _text_or_missing(registration.content)),
                ("Câu hỏi phỏng vấn dự kiến", _text_or_missing(registration.interview_questions)),
                ("Kế hoạch đăng, phát", _text_or_missing(registration.publication_plan)),
                ("Thiết bị mang theo", _text_or_missing(registration.equipment)),
                ("Thiết bị bay không người lái", drone),
                ("Cơ quan hướng dẫn", _text_or_missing(registration.guiding_agency)),
                ("Cam kết tuân thủ", pledge)]
    blocks: list[Block] = [Heading(SECTION_REGISTRATION), Heading("1. Thông tin chung", 2), Fields(general),
                           Heading("2. Thành viên đoàn", 2)]
    # An export leaves the system: the passport number masked, the year of birth only (the full
    # values stay on the registration page, for the staff, until the retention purge).
    crew = [[str(number), member.full_name, _vi(CREW_ROLE_LABELS.get(member.role)), _country(member.nationality),
             str(member.date_of_birth.year) if member.date_of_birth else MISSING,
             f"{mask_passport(member.passport_number)} (hạn {day(member.passport_expiry)})",
             _text_or_missing(member.press_card_number)]
            for number, member in enumerate(registration.crew_members, start=1)]
    blocks.append(Grid(["TT", "Họ và tên", "Vai trò", "Quốc tịch", "Năm sinh", "Hộ chiếu", "Thẻ nhà báo"], crew,
                       [0.06, 0.22, 0.13, 0.13, 0.12, 0.2, 0.14]) if crew else Text(NONE))
    blocks.append(Heading("3. Lịch trình", 2))
    itinerary = []
    for number, item in enumerate(registration.itinerary, start=1):
        place = item.place.name("vi") if item.place else _text_or_missing(item.place_text)
        if item.place is not None and item.place.border_area:
            place += " (khu vực biên giới)"
        itinerary.append([str(number), day(item.day) if item.day else MISSING, place,
                          _text_or_missing(item.host_organisation), _text_or_missing(item.activity),
                          _text_or_missing(item.interviewees)])
    blocks.append(Grid(["TT", "Ngày", "Địa điểm", "Đơn vị đón tiếp", "Hoạt động", "Người, cơ quan phỏng vấn"],
                       itinerary, [0.06, 0.13, 0.2, 0.19, 0.22, 0.2]) if itinerary else Text(NONE))
    blocks.append(Heading("4. Tài liệu kèm theo", 2))
    attachments = [[str(number), _vi(ATTACHMENT_KIND_NAMES.get(attachment.kind)),
                    f"{attachment.original_filename}\nSHA-256: {attachment.sha256}", _size(attachment.size),
                    when(attachment.uploaded_at)]
                   for number, attachment in enumerate(registration.attachments, start=1)]
    blocks.append(Grid(["TT", "Loại", "Tên tệp và mã SHA-256", "Dung lượng", "Ngày tải lên"], attachments,
                       [0.06, 0.2, 0.44, 0.12, 0.18]) if attachments else Text(NONE))
    return blocks


def _timeline_blocks(registration: Registration) -> list[Block]:
    events = db.session.scalars(
        sa.select(AuditEvent).options(selectinload(AuditEvent.actor))
        .where(AuditEvent.object_type == Registration.__tablename__, AuditEvent.object_id == str(registration.id))
        .order_by(AuditEvent.created_at, AuditEvent.id)).all()
    rows = [[str(number), when(event.created_at), _event_text(event),
             event.actor.full_name if event.actor else (event.actor_email or "Hệ thống")]
            for number, event in enumerate(events, start=1)]
    return [Heading(SECTION_TIMELINE),
            Grid(["TT", "Thời gian", "Nội dung", "Người thực hiện"], rows, [0.07, 0.2, 0.48, 0.25])
            if rows else Text(NONE)]


def _event_text(event: AuditEvent) -> str:
    """The action's name, and what a reader of the archive needs beside it: the new state, the number."""
    text = str(ACTION_LABELS.get(event.action, event.action))
    before, after = event.before or {}, event.after or {}
    details = []
    status = after.get("status")
    if status and before.get("status") != status:
        from app.registrations.models import Status

        label = STATUS_LABELS.get(Status[status]) if status in Status.__members__ else status
        details.append(f"trạng thái: {label}")
    if after.get("register_number"):
        details.append(f"số {after['register_number']}")
    if after.get("body_name"):
        details.append(str(after["body_name"]))
    if after.get("file"):
        details.append(str(after["file"]))
    if before.get("file"):
        details.append(str(before["file"]))
    return f"{text} ({'; '.join(details)})" if details else text


def _exchange_blocks(registration: Registration) -> list[Block]:
    blocks: list[Block] = [Heading(SECTION_EXCHANGE), Heading("1. Trao đổi với phóng viên", 2)]
    messages = db.session.scalars(sa.select(RegistrationMessage).options(selectinload(RegistrationMessage.author))
                                  .where(RegistrationMessage.registration_id == registration.id)
                                  .order_by(RegistrationMessage.id)).all()
    for message in messages:
        kind = " (yêu cầu bổ sung thông tin)" if message.kind.name == "info_request" else ""
        author = message.author.full_name if message.author else MISSING
        blocks.append(Text(f"{when(message.created_at)} – {author}{kind}:", italic=True))
        blocks.append(Text(message.body or MISSING))
        if message.body_en:
            blocks.append(Text(f"Bản tiếng Anh: {message.body_en}"))
    if not messages:
        blocks.append(Text(NONE))
    blocks.append(Heading(NOTES_TITLE, 2))
    notes = notes_of(registration)
    for note in notes:
        author = note.author.full_name if note.author else MISSING
        blocks.append(Text(f"{when(note.created_at)} – {author}:", italic=True))
        blocks.append(Text(note.body))
    if not notes:
        blocks.append(Text(NONE))
    return blocks


def _consultation_blocks(registration: Registration) -> list[Block]:
    blocks: list[Block] = [Heading(SECTION_CONSULTATIONS)]
    consultations = db.session.scalars(
        sa.select(Consultation).options(selectinload(Consultation.letter_document))
        .where(Consultation.registration_id == registration.id).order_by(Consultation.id)).all()
    for number, consultation in enumerate(consultations, start=1):
        body = _vi(CONSULTED_BODY_LABELS.get(consultation.body))
        rows = [("Nội dung xin ý kiến", _text_or_missing(consultation.request_note)),
                ("Ngày xin ý kiến", when(consultation.requested_at) or MISSING),
                ("Người xin ý kiến", _user_name(consultation.requested_by_id)),
                ("Hạn trả lời", f"chậm nhất ngày {day(consultation.due_date)}" if consultation.due_date
                 else MISSING)]
        letter = consultation.letter_document
        if letter is not None:
            rows.append(("Công văn xin ý kiến", f"số {letter.register_number or MISSING}, ngày {day(letter.issue_date)}"))
        reply = MISSING
        if consultation.reply_number or consultation.reply_date:
            reply = f"số {_text_or_missing(consultation.reply_number)}"
            if consultation.reply_date:
                reply += f", ngày {day(consultation.reply_date)}"
        rows += [("Công văn trả lời", reply),
                 ("Ngày ghi nhận ý kiến", when(consultation.answered_at) or "Chưa có ý kiến"),
                 ("Ý kiến", _vi(OPINION_LABELS.get(consultation.opinion)) if consultation.opinion else MISSING),
                 ("Nội dung trả lời", _text_or_missing(consultation.answer))]
        if consultation.answered_at:
            rows.append(("Người ghi nhận", _user_name(consultation.answer_recorded_by_id)))
        if consultation.reply_stored_name:
            rows.append(("Bản chụp công văn trả lời", f"{consultation.reply_original_filename or MISSING}\n"
                                                      f"SHA-256: {consultation.reply_sha256 or MISSING}"))
        blocks += [Heading(f"{number}. {body}: {consultation.body_name}", 2), Fields(rows)]
    if not consultations:
        blocks.append(Text(NONE))
    return blocks


def _document_title(document: IssuedDocument) -> str:
    title = _vi(DOCUMENT_LABELS.get(document.kind, document.kind.name))
    if document.kind is DocumentKind.consultation_letter and document.kind not in DOCUMENT_LABELS:
        title = "Công văn xin ý kiến"
    if document.crew_member is not None:
        title += f": {document.crew_member.full_name}"
    return title


def _decision_blocks(registration: Registration, documents: list[IssuedDocument],
                     appended: list[AppendedDocument]) -> list[Block]:
    rows = []
    if registration.summary_vi:
        rows.append(("Trích yếu", registration.summary_vi))
    if registration.request_number or registration.request_date:
        request = f"số {registration.request_number}" if registration.request_number else ""
        if registration.request_date:
            request = f"{request} ngày {day(registration.request_date)}".strip()
        rows.append(("Văn bản đề nghị", request))
    if registration.proposed_decision is not None:
        proposal = _vi(PROPOSAL_LABELS.get(registration.proposed_decision))
        rows.append(("Đề xuất của chuyên viên", f"{proposal} ({_user_name(registration.proposed_by_id)}"
                                                  f"{', ' + when(registration.proposed_at) if registration.proposed_at else ''})"))
        if registration.proposal_note:
            rows.append(("Ý kiến đề xuất", registration.proposal_note))
    if registration.return_comment:
        rows.append(("Lãnh đạo trả lại", f"{_user_name(registration.returned_by_id)}, "
                                         f"{when(registration.returned_at) or MISSING}: {registration.return_comment}"))
    if registration.decided_at:
        rows.append(("Quyết định", f"{_vi(STATUS_LABELS.get(registration.status))} "
                                   f"({_user_name(registration.decided_by_id)}, {when(registration.decided_at)})"))
    if registration.conditions:
        rows.append(("Điều kiện", registration.conditions))
    if registration.escort_name:
        rows.append(("Cán bộ hướng dẫn, liên hệ", ", ".join(part for part in (
            registration.escort_name, registration.escort_title_vi, registration.escort_phone) if part)))
    if registration.refusal_reasons:
        rows.append(("Lý do không chấp thuận", registration.refusal_reasons))
    if registration.revoked_at:
        rows.append(("Thu hồi", f"{when(registration.revoked_at)}: {_text_or_missing(registration.revocation_reason)}"))
    blocks: list[Block] = [Heading(SECTION_DOCUMENTS), Heading("1. Đề xuất và quyết định", 2),
                           Fields(rows) if rows else Text("Chưa có quyết định.")]
    blocks.append(Heading("2. Văn bản đã ban hành", 2))
    position = {document.stored_name: index for index, document in enumerate(appended)}
    grid_rows, appended_index = [], []
    for number, document in enumerate(documents, start=1):
        state = "Còn hiệu lực"
        if document.revoked_at:
            state = f"Đã thu hồi ngày {day(local_date_of(document.revoked_at))}"
        grid_rows.append([str(number), f"{_document_title(document)}\nSHA-256: {document.sha256 or MISSING}",
                          document.register_number or MISSING, day(document.issue_date),
                          document.signer_name or MISSING, state])
        appended_index.append(position.get(document.stored_name) if document.kind is not DocumentKind.permit_set
                              else None)
    if grid_rows:
        blocks.append(Grid(["TT", "Văn bản và mã SHA-256", "Số, ký hiệu", "Ngày", "Người ký", "Tình trạng"],
                           grid_rows, [0.06, 0.38, 0.13, 0.15, 0.14, 0.14], appended_index))
        blocks.append(Text(APPENDED_NOTE, italic=True))
    else:
        blocks.append(Text(NONE))
    return blocks


# --- rendering (no database) ---------------------------------------------------------------------

def _read_stored(stored_name: str) -> Optional[bytes]:
    try:
        with open_stored(stored_name) as stored:
            return stored.read()
    except (FileNotFoundError, ValueError):
        return None


def render_dossier(content: DossierContent, documents: list[Optional[bytes]]) -> bytes:
    """The dossier's own pages, the appended documents after them, every page numbered N/M."""
    from pypdf import PdfReader

    register_fonts()
    counts = [_page_count(pdf) for pdf in documents]
    own_pages, own = 1, b""
    for _ in range(MAX_LAYOUT_PASSES):
        starts = _start_pages(own_pages, counts)
        total = own_pages + sum(counts)
        own = _render_own(content, starts, total)
        pages = len(PdfReader(io.BytesIO(own)).pages)
        if pages == own_pages:
            break
        own_pages = pages
    return _assemble(own, documents, _title(content))


def _page_count(pdf: Optional[bytes]) -> int:
    """Pages of a stored document; 0 for one gone or unreadable (listed, not appended)."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    if pdf is None:
        return 0
    try:
        return len(PdfReader(io.BytesIO(pdf)).pages)
    except (PyPdfError, ValueError, KeyError, TypeError):
        return 0


def _start_pages(own_pages: int, counts: list[int]) -> list[Optional[int]]:
    starts, page = [], own_pages + 1
    for count in counts:
        starts.append(page if count else None)
        page += count
    return starts


class _DossierDocTemplate(BaseDocTemplate):
    def __init__(self, buffer, *, demo: bool, **metadata):
        super().__init__(buffer, pagesize=A4, leftMargin=LEFT_MARGIN_MM * mm, rightMargin=RIGHT_MARGIN_MM * mm,
                         topMargin=TOP_MARGIN_MM * mm, bottomMargin=BOTTOM_MARGIN_MM * mm,
                         initialFontName=SERIF, initialFontSize=TEXT_PT, **metadata)
        self.demo = demo
        frame = Frame(self.leftMargin, self.bottomMargin, self.width, self.height, id="page",
                      leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
        self.addPageTemplates([PageTemplate("page", frames=[frame], onPage=self._on_page)])

    def _on_page(self, canvas, doc):
        if self.demo:
            canvas.saveState()
            canvas.setFillColor(WATERMARK)
            canvas.translate(PAGE_WIDTH / 2, PAGE_HEIGHT / 2)
            canvas.rotate(WATERMARK_ANGLE)
            canvas.setFont(SANS_BOLD, WATERMARK_PT)
            canvas.drawCentredString(0, -WATERMARK_PT / 3, "DEMO")
            canvas.restoreState()


def _title(content: DossierContent) -> str:
    title = nfc(f"{DOSSIER_TITLE} {content.reference}")
    return "DEMO – " + title if content.demo else title


def _render_own(content: DossierContent, starts: list[Optional[int]], total: int) -> bytes:
    buffer = io.BytesIO()
    doc = _DossierDocTemplate(buffer, demo=content.demo, title=_title(content),
                              subject=nfc(DOSSIER_SUBTITLE), author=nfc(" ".join(content.issuing_body.split())),
                              creator="PressDesk", lang="vi")
    story = _cover_story(content, total) + [PageBreak()]
    for block in content.blocks:
        story += _flowables(block, starts)
    doc.build(story)
    return buffer.getvalue()


def _text(text: str, font: str = SERIF, size: float = TEXT_PT, alignment=TA_LEFT, **extra) -> Paragraph:
    """Free text as typed: its line breaks kept, NFC, characters the serif lacks set in the sans."""
    style = _style(f"dossier-{font}-{size}-{alignment}-{sorted(extra.items())}", font, size, alignment, **extra)
    lines = nfc(str(text)).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return Paragraph("<br/>".join(_markup(line, font) for line in lines), style)


def _cover_story(content: DossierContent, total: int) -> list:
    width = CONTENT_WIDTH * 0.6
    authority = []
    if content.parent_body:
        authority.append(_lines_para(_fit_lines(content.parent_body.upper(), SERIF, PARENT_BODY_PT, width),
                                     SERIF, PARENT_BODY_PT))
    issuing = _fit_lines(content.issuing_body.upper(), SERIF_BOLD, ISSUING_BODY_PT, width)
    authority += [_lines_para(issuing, SERIF_BOLD, ISSUING_BODY_PT), _rule(width * ISSUING_BODY_RULE_RATIO, 4)]
    rows = content.cover + [("Số trang", f"{total} trang")]
    return authority + [
        Spacer(0, 40 * mm), _text(DOSSIER_TITLE, SERIF_BOLD, COVER_TITLE_PT, TA_CENTER, spaceAfter=8),
        _text(DOSSIER_SUBTITLE, SERIF_BOLD, COVER_SUBTITLE_PT, TA_CENTER, spaceAfter=18),
        _fields_table(rows, COVER_FIELDS_PT), Spacer(0, 14 * mm),
        _text(INTERNAL_WARNING, SERIF_ITALIC, NOTE_PT, TA_LEFT, spaceAfter=4),
        _text(content.printed, SERIF_ITALIC, NOTE_PT, TA_LEFT),
    ]


def _fields_table(rows: list[tuple[str, str]], size: float = TEXT_PT) -> Table:
    label_width = CONTENT_WIDTH * 0.32
    cells = [[_text(label, SERIF_BOLD, size), _text(value, SERIF, size)] for label, value in rows]
    table = Table(cells, colWidths=[label_width, CONTENT_WIDTH - label_width], hAlign="LEFT")
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), SERIF), ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 6),
        ("TOPPADDING", (0, 0), (-1, -1), 1), ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]))
    return table


def _grid(grid: Grid, starts: list[Optional[int]]) -> Table:
    header, rows, widths = list(grid.header), [list(row) for row in grid.rows], list(grid.widths)
    if grid.appended_index:
        header.append("Trang")
        widths = [share * 0.92 for share in widths] + [0.08]
        for row, index in zip(rows, grid.appended_index):
            start = starts[index] if index is not None and index < len(starts) else None
            row.append(str(start) if start else MISSING)
    cells = [[_text(text, SERIF_BOLD, TABLE_PT, TA_CENTER) for text in header]]
    cells += [[_text(text, SERIF, TABLE_PT) for text in row] for row in rows]
    table = Table(cells, colWidths=[share * CONTENT_WIDTH for share in widths], repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), SERIF), ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("GRID", (0, 0), (-1, -1), GRID_LINE_PT, black),
        ("LEFTPADDING", (0, 0), (-1, -1), TABLE_PADDING_PT), ("RIGHTPADDING", (0, 0), (-1, -1), TABLE_PADDING_PT),
        ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]))
    return table


def _flowables(block: Block, starts: list[Optional[int]]) -> list:
    if isinstance(block, Heading):
        if block.level == 1:
            return [CondPageBreak(SECTION_KEEP_MM * mm),
                    _text(block.text, SERIF_BOLD, SECTION_PT, spaceBefore=10, spaceAfter=6)]
        return [CondPageBreak(SECTION_KEEP_MM / 2 * mm),
                _text(block.text, SERIF_BOLD, SUBSECTION_PT, spaceBefore=6, spaceAfter=4)]
    if isinstance(block, Text):
        return [_text(block.text, SERIF_ITALIC if block.italic else SERIF, NOTE_PT if block.italic else TEXT_PT,
                      spaceBefore=2 if block.italic else 0, spaceAfter=2 if block.italic else 4)]
    if isinstance(block, Fields):
        return [_fields_table(block.rows), Spacer(0, 4)]
    return [_grid(block, starts), Spacer(0, 6)]


def _assemble(own: bytes, documents: list[Optional[bytes]], title: str) -> bytes:
    """The dossier's pages, then every appended document's (on A4), each page stamped N/M."""
    from pypdf import PdfReader, PdfWriter, Transformation

    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(own)).pages:
        writer.add_page(page)
    for pdf in documents:
        if pdf is None or not _page_count(pdf):
            continue
        for page in PdfReader(io.BytesIO(pdf)).pages:
            box = page.mediabox
            width, height = float(box.width), float(box.height)
            if abs(width - PAGE_WIDTH) <= PAGE_SIZE_TOLERANCE_PT and abs(height - PAGE_HEIGHT) <= PAGE_SIZE_TOLERANCE_PT:
                writer.add_page(page)
                continue
            inset = APPENDED_PAGE_INSET_MM * mm
            scale = min(1.0, (PAGE_WIDTH - 2 * inset) / width, (PAGE_HEIGHT - 2 * inset) / height)
            sheet = writer.add_blank_page(PAGE_WIDTH, PAGE_HEIGHT)
            x = (PAGE_WIDTH - width * scale) / 2 - float(box.left) * scale
            y = (PAGE_HEIGHT - height * scale) / 2 - float(box.bottom) * scale
            sheet.merge_transformed_page(page, Transformation().scale(scale).translate(x, y))
    total = len(writer.pages)
    stamps = PdfReader(io.BytesIO(_page_stamps(total)))
    for page, stamp in zip(writer.pages, stamps.pages):
        page.merge_page(stamp)
    output = io.BytesIO()
    writer.add_metadata({"/Title": title, "/Creator": "PressDesk"})
    writer.write(output)
    return output.getvalue()


def _page_stamps(total: int) -> bytes:
    """One page per dossier page, blank but for "Trang N/M" at the top right."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=1)
    for number in range(1, total + 1):
        canvas.setFont(SERIF, PAGE_STAMP_PT)
        canvas.drawRightString(PAGE_WIDTH - RIGHT_MARGIN_MM * mm, PAGE_HEIGHT - PAGE_STAMP_FROM_TOP_MM * mm,
                               PAGE_STAMP.format(number=number, total=total))
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


# --- the ZIP of attachments ----------------------------------------------------------------------

def export_attachments(actor: User, registration: Registration) -> tuple[IO[bytes], str]:
    """The attachments and reply scans as a ZIP (a file object at its start) and its download name; audited."""
    check_export(actor, registration)
    entries = zip_entries(registration)
    limit = attachments_limit(sum(1 for entry in entries if entry.reply_scan))
    if sum(entry.size for entry in entries) > limit:
        raise DossierTooLarge(_l("The attachments are larger than one export may be (%(megabytes)d MB): "
                                 "download them one by one.", megabytes=limit // (1024 * 1024)))
    download = f"{registration.reference} tep dinh kem.zip"
    identity = [attachment.id for attachment in registration.attachments if attachment.kind in IDENTITY_KINDS]
    with slow_work():
        archive = build_zip(entries)
    writes()
    record_event(DOSSIER_EXPORTED, actor=actor, subject=registration,
                 after={"format": "zip", "files": len(entries), "identity_attachments": identity})
    return archive, download


_CONSULTATION_REPLY = "consultation_reply"


def attachments_limit(reply_scans: int) -> int:
    """The most a registration's files can lawfully weigh: its attachments' ceiling, and one upload per reply scan."""
    config = current_app.config
    return config["REGISTRATION_MAX_ATTACHMENT_BYTES"] + reply_scans * config["UPLOAD_MAX_FILE_BYTES"]


def _zip_time(moment) -> tuple[int, int, int, int, int, int]:
    if moment is None:
        return ZIP_EARLIEST
    from app.clock import province_timezone

    local = moment.astimezone(province_timezone())
    return max(ZIP_EARLIEST, (local.year, local.month, local.day, local.hour, local.minute, local.second))


def _unique(name: str, taken: set[str]) -> str:
    """`name`, or "stem (2).ext", "stem (3).ext", ... if a file of that name (in any case) is already in."""
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    candidate, number = name, 1
    while candidate.lower() in taken:
        number += 1
        candidate = f"{stem} ({number}){dot}{extension}"
    taken.add(candidate.lower())
    return candidate


def zip_entries(registration: Registration) -> list[ZipEntry]:
    """What goes in the ZIP, named "<kind> - <original name>", no folders, every name unique."""
    taken = {MANIFEST_NAME}
    entries = []
    with force_locale("vi"):
        for attachment in registration.attachments:
            name = _unique(f"{attachment.kind.name} - "
                           f"{download_name(attachment.original_filename, attachment.content_type)}", taken)
            entries.append(ZipEntry(name=name, kind=_vi(ATTACHMENT_KIND_NAMES.get(attachment.kind)),
                                    original_filename=attachment.original_filename,
                                    stored_name=attachment.stored_name, size=attachment.size,
                                    sha256=attachment.sha256, uploaded=when(attachment.uploaded_at),
                                    date_time=_zip_time(attachment.uploaded_at)))
        for consultation in registration.consultations:
            if not consultation.reply_stored_name:
                continue
            content_type = consultation.reply_content_type or "application/pdf"
            name = _unique(f"{_CONSULTATION_REPLY} {consultation.id} - "
                           f"{download_name(consultation.reply_original_filename, content_type)}", taken)
            kind = f"Công văn trả lời: {consultation.body_name}"
            entries.append(ZipEntry(name=name, kind=kind, original_filename=consultation.reply_original_filename or "",
                                    stored_name=consultation.reply_stored_name, size=consultation.reply_size or 0,
                                    sha256=consultation.reply_sha256 or "", uploaded=when(consultation.answered_at),
                                    date_time=_zip_time(consultation.answered_at), reply_scan=True))
    return entries


def build_zip(entries: list[ZipEntry]) -> IO[bytes]:
    """The ZIP in a spooled temporary file (in memory while small), rewound; files already compressed
    (PDF, JPEG, PNG) are stored as they are. A file gone or changed is marked so in the manifest."""
    archive = tempfile.SpooledTemporaryFile(max_size=ZIP_MEMORY_BYTES)
    manifest = io.StringIO()
    writer = csv.writer(manifest)
    writer.writerow(MANIFEST_COLUMNS)
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as bundle:
        for entry in entries:
            check = _add_file(bundle, entry)
            writer.writerow([entry.name if check != CHECK_MISSING else "", entry.kind, entry.original_filename,
                             entry.size, entry.sha256, entry.uploaded, check])
        info = zipfile.ZipInfo(MANIFEST_NAME, date_time=_zip_time(local_now()))
        bundle.writestr(info, "\ufeff" + manifest.getvalue())  # the BOM: spreadsheet programs read UTF-8
    archive.seek(0)
    return archive


def _add_file(bundle: zipfile.ZipFile, entry: ZipEntry) -> str:
    try:
        source = open_stored(entry.stored_name)
    except (FileNotFoundError, ValueError):
        return CHECK_MISSING
    digest = hashlib.sha256()
    info = zipfile.ZipInfo(entry.name, date_time=entry.date_time)
    info.compress_type = zipfile.ZIP_STORED
    with source, bundle.open(info, "w", force_zip64=True) as target:
        while chunk := source.read(READ_CHUNK_BYTES):
            digest.update(chunk)
            target.write(chunk)
    return CHECK_OK if digest.hexdigest() == entry.sha256 else CHECK_MISMATCH
