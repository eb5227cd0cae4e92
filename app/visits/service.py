"""Approved visits: the month calendar, and each staff member's secret iCalendar feed.

The page and the feed load what they show in a fixed number of queries, whatever
the number of visits: the registrations with their crew count, then their outlets,
assigned officers, itineraries and places, each by one `selectinload`. Crew members
themselves are never loaded here: the feed leaves the building, so passport data and
dates of birth cannot end up in it by accident.

The feed link is a bearer secret (a calendar app cannot log in). Only its SHA-256 is
stored, as for login sessions and emailed links, so a copy of the database does not
open anyone's feed, and the link can be shown only once, when it is made.
"""
from __future__ import annotations

import calendar as month_calendar
import re
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import urlsplit

import icalendar
import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from app.audit.service import record_event
from app.auth.models import Role, User
from app.auth.service import token_digest  # the one hashing of account secrets
from app.authority import authority_profile
from app.countries import country_name
from app.db import utcnow
from app.extensions import db
from app.i18n import day
from app.registrations.models import ItineraryItem, Registration, Status, registration_crew
from app.registrations.service import status_label

FEED_ROLES = (Role.officer, Role.leader)
# In the feed: visits that are or were in force; a revoked one, or one replaced by its
# amendment (which has its own reference and event), as CANCELLED so calendar apps drop it.
FEED_CONFIRMED = (Status.approved, Status.completed)
FEED_CANCELLED = (Status.revoked, Status.superseded)
FEED_PAST_DAYS = 90
FEED_TIMEZONE = "Asia/Ho_Chi_Minh"
FEED_PRODID = "-//PressDesk//Foreign press visits//EN"
# A token_urlsafe(32) is 43 characters; anything much longer is not one of ours.
TOKEN_MAX_LENGTH = 100

MONTH_PATTERN = re.compile(r"([0-9]{4})-([0-9]{2})")  # ASCII digits only: \\d also matches "２"
FIRST_YEAR, LAST_YEAR = 1900, 2999


class InvalidMonth(ValueError):
    """The ?month= value is not a month written as YYYY-MM."""


def parse_month(value: str | None, today: date) -> date:
    """The first day of the month asked for ("2026-12"); this month when none is given."""
    if not value:
        return today.replace(day=1)
    match = MONTH_PATTERN.fullmatch(value)
    if match is None:
        raise InvalidMonth(value)
    year, month = int(match.group(1)), int(match.group(2))
    if not (FIRST_YEAR <= year <= LAST_YEAR and 1 <= month <= 12):
        raise InvalidMonth(value)
    return date(year, month, 1)


def month_param(first_day: date) -> str:
    return f"{first_day.year:04d}-{first_day.month:02d}"


# --- loading visits -------------------------------------------------------------

@dataclass
class Visit:
    """An approved (or completed, revoked...) registration as the calendar shows it."""

    registration: Registration
    crew_count: int

    @property
    def start(self) -> date:
        return self.registration.start_date

    @property
    def end(self) -> date:
        return self.registration.end_date

    @property
    def places(self) -> list:
        """The itinerary's places (listed places and free-text ones), each once, in itinerary order."""
        seen, places = set(), []
        for item in self.registration.itinerary:
            key = ("place", item.place_id) if item.place is not None else ("text", item.place_text)
            if item.place is None and not item.place_text:
                continue
            if key not in seen:
                seen.add(key)
                places.append(item.place if item.place is not None else item.place_text)
        return places

    @property
    def visits_border_area(self) -> bool:
        return self.registration.visits_border_area


def _visits(*conditions) -> list[Visit]:
    """Registrations matching `conditions`, with all that the calendar shows, in five queries."""
    crew_count = (sa.select(sa.func.count()).select_from(registration_crew)
                  .where(registration_crew.c.registration_id == Registration.id)
                  .correlate(Registration).scalar_subquery())
    rows = db.session.execute(
        sa.select(Registration, crew_count)
        .where(Registration.start_date.is_not(None), Registration.end_date.is_not(None), *conditions)
        .options(selectinload(Registration.outlet), selectinload(Registration.assigned_officer),
                 selectinload(Registration.itinerary).selectinload(ItineraryItem.place))
        .order_by(Registration.start_date, Registration.end_date, Registration.reference)
    ).all()
    return [Visit(registration, count) for registration, count in rows]


# --- the month page --------------------------------------------------------------

@dataclass
class MonthView:
    """One month of visits: the grid (Monday first) and the same visits as an agenda."""

    first_day: date
    today: date
    visits: list[Visit]
    weeks: list[list[date]] = field(init=False)
    _by_day: dict[date, list[Visit]] = field(init=False)

    def __post_init__(self):
        self.weeks = month_calendar.Calendar(firstweekday=month_calendar.MONDAY).monthdatescalendar(
            self.first_day.year, self.first_day.month)
        self._by_day = defaultdict(list)
        for visit in self.visits:
            current = max(visit.start, self.first_day)
            while current <= min(visit.end, self.last_day):
                if self.shown_on(visit, current):
                    self._by_day[current].append(visit)
                current += timedelta(days=1)

    @property
    def last_day(self) -> date:
        return self.first_day.replace(day=month_calendar.monthrange(self.first_day.year, self.first_day.month)[1])

    @property
    def previous_month(self) -> date:
        return (self.first_day - timedelta(days=1)).replace(day=1)

    @property
    def next_month(self) -> date:
        return self.last_day + timedelta(days=1)

    @property
    def is_current_month(self) -> bool:
        return self.first_day == self.today.replace(day=1)

    def shown_on(self, visit: Visit, on: date) -> bool:
        # A completed visit is history: it belongs to the days that have passed, never to today or later.
        return visit.registration.status is Status.approved or on < self.today

    def visits_on(self, on: date) -> list[Visit]:
        return self._by_day.get(on, [])

    @property
    def current(self) -> list[Visit]:
        return [visit for visit in self.visits if visit.registration.status is Status.approved
                and visit.start <= self.today <= visit.end]

    @property
    def upcoming(self) -> list[Visit]:
        return [visit for visit in self.visits if visit.registration.status is Status.approved
                and visit.start > self.today]

    @property
    def ended(self) -> list[Visit]:
        return [visit for visit in self.visits if visit.registration.status is not Status.approved
                or visit.end < self.today]


def month_view(first_day: date, today: date) -> MonthView:
    """Approved visits that touch the month, and completed ones that had a day in it before today."""
    last_day = first_day.replace(day=month_calendar.monthrange(first_day.year, first_day.month)[1])
    visits = _visits(Registration.status.in_([Status.approved, Status.completed]),
                     Registration.start_date <= last_day, Registration.end_date >= first_day)
    visits = [visit for visit in visits if visit.registration.status is Status.approved
              or max(visit.start, first_day) < today]
    return MonthView(first_day=first_day, today=today, visits=visits)


# --- the feed link ---------------------------------------------------------------

def reset_calendar_link(user: User) -> str:
    """A new secret for `user`'s feed; the previous link stops working. Returns the secret, to show once."""
    raw_token = secrets.token_urlsafe(32)
    user.calendar_token_hash = token_digest(raw_token)
    db.session.flush()
    record_event("calendar.link_reset", actor=user, subject=user)
    return raw_token


def feed_user(raw_token: str) -> User | None:
    """The owner of a feed link, while the account is active and may see visits; None otherwise."""
    if not raw_token or len(raw_token) > TOKEN_MAX_LENGTH:
        return None
    user = db.session.scalar(sa.select(User).where(User.calendar_token_hash == token_digest(raw_token)))
    if user is None or not user.active or user.role not in FEED_ROLES:
        return None
    return user


def _absolute_url(endpoint: str, **values) -> str:
    """A link on the configured public BASE_URL (a calendar app is not on the request's host)."""
    path = current_app.url_map.bind("pressdesk.invalid").build(endpoint, values)
    return current_app.config["BASE_URL"].rstrip("/") + path


def feed_url(raw_token: str) -> str:
    return _absolute_url("visits.feed", token=raw_token)


# --- the iCalendar feed ------------------------------------------------------------

def _feed_locale(user: User) -> str:
    languages = current_app.config["LANGUAGES"]
    return user.locale if user.locale in languages else current_app.config["BABEL_DEFAULT_LOCALE"]


def _place_name(place, locale: str) -> str:
    return place if isinstance(place, str) else place.name(locale)


def _event(visit: Visit, locale: str, host: str) -> icalendar.Event:
    registration = visit.registration
    outlet = registration.outlet
    cancelled = registration.status in FEED_CANCELLED
    url = _absolute_url("registrations.detail", registration_id=registration.id)
    summary = f"{registration.reference} – {outlet.name}"
    if cancelled:
        summary += f" ({status_label(registration.status)})"

    border, status, dates, crew, itinerary = _("border area"), _("Status"), _("Dates"), _("Crew"), _("Itinerary")
    lines = [f"{outlet.name} ({country_name(outlet.country, locale)})",
             f"{status}: {status_label(registration.status)}",
             f"{dates}: {day(visit.start)} – {day(visit.end)}",
             f"{crew}: {visit.crew_count}",
             f"{itinerary}:"]
    for item in registration.itinerary:
        place = item.place.name(locale) if item.place is not None else (item.place_text or "—")
        if item.place is not None and item.place.border_area:
            place += f" ({border})"
        line = f"- {day(item.day) if item.day else '—'}: {place}"
        if item.host_organisation:
            line += f" · {item.host_organisation}"
        lines.append(line)
    escort = ", ".join(value for value in (registration.escort_name, registration.escort_phone) if value)
    escort_label = _("Escort or contact officer")
    lines.append(f"{escort_label}: {escort or '—'}")
    officer = registration.assigned_officer
    lines.append(_("Assigned to %(name)s", name=officer.full_name) if officer else _("Not assigned to an officer"))
    lines.append(url)

    event = icalendar.Event()
    event.add("uid", f"registration-{registration.id}@{host}")
    event.add("dtstamp", utcnow())
    # All-day events: DATE values, DTEND the day after the last day (exclusive, RFC 5545 3.6.1).
    event.add("dtstart", visit.start)
    event.add("dtend", visit.end + timedelta(days=1))
    event.add("summary", summary)
    event.add("location", "; ".join(_place_name(place, locale) for place in visit.places))
    event.add("description", "\n".join(lines))
    event.add("url", url)
    event.add("last-modified", registration.updated_at)
    event.add("sequence", registration.version)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    # A visit does not make the staff member busy: keep their free/busy time free.
    event.add("transp", "TRANSPARENT")
    return event


def feed_visits(today: date) -> list[Visit]:
    """Visits ending within the last FEED_PAST_DAYS days or later, in force or cancelled."""
    return _visits(Registration.status.in_(FEED_CONFIRMED + FEED_CANCELLED),
                   Registration.end_date >= today - timedelta(days=FEED_PAST_DAYS))


def build_feed(user: User, today: date) -> bytes:
    """The user's iCalendar feed, in the user's language."""
    locale = _feed_locale(user)
    host = urlsplit(current_app.config["BASE_URL"]).hostname or "pressdesk.invalid"
    visits = feed_visits(today)
    with force_locale(locale):
        feed = icalendar.Calendar()
        feed.add("prodid", FEED_PRODID)
        feed.add("version", "2.0")
        feed.add("calscale", "GREGORIAN")
        feed.add("method", "PUBLISH")
        feed.add("x-wr-calname", _("%(province)s – foreign press visits",
                                   province=authority_profile().province_name(locale)))
        feed.add("x-wr-timezone", FEED_TIMEZONE)
        # How often a calendar app should fetch the feed again (RFC 7986, and Outlook's older name).
        feed.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
        feed.add("x-published-ttl", "PT1H")
        for visit in visits:
            feed.add_component(_event(visit, locale, host))
        return feed.to_ical()
