"""Two staff at once: exactly one wins. References stay unique under load."""
from __future__ import annotations

import os
import threading

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.auth.models import Role, User
from app.documents.models import DocumentKind, IssuedDocument
from app.extensions import db as app_db
from app.registrations import service
from app.registrations.models import Registration, RegistrationKind, Status
from tests.support import propose


def run_together(workers):
    """Start the callables at the same moment; return what each returned or raised."""
    start = threading.Barrier(len(workers), timeout=30)
    results = [None] * len(workers)

    def run(index, work):
        start.wait()
        try:
            results[index] = work()
        except Exception as error:  # recorded for the assertions
            results[index] = error

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def decider(app, registration_id, leader_id, action, expected_version, loaded):
    """A leader's request that reads the registration, waits for the others to read too, then decides on
    the officer's proposal: "approve" it as drafted, or "return" it to the officer."""
    def work():
        with app.test_request_context():
            try:
                actor = app_db.session.get(User, leader_id)
                current = app_db.session.get(Registration, registration_id)
                loaded.wait()  # every worker has read the same version before any writes
                if action == "approve":
                    service.approve(actor, current, expected_version)
                else:
                    service.return_to_officer(actor, current, "Check the escort.", expected_version)
                app_db.session.commit()
                return "won"
            except service.ConflictError:
                app_db.session.rollback()
                return "conflict"
            finally:
                app_db.session.remove()
    return work


def proposed(app, db, make_user, make_registration):
    """A registration in review with the officer's approval proposal waiting for the leaders."""
    registration, _ = make_registration(Status.in_review)
    officer = make_user(Role.officer)
    with app.test_request_context():
        propose(app_db.session.get(Registration, registration.id), app_db.session.get(User, officer.id))
        app_db.session.commit()
        app_db.session.remove()
    return db.session.get(Registration, registration.id)


def approval_letters(db, registration_id) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(IssuedDocument).where(
        IssuedDocument.registration_id == registration_id, IssuedDocument.kind == DocumentKind.approval_letter))


ON_POSTGRESQL = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"),
    reason="two transactions open at once: PostgreSQL only (SQLite's BEGIN IMMEDIATE runs them one after the "
           "other, and a stale page is covered by test_a_stale_form_gets_a_conflict_and_changes_nothing)")


@ON_POSTGRESQL
def test_two_leaders_deciding_at_once_exactly_one_wins(app, db, make_user, make_registration):
    registration = proposed(app, db, make_user, make_registration)
    leaders = [make_user(Role.leader), make_user(Role.leader)]
    seen_version = registration.version
    loaded = threading.Barrier(2, timeout=30)

    results = run_together([decider(app, registration.id, leaders[0].id, "approve", seen_version, loaded),
                            decider(app, registration.id, leaders[1].id, "return", seen_version, loaded)])
    assert sorted(results) == ["conflict", "won"], results
    stored = db.session.get(Registration, registration.id)
    approved = stored.status is Status.approved
    assert approved or (stored.status is Status.in_review and stored.returned and stored.proposed_decision is None)
    assert approval_letters(db, registration.id) == (1 if approved else 0)
    decisions = db.session.scalars(sa.select(AuditEvent.action).where(
        AuditEvent.action.in_(["registration.approve", "registration.return"]))).all()
    assert len(decisions) == 1


@ON_POSTGRESQL
def test_many_officers_assigning_at_once(app, db, make_user, make_registration):
    """The same page, six clicks at once: one assignment, five conflicts, nothing half-saved."""
    registration, _ = make_registration(Status.submitted)
    officers = [make_user(Role.officer) for _ in range(6)]
    seen_version = registration.version
    loaded = threading.Barrier(len(officers), timeout=30)

    def assign(officer_id):
        def work():
            with app.test_request_context():
                try:
                    actor = app_db.session.get(User, officer_id)
                    current = app_db.session.get(Registration, registration.id)
                    loaded.wait()
                    service.assign(actor, current, actor, seen_version)
                    app_db.session.commit()
                    return officer_id
                except service.ConflictError:
                    app_db.session.rollback()
                    return "conflict"
                finally:
                    app_db.session.remove()
        return work

    results = run_together([assign(officer.id) for officer in officers])
    winners = [result for result in results if result != "conflict"]
    assert len(winners) == 1 and results.count("conflict") == 5, results
    stored = db.session.get(Registration, registration.id)
    assert stored.assigned_officer_id == winners[0] and stored.status is Status.in_review


def test_references_are_unique_when_created_at_once(app, db, make_user, make_outlet):
    correspondents = [make_user(Role.correspondent) for _ in range(8)]
    for correspondent in correspondents:
        make_outlet(correspondents=[correspondent], name=f"Outlet {correspondent.id}")

    def create(user_id):
        def work():
            with app.test_request_context():
                try:
                    registration = service.create_draft(app_db.session.get(User, user_id),
                                                        RegistrationKind.non_resident)
                    app_db.session.commit()
                    return registration.reference
                finally:
                    app_db.session.remove()
        return work

    references = run_together([create(user.id) for user in correspondents])
    assert all(isinstance(reference, str) for reference in references), references
    assert len(set(references)) == 8
    numbers = sorted(int(reference.rsplit("-", 1)[1]) for reference in references)
    assert numbers == list(range(1, 9))


@ON_POSTGRESQL
def test_on_postgresql_the_loser_waits_for_the_row_lock_then_conflicts(app, db, make_user, make_registration):
    """Without the version check in Python (no expected version given), the database's own
    versioned UPDATE still refuses the second writer: the documents are issued once."""
    registration = proposed(app, db, make_user, make_registration)
    leader = make_user(Role.leader)
    loaded = threading.Barrier(2, timeout=30)

    workers = [decider(app, registration.id, leader.id, "approve", None, loaded) for _ in range(2)]
    assert sorted(run_together(workers)) == ["conflict", "won"]
    assert db.session.get(Registration, registration.id).status is Status.approved
    assert approval_letters(db, registration.id) == 1
