"""Mail under faults, on loopback: an SMTP server that accepts and never answers, a week of
refused connections, and two workers sharing the queue on PostgreSQL."""
from __future__ import annotations

import contextlib
import socket
import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.auth.models import Role
from app.outbox.models import OutboxMessage
from app.outbox.service import send_due
from tests.conftest import free_port
from tests.support import login, outbox_worker, post_form

PASSWORD = "mekong delta at dawn"


class SilentThenForwardingServer:
    """Accepts TCP connections and says nothing (a hung SMTP server); once `recover()` is called,
    new connections are forwarded to the real loopback SMTP server."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.port = free_port()
        self.recovered = threading.Event()
        self.stopping = threading.Event()
        self.silent_connections = []
        self.forwarded = []
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(8)
        self.listener.settimeout(0.1)
        self.threads = [threading.Thread(target=self._accept, daemon=True)]
        self.threads[0].start()

    def _accept(self):
        while not self.stopping.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            if self.recovered.is_set():
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
                self.forwarded += [connection, upstream]
                for source, sink in ((connection, upstream), (upstream, connection)):
                    thread = threading.Thread(target=self._pipe, args=(source, sink), daemon=True)
                    thread.start()
                    self.threads.append(thread)
            else:
                self.silent_connections.append(connection)

    @staticmethod
    def _pipe(source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def recover(self):
        self.recovered.set()

    def close(self):
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=5)
        for connection in self.silent_connections + self.forwarded:
            connection.close()
        self.listener.close()


def test_a_silent_smtp_server_never_slows_pages_and_the_message_arrives_once(make_app, smtp_server, mailbox, db,
                                                                             make_user, frozen_clock):
    silent = SilentThenForwardingServer(smtp_server.port)
    app = make_app(MAIL_PORT=silent.port, MAIL_TIMEOUT=1)
    officer = make_user(Role.officer, email="officer@example.org")
    browser = app.test_client()
    browser.deliver_mail = False  # the worker below sends, as in production
    with outbox_worker(app) as worker, contextlib.closing(silent):
        start = time.monotonic()
        response = post_form(browser, "/forgot-password", {"email": officer.email})
        assert response.status_code == 200
        # Wait until the worker is stuck in the SMTP greeting of the silent server.
        deadline = time.monotonic() + 5
        while not silent.silent_connections and time.monotonic() < deadline:
            time.sleep(0.01)
        assert silent.silent_connections, "the worker never connected"
        page_start = time.monotonic()
        assert browser.get("/guide").status_code == 200
        page_took = time.monotonic() - page_start
        assert login(browser, officer.email).status_code == 302  # a write answers too
        assert post_form(browser, "/forgot-password", {"email": officer.email}).status_code == 200
        print(f"\npage while SMTP hangs: {page_took * 1000:.0f} ms; first request + 3 more: "
              f"{time.monotonic() - start:.2f} s")

        # The worker times out (MAIL_TIMEOUT=1) and records the failure, with its backoff.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            failing = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.attempts > 0)).all()
            if len(failing) == 2:
                break
            time.sleep(0.05)
        assert len(failing) == 2 and all(message.sent_at is None and message.failed_at is None for message in failing)
        assert all("timed out" in message.last_error for message in failing)
        assert mailbox.messages == []

        silent.recover()
        frozen_clock.shift(timedelta(minutes=2))  # past the first backoff
        deadline = time.monotonic() + 10
        while len(mailbox.to(officer.email)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # a few more polls: nothing is sent twice
    assert not worker.is_alive()
    assert len(mailbox.to(officer.email)) == 2
    assert all(message.sent_at is not None for message in db.session.scalars(sa.select(OutboxMessage)))


def test_smtp_refused_for_a_week_drops_nothing_and_delivers_once(app, client, db, smtp_server, mailbox,
                                                                 make_user, frozen_clock):
    users = [make_user(Role.officer) for _ in range(3)]
    client.deliver_mail = False
    smtp_server.stop()
    try:
        for user in users:
            post_form(client, "/forgot-password", {"email": user.email})
        with app.app_context():
            for _ in range(7 * 24 * 2):  # a pass every 30 minutes for a week
                frozen_clock.shift(timedelta(minutes=30))
                send_due()
    finally:
        smtp_server.start()
    waiting = db.session.scalars(sa.select(OutboxMessage)).all()
    assert len(waiting) == 3
    assert all(message.failed_at is None and message.sent_at is None for message in waiting)
    assert all(message.attempts >= 7 * 24 for message in waiting)  # tried every hour at least (backoff cap)
    frozen_clock.shift(timedelta(hours=1))
    with app.app_context():
        assert send_due() == (3, 0)
        assert send_due(ignore_backoff=True) == (0, 0)
    for user in users:
        assert len(mailbox.to(user.email)) == 1


def _postgres_only(app):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SKIP LOCKED needs PostgreSQL; SQLite has one writer at a time")


def test_postgres_a_row_locked_by_another_sender_is_skipped(app, db, mailbox):
    _postgres_only(app)
    from app.extensions import db as app_db
    from app.outbox.service import queue_email
    from flask_babel import lazy_gettext

    with app.test_request_context():
        for number in range(4):
            queue_email(f"r{number}@example.org", "test_message", "en", lazy_gettext("Test"), sender_name="T",
                        base_url="http://localhost")
        app_db.session.commit()
    # Another sender is inside its claim transaction, holding the first two rows.
    locker = db.engine.connect()
    transaction = locker.begin()
    locker.execute(sa.text("SELECT id FROM outbox_messages ORDER BY id LIMIT 2 FOR UPDATE"))
    try:
        with app.app_context():
            assert send_due() == (2, 0)  # without SKIP LOCKED this would wait for the lock
    finally:
        transaction.rollback()
        locker.close()
    assert sorted(message["To"] for message in mailbox.messages) == ["r2@example.org", "r3@example.org"]


def test_postgres_two_workers_share_the_queue_and_never_send_twice(app, db, smtp_server, mailbox):
    _postgres_only(app)
    from app.extensions import db as app_db
    from app.outbox.service import queue_email
    from flask_babel import lazy_gettext

    with app.test_request_context():
        for number in range(60):
            queue_email(f"r{number}@example.org", "test_message", "en", lazy_gettext("Test"), sender_name="T",
                        base_url="http://localhost")
        app_db.session.commit()
    totals = []
    barrier = threading.Barrier(2)

    def work():
        with app.app_context():
            barrier.wait()
            sent = 0
            while True:
                batch_sent, _ = send_due(limit=5)
                sent += batch_sent
                if not batch_sent:
                    break
            totals.append(sent)

    workers = [threading.Thread(target=work) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert sum(totals) == 60 and all(total > 0 for total in totals), totals
    recipients = [message["To"] for message in mailbox.messages]
    assert len(recipients) == 60 and len(set(recipients)) == 60
