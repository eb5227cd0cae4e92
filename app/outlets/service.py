"""Outlet profile and crew rules. Functions flush; the route commits."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import FileStorage

from app.audit.service import record_event
from app.auth.models import Role, User
from app.database import slow_work
from app.extensions import db
from app.outlets.models import CrewMember, CrewRole, MediaType, Outlet
from app.outlets.photos import KeptPhoto, check_permit_photo, keep_photo
from app.registrations.models import Registration, Status, registration_crew
from app.uploads import ReceivedFile, copy_stored, photo_pixels, receive_upload, stage_received, store_received


class OutletError(Exception):
    status = 400

    def __init__(self, message):
        super().__init__(str(message))


# A crew member named on a registration in one of these states is what the province reviews or
# approved: changed in place, the review (and the permit's holder record) would no longer be about
# the person the province saw. Drafts, and registrations that ended or were replaced, do not lock.
LOCKING_STATUSES = (Status.submitted, Status.in_review, Status.needs_info, Status.approved)


class CrewMemberLocked(OutletError):
    """A change to a crew member that a registration in review or approved names (409)."""

    status = 409

    def __init__(self, member: CrewMember, registrations: list[Registration]):
        self.registrations = registrations
        super().__init__(_l("%(name)s is named on %(references)s, which the province is reviewing or has approved: "
                            "nothing was changed. A change of crew goes through the registration (an amendment, "
                            "once it is approved), so that the province approves the new details.",
                            name=member.full_name,
                            references=", ".join(registration.reference for registration in registrations)))


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


def receive_crew_photo(photo: FileStorage) -> ReceivedFile:
    """Read an uploaded crew photo and check that it suits the permit (photos.check_permit_photo);
    UploadError with the reason otherwise. Nothing is stored yet."""
    received = receive_upload(photo)
    with slow_work():
        check_permit_photo(received)
    return received


def keep_crew_photo(actor: User, photo: ReceivedFile) -> KeptPhoto:
    """Store a checked photo now, for a form sent back with another field's error: the file
    outlives this request's rollback, and the token it comes with names it for `actor` only."""
    with slow_work():
        stored = stage_received(photo, pixels=photo_pixels(), images_only=True)
    return keep_photo(stored, actor.id)


def crew_member_has_photo(member: CrewMember) -> bool:
    """Whether the permit of this crew member can show a photo."""
    return bool(member.photo_stored_name)


def save_crew_member(actor: User, data: CrewData, member: CrewMember | None = None,
                     photo: ReceivedFile | None = None, kept: KeptPhoto | None = None) -> CrewMember:
    """Add or update a crew member; `photo` (checked by receive_crew_photo) or `kept` (a photo
    kept from an earlier attempt) becomes the member's photo."""
    _check_crew_member(actor, member)
    stored = None
    if photo is not None:
        # Decoded and stored holding no database lock; then checked again in the write transaction.
        with slow_work():
            stored = store_received(photo, pixels=photo_pixels(), images_only=True)
        _check_crew_member(actor, member)
    elif kept is not None:
        stored = kept
        if db.session.scalar(sa.select(CrewMember.id).where(CrewMember.photo_stored_name == kept.stored_name)
                             .limit(1)) is not None:
            # The same form sent twice (the browser's back button): each row gets a file of its own,
            # so replacing one member's photo never deletes another's.
            with slow_work():
                stored = KeptPhoto(copy_stored(kept.stored_name), kept.content_type, kept.token)
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


def locking_registrations(member_ids) -> dict[int, list[Registration]]:
    """For each of these crew members, the registrations in LOCKING_STATUSES that name them (by
    reference); members that none names are left out. One query, whatever the number of members."""
    rows = db.session.execute(
        sa.select(registration_crew.c.crew_member_id, Registration)
        .join(Registration, Registration.id == registration_crew.c.registration_id)
        .where(registration_crew.c.crew_member_id.in_(list(member_ids)),
               Registration.status.in_(LOCKING_STATUSES))
        .order_by(Registration.reference))
    locks: dict[int, list[Registration]] = {}
    for member_id, registration in rows:
        locks.setdefault(member_id, []).append(registration)
    return locks


def lock_crew_rows(member_ids) -> None:
    """Hold these crew members' rows until the transaction ends (PostgreSQL: FOR UPDATE; SQLite's
    transactions already write one at a time). A submission and an edit of the same crew member take
    the same rows, so one waits for the other: the edit then sees the submission, or the submission
    carries the edit; never an edit slipped in after the submission."""
    ids = list(member_ids)
    if ids:
        db.session.execute(sa.select(CrewMember.id).where(CrewMember.id.in_(ids)).with_for_update())


def check_not_locked(member: CrewMember) -> None:
    """CrewMemberLocked when a registration in review or approved names this crew member."""
    lock_crew_rows([member.id])
    registrations = locking_registrations([member.id]).get(member.id)
    if registrations:
        raise CrewMemberLocked(member, registrations)


def _check_crew_member(actor: User, member: CrewMember | None) -> None:
    if actor.outlet_id is None:
        raise OutletError(_l("Describe your outlet first."))
    if member is not None and member.outlet_id != actor.outlet_id:
        raise OutletError(_l("This crew member belongs to another outlet."))
    if member is not None:
        check_not_locked(member)


def remove_crew_member(actor: User, member: CrewMember) -> None:
    if member.outlet_id != actor.outlet_id:
        raise OutletError(_l("This crew member belongs to another outlet."))
    check_not_locked(member)
    member.active = False
    db.session.flush()
    record_event("crew_member.removed", actor=actor, subject=member, before={"active": True},
                 after={"active": False})
