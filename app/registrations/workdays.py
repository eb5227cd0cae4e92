"""Working-day arithmetic for the province's deadlines (pure functions, no Flask).

Vietnamese law counts the province's reply deadline (5 working days from the
submission) and the correspondent's submission lead time in *working days*:
Saturdays, Sundays and Vietnamese public holidays are not working days.

Where the days off come from
----------------------------
* The ``holidays`` library (``holidays.country_holidays("VN")``) supplies the
  public holidays of the Labour Code 2019 (art. 112) for 1901-2100: New Year's
  Day, Tết (Lunar New Year's Eve and days 1-4), Hùng Kings' day (10/3 lunar),
  30 April, 1 May, National Day 2 September plus the adjacent day (since 2021),
  Vietnam Cultural Day 24 November (since 2026); the compensatory days off
  ("nghỉ bù") when a holiday falls on a weekend, computed by rule (for Tết a
  Saturday moves to the previous working day, a Sunday to the next one; for
  the other holidays to the next working day); and the swaps the government
  decreed in the past (e.g. 2 May 2025 off, Saturday 26 April 2025 worked;
  31 August 2026 off, Saturday 22 August 2026 worked).
* The library cannot know a swap or an extension the government has not yet
  decreed (or decreed after the library's release): its Tết for a future year
  is a projection from the rule. Configuration fills the gap:
  ``extra_holidays`` are days off, ``extra_working_days`` are working days
  (e.g. a make-up Saturday, or a day the library wrongly treats as a holiday).
  The configuration wins over the library; one date in both sets is an error.
  In the Flask config: ``WORKING_CALENDAR_EXTRA_HOLIDAYS`` and
  ``WORKING_CALENDAR_EXTRA_WORKING_DAYS``, lists of ISO dates "YYYY-MM-DD"
  (see :func:`calendar_from_config`).
* The administrator also keeps extra days off and make-up working days in the
  database (app/reference, CalendarDay); :func:`calendar_from_config_and_days`
  adds them to the configured ones (this module still reads no database: the
  caller passes the days in).

Conventions
-----------
All arguments and results are calendar dates (``datetime.date``) in Vietnam;
a ``datetime`` is refused (TypeError) so that nobody silently takes the UTC
date of a timestamp: convert it to the local date (Asia/Ho_Chi_Minh) first.

* ``add_working_days(start, n)``, n >= 1: **the n-th working day after the
  day of submission**; the submission day itself is never counted, whether or
  not it is a working day. Submitted on Monday, 5 days -> the next Monday (no
  holidays); submitted on Saturday or Sunday -> the following Friday (Monday is
  the 1st working day). Equivalently: the first day ``d`` with
  ``working_days_between(start, d) == n``. It is always a working day.
  ``n == 0``: ``start`` if it is a working day, else the next working day.
  Negative n: ValueError. (Same convention as
  ``HolidayBase.get_nth_working_day`` for n >= 0.)
* ``working_days_between(start, end)``: the number of working days in the
  half-open interval (start, end], i.e. after ``start`` up to and including
  ``end``; 0 when ``end <= start``. For every start and n >= 1:
  ``working_days_between(start, add_working_days(start, n)) == n``.
* ``subtract_working_days(end, n)``: for lead times, **the latest working day
  ``w <= end`` with ``working_days_between(w, end) >= n``**, i.e. the latest
  day one can submit so that the province's n-working-day reply deadline
  (``add_working_days(w, n)``) falls on or before ``end``. If ``end`` is a
  working day this is the n-th working day before ``end``; if ``end`` is a
  Saturday the count starts from the Friday before it (a programme on
  Saturday 14 March 2026 with 5 days of lead time: submit by Friday 6 March).
  ``n == 0``: ``end`` if it is a working day, else the previous working day.
  It is always a working day, and ``subtract_working_days(add_working_days(s,
  n), n)`` is ``s`` when ``s`` is a working day (else the working day before).

Dates outside 1901-2100 (the library's range for Vietnam) raise ValueError
rather than silently counting weekends only.

Cost: the library is asked once per year per process (cached); each year
becomes a table of working-day flags and their running totals, so
``is_working_day`` is a lookup and the other operations cost a binary search
plus one step per calendar year crossed (a span of 3 years is a few
microseconds). Calendars are immutable; share them freely between threads.
"""
from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from functools import lru_cache
from itertools import accumulate

import holidays

COUNTRY = "VN"
EXTRA_HOLIDAYS_SETTING = "WORKING_CALENDAR_EXTRA_HOLIDAYS"
EXTRA_WORKING_DAYS_SETTING = "WORKING_CALENDAR_EXTRA_WORKING_DAYS"

# The years the library knows for Vietnam (outside them it returns no holidays).
FIRST_YEAR: int = max(getattr(holidays.VN, "start_year", 1901), 1901)
LAST_YEAR: int = min(getattr(holidays.VN, "end_year", 2100), 2100)

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class _YearTable:
    """Working-day flags of one calendar year and their running totals."""

    __slots__ = ("first_ordinal", "flags", "prefix", "total")

    def __init__(self, year: int, flags: bytes):
        self.first_ordinal = date(year, 1, 1).toordinal()
        self.flags = flags  # flags[i] == 1: the i-th day of the year (from 0) is worked
        # prefix[i]: working days among the first i days of the year.
        self.prefix = tuple(accumulate(flags, initial=0))
        self.total = self.prefix[-1]

    def index(self, day: date) -> int:
        return day.toordinal() - self.first_ordinal

    def nth(self, target: int) -> date:
        """The target-th working day of the year (1 <= target <= total)."""
        return date.fromordinal(self.first_ordinal + bisect_left(self.prefix, target) - 1)


def _check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(
            f"working days are only known for {FIRST_YEAR}-{LAST_YEAR}, not for {year}"
        )


@lru_cache(maxsize=None)
def _library_flags(year: int) -> bytes:
    """Working-day flags of `year` according to the library alone (cached)."""
    _check_year(year)
    # Neighbouring years too, in case an observed or substituted day crosses
    # New Year (the library files such a day under either year).
    years = range(max(year - 1, FIRST_YEAR), min(year + 1, LAST_YEAR) + 1)
    lib = holidays.country_holidays(COUNTRY, years=years)
    first = date(year, 1, 1)
    size = (date(year + 1, 1, 1) - first).days
    return bytes(
        lib.is_working_day(first + timedelta(days=i)) for i in range(size)
    )


@lru_cache(maxsize=None)
def _library_table(year: int) -> _YearTable:
    return _YearTable(year, _library_flags(year))


def _as_date(value: object, what: str = "day") -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(
            f"{what} must be a datetime.date (the local date in Vietnam), "
            f"not {type(value).__name__}"
        )
    return value


class WorkingCalendar:
    """Vietnamese working days: weekends and public holidays off, adjusted by
    configured extra days off and extra working days. See the module docstring
    for the exact conventions."""

    def __init__(
        self,
        extra_holidays: Iterable[date] = (),
        extra_working_days: Iterable[date] = (),
    ):
        off = frozenset(_as_date(d, "extra holiday") for d in extra_holidays)
        on = frozenset(_as_date(d, "extra working day") for d in extra_working_days)
        both = off & on
        if both:
            listed = ", ".join(d.isoformat() for d in sorted(both))
            raise ValueError(f"dates both extra holidays and extra working days: {listed}")
        for d in off | on:
            _check_year(d.year)
        self._extra_holidays = off
        self._extra_working_days = on
        self._overrides: dict[int, list[tuple[date, int]]] = {}
        for d in off:
            self._overrides.setdefault(d.year, []).append((d, 0))
        for d in on:
            self._overrides.setdefault(d.year, []).append((d, 1))
        self._tables: dict[int, _YearTable] = {}

    @property
    def extra_holidays(self) -> frozenset[date]:
        return self._extra_holidays

    @property
    def extra_working_days(self) -> frozenset[date]:
        return self._extra_working_days

    def __repr__(self) -> str:
        return (
            f"WorkingCalendar(extra_holidays={sorted(self._extra_holidays)!r}, "
            f"extra_working_days={sorted(self._extra_working_days)!r})"
        )

    def _table(self, year: int) -> _YearTable:
        table = self._tables.get(year)
        if table is None:
            overrides = self._overrides.get(year)
            if not overrides:
                table = _library_table(year)
            else:
                flags = bytearray(_library_flags(year))
                first = date(year, 1, 1).toordinal()
                for d, flag in overrides:
                    flags[d.toordinal() - first] = flag
                table = _YearTable(year, bytes(flags))
            self._tables[year] = table  # idempotent, so safe between threads
        return table

    def _count_through(self, day: date) -> int:
        """Working days of day's year up to and including day."""
        table = self._table(day.year)
        return table.prefix[table.index(day) + 1]

    def _forward(self, year: int, target: int) -> date:
        """The target-th working day counted from 1 January of `year` (target >= 1)."""
        table = self._table(year)
        while target > table.total:
            target -= table.total
            year += 1
            table = self._table(year)
        return table.nth(target)

    def _backward(self, year: int, target: int) -> date:
        """As _forward, but target may be <= 0: then count back into earlier years."""
        table = self._table(year)
        while target < 1:
            year -= 1
            table = self._table(year)
            target += table.total
        return table.nth(target)

    def is_working_day(self, day: date) -> bool:
        day = _as_date(day)
        table = self._table(day.year)
        return bool(table.flags[table.index(day)])

    def add_working_days(self, start: date, days: int) -> date:
        """The `days`-th working day after `start` (start not counted); for 0,
        start itself if it is a working day, else the next working day."""
        start = _as_date(start, "start")
        days = _check_days(days)
        if days == 0:
            table = self._table(start.year)
            # The first working day counted from start inclusive.
            return self._forward(start.year, table.prefix[table.index(start)] + 1)
        return self._forward(start.year, self._count_through(start) + days)

    def subtract_working_days(self, end: date, days: int) -> date:
        """The latest working day w <= end with working_days_between(w, end) >= days."""
        end = _as_date(end, "end")
        days = _check_days(days)
        return self._backward(end.year, self._count_through(end) - days)

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end` (0 if end <= start)."""
        start = _as_date(start, "start")
        end = _as_date(end, "end")
        if end <= start:
            return 0
        count = self._count_through(end) - self._count_through(start)
        for year in range(start.year, end.year):
            count += self._table(year).total
        return count


def _check_days(days: int) -> int:
    if isinstance(days, bool) or not isinstance(days, int):
        raise TypeError(f"days must be an int, not {type(days).__name__}")
    if days < 0:
        raise ValueError(f"days must be >= 0, not {days}")
    return days


def _parse_dates(config: Mapping, key: str) -> frozenset[date]:
    value = config.get(key)
    if value is None:
        return frozenset()
    if isinstance(value, str):
        # Tolerate "2027-02-03, 2027-02-13" straight from an environment variable.
        value = [item for item in re.split(r"[\s,;]+", value) if item]
    elif isinstance(value, date):
        value = [value]
    result = set()
    for item in value:
        if isinstance(item, date) and not isinstance(item, datetime):
            result.add(item)
            continue
        text = item.strip() if isinstance(item, str) else None
        try:
            if text is None or not _ISO_DATE.fullmatch(text):
                raise ValueError
            result.add(date.fromisoformat(text))
        except ValueError:
            raise ValueError(f"{key}: {item!r} is not a date in the form YYYY-MM-DD") from None
    return frozenset(result)


@lru_cache(maxsize=32)
def _cached_calendar(off: frozenset[date], on: frozenset[date]) -> WorkingCalendar:
    return WorkingCalendar(extra_holidays=off, extra_working_days=on)


def calendar_from_config(config: Mapping) -> WorkingCalendar:
    """The calendar configured by WORKING_CALENDAR_EXTRA_HOLIDAYS and
    WORKING_CALENDAR_EXTRA_WORKING_DAYS (lists of "YYYY-MM-DD"; a string of
    dates separated by commas or spaces is accepted too; absent or None: no
    extra days). Invalid dates raise ValueError naming the setting. The same
    configuration returns the same (immutable) calendar object, so calling
    this on every request is cheap."""
    return _cached_calendar(
        _parse_dates(config, EXTRA_HOLIDAYS_SETTING),
        _parse_dates(config, EXTRA_WORKING_DAYS_SETTING),
    )


def calendar_from_config_and_days(
    config: Mapping,
    days_off: Iterable[date] = (),
    working_days: Iterable[date] = (),
) -> WorkingCalendar:
    """:func:`calendar_from_config` plus days off and make-up working days kept
    elsewhere (the administrator's calendar days, app/reference). Those win over
    the configuration for their own dates: a configured extra holiday that the
    administrator lists as a working day is worked, and the other way round.
    The same days give the same (cached, immutable) calendar object."""
    off = frozenset(_as_date(d, "day off") for d in days_off)
    on = frozenset(_as_date(d, "working day") for d in working_days)
    return _cached_calendar(
        (_parse_dates(config, EXTRA_HOLIDAYS_SETTING) - on) | off,
        (_parse_dates(config, EXTRA_WORKING_DAYS_SETTING) - off) | on,
    )
