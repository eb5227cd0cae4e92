"""Uploaded files: checked by content, cleaned, stored under a server-made name, sent back.

The one place where passport pages, press cards, permits, letters, crew photos and product
evidence enter and leave the server. Only PDF, JPEG and PNG are accepted, judged by their first
bytes (never the file name or the browser's Content-Type). Images are decoded and re-encoded, so
what is kept is pixels without EXIF, GPS, XMP or comments; PDFs are kept byte for byte.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import secrets
import struct
import tempfile
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Protocol

from flask import Response, current_app, send_file
from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps
from werkzeug.datastructures import FileStorage

NOT_ACCEPTED = _l("This file is not a PDF, JPEG or PNG document.")
EMPTY = _l("This file is empty.")
UNREADABLE_IMAGE = _l("This image could not be read.")
DAMAGED_PDF = _l("This PDF is incomplete or damaged.")

JPEG_QUALITY = 90
FILE_MODE = 0o640
FOLDER_MODE = 0o750
READ_CHUNK_BYTES = 64 * 1024
MAX_FILENAME_LENGTH = 150
# Readers look for the end-of-file marker in the last 1024 bytes (PDF 1.7, annex H).
PDF_TAIL_BYTES = 1024

# What Pillow raises on broken input (the list its own fuzzing tests accept), besides bombs.
IMAGE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, MemoryError, NotImplementedError,
                OverflowError)

# Stored names are always server-made: "2027/03/<32 hex>.<ext>". Anything else is refused.
STORED_NAME = re.compile(r"[0-9]{4}/[0-9]{2}/[0-9a-f]{32}\.(?:pdf|jpg|png)")
# Characters Windows refuses in file names; harmless elsewhere but useless in a download name.
AWKWARD_IN_FILENAMES = re.compile(r'[<>:"|?*]')


class UploadError(Exception):
    """A refused file. `str()` is the reason, for the user, in the language of the request."""


@dataclass(frozen=True)
class Kind:
    content_type: str
    extension: str  # of the stored file
    magic: bytes
    pillow_format: str | None  # None: kept as uploaded, not decoded
    download_extensions: tuple[str, ...]


PDF = Kind("application/pdf", ".pdf", b"%PDF-", None, (".pdf",))
JPEG = Kind("image/jpeg", ".jpg", b"\xff\xd8\xff", "JPEG", (".jpg", ".jpeg"))
PNG = Kind("image/png", ".png", b"\x89PNG\r\n\x1a\n", "PNG", (".png",))
KINDS = (PDF, JPEG, PNG)
KIND_BY_CONTENT_TYPE = {kind.content_type: kind for kind in KINDS}


@dataclass(frozen=True)
class StoredFile:
    """A file as stored: where (relative to UPLOAD_FOLDER), what it is, and the name it came with."""

    stored_name: str  # e.g. "2027/03/ab12...ef.jpg"
    content_type: str  # of the detected kind: application/pdf, image/jpeg or image/png
    size: int  # bytes stored (images are re-encoded, so not the uploaded size)
    sha256: str  # hex digest of the stored bytes
    original_filename: str  # made safe by safe_filename()


class StoredFileLike(Protocol):
    """What send_stored needs: a StoredFile, or a database row with the same fields."""

    @property
    def stored_name(self) -> str: ...

    @property
    def content_type(self) -> str: ...

    @property
    def original_filename(self) -> str: ...


# --- storing ------------------------------------------------------------------

def store_upload(file_storage: FileStorage, *, max_bytes: int | None = None) -> StoredFile:
    """Check and store an uploaded file; raise UploadError with the reason if it is refused.

    `max_bytes` may lower UPLOAD_MAX_FILE_BYTES for this file (photos), never raise it.
    """
    limit = _size_limit(max_bytes)
    # Count what actually arrives: the declared Content-Length of a part can lie.
    content = _read_at_most(file_storage.stream, limit)
    return _store(content, file_storage.filename, limit)


def store_bytes(data: bytes, filename: str, *, max_bytes: int | None = None) -> StoredFile:
    """store_upload for content already in memory (generated files, imports, tests)."""
    return _store(bytes(data), filename, _size_limit(max_bytes))


def _store(content: bytes, filename: str | None, limit: int) -> StoredFile:
    if len(content) > limit:
        raise UploadError(_too_large_message(limit))
    if not content:
        raise UploadError(str(EMPTY))
    kind = _detect_kind(content)
    if kind is PDF:
        _check_pdf(content)
        stored_bytes = content
    else:
        stored_bytes = _reencode_image(content, kind)
    stored_name = _write_new_file(stored_bytes, kind.extension)
    return StoredFile(
        stored_name=stored_name,
        content_type=kind.content_type,
        size=len(stored_bytes),
        sha256=hashlib.sha256(stored_bytes).hexdigest(),
        original_filename=safe_filename(filename),
    )


def _size_limit(max_bytes: int | None) -> int:
    configured = current_app.config["UPLOAD_MAX_FILE_BYTES"]
    if max_bytes is None:
        return configured
    if max_bytes <= 0:
        raise ValueError(f"max_bytes must be positive, not {max_bytes!r}")
    return min(max_bytes, configured)


def _read_at_most(stream: IO[bytes], limit: int) -> bytes:
    content = bytearray()
    # Ask for at most one byte past the limit, so an oversized file is never read whole.
    while chunk := stream.read(min(READ_CHUNK_BYTES, limit + 1 - len(content))):
        content += chunk
        if len(content) > limit:
            raise UploadError(_too_large_message(limit))
    return bytes(content)


def _detect_kind(content: bytes) -> Kind:
    for kind in KINDS:
        if content.startswith(kind.magic):
            return kind
    raise UploadError(str(NOT_ACCEPTED))


def _check_pdf(content: bytes) -> None:
    """A PDF is kept as uploaded; one cut short in transfer has no end-of-file marker."""
    if b"%%EOF" not in content[-PDF_TAIL_BYTES:]:
        raise UploadError(str(DAMAGED_PDF))


def _reencode_image(content: bytes, kind: Kind) -> bytes:
    """Decode fully (refusing bombs, truncated and corrupt files), turn upright, and encode
    again with nothing but the pixels and their ICC colour profile."""
    max_pixels = current_app.config["UPLOAD_MAX_IMAGE_PIXELS"]
    try:
        # formats=: a file that starts like a JPEG is decoded as a JPEG or not at all.
        with Image.open(io.BytesIO(content), formats=[kind.pillow_format]) as image:
            width, height = image.size
            if width * height > max_pixels:
                raise UploadError(_too_many_pixels_message(max_pixels))
            upright = ImageOps.exif_transpose(image)  # loads every pixel: a truncated file fails here
        kept = {}
        if upright.info.get("icc_profile"):
            kept["icc_profile"] = upright.info["icc_profile"]
        if kind is PNG and "transparency" in upright.info:
            kept["transparency"] = upright.info["transparency"]  # part of the pixels in palette images
        # Pillow's encoders copy some metadata (JPEG comments, PNG profiles) from `info` by default.
        upright.info = {}
        output = io.BytesIO()
        if kind is JPEG:
            upright.save(output, "JPEG", quality=JPEG_QUALITY, optimize=True, **kept)
        else:
            upright.save(output, "PNG", optimize=True, **kept)
    # Pillow raises the error above 2 x Image.MAX_IMAGE_PIXELS and warns above it; the warning
    # is an exception only where warnings are errors (the tests), elsewhere our own limit refuses.
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise UploadError(_too_many_pixels_message(max_pixels)) from error
    except IMAGE_ERRORS as error:
        raise UploadError(str(UNREADABLE_IMAGE)) from error
    return output.getvalue()


def _write_new_file(content: bytes, extension: str) -> str:
    """Write under a new random name in this month's folder, atomically; return the stored name."""
    now = datetime.now(timezone.utc)
    relative_folder = f"{now:%Y}/{now:%m}"
    folder = Path(current_app.config["UPLOAD_FOLDER"], *relative_folder.split("/"))
    folder.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    stored_name = f"{relative_folder}/{secrets.token_hex(16)}{extension}"
    # A temporary file in the same folder, renamed once complete: readers never see half a file.
    descriptor, temporary_path = tempfile.mkstemp(dir=folder, prefix=".upload-", suffix=".part")
    try:
        with os.fdopen(descriptor, "wb") as temporary:
            os.fchmod(temporary.fileno(), FILE_MODE)
            temporary.write(content)
            temporary.flush()
            os.fsync(temporary.fileno())
        os.replace(temporary_path, stored_path(stored_name))
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary_path)
        raise
    return stored_name


def _too_large_message(limit: int) -> str:
    megabytes = limit / (1024 * 1024)
    if megabytes >= 1:
        size = format_decimal(round(megabytes, 1)) + " MB"
    else:
        size = format_decimal(max(1, round(limit / 1024))) + " KB"
    return str(_l("This file is larger than %(limit)s.", limit=size))


def _too_many_pixels_message(max_pixels: int) -> str:
    return str(_l("This image is too large: it may have at most %(limit)s million pixels.",
                  limit=format_decimal(round(max_pixels / 1_000_000, 1))))


# --- names --------------------------------------------------------------------

def safe_filename(filename: str | None) -> str:
    """The name a file came with, fit to show and to offer as a download name.

    Base name only, no control or invisible formatting characters (no right-to-left override
    to disguise "gpj.exe"), NFC (macOS sends decomposed letters), at most 150 characters.
    Unlike werkzeug's secure_filename it keeps Vietnamese letters: "Hộ chiếu.pdf" stays so.
    """
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(character for character in name if not unicodedata.category(character).startswith("C"))
    name = AWKWARD_IN_FILENAMES.sub("_", name)
    name = " ".join(name.split())  # any run of (Unicode) spaces or line breaks becomes one space
    name = unicodedata.normalize("NFC", name).strip(" .")
    if len(name) > MAX_FILENAME_LENGTH:
        stem, dot, extension = name.rpartition(".")
        if dot and len(extension) <= 10:
            name = stem[: MAX_FILENAME_LENGTH - len(extension) - 1].rstrip(" .") + "." + extension
        else:
            name = name[:MAX_FILENAME_LENGTH].rstrip(" .")
    return name or "file"


def download_name(original_filename: str | None, content_type: str) -> str:
    """The safe original name, ending in the extension of what the file really is:
    a PNG uploaded as "scan.pdf" is offered as "scan.pdf.png", never opened as something else."""
    kind = KIND_BY_CONTENT_TYPE[content_type]
    name = safe_filename(original_filename)
    if not name.lower().endswith(kind.download_extensions):
        name += kind.extension
    return name


# --- reading back ---------------------------------------------------------------

def stored_path(stored_name: str) -> Path:
    """The file behind a stored name; ValueError for anything not made by this module
    (so "..", absolute paths and backslashes can never leave UPLOAD_FOLDER)."""
    if not isinstance(stored_name, str) or not STORED_NAME.fullmatch(stored_name):
        raise ValueError(f"not a stored file name: {stored_name!r}")
    return Path(current_app.config["UPLOAD_FOLDER"], *stored_name.split("/"))


def open_stored(stored_name: str) -> IO[bytes]:
    """The stored bytes, opened for reading (FileNotFoundError if the file is gone)."""
    return stored_path(stored_name).open("rb")


def delete_stored(stored_name: str) -> None:
    """Remove a stored file; one already gone is fine."""
    stored_path(stored_name).unlink(missing_ok=True)


def send_stored(stored: StoredFileLike) -> Response:
    """A download of a stored file: always an attachment, never cached, never rendered
    by the browser as a page of this site (the sandbox CSP wins over app/security.py's)."""
    if stored.content_type not in KIND_BY_CONTENT_TYPE:
        raise ValueError(f"not a stored content type: {stored.content_type!r}")
    response = send_file(
        stored_path(stored.stored_name),
        mimetype=stored.content_type,
        as_attachment=True,
        download_name=download_name(stored.original_filename, stored.content_type),
    )
    response.headers["Cache-Control"] = "no-store, private"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
