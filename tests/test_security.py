"""Security: CSRF, rate limits, cookies, headers, session replay, redirects, access."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.auth.models import Role, UserSession
from tests.conftest import TEST_PASSWORD
from tests.support import csrf_token, login, logout, post_form

NEW_PASSWORD = "mekong delta at dawn"


def test_post_without_csrf_token_is_refused_and_changes_nothing(client, db, make_user):
    user = make_user()
    response = client.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
    assert response.status_code == 400
    assert "The form expired or was sent from another site" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UserSession)) == 0


def test_csrf_token_of_another_session_is_refused(app, client, make_user):
    user = make_user()
    other_browser = app.test_client()
    stolen = csrf_token(other_browser, "/login")
    client.get("/login")
    response = client.post("/login", data={"email": user.email, "password": TEST_PASSWORD, "csrf_token": stolen})
    assert response.status_code == 400


PRODUCTION_LOGIN_LIMIT = "10 per minute;50 per hour"


def test_login_is_rate_limited_with_a_clear_page(app, client, make_user):
    app.config["RATELIMIT_LOGIN"] = PRODUCTION_LOGIN_LIMIT
    user = make_user()
    token = csrf_token(client, "/login")
    statuses = [client.post("/login", data={"email": user.email, "password": "wrong password here",
                                            "csrf_token": token}).status_code for _ in range(11)]
    assert statuses[:10] == [200] * 10
    assert statuses[10] == 429
    response = client.post("/login", data={"email": user.email, "password": TEST_PASSWORD, "csrf_token": token})
    assert response.status_code == 429
    body = response.get_data(as_text=True)
    assert "Too many attempts" in body and "Traceback" not in body
    assert int(response.headers["Retry-After"]) > 0
    # Reading the login page is not limited.
    assert client.get("/login").status_code == 200


def test_password_reset_requests_are_rate_limited(client, mailbox, make_user):
    user = make_user()
    token = csrf_token(client, "/forgot-password")
    statuses = [client.post("/forgot-password", data={"email": user.email, "csrf_token": token}).status_code
                for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    assert len(mailbox.to(user.email)) == 5


def test_vietnamese_429_page(app, client, make_user):
    app.config["RATELIMIT_LOGIN"] = PRODUCTION_LOGIN_LIMIT
    user = make_user()
    token = csrf_token(client, "/login")
    for _ in range(10):
        client.post("/login", data={"email": user.email, "password": "x" * 9, "csrf_token": token})
    response = client.post("/login", data={"email": user.email, "password": "x" * 9, "csrf_token": token},
                           headers={"Accept-Language": "vi"})
    assert response.status_code == 429
    assert "Quá nhiều lần thử" in response.get_data(as_text=True)


def session_cookie(response) -> str:
    [cookie] = [value for value in response.headers.getlist("Set-Cookie") if value.startswith("pressdesk_session=")]
    return cookie


@pytest.mark.parametrize("path", ["/guide", "/check/icon-192.png"])
def test_only_a_change_rewrites_the_session_cookie(client, path):
    """A browser sends a page's icon and a tap on its language buttons at once; each response that
    rewrites the cookie puts back the session as its request saw it, so a request that changed
    nothing must not write it (Flask-Login's session protection did, once per visitor)."""
    session_cookie(client.get("/guide"))  # the language form's token starts the session
    assert "Set-Cookie" not in client.get(path).headers
    token = csrf_token(client, "/guide")
    changed = client.post("/language", data={"locale": "vi", "next": "/guide", "csrf_token": token})
    assert changed.status_code == 302 and session_cookie(changed)


def test_session_cookie_flags_in_production(make_app, app):  # app: the tables (the client runs the outbox)
    production = make_app(SESSION_COOKIE_SECURE=None)  # None: derived, as in production
    response = production.test_client().get("/login", base_url="https://localhost")
    cookie = session_cookie(response)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_development_cookies_are_not_secure_and_have_no_hsts(make_app, app):
    development = make_app(ENV_NAME="development", SESSION_COOKIE_SECURE=None, HSTS_ENABLED=None)
    response = development.test_client().get("/login")
    cookie = session_cookie(response)
    assert "Secure" not in cookie and "HttpOnly" in cookie
    assert "Strict-Transport-Security" not in response.headers


@pytest.mark.parametrize("path, status", [("/", 200), ("/login", 200), ("/no-such-page", 404),
                                          ("/admin/users", 302)])
def test_security_headers_on_every_response(client, path, status):
    response = client.get(path)
    assert response.status_code == status
    csp = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp and "default-src 'self'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_security_headers_on_a_500_page(app, client, monkeypatch):
    import app.main.routes as main_routes

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(main_routes, "render_template", broken)
    app.testing = False  # a real server answers a 500, it does not raise into the caller
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get("/")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Something went wrong" in body and "boom" not in body and "Traceback" not in body
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_pages_have_no_inline_scripts_or_styles(client, make_user):
    login(client, make_user(Role.admin, locale="en").email)
    for path in ("/", "/account", "/admin/users", "/admin/audit/", "/admin/users/new"):
        body = client.get(path).get_data(as_text=True)
        assert "<script>" not in body and "style=" not in body and "<style" not in body, path
        assert "cdn." not in body and "https://" not in body, path


def test_old_session_cookie_is_useless_after_logout(app, client, make_user):
    user = make_user()
    login(client, user.email)
    saved = client.get_cookie("pressdesk_session").value
    assert client.get("/account").status_code == 200
    logout(client)
    replay = app.test_client()
    replay.set_cookie("pressdesk_session", saved)
    response = replay.get("/account")
    assert response.status_code == 302 and response.location.startswith("/login")


def test_old_session_cookie_is_useless_after_password_change(app, client, make_user):
    user = make_user()
    other_browser = app.test_client()
    login(other_browser, user.email)
    login(client, user.email)
    saved = client.get_cookie("pressdesk_session").value
    post_form(client, "/account", {"current_password": TEST_PASSWORD, "password": NEW_PASSWORD,
                                   "password_again": NEW_PASSWORD})
    # This browser carries on with its renewed session; the other one and the old cookie are out.
    assert client.get("/account").status_code == 200
    assert other_browser.get("/account").status_code == 302
    replay = app.test_client()
    replay.set_cookie("pressdesk_session", saved)
    assert replay.get("/account").status_code == 302


def test_session_is_renewed_at_login(app, client, make_user):
    user = make_user()
    client.get("/login")
    before = client.get_cookie("pressdesk_session").value
    login(client, user.email)
    after = client.get_cookie("pressdesk_session").value
    assert before != after
    # The pre-login cookie does not become a logged-in one.
    replay = app.test_client()
    replay.set_cookie("pressdesk_session", before)
    assert replay.get("/account").status_code == 302


def test_deactivation_ends_existing_sessions(client, app, make_user):
    user = make_user()
    admin = make_user(Role.admin)
    login(client, user.email)
    admin_browser = app.test_client()
    login(admin_browser, admin.email)
    post_form(admin_browser, f"/admin/users/{user.id}/active", page=f"/admin/users/{user.id}")
    assert client.get("/account").status_code == 302


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "\\\\evil.example",
                                    "javascript:alert(1)", "http:/evil.example", "/\r\nLocation: https://evil.example",
                                    " //evil.example", "\t//evil.example"])
def test_next_redirect_only_goes_to_our_own_paths(client, make_user, target):
    user = make_user()
    response = post_form(client, "/login", {"email": user.email, "password": TEST_PASSWORD, "next": target})
    assert response.status_code == 302
    assert response.location == "/"


def test_next_redirect_to_our_own_path_is_followed(client, make_user):
    user = make_user()
    response = client.get("/account")
    assert response.status_code == 302
    next_path = response.location.split("next=", 1)[1]
    assert next_path == "%2Faccount"
    response = post_form(client, "/login", {"email": user.email, "password": TEST_PASSWORD, "next": "/account"})
    assert response.location == "/account"


def test_language_switch_does_not_redirect_off_site(client):
    response = post_form(client, "/language", {"locale": "vi", "next": "https://evil.example/"}, page="/")
    assert response.status_code == 302 and response.location == "/"


@pytest.mark.parametrize("path", ["/admin/users", "/admin/users/new", "/admin/audit/", "/admin/users/1"])
@pytest.mark.parametrize("role", [Role.correspondent, Role.officer, Role.leader])
def test_admin_pages_refuse_other_roles(client, make_user, path, role):
    login(client, make_user(role).email)
    assert client.get(path).status_code == 403


@pytest.mark.parametrize("path", ["/admin/users", "/admin/users/new", "/admin/audit/", "/account"])
def test_anonymous_visitors_are_sent_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302 and response.location.startswith("/login?next=")


@pytest.mark.parametrize("path", ["/admin/users/1/role", "/admin/users/1/active"])
def test_admin_actions_refuse_other_roles(client, make_user, path):
    officer = make_user(Role.officer)
    login(client, officer.email)
    response = post_form(client, path, {"role": "admin"}, page="/account")
    assert response.status_code == 403


def test_state_changing_routes_refuse_get(client):
    for path in ("/logout", "/language", "/admin/users/1/role", "/admin/users/1/active"):
        assert client.get(path).status_code == 405, path


def redis_is_running() -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not redis_is_running(), reason="no Redis on 127.0.0.1:6379 (production rate-limit storage)")
def test_login_rate_limit_counts_in_redis(make_app, make_user):
    """With RATELIMIT_STORAGE_URI=redis://, attempts are counted in Redis, where every
    gunicorn worker sees them (in-memory counting would be per worker)."""
    import secrets

    import redis

    prefix = "pressdesk-test-" + secrets.token_hex(4)
    app = make_app(RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379", RATELIMIT_KEY_PREFIX=prefix,
                   RATELIMIT_LOGIN=PRODUCTION_LOGIN_LIMIT)
    user = make_user()
    browser = app.test_client()
    store = redis.Redis(host="127.0.0.1", port=6379)
    try:
        statuses = [post_form(browser, "/login", {"email": user.email, "password": "wrong password"}).status_code
                    for _ in range(11)]
        assert statuses[:10] == [200] * 10 and statuses[10] == 429
        assert store.keys(f"*{prefix}*"), "no rate-limit counters in Redis"
    finally:
        for key in store.keys(f"*{prefix}*"):
            store.delete(key)
        store.close()
