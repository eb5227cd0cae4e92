"""Translated names of the reference data's kinds, and of its audit actions."""
from flask_babel import lazy_gettext as _l

from app.places.models import PlaceKind
from app.reference.models import BodyKind, CalendarDayKind, StandardTextKind

PLACE_KIND_LABELS = {
    PlaceKind.ward: _l("Ward"),
    PlaceKind.commune: _l("Commune"),
    PlaceKind.special_zone: _l("Special zone"),
    PlaceKind.site: _l("Site (border gate, factory, monument...)"),
}

BODY_KIND_LABELS = {
    BodyKind.border_guard: _l("Border guard"),
    BodyKind.police: _l("Provincial police"),
    BodyKind.host_agency: _l("Host agency"),
    BodyKind.mofa: _l("Ministry of Foreign Affairs (informed of every decision)"),
    BodyKind.other: _l("Other body"),
}

STANDARD_TEXT_KIND_LABELS = {
    StandardTextKind.condition: _l("Condition"),
    StandardTextKind.refusal_reason: _l("Refusal reason"),
    StandardTextKind.info_request: _l("Request for information"),
}

CALENDAR_DAY_KIND_LABELS = {
    CalendarDayKind.day_off: _l("Extra day off"),
    CalendarDayKind.working_day: _l("Make-up working day"),
}

# The neighbouring countries a border-area place may face (ISO 3166 alpha-2).
BORDER_COUNTRIES = ("KH", "LA", "CN")

AUDIT_LABELS = {
    "reference.place.created": _l("Place created"),
    "reference.place.updated": _l("Place changed"),
    "reference.place.activated": _l("Place activated"),
    "reference.place.deactivated": _l("Place deactivated"),
    "reference.place.deleted": _l("Place deleted"),
    "reference.escort_officer.created": _l("Escort officer created"),
    "reference.escort_officer.updated": _l("Escort officer changed"),
    "reference.escort_officer.activated": _l("Escort officer activated"),
    "reference.escort_officer.deactivated": _l("Escort officer deactivated"),
    "reference.consulted_body.created": _l("Consulted body created"),
    "reference.consulted_body.updated": _l("Consulted body changed"),
    "reference.consulted_body.activated": _l("Consulted body activated"),
    "reference.consulted_body.deactivated": _l("Consulted body deactivated"),
    "reference.standard_text.created": _l("Standard text created"),
    "reference.standard_text.updated": _l("Standard text changed"),
    "reference.standard_text.activated": _l("Standard text activated"),
    "reference.standard_text.deactivated": _l("Standard text deactivated"),
    "reference.sector.created": _l("Spearhead sector created"),
    "reference.sector.updated": _l("Spearhead sector changed"),
    "reference.sector.activated": _l("Spearhead sector activated"),
    "reference.sector.deactivated": _l("Spearhead sector deactivated"),
    "reference.calendar_day.created": _l("Calendar day added"),
    "reference.calendar_day.updated": _l("Calendar day changed"),
    "reference.calendar_day.deleted": _l("Calendar day deleted"),
}
