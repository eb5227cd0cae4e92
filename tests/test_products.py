"""Products: the staff record, validation, the correspondent's post-visit report and its review,
evidence files, sovereignty cases, access, filters."""
from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from PIL import Image

from app.clock import local_today
from app.audit.models import AuditEvent
from app.auth.models import Role
from app.products.models import (CaseStatus, EvidenceFile, Evaluation, Product, ProductStatus, ReportState,
                                 SovereigntyCase)
from app.products.service import url_key
from app.registrations.models import Status
from tests.conftest import TINY_PDF
from tests.support import DaysFromToday, login, post_form, resolved


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 200)).save(buffer, "PNG")
    return buffer.getvalue()


def staff_form(outlet_id, **overrides) -> dict:
    data = {
        "title": "Rice farmers adapt to salt water", "original_title": "Risbønder tilpasser seg",
        "outlet_id": str(outlet_id), "registration_reference": "", "type": "tv_report", "channel": "television",
        "channel_name": "NRK1", "publication_date": "2026-03-02", "url": "https://nrk.example/rice",
        "languages": ["no", "en"], "countries": ["NO", "SE"], "reach": "850.000", "reach_note": "viewers",
        "contribution_vnd": "45.000.000 đ", "cooperation_type": "co_produced", "status": "published",
        "sectors": ["agriculture", "tourism"], "summary": "A report on farmers.",
    }
    data.update(overrides)
    return data


def report_form(**overrides) -> dict:
    data = {
        "title": "The relic site in the forest", "original_title": "", "type": "article", "channel": "website",
        "channel_name": "Le Quotidien", "publication_date": (local_today() - timedelta(days=2)).isoformat(),
        "url": "https://quotidien.example/relic-site", "languages": ["fr"], "countries": ["FR"],
        "reach": "64000", "reach_note": "page views", "summary": "",
    }
    data.update(overrides)
    return data


@pytest.fixture
def officer(make_user):
    return make_user(Role.officer, email="canbo@tayninh.example", locale="vi")


@pytest.fixture
def ended_visit(make_registration, officer):
    """A completed visit that ended a week ago, assigned to `officer`: (registration, correspondent)."""
    return make_registration(Status.completed, start_in_days=-10, days=3, assigned_to=officer)


def _report(client, registration, **overrides):
    return post_form(client, f"/registrations/{registration.id}/report", report_form(**overrides))


# --- the URL key --------------------------------------------------------------------

@pytest.mark.parametrize("a, b", [
    ("https://www.nrk.example/rice/", "http://nrk.example/rice"),
    ("https://nrk.example/rice?utm_source=x&id=3#top", "https://NRK.example/rice?id=3"),
    ("https://nrk.example/a?b=2&a=1", "https://nrk.example/a?a=1&b=2"),
])
def test_the_same_page_has_one_url_key(a, b):
    assert url_key(a) == url_key(b)


def test_different_pages_have_different_url_keys():
    assert url_key("https://nrk.example/rice?id=3") != url_key("https://nrk.example/rice?id=4")
    assert url_key("https://nrk.example/rice") != url_key("https://nrk.example/rice/2")
    assert url_key(None) is None


# --- staff: record, validate, evaluate ------------------------------------------------

def test_staff_record_a_product_with_typed_values(client, db, officer, make_outlet):
    outlet = make_outlet()
    login(client, officer.email)
    response = post_form(client, "/staff/products/new", staff_form(outlet.id))
    assert response.status_code == 302
    product = db.session.scalars(sa.select(Product)).one()
    assert response.headers["Location"].endswith(f"/products/{product.id}")
    assert (product.reach, product.contribution_vnd) == (850_000, 45_000_000)
    assert product.publication_date == date(2026, 3, 2)
    assert (product.languages, product.countries, product.sectors) == (["en", "no"], ["NO", "SE"],
                                                                       ["agriculture", "tourism"])
    assert product.url_key == url_key("https://nrk.example/rice") and len(product.url_key) == 64
    assert product.status is ProductStatus.published and product.report_state is None
    page = client.get(f"/products/{product.id}").get_data(as_text=True)
    assert "850.000" in page and "45.000.000" in page  # Vietnamese separators for a vi officer
    assert "Nông nghiệp công nghệ cao" in page  # the sector's name from the authority profile
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "product.created")).one()
    assert event.after["url"] == "https://nrk.example/rice"


@pytest.mark.parametrize("field, value, message", [
    ("url", "javascript:alert(1)", "http://"),
    ("url", "ftp://nrk.example/rice", "http://"),
    ("url", "https://localhost/x", "http://"),
    ("reach", "-5", "zero or more"),
    ("contribution_vnd", "-1.000", "zero or more"),
    ("contribution_vnd", "12,5 triệu", "whole number"),
    ("reach", "1" + "0" * 13, "too large"),
    ("publication_date", "1890-01-01", "year"),
    ("publication_date", DaysFromToday(3), "future"),
    ("publication_date", "", "publication date"),
    ("title", "", "required"),
])
def test_invalid_product_input_is_refused_with_a_message(client, db, make_user, make_outlet, field, value, message):
    officer = make_user(Role.officer, locale="en")
    outlet = make_outlet()
    login(client, officer.email)
    response = post_form(client, "/staff/products/new", staff_form(outlet.id, **resolved({field: value})))
    assert response.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count(Product.id))) == 0
    text = response.get_data(as_text=True)
    assert 'aria-invalid="true"' in text
    assert message in text.lower() or message in text


def test_validation_messages_are_in_the_users_language(client, db, make_user, make_outlet):
    officer = make_user(Role.officer, locale="en")
    outlet = make_outlet()
    login(client, officer.email)
    response = post_form(client, "/staff/products/new", staff_form(outlet.id, reach="-5", url="ftp://x.example/a"))
    text = response.get_data(as_text=True)
    assert "Enter a number that is zero or more." in text
    assert "Enter a full web address starting with http:// or https://." in text


def test_a_planned_product_may_have_a_future_date(client, db, officer, make_outlet):
    outlet = make_outlet()
    login(client, officer.email)
    future = (local_today() + timedelta(days=30)).isoformat()
    response = post_form(client, "/staff/products/new", staff_form(outlet.id, status="planned",
                                                                   publication_date=future))
    assert response.status_code == 302
    assert db.session.scalars(sa.select(Product)).one().status is ProductStatus.planned


def test_the_same_url_cannot_be_recorded_twice(client, db, officer, make_outlet):
    outlet = make_outlet()
    login(client, officer.email)
    post_form(client, "/staff/products/new", staff_form(outlet.id))
    first = db.session.scalars(sa.select(Product)).one()
    response = post_form(client, "/staff/products/new",
                         staff_form(outlet.id, title="Another title", url="http://www.nrk.example/rice/?utm_x=1"))
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert f"/products/{first.id}" in text  # a link to the product that has it
    assert db.session.scalar(sa.select(sa.func.count(Product.id))) == 1


def test_linking_a_registration_of_another_outlet_is_refused(client, db, officer, make_outlet, ended_visit):
    registration, _correspondent = ended_visit
    other = make_outlet(name="Other outlet")
    login(client, officer.email)
    response = post_form(client, "/staff/products/new",
                         staff_form(other.id, registration_reference=registration.reference))
    assert response.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count(Product.id))) == 0
    response = post_form(client, "/staff/products/new",
                         staff_form(registration.outlet_id, registration_reference=registration.reference.lower()))
    assert response.status_code == 302
    assert db.session.scalars(sa.select(Product)).one().registration_id == registration.id


def test_evaluate_then_a_stale_evaluation_is_a_conflict(client, db, officer, make_outlet):
    outlet = make_outlet()
    login(client, officer.email)
    post_form(client, "/staff/products/new", staff_form(outlet.id))
    product = db.session.scalars(sa.select(Product)).one()
    seen = product.version
    page = f"/products/{product.id}"
    response = post_form(client, f"/products/{product.id}/evaluate",
                         {"evaluation": "positive", "note": "Fair and warm", "version": seen}, page=page)
    assert response.status_code == 302
    product = db.session.get(Product, product.id)
    assert (product.evaluation, product.status) == (Evaluation.positive, ProductStatus.evaluated)
    response = post_form(client, f"/products/{product.id}/evaluate",
                         {"evaluation": "negative", "note": "", "version": seen}, page=page)
    assert response.status_code == 409
    assert db.session.get(Product, product.id).evaluation is Evaluation.positive


def test_a_planned_product_cannot_be_evaluated(client, db, officer, make_outlet):
    outlet = make_outlet()
    login(client, officer.email)
    post_form(client, "/staff/products/new", staff_form(outlet.id, status="planned"))
    product = db.session.scalars(sa.select(Product)).one()
    response = post_form(client, f"/products/{product.id}/evaluate",
                         {"evaluation": "positive", "version": product.version}, page=f"/products/{product.id}")
    assert response.status_code == 409
    assert db.session.get(Product, product.id).evaluation is None


# --- the post-visit report ---------------------------------------------------------------

def test_correspondent_reports_staff_ask_for_a_correction_then_accept(client, db, mailbox, officer, ended_visit):
    registration, correspondent = ended_visit
    login(client, correspondent.email)
    page = client.get(f"/registrations/{registration.id}").get_data(as_text=True)
    assert f"/registrations/{registration.id}/report" in page
    response = _report(client, registration)
    assert response.status_code == 302
    product = db.session.scalars(sa.select(Product)).one()
    assert product.report_state is ReportState.reported and product.registration_id == registration.id
    assert product.outlet_id == registration.outlet_id and product.contribution_vnd is None
    [to_officer] = mailbox.to(officer.email)
    assert f"/products/{product.id}" in mailbox.text(to_officer)
    assert to_officer["Subject"].startswith(registration.reference)

    staff = client.application.test_client()
    login(staff, officer.email)
    response = post_form(staff, f"/products/{product.id}/correction",
                         {"note": "Please add the audience figure.", "version": product.version},
                         page=f"/products/{product.id}")
    assert response.status_code == 302
    assert db.session.get(Product, product.id).report_state is ReportState.correction_requested
    correction_mail = mailbox.to(correspondent.email)[-1]
    assert "Please add the audience figure." in mailbox.text(correction_mail)

    reporter = client.application.test_client()
    login(reporter, correspondent.email)
    edit_page = reporter.get(f"/products/{product.id}/edit").get_data(as_text=True)
    assert "Please add the audience figure." in edit_page
    response = post_form(reporter, f"/products/{product.id}/edit",
                         report_form(reach="70000", version=db.session.get(Product, product.id).version))
    assert response.status_code == 302
    product = db.session.get(Product, product.id)
    assert (product.report_state, product.reach) == (ReportState.reported, 70_000)

    response = post_form(staff, f"/products/{product.id}/accept", {"version": product.version},
                         page=f"/products/{product.id}")
    assert response.status_code == 302
    assert db.session.get(Product, product.id).report_state is ReportState.accepted
    response = post_form(staff, f"/products/{product.id}/evaluate",
                         {"evaluation": "neutral", "version": db.session.get(Product, product.id).version},
                         page=f"/products/{product.id}")
    assert response.status_code == 302

    # Accepted: the correspondent can no longer change it.
    response = post_form(reporter, f"/products/{product.id}/edit",
                         report_form(reach="1", version=db.session.get(Product, product.id).version),
                         page=f"/products/{product.id}/edit")
    assert response.status_code == 409
    assert "can no longer be changed" in response.get_data(as_text=True)
    assert db.session.get(Product, product.id).reach == 70_000


def test_a_staff_member_cannot_evaluate_an_unreviewed_report(client, db, officer, ended_visit):
    registration, correspondent = ended_visit
    login(client, correspondent.email)
    _report(client, registration)
    product = db.session.scalars(sa.select(Product)).one()
    staff = client.application.test_client()
    login(staff, officer.email)
    response = post_form(staff, f"/products/{product.id}/evaluate",
                         {"evaluation": "positive", "version": product.version}, page=f"/products/{product.id}")
    assert response.status_code == 409
    assert db.session.get(Product, product.id).evaluation is None


@pytest.mark.parametrize("overrides, message", [
    ({"url": ""}, "Give the web address of the publication."),
    ({"publication_date": ""}, "Give the date it was published or broadcast."),
    ({"publication_date": DaysFromToday(1)}, "cannot be in the future"),
    ({"publication_date": DaysFromToday(-60)}, "before the visit started"),
    ({"languages": []}, "Choose at least one language."),
    ({"reach": "-3"}, "zero or more"),
])
def test_report_validation(client, db, ended_visit, overrides, message):
    registration, correspondent = ended_visit
    login(client, correspondent.email)
    response = _report(client, registration, **resolved(overrides))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Product.id))) == 0


def test_correspondent_reports_only_on_own_approved_visits(client, db, make_registration, ended_visit):
    registration, correspondent = ended_visit
    other_registration, other = make_registration(Status.completed, start_in_days=-10, days=3)
    login(client, correspondent.email)
    assert client.get(f"/registrations/{other_registration.id}/report").status_code == 404
    assert _report(client, other_registration).status_code in (400, 404)
    draft, _same = make_registration(Status.draft, correspondent=correspondent, start_in_days=-5)
    response = post_form(client, f"/registrations/{draft.id}/report", report_form(),
                         page=f"/registrations/{registration.id}/report")
    assert response.status_code == 403
    future, _same = make_registration(Status.approved, correspondent=correspondent, start_in_days=5)
    page = client.get(f"/registrations/{future.id}/report").get_data(as_text=True)
    assert "once it has started" in page
    assert db.session.scalar(sa.select(sa.func.count(Product.id))) == 0


def test_correspondent_sees_only_products_of_own_outlet_visits(client, db, officer, make_registration,
                                                               ended_visit, make_outlet):
    registration, correspondent = ended_visit
    other_registration, other = make_registration(Status.completed, start_in_days=-10, days=3)
    staff = client.application.test_client()
    login(staff, officer.email)
    post_form(staff, "/staff/products/new", staff_form(other_registration.outlet_id, url="https://o.example/1",
                                                       registration_reference=other_registration.reference))
    post_form(staff, "/staff/products/new", staff_form(registration.outlet_id, url="https://o.example/2",
                                                       registration_reference=registration.reference))
    post_form(staff, "/staff/products/new", staff_form(registration.outlet_id, url="https://o.example/3"))
    theirs, ours, unlinked = db.session.scalars(sa.select(Product).order_by(Product.id)).all()
    login(client, correspondent.email)
    assert client.get(f"/products/{ours.id}").status_code == 200
    assert client.get(f"/products/{theirs.id}").status_code == 404
    assert client.get(f"/products/{unlinked.id}").status_code == 404  # not from a visit of theirs
    for path in ("/staff/products", "/staff/products.csv", "/staff/products.xlsx", "/staff/products/new",
                 "/staff/cases", "/staff/cases/new", "/staff/reports/overdue"):
        assert client.get(path).status_code == 403, path
    # Nor can they change or evaluate what staff recorded.
    response = post_form(client, f"/products/{ours.id}/evaluate", {"evaluation": "negative", "version": 1},
                         page=f"/products/{ours.id}")
    assert response.status_code == 403
    response = post_form(client, f"/products/{ours.id}/edit", report_form(version=ours.version),
                         page=f"/products/{ours.id}")
    assert response.status_code == 409
    assert db.session.get(Product, ours.id).title == "Rice farmers adapt to salt water"


def test_admin_sees_no_products(client, make_user):
    admin = make_user(Role.admin)
    login(client, admin.email)
    assert client.get("/staff/products").status_code == 403


# --- evidence ------------------------------------------------------------------------------

def test_evidence_upload_rules(client, db, officer, make_outlet):
    outlet = make_outlet()
    login(client, officer.email)
    post_form(client, "/staff/products/new", staff_form(outlet.id))
    product = db.session.scalars(sa.select(Product)).one()
    page = f"/products/{product.id}"
    response = post_form(client, f"/products/{product.id}/evidence",
                         {"file": (io.BytesIO(png_bytes()), "screenshot.png"), "description": "Front page"},
                         page=page, content_type="multipart/form-data")
    assert response.status_code == 302
    response = post_form(client, f"/products/{product.id}/evidence",
                         {"file": (io.BytesIO(b"MZ\x90\x00 not a document"), "tool.pdf")},
                         page=page, content_type="multipart/form-data")
    assert response.status_code == 302
    followed = client.get(page).get_data(as_text=True)
    assert "screenshot.png" in followed and "tool.pdf" not in followed
    [evidence] = db.session.scalars(sa.select(EvidenceFile)).all()
    download = client.get(f"/products/{product.id}/evidence/{evidence.id}")
    assert download.status_code == 200 and download.data[:8] == b"\x89PNG\r\n\x1a\n"
    assert "no-store" in download.headers["Cache-Control"]
    # The file id of one product does not open through another product.
    post_form(client, "/staff/products/new", staff_form(outlet.id, url="https://nrk.example/other"))
    other = db.session.scalars(sa.select(Product).order_by(Product.id.desc())).first()
    assert client.get(f"/products/{other.id}/evidence/{evidence.id}").status_code == 404


def test_a_report_may_carry_a_pdf_archive(client, db, ended_visit):
    registration, correspondent = ended_visit
    login(client, correspondent.email)
    data = report_form()
    data["evidence"] = (io.BytesIO(TINY_PDF), "archive.pdf")
    response = post_form(client, f"/registrations/{registration.id}/report", data,
                         content_type="multipart/form-data")
    assert response.status_code == 302
    product = db.session.scalars(sa.select(Product)).one()
    [evidence] = product.evidence
    assert (evidence.original_filename, evidence.content_type) == ("archive.pdf", "application/pdf")


# --- sovereignty cases ------------------------------------------------------------------------

def test_flag_a_product_and_handle_the_case(client, db, officer, make_outlet):
    outlet = make_outlet()
    login(client, officer.email)
    post_form(client, "/staff/products/new", staff_form(outlet.id))
    product = db.session.scalars(sa.select(Product)).one()
    form_page = f"/staff/cases/new?product_id={product.id}"
    assert "Rice farmers adapt to salt water" in client.get(form_page).get_data(as_text=True)
    detected = (local_today() - timedelta(days=5)).isoformat()
    case = {"title": product.title, "url": product.url, "publisher": outlet.name, "country": "NO",
            "finding": "The map at 00:42 leaves out the Hoàng Sa and Trường Sa archipelagos.",
            "detected_on": detected, "status": "detected", "reported_to": "", "reported_on": "", "steps_taken": "",
            "handled_on": ""}
    response = post_form(client, form_page, case)
    assert response.status_code == 302
    saved = db.session.scalars(sa.select(SovereigntyCase)).one()
    assert saved.product_id == product.id and saved.status is CaseStatus.detected
    assert "có dấu hiệu sai lệch chủ quyền, biên giới" in client.get(f"/products/{product.id}").get_data(as_text=True)
    assert product.title in client.get("/staff/cases").get_data(as_text=True)

    # Handled needs the body it was reported to, the steps and the dates.
    case_page = f"/staff/cases/{saved.id}"
    response = post_form(client, case_page, {**case, "status": "handled", "version": saved.version})
    assert response.status_code == 422
    assert db.session.get(SovereigntyCase, saved.id).status is CaseStatus.detected
    response = post_form(client, case_page, {**case, "status": "handled", "version": saved.version,
                                             "reported_to": "Ministry of Foreign Affairs", "reported_on": detected,
                                             "steps_taken": "The outlet corrected the map.",
                                             "handled_on": local_today().isoformat()})
    assert response.status_code == 302
    assert db.session.get(SovereigntyCase, saved.id).status is CaseStatus.handled
    assert product.title not in client.get("/staff/cases").get_data(as_text=True)  # open cases only
    assert product.title in client.get("/staff/cases?show=all").get_data(as_text=True)


def test_a_foreign_publication_can_be_recorded_as_a_case(client, db, officer):
    login(client, officer.email)
    response = post_form(client, "/staff/cases/new", {
        "title": "Travel blog border map", "url": "https://blog.example/map", "publisher": "Wanderlust",
        "country": "US", "finding": "The border drawn through Vietnamese territory.",
        "detected_on": local_today().isoformat(), "status": "reported", "reported_to": "MOFA",
        "reported_on": local_today().isoformat(), "steps_taken": "", "handled_on": ""})
    assert response.status_code == 302
    case = db.session.scalars(sa.select(SovereigntyCase)).one()
    assert case.product_id is None and case.status is CaseStatus.reported


@pytest.mark.parametrize("overrides", [
    {"detected_on": DaysFromToday(1)},
    {"status": "reported"},  # without the body and the date
    {"reported_to": "MOFA", "reported_on": DaysFromToday(-9), "status": "reported"},
    {"url": "javascript:alert(1)"},
    {"finding": ""},
])
def test_invalid_cases_are_refused(client, db, officer, overrides):
    login(client, officer.email)
    data = {"title": "Blog", "url": "", "publisher": "", "country": "", "finding": "A wrong map.",
            "detected_on": (local_today() - timedelta(days=2)).isoformat(), "status": "detected", "reported_to": "",
            "reported_on": "", "steps_taken": "", "handled_on": ""}
    data.update(resolved(overrides))
    response = post_form(client, "/staff/cases/new", data)
    assert response.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count(SovereigntyCase.id))) == 0


# --- the list and its filters --------------------------------------------------------------------

def test_list_filters(client, db, officer, make_outlet, ended_visit):
    registration, _correspondent = ended_visit
    nordic = make_outlet(name="Nordic TV")
    tokyo = make_outlet(name="Tokyo Shimbun", country="JP")
    login(client, officer.email)
    post_form(client, "/staff/products/new", staff_form(nordic.id, title="Nordic rice", url="https://n.example/1"))
    post_form(client, "/staff/products/new", staff_form(
        tokyo.id, title="Tokyo border trade", url="https://t.example/1", type="article", channel="print",
        languages=["ja"], countries=["JP"], sectors=["border_trade"], publication_date="2025-12-01"))
    post_form(client, "/staff/products/new", staff_form(
        registration.outlet_id, title="Linked podcast", url="https://l.example/1", type="podcast",
        channel="podcast_platform", languages=["fr"], countries=["FR"], sectors=[],
        registration_reference=registration.reference))

    def titles(query: str) -> set[str]:
        text = client.get("/staff/products?" + query).get_data(as_text=True)
        return {title for title in ("Nordic rice", "Tokyo border trade", "Linked podcast") if title in text}

    assert titles("") == {"Nordic rice", "Tokyo border trade", "Linked podcast"}
    assert titles(f"outlet={tokyo.id}") == {"Tokyo border trade"}
    assert titles("country=JP") == {"Tokyo border trade"}
    assert titles("language=fr") == {"Linked podcast"}
    assert titles("type=article") == {"Tokyo border trade"}
    assert titles("channel=television") == {"Nordic rice"}
    assert titles("sector=agriculture") == {"Nordic rice"}
    assert titles("linked=yes") == {"Linked podcast"}
    assert titles("linked=no") == {"Nordic rice", "Tokyo border trade"}
    assert titles("date_from=2026-01-01") == {"Nordic rice", "Linked podcast"}
    assert titles("date_to=2025-12-31") == {"Tokyo border trade"}
    assert titles("q=" + registration.reference) == {"Linked podcast"}
    assert titles("q=" + registration.reference.lower()) == {"Linked podcast"}  # a reference's start, any case
    assert titles("q=" + registration.reference.split("-", 1)[1]) == {"Linked podcast"}  # "2026-00001": a part
    assert titles("q=shimbun") == {"Tokyo border trade"}
    assert titles("evaluation=none") == {"Nordic rice", "Tokyo border trade", "Linked podcast"}
    assert titles("evaluation=flagged") == set()
    assert client.get("/staff/products?page=99999999999999999999").status_code == 200


def test_reported_products_waiting_for_review_are_counted_on_the_list(client, db, officer, ended_visit):
    registration, correspondent = ended_visit
    login(client, correspondent.email)
    _report(client, registration)
    staff = client.application.test_client()
    login(staff, officer.email)
    text = staff.get("/staff/products").get_data(as_text=True)
    assert re.search(r"1 (reported product is waiting|sản phẩm)", text)
    assert "The relic site in the forest" in staff.get("/staff/products?status=to_review").get_data(as_text=True)


def test_my_registrations_show_which_visits_await_a_report(client, db, ended_visit):
    registration, correspondent = ended_visit
    login(client, correspondent.email)
    page = client.get("/my/registrations").get_data(as_text=True)
    assert f"/registrations/{registration.id}/report" in page and "report awaited" in page
    _report(client, registration)
    page = client.get("/my/registrations").get_data(as_text=True)
    assert f"/registrations/{registration.id}/report" in page and "report awaited" not in page


def test_a_report_with_a_refused_file_saves_nothing_and_keeps_the_form(client, db, ended_visit):
    registration, correspondent = ended_visit
    login(client, correspondent.email)
    data = report_form()
    data["evidence"] = (io.BytesIO(b"MZ\x90\x00 a program, not a document"), "archive.pdf")
    response = post_form(client, f"/registrations/{registration.id}/report", data,
                         content_type="multipart/form-data")
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert 'value="The relic site in the forest"' in text  # what was typed is still there
    assert db.session.scalar(sa.select(sa.func.count(Product.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(EvidenceFile.id))) == 0
