"""Redis down: rate limiting degrades to this process's memory (logged), pages keep answering.

A real redis-server (Debian's package, /usr/bin/redis-server) on a free loopback port, without
persistence. Without it the tests are skipped on a laptop; in CI (CI=true) they fail, and
.ci/run installs the package.
"""
from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import time

import pytest
import sqlalchemy as sa

from app.auth.models import Role, User
from app.documents.models import DocumentKind, IssuedDocument
from app.extensions import db as app_db
from app.extensions import limiter
from app.registrations.models import Registration, Status
from tests.conftest import TEST_PASSWORD, free_port
from tests.support import csrf_token, decide

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


class RedisServer:
    def __init__(self):
        if not os.path.exists(REDIS_SERVER):
            reason = f"{REDIS_SERVER} does not exist (apt-get install redis-server)"
            if os.environ.get("CI") == "true":
                pytest.fail(f"{reason}: the Redis fault tests must run in CI.", pytrace=False)
            pytest.skip(reason)
        self.port = free_port()
        self.process = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", "/tmp", "--daemonize", "no", "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as connection:
                    connection.sendall(b"PING\r\n")
                    if connection.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def redis_server():
    server = RedisServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def limiter_storage_alive_again():
    """The limiter is one object for the process: a test that killed its storage must not leave
    the next application counting in the fallback."""
    yield
    limiter._storage_dead = False


def login_status(app, email, password=TEST_PASSWORD, address="127.0.0.1"):
    browser = app.test_client()
    token = csrf_token(browser, "/login")
    return browser.post("/login", data={"email": email, "password": password, "csrf_token": token},
                        environ_base={"REMOTE_ADDR": address}).status_code


def permit_path(app, make_registration, make_user) -> str:
    registration, _ = make_registration(Status.in_review)
    officer, leader = make_user(Role.officer), make_user(Role.leader)
    with app.test_request_context():
        from app.verification.service import permit_url

        decide(app_db.session.get(Registration, registration.id), app_db.session.get(User, officer.id),
               app_db.session.get(User, leader.id))
        app_db.session.commit()
        permit = app_db.session.scalars(sa.select(IssuedDocument).where(
            IssuedDocument.registration_id == registration.id, IssuedDocument.kind == DocumentKind.permit)).one()
        url = permit_url(permit)
        app_db.session.remove()
    return url[len(app.config["BASE_URL"]):]


def test_redis_stopped_then_started_again(app, make_app, redis_server, make_user, make_registration, caplog):
    redis_app = make_app(RATELIMIT_STORAGE_URI=redis_server.url, RATELIMIT_LOGIN="10 per minute;50 per hour",
                         UPLOAD_FOLDER=app.config["UPLOAD_FOLDER"], PERMIT_KEYS_DIR=app.config["PERMIT_KEYS_DIR"])
    user = make_user()
    verify = permit_path(redis_app, make_registration, make_user)

    assert login_status(redis_app, user.email) == 302
    assert redis_app.test_client().get(verify).status_code == 200
    assert redis_app.test_client().get("/readyz").json["checks"]["rate_limit_storage"] == {"ok": True}

    redis_server.stop()
    with caplog.at_level(logging.WARNING):
        started = time.monotonic()
        assert login_status(redis_app, user.email) == 302
        assert redis_app.test_client().get(verify).status_code == 200
        assert login_status(redis_app, user.email, "wrong password here") == 200
        elapsed = time.monotonic() - started
    assert elapsed < 10, elapsed
    assert any("falling back to in-memory" in record.getMessage() or "unreachable" in record.getMessage()
               for record in caplog.records)
    # The limits still hold, counted in this process meanwhile.
    statuses = [login_status(redis_app, user.email, "wrong password here", "192.0.2.44") for _ in range(11)]
    assert statuses[-1] == 429 and 500 not in statuses
    ready = redis_app.test_client().get("/readyz")
    assert ready.status_code == 503 and ready.json["failing"] == ["rate_limit_storage"]

    redis_server.start()
    # (Another account: this one's failures may still be counted in memory until the limiter
    # sees that Redis is back.)
    assert login_status(redis_app, make_user().email) == 302
    assert redis_app.test_client().get(verify).status_code == 200
    assert redis_app.test_client().get("/readyz").status_code == 200


def test_redis_url_where_nothing_listens(app, make_app, caplog):
    nowhere = f"redis://127.0.0.1:{free_port()}/0"
    application = make_app(RATELIMIT_STORAGE_URI=nowhere, RATELIMIT_LOGIN="10 per minute",
                           UPLOAD_FOLDER=app.config["UPLOAD_FOLDER"], PERMIT_KEYS_DIR=app.config["PERMIT_KEYS_DIR"])
    user_email = "nobody@example.org"
    with caplog.at_level(logging.WARNING):
        statuses = [login_status(application, user_email, "wrong password here", "192.0.2.7") for _ in range(11)]
    assert statuses == [200] * 10 + [429]
    assert application.test_client().get("/v/not-a-real-token").status_code == 404
    assert application.test_client().get("/healthz").status_code == 200
    ready = application.test_client().get("/readyz")
    assert ready.status_code == 503 and "rate_limit_storage" in ready.json["failing"]
    assert any("unreachable" in record.getMessage() for record in caplog.records)
