"""The schema comes from the migrations; SQLite is set up for concurrent requests."""
from __future__ import annotations

import os
import threading

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
