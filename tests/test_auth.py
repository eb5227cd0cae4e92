"""Sign-up, confirmation, login, logout, passwords: what a user sees and what is stored."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.auth.models import AccountToken, Role, TokenPurpose, User
from app.db import utcnow
from tests.conftest import TEST_PASSWORD
from tests.support import csrf_token, link_in, login, logout, post_form

NEW_PASSWORD = "mekong delta at dawn"


def audit_actions(db) -> list[str]:
    return list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


def signup(client, email="reporter@example.com", password=NEW_PASSWORD, locale="en", name="Jane Reporter"):
    return post_form(client, "/signup", {"full_name": name, "email": email, "password": password,
                                         "password_again": password, "locale": locale, "privacy_consent": "y"})


def test_signup_confirm_and_login(client, db, mailbox):
    response = signup(client)
    assert response.status_code == 200
    assert "Check your email" in response.get_data(as_text=True)
    user = db.session.scalar(sa.select(User).where(User.email == "reporter@example.com"))
    assert user.role is Role.correspondent and user.email_confirmed_at is None
    assert user.password_hash.startswith("scrypt:")

    # Not confirmed yet: the right password still does not let them in.
    response = login(client, "reporter@example.com", NEW_PASSWORD)
    assert "Please confirm your email address first" in response.get_data(as_text=True)

    [message] = mailbox.to("reporter@example.com")
    assert message["Subject"] == "Confirm your email address for PressDesk"
    path = link_in(mailbox.text(message), "/confirm/")
    assert path in mailbox.html(message)
    # Opening the link changes nothing (mail scanners open links); the button does.
    assert "Confirm my email address" in client.get(path).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user.id).email_confirmed_at is None
    response = post_form(client, path, follow_redirects=True)
    assert "your email address is confirmed" in response.get_data(as_text=True)
    # The link works once.
    assert client.get(path).status_code == 400

    response = login(client, "reporter@example.com", NEW_PASSWORD)
    assert response.status_code == 302 and response.location == "/"
    assert "You are logged in as Jane Reporter" in client.get("/").get_data(as_text=True)
    assert audit_actions(db) == ["account.signup", "privacy.consent_given", "auth.login_failed",
                                 "account.email_confirmed", "auth.login"]


def test_signup_with_an_existing_address_answers_the_same_and_warns_the_owner(client, db, mailbox, make_user):
    owner = make_user(email="taken@example.com")
    response = signup(client, email="Taken@Example.com")
    assert "Check your email" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1
    [message] = mailbox.to("taken@example.com")
    assert "already has an account" in mailbox.text(message)
    assert owner.email == "taken@example.com"


@pytest.mark.parametrize("password, message", [
    ("short", "Use at least 8 characters."),
    ("password", "too common"),
    ("12345678", "too common"),
    ("iloveyou", "too common"),
    ("matkhau123", "too common"),
    ("aaaaaaaaaaaa", "repeats too few characters"),
    ("reporter", "too common or too easy to guess"),  # the email's local part
])
def test_signup_refuses_weak_passwords(client, db, password, message):
    response = signup(client, email="reporter@example.com", password=password)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_long_passphrase_without_composition_rules_is_accepted(client, db):
    signup(client, password="lanterns over hoi an river")
    assert db.session.scalar(sa.select(User.email)) == "reporter@example.com"


def test_unknown_email_and_wrong_password_get_the_same_answer(client, db, make_user):
    user = make_user()
    unknown = login(client, "nobody@example.org", TEST_PASSWORD)
    wrong = login(client, user.email, "not the password at all")
    for response in (unknown, wrong):
        assert response.status_code == 200
        assert "The email address or password is not correct." in response.get_data(as_text=True)
    failures = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "auth.login_failed")).all()
    assert [event.actor_email for event in failures] == ["nobody@example.org", user.email]
    assert all(event.ip_address == "127.0.0.1" for event in failures)


def test_deactivated_account_cannot_log_in(client, make_user):
    user = make_user(active=False)
    response = login(client, user.email)
    assert "The email address or password is not correct." in response.get_data(as_text=True)


def test_logout_is_post_only_and_audited(client, db, make_user):
    user = make_user()
    login(client, user.email)
    assert client.get("/logout").status_code == 405
    response = logout(client)
    assert response.status_code == 302
    assert "Log in" in client.get("/").get_data(as_text=True)
    assert audit_actions(db)[-2:] == ["auth.login", "auth.logout"]


def test_change_password(client, db, mailbox, make_user):
    user = make_user()
    login(client, user.email)
    response = post_form(client, "/account", {"current_password": "wrong one here",
                                              "password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
    assert "The current password is not correct." in response.get_data(as_text=True)
    response = post_form(client, "/account", {"current_password": TEST_PASSWORD,
                                              "password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
                         follow_redirects=True)
    assert "Your password is changed" in response.get_data(as_text=True)
    # Still logged in in this browser, with a new session.
    assert client.get("/account").status_code == 200
    [message] = mailbox.to(user.email)
    assert message["Subject"] == "Your PressDesk password was changed"
    logout(client)
    assert "not correct" in login(client, user.email, TEST_PASSWORD).get_data(as_text=True)
    assert login(client, user.email, NEW_PASSWORD).status_code == 302
    assert "auth.password_changed" in audit_actions(db)


def request_reset(client, mailbox, email):
    response = post_form(client, "/forgot-password", {"email": email})
    assert "If %s belongs to an account" % email in response.get_data(as_text=True)
    [message] = mailbox.to(email)
    return link_in(mailbox.text(message), "/reset-password/")


def test_password_reset_works_once(client, db, mailbox, make_user):
    user = make_user()
    path = request_reset(client, mailbox, user.email)
    response = post_form(client, path, {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
    assert response.status_code == 302
    assert login(client, user.email, NEW_PASSWORD).status_code == 302
    logout(client)
    # Used once: the same link is refused, on GET and on POST.
    assert client.get(path).status_code == 400
    response = client.post(path, data={"password": "another passphrase", "password_again": "another passphrase"})
    assert response.status_code == 400


def test_password_reset_for_an_unknown_email_answers_the_same_and_sends_nothing(client, mailbox):
    response = post_form(client, "/forgot-password", {"email": "nobody@example.org"})
    assert "If nobody@example.org belongs to an account" in response.get_data(as_text=True)
    assert mailbox.messages == []


def test_password_reset_link_expires(client, db, mailbox, make_user):
    user = make_user()
    path = request_reset(client, mailbox, user.email)
    db.session.execute(sa.update(AccountToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert client.get(path).status_code == 400
    response = post_form(client, path, {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD}, page="/login")
    assert response.status_code == 400
    assert "has expired" in response.get_data(as_text=True)


def test_a_newer_reset_link_replaces_the_older(client, mailbox, make_user):
    user = make_user()
    first = request_reset(client, mailbox, user.email)
    mailbox.clear()
    second = request_reset(client, mailbox, user.email)
    assert client.get(first).status_code == 400
    assert client.get(second).status_code == 200


def test_links_are_tied_to_their_purpose(client, db, mailbox):
    signup(client)
    confirm_path = link_in(mailbox.text(mailbox.messages[0]), "/confirm/")
    token = confirm_path.rsplit("/", 1)[1]
    # A confirmation token cannot reset a password, nor accept an invitation.
    assert client.get(f"/reset-password/{token}").status_code == 400
    assert client.get(f"/invitation/{token}").status_code == 400
    assert db.session.scalar(sa.select(AccountToken.purpose)) is TokenPurpose.confirm_email


def test_tokens_are_stored_hashed(client, db, mailbox):
    signup(client)
    token = link_in(mailbox.text(mailbox.messages[0]), "/confirm/").rsplit("/", 1)[1]
    stored = db.session.scalar(sa.select(AccountToken.token_hash))
    assert token not in stored and len(stored) == 64


def test_resend_confirmation(client, mailbox, make_user):
    user = make_user(confirmed=False)
    response = post_form(client, "/confirm/resend", {"email": user.email})
    assert "Check your email" in response.get_data(as_text=True)
    [message] = mailbox.to(user.email)
    assert "/confirm/" in mailbox.text(message)


def test_simultaneous_signups_with_one_address_create_one_account(app, db, mailbox):
    """Two browsers submit the same new address at the same moment: one account, no 500."""
    import threading

    browsers = [app.test_client() for _ in range(2)]
    tokens = [csrf_token(browser, "/signup") for browser in browsers]
    start = threading.Barrier(2)
    statuses = []

    def submit(browser, token):
        start.wait()
        statuses.append(browser.post("/signup", data={"full_name": "Jane", "email": "same@example.com",
                                                      "password": NEW_PASSWORD, "password_again": NEW_PASSWORD,
                                                      "locale": "en", "privacy_consent": "y",
                                                      "csrf_token": token}).status_code)

    threads = [threading.Thread(target=submit, args=pair) for pair in zip(browsers, tokens)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [200, 200]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1
