"""Who may see and report which product: staff see all, a correspondent only their outlet's visits."""
from __future__ import annotations

from app.auth.models import Role, User
from app.registrations.models import IN_FORCE_STATUSES, Registration

REVIEWER_ROLES = frozenset({Role.officer, Role.leader})
REPORTABLE = frozenset(IN_FORCE_STATUSES)  # a visit in force or completed is reported on


def is_reviewer(user: User) -> bool:
    return user.is_authenticated and user.role in REVIEWER_ROLES


def can_view_product(user: User, product) -> bool:
    """Staff see every product; a correspondent only those linked to a registration of their outlet."""
    if is_reviewer(user):
        return True
    return (user.is_authenticated and user.role == Role.correspondent and product.registration is not None
            and user.outlet_id is not None and product.registration.outlet_id == user.outlet_id)


def can_report_on(user: User, registration: Registration) -> bool:
    return (user.is_authenticated and user.role == Role.correspondent and user.outlet_id is not None
            and registration.outlet_id == user.outlet_id and registration.status in REPORTABLE)
