"""The post-visit report in a real browser: after the visit the correspondent reports an article with
a screenshot, the officer is told by email, accepts it, evaluates it, finds it in the product list
and downloads the list as XLSX."""
from __future__ import annotations

import io
import re
from datetime import timedelta

import openpyxl
from PIL import Image
from playwright.sync_api import expect

from app.clock import local_today
from app.auth.models import Role
from app.registrations.models import Status
from tests.e2e.conftest import wait_for_mail
from tests.e2e.test_registration_journey import log_in, nav_link
from tests.support import link_in

TITLE = "Pilgrims climb the mountain before dawn"
URL = "https://lequotidien.example/2026/pilgrims-ba-den"


def test_correspondent_reports_a_publication_and_staff_evaluate_it(new_page, live_server, mailbox, tmp_path,
                                                                   make_user, make_registration, db):
    officer = make_user(Role.officer, locale="en", full_name="Lan Officer")
    registration, correspondent = make_registration(Status.completed, start_in_days=-12, days=3,
                                                    assigned_to=officer)
    screenshot = tmp_path / "front-page.png"
    Image.new("RGB", (320, 200), (240, 240, 230)).save(screenshot)
    published_on = local_today() - timedelta(days=3)

    # The correspondent finds the report from the registration page.
    reporter = new_page()
    log_in(reporter, live_server.url, correspondent)
    nav_link(reporter, "My registrations").click()
    reporter.get_by_role("link", name=registration.reference).click()
    expect(reporter.get_by_role("heading", name="Publications from this visit")).to_be_visible()
    reporter.get_by_role("link", name="Report what you published").click()
    expect(reporter.get_by_role("heading", name="What did you publish about your visit?")).to_be_visible()

    # A first try without a link is refused, with the message next to the field, and nothing is lost.
    reporter.get_by_label("Title", exact=True).fill(TITLE)
    reporter.get_by_label("Type", exact=True).select_option(label="article")
    reporter.get_by_label("Channel", exact=True).select_option(label="website")
    reporter.get_by_label("Publication date").fill(published_on.isoformat())
    languages = reporter.get_by_role("group", name="Languages")
    languages.get_by_label("French", exact=True).check()
    languages.get_by_label("English", exact=True).check()
    countries = reporter.get_by_role("group", name="Target countries")
    countries.get_by_label("France", exact=True).check()
    countries.get_by_label("Belgium", exact=True).check()
    reporter.get_by_label("Reach", exact=True).fill("64,000")
    reporter.get_by_role("button", name="Report this publication").click()
    expect(reporter.get_by_text("Give the web address of the publication.")).to_be_visible()
    expect(reporter.get_by_label("Title", exact=True)).to_have_value(TITLE)
    reporter.get_by_label("Web address (URL)").fill(URL)
    reporter.get_by_label("Screenshot or PDF of the publication (optional)").set_input_files(str(screenshot))
    reporter.get_by_role("button", name="Report this publication").click()
    expect(reporter.get_by_text("Thank you: the publication is reported to the province.")).to_be_visible()
    reported_row = reporter.get_by_role("row", name=re.compile(TITLE))
    expect(reported_row).to_contain_text("reported, waiting for review")
    expect(reported_row).to_contain_text("64,000")

    # The officer is told by email and reviews it from the link.
    [mail] = wait_for_mail(mailbox, officer.email)
    assert mail["Subject"] == f"{registration.reference}: a publication was reported"
    text = mailbox.text(mail)
    staff = new_page()
    log_in(staff, live_server.url, officer)
    staff.goto(live_server.url + link_in(text, "/products/"))
    expect(staff.get_by_role("heading", name=TITLE)).to_be_visible()
    expect(staff.get_by_role("link", name="front-page.png")).to_be_visible()
    staff.get_by_role("button", name="Accept the reported product").click()
    expect(staff.get_by_text("The reported product is accepted.")).to_be_visible()
    staff.get_by_label("Evaluation", exact=True).select_option(label="positive")
    staff.get_by_label("Why").fill("Accurate and warm; mentions the province's festival calendar.")
    staff.get_by_role("button", name="Save the evaluation").click()
    expect(staff.get_by_text("The evaluation is saved.")).to_be_visible()
    expect(staff.locator(".badge", has_text="positive")).to_be_visible()

    # The product list finds it by language; the XLSX holds what the list shows.
    nav_link(staff, "Products").click()
    staff.get_by_role("combobox", name="Language").select_option("fr")
    staff.get_by_role("button", name="Filter").click()
    expect(staff.get_by_role("link", name=TITLE)).to_be_visible()
    with staff.expect_download() as download:
        staff.get_by_role("link", name="Download XLSX").click()
    sheet = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes())).active
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [row[1] for row in rows] == [TITLE]
    headers = [cell.value for cell in sheet[1]]
    assert rows[0][headers.index("Reach")] == 64_000
    assert rows[0][headers.index("Evaluation")] == "positive"

    # The correspondent sees it accepted and can no longer change it.
    reporter.reload()
    expect(reporter.get_by_role("row", name=re.compile(TITLE))).to_contain_text("accepted")
    expect(reporter.get_by_role("link", name="Correct it")).to_have_count(0)
