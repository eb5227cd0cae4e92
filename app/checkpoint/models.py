"""Checkpoint devices: phones that staff enrolled, which cache trust data and permits for offline checks."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import UTCDateTime, utcnow
from app.extensions import db


class CheckpointDevice(db.Model):
    """A phone enrolled for a named checkpoint. Its bearer token is stored as a SHA-256 only.

    An enrolled device may cache the permits in force in the next days, with the holder's
    photo, for offline checks; a revoked device is refused at its next sync and told to wipe.
    """

    __tablename__ = "checkpoint_devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    checkpoint_name: Mapped[str] = mapped_column(sa.String(200))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    enrolled_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    user_agent: Mapped[Optional[str]] = mapped_column(sa.String(300))
    last_sync_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    revoked_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    revoked_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    enrolled_by = relationship("User", foreign_keys=[enrolled_by_id])
    revoked_by = relationship("User", foreign_keys=[revoked_by_id])


class CheckpointEnrolment(db.Model):
    """A single-use enrolment code (shown as a QR code on the staff page), valid for minutes.

    Only the code's SHA-256 is stored; the code itself is shown once, to the member of staff
    who created it.
    """

    __tablename__ = "checkpoint_enrolments"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    checkpoint_name: Mapped[str] = mapped_column(sa.String(200))
    created_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    device_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("checkpoint_devices.id", ondelete="SET NULL"))

    created_by = relationship("User", foreign_keys=[created_by_id])
    device = relationship(CheckpointDevice)
