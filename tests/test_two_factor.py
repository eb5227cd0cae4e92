"""Two-step sign-in (TOTP): set-up, the code after the password, recovery codes, the gate for
required roles, rate limits."""
from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pyotp
import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.auth.models import RecoveryCode, Role, User
from tests.conftest import TEST_PASSWORD
from tests.support import csrf_token, login, page_assets, post_form

SECRET_PATTERN = re.compile(r'<code class="fs-5 user-select-all" translate="no">([A-Z2-7 ]+)</code>')
CODES_PATTERN = re.compile(r"<li>([A-Z2-7]{4} [A-Z2-7]{4} [A-Z2-7]{4} [A-Z2-7]{4})</li>")


def set_up_two_factor(client) -> tuple[str, list[str]]:
    """In a logged-in client: the set-up page, a good code; returns the secret and the recovery codes."""
    page = client.get("/account/two-factor").get_data(as_text=True)
    secret = SECRET_PATTERN.search(page).group(1).replace(" ", "")
    response = post_form(client, "/account/two-factor", {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200, response.get_data(as_text=True)
    codes = CODES_PATTERN.findall(response.get_data(as_text=True))
    assert len(codes) == 10
    return secret, codes


def user_with_two_factor(app, make_user, clock, role=Role.officer) -> tuple[User, str, list[str]]:
    """A user who set it up, 30 seconds ago (the code of the set-up is used)."""
    user = make_user(role, locale="en")
    browser = app.test_client()
    login(browser, user.email)
    secret, codes = set_up_two_factor(browser)
    clock.shift(timedelta(seconds=30))
    return user, secret, codes


def send_code(client, code, address="127.0.0.1"):
    token = csrf_token(client, "/login/code")
    return client.post("/login/code", data={"code": code, "csrf_token": token}, environ_base={"REMOTE_ADDR": address})


def audit_actions(db) -> list[str]:
    return list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


# --- set-up -------------------------------------------------------------------------------------

def test_set_up_shows_a_qr_code_and_the_key_and_needs_a_good_code(client, db, make_user):
    user = make_user(Role.officer, locale="en")
    login(client, user.email)
    page = client.get("/account/two-factor").get_data(as_text=True)
    assert '<svg role="img" aria-label="QR code to scan with your authenticator app"' in page
    secret = SECRET_PATTERN.search(page).group(1).replace(" ", "")
    # Reloading shows the same key (the app may already have it); nothing is on yet.
    assert secret in client.get("/account/two-factor").get_data(as_text=True).replace(" ", "")
    assert db.session.get(User, user.id).two_factor_enabled_at is None
    # The secret is stored encrypted.
    raw = db.session.execute(sa.text("select two_factor_secret from users where id = :id"), {"id": user.id}).scalar()
    assert raw and secret not in raw

    wrong = f"{(int(pyotp.TOTP(secret).now()) + 1) % 1_000_000:06d}"
    response = post_form(client, "/account/two-factor", {"code": wrong})
    assert response.status_code == 400 and "This code is not right" in response.get_data(as_text=True)
    assert db.session.get(User, user.id).two_factor_enabled_at is None

    response = post_form(client, "/account/two-factor", {"code": pyotp.TOTP(secret).now()})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "this page shows them only once" in page
    codes = CODES_PATTERN.findall(page)
    assert len(set(codes)) == 10
    stored = db.session.scalars(sa.select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id)).all()
    assert sorted(stored) == sorted(hashlib.sha256(code.replace(" ", "").encode()).hexdigest() for code in codes)
    assert db.session.get(User, user.id).two_factor_enabled_at is not None
    assert "auth.two_factor_enabled" in audit_actions(db)
    # The codes are never shown again: the page now tells the status.
    later = client.get("/account/two-factor").get_data(as_text=True)
    assert "You have 10 unused recovery codes." in later and codes[0] not in later


# --- the code after the password ------------------------------------------------------------------

def test_password_alone_does_not_log_in_and_a_good_code_does(app, db, make_user, frozen_clock):
    user, secret, _codes = user_with_two_factor(app, make_user, frozen_clock)
    browser = app.test_client()
    response = login(browser, user.email)
    assert response.status_code == 302 and response.headers["Location"].endswith("/login/code")
    assert browser.get("/account").status_code == 302  # not logged in yet
    wrong = f"{(int(pyotp.TOTP(secret).now()) + 500_000) % 1_000_000:06d}"
    response = send_code(browser, wrong)
    assert response.status_code == 400 and "This code is not right, or was used already" in response.get_data(as_text=True)
    assert browser.get("/account").status_code == 302
    response = send_code(browser, pyotp.TOTP(secret).now())
    assert response.status_code == 302
    assert browser.get("/account").status_code == 200
    assert "auth.two_factor_failed" in audit_actions(db)


def test_a_code_works_once(app, make_user, frozen_clock):
    user, secret, _codes = user_with_two_factor(app, make_user, frozen_clock)
    code = pyotp.TOTP(secret).now()
    first, second = app.test_client(), app.test_client()
    login(first, user.email)
    assert send_code(first, code).status_code == 302
    login(second, user.email)
    assert send_code(second, code).status_code == 400  # the same code again: refused
    frozen_clock.shift(timedelta(seconds=30))
    assert send_code(second, pyotp.TOTP(secret).now()).status_code == 302


def test_the_code_must_follow_the_password_within_five_minutes(app, make_user, frozen_clock):
    user, secret, _codes = user_with_two_factor(app, make_user, frozen_clock)
    browser = app.test_client()
    login(browser, user.email)
    frozen_clock.shift(timedelta(minutes=6))
    response = browser.get("/login/code")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    response = browser.post("/login/code", data={"code": pyotp.TOTP(secret).now(),
                                                 "csrf_token": csrf_token(browser, "/login")})
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert browser.get("/account").status_code == 302


def test_the_code_page_without_a_password_step_sends_to_login(client):
    response = client.get("/login/code")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")


def test_recovery_codes_work_once(app, db, make_user, frozen_clock):
    user, _secret, codes = user_with_two_factor(app, make_user, frozen_clock)
    browser = app.test_client()
    login(browser, user.email)
    typed = codes[3].lower().replace(" ", "-")  # as someone copies it: lower case, dashes
    response = send_code(browser, typed)
    assert response.status_code == 302
    assert "9 are left" in browser.get("/account").get_data(as_text=True)
    other = app.test_client()
    login(other, user.email)
    assert send_code(other, codes[3]).status_code == 400
    assert "auth.recovery_code_used" in audit_actions(db)
    used = db.session.scalars(sa.select(RecoveryCode).where(RecoveryCode.used_at.is_not(None))).all()
    assert len(used) == 1


def test_new_recovery_codes_replace_the_old_ones(app, make_user, frozen_clock):
    user, _secret, codes = user_with_two_factor(app, make_user, frozen_clock)
    browser = app.test_client()
    login(browser, user.email)
    send_code(browser, codes[0])
    refused = post_form(browser, "/account/two-factor/recovery-codes", {"codes-password": "not it"},
                        page="/account/two-factor", follow_redirects=True)
    assert "The password is not correct." in refused.get_data(as_text=True)
    response = post_form(browser, "/account/two-factor/recovery-codes", {"codes-password": TEST_PASSWORD},
                         page="/account/two-factor")
    new_codes = CODES_PATTERN.findall(response.get_data(as_text=True))
    assert len(new_codes) == 10 and not set(new_codes) & set(codes)
    other = app.test_client()
    login(other, user.email)
    assert send_code(other, codes[1]).status_code == 400
    assert send_code(other, new_codes[1]).status_code == 302


# --- rate limits -------------------------------------------------------------------------------

def test_wrong_codes_are_limited_per_address(app, app_config, make_user, frozen_clock):
    app.config["RATELIMIT_TWO_FACTOR"] = "3 per 15 minutes"
    user, secret, _codes = user_with_two_factor(app, make_user, frozen_clock)
    browser = app.test_client()
    login(browser, user.email)
    statuses = [send_code(browser, "000000" if pyotp.TOTP(secret).now() != "000000" else "111111").status_code
                for _ in range(3)]
    assert statuses == [400, 400, 400]
    assert send_code(browser, pyotp.TOTP(secret).now()).status_code == 429


def test_wrong_codes_are_limited_per_account_from_any_address(app, db, make_user, frozen_clock):
    app.config["RATELIMIT_TWO_FACTOR"] = "3 per 15 minutes"
    user, secret, _codes = user_with_two_factor(app, make_user, frozen_clock)
    wrong = "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"
    for number in range(3):
        browser = app.test_client()
        login(browser, user.email)
        assert send_code(browser, wrong, address=f"198.51.100.{number + 1}").status_code == 400
    browser = app.test_client()
    login(browser, user.email)
    response = send_code(browser, pyotp.TOTP(secret).now(), address="203.0.113.5")  # even the right code
    assert response.status_code == 429
    assert "Too many wrong codes for this account" in response.get_data(as_text=True)
    assert 0 < int(response.headers["Retry-After"]) <= 15 * 60
    assert browser.get("/account").status_code == 302
    assert "auth.two_factor_throttled" in audit_actions(db)


# --- required roles: the gate -----------------------------------------------------------------------

def _argument_free_get_endpoints(app):
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and not rule.arguments:
            yield rule.endpoint, rule.rule


@pytest.fixture
def required_roles(app_config):
    """Leaders and admins must use it (first among a test's fixtures: before `app` is made)."""
    app_config["TWO_FACTOR_REQUIRED_ROLES"] = "leader,admin"


@pytest.mark.parametrize("role", [Role.leader, Role.admin])
def test_a_required_role_can_reach_no_page_before_setting_it_up(required_roles, app, client, make_user, role):
    from app.auth.twofactor import GATE_ALLOWED_ENDPOINTS

    user = make_user(role, locale="en")
    response = login(client, user.email)
    assert response.status_code == 302
    checked = 0
    for endpoint, path in _argument_free_get_endpoints(app):
        if endpoint in GATE_ALLOWED_ENDPOINTS:
            continue
        response = client.get(path)
        assert response.status_code == 302, (path, response.status_code)
        assert "/account/two-factor" in response.headers["Location"], path
        checked += 1
    assert checked > 20
    # Not a POST either (here: changing the password).
    response = post_form(client, "/account", {"current_password": TEST_PASSWORD, "password": "a new long passphrase",
                                              "password_again": "a new long passphrase"}, page="/account/two-factor")
    assert response.status_code == 302 and "/account/two-factor" in response.headers["Location"]
    # The way out stays open, styled (Bootstrap-Flask's files are an extension's static endpoint):
    # set it up, and every page opens.
    setup_page = client.get("/account/two-factor")
    assert setup_page.status_code == 200
    assets = page_assets(setup_page.get_data(as_text=True))
    assert any("bootstrap" in path for path in assets)
    assert [(path, client.get(path).status_code) for path in assets] == [(path, 200) for path in assets]
    set_up_two_factor(client)
    assert client.get("/account").status_code == 200


def test_the_gate_sends_back_to_the_page_asked_for(required_roles, client, make_user):
    user = make_user(Role.leader, locale="en")
    login(client, user.email)
    response = client.get("/account/sessions")
    assert response.headers["Location"].endswith("/account/two-factor?next=/account/sessions")
    page = client.get("/account/two-factor?next=/account/sessions").get_data(as_text=True)
    secret = SECRET_PATTERN.search(page).group(1).replace(" ", "")
    response = post_form(client, "/account/two-factor?next=/account/sessions", {"code": pyotp.TOTP(secret).now()})
    assert 'href="/account/sessions"' in response.get_data(as_text=True)


def test_officers_and_correspondents_are_not_held(required_roles, client, make_user):
    officer = make_user(Role.officer, locale="en")
    login(client, officer.email)
    assert client.get("/account").status_code == 200


def test_a_required_role_cannot_turn_it_off(required_roles, app, db, make_user, frozen_clock):
    user, _secret, codes = user_with_two_factor(app, make_user, frozen_clock, role=Role.leader)
    browser = app.test_client()
    login(browser, user.email)
    send_code(browser, codes[0])
    assert "it cannot be turned off" in browser.get("/account/two-factor").get_data(as_text=True)
    response = post_form(browser, "/account/two-factor/off", {"off-password": TEST_PASSWORD},
                         page="/account/two-factor", follow_redirects=True)
    assert "it cannot be turned off" in response.get_data(as_text=True)
    assert db.session.get(User, user.id).two_factor_enabled_at is not None


def test_others_turn_it_off_with_their_password(app, db, make_user, frozen_clock):
    user, _secret, codes = user_with_two_factor(app, make_user, frozen_clock)
    browser = app.test_client()
    login(browser, user.email)
    send_code(browser, codes[0])
    response = post_form(browser, "/account/two-factor/off", {"off-password": "wrong password"},
                         page="/account/two-factor", follow_redirects=True)
    assert "The password is not correct." in response.get_data(as_text=True)
    assert db.session.get(User, user.id).two_factor_enabled_at is not None
    post_form(browser, "/account/two-factor/off", {"off-password": TEST_PASSWORD}, page="/account/two-factor")
    stored = db.session.get(User, user.id)
    assert stored.two_factor_enabled_at is None and stored.two_factor_secret is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RecoveryCode)) == 0
    again = app.test_client()
    assert "/login/code" not in login(again, user.email).headers["Location"]  # the password alone again
    assert again.get("/account").status_code == 200


def test_unknown_roles_in_the_setting_stop_the_start(make_app):
    with pytest.raises(RuntimeError, match="unknown roles: boss"):
        make_app(TWO_FACTOR_REQUIRED_ROLES="leader,boss")


# --- mails, and the administrator's reset ---------------------------------------------------------

def test_each_change_to_the_second_step_is_mailed(app, mailbox, make_user, frozen_clock):
    user, _secret, codes = user_with_two_factor(app, make_user, frozen_clock)
    browser = app.test_client()
    login(browser, user.email)
    send_code(browser, codes[0])
    post_form(browser, "/account/two-factor/recovery-codes", {"codes-password": TEST_PASSWORD},
              page="/account/two-factor")
    post_form(browser, "/account/two-factor/off", {"off-password": TEST_PASSWORD}, page="/account/two-factor")
    subjects = [message["Subject"] for message in mailbox.to(user.email)
                if message["Subject"] != "New sign-in to your PressDesk account"]  # the second test client
    assert subjects == ["Two-step sign-in is on for your PressDesk account",
                        "New recovery codes for your PressDesk account",
                        "Two-step sign-in is off for your PressDesk account"]
    assert "Choose a new password at once" in mailbox.text(mailbox.to(user.email)[-1])


def test_an_administrator_resets_it_for_a_lost_phone(required_roles, app, db, mailbox, make_user, frozen_clock):
    leader, _secret, codes = user_with_two_factor(app, make_user, frozen_clock, role=Role.leader)
    admin, _admin_secret, admin_codes = user_with_two_factor(app, make_user, frozen_clock, role=Role.admin)
    leader_browser = app.test_client()
    login(leader_browser, leader.email)
    send_code(leader_browser, codes[0])
    assert leader_browser.get("/account").status_code == 200
    admin_browser = app.test_client()
    login(admin_browser, admin.email)
    send_code(admin_browser, admin_codes[0])
    page = admin_browser.get(f"/admin/users/{leader.id}").get_data(as_text=True)
    assert "Reset two-step sign-in" in page and "required for this role" in page
    mailbox.clear()
    response = post_form(admin_browser, f"/admin/users/{leader.id}/two-factor/reset", {},
                         page=f"/admin/users/{leader.id}")
    assert response.status_code == 302
    stored = db.session.get(User, leader.id)
    assert stored.two_factor_enabled_at is None and stored.two_factor_secret is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RecoveryCode)
                             .where(RecoveryCode.user_id == leader.id)) == 0
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "auth.two_factor_reset")).one()
    assert (event.actor_id, event.object_id) == (admin.id, str(leader.id))
    (message,) = mailbox.to(leader.email)
    assert admin.full_name in mailbox.text(message)
    # The leader's sessions ended; the password leads to the set-up page, not past it.
    assert leader_browser.get("/account").status_code == 302
    fresh = app.test_client()
    login(fresh, leader.email)
    assert "/account/two-factor" in fresh.get("/account").headers["Location"]


def test_only_another_administrator_resets_it(app, db, make_user, frozen_clock):
    user, _secret, codes = user_with_two_factor(app, make_user, frozen_clock)
    admin, _admin_secret, admin_codes = user_with_two_factor(app, make_user, frozen_clock, role=Role.admin)
    officer_browser = app.test_client()
    login(officer_browser, user.email)
    send_code(officer_browser, codes[0])
    response = post_form(officer_browser, f"/admin/users/{admin.id}/two-factor/reset", {}, page="/account")
    assert response.status_code in (403, 404)
    admin_browser = app.test_client()
    login(admin_browser, admin.email)
    send_code(admin_browser, admin_codes[0])
    assert "Reset two-step sign-in" not in admin_browser.get(f"/admin/users/{admin.id}").get_data(as_text=True)
    response = post_form(admin_browser, f"/admin/users/{admin.id}/two-factor/reset", {},
                         page=f"/admin/users/{admin.id}")
    assert response.status_code == 409
    assert "ask another administrator" in response.get_data(as_text=True)
    assert db.session.get(User, admin.id).two_factor_enabled_at is not None
    assert db.session.get(User, user.id).two_factor_enabled_at is not None
