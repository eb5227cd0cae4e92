"""Write audit events. Never pass passwords or tokens in `before` or `after`."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import has_request_context, request

from app.audit.models import AuditEvent
from app.extensions import db

SECRET_KEYS = {"password", "password_hash", "token", "token_hash", "secret"}


def snapshot(record, names) -> dict[str, Any]:
    """The named attributes of `record` as JSON values for `before`/`after`: enums by name, dates ISO."""
    values = {}
    for name in names:
        value = getattr(record, name)
        values[name] = value.name if hasattr(value, "name") else (
            value.isoformat() if isinstance(value, (date, datetime)) else value)
    return values


def record_event(
    action: str,
    *,
    actor=None,
    actor_email: str | None = None,
    subject=None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event to the current transaction (flushed, not committed).

    `subject` is the object acted on: any model with an `id`; its table name is
    stored as the object type.
    """
    event = AuditEvent(
        action=action,
        actor_id=actor.id if actor is not None else None,
        actor_email=actor_email or (actor.email if actor is not None else None),
        object_type=subject.__tablename__ if subject is not None else None,
        object_id=str(subject.id) if subject is not None else None,
        before=_without_secrets(before),
        after=_without_secrets(after),
    )
    if has_request_context():
        event.ip_address = (request.remote_addr or "")[:45] or None
        event.user_agent = (request.user_agent.string or "")[:300] or None
    db.session.add(event)
    db.session.flush()
    return event


def _without_secrets(values: dict[str, Any] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    return {key: value for key, value in values.items() if key not in SECRET_KEYS}
