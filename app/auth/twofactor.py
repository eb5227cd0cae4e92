"""Two-factor sign-in: TOTP codes from an authenticator app (RFC 6238), single-use recovery codes,
and the gate that keeps a user whose role requires it on the set-up page until it is done.

Choices:
- The secret is made when the set-up page is first shown and kept (encrypted, like passport
  numbers) with `two_factor_enabled_at` empty until a code from the app confirms it: reloading the
  page shows the same QR code, and nothing is required before the user has proved the app works.
- A code is good for its 30 seconds and one step either side (clocks of phones drift), and once:
  the step accepted last is stored and a code of that step or an earlier one is refused, with an
  UPDATE ... WHERE so that two simultaneous submissions of one code succeed at most once.
- Recovery codes: 10 random codes of 16 base32 characters (80 bits), shown once, stored as the
  SHA-256 of the normalised code (random, so a fast digest is enough, as for session tokens).
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import pyotp
import segno
import sqlalchemy as sa
from flask import Flask, current_app, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from flask_login import current_user
from markupsafe import Markup, escape

from app.audit.service import record_event
from app.auth.models import RecoveryCode, Role, User
from app.auth.passwords import verify_password
from app.clock import utcnow
from app.extensions import db

ISSUER = "PressDesk"
RECOVERY_CODE_COUNT = 10
RECOVERY_CODE_LENGTH = 16
RECOVERY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"  # base32: no 0/O or 1/I/L to mix up
# The password step is good for this long: then the code must follow, or the login starts again.
PENDING_LOGIN_MINUTES = 5
PENDING_LOGIN_KEY = "two_factor_pending"
_FAILURE_SCOPE = "two-factor-user"

# Endpoints a user held by the gate may still reach. Other areas may add theirs at start-up.
GATE_ALLOWED_ENDPOINTS = {"static", "auth.two_factor_setup", "auth.logout", "main.set_language", "privacy.notice"}


def serves_static(endpoint: str | None) -> bool:
    """Whether the endpoint serves static files: ours ("static") or an extension's (Bootstrap-Flask's
    "bootstrap.static"). A gate that stops those leaves the page it sends the user to unstyled."""
    return endpoint is not None and (endpoint == "static" or endpoint.endswith(".static"))


class TwoFactorError(Exception):
    """A refused two-factor action; the message is translated and safe to show."""


class TwoFactorThrottled(TwoFactorError):
    def __init__(self, retry_after: int):
        minutes = max(1, -(-retry_after // 60))
        super().__init__(lazy_ngettext(
            "Too many wrong codes for this account. Wait %(num)d minute and try again.",
            "Too many wrong codes for this account. Wait %(num)d minutes and try again.", minutes))
        self.retry_after = retry_after


# --- who needs it ----------------------------------------------------------------------------

def required_roles(config=None) -> set[str]:
    value = (config or current_app.config).get("TWO_FACTOR_REQUIRED_ROLES") or ""
    return {name.strip() for name in str(value).split(",") if name.strip()}


def required_for(user: User) -> bool:
    """Whether this user's role must sign in with a second factor (TWO_FACTOR_REQUIRED_ROLES)."""
    return user.role.name in required_roles()


def is_enabled(user: User) -> bool:
    return user.two_factor_enabled_at is not None and bool(user.two_factor_secret)


# --- set-up ------------------------------------------------------------------------------------

def pending_secret(user: User) -> str:
    """The secret being set up: the one made earlier if set-up is under way, else a new one."""
    if is_enabled(user):
        raise TwoFactorError(_l("Two-step sign-in is already on for this account."))
    if not user.two_factor_secret:
        user.two_factor_secret = pyotp.random_base32()  # 32 characters: 160 bits
        user.two_factor_last_counter = None
        db.session.flush()
    return user.two_factor_secret


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_svg(uri: str, title: str) -> Markup:
    """The set-up QR code as an inline SVG (no request for an image, nothing leaves the page)."""
    svg = segno.make(uri, error="m").svg_inline(scale=5, border=2, dark="#000", light="#fff", title=title,
                                                svgclass="two-factor-qr", lineclass=None)
    return Markup(svg.replace("<svg ", f'<svg role="img" aria-label="{escape(title)}" ', 1))


def grouped(text: str, size: int = 4) -> str:
    return " ".join(text[index:index + size] for index in range(0, len(text), size))


def normalise_code(code: str) -> str:
    return "".join(character for character in (code or "").upper() if character.isalnum())


def _matching_counter(secret: str, code: str) -> int | None:
    """The time step (now, or one either side) whose code is `code`, or None."""
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    now = totp.timecode(utcnow())
    for counter in (now, now - 1, now + 1):
        if pyotp.utils.strings_equal(code, totp.generate_otp(counter)):
            return counter
    return None


def _use_counter(user: User, counter: int) -> bool:
    """Record `counter` as used, unless it (or a later one) was used already: True if recorded."""
    result = db.session.execute(
        sa.update(User)
        .where(User.id == user.id, sa.or_(User.two_factor_last_counter.is_(None), User.two_factor_last_counter < counter))
        .values(two_factor_last_counter=counter)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    from sqlalchemy.orm.attributes import set_committed_value

    set_committed_value(user, "two_factor_last_counter", counter)
    return True


def confirm_setup(user: User, code: str) -> list[str]:
    """Turn two-step sign-in on with a first good code; returns the recovery codes (shown once)."""
    secret = pending_secret(user)
    counter = _matching_counter(secret, normalise_code(code))
    if counter is None or not _use_counter(user, counter):
        raise TwoFactorError(_l("This code is not right. Check the time on your phone and type the code it "
                                "shows now."))
    user.two_factor_enabled_at = utcnow()
    codes = _new_recovery_codes(user)
    record_event("auth.two_factor_enabled", actor=user, subject=user)
    _mail_change(user, "enabled")
    return codes


def disable(user: User, password: str) -> None:
    if not is_enabled(user):
        raise TwoFactorError(_l("Two-step sign-in is not on for this account."))
    if required_for(user):
        raise TwoFactorError(_l("Your role must sign in in two steps: it cannot be turned off."))
    if not verify_password(user.password_hash, password):
        raise TwoFactorError(_l("The password is not correct."))
    _clear(user)
    record_event("auth.two_factor_disabled", actor=user, subject=user)
    _mail_change(user, "disabled")


def reset_by_admin(admin: User, user: User) -> None:
    """An administrator turns two-step sign-in off for someone who lost their phone and their
    recovery codes. Every session of that account ends; at the next login, a role that requires it
    sets it up again (from the password alone, hence: the administrator first makes sure, in person
    or on a known phone number, who is asking). Audited and mailed to the account."""
    if admin.role is not Role.admin:
        raise TwoFactorError(_l("Only an administrator can reset two-step sign-in."))
    if admin.id == user.id:
        raise TwoFactorError(_l("You cannot reset your own two-step sign-in: ask another administrator."))
    if not is_enabled(user):
        raise TwoFactorError(_l("Two-step sign-in is not on for this account."))
    from app.auth.service import revoke_all_sessions

    _clear(user)
    revoke_all_sessions(user)
    record_event("auth.two_factor_reset", actor=admin, subject=user)
    _mail_change(user, "reset", by=admin)


def _clear(user: User) -> None:
    user.two_factor_secret = None
    user.two_factor_enabled_at = None
    user.two_factor_last_counter = None
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


CHANGE_SUBJECTS = {
    "enabled": _l("Two-step sign-in is on for your PressDesk account"),
    "disabled": _l("Two-step sign-in is off for your PressDesk account"),
    "reset": _l("An administrator reset two-step sign-in on your PressDesk account"),
    "codes": _l("New recovery codes for your PressDesk account"),
}


def _mail_change(user: User, change: str, by: User | None = None) -> None:
    """Tell the account's owner of a change to how it signs in: someone who has the password
    alone could otherwise turn the second step off (or make new codes) unseen."""
    from app.auth.service import _external_url
    from app.outbox.service import queue_email

    queue_email(user.email, "two_factor_changed", user.locale, CHANGE_SUBJECTS[change], user=user, change=change,
                by=by, moment=utcnow(), reset_url=_external_url("auth.forgot_password"),
                sessions_url=_external_url("auth.sessions"))


# --- recovery codes ------------------------------------------------------------------------------

def recovery_digest(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


def _new_recovery_codes(user: User) -> list[str]:
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = ["".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
             for _ in range(RECOVERY_CODE_COUNT)]
    now = utcnow()
    db.session.add_all([RecoveryCode(user_id=user.id, code_hash=recovery_digest(code), created_at=now)
                        for code in codes])
    db.session.flush()
    return [grouped(code) for code in codes]


def renew_recovery_codes(user: User, password: str) -> list[str]:
    """A new set of recovery codes; the earlier ones stop working."""
    if not is_enabled(user):
        raise TwoFactorError(_l("Two-step sign-in is not on for this account."))
    if not verify_password(user.password_hash, password):
        raise TwoFactorError(_l("The password is not correct."))
    codes = _new_recovery_codes(user)
    record_event("auth.recovery_codes_renewed", actor=user, subject=user)
    _mail_change(user, "codes")
    return codes


def unused_recovery_codes(user: User) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(RecoveryCode)
                             .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)))


def _use_recovery_code(user: User, code: str) -> bool:
    normalised = normalise_code(code)
    if len(normalised) != RECOVERY_CODE_LENGTH:
        return False
    result = db.session.execute(
        sa.update(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.code_hash == recovery_digest(normalised),
               RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


# --- the second step of a login ---------------------------------------------------------------

def _failure_key(user: User) -> str:
    return str(user.id)


def _failure_limit() -> str:
    return current_app.config.get("RATELIMIT_TWO_FACTOR") or ""


def check_code(user: User, code: str) -> str:
    """Accept a code from the app or a recovery code for the second step of a login.

    Returns "totp" or "recovery". Wrong codes are counted per account (from any address) and,
    past RATELIMIT_TWO_FACTOR, refused without being checked (TwoFactorThrottled).
    """
    from app.ops import ratelimits

    limit, key = _failure_limit(), _failure_key(user)
    if limit and ratelimits.over_limit(limit, key, _FAILURE_SCOPE):
        record_event("auth.two_factor_throttled", actor=user, subject=user)
        raise TwoFactorThrottled(ratelimits.retry_after_seconds(limit, key, _FAILURE_SCOPE))
    normalised = normalise_code(code)
    counter = _matching_counter(user.two_factor_secret, normalised)
    if counter is not None and _use_counter(user, counter):
        kind = "totp"
    elif _use_recovery_code(user, normalised):
        kind = "recovery"
        record_event("auth.recovery_code_used", actor=user, subject=user,
                     after={"recovery_codes_left": unused_recovery_codes(user)})
    else:
        record_event("auth.two_factor_failed", actor=user, subject=user)
        if limit:
            ratelimits.count_failure(limit, key, _FAILURE_SCOPE)
        raise TwoFactorError(_l("This code is not right, or was used already. Type the 6-digit code your "
                                "app shows now, or one of your recovery codes."))
    if limit:
        ratelimits.forget(limit, key, _FAILURE_SCOPE)
    return kind


def pending_login(flask_session) -> tuple[User, str] | None:
    """The user who gave the right password in this browser less than 5 minutes ago, and `next`."""
    pending = flask_session.get(PENDING_LOGIN_KEY)
    if not isinstance(pending, dict):
        return None
    try:
        started = datetime.fromtimestamp(float(pending["at"]), tz=utcnow().tzinfo)
        user_id = int(pending["user_id"])
    except (KeyError, TypeError, ValueError, OverflowError, OSError):
        return None
    if not utcnow() - timedelta(minutes=PENDING_LOGIN_MINUTES) <= started <= utcnow() + timedelta(seconds=5):
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.active or not is_enabled(user):
        return None
    if user.password_changed_at and user.password_changed_at.timestamp() > float(pending["at"]):
        return None  # the password changed since: that step no longer counts
    return user, str(pending.get("next") or "")


def remember_pending_login(flask_session, user: User, next_target: str) -> None:
    flask_session[PENDING_LOGIN_KEY] = {"user_id": user.id, "at": utcnow().timestamp(), "next": next_target[:500]}


def forget_pending_login(flask_session) -> None:
    flask_session.pop(PENDING_LOGIN_KEY, None)


# --- the gate ----------------------------------------------------------------------------------

AUDIT_LABELS = {
    "auth.two_factor_enabled": _l("Turned on two-step sign-in"),
    "auth.two_factor_disabled": _l("Turned off two-step sign-in"),
    "auth.two_factor_reset": _l("Reset two-step sign-in of the account"),
    "auth.two_factor_failed": _l("Wrong two-step sign-in code"),
    "auth.two_factor_throttled": _l("Two-step sign-in refused: too many wrong codes"),
    "auth.recovery_code_used": _l("Signed in with a recovery code"),
    "auth.recovery_codes_renewed": _l("Made new recovery codes"),
    "auth.session_ended": _l("Ended a session"),
    "auth.other_sessions_ended": _l("Ended the other sessions"),
    "auth.new_device": _l("Signed in from a new device"),
}


def init_app(app: Flask) -> None:
    from app.audit.labels import register_action_labels

    unknown = required_roles(app.config) - {role.name for role in Role}
    if unknown:
        raise RuntimeError(f"PRESSDESK_TWO_FACTOR_REQUIRED_ROLES names unknown roles: {', '.join(sorted(unknown))} "
                           f"(roles: {', '.join(role.name for role in Role)})")
    register_action_labels(AUDIT_LABELS)

    @app.before_request
    def two_factor_gate():
        """A signed-in user whose role requires two-step sign-in and who has not set it up can only
        set it up (or log out, change the language, read the privacy notice)."""
        if request.endpoint is None or request.endpoint in GATE_ALLOWED_ENDPOINTS or serves_static(request.endpoint):
            return None
        if not required_roles() or not current_user.is_authenticated:
            return None
        if required_for(current_user) and not is_enabled(current_user):
            target = request.full_path if request.query_string else request.path
            return redirect(url_for("auth.two_factor_setup", next=target if request.method == "GET" else None))
        return None
