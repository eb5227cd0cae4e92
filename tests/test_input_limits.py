"""Bad input found by trying: each gets a message and a 4xx, never a 500, and nothing is half-saved."""
from __future__ import annotations

import io
from datetime import date, timedelta

import openpyxl
import pytest
import sqlalchemy as sa

from app.auth.models import Role, User
from app.clock import local_today
from app.documents.models import IssuedDocument
from app.extensions import db as app_db
from app.products.models import Product
from app.products.service import url_key
from app.registrations.models import Registration, Status
from tests.support import csrf_token, login, post_form, propose
from tests.test_products import staff_form


# --- far-future dates -------------------------------------------------------------------

def _edit_data(client, registration, **overrides) -> dict:
    current_page = f"/registrations/{registration.id}/edit"
    data = {"csrf_token": csrf_token(client, current_page), "kind": registration.kind.name,
            "purpose": registration.purpose, "content": registration.content,
            "start_date": registration.start_date.isoformat(), "end_date": registration.end_date.isoformat(),
            "publication_plan": registration.publication_plan, "mofa_permit_number": registration.mofa_permit_number,
            "crew_member_ids": [str(member.id) for member in registration.crew_members],
            "version": str(registration.version), "pledge": "y",
            "itinerary-0-day": registration.start_date.isoformat(),
            "itinerary-0-place_id": str(registration.itinerary[0].place_id),
            "itinerary-0-activity": "Film the harvest"}
    data.update(overrides)
    return data


@pytest.fixture
def draft(app, db, make_registration):
    registration, correspondent = make_registration(Status.draft)
    registration = db.session.get(Registration, registration.id)
    _ = registration.crew_members, registration.itinerary
    return registration, correspondent


@pytest.mark.parametrize("field", ["end_date", "start_date"])
def test_a_far_future_programme_date_is_refused_with_a_message(client, db, draft, field):
    registration, correspondent = draft
    login(client, correspondent.email)
    data = _edit_data(client, registration, **{field: "9999-12-31", "send": "x"})
    if field == "start_date":
        data["end_date"] = "9999-12-31"
    response = client.post(f"/registrations/{registration.id}/edit", data=data)
    assert response.status_code == 422
    assert "2 years" in response.get_data(as_text=True)
    stored = db.session.get(Registration, registration.id)
    assert stored.status is Status.draft and stored.end_date == registration.end_date


def test_a_programme_within_two_years_is_accepted(client, db, draft):
    registration, correspondent = draft
    login(client, correspondent.email)
    end = local_today() + timedelta(days=700)
    response = client.post(f"/registrations/{registration.id}/edit",
                           data=_edit_data(client, registration, end_date=end.isoformat(), save="x"))
    assert response.status_code == 302
    assert db.session.get(Registration, registration.id).end_date == end


def test_add_a_day_after_the_last_representable_date_is_a_message(client, db, draft):
    registration, correspondent = draft
    login(client, correspondent.email)
    response = client.post(f"/registrations/{registration.id}/edit", data=_edit_data(
        client, registration, **{"start_date": "9999-12-30", "end_date": "9999-12-31",
                                 "itinerary-0-day": "9999-12-31", "add_item": "x"}))
    assert response.status_code == 422
    assert "2100" in response.get_data(as_text=True)
    assert db.session.get(Registration, registration.id).itinerary[0].day == registration.start_date


@pytest.mark.parametrize("value", ["0001-01-01", "1899-12-31", "2101-01-01", "9999-12-31"])
def test_every_date_field_is_bounded_in_one_place(app, value):
    """A date before 1900 or after 2100 is refused by every form that has a date field."""
    from app.forms import Form
    from wtforms import DateField
    from werkzeug.datastructures import MultiDict

    class AnyDateForm(Form):
        class Meta:
            csrf = False

        day = DateField()

    with app.test_request_context():
        form = AnyDateForm(formdata=MultiDict({"day": value}))
        assert not form.validate()
        assert "1900" in " ".join(str(error) for error in form.day.errors)
        assert AnyDateForm(formdata=MultiDict({"day": "2100-12-31"})).validate()


def test_the_crew_form_refuses_a_passport_valid_until_9999(client, db, make_user, make_outlet):
    user = make_user(Role.correspondent)
    make_outlet(correspondents=[user])
    login(client, user.email)
    response = post_form(client, "/outlet/crew/new", {
        "full_name": "Ingrid", "nationality": "NO", "date_of_birth": "1980-01-01", "role": "reporter",
        "passport_number": "N1", "passport_expiry": "9999-12-31", "privacy_consent": "y"})
    assert response.status_code in (200, 422)
    assert "2100" in response.get_data(as_text=True)


def test_a_stored_programme_beyond_the_calendar_does_not_break_its_page(app, client, db, make_registration,
                                                                        make_user):
    """Rows stored before the limits (here a programme ending 2200-01-01) still show, to everyone."""
    registration, correspondent = make_registration(Status.approved)
    stored = db.session.get(Registration, registration.id)
    stored.end_date = date(2200, 1, 1)
    db.session.commit()
    login(client, correspondent.email)
    assert client.get(f"/registrations/{registration.id}").status_code == 200
    staff = app.test_client()
    login(staff, make_user(Role.officer).email)
    assert staff.get(f"/registrations/{registration.id}").status_code == 200
    assert staff.get("/staff/registrations").status_code == 200


def test_approving_a_programme_beyond_the_permit_range_is_refused(app, client, db, make_registration, make_user):
    """A stored draft ending in 2200 (before the limits) cannot be approved: message and 4xx, nothing issued."""
    registration, _ = make_registration(Status.in_review)
    stored = db.session.get(Registration, registration.id)
    stored.end_date = date(2200, 1, 1)
    db.session.commit()
    leader, officer = make_user(Role.leader, locale="en"), make_user(Role.officer)
    with app.test_request_context():  # the officer's complete proposal: only the dates stand in the way
        propose(app_db.session.get(Registration, registration.id), app_db.session.get(User, officer.id))
        app_db.session.commit()
        app_db.session.remove()
    stored = db.session.get(Registration, registration.id)
    login(client, leader.email)
    page = f"/registrations/{registration.id}"
    response = post_form(client, f"/registrations/{registration.id}/approve", {"version": str(stored.version)},
                         page=page)
    assert 400 <= response.status_code < 500
    assert "working-day calendar" in response.get_data(as_text=True)
    assert db.session.get(Registration, registration.id).status is Status.in_review
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IssuedDocument)) == 0
    assert client.get(page).status_code == 200


# --- product URLs -------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["https://nrk.example:99999/rice", "https://nrk.example:abc/rice",
                                 "http://[::1/a", "https://[nrk.example]/a", "https://nrk.example:-1/a"])
def test_a_broken_url_is_refused_with_a_message(client, db, make_user, make_outlet, url):
    officer = make_user(Role.officer, locale="en")
    outlet = make_outlet()
    login(client, officer.email)
    response = post_form(client, "/staff/products/new", staff_form(outlet.id, url=url))
    assert response.status_code == 422
    assert "web address" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Product.id))) == 0


@pytest.mark.parametrize("url", ["https://nrk.example:99999/rice", "https://nrk.example:abc/rice",
                                 "http://[::1/a"])
def test_url_key_never_raises(url):
    assert url_key(url) is None or isinstance(url_key(url), str)


def test_a_case_with_a_broken_url_is_refused(client, db, make_user):
    officer = make_user(Role.officer, locale="en")
    login(client, officer.email)
    response = post_form(client, "/staff/cases/new", {
        "title": "Map", "url": "http://[::1/a", "finding": "A map", "detected_on": "2026-01-02",
        "status": "detected"})
    assert response.status_code == 422


def test_a_long_non_latin_url_is_stored_and_its_duplicate_found(client, db, make_user, make_outlet):
    """1,924 characters, most of them Vietnamese: percent-encoded, its normal form is about 7,000
    characters, beyond the old key column and PostgreSQL's index row limit. The key is now a hash."""
    officer = make_user(Role.officer, locale="en")
    outlet = make_outlet()
    login(client, officer.email)
    url = "https://báo.example/tin?tiêu-đề=" + "đường" * 378 + "&x"
    assert len(url) == 1924
    assert post_form(client, "/staff/products/new", staff_form(outlet.id, url=url)).status_code == 302
    product = db.session.scalars(sa.select(Product)).one()
    assert product.url == url and len(product.url_key) == 64
    again = post_form(client, "/staff/products/new", staff_form(outlet.id, url=url.replace("https", "http")))
    assert again.status_code == 422
    assert "already recorded" in again.get_data(as_text=True)


def test_a_url_beyond_its_column_is_refused_with_a_message(client, db, make_user, make_outlet):
    officer = make_user(Role.officer, locale="en")
    outlet = make_outlet()
    login(client, officer.email)
    response = post_form(client, "/staff/products/new",
                         staff_form(outlet.id, url="https://báo.example/" + "đ" * 2000))
    assert response.status_code == 422
    assert "2000" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Product.id))) == 0


def test_url_key_fits_its_column_whatever_the_url():
    long_url = "https://báo.example/" + "đường" * 380 + "?q=" + "ư" * 300
    assert len(url_key(long_url)) <= Product.__table__.c.url_key.type.length
    assert url_key(long_url) != url_key(long_url + "x")
    assert url_key("https://www.NRK.example/rice/") == url_key("http://nrk.example/rice")


# --- control characters -----------------------------------------------------------------

@pytest.mark.parametrize("title", ["Rice\x0bfarmers", "Rice\x1bfarmers", "Rice\x7ffarmers", "Rice\u0085x"])
def test_a_control_character_in_a_title_is_refused(client, db, make_user, make_outlet, title):
    officer = make_user(Role.officer, locale="en")
    outlet = make_outlet()
    login(client, officer.email)
    response = post_form(client, "/staff/products/new", staff_form(outlet.id, title=title))
    assert response.status_code == 422
    assert "control character" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Product.id))) == 0


def test_line_breaks_and_tabs_stay_allowed_in_long_text(client, db, make_user, make_outlet):
    officer = make_user(Role.officer, locale="en")
    outlet = make_outlet()
    login(client, officer.email)
    response = post_form(client, "/staff/products/new",
                         staff_form(outlet.id, summary="Line one\r\nLine two\tand a tab"))
    assert response.status_code == 302
    assert db.session.scalars(sa.select(Product)).one().summary == "Line one\r\nLine two\tand a tab"


def test_the_export_survives_a_control_character_already_stored(client, db, make_user, make_outlet):
    officer = make_user(Role.officer, locale="en")
    outlet = make_outlet()
    login(client, officer.email)
    assert post_form(client, "/staff/products/new", staff_form(outlet.id)).status_code == 302
    product = db.session.scalars(sa.select(Product)).one()
    product.title = "Rice\x0bfarmers\x1b\uffff"
    db.session.commit()
    response = client.get("/staff/products.xlsx")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    assert sheet.cell(row=2, column=2).value == "Rice\ufffdfarmers\ufffd\ufffd"
    assert client.get("/staff/products.csv").status_code == 200


# --- the version counter ------------------------------------------------------------------

def test_version_abc_on_the_registration_form_is_a_conflict(client, db, draft):
    registration, correspondent = draft
    login(client, correspondent.email)
    response = client.post(f"/registrations/{registration.id}/edit",
                           data=_edit_data(client, registration, version="abc", save="x"))
    assert response.status_code == 409
    assert "Reload" in response.get_data(as_text=True)
    assert db.session.get(Registration, registration.id).version == registration.version


@pytest.mark.parametrize("version", ["abc", "", "99999999999999999999999", "-1", "1e3"])
def test_version_garbage_on_an_action_is_refused(client, db, make_registration, make_user, version):
    registration, _ = make_registration(Status.submitted)
    officer = make_user(Role.officer)
    login(client, officer.email)
    response = post_form(client, f"/registrations/{registration.id}/assign",
                         {"version": version, "officer_id": str(officer.id)}, page=f"/registrations/{registration.id}")
    assert response.status_code in (400, 409, 422)
    assert db.session.get(Registration, registration.id).status is Status.submitted


@pytest.mark.parametrize("version", ["abc", "99999999999999999999999"])
def test_version_garbage_on_a_product_is_refused(client, db, make_user, make_outlet, version):
    officer = make_user(Role.officer, locale="en")
    outlet = make_outlet()
    login(client, officer.email)
    post_form(client, "/staff/products/new", staff_form(outlet.id))
    product = db.session.scalars(sa.select(Product)).one()
    response = post_form(client, f"/products/{product.id}/edit",
                         staff_form(outlet.id, title="Changed", version=version))
    assert response.status_code in (400, 409, 422)
    assert db.session.scalars(sa.select(Product)).one().title != "Changed"


# --- ids beyond the column range ---------------------------------------------------------

@pytest.mark.parametrize("path", ["/staff/registrations/99999999999999999999", "/registrations/99999999999999999999",
                                  "/registrations/2147483648", "/products/99999999999999999999",
                                  "/staff/cases/99999999999999999999",
                                  "/registrations/1/attachments/99999999999999999999"])
def test_an_id_beyond_the_column_range_is_404(client, make_user, path):
    login(client, make_user(Role.officer).email)
    assert client.get(path).status_code == 404


def test_the_int_converter_keeps_ordinary_ids(client, make_registration, make_user):
    registration, _ = make_registration(Status.submitted)
    login(client, make_user(Role.officer).email)
    assert client.get(f"/registrations/{registration.id}").status_code == 200
    assert client.get("/registrations/2147483647").status_code == 404
    assert client.get("/registrations/0").status_code == 404


# --- the URL key migration -----------------------------------------------------------------

def test_the_migration_turns_stored_url_keys_into_hashes_and_back(tmp_path, smtp_server):
    import os

    import flask_migrate

    from app import create_app
    from app.extensions import db as app_db
    from app.products.service import normalised_url
    from tests.conftest import make_test_config, throwaway_postgres_database

    def run(url):
        app = create_app(make_test_config(url, smtp_server))
        with app.app_context():
            flask_migrate.upgrade(revision="0005_outbox")
            engine = app_db.engine
            with engine.begin() as connection:
                connection.execute(sa.text(
                    "INSERT INTO outlets (name, country, media_type, is_resident_office, created_at) "
                    "VALUES ('Nordic', 'NO', 'television', false, CURRENT_TIMESTAMP)"))
                outlet_id = connection.scalar(sa.text("SELECT id FROM outlets"))
                connection.execute(sa.text(
                    "INSERT INTO products (title, outlet_id, type, channel, url, url_key, cooperation_type, status, "
                    "summary, created_at, updated_at, version) VALUES ('Rice', :outlet, 'article', 'website', "
                    ":url, :key, 'facilitated', 'published', '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)"),
                    {"outlet": outlet_id, "url": "https://www.nrk.example/rice/?utm_source=x",
                     "key": normalised_url("https://www.nrk.example/rice/?utm_source=x")})
            flask_migrate.upgrade(revision="0006_input_limits")
            with engine.connect() as connection:
                assert connection.scalar(sa.text("SELECT url_key FROM products")) == url_key("https://nrk.example/rice")
            flask_migrate.downgrade(revision="0005_outbox")
            with engine.connect() as connection:
                assert connection.scalar(sa.text("SELECT url_key FROM products")) == "https://nrk.example/rice"
            app_db.session.remove()
            engine.dispose()

    if os.environ.get("TEST_DATABASE_URL"):
        with throwaway_postgres_database("pressdesk_url_keys") as url:
            run(url)
    else:
        run(f"sqlite:///{tmp_path / 'keys.db'}")


# --- found by the route fuzzer (tests/test_fuzz_routes.py) or while writing it -------------

@pytest.mark.parametrize("query", ["outlet=99999999999999999999", "outlet=%C2%B2", "outlet=" + "9" * 5000,
                                   "date_to=9999-12-31", "date_from=0001-01-01"])
def test_product_filters_with_impossible_values_show_the_list(client, make_user, query):
    login(client, make_user(Role.officer).email)
    assert client.get("/staff/products?" + query).status_code == 200
    assert client.get("/staff/products.csv?" + query).status_code == 200


@pytest.mark.parametrize("path", ["/staff/products/new?registration_id=99999999999999999999",
                                  "/staff/products/new?registration_id=%C2%B2",
                                  "/staff/cases/new?product_id=99999999999999999999",
                                  "/staff/cases/new?product_id=%C2%B2"])
def test_an_id_beyond_the_column_in_a_query_string_is_ignored(client, make_user, path):
    login(client, make_user(Role.officer).email)
    assert client.get(path).status_code == 200


def test_the_audit_filter_up_to_9999_12_31_is_a_message_not_an_overflow(client, make_user):
    login(client, make_user(Role.admin).email)
    response = client.get("/admin/audit/?date_to=9999-12-31")
    assert response.status_code == 200
    assert "2100" in response.get_data(as_text=True)


def test_a_superscript_digit_in_an_amount_is_a_message(client, db, make_user, make_outlet):
    officer = make_user(Role.officer, locale="en")
    outlet = make_outlet()
    login(client, officer.email)
    response = post_form(client, "/staff/products/new", staff_form(outlet.id, reach="²"))
    assert response.status_code == 422
    assert "whole number" in response.get_data(as_text=True)
