"""Commands: `flask users create`, `flask demo load`."""
from __future__ import annotations

import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.auth.models import Role, User
from app.outbox.models import OutboxMessage
from app.places.models import Place
from app.registrations.models import Registration, Status
from tests.support import login

PASSWORD = "mekong delta at dawn"


def test_users_create_makes_an_account_that_logs_in(runner, client, db):
    result = runner.invoke(args=["users", "create", "--email", "Leader@Example.vn", "--name", "Trần Lãnh Đạo",
                                 "--role", "leader"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "Created leader account leader@example.vn." in result.output
    user = db.session.scalar(sa.select(User))
    assert (user.role, user.locale, user.email_confirmed_at is not None) == (Role.leader, "vi", True)
    assert db.session.scalar(sa.select(AuditEvent.action)) == "account.created"
    assert login(client, "leader@example.vn", PASSWORD).status_code == 302


def test_users_create_refuses_a_weak_password_and_a_duplicate(runner, db):
    result = runner.invoke(args=["users", "create", "--email", "a@example.vn", "--name", "A", "--role", "admin",
                                 "--password", "12345678"])
    assert result.exit_code != 0 and "too common" in result.output
    runner.invoke(args=["users", "create", "--email", "a@example.vn", "--name", "A", "--role", "admin",
                        "--password", PASSWORD])
    result = runner.invoke(args=["users", "create", "--email", "A@example.vn", "--name", "A", "--role", "officer",
                                 "--password", PASSWORD])
    assert result.exit_code != 0 and "already exists" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_demo_load_is_refused_outside_development(runner, db):
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code != 0 and "refusing outside development" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_demo_load_creates_marked_data_once(app, runner, client, db):
    app.config["ENV_NAME"] = "development"
    result = runner.invoke(args=["demo", "load", "--if-empty"])
    assert result.exit_code == 0, result.output
    for email in ("correspondent@example.org", "officer@example.org", "leader@example.org", "admin@example.org"):
        assert email in result.output
    assert "pressdesk-demo" in result.output
    users = db.session.scalars(sa.select(User)).all()
    assert {user.role for user in users} == set(Role)
    # A realistic queue: registrations in every state, and no demo mail waiting to go out.
    assert {registration.status for registration in db.session.scalars(sa.select(Registration))} == set(Status)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0
    assert all("DEMO" in user.full_name for user in users)
    places = db.session.scalars(sa.select(Place)).all()
    assert len(places) >= 10 and any(place.border_area and place.border_country == "KH" for place in places)
    assert all(place.code.startswith("DEMO-") for place in places)
    # Again: nothing is added, with or without --if-empty.
    again = runner.invoke(args=["demo", "load", "--if-empty"]).output
    assert "already has data" in again and "Note:" not in again
    # Served on another address (make run PORT=5055), the printed permits still point at the first one.
    app.config["BASE_URL"] = "http://127.0.0.1:5055"
    moved = runner.invoke(args=["demo", "load", "--if-empty"]).output
    assert "the DEMO permits were issued for http://localhost" in moved and "make demo-reset" in moved
    users_before = db.session.scalar(sa.select(sa.func.count()).select_from(User))
    registrations_before = db.session.scalar(sa.select(sa.func.count()).select_from(Registration))
    runner.invoke(args=["demo", "load"])
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == users_before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Registration)) == registrations_before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Place)) == len(places)
    assert login(client, "officer@example.org", "pressdesk-demo").status_code == 302
