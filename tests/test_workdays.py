"""Working-day arithmetic (app/registrations/workdays.py): hand-computed examples
around Vietnamese holidays, and properties checked against a day-by-day oracle."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import holidays
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.registrations.workdays import (
    WorkingCalendar,
    calendar_from_config,
)

CAL = WorkingCalendar()
DAY = timedelta(days=1)


# --- examples -------------------------------------------------------------------

def test_plain_week_monday_plus_five_is_next_monday():
    # March 2026 has no holidays.
    assert CAL.add_working_days(date(2026, 3, 2), 5) == date(2026, 3, 9)
    assert CAL.working_days_between(date(2026, 3, 2), date(2026, 3, 9)) == 5
    assert CAL.working_days_between(date(2026, 3, 2), date(2026, 3, 8)) == 4
    assert CAL.subtract_working_days(date(2026, 3, 9), 5) == date(2026, 3, 2)
    assert CAL.add_working_days(date(2026, 3, 2), 1) == date(2026, 3, 3)


def test_across_a_weekend():
    # Wednesday 4 March 2026: Thu 5, Fri 6, (Sat 7, Sun 8), Mon 9, Tue 10, Wed 11.
    assert CAL.add_working_days(date(2026, 3, 4), 5) == date(2026, 3, 11)
    # Submitted on Saturday or Sunday: Monday 9 is the 1st day, Friday 13 the 5th.
    assert CAL.add_working_days(date(2026, 3, 7), 5) == date(2026, 3, 13)
    assert CAL.add_working_days(date(2026, 3, 8), 5) == date(2026, 3, 13)
    assert CAL.add_working_days(date(2026, 3, 6), 1) == date(2026, 3, 9)


def test_zero_days():
    assert CAL.add_working_days(date(2026, 3, 4), 0) == date(2026, 3, 4)
    assert CAL.add_working_days(date(2026, 3, 7), 0) == date(2026, 3, 9)  # Sat -> Mon
    assert CAL.subtract_working_days(date(2026, 3, 4), 0) == date(2026, 3, 4)
    assert CAL.subtract_working_days(date(2026, 3, 8), 0) == date(2026, 3, 6)  # Sun -> Fri
    assert CAL.working_days_between(date(2026, 3, 4), date(2026, 3, 4)) == 0
    assert CAL.working_days_between(date(2026, 3, 9), date(2026, 3, 2)) == 0


def test_across_tet_2027():
    # Lunar New Year 2027 is Saturday 6 February. The library gives off: Fri 5
    # (New Year's Eve), Sat 6, Sun 7, Mon 8, Tue 9 (days 1-4), and compensatory
    # days for the two that fall on the weekend: Thu 4 (Saturday moves back) and
    # Wed 10 (Sunday moves forward). So Thu 4 - Wed 10 February are all off.
    # Submitted Monday 1 February: Tue 2 (1), Wed 3 (2), [Thu 4 - Wed 10 off],
    # Thu 11 (3), Fri 12 (4), [Sat 13, Sun 14], Mon 15 (5).
    start = date(2027, 2, 1)
    assert CAL.add_working_days(start, 5) == date(2027, 2, 15)
    assert CAL.working_days_between(start, date(2027, 2, 15)) == 5
    assert CAL.working_days_between(date(2027, 2, 3), date(2027, 2, 10)) == 0
    # Lead time: a programme on Monday 15 February needs the request by 1 February.
    assert CAL.subtract_working_days(date(2027, 2, 15), 5) == start


def test_across_tet_2026():
    # Tết 2026: Mon 16 (Eve) - Fri 20 February (days 1-4), so 14-22 with the weekends.
    for day in range(14, 23):
        assert not CAL.is_working_day(date(2026, 2, day))
    assert CAL.is_working_day(date(2026, 2, 13))
    assert CAL.is_working_day(date(2026, 2, 23))
    # Thu 12 Feb: Fri 13 (1), [14-22 off], Mon 23 (2), ..., Thu 26 (5).
    assert CAL.add_working_days(date(2026, 2, 12), 5) == date(2026, 2, 26)


def test_across_30_april_and_1_may_2027():
    # 30 April 2027 is a Friday, 1 May a Saturday: 1 May is compensated on Mon 3 May.
    # Submitted Wednesday 28 April: Thu 29 (1), [Fri 30, Sat 1, Sun 2, Mon 3 off],
    # Tue 4 (2), Wed 5 (3), Thu 6 (4), Fri 7 (5).
    assert not CAL.is_working_day(date(2027, 5, 3))
    assert CAL.add_working_days(date(2027, 4, 28), 5) == date(2027, 5, 7)
    assert CAL.subtract_working_days(date(2027, 5, 7), 5) == date(2027, 4, 28)


def test_national_day_2026_and_its_make_up_saturday():
    # 2 September 2026 is a Wednesday; the adjacent day off is Tue 1 September and
    # the government swapped Mon 31 August (off) with Sat 22 August (worked).
    # Submitted Thursday 27 August: Fri 28 (1), [Sat 29 - Wed 2 Sep off],
    # Thu 3 (2), Fri 4 (3), Mon 7 (4), Tue 8 (5).
    assert CAL.add_working_days(date(2026, 8, 27), 5) == date(2026, 9, 8)
    # Saturday 22 August counts: Wed 19 -> Thu 20, Fri 21, Sat 22, Mon 24, Tue 25.
    assert CAL.is_working_day(date(2026, 8, 22))
    assert CAL.add_working_days(date(2026, 8, 19), 5) == date(2026, 8, 25)
    assert CAL.add_working_days(date(2026, 8, 21), 1) == date(2026, 8, 22)


def test_lead_time_for_a_saturday_programme():
    # Programme on Saturday 14 March 2026, 5 working days of lead time: the reply
    # (5 working days after submission) must fall by the 14th. Submitted Friday
    # 6 March -> due Friday 13: fine. Monday 9 -> due Monday 16: too late.
    latest = CAL.subtract_working_days(date(2026, 3, 14), 5)
    assert latest == date(2026, 3, 6)
    assert CAL.add_working_days(latest, 5) <= date(2026, 3, 14)
    assert CAL.add_working_days(date(2026, 3, 9), 5) > date(2026, 3, 14)


def test_days_off_in_2027_as_the_library_gives_them():
    # Pins what the deadlines assume; a library upgrade that changes it shows here.
    weekdays_off = [
        d for i in range(365)
        if (d := date(2027, 1, 1) + timedelta(days=i)).weekday() < 5
        and not CAL.is_working_day(d)
    ]
    assert weekdays_off == [
        date(2027, 1, 1),  # New Year's Day
        date(2027, 2, 4), date(2027, 2, 5), date(2027, 2, 8),  # Tết
        date(2027, 2, 9), date(2027, 2, 10),
        date(2027, 4, 16),  # Hùng Kings (10th day of the 3rd lunar month)
        date(2027, 4, 30),  # Reunification Day
        date(2027, 5, 3),  # 1 May (a Saturday), compensated
        date(2027, 9, 2), date(2027, 9, 3),  # National Day and the adjacent day
        date(2027, 11, 24),  # Vietnam Cultural Day (since 2026)
    ]


def test_extra_holiday_from_configuration():
    # The government adds Wed 3 February 2027 to Tết: Tue 2 (1), Thu 11 (2),
    # Fri 12 (3), Mon 15 (4), Tue 16 (5).
    cal = calendar_from_config({"WORKING_CALENDAR_EXTRA_HOLIDAYS": ["2027-02-03"]})
    assert not cal.is_working_day(date(2027, 2, 3))
    assert cal.add_working_days(date(2027, 2, 1), 5) == date(2027, 2, 16)
    assert CAL.add_working_days(date(2027, 2, 1), 5) == date(2027, 2, 15)  # unchanged


def test_extra_working_saturday_from_configuration():
    # A make-up Saturday 13 February 2027: Tue 2, Wed 3, Thu 11, Fri 12, Sat 13.
    cal = calendar_from_config({"WORKING_CALENDAR_EXTRA_WORKING_DAYS": ["2027-02-13"]})
    assert cal.is_working_day(date(2027, 2, 13))
    assert cal.add_working_days(date(2027, 2, 1), 5) == date(2027, 2, 13)
    assert cal.working_days_between(date(2027, 2, 12), date(2027, 2, 15)) == 2


def test_extra_working_day_overrides_a_library_holiday():
    # If the decree keeps Thu 4 February 2027 a working day (the library's
    # compensatory day is only a projection): Tue 2, Wed 3, Thu 4, Thu 11, Fri 12.
    cal = WorkingCalendar(extra_working_days=[date(2027, 2, 4)])
    assert cal.add_working_days(date(2027, 2, 1), 5) == date(2027, 2, 12)


def test_configuration_forms_and_errors():
    assert calendar_from_config({}).extra_holidays == frozenset()
    assert calendar_from_config({"WORKING_CALENDAR_EXTRA_HOLIDAYS": None}).extra_holidays == frozenset()
    cal = calendar_from_config({
        "WORKING_CALENDAR_EXTRA_HOLIDAYS": "2027-02-03, 2027-02-11",
        "WORKING_CALENDAR_EXTRA_WORKING_DAYS": [date(2027, 2, 13)],
    })
    assert cal.extra_holidays == {date(2027, 2, 3), date(2027, 2, 11)}
    assert cal.extra_working_days == {date(2027, 2, 13)}
    # The same configuration gives the same calendar (and its caches).
    assert calendar_from_config({"WORKING_CALENDAR_EXTRA_HOLIDAYS": ["2027-02-11", "2027-02-03"],
                                 "WORKING_CALENDAR_EXTRA_WORKING_DAYS": ["2027-02-13"]}) is cal
    for bad in (["2027-02-30"], ["03/02/2027"], ["20270203"], [20270203], ["2027-02-03T00:00"]):
        with pytest.raises(ValueError, match="WORKING_CALENDAR_EXTRA_HOLIDAYS"):
            calendar_from_config({"WORKING_CALENDAR_EXTRA_HOLIDAYS": bad})
    with pytest.raises(ValueError, match="2027-02-03"):
        calendar_from_config({"WORKING_CALENDAR_EXTRA_HOLIDAYS": ["2027-02-03"],
                              "WORKING_CALENDAR_EXTRA_WORKING_DAYS": ["2027-02-03"]})


def test_argument_errors():
    with pytest.raises(ValueError):
        CAL.add_working_days(date(2026, 3, 2), -1)
    with pytest.raises(ValueError):
        CAL.subtract_working_days(date(2026, 3, 2), -1)
    with pytest.raises(TypeError):
        CAL.add_working_days(datetime(2026, 3, 2, 23, 30), 5)  # a UTC timestamp?
    with pytest.raises(TypeError):
        CAL.is_working_day("2026-03-02")
    with pytest.raises(TypeError):
        CAL.add_working_days(date(2026, 3, 2), 5.0)
    with pytest.raises(ValueError, match="2101"):
        CAL.add_working_days(date(2100, 12, 30), 5)
    with pytest.raises(ValueError, match="1900"):
        CAL.is_working_day(date(1900, 6, 1))


def test_long_spans_cross_years():
    start, end = date(2025, 1, 1), date(2027, 12, 31)
    n = CAL.working_days_between(start, end)
    assert n == sum(_oracle_is_working(start + i * DAY) for i in range(1, (end - start).days + 1))
    assert CAL.add_working_days(start, n) == date(2027, 12, 31)
    # 1 January 2025 is a holiday, so counting from Tuesday 31 December 2024
    # reaches the same n: that is the latest submission day.
    assert CAL.subtract_working_days(end, n) == date(2024, 12, 31)


# --- properties against a day-by-day oracle --------------------------------------

_LIBRARY = holidays.country_holidays("VN", years=range(2018, 2038))


def _oracle_is_working(day, off=frozenset(), on=frozenset()):
    if day in on:
        return True
    if day in off:
        return False
    return _LIBRARY.is_working_day(day)


def _oracle_add(start, n, off=frozenset(), on=frozenset()):
    day, left = start, n
    if n == 0:
        while not _oracle_is_working(day, off, on):
            day += DAY
        return day
    while left:
        day += DAY
        left -= _oracle_is_working(day, off, on)
    return day


def _oracle_between(start, end, off=frozenset(), on=frozenset()):
    return sum(
        _oracle_is_working(start + i * DAY, off, on) for i in range(1, (end - start).days + 1)
    )


FAST = settings(
    max_examples=200,
    deadline=None,
    # The conftest's autouse network guard is function-scoped; harmless here.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

dates = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))
counts = st.integers(min_value=0, max_value=60)


@st.composite
def calendars(draw):
    """A calendar with a few extra days off and on near a random start date,
    so that they actually fall inside the spans tested."""
    start = draw(dates)
    offsets = st.integers(min_value=-100, max_value=100)
    off = {start + k * DAY for k in draw(st.lists(offsets, max_size=8))}
    on = {start + k * DAY for k in draw(st.lists(offsets, max_size=8))} - off
    return start, frozenset(off), frozenset(on), WorkingCalendar(off, on)


@FAST
@given(calendars(), counts)
def test_add_matches_the_oracle_and_inverts_between(case, n):
    start, off, on, cal = case
    due = cal.add_working_days(start, n)
    assert due == _oracle_add(start, n, off, on)
    assert cal.is_working_day(due)
    if n >= 1:
        assert due > start
        assert cal.working_days_between(start, due) == n
        # ... and it is the first such day (no off-by-one towards later days).
        assert cal.working_days_between(start, due - DAY) == n - 1
    else:
        assert due >= start
        assert all(not cal.is_working_day(d) for d in _days(start, due - DAY))


@FAST
@given(calendars(), counts)
def test_add_is_increasing_in_n(case, n):
    start, _, _, cal = case
    if n >= 1:
        assert cal.add_working_days(start, n + 1) > cal.add_working_days(start, n)
    else:
        # 0 days from a day off is the next working day, which is also 1 day.
        first, zero = cal.add_working_days(start, 1), cal.add_working_days(start, 0)
        assert first > zero if cal.is_working_day(start) else first == zero


@FAST
@given(calendars(), st.integers(min_value=-5, max_value=120), st.integers(min_value=0, max_value=120))
def test_between_matches_the_oracle_and_adds_up(case, a, b):
    start, off, on, cal = case
    middle, end = start + a * DAY, start + (a + b) * DAY
    assert cal.working_days_between(start, end) == (
        _oracle_between(start, end, off, on) if end > start else 0
    )
    if a >= 0:
        assert (cal.working_days_between(start, middle) + cal.working_days_between(middle, end)
                == cal.working_days_between(start, end))
    if end >= start:
        assert cal.working_days_between(end, start) == 0


@FAST
@given(calendars(), counts)
def test_subtract_is_the_latest_day_meeting_the_lead_time(case, n):
    end, off, on, cal = case
    latest = cal.subtract_working_days(end, n)
    assert cal.is_working_day(latest)
    assert latest <= end
    assert cal.working_days_between(latest, end) >= n
    # The next working day is too late.
    following = cal.add_working_days(latest, 1)
    assert cal.working_days_between(following, end) < n or following > end
    if n >= 1:
        assert cal.add_working_days(latest, n) <= end
        assert cal.add_working_days(following, n) > end
        # Exactly n when the programme day is a working day.
        if cal.is_working_day(end):
            assert cal.working_days_between(latest, end) == n
    else:
        assert all(not cal.is_working_day(d) for d in _days(latest + DAY, end))


@FAST
@given(calendars(), st.integers(min_value=1, max_value=60))
def test_subtract_undoes_add(case, n):
    # (Not for n = 0: from a day off, add moves forward and subtract stays there.)
    start, _, _, cal = case
    back = cal.subtract_working_days(cal.add_working_days(start, n), n)
    assert back <= start
    assert cal.is_working_day(back)
    if cal.is_working_day(start):
        assert back == start
    else:
        assert all(not cal.is_working_day(d) for d in _days(back + DAY, start))


@FAST
@given(dates)
def test_is_working_day_is_the_library_without_extras(day):
    assert CAL.is_working_day(day) == _LIBRARY.is_working_day(day)


@FAST
@given(calendars())
def test_extras_override_the_library(case):
    _, off, on, cal = case
    assert all(not cal.is_working_day(d) for d in off)
    assert all(cal.is_working_day(d) for d in on)


def _days(first, last):
    """Every day from first to last inclusive (none if last < first)."""
    return [first + i * DAY for i in range((last - first).days + 1)]
