"""Retention of personal data, and `flask privacy purge` (README, "Personal data and sign-in").

The periods come from the authority profile (`retention`, app/authority/__init__.py):
- identity attachments of a registration (passport pages, press cards): `identity_attachments_days`
  after the programme's end date, once the registration is in a final state (refused, withdrawn,
  revoked, completed, superseded, or approved with the programme over); a draft never submitted,
  or a registration without dates, counts from its last change;
- a crew member's photo (`face_photos_days`) and passport number and date of birth
  (`identity_numbers_days`): from the latest end of the registrations naming them, or from the
  member's own last change if that is later (data typed in again after a registration); never
  while one of those registrations is in review or approved with its programme not over;
- the permit's own copy of the photo (PermitHolder): kept while the permit is in force, then
  `face_photos_days` after its validity ended (its last day, or the day it was revoked);
- the stored PDFs of issued documents: `issued_documents_years` after the issue date. The register
  row stays (number, date, SHA-256, revocation), the download is gone, and the permit's holder
  record goes with its PDF;
- audit events older than `audit_log_years`: deleted;
- the address (IP) of a checkpoint scan, `scan_addresses_days` after the scan: cleared; the scan
  stays (time, outcome, device) for the permit's history and the statistics.

Files leave the disk after the commit of the batch that cleared their rows (app/uploads.py
`delete_stored`). Each run writes one audit event "privacy.purged" per dossier it touched (what
went, as counts and ids, never the data), one per crew member never named in a dossier, and one
for the audit events it deleted. A run is idempotent: what is gone is not found again. Work goes
in batches of registrations (by id), each in its own transaction, so a large archive never loads
at once and a daily run holds the database briefly. The dry run computes the same list and
changes nothing.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Callable, Iterable

import click
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.audit.labels import register_action_labels
from app.audit.models import AuditEvent
from app.audit.service import record_event
from app.clock import local_date_of, local_today, province_timezone, utcnow
from app.documents.models import IssuedDocument, PermitHolder, VerificationCheck
from app.extensions import db
from app.outlets.models import CrewMember
from app.privacy import privacy_cli
from app.registrations.models import (OPEN_STATUSES, Attachment, AttachmentKind, Registration, Status,
                                      registration_crew)
from app.uploads import delete_stored

BATCH_SIZE = 500
IDENTITY_KINDS = (AttachmentKind.passport, AttachmentKind.press_card)
# Final whatever the dates; an approved registration is final once its programme is over.
FINAL_STATUSES = (Status.refused, Status.withdrawn, Status.revoked, Status.completed, Status.superseded)

register_action_labels({
    "privacy.purged": _l("Removed personal data under the retention rules"),
    "privacy.audit_log_purged": _l("Deleted audit events past their retention period"),
    "privacy.scan_addresses_purged": _l("Cleared the addresses of old checkpoint scans"),
})


# --- the periods and the days ---------------------------------------------------------------

@dataclass(frozen=True)
class Periods:
    identity_attachments_days: int
    face_photos_days: int
    identity_numbers_days: int
    issued_documents_years: int
    audit_log_years: int
    scan_addresses_days: int

    @classmethod
    def from_profile(cls) -> "Periods":
        from app.authority import authority_profile

        return cls(**authority_profile().retention)


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def start_of_day(day: date) -> datetime:
    """The instant (UTC) at which `day` begins in the province."""
    return datetime.combine(day, time(0), province_timezone()).astimezone(timezone.utc)


@dataclass(frozen=True)
class DossierDates:
    """What the rules read of a registration (one row, no relationships loaded)."""

    id: int
    reference: str
    status: Status
    end_date: date | None
    updated_at: datetime

    @property
    def counted_from(self) -> date:
        """The day its periods start: the end of the programme, or its last change for a draft
        (never submitted: nothing was decided on it) and for one without dates."""
        if self.status is Status.draft or self.end_date is None:
            return local_date_of(self.updated_at)
        return self.end_date

    def is_final(self, today: date) -> bool:
        if self.status in FINAL_STATUSES or self.status is Status.draft:
            return True
        return self.status is Status.approved and self.end_date is not None and self.end_date < today

    def holds_crew(self, today: date) -> bool:
        """In review, or approved with the programme not over: its crew's data stays."""
        return self.status in OPEN_STATUSES or (self.status is Status.approved and not self.is_final(today))


DOSSIER_COLUMNS = (Registration.id, Registration.reference, Registration.status, Registration.end_date,
                   Registration.updated_at)


# --- what goes ------------------------------------------------------------------------------

@dataclass
class CrewPurge:
    member_id: int
    photo: str | None = None  # the stored name of the photo that goes
    identity_numbers: bool = False  # the passport number and date of birth go

    def describe(self) -> str:
        parts = (["photo"] if self.photo else []) + (["passport number and date of birth"] if self.identity_numbers
                                                     else [])
        return f"crew member {self.member_id}: " + ", ".join(parts)


@dataclass
class DossierPurge:
    """What goes from one registration in this run (subject of one audit event)."""

    registration_id: int | None  # None: a crew member never named in a registration
    reference: str | None = None
    attachments: list[tuple[int, AttachmentKind, str]] = field(default_factory=list)  # id, kind, stored name
    crew: list[CrewPurge] = field(default_factory=list)
    holder_photos: list[tuple[int, str]] = field(default_factory=list)  # permit document id, stored name
    document_pdfs: list[tuple[int, str, str | None]] = field(default_factory=list)  # id, stored name, number
    holders: list[tuple[int, str | None]] = field(default_factory=list)  # dropped with their PDF; photo

    def __bool__(self) -> bool:
        return bool(self.attachments or self.crew or self.holder_photos or self.document_pdfs)

    def summary(self) -> dict:
        """For the audit event: counts, kinds and ids; no personal data."""
        kinds = Counter(kind.name for _, kind, _ in self.attachments)
        summary = {}
        if kinds:
            summary["identity_attachments"] = dict(sorted(kinds.items()))
        photos = [purge.member_id for purge in self.crew if purge.photo]
        numbers = [purge.member_id for purge in self.crew if purge.identity_numbers]
        if photos:
            summary["crew_photos"] = photos
        if numbers:
            summary["crew_identity_numbers"] = numbers
        if self.holder_photos:
            summary["permit_photos"] = [document_id for document_id, _ in self.holder_photos]
        if self.document_pdfs:
            summary["document_pdfs"] = [document_id for document_id, _, _ in self.document_pdfs]
        return summary

    def describe(self) -> list[str]:
        lines = []
        kinds = Counter(kind.name for _, kind, _ in self.attachments)
        if kinds:
            counted = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
            lines.append(f"identity attachments: {counted}")
        lines += [purge.describe() for purge in self.crew]
        lines += [f"photo kept with permit {document_id}" for document_id, _ in self.holder_photos]
        lines += [f"PDF of document {document_id}" + (f" ({number})" if number else "")
                  for document_id, _, number in self.document_pdfs]
        return lines


@dataclass
class PurgeTotals:
    dossiers: int = 0
    identity_attachments: int = 0
    crew_photos: int = 0
    crew_identity_numbers: int = 0
    holder_photos: int = 0
    document_pdfs: int = 0
    audit_events: int = 0
    scan_addresses: int = 0

    def add(self, purge: DossierPurge) -> None:
        if purge.registration_id is not None:
            self.dossiers += 1
        self.identity_attachments += len(purge.attachments)
        self.crew_photos += sum(1 for member in purge.crew if member.photo)
        self.crew_identity_numbers += sum(1 for member in purge.crew if member.identity_numbers)
        self.holder_photos += len(purge.holder_photos)
        self.document_pdfs += len(purge.document_pdfs)


class Plan:
    """The rules applied on `today` with `periods`: what is due, one batch at a time."""

    def __init__(self, today: date, periods: Periods):
        self.today = today
        self.periods = periods
        self.attachments_cutoff = today - timedelta(days=periods.identity_attachments_days)
        self.photos_cutoff = today - timedelta(days=periods.face_photos_days)
        self.numbers_cutoff = today - timedelta(days=periods.identity_numbers_days)
        self.documents_cutoff = years_before(today, periods.issued_documents_years)
        self.audit_cutoff = start_of_day(years_before(today, periods.audit_log_years) + timedelta(days=1))
        self.scan_addresses_cutoff = start_of_day(today - timedelta(days=periods.scan_addresses_days) + timedelta(days=1))

    # -- registrations, in batches by id

    def dossier_batches(self, batch_size: int) -> Iterable[list[DossierDates]]:
        """Every registration not in review, by id, `batch_size` at a time (keyset: each batch one
        indexed query, whatever the archive's size)."""
        last_id = 0
        while True:
            rows = db.session.execute(
                sa.select(*DOSSIER_COLUMNS).where(Registration.id > last_id,
                                                  Registration.status.not_in(OPEN_STATUSES))
                .order_by(Registration.id).limit(batch_size)).all()
            if not rows:
                return
            yield [DossierDates(*row) for row in rows]
            last_id = rows[-1].id

    def dossier_purges(self, dossiers: list[DossierDates]) -> list[DossierPurge]:
        purges = {dossier.id: DossierPurge(dossier.id, dossier.reference) for dossier in dossiers}
        by_id = {dossier.id: dossier for dossier in dossiers}
        due_attachments = [dossier.id for dossier in dossiers
                           if dossier.is_final(self.today) and dossier.counted_from <= self.attachments_cutoff]
        if due_attachments:
            for attachment_id, registration_id, kind, stored_name in db.session.execute(
                    sa.select(Attachment.id, Attachment.registration_id, Attachment.kind, Attachment.stored_name)
                    .where(Attachment.registration_id.in_(due_attachments), Attachment.kind.in_(IDENTITY_KINDS))
                    .order_by(Attachment.id)):
                purges[registration_id].attachments.append((attachment_id, kind, stored_name))
        self._holder_photos(by_id, purges)
        self._document_pdfs(list(by_id), purges)
        for registration_id, crew_purge in self._crew_of(by_id):
            purges[registration_id].crew.append(crew_purge)
        return [purge for purge in purges.values() if purge]

    def _holder_photos(self, by_id: dict[int, DossierDates], purges: dict[int, DossierPurge]) -> None:
        rows = db.session.execute(
            sa.select(PermitHolder.document_id, PermitHolder.photo_stored_name, IssuedDocument.registration_id,
                      IssuedDocument.valid_until, IssuedDocument.issue_date, IssuedDocument.revoked_at,
                      Registration.revoked_at)
            .join(IssuedDocument, IssuedDocument.id == PermitHolder.document_id)
            .join(Registration, Registration.id == IssuedDocument.registration_id)
            .where(IssuedDocument.registration_id.in_(list(by_id)), PermitHolder.photo_stored_name.is_not(None))
            .order_by(PermitHolder.document_id))
        for document_id, stored_name, registration_id, valid_until, issue_date, revoked_at, dossier_revoked_at in rows:
            # The last day the permit was in force: its validity's end, or the day it was revoked.
            ends = [valid_until or issue_date] + [local_date_of(moment) for moment in (revoked_at, dossier_revoked_at)
                                                  if moment is not None]
            if min(ends) <= self.photos_cutoff:
                purges[registration_id].holder_photos.append((document_id, stored_name))

    def _document_pdfs(self, registration_ids: list[int], purges: dict[int, DossierPurge]) -> None:
        documents = db.session.execute(
            sa.select(IssuedDocument.id, IssuedDocument.registration_id, IssuedDocument.stored_name,
                      IssuedDocument.series, IssuedDocument.number)
            .where(IssuedDocument.registration_id.in_(registration_ids), IssuedDocument.stored_name.is_not(None),
                   IssuedDocument.issue_date <= self.documents_cutoff)
            .order_by(IssuedDocument.id)).all()
        if not documents:
            return
        for document_id, registration_id, stored_name, series, number in documents:
            register_number = f"{number}/{series}" if number is not None else None
            purges[registration_id].document_pdfs.append((document_id, stored_name, register_number))
        registration_of = {document_id: registration_id for document_id, registration_id, *_ in documents}
        for document_id, photo in db.session.execute(
                sa.select(PermitHolder.document_id, PermitHolder.photo_stored_name)
                .where(PermitHolder.document_id.in_(list(registration_of)))):
            purge = purges[registration_of[document_id]]
            purge.holders.append((document_id, photo))
            # Its photo goes with the record: counted once, as a permit photo.
            purge.holder_photos = [(doc_id, name) for doc_id, name in purge.holder_photos if doc_id != document_id]

    # -- crew members

    def _crew_of(self, by_id: dict[int, DossierDates]) -> list[tuple[int, CrewPurge]]:
        """The crew members with data left named in these registrations, whose latest registration
        is one of them (each member is judged once, with the registration that counts for them)."""
        member_ids = list(db.session.scalars(
            sa.select(registration_crew.c.crew_member_id.distinct())
            .join(CrewMember, CrewMember.id == registration_crew.c.crew_member_id)
            .where(registration_crew.c.registration_id.in_(list(by_id)), _has_personal_data())))
        if not member_ids:
            return []
        named_in: dict[int, list[DossierDates]] = {member_id: [] for member_id in member_ids}
        for member_id, *columns in db.session.execute(
                sa.select(registration_crew.c.crew_member_id, *DOSSIER_COLUMNS)
                .join(Registration, Registration.id == registration_crew.c.registration_id)
                .where(registration_crew.c.crew_member_id.in_(member_ids))):
            named_in[member_id].append(DossierDates(*columns))
        found = []
        for member in self._members(member_ids):
            dossiers = named_in[member.id]
            if any(dossier.holds_crew(self.today) for dossier in dossiers):
                continue
            latest = max(dossiers, key=lambda dossier: (dossier.counted_from, dossier.id))
            if latest.id not in by_id:
                continue  # judged with the batch of its latest registration
            purge = self._crew_purge(member, max(latest.counted_from, member.last_change))
            if purge is not None:
                found.append((latest.id, purge))
        return found

    def crew_never_named_batches(self, batch_size: int) -> Iterable[list[DossierPurge]]:
        """Crew members no registration names, with data left, last changed before the shorter period."""
        changed_before = start_of_day(max(self.photos_cutoff, self.numbers_cutoff) + timedelta(days=1))
        named = sa.select(registration_crew.c.crew_member_id).where(
            registration_crew.c.crew_member_id == CrewMember.id).exists()
        last_id = 0
        while True:
            member_ids = list(db.session.scalars(
                sa.select(CrewMember.id).where(CrewMember.id > last_id, ~named, _has_personal_data(),
                                               sa.func.coalesce(CrewMember.updated_at, CrewMember.created_at)
                                               < changed_before)
                .order_by(CrewMember.id).limit(batch_size)))
            if not member_ids:
                return
            purges = []
            for member in self._members(member_ids):
                purge = self._crew_purge(member, member.last_change)
                if purge is not None:
                    purges.append(DossierPurge(None, crew=[purge]))
            yield purges
            last_id = member_ids[-1]

    def _members(self, member_ids: list[int]) -> list["_MemberData"]:
        # Whether a value is there, not the value: nothing is decrypted.
        rows = db.session.execute(
            sa.select(CrewMember.id, CrewMember.photo_stored_name,
                      sa.or_(CrewMember.passport_number.is_not(None), CrewMember.date_of_birth.is_not(None)),
                      CrewMember.updated_at, CrewMember.created_at)
            .where(CrewMember.id.in_(member_ids)).order_by(CrewMember.id))
        return [_MemberData(*row) for row in rows]

    def _crew_purge(self, member: "_MemberData", counted_from: date) -> CrewPurge | None:
        purge = CrewPurge(member.id)
        if member.photo and counted_from <= self.photos_cutoff:
            purge.photo = member.photo
        if member.has_numbers and counted_from <= self.numbers_cutoff:
            purge.identity_numbers = True
        return purge if purge.photo or purge.identity_numbers else None

    # -- the audit log

    def old_audit_events(self):
        return sa.select(AuditEvent.id).where(AuditEvent.created_at < self.audit_cutoff)

    def old_scan_addresses(self):
        return sa.select(VerificationCheck.id).where(VerificationCheck.checked_at < self.scan_addresses_cutoff,
                                                     VerificationCheck.ip_address.is_not(None))


@dataclass(frozen=True)
class _MemberData:
    id: int
    photo: str | None
    has_numbers: bool
    updated_at: datetime | None
    created_at: datetime

    @property
    def last_change(self) -> date:
        return local_date_of(self.updated_at or self.created_at)


def _has_personal_data():
    return sa.or_(CrewMember.photo_stored_name.is_not(None), CrewMember.passport_number.is_not(None),
                  CrewMember.date_of_birth.is_not(None))


# --- doing it ---------------------------------------------------------------------------------

def _execute(purge: DossierPurge, now: datetime, periods: Periods) -> None:
    """Clear the rows of one dossier's purge (flushed), schedule their files, and audit it."""
    stored_names: list[str] = []
    if purge.attachments:
        db.session.execute(sa.delete(Attachment).where(Attachment.id.in_([row[0] for row in purge.attachments]))
                           .execution_options(synchronize_session=False))
        stored_names += [stored_name for _, _, stored_name in purge.attachments]
        db.session.execute(sa.update(Registration).where(Registration.id == purge.registration_id)
                           .values(identity_purged_at=now).execution_options(synchronize_session=False))
    for member in purge.crew:
        values = {"personal_data_purged_at": now,
                  # Not a change of the member's data: the other period still counts from the old one.
                  "updated_at": CrewMember.updated_at}
        if member.photo:
            values.update(photo_stored_name=None, photo_content_type=None)
            stored_names.append(member.photo)
        if member.identity_numbers:
            values.update(passport_number=None, passport_number_hash=None, date_of_birth=None)
        db.session.execute(sa.update(CrewMember).where(CrewMember.id == member.member_id).values(**values)
                           .execution_options(synchronize_session=False))
    if purge.holder_photos:
        # The checksum stays: it says a photo was issued (the verification page says it was removed).
        db.session.execute(sa.update(PermitHolder)
                           .where(PermitHolder.document_id.in_([row[0] for row in purge.holder_photos]))
                           .values(photo_stored_name=None, photo_content_type=None)
                           .execution_options(synchronize_session=False))
        stored_names += [stored_name for _, stored_name in purge.holder_photos]
    if purge.holders:
        db.session.execute(sa.delete(PermitHolder)
                           .where(PermitHolder.document_id.in_([row[0] for row in purge.holders]))
                           .execution_options(synchronize_session=False))
        stored_names += [photo for _, photo in purge.holders if photo]
    if purge.document_pdfs:
        db.session.execute(sa.update(IssuedDocument)
                           .where(IssuedDocument.id.in_([row[0] for row in purge.document_pdfs]))
                           .values(stored_name=None).execution_options(synchronize_session=False))
        stored_names += [stored_name for _, stored_name, _ in purge.document_pdfs]
    for stored_name in stored_names:
        delete_stored(stored_name)  # after the commit; no row names it any more
    subject = (_Subject("registrations", purge.registration_id) if purge.registration_id is not None
               else _Subject("crew_members", purge.crew[0].member_id))
    record_event("privacy.purged", subject=subject, after={**purge.summary(), "rule": "retention",
                                                           "periods": asdict(periods)})


@dataclass(frozen=True)
class _Subject:
    """What record_event needs of a subject, without loading the row."""

    __tablename__: str
    id: int


def purge_due(*, today: date | None = None, dry_run: bool = False, batch_size: int = BATCH_SIZE,
              on_purge: Callable[[DossierPurge], None] | None = None) -> PurgeTotals:
    """Remove (or, dry, only list) what the retention periods make due on `today`.

    Owns its transactions like the outbox's send pass: each batch is committed (the dry run rolls
    it back), and its files leave the disk after that commit. `on_purge` sees each dossier's purge
    (the command lists them). Returns the totals."""
    if today is not None and not dry_run:
        raise ValueError("another day than today is for a dry run only")
    today = today or local_today()
    periods = Periods.from_profile()
    plan = Plan(today, periods)
    totals = PurgeTotals()
    now = utcnow()

    def handle(purges: list[DossierPurge]) -> None:
        for purge in purges:
            totals.add(purge)
            if not dry_run:
                _execute(purge, now, periods)
            if on_purge is not None:
                on_purge(purge)
        _end_batch(dry_run)

    for dossiers in plan.dossier_batches(batch_size):
        handle(plan.dossier_purges(dossiers))
    for purges in plan.crew_never_named_batches(batch_size):
        handle(purges)
    if dry_run:
        totals.audit_events = db.session.scalar(sa.select(sa.func.count()).select_from(
            plan.old_audit_events().subquery())) or 0
        totals.scan_addresses = db.session.scalar(sa.select(sa.func.count()).select_from(
            plan.old_scan_addresses().subquery())) or 0
        db.session.rollback()
        return totals
    totals.scan_addresses = _in_batches(plan.old_scan_addresses(), VerificationCheck.id, batch_size,
                                        lambda ids: sa.update(VerificationCheck).where(VerificationCheck.id.in_(ids))
                                        .values(ip_address=None))
    if totals.scan_addresses:
        record_event("privacy.scan_addresses_purged", after={"cleared": totals.scan_addresses,
                                                            "older_than_days": periods.scan_addresses_days})
        db.session.commit()
    totals.audit_events = _in_batches(plan.old_audit_events(), AuditEvent.id, batch_size,
                                      lambda ids: sa.delete(AuditEvent).where(AuditEvent.id.in_(ids)))
    if totals.audit_events:
        record_event("privacy.audit_log_purged", after={"deleted": totals.audit_events,
                                                       "older_than_years": periods.audit_log_years})
        db.session.commit()
    return totals


def _in_batches(due, id_column, batch_size: int, statement_for) -> int:
    """Run `statement_for(ids)` over the rows `due` selects, `batch_size` ids to a transaction, until
    none is left (the statement must take the rows out of `due`); returns how many it touched."""
    done = 0
    while ids := list(db.session.scalars(due.order_by(id_column).limit(batch_size))):
        db.session.execute(statement_for(ids).execution_options(synchronize_session=False))
        done += len(ids)
        db.session.commit()
    return done


def _end_batch(dry_run: bool) -> None:
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()


# --- the command --------------------------------------------------------------------------------

@privacy_cli.command("purge")
@click.option("--dry-run", is_flag=True, help="List what would be removed; change nothing.")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="With --dry-run: what would go on this day (YYYY-MM-DD) instead of today.")
@click.option("--batch-size", type=click.IntRange(min=1), default=BATCH_SIZE, show_default=True,
              help="Registrations per transaction.")
def purge_command(dry_run: bool, as_of: datetime | None, batch_size: int) -> None:
    """Remove the personal data whose retention period is over (run daily from cron)."""
    from app.database import reading

    if as_of is not None and not dry_run:
        raise click.UsageError("--as-of is for a dry run only: a purge always runs as of today.")
    verb = "would remove" if dry_run else "removed"

    def show(purge: DossierPurge) -> None:
        name = purge.reference or f"crew member {purge.crew[0].member_id} (in no registration)"
        click.echo(f"{name}: {verb} " + "; ".join(purge.describe()))

    def run():
        return purge_due(today=as_of.date() if as_of else None, dry_run=dry_run, batch_size=batch_size,
                         on_purge=show)

    if dry_run:
        with reading():
            totals = run()
    else:
        totals = run()
    click.echo(f"{'Would remove' if dry_run else 'Removed'}: {totals.identity_attachments} identity attachment(s) "
               f"from {totals.dossiers} registration(s), {totals.crew_photos} crew photo(s), "
               f"{totals.crew_identity_numbers} passport number(s) with date of birth, {totals.holder_photos} "
               f"permit photo(s), {totals.document_pdfs} document PDF(s), {totals.audit_events} audit event(s), "
               f"{totals.scan_addresses} checkpoint scan address(es).")
