"""The correspondent's copy of an approval: which issued documents they get (attached to the
approval mail, and in one ZIP from the registration page), under readable names in their
language, and the print sheet with every permit.

What the correspondent gets: the approval letter (what the reporters may show: the province's
written reply), one permit per journalist (each carries their own, an A6 card) and, for a crew of
two or more, the print sheet (every card on A4 sheets, four to a page with crop marks, for "print
all": app/documents/permits.py; for one journalist the mail leaves it out, the page's "print all"
link still gives it). Not the notification letter: it is addressed to the host bodies and MOFA,
who receive it; it stays downloadable in the registration's list of documents.

Only documents in force: a revoked letter or permit is never offered as a current one. Every
byte comes from the document store as issued (DESIGN.md section 5: a download returns the same
bytes), checked against the SHA-256 recorded at issue time.
"""
from __future__ import annotations

import hashlib
import io
import unicodedata
import zipfile
from dataclasses import dataclass, field

from flask_babel import force_locale
from flask_babel import gettext as _

from app.clock import province_timezone
from app.documents.models import DocumentKind, IssuedDocument
from app.uploads import open_stored, safe_filename

# PDFs are compressed already; deflating the ZIP still saves a little on the fonts and text.
ZIP_COMPRESSION = zipfile.ZIP_DEFLATED
ZIP_COMPRESS_LEVEL = 6
ZIP_EARLIEST = (1980, 1, 1, 0, 0, 0)  # the ZIP format cannot date a file earlier
# Letters that Unicode does not decompose into a base letter and a mark, as passports write them.
LETTERS_WITHOUT_DECOMPOSITION = str.maketrans({
    "đ": "d", "Đ": "D", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe",
    "Œ": "OE", "þ": "th", "Þ": "TH", "ð": "d", "Ð": "D", "ı": "i"})


class DocumentUnavailable(Exception):
    """A stored document is missing, unreadable, or not the bytes that were issued."""

    def __init__(self, document: IssuedDocument, reason: str):
        super().__init__(f"document {document.id} ({document.stored_name}): {reason}")
        self.document = document
        self.reason = reason


@dataclass
class ApprovalDocuments:
    """A registration's approval letter and permits, split into those in force and those revoked."""

    letters: list[IssuedDocument] = field(default_factory=list)
    permits: list[IssuedDocument] = field(default_factory=list)
    # The stored print sheet, only while it holds exactly the permits in force (none revoked).
    print_sheet: IssuedDocument | None = None
    revoked: list[IssuedDocument] = field(default_factory=list)

    @property
    def in_force(self) -> bool:
        return bool(self.letters or self.permits)

    def for_the_correspondent(self) -> list[IssuedDocument]:
        """What the approval mail attaches and the ZIP holds, in this order."""
        sheet = [self.print_sheet] if self.print_sheet is not None and len(self.permits) > 1 else []
        return self.letters + self.permits + sheet


def approval_documents(documents) -> ApprovalDocuments:
    """Sort a registration's issued documents (any order, any kinds) for the correspondent."""
    documents = sorted((document for document in documents if document.stored_name),
                       key=lambda document: document.id)
    found = ApprovalDocuments()
    sheets = []
    for document in documents:
        if document.kind not in (DocumentKind.approval_letter, DocumentKind.permit, DocumentKind.permit_set):
            continue
        if document.revoked_at is not None:
            if document.kind is not DocumentKind.permit_set:
                found.revoked.append(document)
        elif document.kind is DocumentKind.approval_letter:
            found.letters.append(document)
        elif document.kind is DocumentKind.permit:
            found.permits.append(document)
        else:
            sheets.append(document)
    permit_revoked = any(document.kind is DocumentKind.permit for document in found.revoked)
    if sheets and found.permits and not permit_revoked:
        found.print_sheet = sheets[-1]
    return found


def approval_documents_of(registration) -> ApprovalDocuments:
    """All of them, revoked ones too: a permit revoked on its own makes the stored print sheet stale."""
    import sqlalchemy as sa

    from app.extensions import db

    return approval_documents(db.session.scalars(sa.select(IssuedDocument).where(
        IssuedDocument.registration_id == registration.id,
        IssuedDocument.kind.in_([DocumentKind.approval_letter, DocumentKind.permit, DocumentKind.permit_set]))))


def for_the_correspondent(registration) -> list[IssuedDocument]:
    """The documents the approval mail attaches (see the module's docstring)."""
    return approval_documents_of(registration).for_the_correspondent()


# --- names ------------------------------------------------------------------------------------

def passport_style(name: str) -> str:
    """A name in capitals without diacritics, as a passport's machine-readable line prints it
    ("Nguyễn Văn A" -> "NGUYEN VAN A"): the same in every language and safe in any file system."""
    folded = unicodedata.normalize("NFKD", name.translate(LETTERS_WITHOUT_DECOMPOSITION))
    ascii_only = folded.encode("ascii", "ignore").decode("ascii")
    return " ".join(ascii_only.upper().split())


def readable_filename(document: IssuedDocument, locale: str) -> str:
    """The file's name for a person reading `locale`: "PD-2026-00042 approval letter.pdf",
    "PD-2026-00042 văn bản chấp thuận.pdf", "PD-2026-00042 permit NGUYEN VAN A.pdf"."""
    reference = document.registration.reference
    with force_locale(locale):
        if document.kind is DocumentKind.approval_letter:
            # TRANSLATORS: part of a file name: "PD-2026-00042 approval letter.pdf"
            label = _("approval letter")
        elif document.kind is DocumentKind.permit:
            # TRANSLATORS: part of a file name: "PD-2026-00042 permit NGUYEN VAN A.pdf"
            label = _("permit")
            holder = passport_style(document.crew_member.full_name) if document.crew_member else ""
            label = f"{label} {holder or (document.register_number or '').replace('/', '-')}".strip()
        elif document.kind is DocumentKind.permit_set:
            label = print_sheet_label(locale)
        else:
            return safe_filename(document.original_filename)
    return safe_filename(f"{reference} {label}.pdf")


def print_sheet_label(locale: str) -> str:
    with force_locale(locale):
        # TRANSLATORS: part of a file name: "PD-2026-00042 all permits for printing.pdf"
        return _("all permits for printing")


def print_sheet_filename(registration, locale: str) -> str:
    return safe_filename(f"{registration.reference} {print_sheet_label(locale)}.pdf")


def zip_filename(registration, locale: str) -> str:
    with force_locale(locale):
        # TRANSLATORS: the name of the ZIP file: "PD-2026-00042 approval letter and permits.zip"
        label = _("approval letter and permits")
    return safe_filename(f"{registration.reference} {label}.zip")


def distinct_names(names: list[str]) -> list[str]:
    """The same names, a second "X.pdf" becoming "X (2).pdf" (two journalists of the same name)."""
    seen: dict[str, int] = {}
    result = []
    for name in names:
        key = name.casefold()
        count = seen.get(key, 0) + 1
        seen[key] = count
        if count > 1:
            stem, dot, extension = name.rpartition(".")
            name = f"{stem} ({count}).{extension}" if dot else f"{name} ({count})"
            seen[name.casefold()] = 1
        result.append(name)
    return result


# --- bytes ------------------------------------------------------------------------------------

def verified_bytes(stored_name: str | None, sha256: str | None) -> bytes:
    """The stored bytes, if they are the ones issued. Raises OSError or ValueError otherwise."""
    if not stored_name:
        raise ValueError("the document has no stored file")
    with open_stored(stored_name) as stored:
        content = stored.read()
    if sha256 and hashlib.sha256(content).hexdigest() != sha256:
        raise ValueError("the stored file is not the one issued (SHA-256 differs)")
    return content


def document_content(document: IssuedDocument) -> bytes:
    try:
        return verified_bytes(document.stored_name, document.sha256)
    except (OSError, ValueError) as error:
        raise DocumentUnavailable(document, f"{type(error).__name__}: {error}") from error


def print_sheet(found: ApprovalDocuments) -> bytes:
    """Every permit in force on the A4 print sheet: the stored sheet when it is current, else the
    stored permits laid out the same way (their own pages, nothing rendered again)."""
    if found.print_sheet is not None:
        return document_content(found.print_sheet)
    if not found.permits:
        raise ValueError("no permits in force")
    from app.authority import authority_profile
    from app.documents.permits import impose_on_sheets, sheet_title

    profile = authority_profile()
    return impose_on_sheets([document_content(permit) for permit in found.permits],
                            title=sheet_title(profile.permit_title_vi, profile.permit_title_en, profile.is_demo),
                            author=profile.issuing_body_vi)


def build_zip(found: ApprovalDocuments, locale: str) -> bytes:
    """The correspondent's documents in one ZIP, built in memory from the stored bytes, each named
    for `locale` and dated with its issue time (province time). Raises DocumentUnavailable."""
    documents = found.for_the_correspondent()
    entries: list[tuple[str, bytes, tuple]] = [
        (readable_filename(document, locale), document_content(document), _zip_date(document))
        for document in documents]
    if len(found.permits) > 1 and found.print_sheet is None:
        # Some permit was revoked on its own, or the sheet was never stored: put the sheet together.
        newest = max(found.permits, key=lambda document: document.id)
        entries.append((print_sheet_filename(newest.registration, locale), print_sheet(found), _zip_date(newest)))
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", compression=ZIP_COMPRESSION, compresslevel=ZIP_COMPRESS_LEVEL) as archive:
        for name, (_name, content, when) in zip(distinct_names([entry[0] for entry in entries]), entries):
            info = zipfile.ZipInfo(name, date_time=when)
            info.compress_type = ZIP_COMPRESSION
            info.external_attr = 0o644 << 16
            archive.writestr(info, content, compresslevel=ZIP_COMPRESS_LEVEL)
    return output.getvalue()


def _zip_date(document: IssuedDocument) -> tuple:
    moment = document.issued_at.astimezone(province_timezone())
    return max(ZIP_EARLIEST, moment.timetuple()[:6])
