"""Who may do what: the one place where role checks live."""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required  # noqa: F401  (re-exported)

from app.auth.models import Role


def roles_required(*roles: Role):
    """Logged in (else to the login page) and holding one of `roles` (else 403)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def staff_required(view):
    return roles_required(Role.officer, Role.leader, Role.admin)(view)


def admin_required(view):
    return roles_required(Role.admin)(view)
