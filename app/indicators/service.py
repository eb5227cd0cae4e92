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

Every count is a GROUP BY / COUNT / SUM in SQL, in portable SQL (no date functions: month and day
bounds are computed in Python and compared as values). Headline numbers count the period and the
previous one in the same statement (conditional COUNT / SUM over both), so a report is a fixed
17 statements whatever the amount of data. Only processing times (a projection of two timestamps
and a date per decision) and revocations (a projection of the few revoked visits near the
periods) are worked out in Python, because working days and local dates need the calendar and
the time zone.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
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
from app.indicators.tables import Figure, IndicatorReport, Table
from app.outlets.models import CrewMember, Outlet
from app.places.models import Place
from app.products.labels import CASE_STATUS_LABELS, CHANNEL_LABELS, TYPE_LABELS, language_name, sector_name
from app.products.models import (CaseStatus, Product, ProductStatus, ReportState, SovereigntyCase,
                                 product_countries, product_languages, product_sectors)
from app.registrations.labels import MEDIA_TYPE_LABELS
from app.registrations.models import ItineraryItem, Registration, RegistrationKind, Status, registration_crew
from app.registrations.service import working_calendar

# Decided as approved: the status may have moved on since (completed, superseded, revoked).
APPROVED_STATES = (Status.approved, Status.completed, Status.superseded, Status.revoked)
DECIDED_STATES = APPROVED_STATES + (Status.refused,)
IN_FORCE_STATES = (Status.approved, Status.completed)
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
                           _without_index(Registration.status.in_(IN_FORCE_STATES)))
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

        row = db.session.execute(sa.select(*columns).where(sa.or_(
            in_span(Registration.first_submitted_at), in_span(Registration.decided_at),
            in_span(Registration.updated_at)))).one()
        keys = ("registrations_received", "registrations_approved", "registrations_refused",
                "registrations_withdrawn")
        self.values[self.now].update(zip(keys, row[0:4]))
        self.values[self.before].update(zip(keys, row[4:8]))
        self.received_by_month = list(row[8:])

    def _count_processing(self) -> None:
        """Working days of each decision: a projection of two dates and the due date, both periods."""
        calendar = working_calendar()
        known: dict[tuple[date, date], int] = {}  # many decisions share their two days
        # Per period: the working days of each decision, and [decided on time, decisions with a due date].
        collected = {self.now: ([], [0, 0]), self.before: ([], [0, 0])}
        # Plain timestamps through Core: tens of thousands of rows, so no ORM rows and no UTCDateTime
        # conversion per value (SQLite gives naive UTC, PostgreSQL aware values: both handled below).
        timestamp = sa.DateTime(timezone=True)
        rows = db.session.connection().execute(
            sa.select(sa.type_coerce(Registration.first_submitted_at, timestamp),
                      sa.type_coerce(Registration.decided_at, timestamp), Registration.due_date)
            .where(Registration.decided_at >= self.before.utc_from, Registration.decided_at < self.now.utc_until,
                   Registration.first_submitted_at.is_not(None),
                   _without_index(Registration.status.in_(DECIDED_STATES))))
        zone = self.now.zone
        for submitted_at, decided_at, due_date in rows:
            if submitted_at.tzinfo is None:
                submitted_at = submitted_at.replace(tzinfo=timezone.utc)
                decided_at = decided_at.replace(tzinfo=timezone.utc)
            submitted_on, decided_on = submitted_at.astimezone(zone).date(), decided_at.astimezone(zone).date()
            pair = (submitted_on, decided_on)
            days = known.get(pair)
            if days is None:
                days = known[pair] = calendar.working_days_between(submitted_on, decided_on)
            times, on_time_of_due = collected[self.now if decided_on >= self.now.start else self.before]
            times.append(days)
            if due_date is not None:
                on_time_of_due[0] += decided_on <= due_date
                on_time_of_due[1] += 1
        for window, (times, (on_time, with_due_date)) in collected.items():
            self.values[window].update(
                processing_median=nearest_rank(times, 50), processing_p90=nearest_rank(times, 90),
                answered_within_deadline=round(100 * on_time / with_due_date, 1) if with_due_date else None)
        self.processing_times = collected[self.now][0]

    def _count_visits(self) -> None:
        """Delegations, journalists and border-area visits of both periods, and by kind: two passes."""
        border = _goes_to_a_border_area()
        now, before = self.now.visits, self.before.visits
        resident, non_resident = (sa.and_(now, Registration.kind == kind) for kind in RegistrationKind)
        # One row per registration: plain counts, no DISTINCT needed.
        visits = db.session.execute(sa.select(
            _count_if(now), _count_if(before), _count_if(sa.and_(now, border)), _count_if(sa.and_(before, border)),
            _count_if(resident), _count_if(non_resident)).where(sa.or_(now, before))).one()
        # One row per crew member of a registration: a journalist on two visits counts once.
        crew_member = registration_crew.c.crew_member_id
        journalists = db.session.execute(
            sa.select(_count_distinct_if(now, crew_member), _count_distinct_if(before, crew_member),
                      _count_distinct_if(resident, crew_member), _count_distinct_if(non_resident, crew_member))
            .select_from(Registration)
            .join(registration_crew, registration_crew.c.registration_id == Registration.id)
            .where(sa.or_(now, before))).one()
        self.values[self.now].update(delegations_hosted=visits[0], journalists_hosted=journalists[0],
                                     border_area_visits=visits[2])
        self.values[self.before].update(delegations_hosted=visits[1], journalists_hosted=journalists[1],
                                        border_area_visits=visits[3])
        self.by_kind = {RegistrationKind.resident: (visits[4], journalists[2]),
                        RegistrationKind.non_resident: (visits[5], journalists[3])}

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
        counted_crew = sa.func.count(sa.distinct(registration_crew.c.crew_member_id))
        counted_visits = sa.func.count(sa.distinct(Registration.id))
        tables = [Table(key="trend", title=_("Trend by month"),
                        columns=[_("Month"), _("Registrations received"), _("Products published")],
                        rows=[[first.strftime("%m/%Y"), received, published] for (first, _last), received, published
                              in zip(self.months, self.received_by_month, self.published_by_month)],
                        chart="line")]

        per_days = Counter(self.processing_times)
        tables.append(Table(key="processing_days", title=_("Decisions by processing time"),
                            columns=[_("Working days"), _("Decisions")],
                            rows=[[str(days), per_days[days]] for days in sorted(per_days)], chart="bar",
                            note=_("Working days from the submission to the decision.")))

        rows = db.session.execute(
            sa.select(CrewMember.nationality, counted_crew, counted_visits).select_from(Registration)
            .join(registration_crew, registration_crew.c.registration_id == Registration.id)
            .join(CrewMember, CrewMember.id == registration_crew.c.crew_member_id)
            .where(window.visits).group_by(CrewMember.nationality)).all()
        tables.append(Table(key="by_nationality", title=_("Journalists by nationality"),
                            columns=[_("Nationality"), journalists, delegations],
                            rows=_ranked(rows, _country_name), chart="bar"))

        rows = db.session.execute(
            sa.select(Outlet.name, Outlet.country, counted_visits, counted_crew).select_from(Registration)
            .join(Outlet, Outlet.id == _not_an_index(Registration.outlet_id))
            .outerjoin(registration_crew, registration_crew.c.registration_id == Registration.id)
            .where(window.visits).group_by(Outlet.id, Outlet.name, Outlet.country)).all()
        tables.append(Table(key="by_outlet", title=_("Delegations by outlet"),
                            columns=[_("Outlet"), _("Country"), delegations, journalists],
                            rows=sorted(([name, _country_name(country), visits_count, crew_count]
                                         for name, country, visits_count, crew_count in rows),
                                        key=lambda row: (-row[2], -row[3], row[0].casefold()))))

        rows = db.session.execute(
            sa.select(Outlet.media_type, counted_visits, counted_crew).select_from(Registration)
            .join(Outlet, Outlet.id == _not_an_index(Registration.outlet_id))
            .outerjoin(registration_crew, registration_crew.c.registration_id == Registration.id)
            .where(window.visits).group_by(Outlet.media_type)).all()
        tables.append(Table(key="by_media_type", title=_("Delegations by media type"),
                            columns=[_("Media type"), delegations, journalists],
                            rows=_ranked(rows, lambda media_type: str(MEDIA_TYPE_LABELS[media_type])),
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
        rows = db.session.execute(
            sa.select(Place.name_vi, Place.name_en, counted_visits).select_from(Registration)
            .join(ItineraryItem, ItineraryItem.registration_id == Registration.id)
            .join(Place, Place.id == ItineraryItem.place_id)
            .where(window.visits, Place.border_area.is_(True))
            .group_by(Place.id, Place.name_vi, Place.name_en)).all()
        tables.append(Table(key="border_places", title=_("Visits to border areas by place"),
                            columns=[_("Border-area place"), visits],
                            rows=sorted(([name_vi if locale == "vi" else name_en, count]
                                         for name_vi, name_en, count in rows),
                                        key=lambda row: (-row[1], row[0].casefold())),
                            chart="bar", note=_("A visit to several border-area places counts under each.")))

        counted_products = sa.func.count(sa.distinct(Product.id))
        published = sa.and_(window.published, _counted_products())
        for key, title, heading, column, label in (
                ("products_by_type", _("Products by type"), _("Type"), Product.type,
                 lambda value: _capitalised(TYPE_LABELS[value])),
                ("products_by_channel", _("Products by channel"), _("Channel"), Product.channel,
                 lambda value: _capitalised(CHANNEL_LABELS[value]))):
            rows = db.session.execute(sa.select(column, counted_products).where(published).group_by(column)).all()
            tables.append(Table(key=key, title=title, columns=[heading, products], rows=_ranked(rows, label),
                                chart="bar"))

        several = _("A product with several values counts once under each of them.")
        for key, title, heading, link, label in (
                ("products_by_language", _("Products by language"), _("Language"), product_languages,
                 lambda code: _capitalised(language_name(code))),
                ("products_by_country", _("Products by target country"), _("Country"), product_countries,
                 _country_name),
                ("products_by_sector", _("Products by spearhead sector"), _("Sector"), product_sectors,
                 sector_name)):
            rows = db.session.execute(
                sa.select(link.c.code, counted_products).select_from(link)
                .join(Product, Product.id == link.c.product_id)
                .where(published).group_by(link.c.code)).all()
            tables.append(Table(key=key, title=title, columns=[heading, products], rows=_ranked(rows, label),
                                chart="bar", note=several))

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


def _goes_to_a_border_area():
    """The registration has an itinerary item in a border area.

    Uncorrelated IN lists rather than a correlated EXISTS: inside a CASE, PostgreSQL would run an
    EXISTS once per row, while it hashes an IN list once; SQLite builds each list once too (the
    nested IN spares it an automatic index on itinerary_items that a join would build).
    """
    border_places = sa.select(Place.id).where(Place.border_area.is_(True))
    return Registration.id.in_(sa.select(ItineraryItem.registration_id)
                               .where(ItineraryItem.place_id.in_(border_places)))
