"""The schema comes from the migrations; SQLite is set up for concurrent requests."""
from __future__ import annotations

import os
import threading
import time

import flask_migrate
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app import create_app
from app.extensions import db as app_db
from tests.conftest import make_test_config, throwaway_postgres_database


@pytest.fixture
def empty_database_url(tmp_path):
    """A database with no tables at all: a new SQLite file, or a new PostgreSQL database."""
    if not os.environ.get("TEST_DATABASE_URL"):
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    with throwaway_postgres_database("pressdesk_migrations") as url:
        yield url


def test_migrations_build_exactly_the_models_schema_and_downgrade_to_nothing(empty_database_url, smtp_server):
    app = create_app(make_test_config(empty_database_url, smtp_server))
    with app.app_context():
        flask_migrate.upgrade()
        with app_db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                                   "compare_server_default": True})
            differences = compare_metadata(context, app_db.metadata)
        assert differences == []
        tables = set(sa.inspect(app_db.engine).get_table_names())
        assert set(app_db.metadata.tables) <= tables

        flask_migrate.downgrade(revision="base")
        assert set(sa.inspect(app_db.engine).get_table_names()) <= {"alembic_version"}
        app_db.session.remove()
        app_db.engine.dispose()


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(app):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SQLite settings; this run uses PostgreSQL")
    with app.app_context():
        with app_db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 15000
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_concurrent_read_then_write_transactions_do_not_fail(app, db):
    """Eight workers read, then write, at the same time: none sees "database is locked"."""
    from app.audit.models import AuditEvent
    from app.audit.service import record_event

    workers, rounds = 8, 15
    errors = []
    start = threading.Barrier(workers)

    def work(number: int):
        start.wait()
        for _ in range(rounds):
            with app.app_context():
                try:
                    seen = app_db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
                    record_event("test.concurrent", actor_email=f"worker{number}@example.org", after={"seen": seen})
                    app_db.session.commit()
                except Exception as error:  # collected and asserted below
                    errors.append(error)
                    app_db.session.rollback()
                finally:
                    app_db.session.remove()

    threads = [threading.Thread(target=work, args=(number,)) for number in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == workers * rounds


def test_the_database_files_are_for_the_service_user_only(app, tmp_path, smtp_server):
    """The SQLite file and its -wal and -shm: 0600, even where the umask would give 0644."""
    import stat

    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SQLite files; this run uses PostgreSQL")
    path = tmp_path / "modes.db"
    previous = os.umask(0o022)
    try:
        other = create_app(make_test_config(f"sqlite:///{path}", smtp_server))
        with other.app_context():
            app_db.create_all()
            app_db.session.execute(sa.text("SELECT 1"))
            modes = {suffix: stat.S_IMODE(os.stat(f"{path}{suffix}").st_mode) for suffix in ("", "-wal", "-shm")}
            app_db.session.remove()
            app_db.engine.dispose()
    finally:
        os.umask(previous)
    assert modes == {"": 0o600, "-wal": 0o600, "-shm": 0o600}


def test_the_instance_folder_and_the_development_key_are_private(tmp_path):
    """instance/ (0700) and the generated development secret key (0600), also when they existed
    before with looser modes."""
    import stat

    from flask import Flask

    from app import _development_secret_key

    instance = tmp_path / "instance"
    previous = os.umask(0o022)
    try:
        fresh = Flask("modes", instance_path=str(instance))
        key = _development_secret_key(fresh)
        assert stat.S_IMODE(instance.stat().st_mode) == 0o700
        assert stat.S_IMODE((instance / "development-secret-key").stat().st_mode) == 0o600
        instance.chmod(0o755)
        (instance / "development-secret-key").chmod(0o644)
        assert _development_secret_key(fresh) == key  # the same key, now private again
        assert stat.S_IMODE(instance.stat().st_mode) == 0o700
        assert stat.S_IMODE((instance / "development-secret-key").stat().st_mode) == 0o600
    finally:
        os.umask(previous)


postgres_only = pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"),
                                   reason="a database server's pooled connections: PostgreSQL only")


def backend_pid() -> int:
    """The server process of the connection the session holds (then given back to the pool)."""
    pid = app_db.session.scalar(sa.text("SELECT pg_backend_pid()"))
    app_db.session.remove()
    return pid


def terminate(url: str, pid: int) -> None:
    """Drop one connection as a restart of the server (or a firewall) would, and wait until it is gone."""
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            assert connection.scalar(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            for _ in range(100):
                if not connection.scalar(sa.text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"),
                                         {"pid": pid}):
                    break
                time.sleep(0.05)
    finally:
        admin.dispose()


@postgres_only
def test_a_connection_dropped_while_idle_is_replaced_before_use(make_app):
    application = make_app(DATABASE_PING_AFTER_IDLE_SECONDS=0.2)
    with application.app_context():
        first = backend_pid()
        time.sleep(0.3)
        terminate(application.config["SQLALCHEMY_DATABASE_URI"], first)
        assert backend_pid() != first  # the ping found it gone: a new connection answered, no error


def counted_pings(monkeypatch) -> list:
    """The connections the current app's engine pings from now on (each ping still sent)."""
    dialect, pings = app_db.engine.dialect, []
    real_ping = dialect.do_ping
    monkeypatch.setattr(dialect, "do_ping", lambda connection: pings.append(connection) or real_ping(connection))
    return pings


@postgres_only
def test_a_connection_in_steady_use_is_not_pinged(make_app, monkeypatch):
    application = make_app(DATABASE_PING_AFTER_IDLE_SECONDS=30)
    with application.app_context():
        pings = counted_pings(monkeypatch)
        pids = {backend_pid() for _ in range(5)}
        assert len(pids) == 1 and pings == []  # the same connection, five times, and no round trip before each
    other = make_app(DATABASE_PING_AFTER_IDLE_SECONDS=0)  # 0: a ping at every use, as pool_pre_ping
    with other.app_context():
        pings = counted_pings(monkeypatch)
        for _ in range(3):
            backend_pid()
        assert len(pings) == 2  # every use but the first (a new connection is not pinged)
