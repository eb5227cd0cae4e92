"""Permit verification: the key ring, the URL in the QR code, and the answer for a scanned token."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from flask import current_app, has_request_context, request

from app.clock import local_today
from app.database import writes
from app.documents.models import DocumentKind, IssuedDocument, VerificationCheck
from app.extensions import db
from app.registrations.models import Status
from app.verification.tokens import KeyRing, generate_key

OUTCOMES = ("valid", "not_yet_valid", "expired", "revoked", "unknown")


def keys_directory() -> Path:
    return Path(current_app.config.get("PERMIT_KEYS_DIR") or Path(current_app.instance_path) / "permit-keys")


def key_ring() -> KeyRing:
    """The process's key ring, loaded once; the first permit ever issued creates the first key."""
    ring = current_app.extensions.get("permit_key_ring")
    if ring is None:
        directory = keys_directory()
        if not directory.exists() or not any(directory.glob("*.pem")):
            generate_key(directory)
        ring = current_app.extensions["permit_key_ring"] = KeyRing.from_directory(directory)
    return ring


def reload_key_ring() -> None:
    current_app.extensions.pop("permit_key_ring", None)


def permit_url(document: IssuedDocument) -> str:
    from app.ops.addresses import require_permit_address

    base_url = require_permit_address()  # never print a QR code nobody can check
    token = key_ring().sign(document.id, document.valid_from, document.valid_until)
    return base_url.rstrip("/") + "/v/" + token


@dataclass
class Verdict:
    outcome: str  # one of OUTCOMES
    document: IssuedDocument | None = None


def check_token(token: str, today: date | None = None) -> Verdict:
    """What a checkpoint should be told about this token; every check is logged."""
    writes()  # a GET that writes (the log): the transaction takes the write lock from the start
    claims = key_ring().verify(token)
    if claims is None:
        # Another worker may have created or rotated a key since this one loaded the ring.
        reload_key_ring()
        claims = key_ring().verify(token)
    document = None
    if claims is not None:
        document = db.session.scalar(sa.select(IssuedDocument).where(
            IssuedDocument.id == claims.permit_id, IssuedDocument.kind == DocumentKind.permit))
    if claims is None or document is None or (document.valid_from, document.valid_until) != (
            claims.valid_from, claims.valid_until):
        verdict = Verdict("unknown")
    elif document.revoked_at is not None or document.registration.status is Status.revoked:
        verdict = Verdict("revoked", document)
    else:
        verdict = Verdict(claims.validity_on(today or local_today()), document)
    db.session.add(VerificationCheck(
        document_id=verdict.document.id if verdict.document else None,
        key_id=claims.key_id if claims else None, outcome=verdict.outcome,
        ip_address=(request.remote_addr or "")[:45] or None if has_request_context() else None))
    db.session.flush()
    return verdict
