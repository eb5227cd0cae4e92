"""The indicators the province reports upward (DESIGN.md section 7), counted in SQL.

`build_report(start, end, locale)` returns an `IndicatorReport` (tables.py) for the days
start..end (inclusive) beside the period of the same length just before it; the dashboard, the
XLSX export and the PDF report only read it. Periods come from `period_for(kind, year, number)`
(a month, a quarter, a year) or `custom_period(start, end)`.

Definitions
-----------
Days are local days in the province (BABEL_DEFAULT_TIMEZONE, Asia/Ho_Chi_Minh): a timestamp
(stored in UTC) is in the period when it falls between local midnight of the first day and local
midnight after the last day. The bounds are converted to UTC in Python, so SQL compares plain
timestamps on SQLite and PostgreSQL alike.

* **Previous period**: the period of the same kind just before: the previous month, quarter or
  year; for custom dates, the same number of days ending the day before the start. Dates that make
  up a whole month, quarter or year are treated as that month, quarter or year.
* **Registrations received**: `first_submitted_at` in the period (a resubmission after a request
  for information is not a new registration). **Approved**: `decided_at` in the period and the
  status approved, completed, superseded or revoked (all were approved when decided).
  **Refused**: `decided_at` in the period and the status refused. **Withdrawn**: the status is
  withdrawn and `updated_at` (the last change, i.e. the withdrawal: a withdrawn registration no
  longer changes) is in the period. These count requests: an amendment of an approved programme
  is a request of its own, received and decided like any other.
* **Visits hosted** (delegations): registrations in force whose programme (start_date..end_date)
  overlaps the period: status approved or completed (a superseded registration is excluded, its
  approved amendment carries the visit, so an amendment chain counts once), plus revoked
  registrations that had started, i.e. revoked on or after their first day; a revoked visit
  lasts from its first day to the day of revocation (or its last day if earlier). Approved
  programmes of a current or future period are counted as planned.
  **Journalists hosted**: distinct crew members (registration_crew) of those visits. By
  nationality (of the crew member), outlet, media type of the outlet and resident /
  non-resident (Registration.kind). A journalist who came twice in the period, with two outlets
  or once as resident and once not, counts once in the total and once in each row, so the rows
  of a breakdown may add up to more than the total.
* **Processing time**: for each decision of the period (approved or refused as above), the
  working days from the local date of `first_submitted_at` to the local date of `decided_at`,
  counted with the province's calendar (`working_calendar().working_days_between`: working days
  after the submission day up to and including the decision day; weekends, Vietnamese public
  holidays and configured days off do not count). Median and 90th percentile by the nearest-rank
  method: the value at rank ceil(p/100 x n) of the sorted times (for an even n the median is the
  lower middle value), so both are whole working days that really occurred.
  **Answered within the deadline**: the share of those decisions whose local decision date is on
  or before `due_date`, in percent to one decimal; decisions without a due date are left out.
  A table gives the number of decisions for each number of working days.
* **Visits including border areas**: visits hosted (as above) with at least one itinerary item
  at a Place flagged border_area; per place, the visits that went there.
* **Products**: products whose `publication_date` is in the period, status published or
  evaluated, and not waiting for staff review (a product the correspondent reported counts once
  staff accepted it). Products without a publication date are not counted. By type, channel,
  language, target country and spearhead sector: a product with two languages counts under
  each. Total reach: SUM(reach) (products without a reach add nothing). Province contribution:
  SUM(contribution_vnd).
* **Flagged products**: distinct products with a sovereignty case detected (`detected_on`) in the
  period (cases about publications that are not our products are not counted); and, as a snapshot
  independent of the period, the products with a case not yet handled. A table lists the cases
  detected in the period.
* **Trend by month**: registrations received and products published in each month of the period,
  one row per month, months with none included. A custom period starting or ending mid-month
  counts only its own days in its first and last month.

How it is counted (a year at 100,000 registrations: bench/bench_dashboard.py)
--------------------------------------------------------------------------------
Every count is a GROUP BY / COUNT / SUM in SQL, and a report is a fixed 10 statements whatever
the amount of data (tests/test_indicators_speed.py). Month and day bounds are computed in Python
and compared as values; headline numbers count the period and the previous one in the same
statement (conditional COUNT / SUM over both). The choices, and why:

* **Visits in one pass.** The "visits" condition (dates, status, the revoked visits found in
  Python) is evaluated once per registration into a materialised CTE of the two periods' visits,
  with their crew and border-area places beside it, and every visit figure and table is a GROUP
  BY over those small sets in one statement (`_visit_parts`). It used to be six statements, each
  re-evaluating the condition over every registration.
* **Processing times grouped by pair of local days**, not a calendar table. The database turns
  the two timestamps of each decision into local dates (local_dates.py: the zone in PostgreSQL,
  its offset in SQLite) and counts the decisions per (submission day, decision day); Python asks
  the working calendar once per pair. The rows are bounded by the days of the periods times the
  spread of processing times, not by the decisions, and the working days come from the one
  calendar (library, configuration, the administrator's days off and make-up days) with no copy
  in the database: nothing to refresh when a holiday changes, no write during a GET (a calendar
  table would be a cache to rebuild from a read request), no migration. A calendar table joined
  in SQL would spare the few thousand rows but not the local dates, which are the cost.
* **Products in one pass** for the five breakdowns (`_product_parts`), the same way.
* **Scans, not index walks, on SQLite** (`_without_index`): conditions that match much of a table
  are written as a CASE so that SQLite reads the table once instead of walking an index row by
  row (the index on start_date made the visits condition a walk over most registrations). Not
  for the visits on PostgreSQL (`_visits_scan`): there the CASE only blinds the planner's estimate.

Only the revoked visits (a projection of the few revoked registrations) and the working days of
each pair of days are worked out in Python, because they need the time zone and the calendar.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from enum import IntEnum
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from babel import Locale
from flask import current_app
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _

from app.countries import country_name
from app.extensions import db
from app.i18n import day
from app.indicators.local_dates import local_date
from app.indicators.tables import Figure, IndicatorReport, Table
from app.outlets.models import CrewMember, MediaType, Outlet
from app.places.models import Place
from app.products.labels import CASE_STATUS_LABELS, CHANNEL_LABELS, TYPE_LABELS, language_name
from app.products.models import (CaseStatus, Channel, Product, ProductStatus, ProductType, ReportState,
                                 SovereigntyCase, product_countries, product_languages, product_sectors)
from app.registrations.labels import MEDIA_TYPE_LABELS
from app.registrations.models import (IN_FORCE_STATUSES, ItineraryItem, Registration, RegistrationKind, Status,
                                      registration_crew)
from app.reference.service import spearhead_sectors
from app.registrations.service import working_calendar

# Decided as approved: the status may have moved on since (completed, superseded, revoked).
APPROVED_STATES = (Status.approved, Status.completed, Status.superseded, Status.revoked)
DECIDED_STATES = APPROVED_STATES + (Status.refused,)
COUNTED_PRODUCT_STATES = (ProductStatus.published, ProductStatus.evaluated)
ROMAN_QUARTERS = {1: "I", 2: "II", 3: "III", 4: "IV"}
FIRST_YEAR, LAST_YEAR = 2000, 2100
MAX_CUSTOM_DAYS = 3660  # ten years: beyond that a trend by month is no longer readable


# --- periods --------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    """The days start..end (inclusive); `kind` is month, quarter, year or custom."""

    kind: str
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> "Period":
        if self.kind == "month":
            last = self.start - timedelta(days=1)
            return Period("month", last.replace(day=1), last)
        if self.kind == "quarter":
            last = self.start - timedelta(days=1)
            return Period("quarter", date(last.year, last.month - 2, 1), last)
        if self.kind == "year":
            return Period("year", date(self.start.year - 1, 1, 1), date(self.start.year - 1, 12, 31))
        last = self.start - timedelta(days=1)
        return Period("custom", last - timedelta(days=self.days - 1), last)

    def label(self) -> str:
        """The period in the current language: "Quý II/2026" or "Q2 2026"."""
        locale = _current_locale()
        if self.kind == "month":
            month_name = Locale.parse(locale).months["stand-alone"]["wide"][self.start.month]
            return _("%(month_name)s %(year)d", month_name=month_name, year=self.start.year)
        if self.kind == "quarter":
            quarter = (self.start.month - 1) // 3 + 1
            return _("Q%(quarter)s %(year)d", quarter=ROMAN_QUARTERS[quarter] if locale == "vi" else str(quarter),
                     year=self.start.year)
        if self.kind == "year":
            return _("Year %(year)d", year=self.start.year)
        return _("%(start)s to %(end)s", start=day(self.start), end=day(self.end))

    def months(self) -> list[tuple[date, date]]:
        """(first, last) day of each month of the period, cut to the period's own days."""
        result = []
        first = self.start
        while first <= self.end:
            following = _month_after(first)
            result.append((first, min(following - timedelta(days=1), self.end)))
            first = following
        return result


def _month_after(day_in_month: date) -> date:
    """The first day of the month after the month of `day_in_month`."""
    return date(day_in_month.year + day_in_month.month // 12, day_in_month.month % 12 + 1, 1)


def period_for(kind: str, year: int, number: int | None = None) -> Period:
    """A month (number 1-12), a quarter (number 1-4) or a year (number ignored)."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"year must be between {FIRST_YEAR} and {LAST_YEAR}")
    if kind == "year":
        return Period("year", date(year, 1, 1), date(year, 12, 31))
    if kind == "month":
        if number is None or not 1 <= number <= 12:
            raise ValueError("month must be between 1 and 12")
        first = date(year, number, 1)
        return Period("month", first, _month_after(first) - timedelta(days=1))
    if kind == "quarter":
        if number is None or not 1 <= number <= 4:
            raise ValueError("quarter must be between 1 and 4")
        first = date(year, 3 * (number - 1) + 1, 1)
        return Period("quarter", first, _month_after(_month_after(_month_after(first))) - timedelta(days=1))
    raise ValueError(f"unknown period kind {kind!r}")


def custom_period(start: date, end: date) -> Period:
    """Any days start..end; whole months, quarters and years are recognised as such."""
    if end < start:
        raise ValueError("the end date is before the start date")
    if start.year < FIRST_YEAR or end.year > LAST_YEAR:
        raise ValueError(f"dates must be between {FIRST_YEAR} and {LAST_YEAR}")
    if (end - start).days + 1 > MAX_CUSTOM_DAYS:
        raise ValueError("a custom period may be at most ten years long")
    if start.day == 1:
        if start.month == 1 and end == date(start.year, 12, 31):
            return period_for("year", start.year)
        month = period_for("month", start.year, start.month)
        if end == month.end:
            return month
        if start.month % 3 == 1:
            quarter = period_for("quarter", start.year, (start.month - 1) // 3 + 1)
            if end == quarter.end:
                return quarter
    return Period("custom", start, end)


# --- the report -----------------------------------------------------------------

def build_report(start: date, end: date, locale: str) -> IndicatorReport:
    """Every indicator of start..end in `locale`, with the values of the previous period.

    Needs an application context (not a request: the labels are written in `locale`).
    """
    period = custom_period(start, end)
    previous = period.previous()
    with force_locale(locale):
        zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
        now, before = _Window(period, zone), _Window(previous, zone)
        _find_revoked_visits(now, before)
        counts = _Counts(now, before)
        return IndicatorReport(start=period.start, end=period.end, previous_start=previous.start,
                               previous_end=previous.end, period_label=period.label(), locale=locale,
                               figures=counts.figures(), tables=counts.tables())


def _without_index(condition):
    """`condition` as a CASE, so that SQLite does not walk an index that selects most of the table.

    A status IN (...) matches most registrations; SQLite would still read them through the
    status index, row by row, about twice as slowly as scanning the table. PostgreSQL plans
    the same either way.
    """
    return sa.case((condition, 1), else_=0) == 1


def _visits_scan(condition):
    """`_without_index` on SQLite only, for the visits condition. PostgreSQL does not walk an index
    for it either way, but cannot estimate a CASE: it took the few thousand visits for 500, and
    joined their crew and crew members in nested loops of index lookups, 60,000 of each; with the
    plain condition it hash-joins them (the visits statement at 100,000 registrations, both forms
    alternating in one process, 12 runs each: median 394 -> 337 ms). Its other statements
    keep the CASE, with which PostgreSQL happens to plan them better (the processing times and the
    products' parts were 10-15 ms slower without)."""
    return _without_index(condition) if db.session.get_bind().dialect.name == "sqlite" else condition


def _not_an_index(column):
    """`column + 0`: joins outlets to registrations without making SQLite walk the registrations
    outlet by outlet through their outlet index (four times slower than one scan when a period
    reads most of them). PostgreSQL hash-joins either way."""
    return column + 0


class _Window:
    """A period with its bounds in UTC and its SQL conditions."""

    def __init__(self, period: Period, zone: ZoneInfo):
        self.period = period
        self.start, self.end = period.start, period.end
        self.zone = zone
        self.utc_from, self.utc_until = self.utc_bounds(self.start, self.end)
        self.revoked_visit_ids: list[int] = []

    def utc_bounds(self, first: date, last: date) -> tuple[datetime, datetime]:
        """From local midnight of `first` to local midnight after `last`, in UTC."""
        return (datetime.combine(first, time(), self.zone).astimezone(timezone.utc),
                datetime.combine(last + timedelta(days=1), time(), self.zone).astimezone(timezone.utc))

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def during(self, column):
        return sa.and_(column >= self.utc_from, column < self.utc_until)

    @property
    def visits(self):
        """Registrations hosted as visits in the period (see the module docstring)."""
        in_force = sa.and_(Registration.start_date <= self.end, Registration.end_date >= self.start,
                           _visits_scan(Registration.status.in_(IN_FORCE_STATUSES)))
        if not self.revoked_visit_ids:
            return in_force
        return sa.or_(in_force, Registration.id.in_(self.revoked_visit_ids))

    @property
    def published(self):
        """Products published in the period (whether they count: `_counted_products`)."""
        return sa.and_(Product.publication_date >= self.start, Product.publication_date <= self.end)


def _counted_products():
    return sa.and_(_without_index(Product.status.in_(COUNTED_PRODUCT_STATES)),
                   sa.or_(Product.report_state.is_(None), Product.report_state == ReportState.accepted))


def _find_revoked_visits(*windows: _Window) -> None:
    """Revoked registrations that had started, in the windows their shortened visit overlaps.

    A projection of the few revoked registrations around the periods: the revocation time must be
    turned into a local date, which SQL cannot do the same way on SQLite and PostgreSQL.
    """
    first, last = min(window.start for window in windows), max(window.end for window in windows)
    rows = db.session.execute(
        sa.select(Registration.id, Registration.start_date, Registration.end_date, Registration.revoked_at)
        .where(Registration.status == Status.revoked, Registration.revoked_at.is_not(None),
               Registration.start_date <= last, Registration.end_date >= first))
    for registration_id, first_day, last_day, revoked_at in rows:
        revoked_on = windows[0].local_date(revoked_at)
        if first_day > revoked_on:  # revoked before it began: never hosted
            continue
        for window in windows:
            if first_day <= window.end and min(last_day, revoked_on) >= window.start:
                window.revoked_visit_ids.append(registration_id)


def unit_name(unit: str) -> str:
    """A Figure's unit ("", "%", "VND", "working days") as the current language writes it."""
    return {"working days": _("working days"), "VND": _("VND")}.get(unit, unit)


def nearest_rank(values: list[int], percent: int) -> int | None:
    """The nearest-rank percentile: the value at rank ceil(percent/100 x n) of the sorted values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(percent * len(ordered) / 100), 1) - 1]


def _count_if(condition, value=1):
    return sa.func.count(sa.case((condition, value)))


def _count_distinct_if(condition, value):
    return sa.func.count(sa.distinct(sa.case((condition, value))))


def _current_locale() -> str:
    return str(get_locale())


def _capitalised(text) -> str:
    text = str(text)
    return text[:1].upper() + text[1:]


def _country_name(code: str | None) -> str:
    return country_name(code, _current_locale())


def _sector_namer():
    """products.labels.sector_name with the sectors read once: outside a request that function
    reads them for every row, so the report's statements would grow with the sectors it lists."""
    locale = _current_locale()
    names = {sector["code"]: sector.get(locale) or sector.get("en") or sector["code"]
             for sector in spearhead_sectors(active_only=False)}
    return lambda code: names.get(code, code) if code else ""


def _ranked(rows, label) -> list[list]:
    """Rows (key, count, ...) as [label, count, ...], largest count first, then by label."""
    labelled = [[label(row[0]), *row[1:]] for row in rows]
    return sorted(labelled, key=lambda row: (-row[1], str(row[0]).casefold()))


class _Counts:
    """The numbers of a period and of the one before, each pass over a table counting both."""

    def __init__(self, now: _Window, before: _Window):
        self.now, self.before = now, before
        self.months = now.period.months()
        self.values = {now: {}, before: {}}
        self._count_registrations()
        self._count_processing()
        self._count_visits()
        self._count_products()
        self._count_flagged()

    # --- headline numbers, both periods per query ---

    def _count_registrations(self) -> None:
        """Received, approved, refused, withdrawn in both periods, and received per month: one pass."""
        columns = []
        for window in (self.now, self.before):
            decided = window.during(Registration.decided_at)
            columns += [_count_if(window.during(Registration.first_submitted_at)),
                        _count_if(sa.and_(decided, Registration.status.in_(APPROVED_STATES))),
                        _count_if(sa.and_(decided, Registration.status == Status.refused)),
                        _count_if(sa.and_(window.during(Registration.updated_at),
                                          Registration.status == Status.withdrawn))]
        for first, last in self.months:
            month_from, month_until = self.now.utc_bounds(first, last)
            columns.append(_count_if(sa.and_(Registration.first_submitted_at >= month_from,
                                             Registration.first_submitted_at < month_until)))
        span_from, span_until = self.before.utc_from, self.now.utc_until

        def in_span(column):
            return sa.and_(column >= span_from, column < span_until)

        row = db.session.execute(sa.select(*columns).where(_without_index(sa.or_(
            in_span(Registration.first_submitted_at), in_span(Registration.decided_at),
            in_span(Registration.updated_at))))).one()
        keys = ("registrations_received", "registrations_approved", "registrations_refused",
                "registrations_withdrawn")
        self.values[self.now].update(zip(keys, row[0:4]))
        self.values[self.before].update(zip(keys, row[4:8]))
        self.received_by_month = list(row[8:])

    def _count_processing(self) -> None:
        """Working days of each decision of both periods, grouped in SQL by pair of local days.

        The database turns both timestamps into local dates (local_dates.py) and counts the
        decisions of each (submission day, decision day) pair, with how many had a due date and
        how many were decided on or before it. Python then asks the calendar once per pair: the
        rows are bounded by the days of the two periods times the spread of processing times (a
        few thousand at 100,000 registrations), not by the number of decisions, and the working
        days come from the one calendar (library, configuration, the administrator's days) with
        no copy of it in the database to keep up to date.
        """
        calendar = working_calendar()
        zone_name, dialect = self.now.zone.key, db.session.get_bind().dialect.name
        submitted_on = local_date(Registration.first_submitted_at, zone_name, dialect)
        decided_on = local_date(Registration.decided_at, zone_name, dialect)
        decisions = (sa.select(submitted_on.label("submitted_on"), decided_on.label("decided_on"),
                               Registration.due_date.label("due_date"))
                     .where(Registration.decided_at >= self.before.utc_from,
                            Registration.decided_at < self.now.utc_until,
                            Registration.first_submitted_at.is_not(None),
                            _without_index(Registration.status.in_(DECIDED_STATES)))
                     .subquery("decisions"))
        rows = db.session.execute(
            sa.select(decisions.c.submitted_on, decisions.c.decided_on, sa.func.count(),
                      sa.func.count(decisions.c.due_date),
                      _count_if(decisions.c.decided_on <= decisions.c.due_date))
            .group_by(decisions.c.submitted_on, decisions.c.decided_on)).all()
        # Per period: decisions per number of working days, and [decided on time, with a due date].
        collected = {self.now: (Counter(), [0, 0]), self.before: (Counter(), [0, 0])}
        for submitted, decided, count, with_due_date, on_time in rows:
            days = calendar.working_days_between(submitted, decided)
            per_days, on_time_of_due = collected[self.now if decided >= self.now.start else self.before]
            per_days[days] += count
            on_time_of_due[0] += on_time
            on_time_of_due[1] += with_due_date
        for window, (per_days, (on_time, with_due_date)) in collected.items():
            self.values[window].update(
                processing_median=_counted_rank(per_days, 50), processing_p90=_counted_rank(per_days, 90),
                answered_within_deadline=round(100 * on_time / with_due_date, 1) if with_due_date else None)
        self.processing_counts = collected[self.now][0]

    def _count_visits(self) -> None:
        """Everything about visits, both periods, in one statement over one pass (see `_visit_parts`)."""
        parts: dict[int, list] = {part: [] for part in VisitPart}
        for part, key, label_a, label_b, *numbers in db.session.execute(_visit_parts(self.now, self.before)):
            parts[part].append((key, label_a, label_b, *numbers))
        (_, _, _, delegations_now, delegations_before, resident, non_resident), = parts[VisitPart.delegations]
        (_, _, _, crew_now, crew_before, crew_resident, crew_non_resident), = parts[VisitPart.journalists]
        (_, _, _, border_now, border_before, _, _), = parts[VisitPart.border_visits]
        self.values[self.now].update(delegations_hosted=delegations_now, journalists_hosted=crew_now,
                                     border_area_visits=border_now)
        self.values[self.before].update(delegations_hosted=delegations_before, journalists_hosted=crew_before,
                                        border_area_visits=border_before)
        self.by_kind = {RegistrationKind.resident: (resident, crew_resident),
                        RegistrationKind.non_resident: (non_resident, crew_non_resident)}
        self.by_nationality = [(key, crew, visits) for key, _a, _b, crew, visits, *_ in parts[VisitPart.nationality]]
        crew_of_outlet = {key: crew for key, _a, _b, crew, *_ in parts[VisitPart.outlet_crew]}
        self.by_outlet = [(name, country, visits, crew_of_outlet.get(key, 0))
                          for key, name, country, visits, *_ in parts[VisitPart.outlet_visits]]
        crew_of_media_type = {key: crew for key, _a, _b, crew, *_ in parts[VisitPart.media_type_crew]}
        self.by_media_type = [(MediaType[key], visits, crew_of_media_type.get(key, 0))
                              for key, _a, _b, visits, *_ in parts[VisitPart.media_type_visits]]
        self.border_places = [(name_vi, name_en, visits)
                              for _key, name_vi, name_en, visits, *_ in parts[VisitPart.border_places]]

    def _count_products(self) -> None:
        """Products, reach and contribution of both periods, and products per month: one pass."""
        columns = []
        for window in (self.now, self.before):
            columns += [_count_if(window.published), sa.func.sum(sa.case((window.published, Product.reach))),
                        sa.func.sum(sa.case((window.published, Product.contribution_vnd)))]
        for first, last in self.months:
            columns.append(_count_if(sa.and_(Product.publication_date >= first, Product.publication_date <= last)))
        row = db.session.execute(sa.select(*columns).where(
            Product.publication_date >= self.before.start, Product.publication_date <= self.now.end,
            _counted_products())).one()
        for window, (count, reach, contribution) in ((self.now, row[0:3]), (self.before, row[3:6])):
            self.values[window].update(products_published=count, total_reach=int(reach or 0),
                                       province_contribution=int(contribution or 0))
        self.published_by_month = list(row[6:])

    def _count_flagged(self) -> None:
        """Products with a case detected in each period, and with a case open today: one pass."""
        product = SovereigntyCase.product_id
        columns = [_count_distinct_if(sa.and_(SovereigntyCase.detected_on >= window.start,
                                              SovereigntyCase.detected_on <= window.end), product)
                   for window in (self.now, self.before)]
        columns.append(_count_distinct_if(SovereigntyCase.status != CaseStatus.handled, product))
        now, before, self.flagged_open = db.session.execute(
            sa.select(*columns).where(product.is_not(None))).one()
        self.values[self.now]["flagged_products"], self.values[self.before]["flagged_products"] = now, before

    def figures(self) -> list[Figure]:
        current, previous = self.values[self.now], self.values[self.before]

        def figure(key, label, unit=""):
            return Figure(key=key, label=label, value=current[key], previous=previous[key], unit=unit)

        return [
            figure("journalists_hosted", _("Foreign journalists hosted")),
            figure("delegations_hosted", _("Delegations hosted (visits)")),
            figure("registrations_received", _("Registrations received")),
            figure("registrations_approved", _("Registrations approved")),
            figure("registrations_refused", _("Registrations refused")),
            figure("registrations_withdrawn", _("Registrations withdrawn")),
            figure("processing_median", _("Processing time, median"), "working days"),
            figure("processing_p90", _("Processing time, 90th percentile"), "working days"),
            figure("answered_within_deadline", _("Answered within the deadline"), "%"),
            figure("border_area_visits", _("Visits including border areas")),
            figure("products_published", _("Products published")),
            figure("total_reach", _("Total reach")),
            figure("province_contribution", _("Province contribution"), "VND"),
            figure("flagged_products", _("Products flagged for misrepresenting sovereignty")),
            Figure(key="flagged_products_open", label=_("Flagged products with a case still open (today)"),
                   value=self.flagged_open, previous=None),
        ]

    # --- tables of the current period ---

    def tables(self) -> list[Table]:
        window = self.now
        journalists, delegations = _("Journalists"), _("Delegations")
        products, visits = _("Products"), _("Visits")
        tables = [Table(key="trend", title=_("Trend by month"),
                        columns=[_("Month"), _("Registrations received"), _("Products published")],
                        rows=[[first.strftime("%m/%Y"), received, published] for (first, _last), received, published
                              in zip(self.months, self.received_by_month, self.published_by_month)],
                        chart="line")]

        per_days = self.processing_counts
        tables.append(Table(key="processing_days", title=_("Decisions by processing time"),
                            columns=[_("Working days"), _("Decisions")],
                            rows=[[str(days), per_days[days]] for days in sorted(per_days)], chart="bar",
                            note=_("Working days from the submission to the decision.")))

        tables.append(Table(key="by_nationality", title=_("Journalists by nationality"),
                            columns=[_("Nationality"), journalists, delegations],
                            rows=_ranked(self.by_nationality, _country_name), chart="bar"))

        tables.append(Table(key="by_outlet", title=_("Delegations by outlet"),
                            columns=[_("Outlet"), _("Country"), delegations, journalists],
                            rows=sorted(([name, _country_name(country), visits_count, crew_count]
                                         for name, country, visits_count, crew_count in self.by_outlet),
                                        key=lambda row: (-row[2], -row[3], row[0].casefold()))))

        tables.append(Table(key="by_media_type", title=_("Delegations by media type"),
                            columns=[_("Media type"), delegations, journalists],
                            rows=_ranked(self.by_media_type, lambda media_type: str(MEDIA_TYPE_LABELS[media_type])),
                            chart="bar"))

        kind_names = {RegistrationKind.resident: _capitalised(_("resident")),
                      RegistrationKind.non_resident: _capitalised(_("non-resident"))}
        tables.append(Table(key="by_kind", title=_("Resident and non-resident press"),
                            columns=[_("Press"), delegations, journalists],
                            rows=[[kind_names[kind], *self.by_kind[kind]] for kind in RegistrationKind],
                            chart="bar", note=_("Resident: foreign press offices in Vietnam; non-resident: "
                                                "reporters visiting with a press permit of the Ministry of "
                                                "Foreign Affairs.")))

        locale = _current_locale()
        tables.append(Table(key="border_places", title=_("Visits to border areas by place"),
                            columns=[_("Border-area place"), visits],
                            rows=sorted(([name_vi if locale == "vi" else name_en, count]
                                         for name_vi, name_en, count in self.border_places),
                                        key=lambda row: (-row[1], row[0].casefold())),
                            chart="bar", note=_("A visit to several border-area places counts under each.")))

        product_rows = _product_parts(sa.and_(window.published, _counted_products()))
        for key, title, heading, part, label in (
                ("products_by_type", _("Products by type"), _("Type"), 0,
                 lambda value: _capitalised(TYPE_LABELS[ProductType[value]])),
                ("products_by_channel", _("Products by channel"), _("Channel"), 1,
                 lambda value: _capitalised(CHANNEL_LABELS[Channel[value]]))):
            tables.append(Table(key=key, title=title, columns=[heading, products],
                                rows=_ranked(product_rows[part], label), chart="bar"))

        several = _("A product with several values counts once under each of them.")
        for key, title, heading, part, label in (
                ("products_by_language", _("Products by language"), _("Language"), 2,
                 lambda code: _capitalised(language_name(code))),
                ("products_by_country", _("Products by target country"), _("Country"), 3, _country_name),
                ("products_by_sector", _("Products by spearhead sector"), _("Sector"), 4, _sector_namer())):
            tables.append(Table(key=key, title=title, columns=[heading, products],
                                rows=_ranked(product_rows[part], label), chart="bar", note=several))

        cases = db.session.execute(
            sa.select(SovereigntyCase.detected_on, Product.title, Outlet.name, SovereigntyCase.status)
            .join(Product, Product.id == SovereigntyCase.product_id)
            .join(Outlet, Outlet.id == Product.outlet_id)
            .where(SovereigntyCase.detected_on >= window.start, SovereigntyCase.detected_on <= window.end)
            .order_by(SovereigntyCase.detected_on, SovereigntyCase.id)).all()
        tables.append(Table(key="flagged_products", title=_("Products flagged for misrepresenting sovereignty"),
                            columns=[_("Detected on"), _("Product"), _("Outlet"), _("Case status")],
                            rows=[[detected_on, title, outlet, _capitalised(CASE_STATUS_LABELS[status])]
                                  for detected_on, title, outlet, status in cases],
                            note=_("Sovereignty cases about our products detected in the period.")))
        return tables


def _product_parts(published) -> dict[int, list[tuple[str, int]]]:
    """Products of the period by type (0), channel (1), language (2), target country (3) and
    sector (4): one statement, (part, key, count) rows.

    The products counted are found once, into a materialised CTE; each breakdown is a GROUP BY
    over it (joined to its link table by the link's key), stacked with UNION ALL: five statements
    that each filtered the products before. COUNT(*) counts products because a product has one
    type and one channel, and a link table's key is (product_id, code).
    """
    counted = (sa.select(Product.id.label("id"), Product.type.label("type"), Product.channel.label("channel"))
               .where(published).cte("counted").prefix_with("MATERIALIZED"))
    parts = [sa.select(sa.literal(0).label("part"), sa.cast(counted.c.type, sa.String).label("key"),
                       sa.func.count().label("count")).group_by(counted.c.type),
             sa.select(sa.literal(1), sa.cast(counted.c.channel, sa.String), sa.func.count())
             .group_by(counted.c.channel)]
    for part, link in ((2, product_languages), (3, product_countries), (4, product_sectors)):
        parts.append(sa.select(sa.literal(part), sa.cast(link.c.code, sa.String), sa.func.count())
                     .select_from(counted).join(link, link.c.product_id == counted.c.id).group_by(link.c.code))
    result: dict[int, list[tuple[str, int]]] = {part: [] for part in range(5)}
    for part, key, count in db.session.execute(sa.union_all(*parts)):
        result[part].append((key, count))
    return result


class VisitPart(IntEnum):
    """The parts of `_visit_parts`' answer: one row each, or one row per key."""

    delegations = 0  # visits now, before, resident and non-resident now
    journalists = 1  # the same, distinct crew members
    border_visits = 2  # visits with a border-area place, now and before
    nationality = 3  # per nationality (now): distinct crew members, visits
    outlet_visits = 4  # per outlet (now, with its name and country): visits
    outlet_crew = 5  # per outlet (now): distinct crew members
    media_type_visits = 6  # per media type (now): visits
    media_type_crew = 7  # per media type (now): distinct crew members
    border_places = 8  # per border-area place (now, with its two names): visits


def _visit_parts(now: _Window, before: _Window):
    """One statement for every visit figure and table of both periods.

    The visits condition (dates, status, the revoked visits) is evaluated once per registration,
    in a scan (`_without_index`), into a materialised CTE `visit` of the few thousand visits of the
    two periods with a flag for each; `crew` adds their crew members (and nationality) by the
    registration_crew key and `border` their border-area places by the itinerary items' index,
    both materialised too, then each part below is a GROUP BY over those small sets, stacked with
    UNION ALL as rows (part, key, label, label, n1..n4). Before, six statements each re-evaluated
    the condition over every registration, and SQLite joined the crew from the crew members'
    side (250,000 lookups into registrations): 4.2 s for a year on a machine at load average 10,
    against 0.43 s for this statement at the same load (0.1 s at load 3). Counts of crew members stay COUNT(DISTINCT ...) per group: a journalist on two visits
    counts once in each row, as the module docstring defines.
    """
    now_visit, before_visit = now.visits, before.visits
    visit = (sa.select(Registration.id.label("id"), Registration.kind.label("kind"),
                       Registration.outlet_id.label("outlet_id"),
                       _flag(now_visit).label("now"), _flag(before_visit).label("before"))
             .where(_visits_scan(sa.or_(now_visit, before_visit)))
             .cte("visit").prefix_with("MATERIALIZED"))
    crew = (sa.select(visit.c.id, visit.c.kind, visit.c.outlet_id, visit.c.now, visit.c.before,
                      registration_crew.c.crew_member_id.label("member"), CrewMember.nationality.label("nationality"))
            .select_from(visit)
            .join(registration_crew, registration_crew.c.registration_id == visit.c.id)
            .join(CrewMember, CrewMember.id == registration_crew.c.crew_member_id)
            .cte("crew").prefix_with("MATERIALIZED"))
    border = (sa.select(visit.c.id, visit.c.now, visit.c.before, ItineraryItem.place_id.label("place_id"))
              .distinct().select_from(visit)
              .join(ItineraryItem, ItineraryItem.registration_id == visit.c.id)
              .join(Place, Place.id == ItineraryItem.place_id)
              .where(Place.border_area.is_(True))
              .cte("border").prefix_with("MATERIALIZED"))
    nothing, zero = sa.cast(sa.null(), sa.String), sa.literal(0)

    def part(kind: VisitPart, key, label_a, label_b, *numbers):
        numbers = list(numbers) + [zero] * (4 - len(numbers))
        return sa.select(sa.literal(int(kind)).label("part"), sa.cast(key, sa.String).label("key"),
                         sa.cast(label_a, sa.String).label("label_a"), sa.cast(label_b, sa.String).label("label_b"),
                         *(number.label(f"n{index}") for index, number in enumerate(numbers, start=1)))

    def distinct_if(condition, value):
        return sa.func.count(sa.distinct(sa.case((condition, value))))

    is_now, was_before = visit.c.now == 1, visit.c.before == 1
    crew_now = crew.c.now == 1
    resident, non_resident = RegistrationKind.resident, RegistrationKind.non_resident
    # One row per journalist with a flag for each headline (now, before, resident and non-resident
    # now): one hashed GROUP BY instead of four COUNT(DISTINCT), which PostgreSQL sorts each.
    members = (sa.select(crew.c.member, *(sa.func.max(_flag(condition)) for condition in (
        crew_now, crew.c.before == 1, sa.and_(crew_now, crew.c.kind == resident),
        sa.and_(crew_now, crew.c.kind == non_resident)))).group_by(crew.c.member).subquery("members"))
    parts = [
        part(VisitPart.delegations, nothing, nothing, nothing, _count_if(is_now), _count_if(was_before),
             _count_if(sa.and_(is_now, visit.c.kind == resident)),
             _count_if(sa.and_(is_now, visit.c.kind == non_resident))).select_from(visit),
        part(VisitPart.journalists, nothing, nothing, nothing, *(sa.func.coalesce(sa.func.sum(column), 0)
                                                                  for column in list(members.c)[1:]))
        .select_from(members),
        part(VisitPart.border_visits, nothing, nothing, nothing, distinct_if(border.c.now == 1, border.c.id),
             distinct_if(border.c.before == 1, border.c.id)).select_from(border),
        part(VisitPart.nationality, crew.c.nationality, nothing, nothing, sa.func.count(sa.distinct(crew.c.member)),
             sa.func.count(sa.distinct(crew.c.id))).where(crew_now).group_by(crew.c.nationality),
        part(VisitPart.outlet_visits, Outlet.id, Outlet.name, Outlet.country, sa.func.count())
        .select_from(visit).join(Outlet, Outlet.id == visit.c.outlet_id).where(is_now)
        .group_by(Outlet.id, Outlet.name, Outlet.country),
        part(VisitPart.outlet_crew, crew.c.outlet_id, nothing, nothing, sa.func.count(sa.distinct(crew.c.member)))
        .where(crew_now).group_by(crew.c.outlet_id),
        part(VisitPart.media_type_visits, Outlet.media_type, nothing, nothing, sa.func.count())
        .select_from(visit).join(Outlet, Outlet.id == visit.c.outlet_id).where(is_now).group_by(Outlet.media_type),
        part(VisitPart.media_type_crew, Outlet.media_type, nothing, nothing, sa.func.count(sa.distinct(crew.c.member)))
        .select_from(crew).join(Outlet, Outlet.id == crew.c.outlet_id).where(crew_now).group_by(Outlet.media_type),
        part(VisitPart.border_places, Place.id, Place.name_vi, Place.name_en, sa.func.count(sa.distinct(border.c.id)))
        .select_from(border).join(Place, Place.id == border.c.place_id).where(border.c.now == 1)
        .group_by(Place.id, Place.name_vi, Place.name_en),
    ]
    return sa.union_all(*parts)


def _flag(condition):
    """1 when `condition` holds, else 0 (a column of a CTE)."""
    return sa.case((condition, 1), else_=0)


def _counted_rank(counts: Counter, percent: int) -> int | None:
    """`nearest_rank` of the values counted in `counts` ({value: how many times})."""
    total = sum(counts.values())
    if not total:
        return None
    rank = max(math.ceil(percent * total / 100), 1)
    seen = 0
    for value in sorted(counts):
        seen += counts[value]
        if seen >= rank:
            return value
    raise AssertionError("unreachable")
