"""Readiness: what a load balancer and monitoring need to know, and nothing personal."""
from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import current_app

from app.clock import utcnow
from app.extensions import db, limiter

log = logging.getLogger(__name__)


def _database() -> dict:
    db.session.execute(sa.text("SELECT 1"))
    return {"ok": True}


def _rate_limit_storage() -> dict | None:
    """The rate-limit Redis, when that is the storage (memory:// has nothing to check)."""
    uri = str(current_app.config.get("RATELIMIT_STORAGE_URI") or "memory://")
    if not uri.startswith(("redis://", "rediss://", "redis+unix://")):
        return None
    # limiter.storage.check() pings Redis and says False (never raises) when it does not answer.
    return {"ok": bool(limiter.storage.check())}


def _outbox() -> dict:
    """How much mail waits to be sent and for how long (the staff banner's own query): reported,
    never a reason to be unready (an SMTP outage must not take the web site out of the load balancer)."""
    from app.outbox.service import mail_health

    health = mail_health()
    age = None
    if health.oldest_pending_at is not None:
        age = max(0, int((utcnow() - health.oldest_pending_at).total_seconds()))
    return {"ok": True, "backlog": health.pending, "oldest_unsent_age_seconds": age}


CHECKS = (("database", _database), ("rate_limit_storage", _rate_limit_storage), ("outbox", _outbox))


def readiness() -> tuple[bool, dict]:
    """(ready, report): each check's result; a check that raises is failing, named, logged."""
    checks, failing = {}, []
    for name, check in CHECKS:
        if name == "outbox" and "database" in failing:
            continue
        try:
            result = check()
        except Exception as error:
            log.warning("readiness check %s failed: %s", name, type(error).__name__)
            db.session.rollback()
            result = {"ok": False, "error": type(error).__name__}
        if result is None:
            continue
        checks[name] = result
        if not result["ok"]:
            failing.append(name)
    db.session.rollback()  # read only: end the transaction
    ready = not failing
    return ready, {"status": "ready" if ready else "not ready", "failing": failing, "checks": checks}
