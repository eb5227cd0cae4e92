"""Access to every product, report and case route, for every role.

A product is visible to staff (officer, leader) and to the correspondents of the outlet whose visit
it came out of; another outlet gets 404 (it does not learn the product exists), an admin 403, an
anonymous visitor the login page. Cases and the staff lists are for staff only.
"""
from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from app.auth.models import Role
from app.products.models import EvidenceFile, Product, SovereigntyCase
from app.registrations.models import Status
from tests.conftest import TINY_PDF
from tests.support import csrf_token, login, post_form
from tests.test_registrations_access import browser_for
from tests.test_products import report_form

OWNER, OTHER, OFFICER, LEADER, ADMIN, ANONYMOUS = "owner", "other", "officer", "leader", "admin", "anonymous"
STAFF = {OFFICER, LEADER}


@pytest.fixture
def world(app, db, make_user, make_registration):
    registration, owner = make_registration(Status.completed, start_in_days=-10, days=3)
    other = make_user(Role.correspondent)
    make_registration(Status.completed, correspondent=other, start_in_days=-10, days=3)
    users = {OWNER: owner, OTHER: other, OFFICER: make_user(Role.officer), LEADER: make_user(Role.leader),
             ADMIN: make_user(Role.admin)}
    reporter = app.test_client()
    login(reporter, owner.email)
    data = report_form()
    data["evidence"] = (io.BytesIO(TINY_PDF), "archive.pdf")
    assert post_form(reporter, f"/registrations/{registration.id}/report", data,
                     content_type="multipart/form-data").status_code == 302
    product = db.session.scalars(sa.select(Product)).one()
    staff = app.test_client()
    login(staff, users[OFFICER].email)
    case = {"title": "Map", "url": "", "publisher": "", "country": "", "finding": "A wrong map.",
            "detected_on": "2026-01-05", "status": "detected", "reported_to": "", "reported_on": "",
            "steps_taken": "", "handled_on": "", "evidence": (io.BytesIO(TINY_PDF), "map.pdf")}
    assert post_form(staff, f"/staff/cases/new?product_id={product.id}", case,
                     content_type="multipart/form-data").status_code == 302
    case_row = db.session.scalars(sa.select(SovereigntyCase)).one()
    [product_file] = db.session.scalars(sa.select(EvidenceFile).where(EvidenceFile.product_id == product.id)).all()
    [case_file] = db.session.scalars(sa.select(EvidenceFile).where(EvidenceFile.case_id == case_row.id)).all()
    return {"r": registration.id, "p": product.id, "e": product_file.id, "c": case_row.id, "ce": case_file.id,
            "users": users}


GET_ROUTES = [
    ("/products/{p}", {OWNER} | STAFF),
    ("/products/{p}/edit", {OWNER} | STAFF),
    ("/products/{p}/evidence/{e}", {OWNER} | STAFF),
    ("/registrations/{r}/report", {OWNER}),
    ("/staff/products", STAFF),
    ("/staff/products.csv", STAFF),
    ("/staff/products.xlsx", STAFF),
    ("/staff/products/new", STAFF),
    ("/staff/reports/overdue", STAFF),
    ("/staff/cases", STAFF),
    ("/staff/cases/new", STAFF),
    ("/staff/cases/{c}", STAFF),
    ("/staff/cases/{c}/evidence/{ce}", STAFF),
]

# What a refused user gets: 404 where the id belongs to another outlet, else 403.
ID_HIDDEN = {"/products/{p}", "/products/{p}/edit", "/products/{p}/evidence/{e}", "/registrations/{r}/report"}


def _expected_refusal(path: str, who: str) -> int:
    if who == OTHER and path in ID_HIDDEN:
        return 404
    return 403


@pytest.mark.parametrize("who", [OWNER, OTHER, OFFICER, LEADER, ADMIN, ANONYMOUS])
def test_get_routes(app, world, who):
    """Every GET route for one role (one world per role: building it takes a second)."""
    browser = browser_for(app, world, who)
    wrong = []
    for path, allowed in GET_ROUTES:
        url = path.format(**world)
        response = browser.get(url)
        if who == ANONYMOUS:
            expected = 302
        else:
            expected = 200 if who in allowed else _expected_refusal(path, who)
        if response.status_code != expected or (who == ANONYMOUS and "/login" not in response.headers["Location"]):
            wrong.append((url, response.status_code, expected))
    assert wrong == []


# (path, data, {who: expected status}) for users who may not do it.
POST_ROUTES = [
    ("/products/{p}/evaluate", {"evaluation": "negative", "note": "x"}, {OTHER: 403, ADMIN: 403, OWNER: 403}),
    ("/products/{p}/accept", {}, {OTHER: 403, ADMIN: 403, OWNER: 403}),
    ("/products/{p}/correction", {"note": "Change it"}, {OTHER: 403, ADMIN: 403, OWNER: 403}),
    # Correspondents may remove their own files, so another outlet's is hidden (404).
    ("/products/{p}/evidence/{e}/remove", {}, {OTHER: 404, ADMIN: 403}),
    ("/staff/cases/{c}", {"title": "Changed", "finding": "Changed", "detected_on": "2026-01-05",
                          "status": "detected"}, {OTHER: 403, ADMIN: 403, OWNER: 403}),
    ("/staff/cases/{c}/evidence/{ce}/remove", {}, {OTHER: 403, ADMIN: 403, OWNER: 403}),
]


@pytest.mark.parametrize("path, data, who, status", [
    (path, data, who, status) for path, data, refusals in POST_ROUTES for who, status in refusals.items()])
def test_post_routes_refused_change_nothing(app, db, world, path, data, who, status):
    browser = browser_for(app, world, who)
    token = csrf_token(browser, "/")
    before = (db.session.get(Product, world["p"]).version, db.session.get(SovereigntyCase, world["c"]).version,
              db.session.scalar(sa.select(sa.func.count(EvidenceFile.id))))
    response = browser.post(path.format(**world), data={**data, "version": 1, "csrf_token": token})
    assert response.status_code == status
    after = (db.session.get(Product, world["p"]).version, db.session.get(SovereigntyCase, world["c"]).version,
             db.session.scalar(sa.select(sa.func.count(EvidenceFile.id))))
    assert after == before


def test_the_owner_may_remove_a_file_of_a_report_not_yet_accepted(app, db, world):
    browser = browser_for(app, world, OWNER)
    response = post_form(browser, f"/products/{world['p']}/evidence/{world['e']}/remove",
                         page=f"/products/{world['p']}")
    assert response.status_code == 302
    assert db.session.get(EvidenceFile, world["e"]) is None


def test_another_outlet_cannot_report_on_or_attach_to_a_visit(app, db, world):
    browser = browser_for(app, world, OTHER)
    token = csrf_token(browser, "/")
    response = browser.post(f"/registrations/{world['r']}/report", data={**report_form(url="https://x.example/9"),
                                                                         "csrf_token": token})
    assert response.status_code == 404
    response = browser.post(f"/products/{world['p']}/evidence",
                            data={"file": (io.BytesIO(TINY_PDF), "x.pdf"), "csrf_token": token},
                            content_type="multipart/form-data")
    assert response.status_code == 404
    assert db.session.scalar(sa.select(sa.func.count(Product.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count(EvidenceFile.id))) == 2
