"""The per-account login throttle, beside the per-address limit of the login route."""
from __future__ import annotations

import sqlalchemy as sa

from app.audit.models import AuditEvent
from tests.conftest import TEST_PASSWORD
from tests.support import csrf_token, link_in, post_form

ACCOUNT_LIMIT = "10 per 15 minutes"


def attempt(client, email, password, address, token):
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": address})


def wrong_passwords_from_many_addresses(app, email, count):
    """`count` wrong passwords for `email`, each from another address (and another browser)."""
    statuses = []
    for number in range(count):
        browser = app.test_client()
        address = f"198.51.100.{number + 1}"
        token = csrf_token(browser, "/login")
        statuses.append(attempt(browser, email, "not the password", address, token).status_code)
    return statuses


def test_fifteen_wrong_passwords_from_fifteen_addresses_are_throttled(app, db, make_user):
    app.config["RATELIMIT_LOGIN_ACCOUNT"] = ACCOUNT_LIMIT
    user = make_user()
    statuses = wrong_passwords_from_many_addresses(app, user.email, 15)
    assert statuses == [200] * 10 + [429] * 5
    # Even the right password is refused meanwhile (a correct guess must not be confirmed), from a new address.
    browser = app.test_client()
    response = attempt(browser, user.email.upper() + " ", TEST_PASSWORD, "203.0.113.9", csrf_token(browser, "/login"))
    assert response.status_code == 429
    body = response.get_data(as_text=True)
    assert "Too many failed logins for this account" in body and "Forgotten your password?" in body
    assert 0 < int(response.headers["Retry-After"]) <= 15 * 60
    throttled = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "auth.login_throttled")).all()
    assert len(throttled) == 6 and throttled[-1].actor_email == user.email
    assert throttled[-1].ip_address == "203.0.113.9"
    # Another account is not affected.
    other = make_user()
    browser = app.test_client()
    assert attempt(browser, other.email, TEST_PASSWORD, "198.51.100.1", csrf_token(browser, "/login")).status_code == 302


def test_unknown_and_known_addresses_get_the_same_answer(app, make_user):
    app.config["RATELIMIT_LOGIN_ACCOUNT"] = ACCOUNT_LIMIT
    known = make_user()
    answers = []
    for email in (known.email, "nobody-here@example.org"):
        statuses = wrong_passwords_from_many_addresses(app, email, 11)
        browser = app.test_client()
        response = attempt(browser, email, "not the password", "203.0.113.7", csrf_token(browser, "/login"))
        page = response.get_data(as_text=True)
        answers.append((statuses, response.status_code, "Too many failed logins for this account" in page))
    assert answers[0] == answers[1] == ([200] * 10 + [429], 429, True)


def test_a_password_reset_lets_the_owner_in_at_once(app, client, mailbox, make_user):
    app.config["RATELIMIT_LOGIN_ACCOUNT"] = ACCOUNT_LIMIT
    user = make_user()
    wrong_passwords_from_many_addresses(app, user.email, 10)
    token = csrf_token(client, "/login")
    assert attempt(client, user.email, TEST_PASSWORD, "127.0.0.1", token).status_code == 429
    post_form(client, "/forgot-password", {"email": user.email})
    reset = link_in(mailbox.text(mailbox.to(user.email)[-1]), "/reset-password/")
    new_password = "a fresh password for the delta"
    response = post_form(client, reset, {"password": new_password, "password_again": new_password})
    assert response.status_code == 302
    assert attempt(client, user.email, new_password, "127.0.0.1", csrf_token(client, "/login")).status_code == 302


def test_the_throttle_ends_with_its_window(app, client, make_user, frozen_clock):
    app.config["RATELIMIT_LOGIN_ACCOUNT"] = "3 per 15 minutes"
    user = make_user()
    wrong_passwords_from_many_addresses(app, user.email, 3)
    token = csrf_token(client, "/login")
    assert attempt(client, user.email, TEST_PASSWORD, "127.0.0.1", token).status_code == 429
    frozen_clock.shift(15 * 60 + 1)
    assert attempt(client, user.email, TEST_PASSWORD, "127.0.0.1", token).status_code == 302


def test_successful_logins_do_not_count(app, make_user):
    app.config["RATELIMIT_LOGIN_ACCOUNT"] = "3 per 15 minutes"
    user = make_user()
    for _ in range(5):
        browser = app.test_client()
        assert attempt(browser, user.email, TEST_PASSWORD, "127.0.0.1", csrf_token(browser, "/login")).status_code == 302


def test_with_rate_limits_turned_off_the_account_throttle_is_off_too(make_app, make_user, caplog):
    """RATELIMIT_ENABLED = False (Flask-Limiter then has no storage): no 429, and no "storage
    unreachable" warning at each login."""
    relaxed = make_app(RATELIMIT_ENABLED=False, RATELIMIT_LOGIN_ACCOUNT=ACCOUNT_LIMIT)
    with relaxed.app_context():
        user = make_user()
    statuses = wrong_passwords_from_many_addresses(relaxed, user.email, 12)
    assert statuses == [200] * 12
    browser = relaxed.test_client()
    assert attempt(browser, user.email, TEST_PASSWORD, "203.0.113.9", csrf_token(browser, "/login")).status_code == 302
    assert "rate-limit storage unreachable" not in caplog.text
