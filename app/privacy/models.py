"""Consents to the privacy notice and the data subject's requests (DESIGN.md, personal data)."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import UTCDateTime, enum_column, utcnow
from app.extensions import db


class ConsentContext(enum.Enum):
    signup = "signup"  # the account holder, at sign-up
    renewal = "renewal"  # the account holder again, for a new version of the notice
    crew_member = "crew_member"  # the correspondent, for a crew member's personal data they entered


class PrivacyConsent(db.Model):
    """That a person accepted a version of the privacy notice, and when (kept as evidence)."""

    __tablename__ = "privacy_consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    crew_member_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("crew_members.id", ondelete="SET NULL"),
                                                          index=True)
    context: Mapped[ConsentContext] = mapped_column(enum_column(ConsentContext))
    notice_version: Mapped[str] = mapped_column(sa.String(40))
    given_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user = relationship("User")
    crew_member = relationship("CrewMember")


class RequestKind(enum.Enum):
    export = "export"  # a copy of everything held (done at once)
    correction = "correction"  # data the correspondent can no longer edit (under a decision): staff act
    closure = "closure"  # close the account (done at once; what the archive keeps stays)


class PrivacyRequest(db.Model):
    """A data subject's request: audited, and listed for staff."""

    __tablename__ = "privacy_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[RequestKind] = mapped_column(enum_column(RequestKind), index=True)
    user_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    outlet_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("outlets.id", ondelete="SET NULL"), index=True)
    message: Mapped[Optional[str]] = mapped_column(sa.Text)  # what to correct, in the requester's words
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    completed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    handled_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    outcome: Mapped[Optional[str]] = mapped_column(sa.Text)  # what was done (staff, or the system)

    user = relationship("User", foreign_keys=[user_id])
    outlet = relationship("Outlet")
    handled_by = relationship("User", foreign_keys=[handled_by_id])
