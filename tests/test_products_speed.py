"""The products list, the sovereignty cases and the overdue reports at scale: the number of SQL
statements of a page does not grow with the data or the page size (bench/bench_products.py has
the times), and the search ignores case and diacritics, the same on SQLite and PostgreSQL."""
from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.auth.models import Role
from app.clock import local_today
from app.extensions import db as app_db
from app.outlets.models import MediaType, Outlet
from app.products.models import (CaseStatus, Channel, CooperationType, Product, ProductCountry, ProductLanguage,
                                 ProductStatus, ProductType, SovereigntyCase)
from app.registrations.models import Registration, RegistrationKind, Status
from tests.support import assert_index_can_serve, login, statements_sent

PAGES = [
    "/staff/products", "/staff/products?sort=reach", "/staff/products?sort=title", "/staff/products?sort=recorded",
    "/staff/products?country=JP", "/staff/products?language=ja", "/staff/products?type=article",
    "/staff/products?evaluation=flagged", "/staff/products?status=to_review&linked=no",
    "/staff/products?date_from=2020-01-01&date_to=2030-12-31", "/staff/products?q=product",
    "/staff/products?q=PD-&sort=reach", "/staff/products?page=2",
    "/staff/cases", "/staff/cases?show=all", "/staff/reports/overdue",
]


def _add_products(app, outlet_ids, registration_ids, first: int, count: int) -> None:
    """`count` products through the ORM (so the model sets the folded copies), a case for one in
    five, a country and a language each."""
    with app.app_context():
        for number in range(first, first + count):
            product = Product(title=f"Product {number}", outlet_id=outlet_ids[number % len(outlet_ids)],
                              registration_id=registration_ids[number % len(registration_ids)] if number % 2 else None,
                              type=ProductType.article, channel=Channel.website,
                              cooperation_type=CooperationType.facilitated, status=ProductStatus.published,
                              publication_date=date(2025, 1, 1) + timedelta(days=number), reach=number * 10,
                              url=f"https://media.example/{number}")
            product.country_rows.append(ProductCountry(code="JP"))
            product.language_rows.append(ProductLanguage(code="ja"))
            app_db.session.add(product)
            app_db.session.flush()
            if number % 5 == 0:
                app_db.session.add(SovereigntyCase(product_id=product.id, title=product.title, finding="A map.",
                                                   detected_on=local_today(), status=CaseStatus.detected))
        app_db.session.commit()


def _add_ended_visits(app, outlet_ids, count: int) -> list[int]:
    """Completed visits that ended long ago, without a product: each one's report is overdue."""
    ids = []
    with app.app_context():
        for number in range(count):
            end = local_today() - timedelta(days=60 + number)
            registration = Registration(reference=f"PD-2026-{len(outlet_ids) * 1000 + number + 900000:06d}",
                                        kind=list(RegistrationKind)[0],
                                        outlet_id=outlet_ids[number % len(outlet_ids)], status=Status.completed,
                                        start_date=end - timedelta(days=2), end_date=end)
            app_db.session.add(registration)
            app_db.session.flush()
            ids.append(registration.id)
        app_db.session.commit()
    return ids


def _statements(app, client) -> dict[str, int]:
    counts = {}
    with app.app_context():
        engine = app_db.engine
    for path in PAGES:
        client.get(path)  # a first request warms what is loaded once per process
        with statements_sent(engine) as sent:
            response = client.get(path)
        assert response.status_code == 200, path
        counts[path] = len(sent)
    return counts


def test_statements_do_not_grow_with_the_data_or_the_page_size(app, client, make_user):
    app.config["PAGE_SIZE"] = 2  # every list but one (nothing to review) fills its page
    with app.app_context():
        outlets = [Outlet(name=f"Outlet {number}", country="JP", media_type=MediaType.newspaper)
                   for number in range(4)]
        app_db.session.add_all(outlets)
        app_db.session.commit()
        outlet_ids = [outlet.id for outlet in outlets]
    visits = _add_ended_visits(app, outlet_ids, 12)
    _add_products(app, outlet_ids, visits[:4], 1, 12)
    officer = make_user(Role.officer, locale="en")
    login(client, officer.email)
    few = _statements(app, client)

    more_visits = _add_ended_visits(app, outlet_ids + outlet_ids[:1], 40)
    _add_products(app, outlet_ids, visits[:4] + more_visits[:10], 13, 90)
    many = _statements(app, client)
    assert many == few

    app.config["PAGE_SIZE"] = 60  # whole pages of products, cases and visits, each with its neighbours
    bigger_pages = _statements(app, client)
    # The same, or one fewer where the first page now holds the whole list (it is its own count).
    assert all(few[path] - 1 <= bigger_pages[path] <= few[path] for path in PAGES), (few, bigger_pages)
    text = client.get("/staff/products").get_data(as_text=True)
    assert text.count("/products/") >= 60 and "flagged" in text


def test_the_overdue_reports_are_read_oldest_first_from_the_in_force_registrations_index(app, client, make_user):
    """The list's page and the reminders' query are conditions the partial index
    ix_registrations_in_force_end serves (the statuses written into the SQL); the list shows the
    longest overdue first, and a visit that has a product is not on it. The migration's predicate is
    the model's."""
    import importlib

    from app.registrations.models import IN_FORCE_STATUS_SQL

    assert importlib.import_module("migrations.versions.0013_in_force_end_index").IN_FORCE_STATUS_SQL \
        == IN_FORCE_STATUS_SQL
    with app.app_context():
        outlet = Outlet(name="Outlet overdue", country="JP", media_type=MediaType.newspaper)
        app_db.session.add(outlet)
        app_db.session.commit()
        outlet_id = outlet.id
        engine = app_db.engine
    visits = _add_ended_visits(app, [outlet_id], 5)  # ended 60, 61 ... 64 days ago
    _add_products(app, [outlet_id], visits[1:2], 1, 2)  # the second one (number 1) has a product
    login(client, make_user(Role.officer, locale="en").email)
    with statements_sent(engine) as sent:
        page = client.get("/staff/reports/overdue")
    assert page.status_code == 200
    with app.app_context():
        references = {registration_id: app_db.session.get(Registration, registration_id).reference
                      for registration_id in visits}
    text = page.get_data(as_text=True)
    shown = sorted((text.index(references[registration_id]), registration_id) for registration_id in visits
                   if references[registration_id] in text)
    assert [registration_id for _position, registration_id in shown] == [visits[4], visits[3], visits[2], visits[0]]
    rows = next((statement, parameters) for statement, parameters in sent
                if statement.lstrip().startswith("SELECT registrations.id") and "LIMIT" in statement)
    assert "IN ('approved', 'completed')" in rows[0]
    assert_index_can_serve(engine, rows[0], rows[1], "registrations",
                           r"(?:LEFT OUTER JOIN [^W]*)?WHERE registrations\.status IN \('approved'",
                           "ix_registrations_in_force_end")


def _product(title: str, outlet_id: int, original_title: str | None = None, **values) -> Product:
    values.setdefault("publication_date", date(2025, 5, 1))
    return Product(title=title, original_title=original_title, outlet_id=outlet_id, type=ProductType.article,
                   channel=Channel.website, cooperation_type=CooperationType.facilitated,
                   status=ProductStatus.published, **values)


@pytest.fixture
def titled(app, make_user, client):
    """Products whose titles have diacritics, one stored decomposed (NFD), and an officer logged in."""
    with app.app_context():
        outlet = Outlet(name="Báo Đồng Nai", country="VN", media_type=MediaType.newspaper)
        other = Outlet(name="Nordic TV", country="NO", media_type=MediaType.television)
        app_db.session.add_all([outlet, other])
        app_db.session.flush()
        app_db.session.add_all([
            _product("Lúa gạo", other.id, publication_date=date(2025, 1, 1)),
            _product("Lúa gạo Đồng Tháp", other.id, publication_date=date(2025, 6, 1)),
            _product("Mùa lúa gạo ở Tây Ninh", other.id, publication_date=date(2025, 9, 1)),
            _product(unicodedata.normalize("NFD", "Nguyễn Văn Đức và cánh đồng"), other.id),
            _product("Rice fields", other.id, original_title="Đồng lúa Tây Ninh"),
            _product("Harbour life", outlet.id, url="https://media.example/bien-dao"),
            _product("Unrelated", other.id),
        ])
        app_db.session.commit()
    officer = make_user(Role.officer, locale="en")
    login(client, officer.email)
    return client


def _titles(client, query: str) -> list[str]:
    text = client.get("/staff/products?" + query).get_data(as_text=True)
    found = re.findall(r'<td class="tc-title"><a href="/products/\d+">([^<]+)</a>', text)
    return [unicodedata.normalize("NFC", title) for title in found]


def test_search_ignores_case_and_diacritics_both_ways(titled):
    assert set(_titles(titled, "q=lua+gao")) == {"Lúa gạo", "Lúa gạo Đồng Tháp", "Mùa lúa gạo ở Tây Ninh"}
    assert set(_titles(titled, "q=LÚA+GẠO")) == {"Lúa gạo", "Lúa gạo Đồng Tháp", "Mùa lúa gạo ở Tây Ninh"}
    assert set(_titles(titled, "q=tay+ninh")) == {"Mùa lúa gạo ở Tây Ninh", "Rice fields"}  # original title too
    # Stored NFD, typed NFC with its accents, or without them, or with "d" for "đ".
    assert _titles(titled, "q=" + unicodedata.normalize("NFC", "Nguyễn Văn")) == ["Nguyễn Văn Đức và cánh đồng"]
    assert _titles(titled, "q=nguyen+van+duc") == ["Nguyễn Văn Đức và cánh đồng"]
    assert _titles(titled, "q=dong+nai") == ["Harbour life"]  # the outlet's name
    assert _titles(titled, "q=bien-dao") == ["Harbour life"]  # a part of the URL
    assert _titles(titled, "q=100%25") == []  # LIKE's wildcards are searched for, not obeyed


def test_search_ranks_exact_then_prefix_then_substring_then_the_sort(titled):
    # Exact title, then the title that starts with the term, then the one that contains it.
    assert _titles(titled, "q=lua+gao") == ["Lúa gạo", "Lúa gạo Đồng Tháp", "Mùa lúa gạo ở Tây Ninh"]
    # Within a rank, the chosen sort: two titles starting with "lua", by title or by date.
    assert _titles(titled, "q=l%C3%BAa&sort=title") == ["Lúa gạo", "Lúa gạo Đồng Tháp", "Mùa lúa gạo ở Tây Ninh",
                                                         "Rice fields"]
    # An original title starting with it (1), titles containing it, newest first (2), the outlet's name (3).
    assert _titles(titled, "q=dong") == ["Rice fields", "Lúa gạo Đồng Tháp", "Nguyễn Văn Đức và cánh đồng",
                                         "Harbour life"]


def test_sorts_order_the_list(titled):
    assert _titles(titled, "sort=title")[:3] == ["Harbour life", "Lúa gạo", "Lúa gạo Đồng Tháp"]
    assert _titles(titled, "sort=published")[0] == "Mùa lúa gạo ở Tây Ninh"
    assert _titles(titled, "sort=nonsense") == _titles(titled, "")
