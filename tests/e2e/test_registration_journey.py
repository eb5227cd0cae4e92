"""The registration journey in a real browser: a correspondent registers a programme that visits a
border area, an officer asks for more information, consults the border guard and proposes the
decision with its draft (conditions, escort), and a leader, blocked until the border guard has
answered, approves the draft as proposed.
"""
from __future__ import annotations

import re
from datetime import timedelta

from PIL import Image
from playwright.sync_api import expect

from app.clock import local_today
from app.auth.models import Role
from app.extensions import db
from app.reference.models import BodyKind, ConsultedBodyEntry, EscortOfficer
from tests.conftest import TEST_PASSWORD, TINY_PDF
from tests.e2e.conftest import wait_for_mail
from tests.support import link_in

REFERENCE = re.compile(r"PD-\d{4}-\d{5}")
SUBMITTED = re.compile(r"^Submitted\. The province replies by \d{1,2} [A-Z][a-z]{2} \d{4}\.$")
INFO_NEEDED = "Please attach the assignment letter from your editor and name your local fixer."
REPLY = "The assignment letter is attached; our fixer is Nguyễn Văn An, +84 903 111 222."
ESCORT_NAME = "Trần Văn Hộ"
ESCORT_PHONE = "+84 912 000 111"
ESCORT_TITLE = "Officer, Department of Foreign Affairs"
BORDER_GUARD = "Bộ Chỉ huy Bộ đội Biên phòng tỉnh Tây Ninh"
CONDITIONS_VI = "Không quay phim các công trình quân sự."
CONDITIONS_EN = "No filming of military installations."


def log_in(page, base_url: str, user) -> None:
    page.goto(base_url + "/login")
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password", exact=True).fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text(f"You are logged in as {user.full_name}")).to_be_visible()


def nav_link(page, name: str):
    """A link of the main menu (the pages repeat some of them as "back" links in their main part)."""
    return page.get_by_role("navigation", name="Main menu").get_by_role("link", name=name, exact=True)


def click_and_wait(page, control) -> None:
    """Click a button that sends a form, and wait for the page it leads to. Needed where the next page
    looks like the previous one (the same form, the same "Draft saved." message)."""
    with page.expect_navigation():
        control.click()


def section(page, heading: str):
    """A part of the registration page, found by its heading: several forms there have similar fields."""
    return page.locator("section", has=page.get_by_role("heading", name=heading, exact=True))


def day_fieldset(page, number: int):
    return page.get_by_role("group", name=f"Day {number}", exact=True)


def status_badge(page, label: str):
    """The registration's status, as the badge next to its reference shows it."""
    return page.get_by_role("main").locator(".badge").filter(has_text=re.compile(f"^{re.escape(label)}$"))


def test_border_area_programme_is_registered_reviewed_and_approved(new_page, live_server, app, mailbox, tmp_path,
                                                                   make_user, make_outlet, make_crew_member,
                                                                   make_place):
    correspondent = make_user(Role.correspondent, locale="en", full_name="Jane Reporter")
    outlet = make_outlet(correspondents=[correspondent])
    member = make_crew_member(outlet)
    officer = make_user(Role.officer, locale="en", full_name="Lan Officer")
    leader = make_user(Role.leader, locale="en", full_name="Minh Leader")
    make_place(name="Phường Tân Ninh")
    border_place = make_place(name="Xã Biên Giới", border=True)
    with app.app_context():  # the reference data the administrator keeps: an escort officer, the border guard
        db.session.add(EscortOfficer(full_name=ESCORT_NAME, title_vi="Chuyên viên Sở Ngoại vụ", title_en=ESCORT_TITLE,
                                     phone=ESCORT_PHONE))
        db.session.add(ConsultedBodyEntry(kind=BodyKind.border_guard, name_vi=BORDER_GUARD,
                                          name_en="Tay Ninh Border Guard Command"))
        db.session.commit()
    start = local_today() + timedelta(days=30)
    end = start + timedelta(days=2)
    permit_file = tmp_path / "mofa-permit.pdf"
    permit_file.write_bytes(TINY_PDF)
    passport_file = tmp_path / "passport-page.png"
    Image.new("RGB", (60, 40), "navy").save(passport_file)
    base = live_server.url

    # --- 1. The correspondent drafts the registration. -------------------------------------------
    page = new_page()
    log_in(page, base, correspondent)
    nav_link(page, "My registrations").click()
    expect(page.get_by_role("heading", name="My registrations")).to_be_visible()
    page.get_by_role("link", name="New registration").click()
    # The kind comes from the outlet profile: nothing to choose.
    expect(page.get_by_text("You register as: Non-resident reporter with a MOFA press permit")).to_be_visible()
    page.get_by_role("button", name="Start the registration").click()

    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text(REFERENCE)
    expect(heading).to_contain_text("draft")
    reference = REFERENCE.search(heading.inner_text()).group(0)
    edit_url = page.url
    assert edit_url.endswith("/edit")

    form = page.get_by_role("main")
    form.get_by_label("MOFA press permit number").fill("01/BC-2027-77")
    form.get_by_label(member.full_name).check()
    form.get_by_label("Purpose of the programme").fill("Report on border trade along the Mekong")
    form.get_by_label("Content and topics").fill("Cross-border markets, farmers, customs")
    form.get_by_label("First day").fill(start.isoformat())
    form.get_by_label("Last day").fill(end.isoformat())

    # A new draft has one day to fill; "Add a day" saves the draft and adds one, without a page load.
    expect(page.get_by_role("group", name=re.compile(r"^Day \d+$"))).to_have_count(1)
    page.evaluate("window.sameDocument = true")
    form.get_by_role("button", name="Add a day to the itinerary").click()
    expect(page.get_by_role("group", name=re.compile(r"^Day \d+$"))).to_have_count(2)
    expect(page.locator("#form-messages")).to_contain_text("Draft saved.")
    assert page.evaluate("window.sameDocument === true")
    # What was typed before "Add a day" was kept, on the page and in the saved draft.
    expect(form.get_by_label("Purpose of the programme")).to_have_value("Report on border trade along the Mekong")

    day_1 = day_fieldset(page, 1)
    expect(day_1.get_by_label("Date")).to_have_value(start.isoformat())  # it follows the first day
    # The place is found by typing, without accents; a border-area place says what it means at once.
    day_1.get_by_label("Place", exact=True).fill("xa bien")
    day_1.get_by_label("Place", exact=True).press("Tab")
    expect(day_1.get_by_label("Place", exact=True)).to_have_value("Xã Biên Giới (en) (border area)")
    expect(day_1.get_by_text("Border area: the province consults the border guard or the police")).to_be_visible()
    day_1.get_by_label("Activity").fill("Film the border market at dawn")
    day_2 = day_fieldset(page, 2)
    day_2.get_by_label("Date").fill((start + timedelta(days=1)).isoformat())
    day_2.get_by_label("Or another place").fill("Tây Ninh fishing port")
    day_2.get_by_label("Activity").fill("Interview fishermen")
    form.get_by_label("Publication plan").fill("Evening news, NRK, two weeks after the visit")
    form.get_by_label("We will carry out only the approved programme").check()
    click_and_wait(page, form.get_by_role("button", name="Save draft"))
    expect(page.get_by_text("Draft saved.", exact=True)).to_be_visible()

    # She leaves, comes back, and finds the draft as she left it.
    nav_link(page, "My registrations").click()
    row = page.get_by_role("row").filter(has_text=reference)
    expect(row).to_contain_text("draft")
    expect(row).to_contain_text("Complete and submit the registration.")
    row.get_by_role("link", name=reference).click()
    expect(page.get_by_role("heading", name=reference)).to_be_visible()
    page.get_by_role("link", name="Open the form").click()
    expect(page).to_have_url(edit_url)
    form = page.get_by_role("main")
    expect(form.get_by_label("MOFA press permit number")).to_have_value("01/BC-2027-77")
    expect(form.get_by_label(member.full_name)).to_be_checked()
    expect(form.get_by_label("Purpose of the programme")).to_have_value("Report on border trade along the Mekong")
    expect(form.get_by_label("Content and topics")).to_have_value("Cross-border markets, farmers, customs")
    expect(form.get_by_label("First day")).to_have_value(start.isoformat())
    expect(form.get_by_label("Last day")).to_have_value(end.isoformat())
    expect(day_fieldset(page, 1).get_by_label("Date")).to_have_value(start.isoformat())
    expect(day_fieldset(page, 1).get_by_label("Place", exact=True)).to_have_value("Xã Biên Giới (en) (border area)")
    expect(day_fieldset(page, 1).locator("select")).to_have_value(str(border_place.id))
    expect(day_fieldset(page, 1).get_by_label("Activity")).to_have_value("Film the border market at dawn")
    expect(day_fieldset(page, 2).get_by_label("Date")).to_have_value((start + timedelta(days=1)).isoformat())
    expect(day_fieldset(page, 2).get_by_label("Place", exact=True)).to_have_value("")
    expect(day_fieldset(page, 2).get_by_label("Or another place")).to_have_value("Tây Ninh fishing port")
    expect(form.get_by_label("Publication plan")).to_have_value("Evening news, NRK, two weeks after the visit")
    expect(form.get_by_label("We will carry out only the approved programme")).to_be_checked()

    # The documents.
    # The documents: the first required one still missing is offered first; choosing a file attaches it.
    attachments = page.locator("section#attachments")
    expect(attachments).to_contain_text("No attachments yet.")
    expect(attachments.get_by_label("Document")).to_have_value("mofa_permit")
    attachments.get_by_label("File (PDF, JPEG or PNG)").set_input_files(permit_file)
    expect(attachments.get_by_role("link", name="mofa-permit.pdf")).to_be_visible()
    expect(page.locator("#form-messages")).to_contain_text("Attached: mofa-permit.pdf.")
    expect(attachments.get_by_label("Document")).to_have_value("passport")
    attachments.get_by_label("File (PDF, JPEG or PNG)").set_input_files(passport_file)
    expect(attachments.get_by_role("link", name="passport-page.png")).to_be_visible()
    expect(attachments.get_by_role("listitem").filter(has_text="mofa-permit.pdf")).to_contain_text(
        "the MOFA press permit")
    expect(attachments.get_by_role("listitem").filter(has_text="passport-page.png")).to_contain_text(
        "passport page")

    page.get_by_role("button", name="Submit to the province").click()
    expect(page.get_by_text(SUBMITTED)).to_be_visible()
    expect(status_badge(page, "submitted")).to_be_visible()
    expect(page.get_by_text("What you need to do: Nothing: the province will review it.")).to_be_visible()
    # The browser keeps the "#attachments" of the page the form was sent from.
    detail_url = page.url.split("#")[0]

    # wait_for_mail returns as soon as the address has any mail: before each step that mails the
    # correspondent again, the mailbox is emptied (each earlier message has been waited for).
    [receipt] = wait_for_mail(mailbox, correspondent.email)
    assert receipt["Subject"] == f"We received your registration {reference}"
    [to_review] = wait_for_mail(mailbox, officer.email)
    assert to_review["Subject"] == f"Registration {reference} to review"

    # --- 2. The officer takes it and asks for more information. ------------------------------------
    staff = new_page()
    log_in(staff, base, officer)
    nav_link(staff, "Registrations").click()
    queue_row = staff.get_by_role("row").filter(has_text=reference)
    expect(queue_row).to_contain_text("border area")
    expect(queue_row).to_contain_text("submitted")
    queue_row.get_by_role("link", name=reference).click()
    expect(staff.get_by_role("heading", name=reference)).to_be_visible()
    expect(status_badge(staff, "submitted")).to_be_visible()
    expect(section(staff, "Itinerary")).to_contain_text("border area")

    assign = section(staff, "Assign")
    assign.get_by_label("Officer in charge").select_option(label=officer.full_name)
    assign.get_by_role("button", name="Assign").click()
    expect(staff.get_by_text("Assigned.", exact=True)).to_be_visible()
    expect(status_badge(staff, "in review")).to_be_visible()
    expect(staff.get_by_text(f"Assigned to {officer.full_name}")).to_be_visible()

    mailbox.clear()
    request_info = section(staff, "Request information")
    expect(request_info).to_contain_text("The correspondent reads English.")
    request_info.get_by_label("English text").fill(INFO_NEEDED)
    request_info.get_by_label("Vietnamese text").fill("Đề nghị gửi thư giao nhiệm vụ của ban biên tập.")
    request_info.get_by_role("button", name="Request information").click()
    expect(staff.get_by_text("The correspondent is asked for information.", exact=True)).to_be_visible()
    expect(status_badge(staff, "information requested")).to_be_visible()

    # --- 3. The correspondent answers and submits again. -------------------------------------------
    [info_mail] = wait_for_mail(mailbox, correspondent.email)
    assert info_mail["Subject"] == f"Information needed for registration {reference}"
    assert INFO_NEEDED in mailbox.text(info_mail) and "Đề nghị" not in mailbox.text(info_mail)
    page.goto(base + link_in(mailbox.text(info_mail), "/registrations/"))
    expect(page).to_have_url(detail_url)
    expect(status_badge(page, "information requested")).to_be_visible()
    messages = section(page, "Messages")
    expect(messages).to_contain_text(INFO_NEEDED)
    expect(messages).to_contain_text("request for information")
    messages.get_by_label("Message", exact=True).fill(REPLY)
    messages.get_by_role("button", name="Send the message").click()
    expect(page.get_by_text("Message sent.", exact=True)).to_be_visible()
    expect(section(page, "Messages")).to_contain_text(REPLY)

    page.get_by_role("link", name="Open the form").click()
    expect(page.get_by_text("The province asks for more information:")).to_be_visible()
    expect(page.get_by_role("main").get_by_text(INFO_NEEDED)).to_be_visible()
    mailbox.clear()
    page.get_by_role("button", name="Submit to the province").click()
    expect(page.get_by_text(SUBMITTED)).to_be_visible()
    # Resubmitted, it goes straight back to its officer, in review: nobody assigns it again.
    expect(status_badge(page, "in review")).to_be_visible()
    [second_receipt] = wait_for_mail(mailbox, correspondent.email)
    assert second_receipt["Subject"] == f"We received your registration {reference}"
    [back_to_review] = wait_for_mail(mailbox, officer.email)
    assert back_to_review["Subject"] == f"Registration {reference} to review"

    # --- 4. The officer resumes the review, consults the border guard, proposes the decision. ---------
    staff.reload()
    expect(status_badge(staff, "in review")).to_be_visible()
    expect(section(staff, "Messages")).to_contain_text(REPLY)
    expect(staff.get_by_text(f"Assigned to {officer.full_name}")).to_be_visible()

    consultations = section(staff, "Consultations")
    expect(consultations).to_contain_text("No consultations.")
    consultations.get_by_label("Body consulted").select_option(label=BORDER_GUARD)
    consultations.get_by_label("Questions for the body").fill("Can the crew film at the border market?")
    consultations.get_by_role("button", name="Issue the consultation letter").click()
    expect(staff.get_by_text("Consultation letter issued.", exact=False)).to_be_visible()
    expect(section(staff, "Consultations")).to_contain_text(f"Border guard: {BORDER_GUARD}")

    decision = staff.locator("#decision")
    decision.get_by_label("approve", exact=True).check()
    decision.get_by_label("Summary quoted by the letter (Vietnamese)").fill(
        "Thực hiện phóng sự về thương mại biên giới dọc sông Mê Kông.")
    decision.get_by_label("Summary for the English courtesy page").fill("A report on border trade along the Mekong")
    decision.get_by_label("Escort officer").select_option(label=f"{ESCORT_NAME}, {ESCORT_TITLE} · {ESCORT_PHONE}")
    decision.get_by_label("Conditions (Vietnamese, one per line)").fill(CONDITIONS_VI)
    decision.get_by_label("Conditions (English, one per line)").fill(CONDITIONS_EN)
    decision.get_by_role("button", name="Propose to the leader").click()
    expect(staff.get_by_text("Proposal sent to the leaders", exact=False)).to_be_visible()

    # --- 5. The leader cannot approve before the border guard has answered. -------------------------
    head = new_page()
    log_in(head, base, leader)
    nav_link(head, "Registrations").click()
    head.get_by_role("row").filter(has_text=reference).get_by_role("link", name=reference).click()
    expect(status_badge(head, "in review")).to_be_visible()
    blocker = head.get_by_role("status").filter(has_text="The itinerary includes a border area")
    expect(blocker).to_have_count(1)
    expect(blocker).to_contain_text("record the answer of the border guard or the police before approving")
    # The leader reads the officer's draft: the conditions and the escort she would approve.
    decision = head.locator("#decision")
    expect(decision).to_contain_text(CONDITIONS_VI)
    expect(decision).to_contain_text(f"{ESCORT_NAME}, {ESCORT_TITLE}, {ESCORT_PHONE}")
    # The border guard's consultation is recorded, but its answer is not yet (the officer's tools are folded).
    head.get_by_text("The officer's tools", exact=False).click()
    expect(section(head, "Consultations")).to_contain_text(f"Border guard: {BORDER_GUARD}")
    expect(section(head, "Consultations").get_by_role("button", name="Record the answer")).to_be_visible()
    # The button is disabled and says why (the server refuses it too: a 409, tested over HTTP).
    button = decision.get_by_role("button", name="Approve and issue the documents")
    expect(button).to_be_disabled()
    expect(button).to_have_accessible_description(re.compile("record the answer of the border guard"))
    expect(status_badge(head, "in review")).to_be_visible()

    # --- 6. The border guard agrees; the leader approves. --------------------------------------------
    consultations = section(staff, "Consultations")
    consultations.get_by_label("Number of the reply letter").fill("125/BCH-TM")
    consultations.get_by_label("Date of the reply letter").fill(local_today().isoformat())
    consultations.get_by_label("Opinion").select_option(label="agrees")
    consultations.get_by_label("Summary of the reply").fill("No objection; the crew stays 1 km from the border line.")
    mailbox.clear()
    consultations.get_by_role("button", name="Record the answer").click()
    expect(staff.get_by_text("Answer recorded.", exact=True)).to_be_visible()
    expect(section(staff, "Consultations")).to_contain_text("agrees")

    nav_link(head, "Registrations").click()
    head.get_by_role("row").filter(has_text=reference).get_by_role("link", name=reference).click()
    expect(head.get_by_role("heading", name=reference)).to_be_visible()
    expect(head.get_by_role("status").filter(has_text="The itinerary includes a border area")).to_have_count(0)
    head.locator("#decision").get_by_role("button", name="Approve and issue the documents").click()
    expect(head.get_by_text("Approved. The documents are numbered and issued, and the correspondent is informed.",
                            exact=True)).to_be_visible()
    expect(status_badge(head, "approved")).to_be_visible()
    escort_line = f"Escort or contact officer: {ESCORT_NAME}, {ESCORT_TITLE}, {ESCORT_PHONE}"
    expect(head.get_by_text(escort_line)).to_be_visible()

    # --- 7. The correspondent sees the approval. ------------------------------------------------------
    nav_link(page, "My registrations").click()
    expect(page.get_by_role("heading", name="My registrations")).to_be_visible()
    row = page.get_by_role("row").filter(has_text=reference)
    expect(row.get_by_role("cell").nth(1)).to_have_text("approved")
    expect(row).to_contain_text("Carry the approval letter and the permits")
    [approval] = wait_for_mail(mailbox, correspondent.email)
    assert approval["Subject"] == f"Registration {reference} is approved"
    assert ESCORT_NAME in mailbox.text(approval)
    assert ESCORT_PHONE in mailbox.text(approval)
    # The conditions are the officer's draft, in the correspondent's language.
    assert CONDITIONS_EN in mailbox.text(approval) and CONDITIONS_VI not in mailbox.text(approval)
    row.get_by_role("link", name=reference).click()
    expect(page.get_by_text(escort_line)).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text(CONDITIONS_EN)
    # The province's internal steps stay internal.
    expect(section(page, "Timeline")).not_to_contain_text("Consultation")

    # The key emails of the journey, as the SMTP server received them.
    subjects = [receipt["Subject"], info_mail["Subject"], second_receipt["Subject"], approval["Subject"]]
    assert subjects == [f"We received your registration {reference}",
                        f"Information needed for registration {reference}",
                        f"We received your registration {reference}",
                        f"Registration {reference} is approved"]
    assert {message["To"] for message in (receipt, info_mail, second_receipt, approval)} == {correspondent.email}

