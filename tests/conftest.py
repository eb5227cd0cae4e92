"""Fixtures: an app with a fresh database per test, a real SMTP server on loopback,
factories, and a guard that fails any test reaching beyond this machine.

Set TEST_DATABASE_URL=postgresql://... to run the same suite on PostgreSQL: the
suite creates a throwaway database there and drops it at the end.
"""
from __future__ import annotations

import contextlib
import functools
import ipaddress
import os
import secrets
import socket
import threading
from email import message_from_bytes, policy

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session
from aiosmtpd.controller import Controller
from flask.testing import FlaskClient

from app import create_app, normalise_database_url
from app.auth.models import Role, User
from app.auth.passwords import hash_password
from app.db import utcnow
from app.extensions import db as _db

TEST_PASSWORD = "correct horse battery staple"


# --- no outside network -------------------------------------------------------

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _check_address(sock, address):
    if sock.family == getattr(socket, "AF_UNIX", None):
        return
    host = address[0]
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise RuntimeError(f"a test tried to reach {address!r} outside this machine")


def _guarded_connect(sock, address):
    _check_address(sock, address)
    return _real_connect(sock, address)


def _guarded_connect_ex(sock, address):
    _check_address(sock, address)
    return _real_connect_ex(sock, address)


@pytest.fixture(autouse=True)
def no_outside_network(monkeypatch):
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", _guarded_connect_ex)


# --- SMTP ---------------------------------------------------------------------

class Mailbox:
    """What the loopback SMTP server received, parsed."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"

    def clear(self):
        with self.lock:
            self.messages.clear()

    def to(self, address):
        return [message for message in self.messages if message["To"] == address]

    @staticmethod
    def text(message) -> str:
        return message.get_body(preferencelist=("plain",)).get_content()

    @staticmethod
    def html(message) -> str:
        return message.get_body(preferencelist=("html",)).get_content()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SMTPServer:
    def __init__(self):
        self.mailbox = Mailbox()
        self.port = free_port()
        self.controller = None

    def start(self):
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture(scope="session")
def smtp_server():
    server = SMTPServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mailbox(smtp_server):
    if smtp_server.controller is None:  # a test stopped it and failed before restarting
        smtp_server.start()
    smtp_server.mailbox.clear()
    return smtp_server.mailbox


# --- database -----------------------------------------------------------------

@contextlib.contextmanager
def throwaway_postgres_database(prefix: str):
    """A new, empty PostgreSQL database next to TEST_DATABASE_URL's, dropped afterwards."""
    base_url = normalise_database_url(os.environ["TEST_DATABASE_URL"])
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
    admin_engine = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield sa.engine.make_url(base_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin_engine.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin_engine.dispose()


@pytest.fixture(scope="session")
def server_database_url():
    """A throwaway PostgreSQL database for this run, or None to use SQLite files."""
    if not os.environ.get("TEST_DATABASE_URL"):
        yield None
        return
    with throwaway_postgres_database("pressdesk_test") as url:
        yield url


@pytest.fixture
def database_url(server_database_url, tmp_path):
    return server_database_url or f"sqlite:///{tmp_path / 'pressdesk.db'}"


class BufferedClient(FlaskClient):
    """Closes each response like a real server does, so after-response work
    (mail delivery from the outbox) runs before the test looks at it."""

    def open(self, *args, **kwargs):
        kwargs.setdefault("buffered", True)
        return super().open(*args, **kwargs)


def make_test_config(database_url, smtp_server, **overrides) -> dict:
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-" + secrets.token_hex(16),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_server.port,
        "BASE_URL": "http://localhost",
        "SESSION_COOKIE_SECURE": False,  # the test client and live server speak http
        "RATELIMIT_STORAGE_URI": "memory://",
    }
    config.update(overrides)
    return config


@pytest.fixture
def app_config():
    """Tests override settings by updating this dict before `app` is first used."""
    return {}


@pytest.fixture
def app(database_url, smtp_server, app_config, tmp_path):
    application = create_app(make_test_config(database_url, smtp_server, UPLOAD_FOLDER=str(tmp_path / "uploads"),
                                              **app_config))
    application.test_client_class = BufferedClient
    with application.app_context():
        _db.drop_all()
        _db.create_all()
    yield application
    with application.app_context():
        _db.session.remove()
        _db.drop_all()
        _db.engine.dispose()


class TestDatabase:
    """The test's own view of the database: a session on a separate engine.

    Tests must not hold an application context open across requests (Flask would
    share `g`, and with it cached CSRF tokens, between requests), so they read
    and write through this session instead of Flask-SQLAlchemy's. Every query
    reloads what it returns, so a test always sees what the requests committed.
    """

    def __init__(self, url: str):
        connect_args = {"timeout": 15} if url.startswith("sqlite") else {}
        self.engine = sa.create_engine(url, connect_args=connect_args)
        self.session = Session(self.engine)

        @event.listens_for(self.session, "do_orm_execute")
        def _always_fresh(state):
            if state.is_select:
                state.update_execution_options(populate_existing=True)

    def close(self):
        self.session.close()
        self.engine.dispose()


@pytest.fixture
def make_app(database_url, smtp_server):
    """Another application on the test database, with other settings; its pool is closed afterwards."""
    made = []

    def factory(**overrides):
        application = create_app(make_test_config(database_url, smtp_server, **overrides))
        application.test_client_class = BufferedClient
        made.append(application)
        return application

    yield factory
    for application in made:
        with application.app_context():
            _db.session.remove()
            _db.engine.dispose()


@pytest.fixture
def db(app):
    database = TestDatabase(app.config["SQLALCHEMY_DATABASE_URI"])
    yield database
    database.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# --- factories ----------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def _hash_once(password: str) -> str:
    """scrypt is slow on purpose; the factory needs each test password hashed once."""
    return hash_password(password)


@pytest.fixture
def make_user(app):
    counter = iter(range(1, 10_000))

    def factory(role: Role = Role.correspondent, *, email: str | None = None, password: str = TEST_PASSWORD,
                locale: str | None = None, confirmed: bool = True, active: bool = True, full_name: str | None = None):
        number = next(counter)
        with app.app_context():
            user = User(
                email=email or f"{role.name}{number}@example.org",
                full_name=full_name or f"Test {role.name.title()} {number}",
                role=role,
                locale=locale or ("en" if role is Role.correspondent else "vi"),
                password_hash=_hash_once(password),
                email_confirmed_at=utcnow() if confirmed else None,
                active=active,
            )
            _db.session.add(user)
            _db.session.commit()
            _db.session.refresh(user)
            _db.session.expunge(user)
        return user

    return factory
