"""Permit verification: the key ring, the URL in the QR code, and the answer for a scanned token.

What a scan shows comes from the permit as issued (its PermitHolder record), never from the
live crew data (DESIGN.md section 6). The answer is read in one query, the page rendered, and
only then the check written, so a scan holds no write lock while the page is made.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import sqlalchemy as sa
from flask import current_app, has_request_context, request
from sqlalchemy.orm import contains_eager, joinedload

from app.clock import local_now, local_today, utcnow
from app.database import writes
from app.documents.models import DocumentKind, IssuedDocument, VerificationCheck
from app.extensions import db
from app.registrations.models import Registration, Status
from app.verification.tokens import KeyRing, TokenClaims, generate_key

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
    claims: TokenClaims | None = None
    checked_at: datetime = field(default_factory=local_now)  # the province's time

    @property
    def holder(self):
        return self.document.holder if self.document is not None else None

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
        if self.document is None:
            return None
        return self.document.revoked_at or self.document.registration.revoked_at


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
    document = None
    if claims is not None:
        document = db.session.scalar(
            sa.select(IssuedDocument).join(IssuedDocument.registration)
            .options(contains_eager(IssuedDocument.registration), joinedload(IssuedDocument.holder))
            .where(IssuedDocument.id == claims.permit_id, IssuedDocument.kind == DocumentKind.permit))
    if claims is None or document is None or (document.valid_from, document.valid_until) != (
            claims.valid_from, claims.valid_until):
        return Verdict("unknown", claims=claims)
    registration: Registration = document.registration
    if document.revoked_at is not None or registration.status is Status.revoked:
        return Verdict("revoked", document, claims)
    return Verdict(claims.validity_on(today or local_today()), document, claims)


def record_check(verdict: Verdict) -> None:
    """Log the scan (after the page is made) in a short write transaction of its own."""
    document_id = verdict.document.id if verdict.document is not None else None
    writes()
    # A Core insert: one row that nothing reads back, so no unit of work to flush.
    db.session.execute(sa.insert(VerificationCheck).values(
        checked_at=utcnow(), document_id=document_id, key_id=verdict.claims.key_id if verdict.claims else None,
        outcome=verdict.outcome, offline=False,
        ip_address=(request.remote_addr or "")[:45] or None if has_request_context() else None))
    db.session.commit()
