"""The department's day in a real browser: the officer's worklist shows the new dossier; the officer
drafts the decision and proposes it; the leader opens the DRAFT preview and returns it with a comment;
the officer finds it on the worklist, corrects the draft and proposes again; the leader approves; the
issued letter reads as the preview did, but for its number, date and watermark.
"""
from __future__ import annotations

import io
import re

from playwright.sync_api import expect
from pypdf import PdfReader

from app.auth.models import Role
from app.extensions import db
from app.reference.models import EscortOfficer
from app.registrations.models import Status
from tests.e2e.test_registration_journey import log_in, status_badge

SUMMARY = "Thực hiện phóng sự về nông nghiệp thích ứng biến đổi khí hậu"
COMMENT = "Đề nghị nêu rõ địa điểm quay phim trong trích yếu."


def pdf_text(data: bytes) -> str:
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).replace("\xa0", " ")
    return " ".join(text.split())


def test_a_proposal_is_previewed_returned_corrected_and_approved(new_page, live_server, app, make_registration,
                                                               make_user):
    base = live_server.url
    officer = make_user(Role.officer, locale="en", full_name="Olav Officer")
    leader = make_user(Role.leader, locale="en", full_name="Minh Leader")
    registration, _ = make_registration(Status.submitted)
    with app.app_context():
        db.session.add(EscortOfficer(full_name="Phạm Văn Hộ", title_vi="Chuyên viên Sở Ngoại vụ",
                                     title_en="Officer, Department of Foreign Affairs", phone="0276 3822 111"))
        db.session.commit()
    reference = registration.reference

    # The officer lands on the worklist, which shows the new dossier; he takes it.
    desk = new_page()
    log_in(desk, base, officer)
    expect(desk).to_have_url(re.compile(r"/staff/my-work$"))
    desk.get_by_role("link", name=reference).first.click()
    assign = desk.locator("section", has=desk.get_by_role("heading", name="Assign", exact=True))
    assign.get_by_role("button", name="Assign").click()
    expect(status_badge(desk, "in review")).to_be_visible()

    # He drafts the decision and proposes it.
    decision = desk.locator("#decision")
    decision.get_by_label("approve", exact=True).check()
    decision.get_by_label("Summary quoted by the letter (Vietnamese)").fill(SUMMARY)
    decision.get_by_label("Summary for the English courtesy page").fill("A report on climate-adapted farming")
    decision.get_by_label("Escort officer").select_option(label="Phạm Văn Hộ, Officer, Department of Foreign Affairs · 0276 3822 111")
    decision.get_by_label("Conditions (Vietnamese, one per line)").fill("Không quay phim tại khu vực quân sự")
    decision.get_by_label("Conditions (English, one per line)").fill("No filming in military areas")
    decision.get_by_role("button", name="Propose to the leader").click()
    expect(desk.get_by_text("Proposal sent to the leaders")).to_be_visible()

    # The leader opens the preview, then returns the proposal with a comment.
    head = new_page()
    log_in(head, base, leader)
    head.get_by_role("link", name=reference).first.click()
    decision = head.locator("#decision")
    preview_url = decision.get_by_role("link", name=re.compile("^Approval letter")).get_attribute("href")
    preview = head.request.get(base + preview_url)
    assert preview.ok and preview.headers["content-type"] == "application/pdf"
    assert "DỰ THẢO / DRAFT" in pdf_text(preview.body()) and SUMMARY in pdf_text(preview.body())
    decision.get_by_text("Return to the officer with a comment").click()
    decision.get_by_label("What the officer should change").fill(COMMENT)
    decision.get_by_role("button", name="Return to the officer").click()
    expect(head.get_by_text("Returned to the officer with your comment.")).to_be_visible()

    # The officer sees it on his worklist, corrects and proposes again.
    desk.goto(base + "/staff/my-work")
    expect(desk.get_by_text(COMMENT).first).to_be_visible()
    desk.get_by_role("link", name=reference).first.click()
    decision = desk.locator("#decision")
    expect(decision.get_by_text(COMMENT)).to_be_visible()
    decision.get_by_label("approve", exact=True).check()
    decision.get_by_label("Summary quoted by the letter (Vietnamese)").fill(SUMMARY + " tại xã Tân Ninh")
    decision.get_by_role("button", name="Propose to the leader").click()
    expect(desk.get_by_text("Proposal sent to the leaders")).to_be_visible()

    # The leader previews again and approves from the preview.
    head.reload()
    decision = head.locator("#decision")
    preview_url = decision.get_by_role("link", name=re.compile("^Approval letter")).get_attribute("href")
    previewed = pdf_text(head.request.get(base + preview_url).body())
    decision.get_by_role("button", name="Approve and issue the documents").click()
    expect(status_badge(head, "approved")).to_be_visible()
    letter_link = head.locator("#documents").get_by_role("link", name=re.compile("^Approval letter"))
    issued = pdf_text(head.request.get(base + letter_link.get_attribute("href")).body())
    number = re.search(r"Số: (\d+)/UBND-NgV", issued).group(1)

    def without_number_date_and_watermark(text: str) -> str:
        text = text.replace("DỰ THẢO / DRAFT", "").replace(f"Số: {number}/", "Số: /")
        text = text.replace(f"No. {number}/", "No. /")
        text = re.sub(r"ngày \d+ tháng \d+ năm \d+", "ngày tháng năm", text)
        text = re.sub(r"\d{2} [A-Z][a-z]+ \d{4}", "(date of issue)", text)
        return " ".join(text.split())

    assert SUMMARY + " tại xã Tân Ninh" in issued
    assert without_number_date_and_watermark(previewed) == without_number_date_and_watermark(issued)
