"""The administrator's calendar days (extra days off, make-up working days): the pages, their
rules, and the working calendar that counts them (the reply deadline moves)."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from flask import current_app
from sqlalchemy import event

from app.audit.models import AuditEvent
from app.auth.models import Role
from app.reference.models import CalendarDay, CalendarDayKind
from app.registrations.models import Registration, Status
from tests.support import login, post_form

# The frozen day (tests/conftest.py) is Wednesday 14 October 2026; no holiday near it.
WEDNESDAY = date(2026, 10, 14)
FRIDAY = date(2026, 10, 16)
SATURDAY = date(2026, 10, 17)


@pytest.fixture
def admin(client, make_user):
    user = make_user(Role.admin, locale="en")
    login(client, user.email)
    return user


@pytest.fixture
def database_calendar(monkeypatch):
    """The registrations' calendar with the calendar days (what the lead wires into
    app/registrations/service.py `working_calendar()`; harmless once it is)."""
    from app.reference.service import calendar_from_config_and_database
    from app.registrations import service as registrations

    monkeypatch.setattr(registrations, "working_calendar",
                        lambda: calendar_from_config_and_database(current_app.config))


def add_day(client, day: date, kind: str, note: str = ""):
    return post_form(client, "/admin/reference/calendar/new", {"day": day.isoformat(), "kind": kind, "note": note})


def days(db) -> list[tuple[date, CalendarDayKind]]:
    return list(db.session.execute(sa.select(CalendarDay.day, CalendarDay.kind).order_by(CalendarDay.day)).tuples())


def test_an_extra_day_off_is_added_listed_changed_and_deleted(client, db, admin):
    response = add_day(client, FRIDAY, "day_off", "Nghỉ bù theo quyết định của UBND tỉnh")
    assert response.status_code == 302 and response.location.endswith("/admin/reference/calendar/?year=2026")
    assert days(db) == [(FRIDAY, CalendarDayKind.day_off)]
    record = db.session.scalar(sa.select(CalendarDay))
    [created] = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "reference.calendar_day.created"))
    assert created.actor_id == admin.id and created.after == {"day": "2026-10-16", "kind": "day_off",
                                                              "note": "Nghỉ bù theo quyết định của UBND tỉnh"}
    text = client.get("/admin/reference/calendar/?year=2026").get_data(as_text=True)
    assert "16 Oct 2026" in text and "Friday" in text and "Extra day off" in text

    page = f"/admin/reference/calendar/{record.id}"
    assert post_form(client, page, {"day": SATURDAY.isoformat(), "kind": "working_day", "note": "Làm bù"}).status_code \
        == 302
    assert days(db) == [(SATURDAY, CalendarDayKind.working_day)]
    [updated] = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "reference.calendar_day.updated"))
    assert updated.before == {"day": "2026-10-16", "kind": "day_off", "note": "Nghỉ bù theo quyết định của UBND tỉnh"}
    assert updated.after == {"day": "2026-10-17", "kind": "working_day", "note": "Làm bù"}

    assert post_form(client, f"{page}/delete", page=page).status_code == 302
    assert days(db) == []
    [deleted] = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "reference.calendar_day.deleted"))
    assert deleted.before["day"] == "2026-10-17"
    # Calendar days have no active flag: nothing to deactivate.
    assert client.post(f"{page}/active").status_code in (400, 404)


@pytest.mark.parametrize("day, kind, message", [
    (SATURDAY, "day_off", "An extra day off must be a weekday."),
    (date(2026, 10, 18), "day_off", "An extra day off must be a weekday."),
    (WEDNESDAY, "working_day", "A make-up working day must be a Saturday or a Sunday"),
    (date(1900, 12, 29), "working_day", "The working calendar covers the years 1901 to 2100 only."),
    (FRIDAY, "holiday", "Not a valid choice"),
])
def test_a_refused_calendar_day_gives_422_and_saves_nothing(client, db, admin, day, kind, message):
    response = add_day(client, day, kind)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert days(db) == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action.like("reference.%"))) == 0


def test_a_date_is_in_the_calendar_once(client, db, admin):
    add_day(client, FRIDAY, "day_off")
    response = add_day(client, FRIDAY, "day_off", "again")
    assert response.status_code == 422 and "This date is already in the calendar." in response.get_data(as_text=True)
    response = post_form(client, "/admin/reference/calendar/new", {"day": "", "kind": "day_off"})
    assert response.status_code == 422 and "Enter the date." in response.get_data(as_text=True)
    assert days(db) == [(FRIDAY, CalendarDayKind.day_off)]


def test_the_calendar_is_listed_by_year(client, admin):
    add_day(client, FRIDAY, "day_off", "in 2026")
    add_day(client, date(2027, 2, 20), "working_day", "in 2027")
    everything = client.get("/admin/reference/calendar/").get_data(as_text=True)
    assert "in 2026" in everything and "in 2027" in everything
    assert '<option value="2027" >2027</option>' in everything or 'value="2027"' in everything
    only_2027 = client.get("/admin/reference/calendar/?year=2027").get_data(as_text=True)
    assert "in 2027" in only_2027 and "in 2026" not in only_2027
    assert '<option value="2027" selected>' in only_2027
    # A year the calendar does not cover, or not a number: the whole list.
    for nonsense in ("99999", "abc", "-1"):
        assert "in 2026" in client.get(f"/admin/reference/calendar/?year={nonsense}").get_data(as_text=True)


def test_a_day_off_moves_the_reply_deadline_and_a_make_up_day_moves_it_back(app, client, admin, database_calendar):
    from app.registrations.service import reply_due_date

    with app.test_request_context():
        assert reply_due_date(WEDNESDAY) == date(2026, 10, 21)  # five working days: Thu to Wed
    add_day(client, FRIDAY, "day_off")
    with app.test_request_context():
        assert reply_due_date(WEDNESDAY) == date(2026, 10, 22)
    add_day(client, SATURDAY, "working_day")
    with app.test_request_context():
        assert reply_due_date(WEDNESDAY) == date(2026, 10, 21)


def test_a_due_date_already_stored_does_not_move(app, client, db, admin, make_registration, database_calendar):
    registration, _correspondent = make_registration(Status.submitted)
    stored = registration.due_date
    add_day(client, FRIDAY, "day_off")
    add_day(client, date(2026, 10, 19), "day_off")
    assert db.session.get(Registration, registration.id).due_date == stored


def test_the_database_days_add_to_the_configured_ones_and_win_over_them(app, client, admin):
    from app.reference.service import calendar_from_config_and_database
    from app.registrations.workdays import calendar_from_config_and_days

    config = {"WORKING_CALENDAR_EXTRA_HOLIDAYS": ["2026-10-19"], "WORKING_CALENDAR_EXTRA_WORKING_DAYS": []}
    add_day(client, FRIDAY, "day_off")
    with app.test_request_context():
        calendar = calendar_from_config_and_database(config)
    assert not calendar.is_working_day(FRIDAY) and not calendar.is_working_day(date(2026, 10, 19))
    assert calendar.add_working_days(WEDNESDAY, 5) == date(2026, 10, 23)
    # A date in the configuration's days off and the administrator's working days: worked, no error.
    both = calendar_from_config_and_days(config, working_days=[date(2026, 10, 19)])
    assert both.is_working_day(date(2026, 10, 19))
    swapped = calendar_from_config_and_days({"WORKING_CALENDAR_EXTRA_WORKING_DAYS": ["2026-10-17"]},
                                            days_off=[SATURDAY])
    assert not swapped.is_working_day(SATURDAY)


def test_the_calendar_days_are_read_once_per_request(app, client, admin):
    from app.extensions import db as flask_db
    from app.reference import service

    add_day(client, FRIDAY, "day_off")
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if "calendar_days" in statement:
            statements.append(statement)

    with app.test_request_context():
        engine = flask_db.engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            for _ in range(3):
                assert not service.calendar_from_config_and_database(app.config).is_working_day(FRIDAY)
            assert len(statements) == 1
            # A change in the same request is seen at once.
            service.delete_calendar_day(None, flask_db.session.scalar(sa.select(CalendarDay)))
            assert service.calendar_from_config_and_database(app.config).is_working_day(FRIDAY)
            flask_db.session.rollback()
        finally:
            event.remove(engine, "before_cursor_execute", count)


def test_outside_a_request_a_long_lived_app_context_sees_new_days(app, db):
    """A worker keeps one app context for hours: it must not keep an old calendar."""
    from app.extensions import db as flask_db
    from app.reference.service import calendar_from_config_and_database

    with app.app_context():
        assert calendar_from_config_and_database(app.config).is_working_day(FRIDAY)
        flask_db.session.rollback()  # end the read transaction, as the worker does between passes
        db.session.add(CalendarDay(day=FRIDAY, kind=CalendarDayKind.day_off, note="added by another process"))
        db.session.commit()
        assert not calendar_from_config_and_database(app.config).is_working_day(FRIDAY)
