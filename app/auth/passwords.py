"""Password hashing and the password policy: length and not common, no composition rules."""
from __future__ import annotations

from functools import lru_cache

from flask import current_app
from flask_babel import lazy_gettext as _l
from werkzeug.security import check_password_hash, generate_password_hash

# Words that a Vietnamese provincial user or an attacker guessing here would try
# first, beyond the general list of common passwords that zxcvbn carries.
LOCAL_COMMON_PASSWORDS = {
    "matkhau", "matkhau1", "matkhau123", "anhyeuem", "emyeuanh", "vietnam", "vietnam1",
    "vietnam123", "hanoi123", "saigon123", "pressdesk", "pressdesk1", "pressdesk123",
    "ubndtinh", "admin123", "password1", "qwertyuiop", "12345678", "123456789",
}

# One maximum on every form that takes a password (sign-up, login, reset, invitation, change): a
# password the account page accepts can always be typed at the login form.
PASSWORD_MAX_LENGTH = 1000

# A hash of a random password: verifying against it costs what a real check costs,
# so an unknown email answers as slowly as a wrong password.
_DUMMY_HASH = None


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def verify_password(password_hash: str | None, password: str) -> bool:
    global _DUMMY_HASH
    if password_hash is None:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = hash_password("not-a-real-password-4b1d")
        check_password_hash(_DUMMY_HASH, password)
        return False
    return check_password_hash(password_hash, password)


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"]) | LOCAL_COMMON_PASSWORDS


def password_problems(password: str, *, email: str = "", full_name: str = "") -> list[str]:
    """What is wrong with a new password, as translated messages; empty when it is acceptable."""
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < minimum:
        return [str(_l("Use at least %(count)d characters.", count=minimum))]
    if len(password) > PASSWORD_MAX_LENGTH:
        return [str(_l("Use at most %(count)d characters.", count=PASSWORD_MAX_LENGTH))]
    lowered = password.lower()
    personal = {email.lower(), email.lower().split("@")[0], full_name.lower().replace(" ", "")} - {""}
    if lowered in _common_passwords() or lowered in personal:
        return [str(_l("This password is too common or too easy to guess. Choose another one."))]
    if len(set(lowered)) < 3:
        return [str(_l("This password repeats too few characters. Choose another one."))]
    return []
