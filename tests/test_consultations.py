"""Consultations: the consultation letter (its own series, the body from the reference data, the
border places, the reply deadline), the reply with its scan, and the one reminder when overdue."""
from __future__ import annotations

import hashlib
import io
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from pypdf import PdfReader

from app.auth.models import Role
from app.clock import local_today
from app.documents.models import DocumentCounter, DocumentKind, IssuedDocument
from app.extensions import db as app_db
from app.i18n import day
from app.outbox.models import OutboxMessage
from app.places.models import Place
from app.reference.models import BodyKind, ConsultedBodyEntry
from app.registrations import consultations, service
from app.registrations.models import Consultation, ConsultedBody, Opinion, Registration, Status
from tests.conftest import TINY_PDF
from tests.support import login, post_form

BORDER_GUARD = "Bộ Chỉ huy Bộ đội Biên phòng tỉnh Thử Nghiệm"
BORDER_PLACE = "Xã Phước Chỉ"


def text_of(pdf: bytes) -> str:
    """The PDF's text with line breaks folded into spaces (lines wrap wherever the layout says)."""
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())


def stored_bytes(app, stored_name: str) -> bytes:
    from app.uploads import open_stored

    with app.app_context(), open_stored(stored_name) as stored:
        return stored.read()


@pytest.fixture
def bodies(db):
    """The reference data: a border guard, the police, the MOFA (informed only) and a retired body."""
    entries = {
        "border_guard": ConsultedBodyEntry(kind=BodyKind.border_guard, name_vi=BORDER_GUARD,
                                           name_en="Border Guard Command (test)", short_name_vi="Bộ Chỉ huy BĐBP tỉnh"),
        "police": ConsultedBodyEntry(kind=BodyKind.police, name_vi="Công an tỉnh Thử Nghiệm"),
        "mofa": ConsultedBodyEntry(kind=BodyKind.mofa, name_vi="Bộ Ngoại giao (Cục Báo chí)"),
        "retired": ConsultedBodyEntry(kind=BodyKind.police, name_vi="Công an huyện Cũ", active=False),
    }
    db.session.add_all(entries.values())
    db.session.commit()
    return {name: entry.id for name, entry in entries.items()}


@pytest.fixture
def dossier(app, db, make_user, make_registration):
    """A border-area registration in review, assigned to an officer who is logged in."""
    officer = make_user(Role.officer, full_name="Nguyễn Văn Chuyên", locale="en")
    registration, correspondent = make_registration(Status.in_review, border=True, assigned_to=officer)
    row = db.session.get(Registration, registration.id)
    place = db.session.get(Place, row.itinerary[0].place_id)
    place.name_vi = BORDER_PLACE
    db.session.commit()
    staff = app.test_client()
    login(staff, officer.email)
    return {"registration": registration, "correspondent": correspondent, "officer": officer, "staff": staff,
            "detail": f"/registrations/{registration.id}", "passport": row.crew_members[0].passport_number,
            "crew_name": row.crew_members[0].full_name}


def ask(dossier, body_id, note="Đề nghị cho ý kiến về việc quay phim tại cửa khẩu."):
    return post_form(dossier["staff"], f"{dossier['detail']}/consultations",
                     {"consulted_body": str(body_id), "request_note": note}, page=dossier["detail"])


def consultations_of(db, registration_id) -> list[Consultation]:
    return db.session.scalars(sa.select(Consultation).where(Consultation.registration_id == registration_id)
                              .order_by(Consultation.id)).all()


def answer_url(dossier, consultation) -> str:
    return f"{dossier['detail']}/consultations/{consultation.id}/answer"


def answer_data(**overrides):
    data = {"reply_number": "125/BCH-TM", "reply_date": local_today().isoformat(), "opinion": "agree_with_conditions",
            "answer": "Đồng ý; đề nghị có cán bộ Đồn Biên phòng đi cùng khi làm việc tại cửa khẩu.",
            "scan": (io.BytesIO(TINY_PDF), "Công văn trả lời 125.pdf")}
    data.update(overrides)
    return data


def expected_due(app):
    with app.app_context():
        return service.working_calendar().add_working_days(local_today(), 3)


# --- the letter ------------------------------------------------------------------------------

def test_asking_issues_the_letter_in_its_own_series(app, db, bodies, dossier):
    response = ask(dossier, bodies["border_guard"])
    assert response.status_code == 302
    [consultation] = consultations_of(db, dossier["registration"].id)
    assert consultation.body is ConsultedBody.border_guard and consultation.body_name == BORDER_GUARD
    assert consultation.consulted_body_id == bodies["border_guard"]
    assert consultation.due_date == expected_due(app) and consultation.reminder_sent_at is None
    letter = db.session.get(IssuedDocument, consultation.letter_document_id)
    assert letter.kind is DocumentKind.consultation_letter and letter.registration_id == dossier["registration"].id
    assert letter.register_number == "1/UBND-NgV.XYK" and letter.signer_name == "Nguyễn Văn Chuyên"

    # A second consultation takes the next number of the same series, and the decision letters'
    # series ("UBND-NgV") has not moved: its first letter will still be number 1.
    ask(dossier, bodies["police"])
    second = consultations_of(db, dossier["registration"].id)[1]
    assert db.session.get(IssuedDocument, second.letter_document_id).register_number == "2/UBND-NgV.XYK"
    counters = {(row.series, row.last_number) for row in db.session.scalars(sa.select(DocumentCounter))}
    assert counters == {("UBND-NgV.XYK", 2)}

    # What the body reads: its name from the reference data, no full stop after it, the border
    # place, the programme and the deadline; never a passport number. Vietnamese only.
    text = text_of(stored_bytes(app, letter.stored_name))
    assert f"Kính gửi: {BORDER_GUARD}" in text and f"Kính gửi: {BORDER_GUARD}." not in text
    assert "V/v xin ý kiến về hoạt động báo chí của" in text and "Số: 1/UBND-NgV.XYK" in text
    assert BORDER_PLACE in text and "khu vực biên giới" in text and "Film the harvest" in text
    assert f"chậm nhất ngày {expected_due(app).strftime('%d/%m/%Y')}" in text
    assert "Đề nghị Bộ Chỉ huy BĐBP tỉnh có ý kiến bằng văn bản" in text  # the short name in running text
    assert dossier["crew_name"] in text and dossier["passport"] not in text
    assert "quay phim tại cửa khẩu" in text and "Như trên" in text and "Lưu: VT, NgV" in text
    assert "Courtesy translation" not in text


def test_the_form_offers_active_consulted_bodies_by_kind(db, bodies, dossier):
    page = dossier["staff"].get(dossier["detail"]).get_data(as_text=True)
    assert BORDER_GUARD in page and "Công an tỉnh Thử Nghiệm" in page
    assert "<optgroup label=" in page  # grouped by kind (the officer reads Vietnamese)
    assert "Công an huyện Cũ" not in page and "Bộ Ngoại giao (Cục Báo chí)" not in page  # retired; informed only
    for refused in (bodies["mofa"], bodies["retired"], 99999):
        assert ask(dossier, refused).status_code == 422
    assert consultations_of(db, dossier["registration"].id) == []


def test_without_reference_data_the_profile_bodies_are_offered(app, db, dossier):
    page = dossier["staff"].get(dossier["detail"]).get_data(as_text=True)
    assert "Bộ Chỉ huy Bộ đội Biên phòng tỉnh DEMO Tây Ninh" in page
    assert ask(dossier, "profile-0").status_code == 302
    [consultation] = consultations_of(db, dossier["registration"].id)
    assert consultation.body_name == "Bộ Chỉ huy Bộ đội Biên phòng tỉnh DEMO Tây Ninh"
    assert consultation.consulted_body_id is None and consultation.letter_document_id is not None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ConsultedBodyEntry)) == 0


def test_the_staff_page_links_the_letter_and_shows_the_deadline(app, db, bodies, dossier):
    ask(dossier, bodies["border_guard"])
    [consultation] = consultations_of(db, dossier["registration"].id)
    page = dossier["staff"].get(dossier["detail"]).get_data(as_text=True)
    assert f"/documents/{consultation.letter_document_id}" in page and "1/UBND-NgV.XYK" in page
    assert "Reply from the body due by" in page and "overdue" not in page.split('id="consultations"')[1]


def test_a_correspondent_cannot_download_the_consultation_letter(app, client, db, bodies, dossier):
    ask(dossier, bodies["border_guard"])
    [consultation] = consultations_of(db, dossier["registration"].id)
    assert dossier["staff"].get(f"{dossier['detail']}/documents/{consultation.letter_document_id}").status_code == 200
    login(client, dossier["correspondent"].email)
    # Internal to the province: the outlet neither downloads it nor sees it in its documents.
    assert client.get(f"{dossier['detail']}/documents/{consultation.letter_document_id}").status_code == 404
    assert f"/documents/{consultation.letter_document_id}" not in client.get(dossier["detail"]).get_data(as_text=True)


# --- the answer ------------------------------------------------------------------------------

def test_the_answer_records_the_reply_letter_and_its_scan(app, client, db, bodies, dossier, make_user):
    ask(dossier, bodies["border_guard"])
    [consultation] = consultations_of(db, dossier["registration"].id)
    response = post_form(dossier["staff"], answer_url(dossier, consultation), answer_data(), page=dossier["detail"])
    assert response.status_code == 302
    consultation = db.session.get(Consultation, consultation.id)
    assert consultation.reply_number == "125/BCH-TM" and consultation.reply_date == local_today()
    assert consultation.opinion is Opinion.agree_with_conditions and consultation.answered_at is not None
    assert consultation.reply_content_type == "application/pdf" and consultation.reply_size == len(TINY_PDF)
    assert consultation.reply_sha256 == hashlib.sha256(TINY_PDF).hexdigest()
    assert consultation.reply_original_filename == "Công văn trả lời 125.pdf"
    with app.app_context():
        assert service.border_consultation_answered(app_db.session.get(Registration, dossier["registration"].id))

    scan_url = f"{dossier['detail']}/consultations/{consultation.id}/reply"
    page = dossier["staff"].get(dossier["detail"]).get_data(as_text=True)
    assert scan_url in page and "125/BCH-TM" in page
    downloaded = dossier["staff"].get(scan_url)
    assert downloaded.status_code == 200 and downloaded.data == TINY_PDF
    assert downloaded.headers["Content-Disposition"].startswith("attachment")

    login(client, dossier["correspondent"].email)
    assert client.get(scan_url).status_code == 403
    assert scan_url not in client.get(dossier["detail"]).get_data(as_text=True)
    stranger = app.test_client()
    login(stranger, make_user(Role.correspondent).email)
    assert stranger.get(scan_url).status_code in (403, 404)


def test_an_answer_without_a_scan_is_recorded(db, bodies, dossier):
    ask(dossier, bodies["police"])
    [consultation] = consultations_of(db, dossier["registration"].id)
    data = answer_data(opinion="agree", scan=(io.BytesIO(b""), ""))
    response = post_form(dossier["staff"], answer_url(dossier, consultation), data, page=dossier["detail"])
    assert response.status_code == 302
    consultation = db.session.get(Consultation, consultation.id)
    assert consultation.answered_at is not None and consultation.reply_stored_name is None
    assert dossier["staff"].get(f"{dossier['detail']}/consultations/{consultation.id}/reply").status_code == 404


# Reply dates as days from today: the parameters are made before the clock is frozen.
@pytest.mark.parametrize("overrides, message", [
    ({"reply_date": 1}, "cannot be dated in the future"),
    ({"reply_date": -1}, "before the consultation was requested"),
    ({"reply_date": ""}, "Give the date of the reply letter"),
    ({"reply_number": ""}, "Give the number of the reply letter"),
    ({"reply_number": "9" * 65}, "longer than 64"),
    ({"scan": (io.BytesIO(b"MZ\x90\x00 not a document"), "reply.exe")}, "not a PDF, JPEG or PNG"),
], ids=["future", "before-request", "no-date", "no-number", "long-number", "not-a-document"])
def test_a_bad_reply_is_refused_and_nothing_is_saved(app, db, bodies, dossier, overrides, message):
    ask(dossier, bodies["border_guard"])
    [consultation] = consultations_of(db, dossier["registration"].id)
    if isinstance(overrides.get("reply_date"), int):
        overrides = {"reply_date": (local_today() + timedelta(days=overrides["reply_date"])).isoformat()}
    response = post_form(dossier["staff"], answer_url(dossier, consultation), answer_data(**overrides),
                         page=dossier["detail"])
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    consultation = db.session.get(Consultation, consultation.id)
    assert consultation.answered_at is None and consultation.reply_number is None
    assert consultation.reply_stored_name is None


def test_the_answer_is_recorded_once(db, bodies, dossier):
    ask(dossier, bodies["border_guard"])
    [consultation] = consultations_of(db, dossier["registration"].id)
    url = answer_url(dossier, consultation)
    assert post_form(dossier["staff"], url, answer_data(), page=dossier["detail"]).status_code == 302
    again = post_form(dossier["staff"], url, answer_data(reply_number="126/BCH-TM", opinion="disagree"),
                      page=dossier["detail"])
    assert again.status_code == 409 and "already has its answer" in again.get_data(as_text=True)
    consultation = db.session.get(Consultation, consultation.id)
    assert consultation.reply_number == "125/BCH-TM" and consultation.opinion is Opinion.agree_with_conditions


# --- the deadline and the reminder --------------------------------------------------------------

def _make_overdue(db, consultation_id):
    db.session.get(Consultation, consultation_id).due_date = local_today() - timedelta(days=1)
    db.session.commit()


def test_an_overdue_consultation_is_reminded_of_once(app, db, bodies, dossier, make_user, mailbox, runner):
    other_officer = make_user(Role.officer)
    ask(dossier, bodies["border_guard"])
    [consultation] = consultations_of(db, dossier["registration"].id)
    mailbox.clear()
    result = runner.invoke(args=["registrations", "remind-consultations"])
    assert result.exit_code == 0 and result.output.startswith("0 overdue consultation(s)")

    _make_overdue(db, consultation.id)
    page = dossier["staff"].get(dossier["detail"]).get_data(as_text=True).split('id="consultations"')[1]
    assert "overdue" in page
    with app.app_context():
        assert [row.id for row in consultations.overdue_consultations(
            app_db.session.get(type(dossier["officer"]), dossier["officer"].id))] == [consultation.id]

    first = runner.invoke(args=["registrations", "remind-consultations"])
    second = runner.invoke(args=["registrations", "remind-consultations"])
    assert first.exit_code == 0 and first.output.startswith("1 overdue consultation(s)")
    assert second.exit_code == 0 and second.output.startswith("0 overdue consultation(s)")
    [mail] = mailbox.messages
    assert mail["To"] == dossier["officer"].email and mailbox.to(other_officer.email) == []
    # In the officer's language, with the body, the letter and the deadline.
    text = mailbox.text(mail)
    assert mail["Subject"].endswith("the consulted body has not replied")
    assert BORDER_GUARD in text and "1/UBND-NgV.XYK" in text and f"/registrations/{dossier['registration'].id}" in text
    with app.test_request_context(), force_locale("en"):
        assert f"The reply was due by {day(local_today() - timedelta(days=1))}." in " ".join(text.split())
    assert db.session.get(Consultation, consultation.id).reminder_sent_at is not None


def test_unassigned_reminders_go_to_every_active_officer_and_answered_ones_to_nobody(
        app, db, bodies, dossier, make_user, mailbox):
    second_officer = make_user(Role.officer, locale="vi")
    make_user(Role.officer, active=False)
    ask(dossier, bodies["border_guard"])
    ask(dossier, bodies["police"])
    first, answered = consultations_of(db, dossier["registration"].id)
    post_form(dossier["staff"], answer_url(dossier, answered), answer_data(), page=dossier["detail"])
    db.session.get(Registration, dossier["registration"].id).assigned_officer_id = None
    db.session.commit()
    _make_overdue(db, first.id)
    _make_overdue(db, answered.id)
    with app.app_context():
        assert consultations.remind_overdue_consultations() == 1
        app_db.session.commit()
    recipients = sorted(mail.recipient for mail in db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.template == "consultation_overdue")))
    assert recipients == sorted([dossier["officer"].email, second_officer.email])
    # Each in their own language: the subject is rendered with the recipient's locale.
    for user in (dossier["officer"], second_officer):
        mail = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.recipient == user.email))
        assert mail.locale == user.locale and BORDER_GUARD in mail.body_text
