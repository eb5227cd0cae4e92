"""Uploaded files: checked by content, cleaned, stored under a server-made name, sent back.

The one place where passport pages, press cards, permits, letters, crew photos and product
evidence enter and leave the server. Only PDF, JPEG and PNG are accepted, judged by their first
bytes (never the file name or the browser's Content-Type). Images are decoded and re-encoded, so
what is kept is pixels without EXIF, GPS, XMP or comments, scaled down to what their use needs (a
face photo about a megapixel, a scan about an A4 page at 300 dpi); PDFs must open and have a page,
and are kept byte for byte.

Files and transactions: a file is written before its row, outside the write transaction (see
app.database.slow_work). Files written by a transaction that does not commit are deleted when it
ends; files whose row is deleted, or whose column is given another name, are deleted only after the
commit. `flask uploads sweep` removes what is left (a crash between the two): files under
UPLOAD_FOLDER that no row names, older than an hour.
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import logging
import math
import os
import re
import secrets
import struct
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

import click
import sqlalchemy as sa
from flask import Flask, Response, current_app, request, send_file
from flask.cli import AppGroup
from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from PIL import Image, ImageOps
from sqlalchemy import event
from sqlalchemy.orm import Mapper, Session
from werkzeug.datastructures import FileStorage

from app.clock import utcnow
from app.database import FILES_WRITTEN, slow_work

log = logging.getLogger(__name__)

NOT_ACCEPTED = _l("This file is not a PDF, JPEG or PNG document.")
EMPTY = _l("This file is empty.")
UNREADABLE_IMAGE = _l("This image could not be read.")
DAMAGED_PDF = _l("This PDF is incomplete or damaged.")
EMPTY_PDF = _l("This PDF has no pages.")
LOCKED_PDF = _l("This PDF is protected by a password. Upload it without the password.")

JPEG_QUALITY = 90
# Only the service user reads what correspondents send (passport pages): no group, no others.
FILE_MODE = 0o600
FOLDER_MODE = 0o700
# `flask uploads sweep` leaves younger files alone: their row may not be committed yet.
SWEEP_MIN_AGE_SECONDS = 3600
# Columns that hold a stored name: every column whose name ends so, in every table.
STORED_NAME_COLUMN_SUFFIX = "stored_name"
FILES_TO_DELETE = "pressdesk_files_to_delete"  # session.info: paths to delete once committed
READ_CHUNK_BYTES = 64 * 1024
MAX_FILENAME_LENGTH = 150
EXIF_ORIENTATION = 0x0112  # the EXIF tag saying how the camera was held
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

@dataclass(frozen=True)
class ReceivedFile:
    """An upload read into memory and checked for size only: nothing decoded yet (cheap)."""

    content: bytes
    filename: str | None

    @property
    def size(self) -> int:
        return len(self.content)


def receive_upload(file_storage: FileStorage, *, max_bytes: int | None = None) -> ReceivedFile:
    """Read an uploaded file, refusing one over the size limit or empty; decode nothing.

    The caller checks its quota with `.size` here, before any decoding, then stores the file
    with store_received() inside app.database.slow_work()."""
    limit = _size_limit(max_bytes)
    # Count what actually arrives: the declared Content-Length of a part can lie.
    content = _read_at_most(file_storage.stream, limit)
    if not content:
        raise UploadError(str(EMPTY))
    return ReceivedFile(content, file_storage.filename)


def store_received(received: ReceivedFile, *, pixels: int | None = None,
                   images_only: bool = False) -> StoredFile:
    """Check, clean and store a received file (the slow part: call it inside slow_work()).

    `pixels`: what is kept of an image (UPLOAD_PHOTO_PIXELS or UPLOAD_SCAN_PIXELS, the default);
    a larger one is scaled down. `images_only`: refuse a PDF (photos)."""
    return _store(received.content, received.filename, len(received.content), pixels=pixels,
                  images_only=images_only)


def store_upload(file_storage: FileStorage, *, max_bytes: int | None = None, pixels: int | None = None,
                 images_only: bool = False) -> StoredFile:
    """receive_upload then store_received, outside the transaction: for callers without a quota.

    `max_bytes` may lower UPLOAD_MAX_FILE_BYTES for this file (photos), never raise it.
    """
    received = receive_upload(file_storage, max_bytes=max_bytes)
    with slow_work():
        return store_received(received, pixels=pixels, images_only=images_only)


def store_bytes(data: bytes, filename: str, *, max_bytes: int | None = None, pixels: int | None = None) -> StoredFile:
    """Store content already in memory (generated documents, imports, tests), checked like an
    upload, in the caller's transaction (the file is deleted if that transaction does not commit)."""
    return _store(bytes(data), filename, _size_limit(max_bytes), pixels=pixels)


def store_generated_pdf(pdf: bytes, filename: str) -> StoredFile:
    """Store a PDF this application made (an issued document): no upload checks, same storage."""
    if not pdf.startswith(PDF.magic):
        raise ValueError("not a PDF")
    stored_name = _write_new_file(pdf, PDF.extension)
    return StoredFile(stored_name=stored_name, content_type=PDF.content_type, size=len(pdf),
                      sha256=hashlib.sha256(pdf).hexdigest(), original_filename=safe_filename(filename))


def copy_stored(stored_name: str) -> str:
    """A copy of a stored file under a new name (already checked: no decoding); returns the name."""
    with open_stored(stored_name) as source:
        content = source.read()
    return _write_new_file(content, Path(stored_name).suffix)


def photo_pixels() -> int:
    return int(current_app.config["UPLOAD_PHOTO_PIXELS"])


def scan_pixels() -> int:
    return int(current_app.config["UPLOAD_SCAN_PIXELS"])


def stage_received(received: ReceivedFile, *, pixels: int | None = None, images_only: bool = False) -> StoredFile:
    """Like store_received, but the file outlives the current transaction: it is kept even if
    the request ends without a commit (a form sent back for another field's error keeps the
    file it carried). No row names it yet, so `flask uploads sweep` removes it once it is older
    than SWEEP_MIN_AGE_SECONDS unless a row has named it by then: whoever holds the stored name
    must use it well before that (app/outlets/photos.py: KEPT_PHOTO_MAX_AGE_SECONDS)."""
    return _store(received.content, received.filename, len(received.content), pixels=pixels,
                  images_only=images_only, in_transaction=False)


def detected_content_type(content: bytes) -> str | None:
    """What a file is by its first bytes (application/pdf, image/jpeg, image/png), or None for
    anything this module does not accept. Nothing is decoded."""
    return next((kind.content_type for kind in KINDS if content.startswith(kind.magic)), None)


def upright_image_size(received: ReceivedFile) -> tuple[int, int] | None:
    """Width and height in pixels of a received image as it will be stored (turned upright by its
    EXIF orientation), read from its header without decoding the pixels; None for a PDF.

    UploadError for what is neither a PDF nor a JPEG or PNG that opens, and for one with more
    pixels than UPLOAD_MAX_IMAGE_PIXELS. Cheap: call it before storing, to check proportions."""
    content = received.content
    if not content:
        raise UploadError(str(EMPTY))
    kind = _detect_kind(content)
    if kind is PDF:
        return None
    max_pixels = current_app.config["UPLOAD_MAX_IMAGE_PIXELS"]
    try:
        with Image.open(io.BytesIO(content), formats=[kind.pillow_format]) as image:
            width, height = image.size
            orientation = image.getexif().get(EXIF_ORIENTATION, 1)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise UploadError(_too_many_pixels_message(max_pixels)) from error
    except IMAGE_ERRORS as error:
        raise UploadError(str(UNREADABLE_IMAGE)) from error
    if width * height > max_pixels:
        raise UploadError(_too_many_pixels_message(max_pixels))
    # Orientations 5 to 8 turn the picture a quarter: exif_transpose swaps its sides.
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def _store(content: bytes, filename: str | None, limit: int, *, pixels: int | None = None,
           images_only: bool = False, in_transaction: bool = True) -> StoredFile:
    if len(content) > limit:
        raise UploadError(_too_large_message(limit))
    if not content:
        raise UploadError(str(EMPTY))
    kind = _detect_kind(content)
    if kind is PDF:
        if images_only:
            raise UploadError(str(_l("The photo must be a JPEG or PNG image.")))
        _check_pdf(content)
        stored_bytes = content
    else:
        stored_bytes = _reencode_image(content, kind, pixels or scan_pixels())
    stored_name = _write_new_file(stored_bytes, kind.extension, in_transaction=in_transaction)
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
    """The PDF opens and has at least one page; kept as uploaded if so.

    pypdf, as a viewer would: it rebuilds a damaged cross-reference table (common from scanners)
    instead of refusing the file, and it is lazy, so the cost is parsing the trailer, the
    catalogue and the page tree of a file already capped at UPLOAD_MAX_FILE_BYTES. A PDF that
    opens only with a password is refused: the province could not read it. One encrypted with an
    empty user password (only "owner" restrictions) opens in every viewer and is accepted."""
    # One cut short in transfer has no end-of-file marker (readers look in the last 1024 bytes).
    if b"%%EOF" not in content[-PDF_TAIL_BYTES:]:
        raise UploadError(str(DAMAGED_PDF))
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        with _quiet_pypdf():
            reader = PdfReader(io.BytesIO(content), strict=False)
            if reader.is_encrypted and not reader.decrypt(""):
                raise UploadError(str(LOCKED_PDF))
            pages = len(reader.pages)
    except UploadError:
        raise
    except (PyPdfError, *IMAGE_ERRORS, KeyError, TypeError, AttributeError, IndexError, RecursionError,
            AssertionError) as error:
        raise UploadError(str(DAMAGED_PDF)) from error
    if pages < 1:
        raise UploadError(str(EMPTY_PDF))


@contextlib.contextmanager
def _quiet_pypdf():
    """pypdf logs every repair it makes to a damaged file as a warning; that is expected here."""
    pypdf_log = logging.getLogger("pypdf")
    level = pypdf_log.level
    pypdf_log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        pypdf_log.setLevel(level)


def _reencode_image(content: bytes, kind: Kind, keep_pixels: int) -> bytes:
    """Decode (refusing bombs, truncated and corrupt files), turn upright, scale down to
    `keep_pixels`, and encode again with nothing but the pixels and their ICC colour profile.

    The declared size is checked against UPLOAD_MAX_IMAGE_PIXELS before anything is decoded. A
    JPEG larger than `keep_pixels` is decoded at 1/2, 1/4 or 1/8 scale where that still gives
    half of `keep_pixels` (JPEG draft mode), so a large one never fully decodes; a PNG cannot be,
    and is decoded whole (within UPLOAD_MAX_IMAGE_PIXELS), then reduced."""
    max_pixels = current_app.config["UPLOAD_MAX_IMAGE_PIXELS"]
    try:
        # formats=: a file that starts like a JPEG is decoded as a JPEG or not at all.
        with Image.open(io.BytesIO(content), formats=[kind.pillow_format]) as image:
            width, height = image.size
            if width * height > max_pixels:
                raise UploadError(_too_many_pixels_message(max_pixels))
            if kind is JPEG and width * height > keep_pixels:
                # Draft mode picks the smallest of 1/1, 1/2, 1/4, 1/8 giving at least this size: at
                # least half the pixels kept, so any JPEG over twice that size never fully decodes.
                image.draft(None, _fitting(width, height, keep_pixels // 2))
            upright = ImageOps.exif_transpose(image)  # loads every pixel: a truncated file fails here
        if upright.width * upright.height > keep_pixels:
            upright = _scaled_down(upright, keep_pixels)
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


def _fitting(width: int, height: int, pixels: int) -> tuple[int, int]:
    """The largest size of the same proportions with at most `pixels` pixels (at least 1 x 1)."""
    scale = math.sqrt(pixels / (width * height))
    return max(1, math.floor(width * scale)), max(1, math.floor(height * scale))


def _scaled_down(image: Image.Image, pixels: int) -> Image.Image:
    info = image.info
    # reducing_gap: Image.reduce() by a whole factor first (fast), then a Lanczos filter.
    scaled = image.resize(_fitting(image.width, image.height, pixels), Image.Resampling.LANCZOS,
                          reducing_gap=3.0) if image.mode not in ("1", "P") else \
        image.resize(_fitting(image.width, image.height, pixels), Image.Resampling.NEAREST)
    scaled.info = dict(info)
    return scaled


def _write_new_file(content: bytes, extension: str, *, in_transaction: bool = True) -> str:
    """Write under a new random name in this month's folder, atomically; return the stored name.

    `in_transaction=False`: not deleted when the current transaction rolls back (stage_received)."""
    now = utcnow()
    relative_folder = f"{now:%Y}/{now:%m}"
    root = Path(current_app.config["UPLOAD_FOLDER"])
    folder = Path(root, *relative_folder.split("/"))
    folder.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    for made in (root, folder.parent, folder):  # mkdir's mode is masked by the umask
        if made.stat().st_mode & 0o077:
            made.chmod(FOLDER_MODE)
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
    if in_transaction:
        _written_in_transaction(stored_path(stored_name))
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
    """Remove a stored file once the current transaction commits (at once outside one).

    Rows whose stored name is deleted or replaced schedule this themselves (init_app); call it
    only for a file no row names."""
    from app.extensions import db

    _delete_after_commit(db.session(), stored_path(stored_name))


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


# --- files and transactions -------------------------------------------------------

def _written_in_transaction(path: Path) -> None:
    """Remember a new file on the session: deleted if its transaction ends without a commit."""
    from app.extensions import db

    db.session().info.setdefault(FILES_WRITTEN, []).append(path)


def _delete_after_commit(session: Session, path: Path) -> None:
    if session.in_transaction():
        session.info.setdefault(FILES_TO_DELETE, []).append(path)
    else:
        path.unlink(missing_ok=True)


def _unlink_all(paths) -> None:
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError:  # the sweep gets it later; never fail a finished transaction for it
            log.warning("uploads: could not delete %s", path, exc_info=True)


def _after_commit(session: Session) -> None:
    session.info.pop(FILES_WRITTEN, None)  # kept: their rows are committed
    _unlink_all(session.info.pop(FILES_TO_DELETE, ()))


def _after_transaction_end(session: Session, transaction) -> None:
    if transaction.parent is not None:
        return
    # Still listed after the outermost transaction ended: it rolled back or was closed.
    _unlink_all(session.info.pop(FILES_WRITTEN, ()))
    session.info.pop(FILES_TO_DELETE, None)  # the rows that named them are still there


def _stored_names_of(target) -> dict[str, str]:
    return {name: getattr(target, name) for name in _stored_name_attributes(type(target))
            if getattr(target, name, None)}


@functools.lru_cache(maxsize=None)
def _stored_name_attributes(model) -> tuple[str, ...]:
    mapper = sa.inspect(model)
    return tuple(column.key for column in mapper.column_attrs if column.key.endswith(STORED_NAME_COLUMN_SUFFIX))


def _after_delete(mapper, connection, target) -> None:
    session = sa.orm.object_session(target)
    for stored_name in _stored_names_of(target).values():
        if session is not None and STORED_NAME.fullmatch(stored_name):
            _delete_after_commit(session, stored_path(stored_name))


def _after_update(mapper, connection, target) -> None:
    session = sa.orm.object_session(target)
    state = sa.inspect(target)
    for name in _stored_name_attributes(type(target)):
        for old in state.attrs[name].history.deleted:
            if session is not None and old and STORED_NAME.fullmatch(old):
                _delete_after_commit(session, stored_path(old))


def referenced_stored_names() -> set[str]:
    """Every stored name some row holds: attachments, crew photos, evidence, issued documents
    (every column named *stored_name, so a new one is covered without changing this)."""
    from app.extensions import db

    names: set[str] = set()
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if column.name.endswith(STORED_NAME_COLUMN_SUFFIX):
                names.update(db.session.scalars(sa.select(column).where(column.is_not(None))))
    return names


def sweep_orphans(*, min_age_seconds: int = SWEEP_MIN_AGE_SECONDS, dry_run: bool = False) -> list[str]:
    """Delete (or only list) files under UPLOAD_FOLDER that no row names and that are older than
    `min_age_seconds` (a younger one may belong to an upload whose row is not committed yet),
    and half-written temporary files of the same age. Returns their paths, relative."""
    root = Path(current_app.config["UPLOAD_FOLDER"])
    if not root.is_dir():
        return []
    referenced = referenced_stored_names()
    cutoff = _filesystem_now(root) - min_age_seconds
    orphans = []
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.is_symlink():
            continue
        relative = path.relative_to(root).as_posix()
        leftover = path.name.startswith(".upload-") and path.name.endswith(".part")
        if not leftover and (not STORED_NAME.fullmatch(relative) or relative in referenced):
            continue  # a file this module did not make is left alone
        if path.stat().st_mtime > cutoff:
            continue
        orphans.append(relative)
        if not dry_run:
            path.unlink(missing_ok=True)
    return orphans


def _filesystem_now(root: Path) -> float:
    """Now, by the clock that stamps the files' modification times (the file server's, if the
    folder is mounted from one): the mtime of a file made for the purpose."""
    with tempfile.TemporaryFile(dir=root) as probe:
        return os.fstat(probe.fileno()).st_mtime


uploads_cli = AppGroup("uploads", help="Stored files.")


@uploads_cli.command("sweep")
@click.option("--dry-run", is_flag=True, help="List the orphans, delete nothing.")
@click.option("--min-age", "min_age", type=click.IntRange(min=0), default=SWEEP_MIN_AGE_SECONDS, show_default=True,
              help="Leave files younger than this many seconds (an upload may be in flight).")
def sweep_command(dry_run: bool, min_age: int) -> None:
    """Delete files under UPLOAD_FOLDER that no attachment, photo, evidence or document names."""
    from app.database import reading
    from app.extensions import db

    with reading():
        orphans = sweep_orphans(min_age_seconds=min_age, dry_run=dry_run)
        db.session.rollback()
    for relative in orphans:
        click.echo(relative)
    verb = "would delete" if dry_run else "deleted"
    click.echo(f"{verb} {len(orphans)} orphaned file(s)")


# --- the per-user upload rate limit ------------------------------------------------

def _upload_rate_limit() -> str:
    return current_app.config["RATELIMIT_UPLOAD"]


def upload_rate_key() -> str:
    """Per account (several correspondents may share an office address); per address if anonymous."""
    if current_user and current_user.is_authenticated:
        return f"upload-user:{current_user.get_id()}"
    return f"upload-address:{request.remote_addr}"


def _no_file_sent() -> bool:
    return not any(storage.filename for storage in request.files.values())


def upload_rate_limited(view):
    """One budget of uploads per user across every upload route (RATELIMIT_UPLOAD); a form
    sent without a file (a crew member saved without a new photo) does not count."""
    from app.extensions import limiter

    return limiter.shared_limit(_upload_rate_limit, scope="uploads", key_func=upload_rate_key, methods=["POST"],
                                exempt_when=_no_file_sent)(view)


def init_app(app: Flask) -> None:
    app.cli.add_command(uploads_cli)
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_transaction_end", _after_transaction_end)
        # Every mapper: rows of any model holding a *stored_name column.
        event.listen(Mapper, "after_delete", _after_delete)
        event.listen(Mapper, "after_update", _after_update)
