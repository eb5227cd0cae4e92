"""Account rules: sign-up, confirmation, login sessions, passwords, staff accounts.

Functions here change the database and flush; the caller (a route or a CLI
command) commits once at the edge.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import joinedload
from flask import current_app, request
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext

from app.audit.service import record_event
from app.auth.models import STAFF_ROLES, AccountToken, Role, TokenPurpose, User, UserSession
from app.auth.passwords import hash_password, verify_password
from app.db import utcnow
from app.extensions import db
from app.outbox.service import queue_email
from app.privacy.models import ConsentContext
from app.privacy.notice import record_consent


class AccountError(Exception):
    """A rule refused the action; the message is translated and safe to show."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))


def token_digest(raw_token: str) -> str:
    return hashlib.sha256(raw_token.encode()).hexdigest()


def _external_url(endpoint: str, **values) -> str:
    """An absolute link for an email, on the configured public BASE_URL.

    Built from the URL map, not the request, so that commands (no request) and a
    request arriving through a proxy both produce the public address.
    """
    path = current_app.url_map.bind("pressdesk.invalid").build(endpoint, values)
    return current_app.config["BASE_URL"].rstrip("/") + path


# --- one-time links ---------------------------------------------------------

_TOKEN_HOURS = {
    TokenPurpose.confirm_email: "EMAIL_CONFIRMATION_HOURS",
    TokenPurpose.reset_password: "PASSWORD_RESET_HOURS",
    TokenPurpose.invitation: "ACCOUNT_INVITATION_HOURS",
}


def issue_token(user: User, purpose: TokenPurpose) -> str:
    """A new link for `purpose`; earlier unused links of that purpose stop working."""
    now = utcnow()
    db.session.execute(
        sa.update(AccountToken)
        .where(AccountToken.user_id == user.id, AccountToken.purpose == purpose, AccountToken.used_at.is_(None))
        .values(used_at=now)
    )
    raw = secrets.token_urlsafe(32)
    hours = current_app.config[_TOKEN_HOURS[purpose]]
    db.session.add(
        AccountToken(user_id=user.id, purpose=purpose, token_hash=token_digest(raw), expires_at=now + timedelta(hours=hours))
    )
    db.session.flush()
    return raw


def peek_token(raw: str, purpose: TokenPurpose) -> AccountToken | None:
    """The live token for this link and purpose, without using it up."""
    token = db.session.scalar(
        sa.select(AccountToken).where(AccountToken.token_hash == token_digest(raw), AccountToken.purpose == purpose)
    )
    if token is None or token.used_at is not None or token.expires_at <= utcnow() or not token.user.active:
        return None
    return token


def _consume_token(raw: str, purpose: TokenPurpose) -> User:
    """Use the link once. A second use, an expired link or another purpose's link is refused.

    The UPDATE ... WHERE used_at IS NULL makes two simultaneous uses of the same
    link succeed at most once.
    """
    token = peek_token(raw, purpose)
    if token is None:
        raise AccountError(_l("This link is invalid, has expired or has already been used."))
    result = db.session.execute(
        sa.update(AccountToken)
        .where(AccountToken.id == token.id, AccountToken.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if result.rowcount != 1:
        raise AccountError(_l("This link is invalid, has expired or has already been used."))
    return token.user


# --- sign-up and confirmation -----------------------------------------------

def register_correspondent(*, email: str, full_name: str, password: str, locale: str,
                           privacy_consent: bool) -> User | None:
    """Create an unconfirmed correspondent account, record its consent to the privacy notice (with
    the notice's version) and mail the confirmation link.

    When the address already has an account, nothing is created and that address
    is told so by email: the page answers the same either way, so sign-up cannot
    be used to find out who has an account.
    """
    if not privacy_consent:
        raise AccountError(_l("Accept the privacy notice to create an account."))
    email = normalise_email(email)
    existing = find_user_by_email(email)
    if existing is not None:  # no consent recorded: the account holder gave theirs
        # The same work as for a new address (the hash is what costs): the answer's time tells nothing.
        hash_password(password)
        queue_email(existing.email, "account_exists", existing.locale, _l("You already have a PressDesk account"),
                    user=existing, login_url=_external_url("auth.login"),
                    reset_url=_external_url("auth.forgot_password"))
        return None
    user = User(email=email, full_name=full_name.strip(), password_hash=hash_password(password),
                role=Role.correspondent, locale=locale, password_changed_at=utcnow())
    db.session.add(user)
    db.session.flush()
    record_event("account.signup", actor=user, subject=user, after={"email": email, "role": user.role.name})
    record_consent(user, ConsentContext.signup)
    send_confirmation(user)
    return user


def send_confirmation(user: User) -> None:
    raw = issue_token(user, TokenPurpose.confirm_email)
    queue_email(user.email, "confirm_email", user.locale, _l("Confirm your email address for PressDesk"),
                user=user, confirm_url=_external_url("auth.confirm_email", token=raw),
                hours=current_app.config["EMAIL_CONFIRMATION_HOURS"])


def resend_confirmation(email: str) -> None:
    user = find_user_by_email(email)
    if user is not None and user.active and user.email_confirmed_at is None:
        send_confirmation(user)


def confirm_email(raw_token: str) -> User:
    user = _consume_token(raw_token, TokenPurpose.confirm_email)
    user.email_confirmed_at = utcnow()
    record_event("account.email_confirmed", actor=user, subject=user)
    return user


# --- login sessions -------------------------------------------------------

class LoginThrottled(AccountError):
    """Too many failed logins for this email address; `retry_after` in seconds."""

    def __init__(self, retry_after: int):
        minutes = max(1, -(-retry_after // 60))
        super().__init__(lazy_ngettext(
            "Too many failed logins for this account. Wait %(num)d minute and try again, or choose a new "
            "password with “Forgotten your password?” below: the link we send unlocks the account at once.",
            "Too many failed logins for this account. Wait %(num)d minutes and try again, or choose a new "
            "password with “Forgotten your password?” below: the link we send unlocks the account at once.",
            minutes))
        self.retry_after = retry_after


# The per-account throttle (RATELIMIT_LOGIN_ACCOUNT) beside the per-address one of the route. It
# counts failed logins for an email address from any address, so that many addresses cannot
# guess one account's password. Choices:
# - It keys on an HMAC of the normalised email, whether or not an account exists: the answer is
#   the same for unknown and known addresses, and the storage (Redis) holds no email address.
# - Only failures count, and while throttled the password is not even checked (a correct guess
#   must not be confirmed). A fixed window (the limiter's strategy) ends the throttle after at
#   most its period (15 minutes by default) whatever an attacker keeps sending.
# - The owner is never locked out for long: the message says how long to wait, and a password
#   set from a reset link (which proves the mailbox) clears the count at once. A successful
#   login clears it too.
_ACCOUNT_SCOPE = "login-account"


def _account_key(email: str) -> str:
    import hmac

    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, normalise_email(email).encode(), hashlib.sha256).hexdigest()[:40]


def _account_limit() -> str:
    return current_app.config.get("RATELIMIT_LOGIN_ACCOUNT") or ""


def _check_account_throttle(email: str) -> None:
    from app.ops import ratelimits

    limit, key = _account_limit(), _account_key(email)
    if limit and ratelimits.over_limit(limit, key, _ACCOUNT_SCOPE):
        record_event("auth.login_throttled", actor_email=normalise_email(email)[:254],
                     after={"reason": "too_many_failures_for_account"})
        raise LoginThrottled(ratelimits.retry_after_seconds(limit, key, _ACCOUNT_SCOPE))


def _count_failed_login(email: str) -> None:
    from app.ops import ratelimits

    if _account_limit():
        ratelimits.count_failure(_account_limit(), _account_key(email), _ACCOUNT_SCOPE)


def _forget_failed_logins(email: str) -> None:
    from app.ops import ratelimits

    if _account_limit():
        ratelimits.forget(_account_limit(), _account_key(email), _ACCOUNT_SCOPE)


def authenticate(email: str, password: str) -> User:
    """The user for these credentials, or AccountError with one message for every failure."""
    _check_account_throttle(email)
    user = find_user_by_email(email)
    valid = verify_password(user.password_hash if user else None, password)
    if user is None or not valid or not user.active:
        record_event("auth.login_failed", actor=user if valid else None, actor_email=normalise_email(email)[:254],
                     after={"reason": "inactive" if valid else "credentials"})
        if not valid:
            _count_failed_login(email)
        raise AccountError(_l("The email address or password is not correct."))
    if user.email_confirmed_at is None:
        record_event("auth.login_failed", actor=user, after={"reason": "email_not_confirmed"})
        raise AccountError(_l("Please confirm your email address first: follow the link we sent you."))
    _forget_failed_logins(email)
    return user


def start_session(user: User) -> str:
    """Record a new login for `user`; return the raw token the cookie will carry."""
    raw = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(UserSession(
        user_id=user.id, token_hash=token_digest(raw), created_at=now, last_seen_at=now,
        expires_at=now + current_app.permanent_session_lifetime,
        ip_address=(request.remote_addr or "")[:45] or None,
        user_agent=(request.user_agent.string or "")[:300] or None,
    ))
    db.session.flush()
    user.session_token = raw
    record_event("auth.login", actor=user, subject=user)
    return raw


def load_session_user(raw_token: str) -> User | None:
    """The user of a live session token; None once revoked, expired or deactivated."""
    # The user in the same statement: this runs on every signed-in request (one statement fewer).
    user_session = db.session.scalar(
        sa.select(UserSession).options(joinedload(UserSession.user, innerjoin=True))
        .where(UserSession.token_hash == token_digest(raw_token))
    )
    now = utcnow()
    if user_session is None or user_session.revoked_at is not None or user_session.expires_at <= now:
        return None
    user = user_session.user
    if not user.active:
        return None
    user.session_token = raw_token
    from app.auth.devices import touch_session

    touch_session(user_session)  # "last seen" on the sessions page, at most once per 5 minutes
    return user


def end_session(user: User) -> None:
    """Log out: the server forgets this session, so a copy of the cookie is useless."""
    if user.session_token:
        db.session.execute(
            sa.update(UserSession)
            .where(UserSession.token_hash == token_digest(user.session_token), UserSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
    record_event("auth.logout", actor=user, subject=user)


def revoke_all_sessions(user: User) -> None:
    db.session.execute(
        sa.update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


# --- passwords --------------------------------------------------------------

def _set_password(user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    revoke_all_sessions(user)
    end_unused_links(user)


def end_unused_links(user: User) -> None:
    """Every link mailed to this user and not used yet stops working, whatever its purpose.

    Called when the password is set by any route, and on deactivation and a role change: an old
    invitation or reset mail must never set a password after the account moved on.
    """
    db.session.execute(
        sa.update(AccountToken)
        .where(AccountToken.user_id == user.id, AccountToken.used_at.is_(None))
        .values(used_at=utcnow())
    )


def change_password(user: User, current_password: str, new_password: str) -> str:
    """Change the password; every session ends and a new one starts for this browser."""
    if not verify_password(user.password_hash, current_password):
        raise AccountError(_l("The current password is not correct."))
    _set_password(user, new_password)
    record_event("auth.password_changed", actor=user, subject=user)
    queue_email(user.email, "password_changed", user.locale, _l("Your PressDesk password was changed"),
                user=user, reset_url=_external_url("auth.forgot_password"))
    return start_session(user)


def request_password_reset(email: str) -> None:
    """Mail a reset link when the account exists; the caller answers the same either way.

    For an unknown (or deactivated) address the same work is done, so that the answer's time
    tells nothing: a token made and hashed, the same statements on account_tokens (matching no
    row), an audit row, the mail rendered in both forms; only nothing is queued or stored to use.
    """
    user = find_user_by_email(email)
    if user is None or not user.active:
        _request_password_reset_for_nobody(email)
        return
    raw = issue_token(user, TokenPurpose.reset_password)
    record_event("auth.password_reset_requested", actor=user, subject=user)
    queue_email(user.email, "reset_password", user.locale, _l("Reset your PressDesk password"),
                user=user, reset_url=_external_url("auth.reset_password", token=raw),
                hours=current_app.config["PASSWORD_RESET_HOURS"])


def _request_password_reset_for_nobody(email: str) -> None:
    from types import SimpleNamespace

    from flask import render_template
    from flask_babel import force_locale, get_locale

    raw = secrets.token_urlsafe(32)
    digest = token_digest(raw)
    # issue_token's UPDATE, on no row; then a lookup by the digest (it cannot exist) instead of the INSERT.
    db.session.execute(sa.update(AccountToken).where(AccountToken.user_id == -1, AccountToken.used_at.is_(None))
                       .values(used_at=utcnow()))
    db.session.scalar(sa.select(AccountToken.id).where(AccountToken.token_hash == digest))
    record_event("auth.password_reset_requested", actor_email=normalise_email(email)[:254],
                 after={"account": False})
    nobody = SimpleNamespace(full_name=normalise_email(email), email=normalise_email(email), locale=str(get_locale()))
    context = {"user": nobody, "reset_url": _external_url("auth.reset_password", token=raw),
               "hours": current_app.config["PASSWORD_RESET_HOURS"], "attached": []}
    with force_locale(nobody.locale):
        subject = str(_l("Reset your PressDesk password"))
        render_template("email/reset_password.txt", **context)
        render_template("email/reset_password.html", subject=subject, **context)


def reset_password(raw_token: str, new_password: str, purpose: TokenPurpose = TokenPurpose.reset_password) -> User:
    """Set a password from an emailed link (reset, or a staff invitation)."""
    user = _consume_token(raw_token, purpose)
    _set_password(user, new_password)
    # Following a link sent to the address proves the address.
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
    action = "auth.password_reset" if purpose is TokenPurpose.reset_password else "account.invitation_accepted"
    record_event(action, actor=user, subject=user)
    _forget_failed_logins(user.email)  # the mailbox is proved: the login throttle lets the owner in
    return user


def set_locale(user: User, locale: str) -> None:
    if locale != user.locale:
        user.locale = locale
        db.session.flush()


# --- staff accounts (admin) ---------------------------------------------------

def create_staff_account(*, admin: User | None, email: str, full_name: str, role: Role, locale: str = "vi",
                         password: str | None = None) -> User:
    """An admin creates an officer, leader or admin account.

    Without a password the new colleague gets an invitation link to choose one;
    with one (the `flask users create` command) the account is ready at once.
    """
    if role not in STAFF_ROLES and password is None:
        raise AccountError(_l("Correspondents sign up themselves."))
    email = normalise_email(email)
    if find_user_by_email(email) is not None:
        raise AccountError(_l("An account with this email address already exists."))
    now = utcnow()
    user = User(email=email, full_name=full_name.strip(), role=role, locale=locale, email_confirmed_at=now,
                password_hash=hash_password(password) if password else None,
                password_changed_at=now if password else None)
    db.session.add(user)
    db.session.flush()
    record_event("account.created", actor=admin, subject=user,
                 after={"email": email, "role": role.name, "locale": locale})
    if password is None:
        raw = issue_token(user, TokenPurpose.invitation)
        queue_email(user.email, "invitation", user.locale, _l("Your PressDesk account"),
                    user=user, role=role, invitation_url=_external_url("auth.accept_invitation", token=raw),
                    days=current_app.config["ACCOUNT_INVITATION_HOURS"] // 24)
    return user


def _active_admin_count() -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(User).where(User.role == Role.admin, User.active.is_(True))
    )


def change_role(*, admin: User, user: User, role: Role) -> None:
    if role == user.role:
        return
    if user.role is Role.admin and _active_admin_count() <= 1:
        raise AccountError(_l("PressDesk needs at least one active administrator."))
    if (user.role is Role.correspondent) != (role is Role.correspondent):
        raise AccountError(_l("A correspondent account cannot become a staff account, nor the reverse."))
    before = {"role": user.role.name}
    user.role = role
    end_unused_links(user)
    record_event("account.role_changed", actor=admin, subject=user, before=before, after={"role": role.name})


def set_active(*, admin: User, user: User, active: bool) -> None:
    if active == user.active:
        return
    if not active and admin is not None and admin.id == user.id:
        raise AccountError(_l("You cannot deactivate your own account."))
    if not active and user.role is Role.admin and _active_admin_count() <= 1:
        raise AccountError(_l("PressDesk needs at least one active administrator."))
    user.active = active
    if not active:
        revoke_all_sessions(user)
        end_unused_links(user)
    record_event("account.activated" if active else "account.deactivated", actor=admin, subject=user,
                 before={"active": not active}, after={"active": active})
