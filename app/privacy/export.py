"""The correspondent's copy of their data (app/privacy/rights.py, "Download my data"): a ZIP with
``data.json``, the stored files under ``files/`` and a ``README.txt`` in English and Vietnamese.

What goes in is what the correspondent may already see, in full: their account (with its sign-in
history), the outlet, every crew member with the passport number and date of birth (their own
data: no masking here), the consents, the outlet's registrations with their itinerary,
attachments and messages, the issued documents they can download, the products they reported and
their privacy requests. Never what is the province's own: internal notes, consultations and their
letters, the officer's draft decision.

Loading (`collect`) happens in the request's transaction and returns plain values; the ZIP is
built (`build_zip`) after the commit, reading the stored files holding no database lock.
"""
from __future__ import annotations

import json
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO, Any, Optional

import sqlalchemy as sa
from flask import render_template
from flask_babel import force_locale
from sqlalchemy.orm import selectinload

from app.audit.models import AuditEvent
from app.auth.models import KnownDevice, User, UserSession
from app.clock import local_now
from app.documents.models import INTERNAL_KINDS, IssuedDocument
from app.extensions import db
from app.outlets.models import CrewMember
from app.privacy.models import PrivacyConsent, PrivacyRequest
from app.registrations.models import Registration
from app.uploads import download_name, open_stored, safe_filename, stored_path

FORMAT = "pressdesk-personal-data/1"
DATA_NAME = "data.json"
README_NAME = "README.txt"
ZIP_MEMORY_BYTES = 8 * 1024 * 1024  # beyond this the archive is spooled to a temporary file
READ_CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True)
class ExportFile:
    name: str  # in the ZIP, under files/
    stored_name: str


@dataclass
class PersonalDataExport:
    """Everything held, as JSON values, and the stored files to add beside it."""

    data: dict[str, Any]
    files: list[ExportFile] = field(default_factory=list)
    download_name: str = "pressdesk-my-data.zip"


def _value(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "name") and hasattr(value, "value"):  # an enum: by name, as stored
        return value.name
    return value


def _fields(record, names) -> dict[str, Any]:
    return {name: _value(getattr(record, name)) for name in names}


class _Files:
    """The files/ folder: unique, safe names, and only files that exist."""

    def __init__(self):
        self.files: list[ExportFile] = []
        self._taken: set[str] = set()

    def add(self, folder: str, original_filename: Optional[str], content_type: Optional[str],
            stored_name: Optional[str]) -> Optional[str]:
        if not stored_name:
            return None
        try:
            if not stored_path(stored_name).is_file():
                return None
            name = download_name(original_filename, content_type or "application/pdf")
        except (ValueError, KeyError):
            return None
        stem, dot, extension = name.rpartition(".")
        candidate, number = f"files/{folder}/{name}", 1
        while candidate.lower() in self._taken:
            number += 1
            candidate = f"files/{folder}/{stem} ({number}).{extension}" if dot else f"files/{folder}/{name} ({number})"
        self._taken.add(candidate.lower())
        self.files.append(ExportFile(candidate, stored_name))
        return candidate


ACCOUNT_FIELDS = ("id", "email", "full_name", "role", "locale", "created_at", "email_confirmed_at",
                  "password_changed_at", "privacy_notice_version", "privacy_consented_at", "two_factor_enabled_at")
OUTLET_FIELDS = ("id", "name", "country", "media_type", "website", "is_resident_office", "office_address",
                 "mofa_accreditation_number", "created_at")
CREW_FIELDS = ("id", "full_name", "nationality", "date_of_birth", "passport_number", "passport_expiry", "role",
               "press_card_number", "active", "created_at", "updated_at", "personal_data_purged_at")
REGISTRATION_FIELDS = (
    "id", "reference", "revision", "kind", "status", "purpose", "content", "start_date", "end_date",
    "interview_questions", "publication_plan", "equipment", "has_drone", "drone_permit_reference", "guiding_agency",
    "mofa_permit_number", "pledge_accepted_at", "short_notice_acknowledged_at", "created_at", "first_submitted_at",
    "submitted_at", "decided_at", "conditions", "conditions_en", "escort_name", "escort_phone", "escort_title_vi",
    "escort_title_en", "refusal_reasons", "refusal_reasons_en", "revoked_at", "revocation_reason", "completed_at",
    "identity_purged_at")
ITINERARY_FIELDS = ("day", "place_text", "host_organisation", "activity", "interviewees")
ATTACHMENT_FIELDS = ("kind", "original_filename", "content_type", "size", "sha256", "uploaded_at")
MESSAGE_FIELDS = ("kind", "body", "body_en", "created_at")
DOCUMENT_FIELDS = ("kind", "register_number", "issue_date", "valid_from", "valid_until", "signer_name", "sha256",
                   "digitally_signed", "revoked_at", "revocation_reason")
PRODUCT_FIELDS = ("id", "title", "original_title", "type", "channel", "channel_name", "publication_date", "url",
                  "reach", "reach_note", "cooperation_type", "summary", "report_state", "reported_at", "review_note",
                  "created_at")
REQUEST_FIELDS = ("id", "kind", "message", "created_at", "completed_at", "outcome")
SESSION_FIELDS = ("created_at", "last_seen_at", "expires_at", "revoked_at", "ip_address", "user_agent")
DEVICE_FIELDS = ("user_agent", "first_seen_at", "last_seen_at")
ACTIVITY_FIELDS = ("created_at", "action", "object_type", "object_id", "ip_address", "user_agent")


def collect(user: User) -> PersonalDataExport:
    """Everything PressDesk holds about `user`, their outlet and its crew, as plain values."""
    files = _Files()
    outlet = user.outlet
    account = _fields(user, ACCOUNT_FIELDS)
    account["two_factor_enabled"] = user.two_factor_enabled_at is not None
    account["sessions"] = [_fields(row, SESSION_FIELDS) for row in db.session.scalars(
        sa.select(UserSession).where(UserSession.user_id == user.id).order_by(UserSession.id))]
    account["known_devices"] = [_fields(row, DEVICE_FIELDS) for row in db.session.scalars(
        sa.select(KnownDevice).where(KnownDevice.user_id == user.id).order_by(KnownDevice.id))]
    account["activity"] = [_fields(row, ACTIVITY_FIELDS) for row in db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.actor_id == user.id).order_by(AuditEvent.id))]
    data: dict[str, Any] = {
        "format": FORMAT,
        "exported_at": _value(local_now()),
        "account": account,
        "outlet": _fields(outlet, OUTLET_FIELDS) if outlet is not None else None,
        "crew_members": [],
        "consents": [],
        "registrations": [],
        "products": [],
        "privacy_requests": [],
    }
    crew_ids: list[int] = []
    if outlet is not None:
        members = db.session.scalars(sa.select(CrewMember).where(CrewMember.outlet_id == outlet.id)
                                     .order_by(CrewMember.full_name, CrewMember.id)).all()
        for member in members:
            entry = _fields(member, CREW_FIELDS)
            entry["photo"] = files.add("crew", f"{member.id} {member.full_name}", member.photo_content_type,
                                       member.photo_stored_name)
            data["crew_members"].append(entry)
            crew_ids.append(member.id)
        data["registrations"] = _registrations(outlet.id, files)
        data["products"] = _products(outlet.id, files)
    consent_filter = PrivacyConsent.user_id == user.id
    if crew_ids:
        consent_filter = sa.or_(consent_filter, PrivacyConsent.crew_member_id.in_(crew_ids))
    data["consents"] = [{**_fields(consent, ("context", "notice_version", "given_at", "crew_member_id"))}
                        for consent in db.session.scalars(sa.select(PrivacyConsent).where(consent_filter)
                                                          .order_by(PrivacyConsent.id))]
    data["privacy_requests"] = [_fields(row, REQUEST_FIELDS) for row in db.session.scalars(
        sa.select(PrivacyRequest).where(PrivacyRequest.user_id == user.id).order_by(PrivacyRequest.id))]
    stamp = local_now().strftime("%Y-%m-%d")
    return PersonalDataExport(data=data, files=files.files, download_name=f"pressdesk-my-data-{stamp}.zip")


def _registrations(outlet_id: int, files: _Files) -> list[dict[str, Any]]:
    registrations = db.session.scalars(
        sa.select(Registration).where(Registration.outlet_id == outlet_id).order_by(Registration.id)
        .options(selectinload(Registration.itinerary), selectinload(Registration.attachments),
                 selectinload(Registration.messages), selectinload(Registration.crew_members))).all()
    documents: dict[int, list[IssuedDocument]] = {}
    if registrations:
        for document in db.session.scalars(sa.select(IssuedDocument).where(
                IssuedDocument.registration_id.in_([registration.id for registration in registrations]),
                IssuedDocument.kind.not_in(INTERNAL_KINDS)).order_by(IssuedDocument.id)):
            documents.setdefault(document.registration_id, []).append(document)
    result = []
    for registration in registrations:
        entry = _fields(registration, REGISTRATION_FIELDS)
        entry["amends"] = registration.amends.reference if registration.amends is not None else None
        entry["crew"] = [{"crew_member_id": member.id, "full_name": member.full_name}
                         for member in registration.crew_members]
        entry["itinerary"] = [{**_fields(item, ITINERARY_FIELDS),
                               "place_vi": item.place.name_vi if item.place is not None else None,
                               "place_en": item.place.name_en if item.place is not None else None}
                              for item in registration.itinerary]
        entry["attachments"] = [{**_fields(attachment, ATTACHMENT_FIELDS),
                                 "file": files.add(f"registrations/{registration.reference}",
                                                   f"{attachment.kind.name} - {attachment.original_filename}",
                                                   attachment.content_type, attachment.stored_name)}
                                for attachment in registration.attachments]
        entry["messages"] = [{**_fields(message, MESSAGE_FIELDS),
                              "author": message.author.full_name if message.author is not None else None}
                             for message in registration.messages]
        entry["issued_documents"] = [
            {**_fields(document, DOCUMENT_FIELDS),
             "crew_member_id": document.crew_member_id,
             "file": files.add(f"registrations/{registration.reference}/documents",
                               safe_filename(document.original_filename), document.content_type,
                               document.stored_name)}
            for document in documents.get(registration.id, [])]
        result.append(entry)
    return result


def _products(outlet_id: int, files: _Files) -> list[dict[str, Any]]:
    """The products the outlet reported after a visit, as reported (not the province's evaluation)."""
    from app.products.models import Product

    products = db.session.scalars(sa.select(Product).where(Product.outlet_id == outlet_id,
                                                           Product.report_state.is_not(None))
                                  .order_by(Product.id)).all()
    # The evidence the outlet's own correspondents uploaded (staff may add files of their own).
    correspondents = set(db.session.scalars(sa.select(User.id).where(User.outlet_id == outlet_id)))
    result = []
    for product in products:
        entry = _fields(product, PRODUCT_FIELDS)
        entry["registration"] = product.registration.reference if product.registration is not None else None
        entry["languages"], entry["countries"] = product.languages, product.countries
        entry["evidence"] = [{"original_filename": evidence.original_filename,
                              "uploaded_at": _value(evidence.uploaded_at),
                              "file": files.add(f"products/{product.id}", evidence.original_filename,
                                                evidence.content_type, evidence.stored_name)}
                             for evidence in product.evidence if evidence.uploaded_by_id in correspondents]
        result.append(entry)
    return result


def _readme() -> str:
    parts = []
    for locale in ("en", "vi"):
        with force_locale(locale):
            parts.append(render_template("privacy/export_readme.txt"))
    return "\n\n".join(part.strip() for part in parts) + "\n"


def counts(export: PersonalDataExport) -> dict[str, int]:
    """What the export holds, in numbers (for the audit event: no personal data)."""
    data = export.data
    return {"crew_members": len(data["crew_members"]), "registrations": len(data["registrations"]),
            "files": len(export.files)}


def build_zip(export: PersonalDataExport) -> IO[bytes]:
    """The ZIP in a spooled temporary file (in memory while small), rewound. Needs an app context
    (the README's translations, the upload folder), not a database transaction."""
    readme = _readme()
    archive = tempfile.SpooledTemporaryFile(max_size=ZIP_MEMORY_BYTES)
    now = local_now()
    stamp = (now.year, now.month, now.day, now.hour, now.minute, now.second)
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr(zipfile.ZipInfo(README_NAME, date_time=stamp), readme)
        info = zipfile.ZipInfo(DATA_NAME, date_time=stamp)
        info.compress_type = zipfile.ZIP_DEFLATED
        bundle.writestr(info, json.dumps(export.data, ensure_ascii=False, indent=2) + "\n")
        for entry in export.files:
            try:
                source = open_stored(entry.stored_name)
            except (FileNotFoundError, ValueError):
                continue  # removed since it was listed (the retention purge): data.json still names it
            info = zipfile.ZipInfo(entry.name, date_time=stamp)
            info.compress_type = zipfile.ZIP_STORED  # PDF, JPEG and PNG are compressed already
            with source, bundle.open(info, "w", force_zip64=True) as target:
                while chunk := source.read(READ_CHUNK_BYTES):
                    target.write(chunk)
    archive.seek(0)
    return archive
