"""The administrator's reference data (DESIGN.md section 2): places, escort officers, consulted
bodies, standard texts, spearhead sectors and the province's own calendar days.

Writes: `create_*`, `update_*`, `set_active` (and `delete_place`, `delete_calendar_day`) check
the values, write an audit event with the before and after values, and flush (never commit).
A refused value raises `ReferenceDataError` with a translated message and the name of the form
field it belongs to. Nothing that other records point at is deleted: a place used by an
itinerary, an escort officer, a consulted body, a standard text or a sector is deactivated
instead (it keeps its name on what already uses it and is no longer offered). Calendar days
have no active flag: a mistaken one is deleted.

Lookups for the other areas (all read the database; none writes):
* `active_escort_officers()`: the escort officers to offer, by name.
* `consulted_body(kind)`: the first active body of that `BodyKind` (None if there is none).
* `consulted_body_name_vi(kind)`: its official Vietnamese name; without one, the authority
  profile's `consulted_bodies`, then a default built from the province's name.
* `standard_texts(kind)`: the active texts of a `StandardTextKind`, by position; all kinds are
  read in one statement, once per request (`standard_texts_by_kind()`).
* `spearhead_sectors(active_only=True)`: dicts {"code", "vi", "en", "active"} by position; the
  authority profile's list while the table is empty. Read once per request.
* `calendar_days(year=None)`: the CalendarDay rows, by date.
* `calendar_from_config_and_database(config)`: the working calendar of the configuration plus
  the calendar days (a day off is an extra holiday, a working day an extra working day); the
  rows are read once per request.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import date

import sqlalchemy as sa
from flask import g, has_app_context, has_request_context, request
from flask_babel import lazy_gettext as _l

from app.audit.service import record_event, snapshot
from app.authority import authority_profile
from app.extensions import db
from app.places.models import Place, PlaceKind
from app.reference.labels import BORDER_COUNTRIES
from app.reference.models import (BodyKind, CalendarDay, CalendarDayKind, ConsultedBodyEntry, EscortOfficer,
                                  SpearheadSector, StandardText, StandardTextKind)
from app.registrations.workdays import FIRST_YEAR, LAST_YEAR, WorkingCalendar, calendar_from_config_and_days

PLACE_FIELDS = ("code", "name_vi", "name_en", "kind", "border_area", "border_country", "active")
ESCORT_OFFICER_FIELDS = ("full_name", "title_vi", "title_en", "phone", "active")
CONSULTED_BODY_FIELDS = ("kind", "name_vi", "name_en", "short_name_vi", "active")
STANDARD_TEXT_FIELDS = ("kind", "title", "text_vi", "text_en", "position", "active")
SECTOR_FIELDS = ("code", "name_vi", "name_en", "position", "active")
CALENDAR_DAY_FIELDS = ("day", "kind", "note")

# The audit action's middle word, and the fields its events carry, for each kind of record.
_KINDS = {
    Place: ("place", PLACE_FIELDS),
    EscortOfficer: ("escort_officer", ESCORT_OFFICER_FIELDS),
    ConsultedBodyEntry: ("consulted_body", CONSULTED_BODY_FIELDS),
    StandardText: ("standard_text", STANDARD_TEXT_FIELDS),
    SpearheadSector: ("sector", SECTOR_FIELDS),
    CalendarDay: ("calendar_day", CALENDAR_DAY_FIELDS),
}

PLACE_CODE = re.compile(r"[A-Za-z0-9_-]{1,32}")
SECTOR_CODE = re.compile(r"[a-z0-9_]{1,32}")
PHONE = re.compile(r"[0-9 +\-.()]{6,40}")
PHONE_MIN_DIGITS = 6
MAX_POSITION = 10_000
SHORT_TEXT = 200
LONG_TEXT = 10_000

# flask.g keys of what is read once per request.
_CALENDAR_CACHE = "reference_calendar_days"
_SECTORS_CACHE = "reference_spearhead_sectors"
_STANDARD_TEXTS_CACHE = "reference_standard_texts"

# Official Vietnamese names when neither the reference data nor the authority profile gives one;
# "{province}" is the province as written mid-sentence ("tỉnh Tây Ninh").
DEFAULT_BODY_NAMES_VI = {
    BodyKind.border_guard: "Bộ Chỉ huy Bộ đội Biên phòng {province}",
    BodyKind.police: "Công an {province}",
    BodyKind.host_agency: "Cơ quan, đơn vị đón tiếp",
    BodyKind.mofa: "Bộ Ngoại giao (Cục Báo chí)",
    BodyKind.other: "Cơ quan liên quan",
}


class ReferenceDataError(Exception):
    """A value the reference data refuses. `str()` is a translated message; `field` names the form
    field it belongs to (None: the record as a whole)."""

    status = 422

    def __init__(self, message, field: str | None = None):
        super().__init__(str(message))
        self.field = field


# --- checks -------------------------------------------------------------------------------------

def _text(value, field: str, *, required: bool = True, max_length: int = SHORT_TEXT) -> str:
    text = unicodedata.normalize("NFC", value or "").strip()
    if required and not text:
        raise ReferenceDataError(_l("This field is required."), field)
    if len(text) > max_length:
        raise ReferenceDataError(_l("Enter at most %(max)d characters.", max=max_length), field)
    return text


def _enum(enum_cls, value, field: str):
    if isinstance(value, enum_cls):
        return value
    if isinstance(value, str) and value in enum_cls.__members__:
        return enum_cls[value]
    raise ReferenceDataError(_l("Not a valid choice."), field)


def _position(value) -> int:
    if value is None or value == "":
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_POSITION:
        raise ReferenceDataError(_l("Enter a whole number from 0 to %(max)d.", max=MAX_POSITION), "position")
    return value


def _phone(value) -> str:
    phone = _text(value, "phone", max_length=40)
    if not PHONE.fullmatch(phone) or sum(character.isdigit() for character in phone) < PHONE_MIN_DIGITS:
        raise ReferenceDataError(_l("Enter a telephone number: digits, spaces, +, -, dots and brackets, "
                                    "from 6 to 40 characters."), "phone")
    return phone


def _taken(model, column, value, record, *, case_insensitive: bool = False) -> bool:
    condition = sa.func.lower(column) == value.lower() if case_insensitive else column == value
    query = sa.select(model.id).where(condition)
    if record is not None and record.id is not None:
        query = query.where(model.id != record.id)
    return db.session.scalar(query.limit(1)) is not None


# --- writing, audited ---------------------------------------------------------------------------

def _create(actor, record):
    action, names = _KINDS[type(record)]
    db.session.add(record)
    db.session.flush()
    record_event(f"reference.{action}.created", actor=actor, subject=record, after=snapshot(record, names))
    _forget_cached()
    return record


def _update(actor, record, values: dict) -> bool:
    """Set `values` on `record`; True (and an audit event of what changed) if anything did."""
    action, names = _KINDS[type(record)]
    before = snapshot(record, names)
    for name, value in values.items():
        setattr(record, name, value)
    db.session.flush()
    after = snapshot(record, names)
    changed = [name for name in names if before[name] != after[name]]
    if not changed:
        return False
    record_event(f"reference.{action}.updated", actor=actor, subject=record,
                 before={name: before[name] for name in changed}, after={name: after[name] for name in changed})
    _forget_cached()
    return True


def set_active(actor, record, active: bool) -> bool:
    """Activate or deactivate any reference record with an active flag; True if it changed."""
    if type(record) is CalendarDay:
        raise TypeError("calendar days have no active flag: delete one instead")
    if record.active == active:
        return False
    action, _names = _KINDS[type(record)]
    record.active = active
    db.session.flush()
    record_event(f"reference.{action}.{'activated' if active else 'deactivated'}", actor=actor, subject=record,
                 before={"active": not active}, after={"active": active})
    _forget_cached()
    return True


def _delete(actor, record) -> None:
    action, names = _KINDS[type(record)]
    record_event(f"reference.{action}.deleted", actor=actor, subject=record, before=snapshot(record, names))
    db.session.delete(record)
    db.session.flush()
    _forget_cached()


def _forget_cached() -> None:
    """A write in this request: the next lookup reads the database again."""
    if has_app_context():
        g.pop(_CALENDAR_CACHE, None)
        g.pop(_SECTORS_CACHE, None)
        g.pop(_STANDARD_TEXTS_CACHE, None)


def _once_per_request(key: str, load):
    """`load()`, kept on flask.g for the rest of the request (outside a request: read every time,
    so that a long-lived worker never keeps an old copy). The request's environ is kept with the
    value because an app context, and so `g`, may outlive one request."""
    if not has_request_context():
        return load()
    cached = g.get(key)
    if cached is not None and cached[0] is request.environ:
        return cached[1]
    value = load()
    setattr(g, key, (request.environ, value))
    return value


# --- places -------------------------------------------------------------------------------------

def _place_values(place, code, name_vi, name_en, kind, border_area, border_country) -> dict:
    code = _text(code, "code", max_length=32)
    if not PLACE_CODE.fullmatch(code):
        raise ReferenceDataError(_l("Use letters without accents, digits, hyphens and underscores only "
                                    "(at most 32)."), "code")
    if _taken(Place, Place.code, code, place, case_insensitive=True):
        raise ReferenceDataError(_l("Another place already has this code."), "code")
    values = {"code": code, "name_vi": _text(name_vi, "name_vi"), "name_en": _text(name_en, "name_en"),
              "kind": _enum(PlaceKind, kind, "kind"), "border_area": bool(border_area), "border_country": None}
    if values["border_area"]:
        if border_country not in BORDER_COUNTRIES:
            raise ReferenceDataError(_l("Choose the neighbouring country of this border area."), "border_country")
        values["border_country"] = border_country
    return values


def create_place(actor, *, code, name_vi, name_en, kind, border_area=False, border_country=None) -> Place:
    return _create(actor, Place(**_place_values(None, code, name_vi, name_en, kind, border_area, border_country),
                                active=True))


def update_place(actor, place: Place, *, code, name_vi, name_en, kind, border_area=False,
                 border_country=None) -> bool:
    return _update(actor, place, _place_values(place, code, name_vi, name_en, kind, border_area, border_country))


def place_in_use(place: Place) -> bool:
    """True when an itinerary goes there: then the place can only be deactivated."""
    from app.registrations.models import ItineraryItem

    return db.session.scalar(sa.select(ItineraryItem.id).where(ItineraryItem.place_id == place.id).limit(1)) \
        is not None


def delete_place(actor, place: Place) -> None:
    """Delete a place no itinerary uses (a mistake); one in use is refused: deactivate it."""
    if place_in_use(place):
        raise ReferenceDataError(_l("Registrations go to this place: it cannot be deleted. Deactivate it "
                                    "instead; it is then no longer offered for new itineraries."))
    _delete(actor, place)


# --- escort officers ----------------------------------------------------------------------------

def _escort_values(full_name, title_vi, title_en, phone) -> dict:
    return {"full_name": _text(full_name, "full_name"), "title_vi": _text(title_vi, "title_vi", required=False),
            "title_en": _text(title_en, "title_en", required=False), "phone": _phone(phone)}


def create_escort_officer(actor, *, full_name, title_vi="", title_en="", phone) -> EscortOfficer:
    return _create(actor, EscortOfficer(**_escort_values(full_name, title_vi, title_en, phone), active=True))


def update_escort_officer(actor, officer: EscortOfficer, *, full_name, title_vi="", title_en="", phone) -> bool:
    return _update(actor, officer, _escort_values(full_name, title_vi, title_en, phone))


def active_escort_officers() -> list[EscortOfficer]:
    """The escort officers staff may choose, by name."""
    return list(db.session.scalars(sa.select(EscortOfficer).where(EscortOfficer.active.is_(True))
                                   .order_by(EscortOfficer.full_name, EscortOfficer.id)))


# --- consulted bodies ---------------------------------------------------------------------------

def _body_values(body, kind, name_vi, name_en, short_name_vi) -> dict:
    values = {"kind": _enum(BodyKind, kind, "kind"), "name_vi": _text(name_vi, "name_vi", max_length=300),
              "name_en": _text(name_en, "name_en", required=False, max_length=300),
              "short_name_vi": _text(short_name_vi, "short_name_vi", required=False)}
    query = sa.select(ConsultedBodyEntry.id).where(ConsultedBodyEntry.kind == values["kind"],
                                                   sa.func.lower(ConsultedBodyEntry.name_vi)
                                                   == values["name_vi"].lower())
    if body is not None:
        query = query.where(ConsultedBodyEntry.id != body.id)
    if db.session.scalar(query.limit(1)) is not None:
        raise ReferenceDataError(_l("This body is already in the list."), "name_vi")
    return values


def create_consulted_body(actor, *, kind, name_vi, name_en="", short_name_vi="") -> ConsultedBodyEntry:
    return _create(actor, ConsultedBodyEntry(**_body_values(None, kind, name_vi, name_en, short_name_vi),
                                             active=True))


def update_consulted_body(actor, body: ConsultedBodyEntry, *, kind, name_vi, name_en="", short_name_vi="") -> bool:
    return _update(actor, body, _body_values(body, kind, name_vi, name_en, short_name_vi))


def consulted_body(kind: BodyKind) -> ConsultedBodyEntry | None:
    """The first active body of `kind` (the oldest entry), or None."""
    return db.session.scalar(sa.select(ConsultedBodyEntry)
                             .where(ConsultedBodyEntry.kind == kind, ConsultedBodyEntry.active.is_(True))
                             .order_by(ConsultedBodyEntry.id).limit(1))


def consulted_body_name_vi(kind: BodyKind) -> str:
    """The official Vietnamese name of the body of `kind`: the reference data's, else the authority
    profile's, else a default built from the province's name."""
    body = consulted_body(kind)
    if body is not None:
        return body.name_vi
    profile = authority_profile()
    for entry in profile.consulted_bodies:
        if entry.get("kind") == kind.name and entry.get("vi"):
            return entry["vi"]
    return DEFAULT_BODY_NAMES_VI[kind].format(province=profile.province_in_text("vi"))


# --- standard texts -----------------------------------------------------------------------------

def _standard_text_values(kind, title, text_vi, text_en, position) -> dict:
    return {"kind": _enum(StandardTextKind, kind, "kind"), "title": _text(title, "title"),
            "text_vi": _text(text_vi, "text_vi", max_length=LONG_TEXT),
            "text_en": _text(text_en, "text_en", max_length=LONG_TEXT), "position": _position(position)}


def create_standard_text(actor, *, kind, title, text_vi, text_en, position=0) -> StandardText:
    return _create(actor, StandardText(**_standard_text_values(kind, title, text_vi, text_en, position),
                                       active=True))


def update_standard_text(actor, text: StandardText, *, kind, title, text_vi, text_en, position=0) -> bool:
    return _update(actor, text, _standard_text_values(kind, title, text_vi, text_en, position))


def standard_texts(kind: StandardTextKind) -> list[StandardText]:
    """The active texts of `kind` that staff pick from, by position."""
    return list(standard_texts_by_kind().get(kind, []))


def standard_texts_by_kind() -> dict[StandardTextKind, list[StandardText]]:
    """Every active text, by kind, each kind by position, read once per request: a registration's
    page offers three kinds in four lists (one statement, not four)."""
    return _once_per_request(_STANDARD_TEXTS_CACHE, _load_standard_texts)


def _load_standard_texts() -> dict[StandardTextKind, list[StandardText]]:
    grouped: dict[StandardTextKind, list[StandardText]] = {}
    for text in db.session.scalars(sa.select(StandardText).where(StandardText.active.is_(True))
                                   .order_by(StandardText.position, StandardText.id)):
        grouped.setdefault(text.kind, []).append(text)
    return grouped


# --- spearhead sectors --------------------------------------------------------------------------

def _sector_in_use(code: str) -> bool:
    from app.products.models import ProductSector

    return db.session.scalar(sa.select(ProductSector.code).where(ProductSector.code == code).limit(1)) is not None


def _sector_values(sector, code, name_vi, name_en, position) -> dict:
    code = _text(code, "code", max_length=32)
    if not SECTOR_CODE.fullmatch(code):
        raise ReferenceDataError(_l("Use lower-case letters without accents, digits and underscores only "
                                    "(at most 32), for example: border_trade."), "code")
    if _taken(SpearheadSector, SpearheadSector.code, code, sector):
        raise ReferenceDataError(_l("Another sector already has this code."), "code")
    if sector is not None and code != sector.code and _sector_in_use(sector.code):
        raise ReferenceDataError(_l("Products are tagged with this code, so it cannot change. Deactivate the "
                                    "sector and create a new one instead."), "code")
    return {"code": code, "name_vi": _text(name_vi, "name_vi"), "name_en": _text(name_en, "name_en"),
            "position": _position(position)}


def create_sector(actor, *, code, name_vi, name_en, position=0) -> SpearheadSector:
    return _create(actor, SpearheadSector(**_sector_values(None, code, name_vi, name_en, position), active=True))


def update_sector(actor, sector: SpearheadSector, *, code, name_vi, name_en, position=0) -> bool:
    return _update(actor, sector, _sector_values(sector, code, name_vi, name_en, position))


def _load_sectors() -> list[dict]:
    rows = db.session.scalars(sa.select(SpearheadSector).order_by(SpearheadSector.position, SpearheadSector.id)).all()
    if rows:
        return [{"code": row.code, "vi": row.name_vi, "en": row.name_en, "active": row.active} for row in rows]
    return [{"code": entry["code"], "vi": entry.get("vi") or entry.get("en") or entry["code"],
             "en": entry.get("en") or entry.get("vi") or entry["code"], "active": True}
            for entry in authority_profile().spearhead_sectors if entry.get("code")]


def spearhead_sectors(active_only: bool = True) -> list[dict]:
    """The sectors as {"code", "vi", "en", "active"}, by position: the reference data's, or the
    authority profile's while the table is empty. `active_only=False` adds the deactivated ones
    (to name them on the products that have them)."""
    sectors = _once_per_request(_SECTORS_CACHE, _load_sectors)
    return [dict(sector) for sector in sectors if sector["active"] or not active_only]


# --- calendar days ------------------------------------------------------------------------------

def _calendar_values(record, day, kind, note) -> dict:
    if not isinstance(day, date):
        raise ReferenceDataError(_l("This field is required."), "day")
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ReferenceDataError(_l("The working calendar covers the years %(first)d to %(last)d only.",
                                    first=FIRST_YEAR, last=LAST_YEAR), "day")
    kind = _enum(CalendarDayKind, kind, "kind")
    weekend = day.weekday() >= 5
    if kind is CalendarDayKind.day_off and weekend:
        raise ReferenceDataError(_l("This is a Saturday or a Sunday, already a day off. An extra day off "
                                    "must be a weekday."), "day")
    if kind is CalendarDayKind.working_day and not weekend:
        raise ReferenceDataError(_l("A make-up working day must be a Saturday or a Sunday: a weekday is "
                                    "already a working day."), "day")
    if _taken(CalendarDay, CalendarDay.day, day, record):
        raise ReferenceDataError(_l("This date is already in the calendar."), "day")
    return {"day": day, "kind": kind, "note": _text(note, "note", required=False)}


def create_calendar_day(actor, *, day, kind, note="") -> CalendarDay:
    return _create(actor, CalendarDay(**_calendar_values(None, day, kind, note)))


def update_calendar_day(actor, record: CalendarDay, *, day, kind, note="") -> bool:
    return _update(actor, record, _calendar_values(record, day, kind, note))


def delete_calendar_day(actor, record: CalendarDay) -> None:
    _delete(actor, record)


def calendar_days(year: int | None = None) -> list[CalendarDay]:
    """The province's extra days off and make-up working days, by date (of one year if given)."""
    query = sa.select(CalendarDay).order_by(CalendarDay.day)
    if year is not None:
        query = query.where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
    return list(db.session.scalars(query))


def calendar_years() -> list[int]:
    """The years that have calendar days, latest first."""
    return sorted({day.year for day in db.session.scalars(sa.select(CalendarDay.day))}, reverse=True)


def _load_calendar_days() -> tuple[frozenset[date], frozenset[date]]:
    rows = db.session.execute(sa.select(CalendarDay.day, CalendarDay.kind)).all()
    usable = [(day, kind) for day, kind in rows if FIRST_YEAR <= day.year <= LAST_YEAR]
    return (frozenset(day for day, kind in usable if kind is CalendarDayKind.day_off),
            frozenset(day for day, kind in usable if kind is CalendarDayKind.working_day))


def calendar_from_config_and_database(config: Mapping) -> WorkingCalendar:
    """The working calendar: the holiday library, the configured extra days, and the administrator's
    calendar days (which win over the configuration for their own dates). The rows are read once
    per request. Due dates already stored are not recomputed when a calendar day changes."""
    days_off, working_days = _once_per_request(_CALENDAR_CACHE, _load_calendar_days)
    return calendar_from_config_and_days(config, days_off, working_days)


# --- seeding from the authority profile ---------------------------------------------------------

def seed_from_profile(actor=None) -> dict[str, int]:
    """Fill an EMPTY consulted-bodies or spearhead-sectors table from the authority profile; a table
    that has rows is left alone, so running it again changes nothing. Returns what was added.

    The profile's sector codes are taken as they are (products may already carry them), skipping
    empty and repeated ones; a body of a kind this version does not know is filed as "other"."""
    profile = authority_profile()
    added = {"consulted_bodies": 0, "spearhead_sectors": 0}
    if db.session.scalar(sa.select(sa.func.count()).select_from(ConsultedBodyEntry)) == 0:
        for entry in profile.consulted_bodies:
            name_vi = unicodedata.normalize("NFC", entry.get("vi") or "").strip()[:300]
            if not name_vi:
                continue
            kind = BodyKind.__members__.get(entry.get("kind") or "", BodyKind.other)
            _create(actor, ConsultedBodyEntry(kind=kind, name_vi=name_vi, name_en=(entry.get("en") or "")[:300],
                                              short_name_vi=(entry.get("short_vi") or "")[:200], active=True))
            added["consulted_bodies"] += 1
    if db.session.scalar(sa.select(sa.func.count()).select_from(SpearheadSector)) == 0:
        seen = set()
        for position, entry in enumerate(profile.spearhead_sectors, start=1):
            code = (entry.get("code") or "").strip()[:32]
            if not code or code in seen:
                continue
            seen.add(code)
            _create(actor, SpearheadSector(code=code, name_vi=(entry.get("vi") or entry.get("en") or code)[:200],
                                           name_en=(entry.get("en") or entry.get("vi") or code)[:200],
                                           position=position * 10, active=True))
            added["spearhead_sectors"] += 1
    return added
