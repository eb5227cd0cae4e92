"""The holder of a permit as approved: copied from the crew and the registration at issue.

What the verification page, its photo and a checkpoint's offline cache show comes from here,
never from the live crew data (DESIGN.md section 6): a crew member edited after the approval,
or a photo replaced, leaves the issued permit as it was.
"""
from __future__ import annotations

import hashlib

from app.documents.models import IssuedDocument, PermitHolder
from app.extensions import db
from app.uploads import copy_stored, open_stored


def approved_places(registration) -> list[dict]:
    """The programme's places in order, each once, with the days planned there (ISO dates)."""
    places: dict[object, dict] = {}
    for item in registration.itinerary:
        if item.place is not None:
            key = ("place", item.place.id)
            entry = {"vi": item.place.name_vi, "en": item.place.name_en, "border": bool(item.place.border_area)}
        elif item.place_text:
            key = ("text", item.place_text.strip().casefold())
            entry = {"vi": item.place_text.strip(), "en": item.place_text.strip(), "border": False}
        else:
            continue
        place = places.setdefault(key, {**entry, "days": []})
        if item.day is not None and item.day.isoformat() not in place["days"]:
            place["days"].append(item.day.isoformat())
    for place in places.values():
        place["days"].sort()
    return list(places.values())


def record_holder(document: IssuedDocument, registration, member, approval_letter: IssuedDocument | None
                  ) -> PermitHolder:
    """Write the permit's holder record, with its own copy of the photo."""
    photo_name = photo_sha256 = None
    if member.photo_stored_name:
        photo_name = copy_stored(member.photo_stored_name)
        with open_stored(photo_name) as stored:
            photo_sha256 = hashlib.sha256(stored.read()).hexdigest()
    holder = PermitHolder(
        document_id=document.id, full_name=member.full_name, nationality=member.nationality,
        role=member.role.name, outlet_name=registration.outlet.name,
        photo_stored_name=photo_name, photo_content_type=member.photo_content_type if photo_name else None,
        photo_sha256=photo_sha256, places=approved_places(registration),
        conditions_vi=registration.conditions or None, conditions_en=registration.conditions_en or None,
        escort_name=registration.escort_name or None, escort_phone=registration.escort_phone or None,
        approval_letter_number=approval_letter.register_number if approval_letter else None)
    db.session.add(holder)
    db.session.flush()
    return holder
