"""The staff's calendar of approved visits and the secret iCalendar feed behind each one's link."""
from __future__ import annotations

import calendar as month_calendar
import hashlib
import re
from datetime import date, timedelta
from html.parser import HTMLParser

import icalendar
import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.auth.models import Role, User
from app.registrations.models import Registration, Status
from tests.support import csrf_token, login, post_form

FEED_LINK = re.compile(r'value="http://localhost/calendar/([A-Za-z0-9_-]+)\.ics"')


# --- helpers ---------------------------------------------------------------------

class CalendarCells(HTMLParser):
    """The text of each grid cell, by its data-date."""

    def __init__(self):
        super().__init__()
        self.cells, self.current, self.depth = {}, None, 0

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "td" and "data-date" in attributes:
            self.current, self.depth = attributes["data-date"], 0
            self.cells[self.current] = ""
        elif self.current is not None and tag == "td":
            self.depth += 1

    def handle_endtag(self, tag):
        if tag == "td" and self.current is not None:
            if self.depth == 0:
                self.current = None
            else:
                self.depth -= 1

    def handle_data(self, data):
        if self.current is not None:
            self.cells[self.current] += data


def grid_cells(html: str) -> dict[str, str]:
    parser = CalendarCells()
    parser.feed(html)
    return {key: " ".join(value.split()) for key, value in parser.cells.items()}


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def local_today(app) -> date:
    from app.registrations.service import local_today as today

    with app.app_context():
        return today()


def stored(db, registration) -> Registration:
    return db.session.get(Registration, registration.id)


def set_fields(app, model, object_id, **values):
    """Change a row directly, as a later step of its life would have."""
    from app.extensions import db as app_db

    with app.app_context():
        row = app_db.session.get(model, object_id)
        for name, value in values.items():
            setattr(row, name, value)
        app_db.session.commit()


def create_link(client) -> str:
    response = post_form(client, "/staff/calendar/link", page="/staff/calendar")
    assert response.status_code == 200
    match = FEED_LINK.search(response.get_data(as_text=True))
    assert match, "the new link is not on the page"
    return match.group(1)


@pytest.fixture
def officer(make_user):
    return make_user(Role.officer, locale="en", full_name="Lê Thị Cán Bộ")


@pytest.fixture
def officer_client(app, officer):
    browser = app.test_client()
    login(browser, officer.email)
    return browser


def parse_feed(response) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(response.data)


def events_by_uid(feed: icalendar.Calendar) -> dict[str, icalendar.Event]:
    return {str(event["UID"]): event for event in feed.walk("VEVENT")}


# --- the month page ------------------------------------------------------------------

def test_month_grid_shows_a_visit_on_each_of_its_days(app, db, officer, officer_client, make_registration):
    registration, _ = make_registration(Status.approved, border=True, start_in_days=40, days=2,
                                        assigned_to=officer)
    start, end = registration.start_date, registration.end_date

    response = officer_client.get(f"/staff/calendar?month={month_of(start)}")

    assert response.status_code == 200
    cells = grid_cells(response.get_data(as_text=True))
    first = start.replace(day=1)
    last = first.replace(day=month_calendar.monthrange(first.year, first.month)[1])
    shown = {key for key, text in cells.items() if registration.reference in text}
    expected = {(start + timedelta(days=offset)).isoformat() for offset in range((end - start).days + 1)
                if first <= start + timedelta(days=offset) <= last}
    assert shown == expected
    # Monday first: the grid's first cell is a Monday, its last a Sunday.
    dates = sorted(date.fromisoformat(key) for key in cells)
    assert dates[0].weekday() == 0 and dates[-1].weekday() == 6
    assert len(dates) % 7 == 0
    html = response.get_data(as_text=True)
    assert '<th scope="col">Monday</th>' in html
    assert html.index("<th scope=\"col\">Monday</th>") < html.index("<th scope=\"col\">Sunday</th>")
    assert f"<caption>Approved visits in {first:%B %Y}, one column per weekday from Monday</caption>" in html


def test_agenda_lists_places_escort_crew_and_officer(app, db, officer, officer_client, make_registration,
                                                     make_crew_member, make_place):
    registration, correspondent = make_registration(Status.approved, border=True, start_in_days=40, days=2,
                                                    assigned_to=officer)
    row = stored(db, registration)
    outlet_name = row.outlet.name
    place_en = row.itinerary[0].place.name_en
    make_crew_member(row.outlet, full_name="Ola Nordmann")  # in the outlet, not in this visit's crew

    html = officer_client.get(f"/staff/calendar?month={month_of(registration.start_date)}").get_data(as_text=True)

    agenda = html[html.index('id="agenda-heading"'):html.index('id="calendar-link"')]
    assert f'href="/registrations/{registration.id}">{registration.reference}</a>' in agenda
    assert f"{outlet_name} (Norway)" in agenda
    assert "<h3 class=\"h5 mt-3\">Upcoming</h3>" in agenda
    assert f"{registration.start_date:%-d %b %Y}: {place_en}" in agenda
    assert agenda.count('<span class="badge text-bg-warning">border area</span>') == 2  # the visit and its place
    assert 'Trần Văn Hộ, <a href="tel:+84912000111">+84 912 000 111</a>' in agenda
    assert re.search(r'Crew</dt><dd class="[^"]+">1</dd>', agenda)
    assert "Lê Thị Cán Bộ" in agenda
    # Personal data of the crew never shows here.
    for member in row.crew_members:
        assert member.passport_number not in html and member.full_name not in html


def test_agenda_puts_current_visits_before_upcoming_ones(app, db, officer_client, make_registration):
    today = local_today(app)
    current, _ = make_registration(Status.approved, start_in_days=-3, days=7)
    upcoming, _ = make_registration(Status.approved, start_in_days=2, days=1)
    # The frozen clock (conftest) puts both visits in this month's grid, whatever the real date.
    assert upcoming.start_date.month == today.month
    assert current.start_date <= today <= current.end_date and upcoming.start_date > today

    html = officer_client.get("/staff/calendar").get_data(as_text=True)

    under_way, coming = html.index(">Under way today</h3>"), html.index(">Upcoming</h3>")
    assert under_way < html.index(current.reference, under_way) < coming < html.index(upcoming.reference, coming)
    cells = grid_cells(html)
    assert "today" in cells[today.isoformat()]
    assert f'data-date="{today.isoformat()}" class="table-primary" aria-current="date"' in html


def test_only_approved_visits_and_past_days_of_completed_ones_are_shown(app, db, officer_client,
                                                                        make_registration):
    today = local_today(app)
    approved, _ = make_registration(Status.approved, start_in_days=30, days=1)
    others = [make_registration(status, start_in_days=30, days=1)[0]
              for status in (Status.draft, Status.submitted, Status.in_review, Status.refused, Status.revoked,
                             Status.withdrawn, Status.superseded)]
    # A completed visit that (oddly) still runs: only its days before today are history to show.
    completed, _ = make_registration(Status.completed, start_in_days=-2, days=4)

    html = officer_client.get(f"/staff/calendar?month={month_of(approved.start_date)}").get_data(as_text=True)
    assert approved.reference in html
    for registration in others:
        assert registration.reference not in html

    cells = {}
    for month in sorted({month_of(completed.start_date), month_of(completed.end_date)}):
        cells.update(grid_cells(officer_client.get(f"/staff/calendar?month={month}").get_data(as_text=True)))
    shown = {key for key, text in cells.items() if completed.reference in text}
    expected = {(completed.start_date + timedelta(days=offset)).isoformat() for offset in range(5)
                if completed.start_date + timedelta(days=offset) < today
                and month_of(completed.start_date + timedelta(days=offset)) in {
                    month_of(completed.start_date), month_of(completed.end_date)}}
    assert shown == expected and expected  # the days before today, and never today or later
    assert today.isoformat() not in shown
    page = officer_client.get(f"/staff/calendar?month={month_of(completed.start_date)}").get_data(as_text=True)
    agenda = page[page.index('id="agenda-heading"'):]
    ended = agenda.index(">Ended</h3>")
    assert ended < agenda.index(completed.reference) and ">Upcoming</h3>" not in agenda[ended:]
    assert '<span class="badge text-bg-dark">completed</span>' in agenda


def test_month_navigation(app, officer_client):
    response = officer_client.get("/staff/calendar?month=2099-01")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<h2 class="h4">January 2099</h2>' in html
    assert 'href="/staff/calendar?month=2098-12">‹ December 2098</a>' in html
    assert 'href="/staff/calendar?month=2099-02">February 2099 ›</a>' in html
    assert 'href="/staff/calendar">This month</a>' in html
    cells = grid_cells(html)
    assert min(cells) == "2098-12-29" and max(cells) == "2099-02-01"  # 1 January 2099 is a Thursday

    december = officer_client.get("/staff/calendar?month=2099-12").get_data(as_text=True)
    assert 'href="/staff/calendar?month=2100-01">January 2100 ›</a>' in december
    this_month = officer_client.get("/staff/calendar").get_data(as_text=True)
    assert ">This month</a>" not in this_month
    assert f'<h2 class="h4">{local_today(app):%B %Y}</h2>' in this_month


def test_calendar_in_vietnamese_starts_on_monday(app, make_user):
    leader = make_user(Role.leader, locale="vi")
    browser = app.test_client()
    login(browser, leader.email)
    html = browser.get("/staff/calendar?month=2027-03").get_data(as_text=True)
    assert '<h2 class="h4">Tháng 3 năm 2027</h2>' in html
    headers = re.findall(r'<th scope="col">([^<]+)</th>', html)
    assert headers == ["Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật"]


@pytest.mark.parametrize("month", ["2026-13", "2026-00", "2026-1", "26-12", "abc", "2026-12-01", "0999-01",
                                   "9999-12", "２０２６-12"])
def test_a_bad_month_is_a_clear_400(officer_client, month):
    response = officer_client.get("/staff/calendar", query_string={"month": month})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert f"“{month}” is not a month the calendar can show. Write the month as year-month, for example" in html


def test_the_page_loads_in_a_fixed_number_of_queries(app, make_registration, make_user):
    from app.extensions import db as app_db

    officer = make_user(Role.officer, locale="en")
    browser = app.test_client()
    login(browser, officer.email)
    first, _ = make_registration(Status.approved, border=True, start_in_days=40, days=2, assigned_to=officer)
    month = month_of(first.start_date)
    with app.app_context():
        engine = app_db.engine
    statements = []

    def count(*args):
        statements.append(args[2])

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        browser.get(f"/staff/calendar?month={month}")
        one = len(statements)
        for _ in range(4):
            make_registration(Status.approved, border=True, start_in_days=40, days=2,
                              assigned_to=make_user(Role.officer))
        statements.clear()
        html = browser.get(f"/staff/calendar?month={month}").get_data(as_text=True)
        assert len(statements) == one
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert html.count("border area</span>") >= 10


# --- access ----------------------------------------------------------------------------

@pytest.mark.parametrize("role, status", [(Role.correspondent, 403), (Role.admin, 403), (Role.officer, 200),
                                          (Role.leader, 200)])
def test_only_officers_and_leaders_see_the_calendar(app, make_user, role, status):
    user = make_user(role)
    browser = app.test_client()
    login(browser, user.email)
    assert browser.get("/staff/calendar").status_code == status


@pytest.mark.parametrize("role", [Role.correspondent, Role.admin])
def test_others_cannot_make_a_calendar_link(app, db, make_user, role):
    user = make_user(role)
    browser = app.test_client()
    login(browser, user.email)
    response = browser.post("/staff/calendar/link", data={"csrf_token": csrf_token(browser, "/")})
    assert response.status_code == 403
    assert db.session.get(User, user.id).calendar_token_hash is None


def test_anonymous_visitors_are_sent_to_login(client):
    for response in (client.get("/staff/calendar"),
                     client.post("/staff/calendar/link", data={"csrf_token": csrf_token(client, "/")})):
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")


def test_a_correspondent_with_a_stored_link_gets_no_feed(app, db, make_user):
    correspondent = make_user(Role.correspondent)
    set_fields(app, User, correspondent.id, calendar_token_hash=hashlib.sha256(b"guessed-secret").hexdigest())
    assert app.test_client().get("/calendar/guessed-secret.ics").status_code == 404


# --- the link ----------------------------------------------------------------------------

def test_the_link_is_shown_once_and_only_its_hash_is_stored(app, db, officer, officer_client):
    page = officer_client.get("/staff/calendar").get_data(as_text=True)
    assert "You have no calendar link yet." in page and "Create my calendar link</button>" in page

    response = post_form(officer_client, "/staff/calendar/link", page="/staff/calendar")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    token = FEED_LINK.search(html).group(1)
    assert len(token) == 43
    assert "It is shown only this once." in html

    user = db.session.get(User, officer.id)
    assert user.calendar_token_hash == hashlib.sha256(token.encode()).hexdigest()
    # The secret itself is nowhere in the database: not in the user's row, not in the audit log.
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "calendar.link_reset")).all()
    assert [(event.actor_id, event.object_type, event.object_id) for event in events] == [
        (officer.id, "users", str(officer.id))]
    assert token not in repr((event.before, event.after) for event in events)
    assert token not in repr({column.name: getattr(user, column.name) for column in User.__table__.columns})

    later = officer_client.get("/staff/calendar").get_data(as_text=True)
    assert token not in later
    assert "You have a calendar link." in later and "Reset my calendar link</button>" in later


def test_reset_stops_the_old_link(app, db, officer, officer_client):
    old = create_link(officer_client)
    assert app.test_client().get(f"/calendar/{old}.ics").status_code == 200

    new = create_link(officer_client)

    assert new != old
    feed = app.test_client()
    assert feed.get(f"/calendar/{old}.ics").status_code == 404
    assert feed.get(f"/calendar/{new}.ics").status_code == 200
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "calendar.link_reset")) == 2


def test_making_a_link_needs_the_csrf_token(app, db, officer, officer_client):
    response = officer_client.post("/staff/calendar/link")
    assert response.status_code == 400
    assert db.session.get(User, officer.id).calendar_token_hash is None


def test_opening_the_link_address_goes_back_to_the_calendar(officer_client):
    response = officer_client.get("/staff/calendar/link")
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/calendar#calendar-link"


# --- the feed -------------------------------------------------------------------------------

def test_feed_lists_approved_visits_as_all_day_events(app, db, officer, officer_client, make_registration):
    registration, _ = make_registration(Status.approved, border=True, start_in_days=10, days=2,
                                        assigned_to=officer)
    row = stored(db, registration)
    outlet_name, place = row.outlet.name, row.itinerary[0].place
    passports = [member.passport_number for member in row.crew_members]
    token = create_link(officer_client)

    response = app.test_client().get(f"/calendar/{token}.ics")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Cache-Control"] == "private, max-age=300"
    assert response.headers["X-Robots-Tag"] == "noindex"
    feed = parse_feed(response)
    assert str(feed["VERSION"]) == "2.0"
    assert str(feed["PRODID"]) == "-//PressDesk//Foreign press visits//EN"
    assert str(feed["X-WR-CALNAME"]) == "DEMO Tay Ninh Province – foreign press visits"
    assert str(feed["X-WR-TIMEZONE"]) == "Asia/Ho_Chi_Minh"
    events = events_by_uid(feed)
    assert list(events) == [f"registration-{registration.id}@localhost"]
    event = events[f"registration-{registration.id}@localhost"]
    assert event["DTSTART"].dt == registration.start_date and type(event["DTSTART"].dt) is date
    assert event["DTEND"].dt == registration.end_date + timedelta(days=1) and type(event["DTEND"].dt) is date
    assert str(event["SUMMARY"]) == f"{registration.reference} – {outlet_name}"
    assert str(event["LOCATION"]) == place.name_en
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["URL"]) == f"http://localhost/registrations/{registration.id}"
    assert event["SEQUENCE"] == row.version
    assert event["LAST-MODIFIED"].dt == row.updated_at.replace(microsecond=0)  # iCalendar counts in seconds
    description = str(event["DESCRIPTION"])
    assert description.splitlines() == [
        f"{outlet_name} (Norway)",
        "Status: approved",
        f"Dates: {registration.start_date:%-d %b %Y} – {registration.end_date:%-d %b %Y}",
        "Crew: 1",
        "Itinerary:",
        f"- {registration.start_date:%-d %b %Y}: {place.name_en} (border area) · Farmers' cooperative",
        "Escort or contact officer: Trần Văn Hộ, +84 912 000 111",
        "Assigned to Lê Thị Cán Bộ",
        f"http://localhost/registrations/{registration.id}",
    ]
    body = response.get_data(as_text=True)
    for passport in passports:
        assert passport not in body
    assert "1985" not in body  # the crew's date of birth
    for member in row.crew_members:
        assert member.full_name not in body


def test_feed_window_and_statuses(app, db, officer, officer_client, make_registration):
    approved, _ = make_registration(Status.approved, start_in_days=30, days=1)
    revoked, _ = make_registration(Status.revoked, start_in_days=5, days=3)
    superseded, _ = make_registration(Status.superseded, start_in_days=6, days=1)
    recent, _ = make_registration(Status.completed, start_in_days=-60, days=3)
    too_old, _ = make_registration(Status.completed, start_in_days=-120, days=3)
    absent = [make_registration(status, start_in_days=7, days=1)[0]
              for status in (Status.draft, Status.submitted, Status.in_review, Status.needs_info, Status.refused,
                             Status.withdrawn)]
    token = create_link(officer_client)

    events = events_by_uid(parse_feed(app.test_client().get(f"/calendar/{token}.ics")))

    uid = "registration-{}@localhost".format
    assert set(events) == {uid(approved.id), uid(revoked.id), uid(superseded.id), uid(recent.id)}
    assert str(events[uid(approved.id)]["STATUS"]) == "CONFIRMED"
    assert str(events[uid(recent.id)]["STATUS"]) == "CONFIRMED"
    cancelled = events[uid(revoked.id)]
    assert str(cancelled["STATUS"]) == "CANCELLED"
    assert cancelled["DTSTART"].dt == revoked.start_date
    assert cancelled["DTEND"].dt == revoked.end_date + timedelta(days=1)
    assert str(cancelled["SUMMARY"]).endswith(" (revoked)")
    assert str(events[uid(superseded.id)]["STATUS"]) == "CANCELLED"
    body = app.test_client().get(f"/calendar/{token}.ics").get_data(as_text=True)
    for registration in absent + [too_old]:
        assert registration.reference not in body


def test_feed_follows_changes_with_a_higher_sequence(app, db, officer, officer_client, make_registration):
    registration, _ = make_registration(Status.approved, start_in_days=10, days=1)
    token = create_link(officer_client)
    uid = f"registration-{registration.id}@localhost"
    before = events_by_uid(parse_feed(app.test_client().get(f"/calendar/{token}.ics")))[uid]

    set_fields(app, Registration, registration.id, status=Status.revoked)

    after = events_by_uid(parse_feed(app.test_client().get(f"/calendar/{token}.ics")))[uid]
    assert str(before["STATUS"]) == "CONFIRMED" and str(after["STATUS"]) == "CANCELLED"
    assert after["SEQUENCE"] == before["SEQUENCE"] + 1


def test_feed_is_in_the_users_language(app, db, make_user, make_registration):
    leader = make_user(Role.leader, locale="vi", full_name="Nguyễn Văn Lãnh Đạo")
    registration, _ = make_registration(Status.approved, border=True, start_in_days=10, days=1,
                                        assigned_to=leader)
    row = stored(db, registration)
    place = row.itinerary[0].place
    browser = app.test_client()
    login(browser, leader.email)
    token = create_link(browser)

    feed = parse_feed(app.test_client().get(f"/calendar/{token}.ics"))

    assert str(feed["X-WR-CALNAME"]).startswith("Tỉnh DEMO Tây Ninh")
    event = events_by_uid(feed)[f"registration-{registration.id}@localhost"]
    assert str(event["LOCATION"]) == place.name_vi
    description = str(event["DESCRIPTION"]).splitlines()
    assert description[0] == f"{row.outlet.name} (Na Uy)"
    assert description[1] == "Trạng thái: đã chấp thuận"
    assert description[2] == f"Thời gian: {registration.start_date:%d/%m/%Y} – {registration.end_date:%d/%m/%Y}"
    assert description[4] == "Lịch trình:"
    assert description[5] == (f"- {registration.start_date:%d/%m/%Y}: {place.name_vi} (khu vực biên giới) "
                              "· Farmers' cooperative")
    assert description[6] == "Cán bộ đi cùng hoặc đầu mối liên hệ: Trần Văn Hộ, +84 912 000 111"
    assert description[7] == "Chuyên viên thụ lý: Nguyễn Văn Lãnh Đạo"


def test_a_link_stops_with_the_account_or_the_role(app, db, officer, officer_client):
    token = create_link(officer_client)
    feed = app.test_client()
    assert feed.get(f"/calendar/{token}.ics").status_code == 200

    set_fields(app, User, officer.id, active=False)
    assert feed.get(f"/calendar/{token}.ics").status_code == 404

    set_fields(app, User, officer.id, active=True, role=Role.admin)
    assert feed.get(f"/calendar/{token}.ics").status_code == 404

    set_fields(app, User, officer.id, role=Role.leader)
    assert feed.get(f"/calendar/{token}.ics").status_code == 200


@pytest.mark.parametrize("token", ["unknown", "x" * 300, "%00"])
def test_an_unknown_link_is_404(client, token):
    assert client.get(f"/calendar/{token}.ics").status_code == 404


def test_the_feed_loads_in_a_fixed_number_of_queries(app, officer, officer_client, make_registration, make_user):
    from app.extensions import db as app_db

    make_registration(Status.approved, border=True, start_in_days=10, days=2, assigned_to=officer)
    token = create_link(officer_client)
    with app.app_context():
        engine = app_db.engine
    statements = []

    def count(*args):
        statements.append(args[2])

    feed = app.test_client()
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        feed.get(f"/calendar/{token}.ics")
        one = len(statements)
        for _ in range(4):
            make_registration(Status.revoked, border=True, start_in_days=10, days=2,
                              assigned_to=make_user(Role.leader))
        statements.clear()
        body = feed.get(f"/calendar/{token}.ics").data
        assert len(statements) == one
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert len(list(icalendar.Calendar.from_ical(body).walk("VEVENT"))) == 5


@pytest.mark.parametrize("app_config", [{"RATELIMIT_CALENDAR_FEED": "2 per minute"}])
def test_the_feed_is_rate_limited(app, client):
    assert [client.get("/calendar/unknown.ics").status_code for _ in range(3)] == [404, 404, 429]
