"""Activity registrations, their itinerary, attachments, messages and consultations."""
from __future__ import annotations

import enum
import re
from datetime import date, datetime
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import UTCDateTime, enum_column, sort_index, utcnow
from app.extensions import db
from app.search import FOLDED_MAX, keep_folded, like_pattern, trigram_index


class RegistrationKind(enum.Enum):
    resident = "resident"  # a resident foreign press office (form 04/BC-BNG)
    non_resident = "non_resident"  # a reporter holding a MOFA press permit (form 01/BC-BNG)


class Status(enum.Enum):
    draft = "draft"
    submitted = "submitted"
    in_review = "in_review"
    needs_info = "needs_info"
    approved = "approved"
    refused = "refused"
    withdrawn = "withdrawn"
    revoked = "revoked"
    completed = "completed"
    # An approved registration whose amendment has been approved: the amendment is in force.
    superseded = "superseded"


OPEN_STATUSES = (Status.submitted, Status.in_review, Status.needs_info)
# The open dossiers by deadline are the staff's view all day: a partial index holds just them
# (ix_registrations_open_due), so the queue's first page reads 25 index entries instead of sorting
# every open dossier. A database uses a partial index only for a query whose condition implies the
# index's own; SQLite proves it only from the same terms with the same values written in the SQL
# (a bound parameter proves nothing), hence `is_open()` writes the statuses into the statement.
# In force: approved, or completed (approved, and its programme over). They owe the post-visit
# report, and the overdue-reports list reads them by end date from their own partial index
# (ix_registrations_in_force_end), the oldest first: its first page is 25 index entries, where it
# was a sort of every approved or completed registration. `is_in_force()`, for the same reason.
IN_FORCE_STATUSES = (Status.approved, Status.completed)


def _status_sql(statuses) -> str:
    return "status IN ({})".format(", ".join(f"'{status.name}'" for status in statuses))


OPEN_STATUS_SQL = _status_sql(OPEN_STATUSES)
IN_FORCE_STATUS_SQL = _status_sql(IN_FORCE_STATUSES)


def _status_among(statuses, name: str) -> sa.ColumnElement[bool]:
    """`status IN (...)` with the values written into the SQL, so that SQLite can match a partial index."""
    return Registration.status.in_(sa.bindparam(name, list(statuses), expanding=True, literal_execute=True,
                                                unique=True))


def is_open() -> sa.ColumnElement[bool]:
    """`status IN ('submitted', 'in_review', 'needs_info')`, the values in the SQL (see OPEN_STATUS_SQL)."""
    return _status_among(OPEN_STATUSES, "open_statuses")


def is_in_force() -> sa.ColumnElement[bool]:
    """`status IN ('approved', 'completed')`, the values in the SQL (see IN_FORCE_STATUSES)."""
    return _status_among(IN_FORCE_STATUSES, "in_force_statuses")


REFERENCE_PREFIX = "PD-"  # service.next_reference: PD-<year>-<number>
REFERENCE_CHARACTERS = re.compile(r"[A-Z0-9-]+")


def may_be_in_a_reference(term: str) -> bool:
    """Whether `term` can be part of a reference (PD-2026-00012): letters, digits and hyphens only,
    with a digit (every reference has its year and number). "Outlet 123" cannot: the searches of the
    queue and of the products do not scan the references for it."""
    bare = term.strip().upper()
    return bool(REFERENCE_CHARACTERS.fullmatch(bare)) and any(character.isdigit() for character in bare)


def reference_like(term: str) -> sa.ColumnElement[bool]:
    """`reference LIKE '%TERM%'` (references are upper case)."""
    return Registration.reference.like(like_pattern(term.strip()).upper(), escape="\\")


def reference_contains(term: str) -> sa.ColumnElement[bool]:
    """The references containing `term`. A term that starts as references do ("PD-2026-0001") is
    their beginning: on SQLite a range of the reference's unique index (its LIKE cannot use that
    index, and scanning 100,000 references costs some 12 ms); PostgreSQL's trigram index serves the
    LIKE itself (a range there would follow the database's collation, which may skip hyphens)."""
    bare = term.strip().upper()
    if bare.startswith(REFERENCE_PREFIX) and db.session.get_bind().dialect.name == "sqlite":
        return sa.and_(Registration.reference >= bare, Registration.reference < bare + "\U0010ffff")
    return reference_like(term)


class Proposal(enum.Enum):
    approve = "approve"
    refuse = "refuse"


class AttachmentKind(enum.Enum):
    request_letter = "request_letter"  # the office's signed request (resident)
    mofa_permit = "mofa_permit"  # the MOFA press permit (non-resident)
    passport = "passport"
    press_card = "press_card"
    assignment_letter = "assignment_letter"
    drone_permit = "drone_permit"
    other = "other"


class ConsultedBody(enum.Enum):
    border_guard = "border_guard"
    police = "police"
    host_agency = "host_agency"
    other = "other"


class Opinion(enum.Enum):
    agree = "agree"
    agree_with_conditions = "agree_with_conditions"
    disagree = "disagree"


class MessageKind(enum.Enum):
    info_request = "info_request"  # staff ask for information (the registration waits)
    message = "message"


registration_crew = sa.Table(
    "registration_crew",
    db.metadata,
    sa.Column("registration_id", sa.ForeignKey("registrations.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("crew_member_id", sa.ForeignKey("crew_members.id", ondelete="RESTRICT"), primary_key=True),
    # The search by crew name and the nationality filter go from the member to their registrations,
    # from this index alone (the registration's id in it: PostgreSQL reads no table row).
    sa.Index("ix_registration_crew_member_registration", "crew_member_id", "registration_id"),
)


class ReferenceCounter(db.Model):
    """The last reference number given in a year; its row lock makes references unique and in order."""

    __tablename__ = "reference_counters"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(default=0)


class Registration(db.Model):
    __tablename__ = "registrations"
    __table_args__ = (
        # The staff queue: open ones by deadline, and its other sorts (app/registrations/queue.py).
        # The menu's counts read only these columns of the open dossiers (app/worklist/service.py
        # counts_for): with them all in the index, the count never reads the wide rows.
        sa.Index("ix_registrations_status_due_date", "status", "due_date", "assigned_officer_id",
                 "proposed_decision", "returned_at"),
        # One officer's dossiers (and the unassigned ones, officer NULL) by status: the menu's
        # "assigned to me", "returned to me" and "not assigned" counts step through that officer's
        # entries only, not every open dossier's (SQLite, 100,000 registrations: 2.4 -> 0.7 ms on
        # every staff page). Also the foreign key's index.
        sa.Index("ix_registrations_officer_status", "assigned_officer_id", "status", "returned_at",
                 "proposed_decision"),
        sa.Index("ix_registrations_open_due", "due_date", "id", sqlite_where=sa.text(OPEN_STATUS_SQL),
                 postgresql_where=sa.text(OPEN_STATUS_SQL)),
        sa.Index("ix_registrations_in_force_end", "end_date", "id", sqlite_where=sa.text(IN_FORCE_STATUS_SQL),
                 postgresql_where=sa.text(IN_FORCE_STATUS_SQL)),
        # The programme-dates filter, read from the index alone (and sorted by deadline).
        sa.Index("ix_registrations_start_date", "start_date", "end_date", "status", "due_date"),
        trigram_index("ix_registrations_reference_trgm", "reference"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(sa.String(20), unique=True)
    kind: Mapped[RegistrationKind] = mapped_column(enum_column(RegistrationKind))
    outlet_id: Mapped[int] = mapped_column(sa.ForeignKey("outlets.id", ondelete="RESTRICT"), index=True)
    created_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[Status] = mapped_column(enum_column(Status), default=Status.draft, index=True)

    purpose: Mapped[str] = mapped_column(sa.Text, default="")
    content: Mapped[str] = mapped_column(sa.Text, default="")
    start_date: Mapped[Optional[date]]
    end_date: Mapped[Optional[date]]
    interview_questions: Mapped[str] = mapped_column(sa.Text, default="")
    publication_plan: Mapped[str] = mapped_column(sa.Text, default="")
    equipment: Mapped[str] = mapped_column(sa.Text, default="")
    has_drone: Mapped[bool] = mapped_column(default=False)
    drone_permit_reference: Mapped[Optional[str]] = mapped_column(sa.String(100))
    guiding_agency: Mapped[Optional[str]] = mapped_column(sa.String(200))
    mofa_permit_number: Mapped[Optional[str]] = mapped_column(sa.String(64))
    pledge_accepted_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    # The correspondent's explicit acknowledgement, at submission, that the programme starts sooner
    # than the lead time allows (the reply may come too late); staff see it on the dossier.
    short_notice_acknowledged_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    # "Duplicate this registration": the draft was started from this earlier registration.
    copied_from_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("registrations.id", ondelete="SET NULL"))

    assigned_officer_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    first_submitted_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    # When the retention purge removed the identity attachments (passport pages, press cards).
    identity_purged_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    submitted_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    due_date: Mapped[Optional[date]] = mapped_column(index=True)

    proposed_decision: Mapped[Optional[Proposal]] = mapped_column(enum_column(Proposal))
    proposal_note: Mapped[Optional[str]] = mapped_column(sa.Text)
    proposed_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    proposed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())

    # The draft decision (DESIGN.md section 4): written by the officer, carried by the proposal to
    # the leader, printed on the preview and, unchanged, on the issued documents.
    # The trích yếu: the staff's Vietnamese summary of purpose and content that the letter quotes.
    summary_vi: Mapped[Optional[str]] = mapped_column(sa.Text)
    summary_en: Mapped[Optional[str]] = mapped_column(sa.Text)
    # The request the letter answers: the office's letter number and date ("Công văn số 12/VP ngày ...").
    request_number: Mapped[Optional[str]] = mapped_column(sa.String(64))
    request_date: Mapped[Optional[date]]
    # "Căn cứ ...": prefilled from the authority profile, one basis per line.
    legal_basis_vi: Mapped[Optional[str]] = mapped_column(sa.Text)
    legal_basis_en: Mapped[Optional[str]] = mapped_column(sa.Text)
    escort_officer_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("escort_officers.id",
                                                                           ondelete="SET NULL"))
    # Returned by the leader to the officer (trả lại): the dossier stays in review.
    returned_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    returned_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    return_comment: Mapped[Optional[str]] = mapped_column(sa.Text)

    decided_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    conditions: Mapped[Optional[str]] = mapped_column(sa.Text)  # Vietnamese: the letter's text
    conditions_en: Mapped[Optional[str]] = mapped_column(sa.Text)  # the courtesy page's and the correspondent's
    # The escort as printed: copied from the escort officer when the draft is saved, so a later
    # change to the list does not rewrite a decision.
    escort_name: Mapped[Optional[str]] = mapped_column(sa.String(200))
    escort_phone: Mapped[Optional[str]] = mapped_column(sa.String(40))
    escort_title_vi: Mapped[Optional[str]] = mapped_column(sa.String(200))
    escort_title_en: Mapped[Optional[str]] = mapped_column(sa.String(200))
    refusal_reasons: Mapped[Optional[str]] = mapped_column(sa.Text)  # Vietnamese
    refusal_reasons_en: Mapped[Optional[str]] = mapped_column(sa.Text)
    revoked_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    revocation_reason: Mapped[Optional[str]] = mapped_column(sa.Text)
    completed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())

    # An amendment of an approved programme is a new revision pointing at the one it amends.
    amends_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("registrations.id", ondelete="RESTRICT"),
                                                     index=True)
    revision: Mapped[int] = mapped_column(default=1)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Optimistic locking: every UPDATE checks and bumps it, so of two staff acting at once one wins.
    version: Mapped[int] = mapped_column(default=1)

    outlet = relationship("Outlet")
    created_by = relationship("User", foreign_keys=[created_by_id])
    assigned_officer = relationship("User", foreign_keys=[assigned_officer_id])
    proposed_by = relationship("User", foreign_keys=[proposed_by_id])
    returned_by = relationship("User", foreign_keys=[returned_by_id])
    escort_officer = relationship("EscortOfficer")
    decided_by = relationship("User", foreign_keys=[decided_by_id])
    crew_members = relationship("CrewMember", secondary=registration_crew, order_by="CrewMember.full_name")
    itinerary: Mapped[list["ItineraryItem"]] = relationship(back_populates="registration", order_by="ItineraryItem.position",
                                                            cascade="all, delete-orphan")
    attachments: Mapped[list["Attachment"]] = relationship(back_populates="registration",
                                                           order_by="Attachment.id", cascade="all, delete-orphan")
    messages: Mapped[list["RegistrationMessage"]] = relationship(back_populates="registration",
                                                                  order_by="RegistrationMessage.id",
                                                                  cascade="all, delete-orphan")
    consultations: Mapped[list["Consultation"]] = relationship(back_populates="registration",
                                                               order_by="Consultation.id",
                                                               cascade="all, delete-orphan")
    notes: Mapped[list["InternalNote"]] = relationship(back_populates="registration", order_by="InternalNote.id",
                                                       cascade="all, delete-orphan")
    amends = relationship("Registration", remote_side=[id], foreign_keys=[amends_id])
    copied_from = relationship("Registration", remote_side=[id], foreign_keys=[copied_from_id])

    __mapper_args__ = {"version_id_col": version}

    def conditions_for(self, locale: str) -> str:
        """The conditions in `locale` when written in it (the decision gives both), else in Vietnamese."""
        return (self.conditions_en if locale == "en" and self.conditions_en else self.conditions) or ""

    def refusal_reasons_for(self, locale: str) -> str:
        return (self.refusal_reasons_en if locale == "en" and self.refusal_reasons_en else self.refusal_reasons) or ""

    def escort_title_for(self, locale: str) -> str:
        return (self.escort_title_en if locale == "en" and self.escort_title_en else self.escort_title_vi) or ""

    @property
    def returned(self) -> bool:
        """Returned by the leader (trả lại) and not proposed again since."""
        return self.status is Status.in_review and self.returned_at is not None and self.proposed_decision is None

    @property
    def border_places(self):
        return [item.place for item in self.itinerary if item.place is not None and item.place.border_area]

    @property
    def visits_border_area(self) -> bool:
        return bool(self.border_places)


# The queue's "newest submission" sort in its ORDER BY's exact order (PostgreSQL read a plain
# submitted_at index backwards as NULLS FIRST, so it sorted every dossier of the "all" view).
sort_index("ix_registrations_submitted_order", Registration.submitted_at.desc().nulls_last(), Registration.id.desc())


class ItineraryItem(db.Model):
    __tablename__ = "itinerary_items"
    __table_args__ = (
        trigram_index("ix_itinerary_items_place_text_folded_trgm", "place_text_folded"),
        # The border-area filter and the search by place go from the place to the registrations
        # visiting it, from this index alone.
        sa.Index("ix_itinerary_items_place_registration", "place_id", "registration_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(sa.ForeignKey("registrations.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    day: Mapped[Optional[date]]
    place_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("places.id", ondelete="RESTRICT"))
    place_text: Mapped[Optional[str]] = mapped_column(sa.String(200))  # a place not in the list
    place_text_folded: Mapped[Optional[str]] = mapped_column(sa.String(FOLDED_MAX))  # for search
    host_organisation: Mapped[str] = mapped_column(sa.String(200), default="")
    activity: Mapped[str] = mapped_column(sa.Text, default="")
    interviewees: Mapped[str] = mapped_column(sa.Text, default="")

    registration: Mapped[Registration] = relationship(back_populates="itinerary")
    place = relationship("Place")


class Attachment(db.Model):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(sa.ForeignKey("registrations.id", ondelete="CASCADE"), index=True)
    kind: Mapped[AttachmentKind] = mapped_column(enum_column(AttachmentKind))
    stored_name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    content_type: Mapped[str] = mapped_column(sa.String(64))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    original_filename: Mapped[str] = mapped_column(sa.String(200))
    uploaded_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    registration: Mapped[Registration] = relationship(back_populates="attachments")

    @classmethod
    def from_stored(cls, stored, *, registration_id: int, kind: AttachmentKind,
                    uploaded_by_id: int | None) -> "Attachment":
        """An attachment row for a file that app.uploads has just stored."""
        return cls(registration_id=registration_id, kind=kind, stored_name=stored.stored_name,
                   content_type=stored.content_type, size=stored.size, sha256=stored.sha256,
                   original_filename=stored.original_filename, uploaded_by_id=uploaded_by_id)


class RegistrationMessage(db.Model):
    """The thread between staff and the correspondent; every message is mailed."""

    __tablename__ = "registration_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(sa.ForeignKey("registrations.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[MessageKind] = mapped_column(enum_column(MessageKind), default=MessageKind.message)
    body: Mapped[str] = mapped_column(sa.Text)
    # Staff may write a message in both languages: `body` in Vietnamese (the file's copy) and
    # `body_en` in English; the correspondent reads the one in their language when there is one.
    body_en: Mapped[Optional[str]] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    registration: Mapped[Registration] = relationship(back_populates="messages")
    author = relationship("User")

    def text_for(self, locale: str) -> str:
        """The text in `locale` when the message has one, else the text as written."""
        if locale == "en" and self.body_en:
            return self.body_en
        return self.body or self.body_en or ""


class InternalNote(db.Model):
    """A note staff keep on a dossier; the correspondent never sees it."""

    __tablename__ = "internal_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(sa.ForeignKey("registrations.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    registration: Mapped[Registration] = relationship(back_populates="notes")
    author = relationship("User")


class Consultation(db.Model):
    """An opinion asked of another body (border guard, police, host agency) before deciding."""

    __tablename__ = "consultations"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(sa.ForeignKey("registrations.id", ondelete="CASCADE"), index=True)
    body: Mapped[ConsultedBody] = mapped_column(enum_column(ConsultedBody))
    body_name: Mapped[str] = mapped_column(sa.String(200))
    request_note: Mapped[str] = mapped_column(sa.Text, default="")
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    requested_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    answered_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    opinion: Mapped[Optional[Opinion]] = mapped_column(enum_column(Opinion))
    answer: Mapped[Optional[str]] = mapped_column(sa.Text)
    answer_recorded_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    # The body as in the reference data; `body_name` keeps the name as it was when asked.
    consulted_body_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("consulted_bodies.id",
                                                                           ondelete="SET NULL"))
    # The consultation letter (công văn xin ý kiến), an issued document of its own series.
    letter_document_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("issued_documents.id",
                                                                            ondelete="SET NULL"))
    # The reply deadline, in working days from the request (authority profile), and its one reminder.
    due_date: Mapped[Optional[date]] = mapped_column(index=True)
    reminder_sent_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    # The reply letter: its number and date, and the scan (stored by app.uploads).
    reply_number: Mapped[Optional[str]] = mapped_column(sa.String(64))
    reply_date: Mapped[Optional[date]]
    reply_stored_name: Mapped[Optional[str]] = mapped_column(sa.String(200), unique=True)
    reply_content_type: Mapped[Optional[str]] = mapped_column(sa.String(64))
    reply_size: Mapped[Optional[int]]
    reply_sha256: Mapped[Optional[str]] = mapped_column(sa.String(64))
    reply_original_filename: Mapped[Optional[str]] = mapped_column(sa.String(200))

    registration: Mapped[Registration] = relationship(back_populates="consultations")
    consulted_body = relationship("ConsultedBodyEntry")
    letter_document = relationship("IssuedDocument", foreign_keys=[letter_document_id])


keep_folded(ItineraryItem, "place_text_folded", "place_text")
