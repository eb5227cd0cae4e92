"""Search without case or diacritics (app/search.py) in the staff queue, the same on SQLite and
PostgreSQL (CI runs this file on both), and the queue's statements: a fixed number whatever the
data, the filters or the page size."""
from __future__ import annotations

import re
import unicodedata

import pytest
import sqlalchemy as sa

from app.auth.models import Role
from app.extensions import db as app_db
from app.outlets.models import CrewMember, Outlet
from app.places.models import Place
from app.registrations.models import ItineraryItem, OPEN_STATUS_SQL, Registration, Status
from app.search import backfill, fold, like_pattern
from tests.support import assert_index_can_serve, login, statements_sent

QUEUE = "/staff/registrations?status=all"


@pytest.mark.parametrize("text, folded", [
    ("Tây Ninh", "tay ninh"),
    ("Nguyễn Văn Đức", "nguyen van duc"),
    (unicodedata.normalize("NFD", "Phường Tân Ninh"), "phuong tan ninh"),
    ("  ĐÀI   Truyền hình ", "dai truyen hinh"),
    ("Łódź Gazeta", "lodz gazeta"),
    ("Straße", "strasse"),
    ("", ""),
    (None, ""),
])
def test_fold(text, folded):
    assert fold(text) == folded


def test_a_like_pattern_takes_percent_and_underscore_literally():
    assert like_pattern("50%_off") == "%50\\%\\_off%"


@pytest.fixture
def staff(client, make_user):
    officer = make_user(Role.officer, locale="en")
    login(client, officer.email)
    return client


@pytest.fixture
def dossiers(db, make_registration, make_outlet, make_crew_member, make_place):
    """Three submitted registrations: one of "Đài Truyền hình Tây Ninh" whose crew member is
    "Nguyễn Văn Đức", stored decomposed (NFD); one visiting "Xã Biên Giới"; one of "Nordic TV"."""
    first, _ = make_registration(Status.submitted)
    second, _ = make_registration(Status.submitted)
    third, _ = make_registration(Status.submitted)
    outlet = db.session.get(Outlet, first.outlet_id)
    outlet.name = unicodedata.normalize("NFD", "Đài Truyền hình Tây Ninh")
    member = db.session.get(Registration, first.id).crew_members[0]
    member.full_name = unicodedata.normalize("NFD", "Nguyễn Văn Đức")
    place = db.session.get(Registration, second.id).itinerary[0].place
    place.name_vi, place.name_en = "Xã Biên Giới", "Bien Gioi Commune"
    db.session.get(Outlet, third.outlet_id).name = "Nordic TV"
    db.session.commit()
    return first, second, third


def _references(client, query: str) -> set[str]:
    page = client.get(QUEUE + "&q=" + query).get_data(as_text=True)
    body = page[page.index("<tbody>"):page.index("</tbody>")] if "<tbody>" in page else ""
    return set(re.findall(r"\bPD-\d{4}-\d+\b", body))


@pytest.mark.parametrize("query, which", [
    ("tay ninh", {0}),  # no diacritics typed, NFD stored
    ("Tây Ninh", {0}),  # diacritics typed (NFC), NFD stored
    ("TÂY NINH", {0}),
    ("dai truyen", {0}),  # "d" finds "Đ"
    ("đài", {0}),  # and "đ" finds it too
    ("nguyen van duc", {0}),  # a crew member's name
    ("Nguyễn Văn", {0}),
    ("bien gioi", {1}),  # a place of the programme, by its Vietnamese name ...
    ("commune", {1}),  # ... or its English one
    ("nordic", {2}),
    ("xyz-none", set()),
    ("%", set()),  # not a wildcard
])
def test_the_queue_finds_without_case_or_diacritics(staff, dossiers, query, which):
    assert _references(staff, query) == {dossiers[index].reference for index in which}


def test_a_reference_is_found_whole_or_in_part_and_comes_first(staff, db, dossiers):
    first, second, _third = dossiers
    db.session.get(Outlet, second.outlet_id).name = f"Outlet about {first.reference.lower()}"
    db.session.commit()
    assert _references(staff, first.reference.lower()) == {first.reference, second.reference}
    page = staff.get(QUEUE + "&sort=submitted&q=" + first.reference).get_data(as_text=True)
    assert page.index(first.reference) < page.index(second.reference)  # the exact reference first
    number = first.reference.rsplit("-", 1)[1]
    assert first.reference in _references(staff, number)
    # Its beginning (read as a range of the reference's index on SQLite), in either case.
    beginning = first.reference[:-1]
    found = _references(staff, beginning.lower())
    assert first.reference in found and all(reference.startswith(beginning) for reference in found - {second.reference})
    assert _references(staff, "PD-1999-") == set()


def test_a_search_counts_every_match_on_every_page_in_one_statement_with_its_ids(app, staff, db, dossiers):
    """The total comes with the page's ids (count(*) OVER ()); a page beyond the last counts apart."""
    for registration in dossiers:
        db.session.get(Outlet, registration.outlet_id).name = "Nordic TV"
    db.session.commit()
    app.config["PAGE_SIZE"] = 2
    with app.app_context():
        engine = app_db.engine
    for page, rows in ((1, 2), (2, 1), (5, 0)):
        with statements_sent(engine) as sent:
            text = staff.get(f"{QUEUE}&q=nordic&page={page}").get_data(as_text=True)
        assert '<p class="small text-body-secondary" id="queue-count">3 registrations</p>' in text, page
        assert len(_references(staff, f"nordic&page={page}")) == rows
        counts = [statement for statement, _parameters in sent
                  if statement.lstrip().upper().startswith("SELECT COUNT(*)") and "registrations.status !=" in statement]
        assert len(counts) == (1 if rows == 0 else 0), page  # the queue's own count, apart only past the end


def test_a_place_typed_in_is_found(staff, db, dossiers):
    _first, _second, third = dossiers
    item = db.session.get(Registration, third.id).itinerary[0]
    item.place_id, item.place_text = None, "Chợ Long Hoa"
    db.session.commit()
    assert _references(staff, "cho long hoa") == {third.reference}


def test_the_folded_copies_follow_every_change_and_backfill_sets_bulk_rows(app, db, make_outlet):
    outlet = make_outlet(name="Báo Tây Ninh")
    assert db.session.get(Outlet, outlet.id).name_folded == "bao tay ninh"
    db.session.execute(sa.update(Outlet).where(Outlet.id == outlet.id).values(name="Đài Phát thanh"))
    db.session.execute(sa.insert(Place), [{"code": "BULK", "name_vi": "Cửa khẩu Mộc Bài", "name_en": "Moc Bai Gate",
                                           "kind": "site", "border_area": True, "active": True}])
    db.session.commit()
    with app.app_context():
        assert backfill() == 2
        app_db.session.commit()
    db.session.expire_all()
    assert db.session.get(Outlet, outlet.id).name_folded == "dai phat thanh"
    place = db.session.scalar(sa.select(Place).where(Place.code == "BULK"))
    assert place.name_folded == "cua khau moc bai | moc bai gate"
    with app.app_context():
        assert backfill() == 0  # nothing left to set


# --- statements ---------------------------------------------------------------------------------

QUEUE_PAGES = [
    "/staff/registrations", "/staff/registrations?status=all", "/staff/registrations?status=all&sort=submitted",
    "/staff/registrations?status=all&sort=start", "/staff/registrations?status=all&sort=reference",
    "/staff/registrations?status=all&nationality=NO", "/staff/registrations?status=all&border=y",
    "/staff/registrations?status=all&kind=non_resident", "/staff/registrations?status=all&mine=y",
    "/staff/registrations?due=overdue", "/staff/registrations?due=soon", "/staff/registrations?status=all&q=nordic",
    "/staff/registrations?status=all&q=ingrid&date_from=2026-01-01&date_to=2027-12-31",
]


def _statements(app, client, paths) -> list[int]:
    with app.app_context():
        engine = app_db.engine
    result = []
    for path in paths:
        with statements_sent(engine) as sent:
            assert client.get(path).status_code == 200, path
        result.append(len(sent))
    return result


def test_the_queue_and_the_dossier_page_cost_the_same_statements_for_few_or_many_rows(
        app, staff, db, make_registration, make_place):
    def build(count):
        made = [make_registration(Status.submitted, border=True)[0] for _ in range(count)]
        for registration in made:  # a longer programme: its places come in one statement
            for position in range(1, 4):
                db.session.add(ItineraryItem(registration_id=registration.id, position=position,
                                             place_id=make_place().id, host_organisation="", activity="",
                                             interviewees=""))
        db.session.commit()
        made += [make_registration(Status.completed, start_in_days=-40)[0] for _ in range(count)]
        return made

    first = make_registration(Status.submitted, border=True)[0]
    build(1)
    pages = QUEUE_PAGES + [f"/registrations/{first.id}"]
    few = _statements(app, staff, pages)
    app.config["PAGE_SIZE"] = 4
    longer = build(5)[0]  # more than a page, and programmes of four days
    pages_now = QUEUE_PAGES + [f"/registrations/{longer.id}"]
    many = _statements(app, staff, pages_now + [p + ("&" if "?" in p else "?") + "page=2" for p in QUEUE_PAGES[:3]])
    assert many[:len(pages)] == few
    assert many[len(pages):] == few[:3]  # the second page costs what the first does
    assert max(few[:-1]) <= 21 and few[-1] <= 30  # the queue; the dossier page (BEGIN and the menu included)


def test_the_default_queue_reads_the_open_dossiers_from_their_own_index(app, staff, db, dossiers):
    """The queue's default view (open dossiers by deadline) and the menu's overdue count are
    conditions the partial index ix_registrations_open_due serves: the statuses are written into
    the SQL (a bound parameter proves nothing to SQLite's planner), and the database's planner
    can take the index for them (forced: a handful of rows is cheaper to scan, and an index whose
    condition the query does not imply cannot be used at all: SQLite refuses the statement,
    PostgreSQL's EXPLAIN names another way). The migration's predicate is the model's."""
    import importlib

    migration = importlib.import_module("migrations.versions.0012_open_dossiers_index")
    assert migration.OPEN_STATUS_SQL == OPEN_STATUS_SQL
    with app.app_context():
        engine = app_db.engine
    with statements_sent(engine) as sent:
        page = staff.get("/staff/registrations")
    assert page.status_code == 200
    first_ids = next((statement, parameters) for statement, parameters in sent
                     if statement.lstrip().startswith("SELECT registrations.id") and "LIMIT" in statement)
    overdue = next((statement, parameters) for statement, parameters in sent
                   if "registrations.due_date <" in statement and "count(" in statement)
    assert "IN ('submitted', 'in_review', 'needs_info')" in first_ids[0]
    assert "CASE" not in first_ids[0]  # no "open first" term when every row is open
    open_where = r"WHERE registrations\.status (?:!= \? AND registrations\.status )?IN \('submitted'"
    for (statement, parameters), where in ((first_ids, open_where),
                                          (overdue, open_where + r"[^)]*\) AND registrations\.due_date <")):
        assert_index_can_serve(engine, statement, parameters, "registrations", where, "ix_registrations_open_due")
