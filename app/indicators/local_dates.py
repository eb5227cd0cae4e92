"""The province's local date of a stored UTC timestamp, computed in SQL.

The indicators count decisions by their local submission and decision days (processing times in
working days, answered within the deadline). Turning each of tens of thousands of timestamps into a
local date in Python was the report's largest cost; this expression lets the database group the
decisions by (submission day, decision day) instead, so Python sees one row per pair of days.

* PostgreSQL knows time zones: `CAST(timezone('Asia/Ho_Chi_Minh', column) AS DATE)`, exact for any
  zone, daylight saving included.
* SQLite does not, but stores UTC timestamps as text ('2026-04-30 17:00:00.000000', app/db.py's
  UTCDateTime): `date(substr(column, 1, 19), '+420 minutes')` shifts by the zone's offset. The
  fraction of a second is cut first, because SQLite rounds times to the millisecond and would put
  23:59:59.9995 on the next day. A zone whose offset changes (daylight saving) becomes a CASE over
  the offset's periods, found once per zone with zoneinfo between FIRST_YEAR and LAST_YEAR (the
  years the indicators accept); Asia/Ho_Chi_Minh has had one offset (UTC+7) since 1975, so the
  CASE is a single `date(...)`.

The zone name and the offsets are written into the SQL as literals, not parameters, so that the
same expression in SELECT and GROUP BY is recognised as the same by PostgreSQL; the name must be
a zoneinfo key (checked), so it cannot carry SQL.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

import sqlalchemy as sa

FIRST_YEAR, LAST_YEAR = 2000, 2101
_ZONE_NAME = re.compile(r"[A-Za-z0-9_+\-/]+")


@lru_cache(maxsize=8)
def offset_periods(zone_name: str) -> tuple[tuple[datetime | None, int], ...]:
    """((until, offset in minutes), ...): the zone's UTC offset before each change (naive UTC
    instants), the last period with `until` None. Found by sampling every day and narrowing each
    change to the second (zones change offset at most once a day)."""
    zone = ZoneInfo(zone_name)

    def minutes(moment: datetime) -> int:
        return int(moment.replace(tzinfo=timezone.utc).astimezone(zone).utcoffset().total_seconds() // 60)

    periods = []
    moment = datetime(FIRST_YEAR, 1, 1)
    current = minutes(moment)
    end = datetime(LAST_YEAR, 1, 1)
    day = timedelta(days=1)
    while moment < end:
        following = moment + day
        offset = minutes(following)
        if offset != current:
            low, high = moment, following  # minutes(low) == current != minutes(high)
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                middle = middle.replace(microsecond=0)
                if middle in (low, high):
                    break
                if minutes(middle) == current:
                    low = middle
                else:
                    high = middle
            periods.append((high, current))
            current = offset
        moment = following
    periods.append((None, current))
    return tuple(periods)


def _sqlite_date(column, minutes: int):
    modifier = sa.literal_column(f"'{minutes:+d} minutes'")
    return sa.func.date(sa.func.substr(column, 1, 19), modifier, type_=sa.Date)


def local_date(column, zone_name: str, dialect_name: str):
    """The local date (in `zone_name`) of the UTC timestamp `column`, as an SQL expression."""
    if not _ZONE_NAME.fullmatch(zone_name):
        raise ValueError(f"not a time zone name: {zone_name!r}")
    if dialect_name == "postgresql":
        return sa.cast(sa.func.timezone(sa.literal_column(f"'{zone_name}'"), column), sa.Date)
    if dialect_name != "sqlite":
        raise NotImplementedError(f"local dates in SQL for {dialect_name}")
    periods = offset_periods(zone_name)
    if len(periods) == 1:
        return _sqlite_date(column, periods[0][1])
    # Stored text compares as time: 'YYYY-MM-DD HH:MM:SS.ffffff' (the cut-off has no fraction).
    return sa.case(*((sa.func.substr(column, 1, 19) < sa.literal_column(f"'{until:%Y-%m-%d %H:%M:%S}'"),
                      _sqlite_date(column, minutes)) for until, minutes in periods[:-1]),
                   else_=_sqlite_date(column, periods[-1][1]))
