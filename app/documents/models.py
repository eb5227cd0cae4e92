"""The document register: every issued letter and permit, with its number, hash and revocation."""
from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from app.db import UTCDateTime, enum_column, utcnow
from app.extensions import db


class DocumentKind(enum.Enum):
    approval_letter = "approval_letter"
    refusal_letter = "refusal_letter"
    notification_letter = "notification_letter"  # to the host bodies and MOFA
    permit = "permit"  # one per crew member
    permit_set = "permit_set"  # all permits of a registration in one PDF, for printing (not registered)
    consultation_letter = "consultation_letter"  # công văn xin ý kiến, numbered in its own series


# Documents between the province and other bodies: never shown to, or downloadable by, the outlet.
INTERNAL_KINDS = frozenset({DocumentKind.consultation_letter})


class DocumentCounter(db.Model):
    """The last number given in a series (document symbol) and year."""

    __tablename__ = "document_counters"

    series: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(default=0)


class IssuedDocument(db.Model):
    """An immutable PDF. Its bytes are stored once at issue time; a download returns the same bytes."""

    __tablename__ = "issued_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(sa.ForeignKey("registrations.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[DocumentKind] = mapped_column(enum_column(DocumentKind))
    # Register number: number/symbol, numbered from 1 each year per series (the symbol).
    series: Mapped[Optional[str]] = mapped_column(sa.String(32))
    year: Mapped[Optional[int]]
    number: Mapped[Optional[int]]
    crew_member_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("crew_members.id", ondelete="RESTRICT"))
    valid_from: Mapped[Optional[date]]
    valid_until: Mapped[Optional[date]]
    issue_date: Mapped[date]
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    signer_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    signer_name: Mapped[str] = mapped_column(sa.String(200))
    # Set right after the row has its id (a permit's QR token names the id); never changed afterwards.
    stored_name: Mapped[Optional[str]] = mapped_column(sa.String(200), unique=True)
    size: Mapped[Optional[int]]
    sha256: Mapped[Optional[str]] = mapped_column(sa.String(64))
    digitally_signed: Mapped[bool] = mapped_column(default=False)
    revoked_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime(), index=True)  # the revocation list
    revocation_reason: Mapped[Optional[str]] = mapped_column(sa.Text)

    registration = relationship("Registration")
    crew_member = relationship("CrewMember")

    __table_args__ = (sa.UniqueConstraint("series", "year", "number", name="uq_issued_documents_register_number"),)

    @property
    def register_number(self) -> str | None:
        return f"{self.number}/{self.series}" if self.number is not None else None

    @property
    def content_type(self) -> str:
        return "application/pdf"

    @property
    def original_filename(self) -> str:
        label = (self.register_number or self.kind.name).replace("/", "-")
        return f"{self.registration.reference} {label}.pdf"


class VerificationCheck(db.Model):
    """One scan of a permit's QR code: what the public page answered, when, from where."""

    __tablename__ = "verification_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    document_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("issued_documents.id", ondelete="SET NULL"),
                                                       index=True)
    key_id: Mapped[Optional[str]] = mapped_column(sa.String(16))
    outcome: Mapped[str] = mapped_column(sa.String(20))
    ip_address: Mapped[Optional[str]] = mapped_column(sa.String(45))
    # A check made offline by an enrolled checkpoint device, sent up when it was back online:
    # `checked_at` is the device's time, `client_check_id` the device's own id for the check,
    # unique per device so that a check sent twice is stored once.
    device_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("checkpoint_devices.id", ondelete="SET NULL"),
                                                     index=True)
    offline: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    client_check_id: Mapped[Optional[str]] = mapped_column(sa.String(64))
    received_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    data_age_seconds: Mapped[Optional[int]]

    __table_args__ = (sa.UniqueConstraint("device_id", "client_check_id", name="uq_verification_checks_device_check"),)


class PermitHolder(db.Model):
    """The holder of a permit as approved, copied once at issue and never changed afterwards.

    The verification page, its photo and an enrolled checkpoint's offline cache read this
    record, never the live crew data: a crew member edited (or deleted) after the approval
    cannot change what a scanned permit shows. The photo is a copy in its own stored file,
    with its SHA-256, so replacing the crew photo leaves it alone.
    """

    __tablename__ = "permit_holders"

    document_id: Mapped[int] = mapped_column(sa.ForeignKey("issued_documents.id", ondelete="CASCADE"),
                                             primary_key=True, autoincrement=False)
    full_name: Mapped[str] = mapped_column(sa.String(200))
    nationality: Mapped[str] = mapped_column(sa.String(2))  # ISO 3166 code, shown in the reader's language
    role: Mapped[str] = mapped_column(sa.String(40))  # a CrewRole name
    outlet_name: Mapped[str] = mapped_column(sa.String(200))
    photo_stored_name: Mapped[Optional[str]] = mapped_column(sa.String(200), unique=True)
    photo_content_type: Mapped[Optional[str]] = mapped_column(sa.String(64))
    photo_sha256: Mapped[Optional[str]] = mapped_column(sa.String(64))
    # [{"vi": name, "en": name, "border": bool, "days": ["2026-12-01", ...]}], in programme order
    places: Mapped[list] = mapped_column(sa.JSON, default=list)
    conditions_vi: Mapped[Optional[str]] = mapped_column(sa.Text)
    conditions_en: Mapped[Optional[str]] = mapped_column(sa.Text)
    escort_name: Mapped[Optional[str]] = mapped_column(sa.String(200))
    escort_phone: Mapped[Optional[str]] = mapped_column(sa.String(40))
    approval_letter_number: Mapped[Optional[str]] = mapped_column(sa.String(64))

    document: Mapped[IssuedDocument] = relationship(backref=backref("holder", uselist=False))

    @property
    def crew_role(self):
        """The CrewRole approved, or None for a role name this version does not know."""
        from app.outlets.models import CrewRole

        return CrewRole.__members__.get(self.role)

    def conditions_in(self, locale: str) -> str:
        """The conditions in the reader's language; the Vietnamese (the letter's) when no English was written."""
        return (self.conditions_en if locale == "en" else self.conditions_vi) or self.conditions_vi or ""
