"""The correspondent's registration form in a real browser, on a phone: nothing typed is lost, a
refused submission says where, a wrong file can be removed, an earlier registration duplicated,
and a whole registration submitted in fewer than 10 taps once the crew exists."""
from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa
from PIL import Image
from playwright.sync_api import expect

from app.auth.models import Role
from app.clock import local_today
from app.extensions import db
from app.registrations.models import Attachment, Registration, Status
from tests.conftest import TINY_PDF
from tests.e2e.test_registration_journey import log_in

PHONE = {"width": 390, "height": 844}


class Taps:
    """Counts what the user taps (buttons, links, boxes, file choosers) and the pages loaded;
    typing into a field is not a tap."""

    def __init__(self, page):
        self.page, self.count, self.loads = page, 0, 0
        page.on("load", self._loaded)

    def _loaded(self, _page):
        self.loads += 1

    def tap(self, locator):
        self.count += 1
        locator.click()

    def choose_file(self, locator, path):
        self.count += 1  # the tap on "Choose file", then the file picked in the phone's picker
        locator.set_input_files(path)


def phone_page(new_page):
    page = new_page()
    page.set_viewport_size(PHONE)
    return page


def test_a_new_registration_is_submitted_from_a_phone_in_under_ten_taps(new_page, live_server, app, tmp_path,
                                                                        make_user, make_outlet, make_crew_member,
                                                                        make_place):
    correspondent = make_user(Role.correspondent, locale="en", full_name="Jane Reporter")
    outlet = make_outlet(correspondents=[correspondent])
    member = make_crew_member(outlet)
    make_place(name="Phường Tân Ninh")
    start = local_today() + timedelta(days=40)
    permit_file, passport_file = tmp_path / "permit.pdf", tmp_path / "passport.png"
    permit_file.write_bytes(TINY_PDF)
    Image.new("RGB", (60, 40), "navy").save(passport_file)

    page = phone_page(new_page)
    log_in(page, live_server.url, correspondent)
    page.goto(live_server.url + "/my/registrations")
    taps = Taps(page)
    taps.tap(page.get_by_role("link", name="New registration"))
    taps.tap(page.get_by_role("button", name="Start the registration"))
    form = page.get_by_role("main")
    form.get_by_label("MOFA press permit number").fill("01/BC-2027-77")
    taps.tap(form.get_by_label(member.full_name))
    form.get_by_label("Purpose of the programme").fill("A report on the province's rice harvest")
    form.get_by_label("Content and topics").fill("Farmers, cooperatives, climate")
    form.get_by_label("First day").fill(start.isoformat())
    form.get_by_label("Last day").fill((start + timedelta(days=1)).isoformat())
    day = page.get_by_role("group", name="Day 1", exact=True)
    expect(day.get_by_label("Date")).to_have_value(start.isoformat())  # followed the first day
    day.get_by_label("Place", exact=True).fill("tan ninh")
    taps.tap(page.locator("body"))  # the tap that closes the suggestions (and leaves the field)
    expect(day.get_by_label("Place", exact=True)).to_have_value("Phường Tân Ninh (en)")
    day.get_by_label("Activity").fill("Film the harvest")
    form.get_by_label("Publication plan").fill("Evening news, next month")
    attachments = page.locator("section#attachments")
    taps.choose_file(attachments.get_by_label("File (PDF, JPEG or PNG)"), permit_file)
    expect(attachments.get_by_role("link", name="permit.pdf")).to_be_visible()
    taps.choose_file(attachments.get_by_label("File (PDF, JPEG or PNG)"), passport_file)
    expect(attachments.get_by_role("link", name="passport.png")).to_be_visible()
    taps.tap(form.get_by_label("We will carry out only the approved programme"))
    taps.tap(form.get_by_role("button", name="Submit to the province"))
    expect(page.get_by_text(re.compile(r"^Submitted\. The province replies by"))).to_be_visible()
    assert taps.count < 10, f"{taps.count} taps"
    assert taps.loads <= 3, f"{taps.loads} page loads"  # the new page, the form, the submitted registration
    print(f"submitted in {taps.count} taps and {taps.loads} page loads")
    with app.app_context():
        registration = db.session.scalar(sa.select(Registration))
        assert registration.status is Status.submitted and len(registration.attachments) == 2
        assert registration.itinerary[0].day == start


def test_attaching_before_saving_keeps_the_purpose_without_javascript(browser, live_server, app, tmp_path,
                                                                      make_registration):
    registration, correspondent = make_registration(Status.draft)
    context = browser.new_context(java_script_enabled=False, locale="en-US", viewport=PHONE)
    try:
        page = context.new_page()
        log_in(page, live_server.url, correspondent)
        page.goto(f"{live_server.url}/registrations/{registration.id}/edit")
        form = page.get_by_role("main")
        form.get_by_label("Purpose of the programme").fill("Typed, then a file attached, never saved by hand")
        file = tmp_path / "card.pdf"
        file.write_bytes(TINY_PDF)
        form.get_by_label("Document").select_option(label="Press card")
        form.get_by_label("File (PDF, JPEG or PNG)").set_input_files(file)
        form.get_by_role("button", name="Attach the file").click()
        expect(page.get_by_text("Draft saved. Attached: card.pdf.")).to_be_visible()
        expect(form.get_by_label("Purpose of the programme")).to_have_value(
            "Typed, then a file attached, never saved by hand")
    finally:
        context.close()


def test_a_wrong_attachment_is_removed_after_confirmation(new_page, live_server, app, make_registration):
    registration, correspondent = make_registration(Status.draft)
    with app.app_context():
        wrong = db.session.scalars(sa.select(Attachment).where(Attachment.registration_id == registration.id)).first()
        wrong_name = wrong.original_filename
    page = phone_page(new_page)
    log_in(page, live_server.url, correspondent)
    page.goto(f"{live_server.url}/registrations/{registration.id}/edit")
    page.get_by_role("main").get_by_label("Purpose of the programme").fill("Typed before removing")
    item = page.locator("section#attachments li").filter(has=page.get_by_role("link", name=wrong_name))
    confirm = item.get_by_role("button", name=f"Yes, remove {wrong_name}")
    expect(confirm).to_be_hidden()  # one tap to ask, a second to confirm
    item.get_by_text("Remove…").click()
    confirm.click()
    expect(page.locator("#form-messages")).to_contain_text(f"Removed: {wrong_name}.")
    expect(page.locator("section#attachments").get_by_role("link", name=wrong_name)).to_have_count(0)
    with app.app_context():
        assert db.session.get(Attachment, wrong.id) is None
        assert db.session.get(Registration, registration.id).purpose == "Typed before removing"


def test_a_refused_submission_focuses_the_summary_which_names_the_missing_field(new_page, live_server,
                                                                                 make_registration):
    registration, correspondent = make_registration(Status.draft)
    page = phone_page(new_page)
    log_in(page, live_server.url, correspondent)
    page.goto(f"{live_server.url}/registrations/{registration.id}/edit")
    form = page.get_by_role("main")
    form.get_by_label("Purpose of the programme").fill("")
    form.get_by_role("button", name="Submit to the province").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("1 thing to correct before submitting")
    link = summary.get_by_role("link", name="Write the purpose of the programme.")
    link.click()
    expect(form.get_by_label("Purpose of the programme")).to_be_focused()
    expect(page.locator("#purpose-error")).to_have_text("Write the purpose of the programme.")


def test_an_earlier_registration_is_duplicated_with_the_dates_left_to_fill(new_page, live_server, app,
                                                                           make_registration):
    registration, correspondent = make_registration(Status.approved)
    page = phone_page(new_page)
    log_in(page, live_server.url, correspondent)
    page.goto(f"{live_server.url}/registrations/{registration.id}")
    page.get_by_role("button", name="Duplicate this registration").click()
    expect(page.get_by_text(f"copied from {registration.reference}")).to_be_visible()
    form = page.get_by_role("main")
    expect(form.get_by_label("Purpose of the programme")).to_have_value(registration.purpose)
    expect(form.get_by_label("First day")).to_have_value("")
    expect(page.get_by_role("group", name="Day 1", exact=True).get_by_label("Activity")).to_have_value(
        "Film the harvest")
    with app.app_context():
        copy = db.session.scalar(sa.select(Registration).where(Registration.copied_from_id == registration.id))
        assert copy.status is Status.draft and copy.start_date is None and not copy.attachments
        assert [member.id for member in copy.crew_members] == [
            member.id for member in db.session.get(Registration, registration.id).crew_members]
