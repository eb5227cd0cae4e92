"""Engine settings and the commit at the edge of a request or command."""
from __future__ import annotations

from flask import Flask
from sqlalchemy import event

from app.extensions import db


def install_sqlite_pragmas(app: Flask) -> None:
    """WAL, a busy timeout and immediate write locks for the embedded SQLite database.

    pysqlite starts transactions lazily, so two requests that both read and then
    write can deadlock and one fails at once with "database is locked" (the busy
    timeout is not consulted for that case). Taking the write lock at BEGIN makes
    such requests wait their turn instead: acceptable for the embedded database,
    whose writers are a department's staff, not thousands of clients.
    """
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "sqlite":
        return
    busy_timeout = int(app.config["SQLITE_BUSY_TIMEOUT_MS"])

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, connection_record):
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {busy_timeout}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
