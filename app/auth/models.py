"""Accounts, their server-side sessions and the one-time links sent by email."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import UTCDateTime, enum_column, utcnow
from app.extensions import db
from app.privacy.crypto import EncryptedString


class Role(enum.Enum):
    correspondent = "correspondent"
    officer = "officer"
    leader = "leader"
    admin = "admin"

    @property
    def is_staff(self) -> bool:
        return self is not Role.correspondent


STAFF_ROLES = (Role.officer, Role.leader, Role.admin)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    full_name: Mapped[str] = mapped_column(sa.String(200))
    password_hash: Mapped[Optional[str]] = mapped_column(sa.String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role), index=True)
    locale: Mapped[str] = mapped_column(sa.String(8))
    active: Mapped[bool] = mapped_column(default=True)
    email_confirmed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    password_changed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # A correspondent works for one outlet; staff have none.
    outlet_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("outlets.id", ondelete="SET NULL"), index=True)
    # The secret of the staff member's iCalendar feed of visits, stored hashed (the link is shown once).
    calendar_token_hash: Mapped[Optional[str]] = mapped_column(sa.String(64), unique=True)
    # Two-factor sign-in (TOTP): the secret, encrypted at rest; set up when enabled_at is set.
    two_factor_secret: Mapped[Optional[str]] = mapped_column(EncryptedString("users.two_factor_secret"))
    two_factor_enabled_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    # The last time step accepted: a code is good once, even within its 30 seconds.
    two_factor_last_counter: Mapped[Optional[int]] = mapped_column(sa.BigInteger)
    # The privacy notice this user accepted last (its version) and when.
    privacy_notice_version: Mapped[Optional[str]] = mapped_column(sa.String(40))
    privacy_consented_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    # Closed at the user's request: the row stays, anonymised, for the dossiers it signed.
    closed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())

    outlet = relationship("Outlet")
    sessions: Mapped[list["UserSession"]] = relationship(back_populates="user", cascade="all, delete-orphan")

    # Set by the user loader: the raw token of the session this request runs in.
    session_token = None

    def get_id(self) -> str | None:
        # Flask-Login stores this in the cookie: the session token, not the user id,
        # so that revoking the server-side session makes an old cookie useless.
        return self.session_token

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_staff(self) -> bool:
        return self.role.is_staff

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role.name}>"


class UserSession(db.Model):
    """A login. The cookie holds a random token; the database only its SHA-256."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    ip_address: Mapped[Optional[str]] = mapped_column(sa.String(45))
    user_agent: Mapped[Optional[str]] = mapped_column(sa.String(300))
    last_seen_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(back_populates="sessions")


class TokenPurpose(enum.Enum):
    confirm_email = "confirm_email"
    reset_password = "reset_password"
    invitation = "invitation"  # a staff account's first password


class AccountToken(db.Model):
    """A link sent by email: works once, for one purpose, until it expires."""

    __tablename__ = "account_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[TokenPurpose] = mapped_column(enum_column(TokenPurpose))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()


class RecoveryCode(db.Model):
    """A single-use two-factor recovery code, shown once and stored as a SHA-256 digest.

    The codes are random (80 bits), so a fast digest is enough, as for the session tokens.
    """

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    used_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())


class KnownDevice(db.Model):
    """A browser this user has signed in from (a long-lived random cookie, stored hashed).

    A sign-in from a browser not on the list mails the user.
    """

    __tablename__ = "known_devices"
    __table_args__ = (sa.UniqueConstraint("user_id", "device_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    device_hash: Mapped[str] = mapped_column(sa.String(64))
    user_agent: Mapped[Optional[str]] = mapped_column(sa.String(300))
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
