"""Administrators: staff accounts, roles, activation, the audit list."""
from __future__ import annotations

import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.auth.models import Role, User
from tests.support import link_in, login, post_form

PASSWORD = "mekong delta at dawn"


def admin_client(client, make_user, locale="en"):
    admin = make_user(Role.admin, locale=locale)
    login(client, admin.email)
    return admin


def test_admin_creates_an_officer_who_accepts_the_invitation(app, client, db, mailbox, make_user):
    admin = admin_client(client, make_user)
    response = post_form(client, "/admin/users/new", {"full_name": "Nguyễn Thị Chuyên Viên",
                                                      "email": "Chuyenvien@Example.vn", "role": "officer",
                                                      "locale": "vi"}, follow_redirects=True)
    assert "An invitation to choose a password was sent to chuyenvien@example.vn" in response.get_data(as_text=True)
    officer = db.session.scalar(sa.select(User).where(User.email == "chuyenvien@example.vn"))
    assert officer.role is Role.officer and officer.password_hash is None and officer.locale == "vi"
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "account.created"))
    assert event.actor_id == admin.id and event.after == {"email": "chuyenvien@example.vn", "role": "officer",
                                                          "locale": "vi"}

    [message] = mailbox.to("chuyenvien@example.vn")
    path = link_in(mailbox.text(message), "/invitation/")
    newcomer = app.test_client()
    assert "chuyenvien@example.vn" in newcomer.get(path).get_data(as_text=True)
    assert post_form(newcomer, path, {"password": PASSWORD, "password_again": PASSWORD}).status_code == 302
    assert login(newcomer, "chuyenvien@example.vn", PASSWORD).status_code == 302
    assert "Chuyên viên" in newcomer.get("/account").get_data(as_text=True)


def test_staff_account_with_an_existing_email_is_refused(client, db, make_user):
    admin_client(client, make_user)
    existing = make_user(Role.officer)
    response = post_form(client, "/admin/users/new", {"full_name": "Someone", "email": existing.email,
                                                      "role": "leader", "locale": "vi"})
    assert response.status_code == 200
    assert "An account with this email address already exists." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 2


def test_admin_cannot_create_a_correspondent_through_the_staff_form(client, db, make_user):
    admin_client(client, make_user)
    response = post_form(client, "/admin/users/new", {"full_name": "X", "email": "x@example.org",
                                                      "role": "correspondent", "locale": "en"})
    assert "Not a valid choice" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_role_change_is_audited_with_before_and_after(client, db, make_user):
    admin = admin_client(client, make_user)
    officer = make_user(Role.officer)
    response = post_form(client, f"/admin/users/{officer.id}/role", {"role": "leader"},
                         page=f"/admin/users/{officer.id}")
    assert response.status_code == 302
    assert db.session.get(User, officer.id).role is Role.leader
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "account.role_changed"))
    assert (event.actor_id, event.object_type, event.object_id) == (admin.id, "users", str(officer.id))
    assert (event.before, event.after) == ({"role": "officer"}, {"role": "leader"})


def test_a_role_change_applies_to_the_next_request(app, client, make_user):
    admin_client(client, make_user)
    officer = make_user(Role.officer)
    officer_browser = app.test_client()
    login(officer_browser, officer.email)
    assert officer_browser.get("/admin/users").status_code == 403
    post_form(client, f"/admin/users/{officer.id}/role", {"role": "admin"}, page=f"/admin/users/{officer.id}")
    assert officer_browser.get("/admin/users").status_code == 200


def test_the_last_admin_cannot_be_demoted_or_deactivated(client, db, make_user):
    admin = admin_client(client, make_user)
    response = post_form(client, f"/admin/users/{admin.id}/role", {"role": "officer"}, page=f"/admin/users/{admin.id}")
    assert response.status_code == 409
    assert "at least one active administrator" in response.get_data(as_text=True)
    response = post_form(client, f"/admin/users/{admin.id}/active", page=f"/admin/users/{admin.id}")
    assert response.status_code == 409
    stored = db.session.get(User, admin.id)
    assert stored.role is Role.admin and stored.active


def test_a_correspondent_cannot_be_made_staff(client, db, make_user):
    admin_client(client, make_user)
    correspondent = make_user(Role.correspondent)
    response = post_form(client, f"/admin/users/{correspondent.id}/role", {"role": "officer"},
                         page=f"/admin/users/{correspondent.id}")
    assert response.status_code == 409
    assert db.session.get(User, correspondent.id).role is Role.correspondent


def test_unknown_user_is_404(client, make_user):
    admin_client(client, make_user)
    assert client.get("/admin/users/99999").status_code == 404
    assert post_form(client, "/admin/users/99999/role", {"role": "officer"}, page="/admin/users").status_code == 404


def test_users_list_filters_by_role(client, make_user):
    admin_client(client, make_user)
    make_user(Role.officer, full_name="Officer Olga")
    make_user(Role.correspondent, full_name="Reporter Rita")
    body = client.get("/admin/users?role=officer").get_data(as_text=True)
    assert "Officer Olga" in body and "Reporter Rita" not in body
    body = client.get("/admin/users").get_data(as_text=True)
    assert "Officer Olga" in body and "Reporter Rita" in body


def test_audit_list_filters(client, db, make_user):
    admin = admin_client(client, make_user)
    victim = make_user(Role.officer, email="victim@example.org")
    login(client.application.test_client(), victim.email, "wrong password x")
    body = client.get("/admin/audit/?action=auth.login_failed").get_data(as_text=True)
    assert "victim@example.org" in body and "Failed login" in body
    assert admin.email not in body
    body = client.get("/admin/audit/?actor=victim").get_data(as_text=True)
    assert "victim@example.org" in body and admin.email not in body
    body = client.get("/admin/audit/?date_from=2000-01-01&date_to=2000-01-02").get_data(as_text=True)
    assert "No events match." in body
    # A malformed date is a form error, not a 500.
    response = client.get("/admin/audit/?date_from=not-a-date")
    assert response.status_code == 200


def test_audit_events_never_hold_secrets(client, db, mailbox, make_user):
    user = make_user()
    post_form(client, "/forgot-password", {"email": user.email})
    login(client, user.email)
    for event in db.session.scalars(sa.select(AuditEvent)):
        for values in (event.before or {}, event.after or {}):
            assert not {"password", "password_hash", "token", "token_hash"} & set(values)
    text = " ".join(str((event.before, event.after)) for event in db.session.scalars(sa.select(AuditEvent)))
    assert "scrypt" not in text


def test_an_admin_cannot_deactivate_their_own_account(client, db, make_user):
    admin = admin_client(client, make_user)
    make_user(Role.admin)  # another admin exists, so this is not about the last one
    response = post_form(client, f"/admin/users/{admin.id}/active", page=f"/admin/users/{admin.id}")
    assert response.status_code == 409
    assert "You cannot deactivate your own account." in response.get_data(as_text=True)
    assert db.session.get(User, admin.id).active
