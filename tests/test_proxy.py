"""Behind a reverse proxy (PRESSDESK_TRUSTED_PROXY_HOPS): limits and audit per real client."""
from __future__ import annotations

import sqlalchemy as sa

from app.audit.models import AuditEvent
from tests.support import csrf_token

PROXY = "10.0.0.2"  # nginx, as the app sees it: every request comes from there


def wrong_login(browser, forwarded_for=None, email="someone@example.org"):
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    token = csrf_token(browser, "/login")
    return browser.post("/login", data={"email": email, "password": "not the password", "csrf_token": token},
                        headers=headers, environ_base={"REMOTE_ADDR": PROXY}).status_code


def test_two_clients_behind_one_proxy_get_separate_login_buckets(make_app, app, db):
    behind_nginx = make_app(TRUSTED_PROXY_HOPS=1, RATELIMIT_LOGIN="3 per minute", RATELIMIT_LOGIN_ACCOUNT="")
    first, second = behind_nginx.test_client(), behind_nginx.test_client()
    assert [wrong_login(first, "198.51.100.7") for _ in range(4)] == [200, 200, 200, 429]
    # Another client through the same nginx still has its own attempts.
    assert wrong_login(second, "203.0.113.50") == 200
    # A client that prepends its own X-Forwarded-For only changes what nginx appended last.
    assert wrong_login(first, "6.6.6.6, 198.51.100.7") == 429
    addresses = set(db.session.scalars(sa.select(AuditEvent.ip_address).where(
        AuditEvent.action == "auth.login_failed")))
    assert addresses == {"198.51.100.7", "203.0.113.50"}


def test_without_trusted_proxies_x_forwarded_for_is_ignored(make_app, app, db):
    direct = make_app(RATELIMIT_LOGIN="3 per minute", RATELIMIT_LOGIN_ACCOUNT="")  # TRUSTED_PROXY_HOPS 0
    browser = direct.test_client()
    statuses = [wrong_login(browser, f"198.51.100.{number}") for number in range(4)]
    assert statuses == [200, 200, 200, 429]  # one bucket: the address the app really sees
    addresses = set(db.session.scalars(sa.select(AuditEvent.ip_address).where(
        AuditEvent.action == "auth.login_failed")))
    assert addresses == {PROXY}


def test_scheme_and_host_come_from_the_trusted_proxy(make_app, app):
    from flask import request

    behind_nginx = make_app(TRUSTED_PROXY_HOPS=1)

    @behind_nginx.route("/_echo")
    def echo():
        return f"{request.scheme} {request.host} {request.remote_addr}"

    response = behind_nginx.test_client().get("/_echo", headers={
        "X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "pressdesk.example.gov.vn"},
        environ_base={"REMOTE_ADDR": PROXY})
    assert response.get_data(as_text=True) == "https pressdesk.example.gov.vn 198.51.100.7"
