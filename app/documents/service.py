"""Issuing documents: numbers from the register, PDFs made once, stored with their SHA-256.

Called by the registration service inside the decision's transaction, so a decision and
its documents are saved together or not at all, and a number is never used twice or skipped.

The PDFs are therefore rendered while the decision holds SQLite's write lock (app/database.py):
each letter prints the register number taken in this transaction, and each permit's QR token
signs the permit's row id, both known only once the rows are written. Rendering first would
mean reserving numbers and ids in an earlier transaction (leaving gaps in the register when the
decision then fails) or rendering with predicted ones and again on a mismatch. Stored with
store_generated_pdf: no upload checks for PDFs made here.
"""
from __future__ import annotations


from flask import current_app

from app.audit.service import record_event
from app.authority import authority_profile
from app.clock import local_today
from app.db import next_in_sequence, utcnow
from app.documents import texts
from app.documents.models import DocumentCounter, DocumentKind, IssuedDocument
from app.extensions import db
from app.uploads import open_stored, store_generated_pdf

LETTER_KINDS = (DocumentKind.approval_letter, DocumentKind.refusal_letter, DocumentKind.notification_letter)


def _register(kind: DocumentKind, registration, signer, **fields) -> IssuedDocument:
    """A new register entry, numbered in its series for the current year."""
    today = local_today()
    document = IssuedDocument(registration_id=registration.id, kind=kind, issue_date=today,
                              signer_id=signer.id if signer else None,
                              signer_name=signer.full_name if signer else "", **fields)
    if kind is not DocumentKind.permit_set:
        series = authority_profile().document_symbols[kind.name if kind is not DocumentKind.permit else "permit"]
        document.series, document.year = series, today.year
        document.number = next_in_sequence(DocumentCounter, series=series, year=today.year)
    db.session.add(document)
    db.session.flush()
    return document


def _store(document: IssuedDocument, pdf: bytes, *, sign: bool) -> None:
    if sign and current_app.config.get("SIGNING_CERT_FILE") and current_app.config.get("SIGNING_KEY_FILE"):
        from app.documents.signing import sign_pdf

        profile = authority_profile()
        passphrase = current_app.config.get("SIGNING_KEY_PASSPHRASE")
        pdf = sign_pdf(pdf, cert_path=current_app.config["SIGNING_CERT_FILE"],
                       key_path=current_app.config["SIGNING_KEY_FILE"],
                       passphrase=passphrase.encode() if passphrase else None,
                       reason=f"{document.register_number}", location=profile.place_name,
                       signer_name=document.signer_name)
        document.digitally_signed = True
    stored = store_generated_pdf(pdf, f"{document.kind.name}.pdf")
    document.stored_name, document.size, document.sha256 = stored.stored_name, stored.size, stored.sha256
    db.session.flush()
    record_event("document.issued", subject=document.registration, after={
        "kind": document.kind.name, "register_number": document.register_number, "sha256": document.sha256,
        "document_id": document.id})


def issue_approval(registration, leader) -> list[IssuedDocument]:
    """The approval letter, the notification letter, a permit per crew member and the print-all set."""
    from app.documents.letters import render_letter
    from app.documents.permits import render_permit, render_permit_sheet
    from app.ops.addresses import require_permit_address

    require_permit_address()  # before any number is taken or file written: refused means nothing issued
    issued = []
    for kind, build in ((DocumentKind.approval_letter, texts.approval_letter),
                        (DocumentKind.notification_letter, texts.notification_letter)):
        document = _register(kind, registration, leader)
        _store(document, render_letter(build(registration, document, leader)), sign=True)
        issued.append(document)
    from app.documents.holders import record_holder

    permits = []
    for member in registration.crew_members:
        document = _register(DocumentKind.permit, registration, leader, crew_member_id=member.id,
                             valid_from=registration.start_date, valid_until=registration.end_date)
        record_holder(document, registration, member, approval_letter=issued[0])
        content = texts.permit(registration, member, document)
        _store(document, render_permit(content), sign=False)
        permits.append(content)
        issued.append(document)
    document = _register(DocumentKind.permit_set, registration, leader)
    _store(document, render_permit_sheet(permits), sign=False)
    issued.append(document)
    return issued


def issue_refusal(registration, leader) -> IssuedDocument:
    from app.documents.letters import render_letter

    document = _register(DocumentKind.refusal_letter, registration, leader)
    _store(document, render_letter(texts.refusal_letter(registration, document, leader)), sign=True)
    return document


def revoke_documents(registration, reason: str) -> int:
    """Revoke every live document of a registration: its permits stop verifying at once."""
    count = 0
    for document in live_documents(registration):
        document.revoked_at = utcnow()
        document.revocation_reason = reason
        count += 1
    db.session.flush()
    if count:
        record_event("document.revoked", subject=registration, after={"documents": count, "reason": reason})
    return count


def live_documents(registration) -> list[IssuedDocument]:
    import sqlalchemy as sa

    return list(db.session.scalars(sa.select(IssuedDocument).where(
        IssuedDocument.registration_id == registration.id, IssuedDocument.revoked_at.is_(None))
        .order_by(IssuedDocument.id)))


def document_bytes(document: IssuedDocument) -> bytes:
    with open_stored(document.stored_name) as stored:
        return stored.read()


# --- previews of a draft decision (DESIGN.md section 4) ------------------------------------------

PREVIEW_KINDS = ("approval_letter", "notification_letter", "permits", "refusal_letter")


def render_preview(registration, kind: str, signer) -> bytes:
    """The document the decision would issue, from the same builders and renderers as `issue_*`,
    watermarked DỰ THẢO / DRAFT, with no number, no date and no QR token. Nothing is stored."""
    from app.documents.letters import render_letter
    from app.documents.permits import render_permits

    if kind == "permits":
        return render_permits([texts.permit(registration, member,
                                            texts.DraftStamp(DocumentKind.permit, registration, member))
                               for member in registration.crew_members])
    build = {"approval_letter": texts.approval_letter, "notification_letter": texts.notification_letter,
             "refusal_letter": texts.refusal_letter}[kind]
    return render_letter(build(registration, texts.DraftStamp(DocumentKind[kind], registration), signer))


def issue_consultation_letter(consultation, officer) -> IssuedDocument:
    """The consultation letter (công văn xin ý kiến) of `consultation`, numbered in its own series.

    The series is the profile's document_symbols["consultation_letter"]; a profile written before
    that key existed gets the approval letters' symbol with ".XYK" (xin ý kiến) appended, so the
    letter still has a series of its own and never takes a number of the decision letters.
    """
    from app.documents.consultation_letter import consultation_letter
    from app.documents.letters import render_letter

    registration = consultation.registration
    symbols = authority_profile().document_symbols
    series = symbols.get("consultation_letter") or f"{symbols.get('approval_letter', 'UBND')}.XYK"
    today = local_today()
    document = IssuedDocument(registration_id=registration.id, kind=DocumentKind.consultation_letter,
                              issue_date=today, signer_id=officer.id, signer_name=officer.full_name,
                              series=series, year=today.year,
                              number=next_in_sequence(DocumentCounter, series=series, year=today.year))
    db.session.add(document)
    db.session.flush()
    _store(document, render_letter(consultation_letter(consultation, document, officer)), sign=True)
    return document
