"""Permit verification: the key ring, the URL in the QR code, and the answer for a scanned token.

What a scan shows comes from the permit as issued (its PermitHolder record), never from the
live crew data (DESIGN.md section 6).

A checkpoint may scan a coach full of permits in a minute, so a scan is made to cost little
(issue 15: the page near the server's limit), without ever answering from stale data:

- One SELECT per scan reads everything the page shows (the permit, its registration's status and
  revocation, the holder as approved), always fresh: a revocation shows at the very next scan.
- The rendered page is kept per process (`PageCache`), under a key made of every value that SELECT
  returned, the verdict, the language and the address. A page is reused only when a new render
  would be the same page, letter for letter, except the time of the check, which is put in per scan.
  A revocation, a photo removed under the retention rules, a restored database: the row differs,
  so the key differs, and the page is made again.
- The check is logged through a per-process buffer (`CheckLog`), written by a background thread
  in one multi-row INSERT every VERIFICATION_CHECK_FLUSH_SECONDS: a scan neither waits for a
  commit nor takes SQLite's write lock, so scans never queue behind one another's log entry.
"""
from __future__ import annotations

import atexit
import json
import logging
import os
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from pathlib import Path

import sqlalchemy as sa
from flask import Flask, current_app, has_request_context, request

from app.clock import local_now, local_today, utcnow
from app.database import writes
from app.documents.models import DocumentKind, IssuedDocument, PermitHolder, VerificationCheck
from app.extensions import db
from app.registrations.models import Registration, Status
from app.verification.tokens import KeyRing, TokenClaims, ensure_key

log = logging.getLogger(__name__)

OUTCOMES = ("valid", "not_yet_valid", "expired", "revoked", "unknown")
# Verdicts that show the holder as approved; a revoked permit shows only its number and name.
SHOWS_HOLDER = frozenset({"valid", "not_yet_valid", "expired"})


def keys_directory() -> Path:
    return Path(current_app.config.get("PERMIT_KEYS_DIR") or Path(current_app.instance_path) / "permit-keys")


def key_ring() -> KeyRing:
    """The process's key ring, loaded once; the first permit ever issued creates the first key."""
    ring = current_app.extensions.get("permit_key_ring")
    if ring is None:
        directory = keys_directory()
        ensure_key(directory)  # the first key, made once under the folder's lock however many servers race
        ring = current_app.extensions["permit_key_ring"] = KeyRing.from_directory(directory)
    return ring


def reload_key_ring() -> None:
    current_app.extensions.pop("permit_key_ring", None)


def permit_url(document: IssuedDocument) -> str:
    from app.ops.addresses import require_permit_address

    base_url = require_permit_address()  # never print a QR code nobody can check
    token = key_ring().sign(document.id, document.valid_from, document.valid_until)
    return base_url.rstrip("/") + "/v/" + token


# --- the one query ------------------------------------------------------------------------------

_documents, _registrations, _holders = IssuedDocument.__table__, Registration.__table__, PermitHolder.__table__
_HOLDER_FIELDS = ("full_name", "nationality", "role", "outlet_name", "photo_stored_name", "photo_content_type",
                  "photo_sha256", "conditions_vi", "conditions_en", "escort_name", "escort_phone",
                  "approval_letter_number")
# Core, on the tables: a scan needs values, not ORM objects in an identity map (and none is
# flushed). The places are read as their JSON text, so the whole row can key the page cache; they
# are parsed only when the page is rendered.
PERMIT_QUERY = (
    sa.select(_documents.c.id, _documents.c.valid_from, _documents.c.valid_until, _documents.c.issue_date,
              _documents.c.series, _documents.c.year, _documents.c.number, _documents.c.revoked_at,
              _registrations.c.status, _registrations.c.revoked_at.label("registration_revoked_at"),
              _holders.c.document_id.label("holder_document_id"),
              *(_holders.c[name] for name in _HOLDER_FIELDS),
              sa.cast(_holders.c.places, sa.Text).label("places_json"))
    .select_from(_documents.join(_registrations, _registrations.c.id == _documents.c.registration_id)
                 .outerjoin(_holders, _holders.c.document_id == _documents.c.id))
    .where(_documents.c.id == sa.bindparam("permit_id"), _documents.c.kind == DocumentKind.permit)
)


def read_permit(permit_id: int) -> sa.Row | None:
    """The permit row of PERMIT_QUERY, in one statement.

    On PostgreSQL, when the request has not begun a transaction yet (an anonymous scan), the SELECT
    runs in autocommit: one round trip instead of BEGIN, SELECT and ROLLBACK, and a single statement
    is a consistent snapshot by itself. SQLite begins and ends its transactions in-process.
    """
    session = db.session()
    if db.engine.dialect.name == "postgresql" and not session.in_transaction():
        connection = session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    else:
        connection = session.connection()
    return connection.execute(PERMIT_QUERY, {"permit_id": permit_id}).first()


@dataclass
class Verdict:
    outcome: str  # one of OUTCOMES
    row: sa.Row | None = None  # PERMIT_QUERY's row, as read for this scan
    claims: TokenClaims | None = None
    checked_at: datetime = field(default_factory=local_now)  # the province's time

    @cached_property
    def document(self) -> IssuedDocument | None:
        """The permit as read for this scan: a transient object (never added to the session)."""
        row = self.row
        if row is None:
            return None
        return IssuedDocument(id=row.id, kind=DocumentKind.permit, valid_from=row.valid_from,
                              valid_until=row.valid_until, issue_date=row.issue_date, series=row.series,
                              year=row.year, number=row.number, revoked_at=row.revoked_at)

    @cached_property
    def holder(self) -> PermitHolder | None:
        """The holder as approved, as read for this scan (transient), or None without a holder record."""
        row = self.row
        if row is None or row.holder_document_id is None:
            return None
        places = json.loads(row.places_json) if row.places_json else None
        return PermitHolder(document_id=row.holder_document_id, places=places or [],
                            **{name: getattr(row, name) for name in _HOLDER_FIELDS})

    @property
    def document_id(self) -> int | None:
        return self.row.id if self.row is not None else None

    @property
    def shows_holder(self) -> bool:
        return self.outcome in SHOWS_HOLDER and self.holder is not None

    @property
    def role(self):
        return self.holder.crew_role if self.holder is not None else None

    def places(self, locale: str) -> list[dict]:
        """The approved places in the reader's language, with their days as dates."""
        return [{"name": place.get(locale) or place.get("vi") or "", "border": bool(place.get("border")),
                 "days": [date.fromisoformat(day) for day in place.get("days", [])]}
                for place in (self.holder.places if self.holder is not None else [])]

    def conditions(self, locale: str) -> str:
        return self.holder.conditions_in(locale) if self.holder is not None else ""

    @property
    def revoked_at(self) -> datetime | None:
        if self.row is None:
            return None
        return self.row.revoked_at or self.row.registration_revoked_at


def read_claims(token: str) -> TokenClaims | None:
    claims = key_ring().verify(token)
    if claims is None:
        # Another worker may have created or rotated a key since this one loaded the ring.
        reload_key_ring()
        claims = key_ring().verify(token)
    return claims


def check_token(token: str, today: date | None = None) -> Verdict:
    """What a checkpoint should be told about this token, read in one query; nothing is written."""
    claims = read_claims(token)
    row = read_permit(claims.permit_id) if claims is not None else None
    if row is None or (row.valid_from, row.valid_until) != (claims.valid_from, claims.valid_until):
        return Verdict("unknown", claims=claims)
    if row.revoked_at is not None or row.status is Status.revoked:
        return Verdict("revoked", row, claims)
    return Verdict(claims.validity_on(today or local_today()), row, claims)


# --- the rendered pages -------------------------------------------------------------------------

class PageCache:
    """Rendered verification pages of this process, the least recently used dropped first.

    Bounded by entries (VERIFICATION_PAGE_CACHE_SIZE, each a few kilobytes). Forged or unknown
    tokens are not kept (the caller's choice): a flood of made-up tokens cannot push out the real
    permits' pages.
    """

    def __init__(self, size: int):
        self.size = size
        self._pages: OrderedDict[tuple, object] = OrderedDict()
        self._lock = threading.Lock()  # a threaded worker (gthread) shares it between requests

    def get(self, key: tuple):
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
            return page

    def put(self, key: tuple, page) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._pages[key] = page
            self._pages.move_to_end(key)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)

    def __len__(self) -> int:
        return len(self._pages)


def page_cache() -> PageCache:
    cache = current_app.extensions.get("verification_pages")
    if cache is None:
        cache = current_app.extensions["verification_pages"] = PageCache(
            int(current_app.config.get("VERIFICATION_PAGE_CACHE_SIZE", 1000)))
    return cache


# --- the check log ------------------------------------------------------------------------------

def check_row(verdict: Verdict) -> dict:
    """The verification_checks row of a scan, with its time and the scanner's address taken now."""
    return dict(checked_at=utcnow(), document_id=verdict.document_id,
                key_id=verdict.claims.key_id if verdict.claims else None, outcome=verdict.outcome, offline=False,
                ip_address=(request.remote_addr or "")[:45] or None if has_request_context() else None)


class CheckLog:
    """The scans of this process not written yet, flushed in one INSERT by a background thread.

    Choice: a buffer rather than an INSERT and a commit per scan. The commit made every scan wait
    for the database's write to disk (and, on SQLite, for the one write lock, so scans queued behind
    each other); now a scan appends a row in memory, and one multi-row INSERT per FLUSH_SECONDS
    writes them all.

    Risk, bounded: rows not yet written are lost if the process dies without running its exit
    handlers (SIGKILL, the OOM killer, gunicorn killing a worker past its timeout, a power cut):
    at most `flush_seconds` of scans (1 s by default) of that worker, or `max_rows` if more came
    in that time. A normal stop (gunicorn's SIGTERM or SIGHUP, max_requests, the end of a command)
    flushes at exit (atexit). The verdict itself never depends on the log. A flush that fails (the
    database down) keeps the rows for the next one, up to `max_rows` x 10, then drops the oldest,
    logged: memory stays bounded while the database is away.
    """

    def __init__(self, app: Flask, flush_seconds: float, max_rows: int):
        self._app = weakref.ref(app)  # the buffer must not keep a finished test's app alive
        self.flush_seconds = flush_seconds
        self.max_rows = max_rows
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._rows: list[dict] = []
        self._wake = threading.Event()
        self._pid = os.getpid()
        self._thread: threading.Thread | None = None
        self._stopped = False
        atexit.register(self.stop)

    def add(self, row: dict) -> None:
        with self._lock:
            if self._pid != os.getpid():  # a forked worker: the rows copied from the parent are the parent's
                self._pid, self._rows, self._thread = os.getpid(), [], None
                self._wake = threading.Event()
            self._rows.append(row)
            if self._thread is None:  # started by the first scan, in the process that serves it
                self._thread = threading.Thread(target=self._run, name="verification-check-log", daemon=True)
                self._thread.start()
            if len(self._rows) >= self.max_rows:
                self._wake.set()

    def pending(self) -> int:
        with self._lock:
            return len(self._rows)

    def flush(self) -> int:
        """Write the rows buffered so far (in a transaction of its own); the number written."""
        app = self._app()
        if app is None:
            return 0
        with self._flush_lock:  # one flush at a time: the thread's, and the one at exit
            with self._lock:
                rows, self._rows = self._rows, []
            if not rows:
                return 0
            try:
                with app.app_context():
                    try:
                        db.session.execute(sa.insert(VerificationCheck), rows)
                        db.session.commit()
                    finally:
                        db.session.remove()
            except Exception:
                log.exception("could not write %d permit check(s); kept for the next attempt", len(rows))
                with self._lock:
                    self._rows[:0] = rows
                    overflow = len(self._rows) - self.max_rows * 10
                    if overflow > 0:
                        del self._rows[:overflow]
                        log.error("dropped the %d oldest unwritten permit check(s)", overflow)
                return 0
            return len(rows)

    def _run(self) -> None:
        wake = self._wake
        while not self._stopped and self._app() is not None:
            wake.wait(self.flush_seconds)
            wake.clear()
            self.flush()

    def stop(self) -> None:
        """At exit (and in tests): write what is left."""
        self._stopped = True
        self._wake.set()
        if self._pid == os.getpid():
            self.flush()


def check_log() -> CheckLog | None:
    """This app's buffer, or None when checks are written in the request (flush seconds 0).

    VERIFICATION_CHECK_FLUSH_SECONDS defaults to 1 s, and to 0 under TESTING, where the other
    areas' tests read a scan's row right after the request; tests/test_verification.py tests the
    buffer itself."""
    app = current_app._get_current_object()
    log_buffer = app.extensions.get("verification_check_log")
    if log_buffer is None:
        seconds = float(app.config.get("VERIFICATION_CHECK_FLUSH_SECONDS", 0 if app.testing else 1.0))
        if seconds <= 0:
            return None
        log_buffer = app.extensions["verification_check_log"] = CheckLog(
            app, seconds, int(app.config.get("VERIFICATION_CHECK_BUFFER_ROWS", 500)))
    return log_buffer


def record_check(verdict: Verdict) -> None:
    """Log the scan, after the page is made: into the buffer, or in a short write transaction of its own."""
    row = check_row(verdict)
    buffer = check_log()
    if buffer is not None:
        buffer.add(row)
        return
    writes()
    # A Core insert: one row that nothing reads back, so no unit of work to flush.
    db.session.execute(sa.insert(VerificationCheck).values(**row))
    db.session.commit()
