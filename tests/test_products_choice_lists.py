"""The report form's languages and countries: checkbox lists, the likely ones first, the same
field names and values submitted as before."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.auth.models import Role
from app.countries import collation_key
from app.products.models import Product
from app.registrations.models import Status
from tests.support import login, post_form
from tests.test_products import report_form


@pytest.fixture
def visit(make_registration):
    """A completed visit of an outlet from Norway, logged in as its correspondent."""
    return make_registration(Status.completed, start_in_days=-10, days=3)


def fieldset(html: str, name: str) -> str:
    start = html.index(f'<fieldset class="mb-3" id="{name}"')
    return html[start:html.index("</fieldset>", start)]


def codes(section: str, name: str) -> list[str]:
    return re.findall(rf'name="{name}" type="checkbox" value="([^"]+)"', section) or \
        re.findall(rf'type="checkbox" value="([^"]+)"', section)


def likely_and_others(html: str, name: str) -> tuple[list[str], list[str]]:
    section = fieldset(html, name)
    likely, others = section.split(f'id="{name}-others"')
    return codes(likely, name), codes(others, name)


def labels(section: str) -> list[str]:
    return re.findall(r"<label[^>]*>([^<]+)</label>", section)


def test_the_lists_are_checkboxes_with_the_likely_ones_first(client, visit):
    registration, correspondent = visit
    login(client, correspondent.email)
    page = client.get(f"/registrations/{registration.id}/report").get_data(as_text=True)
    languages, other_languages = likely_and_others(page, "languages")
    countries, other_countries = likely_and_others(page, "countries")
    assert "<select" not in fieldset(page, "languages") and "Likely" in fieldset(page, "languages")
    # The outlet is Norwegian: its language and country first, then Vietnamese/Vietnam and English.
    assert languages == ["no", "vi", "en"]
    assert countries == ["NO", "VN"]
    assert not set(languages) & set(other_languages) and not set(countries) & set(other_countries)
    assert len(other_countries) > 190 and len(other_languages) > 150
    # The others in alphabetical order of the page's language (English here).
    names = labels(fieldset(page, "countries").split('id="countries-others"')[1])
    assert names == sorted(names, key=collation_key) and names[0] == "Afghanistan"
    # The filter script, ours, deferred; no inline script.
    assert '<script src="/static/js/choice-filter.js" defer></script>' in page
    assert "<script>" not in page


def test_the_others_follow_the_vietnamese_alphabet_on_a_vietnamese_page(client, make_user, make_registration):
    correspondent = make_user(Role.correspondent, locale="vi")
    registration, _same = make_registration(Status.completed, start_in_days=-10, days=3, correspondent=correspondent)
    login(client, correspondent.email)
    page = client.get(f"/registrations/{registration.id}/report").get_data(as_text=True)
    names = labels(fieldset(page, "countries").split('id="countries-others"')[1])
    assert names == sorted(names, key=collation_key) and collation_key(names[0])[0].startswith("a")
    assert "Ấn Độ" in names and names.index("Ấn Độ") < names.index("Bỉ")  # Ấ among the A's
    likely = labels(fieldset(page, "countries").split('id="countries-others"')[0])
    assert likely == ["Na Uy", "Việt Nam"]


def test_languages_and_countries_of_earlier_products_become_likely(client, db, visit):
    registration, correspondent = visit
    login(client, correspondent.email)
    response = post_form(client, f"/registrations/{registration.id}/report",
                         report_form(languages=["fr", "ja"], countries=["FR", "JP"]))
    assert response.status_code == 302
    page = client.get(f"/registrations/{registration.id}/report").get_data(as_text=True)
    languages, _others = likely_and_others(page, "languages")
    countries, _others = likely_and_others(page, "countries")
    assert languages == ["no", "vi", "en", "fr", "ja"]
    assert countries == ["NO", "VN", "FR", "JP"]


def test_the_form_submits_the_same_names_and_values(client, db, visit):
    registration, correspondent = visit
    login(client, correspondent.email)
    response = post_form(client, f"/registrations/{registration.id}/report",
                         report_form(languages=["vi", "de"], countries=["DE", "AT", "VN"]))
    assert response.status_code == 302
    product = db.session.scalar(sa.select(Product))
    assert sorted(product.languages) == ["de", "vi"] and sorted(product.countries) == ["AT", "DE", "VN"]


def test_a_value_not_in_the_list_is_refused_and_the_choices_stay_ticked(client, db, visit):
    registration, correspondent = visit
    login(client, correspondent.email)
    response = post_form(client, f"/registrations/{registration.id}/report",
                         report_form(languages=["vi", "xx"], countries=["DE"]))
    assert response.status_code == 422 and db.session.scalar(sa.select(Product)) is None
    section = fieldset(response.get_data(as_text=True), "countries")
    assert re.search(r'checked[^>]*value="DE"|value="DE"[^>]*checked', section)


def test_the_staff_form_uses_the_same_lists(client, make_user, make_outlet):
    login(client, make_user(Role.officer).email)
    make_outlet()
    page = client.get("/staff/products/new").get_data(as_text=True)
    languages, _others = likely_and_others(page, "languages")
    countries, _others = likely_and_others(page, "countries")
    assert languages[:2] == ["vi", "en"] and countries[:1] == ["VN"]
