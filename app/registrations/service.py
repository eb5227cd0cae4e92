"""The rules of the registration life cycle (DESIGN.md section 4), in one place.

Every transition goes through `_transition`: it checks the role, the state, the
version the user saw, and the preconditions; writes the audit event with the
before and after values; and queues the emails. Functions flush, never commit:
the route commits once, so a failure anywhere leaves the registration as it was.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.exc import StaleDataError

from app.audit.service import record_event, snapshot
from app.auth.models import Role, User
from app.authority import authority_profile
from app.clock import local_today
from app.db import next_in_sequence, utcnow
from app.documents import service as documents
from app.extensions import db
from app.i18n import day
from app.outbox.service import queue_email
from app.outlets.service import lock_crew_rows
from app.registrations.models import (Attachment, AttachmentKind, ConsultedBody, ItineraryItem,
                                      MessageKind, Proposal, ReferenceCounter, Registration,
                                      RegistrationKind, RegistrationMessage, Status)
from app.registrations.permissions import ACTION_NAMES, RULES, can_view
from app.registrations.workdays import FIRST_YEAR as CALENDAR_FIRST_YEAR
from app.registrations.workdays import LAST_YEAR as CALENDAR_LAST_YEAR
from app.reference.service import calendar_from_config_and_database
from app.database import reading, slow_work
from app.uploads import copy_stored, receive_upload, scan_pixels, store_received

PASSPORT_VALID_MONTHS_AFTER_END = 6
# A programme is registered at most this far ahead: a later date is a typing mistake (9999),
# and the working-day calendar and the permits only count so far.
PROGRAMME_MAX_YEARS_AHEAD = 2


class RegistrationError(Exception):
    """A rule refused the action. `str()` is a translated message; `status` the HTTP status."""

    status = 409

    def __init__(self, message):
        super().__init__(str(message))


class NotAllowed(RegistrationError):
    status = 403


class ConflictError(RegistrationError):
    def __init__(self):
        super().__init__(_l("This registration was changed by someone else in the meantime. "
                            "Reload the page to see the change, then try again."))


class Incomplete(RegistrationError):
    """Submission refused: `problems` maps a form field name to its messages."""

    status = 422

    def __init__(self, problems: dict[str, list[str]]):
        super().__init__(_l("The registration is not complete yet. See the messages next to the fields."))
        self.problems = problems


# --- time and deadlines -------------------------------------------------------

def working_calendar():
    return calendar_from_config_and_database(current_app.config)


def reply_due_date(submitted_on: date) -> date:
    return working_calendar().add_working_days(submitted_on, authority_profile().reply_deadline_working_days)


def lead_time_warning(registration: Registration, today: date | None = None) -> str | None:
    """A warning (not a refusal) when the programme starts sooner than the configured lead time."""
    if registration.start_date is None:
        return None
    days = authority_profile().submission_lead_time_working_days
    earliest = working_calendar().add_working_days(today or local_today(), days)
    if registration.start_date < earliest:
        return str(_l("The programme starts in less than %(days)d working days. The province may not be able to "
                      "reply in time: the earliest start it can normally handle is %(earliest)s.",
                      days=days, earliest=day(earliest)))
    return None


# --- access -----------------------------------------------------------------

def _check(actor: User, action: str, registration: Registration, expected_version: int | None = None) -> None:
    """Role first (403), then the version the user saw (a stale page: reload), then the state (409)."""
    rule = RULES[action]
    if not can_view(actor, registration) or actor.role not in rule.roles:
        raise NotAllowed(_l("Your account may not %(action)s this registration.", action=ACTION_NAMES[action]))
    if expected_version is not None and registration.version != expected_version:
        raise ConflictError()
    if registration.status not in rule.states:
        raise RegistrationError(_l("A registration that is %(status)s cannot be changed this way (%(action)s).",
                                   status=status_label(registration.status), action=ACTION_NAMES[action]))


def status_label(status: Status) -> str:
    from app.registrations.labels import STATUS_LABELS

    return str(STATUS_LABELS[status])


def _snapshot(registration: Registration, *names: str) -> dict:
    return snapshot(registration, ("status",) + names)


def _transition(actor: User, registration: Registration, action: str, expected_version: int | None,
                changes: dict, *, audit_fields: tuple[str, ...] = ()) -> None:
    """Apply `changes` as one checked, versioned, audited step."""
    _check(actor, action, registration, expected_version)
    fields = tuple(name for name in changes if name != "status") + audit_fields
    before = _snapshot(registration, *fields)
    for name, value in changes.items():
        setattr(registration, name, value)
    registration.updated_at = utcnow()
    try:
        db.session.flush()
    except StaleDataError:
        raise ConflictError() from None
    record_event(f"registration.{action}", actor=actor, subject=registration, before=before,
                 after=_snapshot(registration, *fields))


# --- references ---------------------------------------------------------------

def next_reference(year: int) -> str:
    """PD-2027-00042: numbered per year, under a row lock so that two requests never share one."""
    return f"PD-{year}-{next_in_sequence(ReferenceCounter, year=year):05d}"


# --- the correspondent's side --------------------------------------------------

def create_draft(actor: User, kind: RegistrationKind) -> Registration:
    if actor.role is not Role.correspondent:
        raise NotAllowed(_l("Only correspondents register programmes."))
    if actor.outlet_id is None:
        raise RegistrationError(_l("Describe your outlet first: a registration is made in its name."))
    registration = Registration(reference=next_reference(local_today().year), kind=kind, outlet_id=actor.outlet_id,
                                created_by_id=actor.id, status=Status.draft)
    db.session.add(registration)
    db.session.flush()
    record_event("registration.created", actor=actor, subject=registration,
                 after={"status": "draft", "kind": kind.name, "reference": registration.reference})
    return registration


@dataclass
class ItineraryEntry:
    day: date | None
    place_id: int | None
    place_text: str | None
    host_organisation: str = ""
    activity: str = ""
    interviewees: str = ""


@dataclass
class DraftData:
    """What the correspondent's form says; the route builds it from the form."""

    kind: RegistrationKind
    purpose: str = ""
    content: str = ""
    start_date: date | None = None
    end_date: date | None = None
    interview_questions: str = ""
    publication_plan: str = ""
    equipment: str = ""
    has_drone: bool = False
    drone_permit_reference: str | None = None
    guiding_agency: str | None = None
    mofa_permit_number: str | None = None
    pledge: bool = False
    crew_member_ids: list[int] = field(default_factory=list)
    itinerary: list[ItineraryEntry] = field(default_factory=list)


def save_draft(actor: User, registration: Registration, data: DraftData, expected_version: int | None) -> None:
    """Store the form as it is, complete or not: the correspondent can come back to it."""
    from app.outlets.models import CrewMember

    crew = db.session.scalars(sa.select(CrewMember).where(
        CrewMember.id.in_(data.crew_member_ids), CrewMember.outlet_id == registration.outlet_id)).all()
    if len(crew) != len(set(data.crew_member_ids)):
        raise NotAllowed(_l("Choose crew members of your own outlet."))
    changes = {
        "kind": data.kind, "purpose": data.purpose.strip(), "content": data.content.strip(),
        "start_date": data.start_date, "end_date": data.end_date,
        "interview_questions": data.interview_questions.strip(), "publication_plan": data.publication_plan.strip(),
        "equipment": data.equipment.strip(), "has_drone": data.has_drone,
        "drone_permit_reference": (data.drone_permit_reference or "").strip() or None,
        "guiding_agency": (data.guiding_agency or "").strip() or None,
        "mofa_permit_number": (data.mofa_permit_number or "").strip() or None,
        "pledge_accepted_at": (registration.pledge_accepted_at or utcnow()) if data.pledge else None,
    }
    _transition(actor, registration, "edit", expected_version, changes)
    registration.crew_members = list(crew)
    # Day n of the form is written into the stored item n: a day saved unchanged (the usual case: every
    # button saves the whole form) is no UPDATE, not a DELETE and an INSERT; days beyond the form's go.
    stored = list(registration.itinerary)
    items = []
    for position, entry in enumerate(data.itinerary):
        item = stored[position] if position < len(stored) else ItineraryItem()
        if position < len(stored) and item.place_id != entry.place_id:
            db.session.expire(item, ["place"])  # loaded for the old place: read again by the new id
        item.position, item.day, item.place_id = position, entry.day, entry.place_id
        item.place_text = (entry.place_text or "").strip() or None
        item.host_organisation, item.activity = entry.host_organisation.strip(), entry.activity.strip()
        item.interviewees = entry.interviewees.strip()
        items.append(item)
    registration.itinerary = items
    db.session.flush()


def latest_programme_day(today: date | None = None) -> date:
    """The last day a programme registered today may reach."""
    return _add_months(today or local_today(), 12 * PROGRAMME_MAX_YEARS_AHEAD)


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    if year > date.max.year:
        return date.max
    for last_day in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last_day))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def completeness_problems(registration: Registration, today: date | None = None) -> dict[str, list[str]]:
    """Everything that stops a submission, by form field. Empty when it can be submitted."""
    today = today or local_today()
    problems: dict[str, list[str]] = {}

    def problem(field_name: str, message) -> None:
        problems.setdefault(field_name, []).append(str(message))

    for name, message in (("purpose", _l("Write the purpose of the programme.")),
                          ("content", _l("Write the content and topics of the programme.")),
                          ("publication_plan", _l("Say where and when the work will be published or broadcast."))):
        if not getattr(registration, name):
            problem(name, message)
    start, end = registration.start_date, registration.end_date
    if start is None:
        problem("start_date", _l("Give the first day of the programme."))
    elif start < today:
        problem("start_date", _l("The programme cannot start in the past."))
    if end is None:
        problem("end_date", _l("Give the last day of the programme."))
    elif start is not None and end < start:
        problem("end_date", _l("The end date cannot be before the start date."))
    latest = latest_programme_day(today)
    for name, value in (("start_date", start), ("end_date", end)):
        if value is not None and value > latest:
            problem(name, _l("A programme can be registered at most %(years)d years ahead.",
                             years=PROGRAMME_MAX_YEARS_AHEAD))
    if not registration.crew_members:
        problem("crew_member_ids", _l("Choose at least one crew member."))
    for member in registration.crew_members:  # a permit without a photo is worthless at a checkpoint
        if member.photo_stored_name is None:
            problem("crew_member_ids", _l("%(name)s has no photo: add one in Outlet and crew (the permit prints it).",
                                          name=member.full_name))
        if member.passport_number is None or member.date_of_birth is None:  # removed by the retention purge
            problem("crew_member_ids", _l("The passport number and date of birth of %(name)s were removed under "
                                          "the retention rules: enter them again in Outlet and crew.",
                                          name=member.full_name))
    if registration.kind is RegistrationKind.non_resident:
        if not registration.mofa_permit_number:
            problem("mofa_permit_number", _l("A non-resident reporter needs the number of the MOFA press permit."))
        if end is not None:
            limit = _add_months(end, PASSPORT_VALID_MONTHS_AFTER_END)
            for member in registration.crew_members:
                if member.passport_expiry < limit:
                    problem("crew_member_ids", _l(
                        "The passport of %(name)s expires on %(expiry)s: it must be valid until at least %(limit)s "
                        "(six months after the end of the programme).", name=member.full_name,
                        expiry=day(member.passport_expiry), limit=day(limit)))
    if registration.has_drone and not registration.drone_permit_reference:
        problem("drone_permit_reference", _l("Flying a drone needs a flight permit: give its reference."))
    if not registration.itinerary:
        problem("itinerary", _l("Add at least one day to the itinerary."))
    for number, item in enumerate(registration.itinerary, start=1):
        if item.day is None:
            problem("itinerary", _l("Itinerary item %(number)d: give the date.", number=number))
        elif start is not None and end is not None and not start <= item.day <= end:
            problem("itinerary", _l("Itinerary item %(number)d: the date must be inside the programme dates.",
                                    number=number))
        if item.place_id is None and not item.place_text:
            problem("itinerary", _l("Itinerary item %(number)d: choose a place or type one.", number=number))
        if not item.activity:
            problem("itinerary", _l("Itinerary item %(number)d: say what you will do there.", number=number))
    present = {attachment.kind for attachment in registration.attachments}
    for kind_name in current_app.config["REQUIRED_ATTACHMENTS"][registration.kind.name]:
        if AttachmentKind[kind_name] not in present:
            from app.registrations.labels import ATTACHMENT_LABELS

            problem("attachments", _l("Attach: %(kind)s.", kind=ATTACHMENT_LABELS[AttachmentKind[kind_name]]))
    if registration.pledge_accepted_at is None:
        problem("pledge", _l("Accept the compliance pledge to submit."))
    return problems


def _submit(actor: User, registration: Registration, action: str, expected_version: int | None,
            short_notice_accepted: bool) -> None:
    _check(actor, action, registration, expected_version)
    lock_crew_rows(member.id for member in registration.crew_members)  # an edit under way finishes first
    problems = completeness_problems(registration)
    warning = lead_time_warning(registration)
    if warning and not short_notice_accepted:
        problems.setdefault("short_notice_accepted", []).append(str(_l(
            "Your programme starts sooner than the province can normally reply: tick the box to say you "
            "understand the risk, or choose later dates.")))
    if problems:
        raise Incomplete(problems)
    now = utcnow()
    registration.short_notice_acknowledged_at = now if warning else None
    # A resubmitted dossier goes back to the officer who has it, in review, with no new assignment.
    back_to_officer = action == "resubmit" and registration.assigned_officer_id is not None
    _transition(actor, registration, action, expected_version, {
        "status": Status.in_review if back_to_officer else Status.submitted, "submitted_at": now,
        "first_submitted_at": registration.first_submitted_at or now,
        # The reply deadline runs from the day a complete request arrives.
        "due_date": reply_due_date(local_today()),
    }, audit_fields=())
    _mail_correspondents(registration, "registration_received", _l("We received your registration %(reference)s",
                                                                  reference=registration.reference))
    recipients = [registration.assigned_officer] if registration.assigned_officer else _staff(Role.officer)
    _mail_users(recipients, registration, "registration_to_review",
                _l("Registration %(reference)s to review", reference=registration.reference))


def submit(actor: User, registration: Registration, expected_version: int | None, *,
           short_notice_accepted: bool = False) -> None:
    """Send the draft to the province. A programme starting sooner than the lead time needs the
    correspondent's explicit acknowledgement of the risk (`short_notice_accepted`), kept on the dossier."""
    _submit(actor, registration, "submit", expected_version, short_notice_accepted)


def resubmit(actor: User, registration: Registration, expected_version: int | None, *,
             short_notice_accepted: bool = False) -> None:
    """After answering a request for information, the registration goes back to the staff."""
    _submit(actor, registration, "resubmit", expected_version, short_notice_accepted)


def add_crew_member(actor: User, registration: Registration, member) -> None:
    """A crew member just created from the registration form ("Save and add a new crew member")
    joins that registration's crew, in the same transaction."""
    _check(actor, "edit", registration)
    if member.outlet_id != registration.outlet_id:
        raise NotAllowed(_l("Choose crew members of your own outlet."))
    if member not in registration.crew_members:
        registration.crew_members.append(member)
        registration.updated_at = utcnow()
        db.session.flush()
        record_event("registration.crew_added", actor=actor, subject=registration,
                     after={"crew_member": member.full_name})


def kind_for_outlet(outlet) -> RegistrationKind:
    """A resident foreign press office files as resident (form 04/BC-BNG); any other outlet's
    reporters come on a MOFA press permit (form 01/BC-BNG)."""
    return RegistrationKind.resident if outlet is not None and outlet.is_resident_office else RegistrationKind.non_resident


def duplicate(actor: User, registration: Registration) -> Registration:
    """A new draft from an earlier registration: the same crew (those still active), purpose,
    content, questions, publication plan, equipment, guiding agency and places, with the dates
    left to fill. Attachments, the MOFA permit number, the drone permit and the pledge belong to one
    request and are not copied."""
    _check(actor, "duplicate", registration)
    copy = create_draft(actor, kind_for_outlet(registration.outlet))
    copy.copied_from_id = registration.id
    for name in ("purpose", "content", "interview_questions", "publication_plan", "equipment", "has_drone",
                 "guiding_agency"):
        setattr(copy, name, getattr(registration, name))
    copy.crew_members = [member for member in registration.crew_members if member.active]
    copy.itinerary = [ItineraryItem(position=position, day=None, place_id=item.place_id, place_text=item.place_text,
                                    host_organisation=item.host_organisation, activity=item.activity,
                                    interviewees=item.interviewees)
                      for position, item in enumerate(registration.itinerary)]
    db.session.flush()
    record_event("registration.duplicated", actor=actor, subject=copy, after={"from": registration.reference})
    return copy


def withdraw(actor: User, registration: Registration, expected_version: int | None) -> None:
    _transition(actor, registration, "withdraw", expected_version, {"status": Status.withdrawn})
    if registration.assigned_officer is not None:
        _mail_users([registration.assigned_officer], registration, "registration_withdrawn",
                    _l("Registration %(reference)s was withdrawn", reference=registration.reference))


def amendment_under_way(registration: Registration) -> Registration | None:
    """The amendment of this registration that is being written or reviewed, if there is one."""
    return db.session.scalar(sa.select(Registration).where(
        Registration.amends_id == registration.id,
        Registration.status.in_([Status.draft, Status.submitted, Status.in_review, Status.needs_info]))
        .order_by(Registration.id.desc()).limit(1))


def _check_amendable(actor: User, registration: Registration, expected_version: int | None) -> None:
    _check(actor, "amend", registration, expected_version)
    if amendment_under_way(registration) is not None:
        raise RegistrationError(_l("An amendment of this registration is already under way."))


def _next_revision(actor: User, registration: Registration, expected_version: int | None) -> int:
    """The revision number of a new amendment, taken under a lock on the amended registration's row
    (SELECT ... FOR UPDATE on PostgreSQL; SQLite serialises writers), with the checks made again
    under it: of two "ask for an amendment" at once, one starts it and the other is told it is
    under way. Numbered after every earlier amendment, so a withdrawn one's reference is not reused."""
    db.session.get(Registration, registration.id, with_for_update=True, populate_existing=True)
    _check_amendable(actor, registration, expected_version)
    last = db.session.scalar(sa.select(sa.func.max(Registration.revision)).where(
        Registration.amends_id == registration.id))
    return max(registration.revision, last or 0) + 1


def amend(actor: User, registration: Registration, expected_version: int | None) -> Registration:
    """A new revision of an approved programme; the approved one stays in force until it is decided."""
    _check_amendable(actor, registration, expected_version)
    source_files = [attachment.stored_name for attachment in registration.attachments]
    with slow_work():  # copy the files holding no database lock, then check again in the write transaction
        copied = [copy_stored(stored_name) for stored_name in source_files]
    _check_amendable(actor, registration, expected_version)
    copy_of = dict(zip(source_files, copied))
    if set(copy_of) != {attachment.stored_name for attachment in registration.attachments}:
        raise ConflictError()
    copies = [(attachment, copy_of[attachment.stored_name]) for attachment in registration.attachments]
    number = _next_revision(actor, registration, expected_version)
    revision = Registration(
        reference=registration.reference + f"-R{number}", kind=registration.kind,
        outlet_id=registration.outlet_id, created_by_id=actor.id, status=Status.draft, amends_id=registration.id,
        revision=number,
        **{name: getattr(registration, name) for name in (
            "purpose", "content", "start_date", "end_date", "interview_questions", "publication_plan", "equipment",
            "has_drone", "drone_permit_reference", "guiding_agency", "mofa_permit_number")},
    )
    revision.crew_members = list(registration.crew_members)
    revision.itinerary = [ItineraryItem(position=item.position, day=item.day, place_id=item.place_id,
                                        place_text=item.place_text, host_organisation=item.host_organisation,
                                        activity=item.activity, interviewees=item.interviewees)
                          for item in registration.itinerary]
    db.session.add(revision)
    db.session.flush()
    for attachment, stored_name in copies:  # the revision owns its attachments: copies of the files
        db.session.add(Attachment(registration_id=revision.id, kind=attachment.kind, stored_name=stored_name,
                                  content_type=attachment.content_type, size=attachment.size,
                                  sha256=attachment.sha256, original_filename=attachment.original_filename,
                                  uploaded_by_id=attachment.uploaded_by_id))
    db.session.flush()
    record_event("registration.amendment_started", actor=actor, subject=registration,
                 after={"revision": revision.reference})
    record_event("registration.created", actor=actor, subject=revision,
                 after={"status": "draft", "amends": registration.reference})
    return revision


def add_attachment(actor: User, registration: Registration, kind: AttachmentKind, file_storage) -> Attachment:
    """Check, then store the file holding no database lock (decoding is slow), then check again
    and write the row in a new write transaction: the registration may have changed meanwhile.

    The first checks read in a read transaction (`reading()`; slow_work ends it): on SQLite, taking
    the write lock for them (a POST's transaction would) only made the other writers wait."""
    with reading():
        _check(actor, "edit", registration)
        received = receive_upload(file_storage)
        _check_attachment_room(registration, received.size)  # before any decoding
    with slow_work():
        stored = store_received(received, pixels=scan_pixels())
    _check(actor, "edit", registration)
    _check_attachment_room(registration, stored.size)
    attachment = Attachment.from_stored(stored, registration_id=registration.id, kind=kind, uploaded_by_id=actor.id)
    db.session.add(attachment)
    registration.updated_at = utcnow()
    db.session.flush()
    record_event("registration.attachment_added", actor=actor, subject=registration,
                 after={"kind": kind.name, "file": stored.original_filename, "sha256": stored.sha256})
    return attachment


def _check_attachment_room(registration: Registration, size: int) -> None:
    limit = current_app.config["REGISTRATION_MAX_ATTACHMENT_BYTES"]
    used = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Attachment.size), 0))
                             .where(Attachment.registration_id == registration.id))
    if used + size > limit:
        raise RegistrationError(_l("The attachments of one registration may not exceed %(megabytes)d MB in all.",
                                   megabytes=limit // (1024 * 1024)))


def remove_attachment(actor: User, attachment: Attachment) -> None:
    registration = attachment.registration
    _check(actor, "edit", registration)
    record_event("registration.attachment_removed", actor=actor, subject=registration,
                 before={"kind": attachment.kind.name, "file": attachment.original_filename})
    db.session.delete(attachment)
    registration.updated_at = utcnow()
    db.session.flush()


# --- messages ---------------------------------------------------------------

def correspondent_locale(registration: Registration) -> str:
    """The language the outlet's correspondents read: English unless all of them chose Vietnamese."""
    locales = {user.locale for user in _correspondents(registration)}
    return "vi" if locales == {"vi"} else "en"


def _check_bilingual(registration: Registration, body: str, body_en: str | None) -> None:
    """Staff write for the correspondent: the text in the correspondent's language is required."""
    if not (body or "").strip() and not (body_en or "").strip():
        raise RegistrationError(_l("Write the text in at least one language."))
    if correspondent_locale(registration) == "en" and not (body_en or "").strip():
        raise RegistrationError(_l("The correspondent reads English: write the English text too."))
    if correspondent_locale(registration) == "vi" and not (body or "").strip():
        raise RegistrationError(_l("The correspondent reads Vietnamese: write the Vietnamese text too."))


def post_message(actor: User, registration: Registration, body: str,
                 kind: MessageKind = MessageKind.message, body_en: str | None = None) -> RegistrationMessage:
    _check(actor, "message", registration)
    if actor.role is not Role.correspondent:
        _check_bilingual(registration, body, body_en)
    message = RegistrationMessage(registration_id=registration.id, author_id=actor.id, body=(body or "").strip(),
                                  body_en=(body_en or "").strip() or None, kind=kind)
    db.session.add(message)
    registration.updated_at = utcnow()
    db.session.flush()
    record_event("registration.message", actor=actor, subject=registration, after={"kind": kind.name})
    subject = _l("New message about registration %(reference)s", reference=registration.reference)
    if actor.role is Role.correspondent:
        recipients = [registration.assigned_officer] if registration.assigned_officer else _staff(Role.officer)
        _mail_users(recipients, registration, "registration_message", subject, message=message)
    elif kind is not MessageKind.info_request:
        _mail_correspondents(registration, "registration_message", subject, message=message)
    return message


# --- the staff's side -----------------------------------------------------------

def assign(actor: User, registration: Registration, officer: User, expected_version: int | None) -> None:
    """Give the registration to an officer; a submitted one is then in review."""
    if officer.role not in (Role.officer, Role.leader) or not officer.active:
        raise RegistrationError(_l("Assign the registration to an active officer or leader."))
    changes = {"assigned_officer_id": officer.id}
    if registration.status is Status.submitted:
        changes["status"] = Status.in_review
    _transition(actor, registration, "assign", expected_version, changes)
    db.session.refresh(registration, ["assigned_officer"])
    if officer.id != actor.id:
        _mail_users([officer], registration, "registration_assigned",
                    _l("Registration %(reference)s is assigned to you", reference=registration.reference))


def request_information(actor: User, registration: Registration, body: str, expected_version: int | None,
                        body_en: str | None = None) -> None:
    _check(actor, "request_info", registration, expected_version)
    _check_bilingual(registration, body, body_en)
    _transition(actor, registration, "request_info", expected_version, {"status": Status.needs_info})
    message = post_message(actor, registration, body, MessageKind.info_request, body_en=body_en)
    _mail_correspondents(registration, "registration_needs_info",
                         _l("Information needed for registration %(reference)s", reference=registration.reference),
                         message=message)


# --- the draft decision (DESIGN.md section 4) ------------------------------------------

@dataclass
class DraftDecision:
    """What the officer writes with a proposal; the leader decides on it without retyping."""

    proposal: Proposal | None = None
    summary_vi: str = ""
    summary_en: str = ""
    request_number: str = ""
    request_date: date | None = None
    legal_basis_vi: str = ""
    legal_basis_en: str = ""
    conditions_vi: str = ""
    conditions_en: str = ""
    refusal_reasons_vi: str = ""
    refusal_reasons_en: str = ""
    escort_officer_id: int | None = None
    note: str = ""


def draft_defaults(registration: Registration) -> dict:
    """What a new draft starts from: the legal basis of the authority profile, the request's date."""
    from app.clock import local_date_of

    profile = authority_profile()
    submitted = registration.first_submitted_at or registration.submitted_at
    return {
        "legal_basis_vi": registration.legal_basis_vi if registration.legal_basis_vi is not None
        else "\n".join(profile.legal_basis_vi),
        "legal_basis_en": registration.legal_basis_en if registration.legal_basis_en is not None
        else "\n".join(profile.legal_basis_en),
        "request_date": registration.request_date or (local_date_of(submitted) if submitted else None),
    }


def _draft_changes(registration: Registration, draft: DraftDecision) -> dict:
    from app.reference.models import EscortOfficer

    escort = db.session.get(EscortOfficer, draft.escort_officer_id) if draft.escort_officer_id else None
    if draft.escort_officer_id and (escort is None or
                                    (not escort.active and escort.id != registration.escort_officer_id)):
        raise RegistrationError(_l("Choose an escort officer from the province's list."))
    clean = {name: (getattr(draft, name) or "").strip() for name in (
        "summary_vi", "summary_en", "request_number", "legal_basis_vi", "legal_basis_en", "conditions_vi",
        "conditions_en", "refusal_reasons_vi", "refusal_reasons_en")}
    return {
        "summary_vi": clean["summary_vi"] or None, "summary_en": clean["summary_en"] or None,
        "request_number": clean["request_number"] or None, "request_date": draft.request_date,
        "legal_basis_vi": clean["legal_basis_vi"], "legal_basis_en": clean["legal_basis_en"],
        "conditions": clean["conditions_vi"] or None, "conditions_en": clean["conditions_en"] or None,
        "refusal_reasons": clean["refusal_reasons_vi"] or None,
        "refusal_reasons_en": clean["refusal_reasons_en"] or None,
        "escort_officer_id": escort.id if escort else None,
        # The escort as it will print, copied now: a later edit of the list does not rewrite the draft.
        "escort_name": escort.full_name if escort else None, "escort_phone": escort.phone if escort else None,
        "escort_title_vi": escort.title_vi if escort else None, "escort_title_en": escort.title_en if escort else None,
    }


def draft_problems(registration: Registration, proposal: Proposal | None) -> dict[str, list[str]]:
    """What the draft still lacks for `proposal`, by form field (empty: it can go to the leader)."""
    problems: dict[str, list[str]] = {}

    def problem(name, message):
        problems.setdefault(name, []).append(str(message))

    if proposal is None:
        problem("proposal", _l("Choose the decision you propose."))
        return problems
    if registration.request_date is None:
        problem("request_date", _l("Give the date of the request the letter answers."))
    elif registration.request_date > local_today():
        problem("request_date", _l("The request cannot be dated in the future."))
    if registration.kind is RegistrationKind.non_resident and not registration.mofa_permit_number:
        problem("proposal", _l("A non-resident reporter's request cites the MOFA press permit: ask the "
                               "correspondent for its number first."))
    if proposal is Proposal.approve:
        if not registration.summary_vi:
            problem("summary_vi", _l("Write the Vietnamese summary of the purpose and content that the letter quotes."))
        if not registration.summary_en:
            problem("summary_en", _l("Write the English summary for the courtesy translation."))
        if registration.escort_officer_id is None:
            problem("escort_officer_id", _l("Choose the escort officer."))
        if bool(registration.conditions) != bool(registration.conditions_en):
            problem("conditions_en" if registration.conditions else "conditions_vi",
                    _l("Give the conditions in both Vietnamese and English."))
    else:
        if not registration.refusal_reasons:
            problem("refusal_reasons_vi", _l("Give the reasons for the refusal in Vietnamese."))
        if not registration.refusal_reasons_en:
            problem("refusal_reasons_en", _l("Give the reasons for the refusal in English."))
    return problems


class DraftIncomplete(RegistrationError):
    """The draft cannot go to the leader yet: `problems` maps a form field to its messages."""

    status = 422

    def __init__(self, problems: dict[str, list[str]]):
        super().__init__(_l("The draft decision is not complete yet. See the messages next to the fields."))
        self.problems = problems


def _check_not_proposed(registration: Registration) -> None:
    """While a proposal waits for the leader, its draft is what she previews: it does not change under her."""
    if registration.proposed_decision is not None:
        raise RegistrationError(_l("The proposal waits for the leader's decision. To change the draft, ask the "
                                   "leader to return it."))


def save_draft_decision(actor: User, registration: Registration, draft: DraftDecision,
                        expected_version: int | None) -> None:
    """Store the officer's draft as it is, complete or not (nothing is numbered, nothing is sent)."""
    _check(actor, "draft", registration, expected_version)
    _check_not_proposed(registration)
    changes = _draft_changes(registration, draft)
    _transition(actor, registration, "draft", expected_version, changes)


def propose_decision(actor: User, registration: Registration, draft: DraftDecision,
                     expected_version: int | None) -> None:
    """Save the draft and send it to the leaders; refused (nothing saved) while it is incomplete."""
    _check(actor, "propose", registration, expected_version)
    _check_not_proposed(registration)
    changes = _draft_changes(registration, draft)
    before = {name: getattr(registration, name) for name in changes}
    for name, value in changes.items():  # checked on the values as they will be stored
        setattr(registration, name, value)
    problems = draft_problems(registration, draft.proposal)
    for name, value in before.items():
        setattr(registration, name, value)
    if problems:
        raise DraftIncomplete(problems)
    _transition(actor, registration, "propose", expected_version, {
        **changes, "proposed_decision": draft.proposal, "proposal_note": draft.note.strip(),
        "proposed_by_id": actor.id, "proposed_at": utcnow(),
        "returned_at": None, "returned_by_id": None, "return_comment": None,
    })
    _mail_users(_staff(Role.leader), registration, "registration_proposal",
                _l("Decision proposed for registration %(reference)s", reference=registration.reference),
                proposal=draft.proposal, note=draft.note.strip())


def return_to_officer(actor: User, registration: Registration, comment: str, expected_version: int | None) -> None:
    """The leader sends the proposal back (trả lại) with a comment; the dossier stays in review."""
    if registration.proposed_decision is None:
        raise RegistrationError(_l("There is no proposal to return."))
    if not comment.strip():
        raise RegistrationError(_l("Say what the officer should change."))
    _transition(actor, registration, "return", expected_version, {
        "proposed_decision": None, "returned_at": utcnow(), "returned_by_id": actor.id,
        "return_comment": comment.strip(),
    })
    officer = registration.proposed_by or registration.assigned_officer
    _mail_users([officer, registration.assigned_officer], registration, "registration_returned",
                _l("Registration %(reference)s was returned to you", reference=registration.reference),
                comment=comment.strip(), leader=actor)


def _dates_countable(registration: Registration) -> bool:
    """Dates the working-day calendar (and so every deadline and the permit) can count: stored
    before the forms bounded them, a programme may end in 2200."""
    return all(CALENDAR_FIRST_YEAR <= value.year <= CALENDAR_LAST_YEAR
               for value in (registration.start_date, registration.end_date) if value is not None)


def border_consultation_answered(registration: Registration) -> bool:
    return any(consultation.body in (ConsultedBody.border_guard, ConsultedBody.police)
               and consultation.answered_at is not None for consultation in registration.consultations)


def approval_blockers(registration: Registration) -> list[str]:
    """Why the leader cannot approve yet (shown on the page, enforced by `approve`)."""
    if not _dates_countable(registration):
        return [str(_l("The programme dates are beyond what the working-day calendar and the permit can hold "
                       "(%(first)d-%(last)d): ask the correspondent to correct them.", first=CALENDAR_FIRST_YEAR,
                       last=CALENDAR_LAST_YEAR))]
    if registration.visits_border_area and not border_consultation_answered(registration):
        locale = str(get_locale())
        names = ", ".join(place.name(locale) for place in registration.border_places)
        return [str(_l("The itinerary includes a border area (%(places)s): record the answer of the border guard "
                       "or the police before approving.", places=names))]
    return []


def _check_decision(actor: User, registration: Registration, action: str, proposal: Proposal,
                    expected_version: int | None) -> None:
    """The leader decides what was proposed, from its draft: to decide otherwise, she returns it."""
    _check(actor, action, registration, expected_version)
    if registration.proposed_decision is not proposal:
        raise RegistrationError(
            _l("The proposal is to approve: return it to the officer with a comment to refuse instead.")
            if registration.proposed_decision is Proposal.approve else
            _l("The proposal is to refuse: return it to the officer with a comment to approve instead.")
            if registration.proposed_decision is Proposal.refuse else
            _l("There is no proposal to decide on yet."))
    problems = draft_problems(registration, proposal)
    if problems:
        raise RegistrationError(next(iter(problems.values()))[0])


def approve(actor: User, registration: Registration, expected_version: int | None) -> None:
    """Approve as drafted: the documents are numbered and issued now, from the draft's texts."""
    _check_decision(actor, registration, "approve", Proposal.approve, expected_version)
    blockers = approval_blockers(registration)
    if blockers:
        raise RegistrationError(blockers[0])
    _transition(actor, registration, "approve", expected_version, {
        "status": Status.approved, "decided_at": utcnow(), "decided_by_id": actor.id,
    }, audit_fields=("conditions", "escort_name", "escort_phone"))
    previous = registration.amends
    if previous is not None and previous.status is Status.approved:
        before = _snapshot(previous)
        previous.status = Status.superseded
        previous.updated_at = utcnow()
        db.session.flush()
        record_event("registration.superseded", actor=actor, subject=previous, before=before,
                     after={"status": "superseded", "by": registration.reference})
        # Re-issued: the amendment's documents replace the old ones, which stop being valid.
        documents.revoke_documents(previous, f"replaced by {registration.reference}")
    documents.issue_approval(registration, actor)
    # The approval letter and the permits travel with the mail (app/documents/bundle.py says which).
    from app.documents.bundle import for_the_correspondent

    _mail_correspondents(registration, "registration_approved",
                         _l("Registration %(reference)s is approved", reference=registration.reference),
                         attachments=for_the_correspondent(registration))


def refuse(actor: User, registration: Registration, expected_version: int | None) -> None:
    """Refuse as drafted: the refusal letter gives the draft's reasons."""
    _check_decision(actor, registration, "refuse", Proposal.refuse, expected_version)
    _transition(actor, registration, "refuse", expected_version, {
        "status": Status.refused, "decided_at": utcnow(), "decided_by_id": actor.id,
    }, audit_fields=("refusal_reasons",))
    documents.issue_refusal(registration, actor)
    _mail_correspondents(registration, "registration_refused",
                         _l("Registration %(reference)s is refused", reference=registration.reference))


def revoke(actor: User, registration: Registration, *, reason: str, expected_version: int | None) -> None:
    _transition(actor, registration, "revoke", expected_version, {
        "status": Status.revoked, "revoked_at": utcnow(), "revocation_reason": reason.strip(),
    })
    documents.revoke_documents(registration, reason.strip())
    _mail_correspondents(registration, "registration_revoked",
                         _l("Registration %(reference)s is revoked", reference=registration.reference))


def complete(actor: User, registration: Registration, expected_version: int | None) -> None:
    _check(actor, "complete", registration, expected_version)
    if registration.end_date is None or registration.end_date >= local_today():
        raise RegistrationError(_l("A programme can be marked as completed only after its end date."))
    _transition(actor, registration, "complete", expected_version,
                {"status": Status.completed, "completed_at": utcnow()})


# --- mail -----------------------------------------------------------------

def _staff(role: Role) -> list[User]:
    return list(db.session.scalars(sa.select(User).where(User.role == role, User.active.is_(True))))


def _correspondents(registration: Registration) -> list[User]:
    return list(db.session.scalars(sa.select(User).where(
        User.outlet_id == registration.outlet_id, User.role == Role.correspondent, User.active.is_(True))))


def _registration_url(registration: Registration) -> str:
    path = current_app.url_map.bind("pressdesk.invalid").build("registrations.detail",
                                                               {"registration_id": registration.id})
    return current_app.config["BASE_URL"].rstrip("/") + path


def _mail_users(users, registration: Registration, template: str, subject, *, attachments=(), **context) -> None:
    """Queue `template` to each user once, in their language. `attachments`: issued documents,
    attached under names in the recipient's language (read from the store when the mail is sent)."""
    from app.documents.bundle import distinct_names, readable_filename

    seen = set()
    for user in users:
        if user is None or user.id in seen:
            continue
        seen.add(user.id)
        names = distinct_names([readable_filename(document, user.locale) for document in attachments])
        queue_email(user.email, template, user.locale, subject, user=user, registration=registration,
                    url=_registration_url(registration), attachments=list(zip(attachments, names)), **context)


def _mail_correspondents(registration: Registration, template: str, subject, *, attachments=(), **context) -> None:
    _mail_users(_correspondents(registration), registration, template, subject, attachments=attachments, **context)


def complete_ended_programmes() -> list[Registration]:
    """The scheduled transition: approved programmes whose end date has passed become completed."""
    ended = db.session.scalars(sa.select(Registration).where(
        Registration.status == Status.approved, Registration.end_date < local_today())).all()
    for registration in ended:
        before = _snapshot(registration)
        registration.status = Status.completed
        registration.completed_at = registration.updated_at = utcnow()
        db.session.flush()
        record_event("registration.complete", subject=registration, before=before,
                     after={"status": "completed", "by": "schedule"})
    return ended
