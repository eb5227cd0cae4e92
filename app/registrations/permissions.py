"""Who may do what to a registration, in which state: the one table the routes and service read."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from app.auth.models import Role
from app.registrations.models import Registration, Status

CORRESPONDENT = frozenset({Role.correspondent})
REVIEWERS = frozenset({Role.officer, Role.leader})
LEADER = frozenset({Role.leader})
OPEN = frozenset({Status.submitted, Status.in_review, Status.needs_info})


@dataclass(frozen=True)
class Rule:
    roles: frozenset
    states: frozenset


RULES: dict[str, Rule] = {
    "edit": Rule(CORRESPONDENT, frozenset({Status.draft, Status.needs_info})),
    "submit": Rule(CORRESPONDENT, frozenset({Status.draft})),
    "resubmit": Rule(CORRESPONDENT, frozenset({Status.needs_info})),
    "withdraw": Rule(CORRESPONDENT, frozenset({Status.draft, Status.submitted, Status.needs_info})),
    "amend": Rule(CORRESPONDENT, frozenset({Status.approved})),
    # A new draft from an earlier registration, whatever became of it (not from a draft: edit that).
    "duplicate": Rule(CORRESPONDENT, frozenset(Status) - {Status.draft}),
    "message": Rule(CORRESPONDENT | REVIEWERS, OPEN | {Status.approved}),
    "assign": Rule(REVIEWERS, OPEN),
    "request_info": Rule(REVIEWERS, frozenset({Status.in_review})),
    "consult": Rule(REVIEWERS, frozenset({Status.in_review, Status.needs_info})),
    "draft": Rule(frozenset({Role.officer}), frozenset({Status.in_review})),
    "propose": Rule(frozenset({Role.officer}), frozenset({Status.in_review})),
    "return": Rule(LEADER, frozenset({Status.in_review})),
    "preview": Rule(REVIEWERS, frozenset({Status.in_review})),
    "approve": Rule(LEADER, frozenset({Status.in_review})),
    "refuse": Rule(LEADER, frozenset({Status.in_review})),
    "revoke": Rule(REVIEWERS, frozenset({Status.approved})),
    "complete": Rule(REVIEWERS, frozenset({Status.approved})),
}

ACTION_NAMES = {
    "edit": _l("edit"), "submit": _l("submit"), "resubmit": _l("resubmit"), "withdraw": _l("withdraw"),
    "amend": _l("ask for an amendment"), "duplicate": _l("duplicate"), "message": _l("send a message"), "assign": _l("assign"),
    "request_info": _l("request information"), "consult": _l("record a consultation"),
    "draft": _l("draft the decision"), "propose": _l("propose a decision"),
    "return": _l("return to the officer"), "preview": _l("preview the documents"), "approve": _l("approve"), "refuse": _l("refuse"),
    "revoke": _l("revoke"), "complete": _l("mark as completed"),
}


def can_view(user, registration: Registration) -> bool:
    """Staff who review see every registration once it was submitted; a correspondent sees only their outlet's.

    A draft never submitted (a new one, an amendment being written, one withdrawn before sending) is
    the correspondent's own work: staff get a 404 for it and its files, as for another outlet's.
    """
    if not user.is_authenticated:
        return False
    if user.role in REVIEWERS:
        return registration.first_submitted_at is not None
    return user.role is Role.correspondent and user.outlet_id is not None \
        and user.outlet_id == registration.outlet_id


def role_may(user, action: str) -> bool:
    return user.is_authenticated and user.role in RULES[action].roles


def allowed_actions(user, registration: Registration) -> set[str]:
    """The actions this user may take on this registration now (for the page's buttons)."""
    if not can_view(user, registration):
        return set()
    return {action for action, rule in RULES.items()
            if user.role in rule.roles and registration.status in rule.states}
