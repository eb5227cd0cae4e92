"""The browsers a user signs in from, and their sessions: the "Your sessions" page, the mail
when an account signs in from a browser it has not used before, and each session's "last seen".

- A browser is known by a long-lived random cookie (DEVICE_COOKIE), stored as its SHA-256 in
  KnownDevice: no fingerprinting, and a copied database tells nothing usable. Clearing cookies or
  another browser counts as a new device: the mail says so ("if it was you, nothing to do").
- The first browser of an account sends no mail (nothing to compare with).
- "Last seen" is written at most once per LAST_SEEN_EVERY per session, in a short transaction of
  its own: a page view (a read-only transaction) does not become a write each time.
"""
from __future__ import annotations

import logging
import re
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app, request
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.attributes import set_committed_value

from app.audit.service import record_event
from app.auth.models import KnownDevice, User, UserSession
from app.clock import utcnow
from app.extensions import db
from app.outbox.service import queue_email

log = logging.getLogger(__name__)

DEVICE_COOKIE = "pressdesk_device"
DEVICE_COOKIE_DAYS = 400  # browsers keep a cookie at most about this long
LAST_SEEN_EVERY = timedelta(minutes=5)
_TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")

# (pattern in the User-Agent, name); the first that matches wins, so Edge and Opera come before Chrome.
_BROWSERS = [("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("FxiOS/", "Firefox"),
             ("CriOS/", "Chrome"), ("Chrome/", "Chrome"), ("Safari/", "Safari")]
_SYSTEMS = [("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Android"), ("Windows", "Windows"),
            ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux")]


def _digest(raw: str) -> str:
    from app.auth.service import token_digest

    return token_digest(raw)


def device_label(user_agent: str | None) -> str:
    """A short name for a browser ("Firefox on Windows"), from its User-Agent."""
    agent = user_agent or ""
    browser = next((name for pattern, name in _BROWSERS if pattern in agent), None)
    system = next((name for pattern, name in _SYSTEMS if pattern in agent), None)
    if browser and system:
        return str(_l("%(browser)s on %(system)s", browser=browser, system=system))
    if browser or system:
        return browser or system
    return agent[:60] or str(_l("Unknown browser"))


def _external_url(endpoint: str, **values) -> str:
    from app.auth.service import _external_url as external_url

    return external_url(endpoint, **values)


def recognise_device(user: User, raw_cookie: str | None) -> str:
    """Note the browser of a new login; mail the user when it is new to a known account.

    Returns the device token the browser keeps (its own if it had a valid one).
    """
    raw = raw_cookie if raw_cookie and _TOKEN_PATTERN.match(raw_cookie) else secrets.token_urlsafe(32)
    digest, now = _digest(raw), utcnow()
    agent = (request.user_agent.string or "")[:300] or None
    known = db.session.scalar(sa.select(KnownDevice).where(KnownDevice.user_id == user.id,
                                                           KnownDevice.device_hash == digest))
    if known is not None:
        known.last_seen_at, known.user_agent = now, agent
        db.session.flush()
        return raw
    first = not db.session.scalar(sa.select(sa.exists().where(KnownDevice.user_id == user.id)))
    try:
        with db.session.begin_nested():  # the same browser logging in twice at once: one row
            db.session.add(KnownDevice(user_id=user.id, device_hash=digest, user_agent=agent,
                                       first_seen_at=now, last_seen_at=now))
    except IntegrityError:
        return raw
    if not first:
        address = (request.remote_addr or "")[:45]
        record_event("auth.new_device", actor=user, subject=user, after={"device": device_label(agent)})
        # The raw User-Agent: the template names the device in the recipient's language.
        queue_email(user.email, "new_device", user.locale, _l("New sign-in to your PressDesk account"),
                    user=user, device=agent, address=address, moment=now,
                    reset_url=_external_url("auth.forgot_password"), sessions_url=_external_url("auth.sessions"))
    return raw


def set_device_cookie(response, raw: str) -> None:
    response.set_cookie(DEVICE_COOKIE, raw, max_age=DEVICE_COOKIE_DAYS * 24 * 3600, httponly=True, samesite="Lax",
                        secure=bool(current_app.config["SESSION_COOKIE_SECURE"]), path="/")


# --- sessions ------------------------------------------------------------------------------------

def live_sessions(user: User) -> list[UserSession]:
    """The user's sessions that still work, the most recently used first."""
    now = utcnow()
    return list(db.session.scalars(
        sa.select(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None), UserSession.expires_at > now)
        .order_by(sa.func.coalesce(UserSession.last_seen_at, UserSession.created_at).desc(), UserSession.id.desc())
    ))


def end_user_session(user: User, session_id: int) -> UserSession | None:
    """End one of the user's own live sessions; None if there is no such session of theirs."""
    user_session = db.session.scalar(
        sa.select(UserSession).where(UserSession.id == session_id, UserSession.user_id == user.id,
                                     UserSession.revoked_at.is_(None), UserSession.expires_at > utcnow()))
    if user_session is None:
        return None
    user_session.revoked_at = utcnow()
    record_event("auth.session_ended", actor=user, subject=user,
                 after={"session": user_session.id, "device": device_label(user_session.user_agent)})
    db.session.flush()
    return user_session


def is_current(user: User, user_session: UserSession) -> bool:
    return bool(user.session_token) and user_session.token_hash == _digest(user.session_token)


def end_other_sessions(user: User) -> int:
    """End every session of the user but this browser's; returns how many ended."""
    current_hash = _digest(user.session_token) if user.session_token else ""
    result = db.session.execute(
        sa.update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None), UserSession.token_hash != current_hash)
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    record_event("auth.other_sessions_ended", actor=user, subject=user, after={"count": result.rowcount})
    return result.rowcount


def touch_session(user_session: UserSession) -> None:
    """Note that the session was used now, at most once per LAST_SEEN_EVERY.

    A short transaction on its own connection, so that a page view stays a read-only transaction
    (SQLite) and is not held up by it; if the database is busy, the next request tries again.
    """
    from app.database import writing

    now = utcnow()
    if user_session.last_seen_at is not None and now - user_session.last_seen_at < LAST_SEEN_EVERY:
        return
    statement = (sa.update(UserSession)
                 .where(UserSession.id == user_session.id,
                        sa.or_(UserSession.last_seen_at.is_(None), UserSession.last_seen_at < now - LAST_SEEN_EVERY))
                 .values(last_seen_at=now))
    try:
        with writing(), db.engine.begin() as connection:
            connection.execute(statement)
    except OperationalError as error:  # locked for longer than the busy timeout: not worth failing a page
        log.warning("could not note a session's last use: %s", type(error).__name__)
        return
    set_committed_value(user_session, "last_seen_at", now)
