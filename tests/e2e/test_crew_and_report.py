"""In a real browser: a crew-member form sent back with an error still shows the photo chosen, and
saves it; the report form's country list narrows as the correspondent types into its filter."""
from __future__ import annotations

import sqlalchemy as sa
from PIL import Image
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from app.auth.models import Role
from app.outlets.models import CrewMember
from app.registrations.models import Status
from tests.conftest import TEST_PASSWORD
from tests.e2e.test_registration_journey import log_in


def fits_a_phone_and_passes_axe(page) -> None:
    """At 390 px: no sideways scroll, no serious or critical axe-core violation."""
    page.set_viewport_size({"width": 390, "height": 900})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    violations = [(violation["id"], [node["target"] for node in violation["nodes"]])
                  for violation in Axe().run(page).response["violations"]
                  if violation["impact"] in ("serious", "critical")]
    assert violations == []
    page.set_viewport_size({"width": 1280, "height": 900})


def test_a_crew_form_with_an_error_keeps_the_photo(new_page, live_server, tmp_path, db, make_user, make_outlet):
    correspondent = make_user(Role.correspondent, full_name="Ingrid Larsen")
    make_outlet(correspondents=[correspondent])
    photo = tmp_path / "ingrid.jpg"
    Image.new("RGB", (450, 600), (200, 170, 150)).save(photo)
    page = new_page()
    log_in(page, live_server.url, correspondent)
    page.goto(live_server.url + "/outlet/crew/new")
    page.get_by_label("Full name as in the passport").fill("Ingrid Larsen")
    page.get_by_label("Nationality").select_option("NO")
    page.get_by_label("Date of birth").fill("1985-04-12")
    # No passport number: the form comes back with that error.
    page.get_by_label("Passport valid until").fill("2030-01-01")
    page.get_by_label("Photo (JPEG or PNG, for the permit)").set_input_files(str(photo))
    page.get_by_role("button", name="Save the crew member").click()
    expect(page.get_by_text("Some fields need attention.")).to_be_visible()
    expect(page.get_by_text("Kept: the photo you chose")).to_be_visible()
    kept = page.get_by_role("img", name="The photo you chose")
    expect(kept).to_be_visible()
    assert page.evaluate("(img) => img.complete && img.naturalWidth > 0", kept.element_handle())
    box = kept.bounding_box()  # cropped as the permit prints it: 3:4
    assert abs(box["width"] / box["height"] - 0.75) < 0.03
    fits_a_phone_and_passes_axe(page)

    page.get_by_label("Passport number").fill("N1234567")
    page.get_by_label("This person was given the privacy notice").check()
    page.get_by_role("button", name="Save the crew member").click()
    expect(page.get_by_text("The crew member is saved.")).to_be_visible()
    member = db.session.scalar(sa.select(CrewMember))
    assert member.photo_stored_name and member.photo_content_type == "image/jpeg"
    expect(page.get_by_role("img", name="Photo of Ingrid Larsen")).to_be_visible()


def test_typing_into_the_country_filter_narrows_the_list(new_page, live_server, make_registration):
    registration, correspondent = make_registration(Status.completed, start_in_days=-10, days=3)
    page = new_page()
    log_in(page, live_server.url, correspondent)
    page.goto(live_server.url + f"/registrations/{registration.id}/report")
    countries = page.get_by_role("group", name="Target countries")
    options = countries.get_by_role("checkbox")
    everything = options.count()
    assert everything > 190
    expect(countries.get_by_text("Likely")).to_be_visible()

    # Chosen before filtering: still counted, still sent, even when the filter hides it.
    countries.get_by_label("Norway", exact=True).check()
    expect(countries.get_by_text("1 chosen")).to_be_visible()

    fits_a_phone_and_passes_axe(page)
    search = countries.get_by_role("searchbox", name="Find in the list")
    search.fill("viet")  # no accent, lower case
    visible = countries.locator("li:visible")
    expect(visible).to_have_count(1)
    expect(visible.first).to_contain_text("Vietnam")
    expect(countries.get_by_text("Likely")).to_be_visible()  # Vietnam is a likely one
    countries.get_by_label("Vietnam", exact=True).check()
    expect(countries.get_by_text("2 chosen")).to_be_visible()

    search.fill("zzz")
    expect(visible).to_have_count(0)
    expect(countries.get_by_text("Nothing matches.")).to_be_visible()
    search.fill("")
    expect(visible).to_have_count(everything)
    assert countries.get_by_label("Norway", exact=True).is_checked()


def test_the_filter_ignores_accents_on_a_vietnamese_page(new_page, live_server, make_user, make_registration):
    correspondent = make_user(Role.correspondent, locale="vi")
    registration, _same = make_registration(Status.completed, start_in_days=-10, days=3, correspondent=correspondent)
    page = new_page()
    page.goto(live_server.url + "/login")
    page.get_by_label("Email address").fill(correspondent.email)
    page.get_by_label("Password", exact=True).fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(live_server.url + f"/registrations/{registration.id}/report")
    countries = page.locator("fieldset#countries")
    countries.get_by_role("searchbox").fill("duc")
    expect(countries.locator("li:visible")).to_contain_text(["Đức"])
    countries.get_by_role("searchbox").fill("japan")  # the English name finds "Nhật Bản"
    expect(countries.locator("li:visible")).to_have_text(["Nhật Bản"])
