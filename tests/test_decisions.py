"""The decision is drafted, previewed, returned or decided (DESIGN.md section 4), through the pages."""
from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from app.audit.models import AuditEvent
from app.auth.models import Role
from app.documents.models import DocumentKind, IssuedDocument
from app.extensions import db as app_db
from app.reference.models import EscortOfficer, StandardText, StandardTextKind
from app.registrations.models import Proposal, Registration, Status
from tests.support import login, logout, post_form


def text_of(pdf: bytes) -> str:
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())


def page_texts(pdf: bytes) -> list[str]:
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages]


@pytest.fixture
def dossier(app, make_registration, make_user):
    """An in-review registration assigned to an officer, a leader, and an escort officer in the list."""
    officer = make_user(Role.officer, full_name="Lê Văn Thụ Lý", locale="en")
    leader = make_user(Role.leader, full_name="Trần Thị Lãnh Đạo", locale="en")
    registration, correspondent = make_registration(Status.in_review, assigned_to=officer)
    with app.app_context():
        escort = EscortOfficer(full_name="Phạm Văn Hộ", title_vi="Chuyên viên Sở Ngoại vụ",
                               title_en="Officer, Department of Foreign Affairs", phone="0276 3822 111")
        app_db.session.add(escort)
        app_db.session.commit()
        escort_id = escort.id
    return registration, correspondent, officer, leader, escort_id


def draft_fields(escort_id, **overrides):
    fields = {
        "proposal": "approve",
        "summary_vi": "Thực hiện phóng sự về nông nghiệp thích ứng biến đổi khí hậu tại tỉnh",
        "summary_en": "A report on climate-adapted farming in the province",
        "request_number": "12/NRK", "request_date": "2026-10-01",
        "legal_basis_vi": "Căn cứ Nghị định số 262/2026/NĐ-CP", "legal_basis_en": "Pursuant to Decree 262/2026/ND-CP",
        "conditions_vi": "Không quay phim tại khu vực quân sự", "conditions_en": "No filming in military areas",
        "escort_officer_id": str(escort_id), "note": "Hồ sơ đầy đủ.",
    }
    fields.update(overrides)
    return fields


def version_of(app, registration_id) -> int:
    with app.app_context():
        return app_db.session.get(Registration, registration_id).version


def test_the_officer_drafts_previews_and_proposes_then_the_leader_returns_and_approves(app, client, db, dossier,
                                                                                     mailbox):
    registration, correspondent, officer, leader, escort_id = dossier
    detail = f"/registrations/{registration.id}"
    login(client, officer.email)

    # Saved, not proposed: nothing is numbered, the leader is not told.
    response = post_form(client, f"{detail}/decision", {**draft_fields(escort_id), "save": "1",
                                                        "version": version_of(app, registration.id)}, page=detail)
    assert response.status_code == 302
    stored = db.session.get(Registration, registration.id)
    assert stored.summary_vi.startswith("Thực hiện phóng sự") and stored.proposed_decision is None
    assert (stored.escort_name, stored.escort_phone) == ("Phạm Văn Hộ", "0276 3822 111")
    preview = client.get(f"{detail}/preview/approval_letter.pdf")
    assert preview.status_code == 200 and preview.mimetype == "application/pdf"
    text = text_of(preview.data)
    assert "DỰ THẢO / DRAFT" in text and "Số: /UBND-NgV" in text.replace("\xa0", " ").replace("  ", " ")
    assert "Thực hiện phóng sự về nông nghiệp" in text and "Report on rice farming" not in text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IssuedDocument)) == 0

    # Proposed: the leader gets a mail and a page that puts the decision first.
    mailbox.clear()
    response = post_form(client, f"{detail}/decision", {**draft_fields(escort_id), "submit": "1",
                                                        "version": version_of(app, registration.id)}, page=detail)
    assert response.status_code == 302
    assert mailbox.to(leader.email)
    logout(client)
    login(client, leader.email)
    page = client.get(detail).get_data(as_text=True)
    assert page.index('id="decision"') < page.index(">Programme<") if ">Programme<" in page else True
    assert "Approve and issue the documents" in page and "Return to the officer" in page

    # Returned with a comment: on the officer's side, on the timeline, in the officer's mail.
    mailbox.clear()
    response = post_form(client, f"{detail}/return", {"comment": "Nêu rõ địa điểm quay phim.",
                                                      "version": version_of(app, registration.id)}, page=detail)
    assert response.status_code == 302
    db.session.expire_all()
    stored = db.session.get(Registration, registration.id)
    assert stored.status is Status.in_review and stored.returned and stored.return_comment.startswith("Nêu rõ")
    assert "Nêu rõ địa điểm quay phim." in mailbox.text(mailbox.to(officer.email)[0])
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "registration.return"))

    logout(client)
    login(client, officer.email)
    assert "Nêu rõ địa điểm quay phim." in client.get(detail).get_data(as_text=True)
    corrected = draft_fields(escort_id, summary_vi="Thực hiện phóng sự về nông nghiệp tại xã Tân Ninh",
                             submit="1", version=version_of(app, registration.id))
    assert post_form(client, f"{detail}/decision", corrected, page=detail).status_code == 302
    logout(client)

    login(client, leader.email)
    preview_letter = client.get(f"{detail}/preview/approval_letter.pdf").data
    preview_permits = client.get(f"{detail}/preview/permits.pdf").data
    assert "DỰ THẢO / DRAFT" in text_of(preview_permits)
    response = post_form(client, f"{detail}/approve", {"version": version_of(app, registration.id)}, page=detail)
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Registration, registration.id).status is Status.approved
    letter = db.session.scalar(sa.select(IssuedDocument).where(
        IssuedDocument.registration_id == registration.id, IssuedDocument.kind == DocumentKind.approval_letter))
    issued = client.get(f"{detail}/documents/{letter.id}").data
    assert same_but_number_date_and_watermark(preview_letter, issued, letter.register_number, letter.issue_date)


def same_but_number_date_and_watermark(preview: bytes, issued: bytes, number: str, issue_date) -> bool:
    """The preview's text equals the issued letter's once the number, the date and the watermark are
    taken out of both (and the page count is the same)."""
    def normalised(pages, number=None, issue_date=None):
        text = " ".join(pages).replace("\xa0", " ")
        text = text.replace("DỰ THẢO / DRAFT", "")
        if number:
            text = text.replace(number, "/" + number.split("/", 1)[1])
        if issue_date:
            text = re.sub(r"ngày \d+ tháng \d+ năm \d+", "ngày tháng năm", text)
            text = text.replace(issue_date.strftime("%d %B %Y"), "(date of issue)")
        return " ".join(text.split())
    draft_pages, issued_pages = page_texts(preview), page_texts(issued)
    assert len(draft_pages) == len(issued_pages)
    left = normalised(draft_pages)
    right = normalised(issued_pages, number, issue_date)
    assert left == right
    return True


def test_an_incomplete_draft_is_refused_field_by_field_and_nothing_is_saved(app, client, db, dossier):
    registration, _, officer, _, escort_id = dossier
    detail = f"/registrations/{registration.id}"
    login(client, officer.email)
    response = post_form(client, f"{detail}/decision", {**draft_fields(escort_id, summary_vi="", escort_officer_id=""),
                                                        "submit": "1", "version": version_of(app, registration.id)},
                         page=detail)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Write the Vietnamese summary" in page and "Choose the escort officer." in page
    stored = db.session.get(Registration, registration.id)
    assert stored.proposed_decision is None and stored.summary_en is None


def test_the_leader_decides_what_was_proposed_and_the_officer_cannot_change_it_meanwhile(app, client, db, dossier):
    registration, _, officer, leader, escort_id = dossier
    detail = f"/registrations/{registration.id}"
    login(client, officer.email)
    refusal = draft_fields(escort_id, proposal="refuse", refusal_reasons_vi="Trùng lịch sự kiện của tỉnh",
                           refusal_reasons_en="It clashes with a provincial event")
    assert post_form(client, f"{detail}/decision", {**refusal, "submit": "1",
                                                    "version": version_of(app, registration.id)},
                     page=detail).status_code == 302
    changed = post_form(client, f"{detail}/decision", {**refusal, "summary_vi": "Khác", "save": "1",
                                                       "version": version_of(app, registration.id)}, page=detail)
    assert changed.status_code == 409 and "waits for the leader" in changed.get_data(as_text=True)
    logout(client)
    login(client, leader.email)
    approve = post_form(client, f"{detail}/approve", {"version": version_of(app, registration.id)}, page=detail)
    assert approve.status_code == 409
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IssuedDocument)) == 0
    refuse = post_form(client, f"{detail}/refuse", {"version": version_of(app, registration.id)}, page=detail)
    assert refuse.status_code == 302
    db.session.expire_all()
    stored = db.session.get(Registration, registration.id)
    assert stored.status is Status.refused and stored.refusal_reasons == "Trùng lịch sự kiện của tỉnh"


@pytest.mark.parametrize("role", [Role.correspondent, Role.admin])
def test_drafts_and_previews_are_for_staff_only(app, client, db, dossier, make_user, role):
    registration, correspondent, officer, _, escort_id = dossier
    detail = f"/registrations/{registration.id}"
    login(client, officer.email)
    post_form(client, f"{detail}/decision", {**draft_fields(escort_id), "save": "1",
                                             "version": version_of(app, registration.id)}, page=detail)
    logout(client)
    user = correspondent if role is Role.correspondent else make_user(Role.admin)
    login(client, user.email)
    response = client.get(f"{detail}/preview/approval_letter.pdf")
    assert response.status_code in (403, 404)
    if role is Role.correspondent:
        page = client.get(detail).get_data(as_text=True)
        assert "Thực hiện phóng sự về nông nghiệp" not in page and "Hồ sơ đầy đủ." not in page


def test_a_resubmitted_dossier_goes_back_to_its_officer(app, db, make_registration, make_user):
    officer = make_user(Role.officer)
    registration, correspondent = make_registration(Status.needs_info, assigned_to=officer)
    from app.registrations import service

    with app.test_request_context():
        stored = app_db.session.get(Registration, registration.id)
        service.resubmit(app_db.session.get(type(officer), correspondent.id), stored, None)
        app_db.session.commit()
        assert stored.status is Status.in_review and stored.assigned_officer_id == officer.id
    from app.outbox.models import OutboxMessage

    assert db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.recipient == officer.email,
                                                            OutboxMessage.template == "registration_to_review"))
    events = db.session.scalars(sa.select(AuditEvent.action).where(
        AuditEvent.object_id == str(registration.id))).all()
    assert "registration.assign" not in events


def test_the_letters_read_as_a_clerk_would_sign_them(app, db, dossier):
    from app.documents.letters import render_letter
    from app.documents import texts
    from tests.support import propose

    registration, _, officer, leader, escort_id = dossier
    with app.test_request_context():
        stored = app_db.session.get(Registration, registration.id)
        propose(stored, app_db.session.get(type(officer), officer.id), Proposal.approve,
                escort_officer_id=escort_id, conditions_vi="Không quay phim tại khu vực quân sự",
                conditions_en="No filming in military areas", request_number="12/NRK")
        stamp = texts.DraftStamp(DocumentKind.approval_letter, stored)
        content = texts.approval_letter(stored, stamp, app_db.session.get(type(leader), leader.id))
        pages = page_texts(render_letter(content))
        notification = text_of(render_letter(texts.notification_letter(
            stored, texts.DraftStamp(DocumentKind.notification_letter, stored), None)))
    vietnamese, english = " ".join(pages[:-1]), pages[-1]
    outlet = stored.outlet.name
    assert f"Kính gửi: {outlet} " in vietnamese + " " and f"Kính gửi: {outlet}." not in vietnamese
    assert "tại văn bản số 12/NRK" in vietnamese and "Giấy phép hoạt động báo chí số 01/BC-2027-77" in vietnamese
    assert "Căn cứ" in vietnamese and "Report on rice farming" not in vietnamese
    assert "Phạm Văn Hộ, Chuyên viên Sở Ngoại vụ, điện thoại: 0276 3822 111" in vietnamese
    # A phone number never breaks across lines: its spaces are no-break spaces in what is laid out.
    assert "điện thoại: 0276\xa03822\xa0111" in " ".join(content.body)
    assert "No filming in military areas" in english and "Officer, Department of Foreign Affairs" in english
    assert "Không quay phim" not in english
    # The notification names the bodies by their Vietnamese names and states the conditions to enforce.
    assert "Bộ Ngoại giao (Cục Báo chí)" in notification and "Không quay phim tại khu vực quân sự" in notification


def test_standard_texts_are_offered_by_kind_and_added_where_they_are_chosen(app, client, db, dossier):
    """Each list offers the active texts of its own kind (read together, once per page), and the chosen
    one is added to what is typed, in both languages, for the officer to edit."""
    registration, _correspondent, officer, _leader, escort_id = dossier
    with app.app_context():
        texts = {kind: StandardText(kind=kind, title=f"Mẫu {kind.value}", text_vi=f"Nội dung {kind.value}",
                                    text_en=f"Text of {kind.value}", position=1) for kind in StandardTextKind}
        retired = StandardText(kind=StandardTextKind.condition, title="Mẫu cũ", text_vi="Cũ", text_en="Old",
                               active=False)
        app_db.session.add_all([*texts.values(), retired])
        app_db.session.commit()
        ids = {kind: str(text.id) for kind, text in texts.items()}
    detail = f"/registrations/{registration.id}"
    login(client, officer.email)
    page = client.get(detail).get_data(as_text=True)
    for name, kind in (("standard_conditions", StandardTextKind.condition),
                       ("standard_reasons", StandardTextKind.refusal_reason)):
        assert re.findall(rf'name="{name}" type="checkbox" value="(\d+)"', page) == [ids[kind]], name
    for prefix in ("request-info", "message"):
        options = re.search(rf'<select[^>]*id="{prefix}-standard_text_id"[^>]*>(.*?)</select>', page, re.S).group(1)
        assert re.findall(r'value="(\d+)"', options) == [ids[StandardTextKind.info_request]], prefix

    response = post_form(client, f"{detail}/decision", {
        **draft_fields(escort_id), "standard_conditions": ids[StandardTextKind.condition], "insert": "1",
        "version": version_of(app, registration.id)}, page=detail)
    assert response.status_code == 302  # saved with the text added, back on the page to edit it
    db.session.expire_all()
    stored = db.session.get(Registration, registration.id)
    assert stored.conditions == "Không quay phim tại khu vực quân sự\nNội dung condition"
    assert stored.conditions_en == "No filming in military areas\nText of condition"

    response = post_form(client, f"{detail}/messages", {
        "standard_text_id": ids[StandardTextKind.info_request], "insert": "1", "body": "Xin chào."}, page=detail)
    message = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Xin chào.\nNội dung info_request</textarea>" in message and "Text of info_request</textarea>" in message
