"""Translated names of roles, for pages and emails."""
from flask_babel import lazy_gettext as _l

from app.auth.models import Role

ROLE_LABELS = {
    Role.correspondent: _l("Correspondent"),
    Role.officer: _l("Officer"),
    Role.leader: _l("Leader (signs decisions)"),
    Role.admin: _l("Administrator"),
}


def role_label(role: Role) -> str:
    return str(ROLE_LABELS[role])
