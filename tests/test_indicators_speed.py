"""The indicators at scale: a fixed number of statements whatever the data, and the SQL that
replaced per-row Python (local dates of timestamps, processing times) giving Python's answers.

Speed itself is measured by bench/bench_dashboard.py, not here.
"""
from __future__ import annotations

import random
import sys
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from app.db import UTCDateTime
from app.extensions import db as _db
from app.indicators.local_dates import local_date, offset_periods
from app.indicators.service import build_report, nearest_rank, period_for

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import bench_dashboard  # noqa: E402  (its seed: registrations in every state over 2022-2026)

# BEGIN (SQLite) excluded: revoked visits, registrations, calendar days, processing times, visits
# (one), products, flagged products, the five breakdowns of products (one), the sectors' names,
# the cases of the period.
REPORT_STATEMENTS = 10


def _statements_of_report(app, period) -> tuple[int, dict]:
    sent = []

    def count(_connection, _cursor, statement, *_args):
        if statement.strip().upper() not in ("BEGIN", "BEGIN IMMEDIATE"):
            sent.append(statement)

    with app.app_context():
        event.listen(_db.engine, "before_cursor_execute", count)
        try:
            report = build_report(period.start, period.end, "vi")
        finally:
            event.remove(_db.engine, "before_cursor_execute", count)
        _db.session.remove()
    return len(sent), {figure.key: figure.value for figure in report.figures}


@pytest.mark.parametrize("registrations", [40, 400, 2000])
def test_a_report_is_the_same_number_of_statements_whatever_the_data(app, registrations):
    with app.app_context():
        bench_dashboard.seed(registrations, registrations // 2)
    for period in (period_for("year", 2025), period_for("quarter", 2025, 2), period_for("month", 2024, 2)):
        statements, figures = _statements_of_report(app, period)
        assert statements == REPORT_STATEMENTS, (period, statements)
    assert figures["registrations_received"] > 0 or registrations < 100


def test_an_empty_database_costs_the_same_statements(app):
    statements, figures = _statements_of_report(app, period_for("year", 2025))
    assert statements == REPORT_STATEMENTS
    assert figures["delegations_hosted"] == 0 and figures["processing_median"] is None


# --- local dates in SQL ----------------------------------------------------------------------

ZONES = ["Asia/Ho_Chi_Minh", "Europe/Paris", "America/Santiago", "Australia/Lord_Howe", "Asia/Kolkata"]


def _sql_local_dates(moments: list[datetime], zone_name: str) -> list[date]:
    """local_date() of each moment, stored as the app stores timestamps (UTCDateTime)."""
    table = sa.Table("test_local_moments", sa.MetaData(), sa.Column("position", sa.Integer, primary_key=True),
                     sa.Column("moment", UTCDateTime(), nullable=False))
    engine = _db.engine
    table.create(engine)
    try:
        with engine.begin() as connection:
            connection.execute(sa.insert(table), [{"position": position, "moment": moment}
                                                  for position, moment in enumerate(moments)])
            rows = connection.execute(sa.select(table.c.position,
                                                local_date(table.c.moment, zone_name, engine.dialect.name))
                                      .order_by(table.c.position)).all()
    finally:
        table.drop(engine)
    return [day if isinstance(day, date) else date.fromisoformat(day) for _position, day in rows]


def _edge_moments(zone_name: str, rng: random.Random) -> list[datetime]:
    """Random instants 2000-2100, each local midnight of random days and a microsecond either
    side of it, and the same around every offset change of 2020-2030."""
    zone = ZoneInfo(zone_name)
    moments = [datetime(2000, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=rng.randrange(100 * 365 * 86400),
                                                                      microseconds=rng.randrange(10 ** 6))
               for _ in range(300)]
    for _ in range(100):
        day = date(2000, 1, 1) + timedelta(days=rng.randrange(100 * 365))
        midnight = datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(timezone.utc)
        moments += [midnight, midnight - timedelta(microseconds=1), midnight + timedelta(microseconds=1),
                    midnight - timedelta(microseconds=400)]
    for until, _minutes in offset_periods(zone_name)[:-1]:
        if 2020 <= until.year <= 2030:
            change = until.replace(tzinfo=timezone.utc)
            moments += [change, change - timedelta(microseconds=1), change - timedelta(seconds=1),
                        change + timedelta(hours=1)]
    return moments


@pytest.mark.parametrize("zone_name", ZONES)
def test_local_dates_in_sql_are_pythons(app, zone_name):
    rng = random.Random(zone_name)
    moments = _edge_moments(zone_name, rng)
    zone = ZoneInfo(zone_name)
    with app.app_context():
        assert _sql_local_dates(moments, zone_name) == [moment.astimezone(zone).date() for moment in moments]


def test_the_province_zone_has_one_offset_so_sqlite_needs_no_case():
    assert offset_periods("Asia/Ho_Chi_Minh") == ((None, 420),)
    assert len(offset_periods("Europe/Paris")) > 150  # two changes a year


def test_a_zone_name_cannot_carry_sql():
    with pytest.raises(ValueError):
        local_date(sa.column("x"), "UTC'); DROP TABLE users; --", "postgresql")


# --- processing times against the Python calendar ---------------------------------------------

def _processing_in_python(app, period) -> dict:
    """The report's processing figures as the first version computed them: every decision
    fetched, its two local dates and working days by the calendar in Python."""
    from app.registrations.models import Registration, Status
    from app.registrations.service import working_calendar

    decided_states = (Status.approved, Status.completed, Status.superseded, Status.revoked, Status.refused)
    zone = ZoneInfo(app.config["BABEL_DEFAULT_TIMEZONE"])
    start = datetime.combine(period.start, datetime.min.time(), zone).astimezone(timezone.utc)
    until = datetime.combine(period.end + timedelta(days=1), datetime.min.time(), zone).astimezone(timezone.utc)
    calendar = working_calendar()
    times, on_time, with_due = [], 0, 0
    for submitted_at, decided_at, due_date in _db.session.execute(
            sa.select(Registration.first_submitted_at, Registration.decided_at, Registration.due_date)
            .where(Registration.decided_at >= start, Registration.decided_at < until,
                   Registration.first_submitted_at.is_not(None), Registration.status.in_(decided_states))):
        submitted_on, decided_on = submitted_at.astimezone(zone).date(), decided_at.astimezone(zone).date()
        times.append(calendar.working_days_between(submitted_on, decided_on))
        if due_date is not None:
            with_due += 1
            on_time += decided_on <= due_date
    return {"processing_median": nearest_rank(times, 50), "processing_p90": nearest_rank(times, 90),
            "answered_within_deadline": round(100 * on_time / with_due, 1) if with_due else None,
            "per_days": Counter(times)}


def test_processing_times_are_those_of_the_python_calendar(app):
    """Random decisions at every hour (so on both sides of local midnight) around Tết 2025 and
    2026, 30 April and 2 September, with an extra day off and a make-up Saturday of the
    administrator's calendar, for several periods: the same figures and the same table."""
    from app.reference.models import CalendarDay, CalendarDayKind
    from app.registrations.models import Registration

    rng = random.Random(15)
    with app.app_context():
        bench_dashboard.seed(1500, 10)
        _db.session.add_all([CalendarDay(day=date(2025, 3, 14), kind=CalendarDayKind.day_off, note="test"),
                             CalendarDay(day=date(2025, 3, 22), kind=CalendarDayKind.working_day, note="test"),
                             CalendarDay(day=date(2026, 1, 2), kind=CalendarDayKind.day_off, note="test")])
        # Decision times at every minute of the day, some a second before local midnight.
        for registration in _db.session.scalars(sa.select(Registration).where(Registration.decided_at.is_not(None))):
            moment = registration.decided_at.replace(minute=rng.randrange(60), second=rng.choice([0, 59]))
            if rng.random() < 0.1:
                moment = moment.replace(hour=16, minute=59, second=59, microsecond=999_999)  # 23:59:59 local
            registration.decided_at = max(moment, registration.first_submitted_at)
        _db.session.commit()
        periods = [period_for("year", 2025), period_for("year", 2026), period_for("quarter", 2025, 1),
                   period_for("month", 2026, 2), period_for("month", 2025, 9)]
        checked = 0
        for period in periods:
            report = build_report(period.start, period.end, "vi")
            expected = _processing_in_python(app, period)
            figures = {figure.key: figure.value for figure in report.figures}
            for key in ("processing_median", "processing_p90", "answered_within_deadline"):
                assert figures[key] == expected[key], (period, key)
            table = next(table for table in report.tables if table.key == "processing_days")
            assert {int(days): count for days, count in table.rows} == dict(expected["per_days"]), period
            checked += sum(expected["per_days"].values())
        assert checked > 500  # decisions compared, over all the periods
