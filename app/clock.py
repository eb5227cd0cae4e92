"""The one clock: the current instant in UTC, and the province's date and time.

Every check that asks "what day is it" asks the province (Asia/Ho_Chi_Minh by default, the
`BABEL_DEFAULT_TIMEZONE` setting), never the server: a server in UTC is still on yesterday
from 17:00 to 24:00 UTC while the province is already on today. Nothing else in the app calls
`date.today()` or `datetime.now()`; the tests freeze this clock with time-machine.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"


def utcnow() -> datetime:
    """The current instant, timezone-aware, in UTC (what timestamps are stored in)."""
    return datetime.now(timezone.utc)


def province_timezone() -> ZoneInfo:
    """The province's time zone: the configured one inside an app, Vietnam's otherwise."""
    name = current_app.config["BABEL_DEFAULT_TIMEZONE"] if has_app_context() else DEFAULT_TIMEZONE
    return ZoneInfo(name)


def local_now() -> datetime:
    """The province's date and time now, timezone-aware."""
    return utcnow().astimezone(province_timezone())


def local_today() -> date:
    """The province's date today: what deadlines, validity and "in the future" are measured from."""
    return local_now().date()


def local_date_of(moment: datetime) -> date:
    """The province's date of a stored (aware) instant."""
    return moment.astimezone(province_timezone()).date()
