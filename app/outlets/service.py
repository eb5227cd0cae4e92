"""Outlet profile and crew rules. Functions flush; the route commits."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l

from app.audit.service import record_event
from app.auth.models import Role, User
from app.extensions import db
from app.outlets.models import CrewMember, CrewRole, MediaType, Outlet
from app.uploads import photo_pixels, store_upload


class OutletError(Exception):
    def __init__(self, message):
        super().__init__(str(message))


@dataclass
class OutletData:
    name: str
    country: str
    media_type: MediaType
    website: str | None
    is_resident_office: bool
    office_address: str | None
    mofa_accreditation_number: str | None


def save_outlet(actor: User, data: OutletData) -> Outlet:
    """Create the correspondent's outlet, or update it."""
    if actor.role is not Role.correspondent:
        raise OutletError(_l("Only correspondents describe an outlet."))
    outlet = actor.outlet
    before = None
    if outlet is None:
        outlet = Outlet()
        db.session.add(outlet)
    else:
        before = {"name": outlet.name, "country": outlet.country, "resident": outlet.is_resident_office}
    outlet.name = data.name.strip()
    outlet.country = data.country
    outlet.media_type = data.media_type
    outlet.website = (data.website or "").strip() or None
    outlet.is_resident_office = data.is_resident_office
    outlet.office_address = (data.office_address or "").strip() or None if data.is_resident_office else None
    outlet.mofa_accreditation_number = ((data.mofa_accreditation_number or "").strip() or None
                                        if data.is_resident_office else None)
    db.session.flush()
    actor.outlet_id = outlet.id
    record_event("outlet.saved", actor=actor, subject=outlet, before=before,
                 after={"name": outlet.name, "country": outlet.country, "resident": outlet.is_resident_office})
    return outlet


@dataclass
class CrewData:
    full_name: str
    nationality: str
    date_of_birth: date
    role: CrewRole
    passport_number: str
    passport_expiry: date
    press_card_number: str | None


def save_crew_member(actor: User, data: CrewData, member: CrewMember | None = None, photo=None) -> CrewMember:
    _check_crew_member(actor, member)
    stored = None
    if photo is not None and photo.filename:
        # Decoded and stored holding no database lock; then checked again in the write transaction.
        stored = store_upload(photo, pixels=photo_pixels(), images_only=True)
        _check_crew_member(actor, member)
    created = member is None
    if created:
        member = CrewMember(outlet_id=actor.outlet_id)
        db.session.add(member)
    member.full_name = data.full_name.strip()
    member.nationality = data.nationality
    member.date_of_birth = data.date_of_birth
    member.role = data.role
    member.passport_number = data.passport_number.strip().upper()
    member.passport_expiry = data.passport_expiry
    member.press_card_number = (data.press_card_number or "").strip() or None
    if stored is not None:  # the old photo's file is deleted after the commit (app/uploads.py)
        member.photo_stored_name, member.photo_content_type = stored.stored_name, stored.content_type
    db.session.flush()
    # Personal data (passport number, birth date) stays out of the audit log.
    record_event("crew_member.added" if created else "crew_member.updated", actor=actor, subject=member,
                 after={"full_name": member.full_name, "role": member.role.name})
    return member


def _check_crew_member(actor: User, member: CrewMember | None) -> None:
    if actor.outlet_id is None:
        raise OutletError(_l("Describe your outlet first."))
    if member is not None and member.outlet_id != actor.outlet_id:
        raise OutletError(_l("This crew member belongs to another outlet."))


def remove_crew_member(actor: User, member: CrewMember) -> None:
    if member.outlet_id != actor.outlet_id:
        raise OutletError(_l("This crew member belongs to another outlet."))
    member.active = False
    db.session.flush()
    record_event("crew_member.removed", actor=actor, subject=member, before={"active": True},
                 after={"active": False})
