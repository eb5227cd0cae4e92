"""Every transition of DESIGN.md section 4, for every role, in every state.

The expected table is written out here by hand from DESIGN.md, not read from the
application's own rule table, so that a wrong rule in the application fails.
"""
from __future__ import annotations

import pytest

from app.auth.models import Role, User
from app.extensions import db as app_db
from app.registrations import consultations, service
from app.reference.models import BodyKind
from app.registrations.models import Proposal, Registration, RegistrationKind, Status
from tests.support import escort_officer

OWNER, OTHER, OFFICER, LEADER, ADMIN = "owner", "other correspondent", "officer", "leader", "admin"
ALL_ROLES = (OWNER, OTHER, OFFICER, LEADER, ADMIN)
S = Status

# action -> {state it may start from: roles that may do it}; every other pair must be refused.
EXPECTED = {
    "edit": {S.draft: {OWNER}, S.needs_info: {OWNER}},
    "submit": {S.draft: {OWNER}},
    "resubmit": {S.needs_info: {OWNER}},
    "withdraw": {S.draft: {OWNER}, S.submitted: {OWNER}, S.needs_info: {OWNER}},
    "amend": {S.approved: {OWNER}},
    "message": {state: {OWNER, OFFICER, LEADER} for state in (S.submitted, S.in_review, S.needs_info, S.approved)},
    "assign": {state: {OFFICER, LEADER} for state in (S.submitted, S.in_review, S.needs_info)},
    "request_info": {S.in_review: {OFFICER, LEADER}},
    "consult": {S.in_review: {OFFICER, LEADER}, S.needs_info: {OFFICER, LEADER}},
    "draft": {S.in_review: {OFFICER}},
    "propose": {S.in_review: {OFFICER}},
    "return": {S.in_review: {LEADER}},
    "preview": {S.in_review: {OFFICER, LEADER}},
    "approve": {S.in_review: {LEADER}},
    "refuse": {S.in_review: {LEADER}},
    "revoke": {S.approved: {OFFICER, LEADER}},
    "complete": {S.approved: {OFFICER, LEADER}},
}

# The state an allowed action leaves the registration in (None: unchanged).
RESULT = {"edit": None, "submit": S.submitted, "resubmit": S.submitted, "withdraw": S.withdrawn, "amend": None,
          "message": None, "assign": "assign", "request_info": S.needs_info, "consult": None, "draft": None,
          "propose": None, "return": None, "preview": None,
          "approve": S.approved, "refuse": S.refused, "revoke": S.revoked, "complete": S.completed}


def with_proposal(registration: Registration, proposal: Proposal, officer: User) -> None:
    """A complete draft waiting for the leader, put directly on the registration (whatever its state),
    so that approve, refuse and return are refused for the state or the role, never for a missing draft."""
    escort = escort_officer()
    registration.summary_vi, registration.summary_en = "Phóng sự về nông nghiệp.", "A report on farming."
    registration.request_date = service.local_today()
    registration.escort_officer_id, registration.escort_name, registration.escort_phone = (
        escort.id, escort.full_name, escort.phone)
    registration.refusal_reasons, registration.refusal_reasons_en = "Trùng lịch.", "Dates overlap an event."
    registration.proposed_decision, registration.proposed_by_id = proposal, officer.id
    app_db.session.flush()


def draft_decision(proposal: Proposal = Proposal.approve) -> service.DraftDecision:
    return service.DraftDecision(proposal=proposal, summary_vi="Phóng sự về nông nghiệp.",
                                 summary_en="A report on farming.", request_date=service.local_today(),
                                 escort_officer_id=escort_officer().id, note="Fine")


def preview(actor: User, registration: Registration):
    """What the preview route does: the rule, then the draft letter (nothing stored)."""
    from app.documents.service import render_preview

    service._check(actor, "preview", registration)
    assert render_preview(registration, "approval_letter", None).startswith(b"%PDF-")


def perform(action: str, actor: User, registration: Registration, officer: User):
    if action == "edit":
        draft = service.DraftData(kind=registration.kind, purpose="Changed purpose",
                                  crew_member_ids=[member.id for member in registration.crew_members])
        return service.save_draft(actor, registration, draft, None)
    if action in ("approve", "return"):
        with_proposal(registration, Proposal.approve, officer)
    if action == "refuse":
        with_proposal(registration, Proposal.refuse, officer)
    calls = {
        "submit": lambda: service.submit(actor, registration, None),
        "resubmit": lambda: service.resubmit(actor, registration, None),
        "withdraw": lambda: service.withdraw(actor, registration, None),
        "amend": lambda: service.amend(actor, registration, None),
        # The owner reads English (the factory's default): staff write the English text.
        "message": lambda: service.post_message(actor, registration, "Xin chào", body_en="Hello"),
        "assign": lambda: service.assign(actor, registration, officer, None),
        "request_info": lambda: service.request_information(actor, registration, "Trang 2 hộ chiếu?", None,
                                                            body_en="Passport page 2?"),
        "consult": lambda: consultations.record_consultation(actor, registration,
                                                             consultations.default_body(BodyKind.police), ""),
        "draft": lambda: service.save_draft_decision(actor, registration, draft_decision(), None),
        "propose": lambda: service.propose_decision(actor, registration, draft_decision(), None),
        "return": lambda: service.return_to_officer(actor, registration, "Add the escort's title.", None),
        "preview": lambda: preview(actor, registration),
        "approve": lambda: service.approve(actor, registration, None),
        "refuse": lambda: service.refuse(actor, registration, None),
        "revoke": lambda: service.revoke(actor, registration, reason="Filming outside the programme.",
                                         expected_version=None),
        "complete": lambda: service.complete(actor, registration, None),
    }
    return calls[action]()


@pytest.mark.parametrize("state", list(Status), ids=lambda state: state.name)
@pytest.mark.parametrize("action", list(EXPECTED))
def test_transition_table(app, make_user, make_registration, action, state):
    officer = make_user(Role.officer)
    leader = make_user(Role.leader)
    admin = make_user(Role.admin)
    other = make_user(Role.correspondent)
    # `complete` needs a programme that has ended; everything else one that has not started.
    start = -10 if action == "complete" else 20
    outcomes = {}
    for role in ALL_ROLES:
        registration, owner = make_registration(state, start_in_days=start)
        if role == OTHER and other.outlet_id is None:
            make_registration(Status.draft, correspondent=other)  # gives `other` an outlet of its own
        actor_id = {OWNER: owner.id, OTHER: other.id, OFFICER: officer.id, LEADER: leader.id, ADMIN: admin.id}[role]
        with app.test_request_context():
            actor = app_db.session.get(User, actor_id)
            fresh = app_db.session.get(Registration, registration.id)
            try:
                perform(action, actor, fresh, app_db.session.get(User, officer.id))
            except service.NotAllowed:
                outcomes[role] = "forbidden"
                app_db.session.rollback()
            except service.RegistrationError:
                outcomes[role] = "refused"
                app_db.session.rollback()
            else:
                app_db.session.commit()
                outcomes[role] = "done"
                expected_state = RESULT[action]
                if expected_state == "assign":
                    expected_state = Status.in_review if state is Status.submitted else state
                app_db.session.refresh(fresh)
                assert fresh.status is (expected_state or state), (role, action, state)
            app_db.session.remove()
    allowed_roles = EXPECTED[action].get(state, set())
    for role in ALL_ROLES:
        if role in allowed_roles:
            assert outcomes[role] == "done", (action, state.name, role, outcomes[role])
        elif role in (OTHER, ADMIN) or not any(role in roles for roles in EXPECTED[action].values()) \
                or (state is Status.draft and role in (OFFICER, LEADER)):
            # No right to this action at all, or no right to this registration (another outlet's, or a
            # draft never submitted, which staff do not see): 403/404.
            assert outcomes[role] == "forbidden", (action, state.name, role, outcomes[role])
        else:
            # The right role in the wrong state: a clear 409, never a 500.
            assert outcomes[role] in ("refused", "forbidden"), (action, state.name, role, outcomes[role])
            assert outcomes[role] == "refused", (action, state.name, role, outcomes[role])


def test_resident_registration_follows_the_same_rules(app, make_user, make_registration):
    registration, owner = make_registration(Status.draft, kind=RegistrationKind.resident)
    with app.test_request_context():
        actor = app_db.session.get(User, owner.id)
        service.submit(actor, app_db.session.get(Registration, registration.id), None)
        app_db.session.commit()
        assert app_db.session.get(Registration, registration.id).status is Status.submitted
