"""Engine settings, and which SQLite transactions take the write lock.

SQLite (WAL mode) has one writer at a time and any number of readers, who read a snapshot and
never wait for the writer. PressDesk chooses, when a transaction begins, whether it will write:

- A request that reads only (GET, HEAD, OPTIONS) begins a deferred transaction (`BEGIN`): it
  never takes the write lock, so a page answers at once while a long write is under way. (Known
  by a before_request hook, so code run in a bare test_request_context, as test factories do,
  counts as a writer.)
- A request that may write (POST and the other methods), a CLI command and a worker begin
  `BEGIN IMMEDIATE`: the write lock is taken at the start. With SQLite's deferred transactions,
  two requests that both read and then write deadlock, and one fails at once with "database is
  locked" whatever the busy timeout (SQLite cannot wait for a lock held by a reader that wants to
  write). Taking the write lock at BEGIN makes writers queue (up to SQLITE_BUSY_TIMEOUT_MS)
  instead of failing: acceptable for the embedded database of one department.
- The few GETs that write (the verification page logs every check) call `writes()` first; a
  read-only CLI command may run inside `reading()`.
- Slow work (decoding an image, copying files) runs inside `slow_work()`: the transaction open so
  far (which has written nothing) is ended, the work runs holding no lock, and the next statement
  begins a new (write) transaction, in which the caller checks again what it checked before.

A deferred transaction that tries to write is a bug (the view lacks `writes()`): under TESTING it
raises, elsewhere it is logged and SQLite upgrades the lock if it can. PostgreSQL is not affected:
its transactions begin as usual and `writes()`/`slow_work()` only end an idle transaction.

Documents are still rendered inside the decision's transaction (the register number taken there is
printed on the PDF): see app/documents/service.py.

A server's pooled connection is pinged before use only when it sat idle for
DATABASE_PING_AFTER_IDLE_SECONDS (`_ping_after_idle`), not at every checkout as SQLAlchemy's
pool_pre_ping does: that ping is a round trip before each request's first statement, and on the
permit check (one statement) it was a quarter of the server's CPU (2.76 -> 2.00 ms per scan under
gunicorn, bench/bench_checkpoint.py, 2026-12-03). Choice: after a restart of PostgreSQL, a
connection idle longer than that is replaced before use, as before; one that was in use moments
earlier fails its request once (the error page, nothing saved), and SQLAlchemy then replaces the
process's whole pool. A firewall that drops idle connections only drops idle ones, which are pinged.

The database file and its -wal and -shm are made 0600 when a connection opens (SQLite gives the
-wal and -shm the main file's mode), so only the service user reads them.
"""
from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import stat
import time
from collections.abc import Iterator

from flask import Flask, has_request_context, request
from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError

from app.extensions import db

log = logging.getLogger(__name__)

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# WSGI environ keys (per request: `g` lives as long as the app context, which a request may share).
READ_REQUEST = "pressdesk.read_request"  # a GET (HEAD, OPTIONS) request is being dispatched
WRITING_REQUEST = "pressdesk.writes"  # ... that said it writes (writes())
DEFERRED = "pressdesk_deferred"  # connection.info key: the open transaction began deferred
WROTE = "pressdesk_wrote"  # connection.info key: the open transaction has written
# session.info key: files written for the transaction under way (app/uploads.py deletes them if it
# does not commit). Ending a read transaction around slow work keeps them for the next one.
FILES_WRITTEN = "pressdesk_files_written"
IDLE_SINCE = "pressdesk_idle_since"  # connection record info key: when it went back to the pool
WRITE_PREFIXES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
DATABASE_FILE_MODE = 0o600

# None: decided by the request method (or "write" outside a request); "read" or "write": forced.
_intent: contextvars.ContextVar[str | None] = contextvars.ContextVar("pressdesk_transaction_intent", default=None)


class ReadTransactionWrite(RuntimeError):
    """A statement that writes ran in a deferred (read-only) transaction."""


def _wants_write() -> bool:
    forced = _intent.get()
    if forced is not None:
        return forced == "write"
    if has_request_context() and request.environ.get(READ_REQUEST, False):
        return request.environ.get(WRITING_REQUEST, False)
    # A POST, a CLI command, a worker, and code run in a bare test_request_context (factories).
    return True


def _end_idle_transaction() -> None:
    """End the open transaction, which must not have written anything (there is nothing to keep)."""
    session = db.session()
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("unflushed changes: do the slow work before changing anything")
    if session.in_transaction():
        if session.connection().info.get(WROTE):
            raise RuntimeError("this transaction has written: do the slow work before writing")
        _rollback_keeping_files()


def _rollback_keeping_files() -> None:
    files = db.session.info.pop(FILES_WRITTEN, None)
    try:
        db.session.rollback()
    finally:
        if files:
            db.session.info[FILES_WRITTEN] = files


def writes() -> None:
    """Mark the current request as one that writes although it is a GET (call before writing).

    If a read transaction is already open (loading the user began one), it is ended, so the
    next statement begins with the write lock."""
    if has_request_context():
        request.environ[WRITING_REQUEST] = True
    if db.session().in_transaction() and db.session.connection().info.get(DEFERRED):
        _end_idle_transaction()


@contextlib.contextmanager
def reading() -> Iterator[None]:
    """Inside the block, new transactions are deferred (read-only CLI commands, reports)."""
    token = _intent.set("read")
    try:
        yield
    finally:
        _intent.reset(token)


@contextlib.contextmanager
def writing() -> Iterator[None]:
    """Inside the block, new transactions take the write lock: a short write of its own on a
    separate connection during a read request (a session's "last seen" time)."""
    token = _intent.set("write")
    try:
        yield
    finally:
        _intent.reset(token)


@contextlib.contextmanager
def slow_work() -> Iterator[None]:
    """Run the block holding no database lock: decode images, render, copy files.

    The open transaction (it must not have written) is ended first; whatever the block reads
    is read in a deferred transaction, ended afterwards. Objects loaded before are expired and
    reload on their next use, so the caller sees the database as it is after the work."""
    _end_idle_transaction()
    token = _intent.set("read")
    try:
        yield
    finally:
        _intent.reset(token)
        if db.session().in_transaction():
            _rollback_keeping_files()


def install_engine_events(app: Flask) -> None:
    """Note which transactions wrote (any database); on SQLite: WAL, a busy timeout, mode 0600,
    and the write lock only for transactions that write."""
    with app.app_context():
        engine = db.engine
    sqlite = engine.dialect.name == "sqlite"
    strict = bool(app.config.get("TESTING"))

    def _note_read_request() -> None:
        if request.method in READ_METHODS:
            request.environ.setdefault(READ_REQUEST, True)

    # First of all hooks: some (the locale, the session) load the user and so begin the transaction.
    app.before_request_funcs.setdefault(None, []).insert(0, _note_read_request)

    @event.listens_for(engine, "before_cursor_execute")
    def _on_execute(connection, cursor, statement, parameters, context, executemany):
        if not statement.lstrip()[:7].upper().startswith(WRITE_PREFIXES):
            return
        connection.info[WROTE] = True
        if connection.info.get(DEFERRED):
            where = f"{request.method} {request.path}" if has_request_context() else "outside a request"
            message = (f"a write in a read-only transaction ({where}): call app.database.writes() "
                       f"before the first query of a GET that writes; statement: {statement[:80]}")
            if strict:
                raise ReadTransactionWrite(message)
            log.warning(message)

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.info[WROTE] = False
        if sqlite:
            deferred = not _wants_write()
            connection.info[DEFERRED] = deferred
            connection.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _on_end(connection):
        connection.info.pop(DEFERRED, None)
        connection.info.pop(WROTE, None)

    if not sqlite:
        _ping_after_idle(engine, float(app.config["DATABASE_PING_AFTER_IDLE_SECONDS"]))
        return
    busy_timeout = int(app.config["SQLITE_BUSY_TIMEOUT_MS"])
    database_path = engine.url.database if engine.url.database not in (None, "", ":memory:") else None

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, connection_record):
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        if database_path:
            # Before WAL mode: SQLite creates -wal and -shm with the database file's mode.
            _restrict(database_path)
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {busy_timeout}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()
        if database_path:
            for suffix in ("-wal", "-shm"):
                _restrict(database_path + suffix)


def _ping_after_idle(engine, seconds: float) -> None:
    """Ping a pooled connection before use when it has been idle `seconds` or longer (see the
    module docstring); a new one is not pinged, and one that fails the ping is replaced (the pool
    tries a new connection when a checkout handler raises DisconnectionError)."""

    @event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_connection, connection_record):
        connection_record.info[IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection, connection_record, connection_proxy):
        idle_since = connection_record.info.pop(IDLE_SINCE, None)
        if idle_since is None or time.monotonic() - idle_since < seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # whatever broke it, this connection is not to be used
            log.info("a pooled database connection idle for %.0f s failed its ping (%s): replaced",
                     time.monotonic() - idle_since, type(error).__name__)
            raise DisconnectionError(str(error)) from error


def _restrict(path: str) -> None:
    """Readable and writable by the service user only (a file of someone else is left alone)."""
    with contextlib.suppress(FileNotFoundError, PermissionError):
        if stat.S_IMODE(os.stat(path).st_mode) != DATABASE_FILE_MODE:
            os.chmod(path, DATABASE_FILE_MODE)
