"""Uploaded files: only PDF, JPEG and PNG by content, images cleaned of metadata, stored safely,
sent back as attachments that a browser will not run."""
from __future__ import annotations

import hashlib
import io
import os
import re
import stat
import struct
import zlib
from pathlib import Path
from urllib.parse import quote

import pytest
from flask_babel import force_locale
from PIL import ExifTags, Image
from werkzeug.datastructures import FileStorage

from app.uploads import (
    StoredFile,
    UploadError,
    delete_stored,
    download_name,
    open_stored,
    safe_filename,
    send_stored,
    store_bytes,
    store_upload,
    stored_path,
)
from tests.conftest import TINY_PDF

PDF = TINY_PDF  # a real one-page PDF
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
STORED_NAME = re.compile(r"[0-9]{4}/[0-9]{2}/[0-9a-f]{32}\.(pdf|jpg|png)")
NOT_ACCEPTED = "This file is not a PDF, JPEG or PNG document."
UNREADABLE = "This image could not be read."


def image_bytes(image_format: str, size=(40, 30), mode="RGB", noise=False, image=None, **save_options) -> bytes:
    if image is None:
        image = (Image.frombytes(mode, size, os.urandom(size[0] * size[1] * len(mode))) if noise
                 else Image.new(mode, size, "teal"))
    buffer = io.BytesIO()
    image.save(buffer, image_format, **save_options)
    return buffer.getvalue()


def png_declaring(width: int, height: int) -> bytes:
    """A PNG whose header claims a size its few bytes of pixel data could never fill."""
    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return PNG_MAGIC + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def files_under(folder) -> list[str]:
    """Every file under the upload folder, temporary ones included, as relative paths."""
    root = Path(folder)
    return sorted(path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file())


@pytest.fixture
def request_context(app):
    """Storing needs the app (config) and a request (the user's language)."""
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield


@pytest.fixture
def upload_folder(app):
    return app.config["UPLOAD_FOLDER"]


# --- accepted -------------------------------------------------------------------

def test_pdf_is_stored_byte_for_byte_under_a_server_made_name(request_context, upload_folder):
    stored = store_bytes(PDF, "MOFA permit.pdf")
    assert isinstance(stored, StoredFile)
    assert STORED_NAME.fullmatch(stored.stored_name) and stored.stored_name.endswith(".pdf")
    assert (stored.content_type, stored.size, stored.original_filename) == ("application/pdf", len(PDF),
                                                                            "MOFA permit.pdf")
    path = Path(upload_folder, stored.stored_name)
    assert path.read_bytes() == PDF
    assert stored.sha256 == hashlib.sha256(PDF).hexdigest()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert files_under(upload_folder) == [stored.stored_name]
    with open_stored(stored.stored_name) as stored_file:
        assert stored_file.read() == PDF


@pytest.mark.parametrize("image_format, content_type, extension", [("JPEG", "image/jpeg", ".jpg"),
                                                                  ("PNG", "image/png", ".png")])
def test_images_are_stored_re_encoded(request_context, upload_folder, image_format, content_type, extension):
    stored = store_bytes(image_bytes(image_format, size=(64, 48)), "press card" + extension)
    assert STORED_NAME.fullmatch(stored.stored_name) and stored.stored_name.endswith(extension)
    assert stored.content_type == content_type
    content = Path(upload_folder, stored.stored_name).read_bytes()
    assert (stored.size, stored.sha256) == (len(content), hashlib.sha256(content).hexdigest())
    with Image.open(io.BytesIO(content)) as image:
        assert (image.format, image.size) == (image_format, (64, 48))
    assert files_under(upload_folder) == [stored.stored_name]


def test_store_upload_reads_a_werkzeug_file_and_ignores_its_content_type(request_context, upload_folder):
    upload = FileStorage(io.BytesIO(PDF), filename="assignment letter.pdf", content_type="text/html")
    stored = store_upload(upload)
    assert (stored.content_type, stored.original_filename) == ("application/pdf", "assignment letter.pdf")
    assert Path(upload_folder, stored.stored_name).read_bytes() == PDF


def test_png_named_pdf_is_stored_as_png(request_context, upload_folder):
    stored = store_bytes(image_bytes("PNG"), "scan.pdf")
    assert stored.content_type == "image/png" and stored.stored_name.endswith(".png")
    assert stored.original_filename == "scan.pdf"
    # Offered for download under a name that says what it is.
    assert download_name(stored.original_filename, stored.content_type) == "scan.pdf.png"
    assert download_name("photo.JPEG", "image/jpeg") == "photo.JPEG"


def test_png_transparency_is_kept(request_context, upload_folder):
    palette = Image.new("P", (8, 8), 1)
    palette.putpalette([0, 0, 0, 255, 255, 255])
    for source in (Image.new("RGBA", (8, 8), (10, 20, 30, 0)), palette):
        stored = store_bytes(image_bytes("PNG", image=source, transparency=0 if source.mode == "P" else None),
                             "logo.png")
        with Image.open(Path(upload_folder, stored.stored_name)) as image:
            assert image.mode == source.mode
            assert image.mode == "RGBA" or image.info["transparency"] == 0


# --- refused content ------------------------------------------------------------

@pytest.mark.parametrize("content, message", [
    (b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>", NOT_ACCEPTED),
    (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\0" * 100, NOT_ACCEPTED),  # a Windows program
    (b"PK\x03\x04\x14\x00\x00\x00" + b"\0" * 100, NOT_ACCEPTED),  # a ZIP (or .docx)
    (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', NOT_ACCEPTED),
    (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", NOT_ACCEPTED),
    (b" %PDF-1.4\n%%EOF\n", NOT_ACCEPTED),  # the signature must come first
    (b"", "This file is empty."),
    (b"\xff\xd8\xff<html><script>alert(1)</script></html>", UNREADABLE),  # a JPEG signature, then HTML
    (PNG_MAGIC + b"<html></html>", UNREADABLE),
    (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "This PDF is incomplete or damaged."),
])
def test_refused_content_leaves_nothing_behind(request_context, upload_folder, content, message):
    with pytest.raises(UploadError) as refused:
        store_bytes(content, "passport.jpg")
    assert str(refused.value) == message
    assert files_under(upload_folder) == []


@pytest.mark.parametrize("image_format", ["JPEG", "PNG"])
def test_truncated_image_is_refused(request_context, upload_folder, image_format):
    content = image_bytes(image_format, size=(200, 200), noise=True)
    with pytest.raises(UploadError, match=UNREADABLE):
        store_bytes(content[: len(content) // 2], "crew photo.jpg")
    assert files_under(upload_folder) == []


# --- sizes ------------------------------------------------------------------------

def test_oversized_file_is_refused_with_the_limit(app, request_context, upload_folder):
    assert app.config["UPLOAD_MAX_FILE_BYTES"] == 10 * 1024 * 1024
    content = PDF + b"\0" * (10 * 1024 * 1024)
    with pytest.raises(UploadError) as refused:
        store_bytes(content, "big.pdf")
    assert str(refused.value) == "This file is larger than 10 MB."
    with pytest.raises(UploadError, match="larger than 10 MB"):
        store_upload(FileStorage(io.BytesIO(content), filename="big.pdf"))
    assert files_under(upload_folder) == []


class CountingStream(io.RawIOBase):
    """An endless upload that records how much was read from it."""

    def __init__(self):
        self.bytes_read = 0

    def readable(self):
        return True

    def readinto(self, buffer):
        filler = (PDF * (len(buffer) // len(PDF) + 1))[: len(buffer)]
        buffer[:] = filler
        self.bytes_read += len(buffer)
        return len(buffer)


def test_size_is_counted_while_reading_not_taken_from_the_declared_length(app, request_context, upload_folder):
    app.config["UPLOAD_MAX_FILE_BYTES"] = 100_000
    stream = CountingStream()
    upload = FileStorage(stream, filename="endless.pdf", content_length=10)
    with pytest.raises(UploadError, match="larger than 98 KB"):
        store_upload(upload)
    assert stream.bytes_read == 100_001  # one byte past the limit, then stop
    assert files_under(upload_folder) == []


def test_a_caller_may_lower_the_limit_but_not_raise_it(app, request_context):
    app.config["UPLOAD_MAX_FILE_BYTES"] = 3 * 1024 * 1024
    photo = image_bytes("JPEG", size=(300, 300), noise=True)
    with pytest.raises(UploadError, match=r"larger than 1 KB\."):
        store_bytes(photo, "photo.jpg", max_bytes=1024)
    with pytest.raises(UploadError, match=r"larger than 2\.5 MB\."):
        store_upload(FileStorage(io.BytesIO(photo + b"\0" * (3 * 1024 * 1024)), filename="photo.jpg"),
                     max_bytes=int(2.5 * 1024 * 1024))
    with pytest.raises(UploadError, match=r"larger than 3 MB\."):
        store_bytes(PDF + b"\0" * (3 * 1024 * 1024), "letter.pdf", max_bytes=50 * 1024 * 1024)
    assert store_bytes(photo, "photo.jpg", max_bytes=len(photo)).content_type == "image/jpeg"


@pytest.mark.parametrize("width, height", [
    (30_000, 30_000),  # over twice Image.MAX_IMAGE_PIXELS: Pillow's DecompressionBombError
    (10_000, 10_000),  # over Image.MAX_IMAGE_PIXELS: Pillow's warning (an error under pytest)
    (8_000, 6_000),  # under Pillow's limits, over UPLOAD_MAX_IMAGE_PIXELS (40 million)
])
def test_decompression_bomb_is_refused(request_context, upload_folder, width, height):
    with pytest.raises(UploadError) as refused:
        store_bytes(png_declaring(width, height), "bomb.png")
    assert str(refused.value) == "This image is too large: it may have at most 40 million pixels."
    assert files_under(upload_folder) == []


def test_pixel_limit_comes_from_config(app, request_context):
    app.config["UPLOAD_MAX_IMAGE_PIXELS"] = 2_500_000
    with pytest.raises(UploadError, match=r"at most 2\.5 million pixels\."):
        store_bytes(image_bytes("JPEG", size=(2000, 1251)), "photo.jpg")
    assert store_bytes(image_bytes("JPEG", size=(2000, 1250)), "photo.jpg").content_type == "image/jpeg"


# --- metadata -----------------------------------------------------------------------

def exif_with_location(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "TellTaleCam"
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.IFD.GPSInfo] = {ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (21.0, 1.0, 42.0)}
    return exif


def test_jpeg_metadata_is_removed(request_context, upload_folder):
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF>TellTaleXMP</rdf:RDF></x:xmpmeta>'
    content = image_bytes("JPEG", exif=exif_with_location(), comment=b"TellTaleComment", xmp=xmp)
    with Image.open(io.BytesIO(content)) as original:  # the test image does carry it all
        assert original.getexif().get_ifd(ExifTags.IFD.GPSInfo) and "comment" in original.info
    stored = store_bytes(content, "portrait.jpg")
    stored_content = Path(upload_folder, stored.stored_name).read_bytes()
    for telltale in (b"Exif\0\0", b"TellTale", b"xmpmeta"):
        assert telltale not in stored_content
    with Image.open(io.BytesIO(stored_content)) as image:
        assert not image.getexif() and not {"exif", "comment", "xmp"} & set(image.info)


def test_png_metadata_is_removed(request_context, upload_folder):
    from PIL.PngImagePlugin import PngInfo

    text = PngInfo()
    text.add_text("Author", "TellTaleAuthor")
    text.add_itxt("Location", "TellTaleLocation", zip=True)
    stored = store_bytes(image_bytes("PNG", exif=exif_with_location(), pnginfo=text), "evidence.png")
    stored_content = Path(upload_folder, stored.stored_name).read_bytes()
    assert b"TellTale" not in stored_content and b"eXIf" not in stored_content and b"tEXt" not in stored_content
    with Image.open(io.BytesIO(stored_content)) as image:
        assert not image.getexif() and not image.text


def test_icc_colour_profile_is_kept(request_context, upload_folder):
    from PIL import ImageCms

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    stored = store_bytes(image_bytes("JPEG", icc_profile=profile), "press card.jpg")
    with Image.open(Path(upload_folder, stored.stored_name)) as image:
        assert image.info["icc_profile"] == profile


def test_photo_rotated_by_exif_is_stored_upright(request_context, upload_folder):
    sideways = Image.new("RGB", (60, 20), "white")
    sideways.paste((200, 0, 0), (0, 0, 10, 20))  # red band on the left as stored; on top once upright
    stored = store_bytes(image_bytes("JPEG", image=sideways, exif=exif_with_location(orientation=6)), "crew.jpg")
    with Image.open(Path(upload_folder, stored.stored_name)) as image:
        assert image.size == (20, 60)
        assert ExifTags.Base.Orientation not in image.getexif()
        red, green, _blue = image.getpixel((10, 5))
        assert red > 150 and green < 80


# --- names and paths ---------------------------------------------------------------

@pytest.mark.parametrize("filename, expected", [
    ("../../etc/passwd.png", "passwd.png"),
    ("..\\..\\x.png", "x.png"),
    ("C:\\Users\\An\\Desktop\\scan.png", "scan.png"),
    ("/etc/passwd", "passwd"),
    ("..", "file"),
])
def test_traversal_in_the_name_only_changes_the_shown_name(request_context, upload_folder, filename, expected):
    stored = store_bytes(image_bytes("PNG"), filename)
    assert stored.original_filename == expected
    assert files_under(upload_folder) == [stored.stored_name]


@pytest.mark.parametrize("filename, expected", [
    ("Hộ chiếu.pdf", "Hộ chiếu.pdf"),
    ("Tha\u0300nh vie\u0302n đoa\u0300n.jpg", "Thành viên đoàn.jpg"),  # decomposed, as macOS sends it
    ("", "file"),
    (None, "file"),
    ("  .hidden  ", "hidden"),
    ("line\r\nbreak\t\x00.pdf", "linebreak.pdf"),
    ("invoice\u202egpj.exe", "invoicegpj.exe"),  # no right-to-left override to disguise the extension
    ('a<b>:"c"|?*.pdf', "a_b___c____.pdf"),
    ("many   spaces\u00a0here.pdf", "many spaces here.pdf"),
])
def test_safe_filename(filename, expected):
    assert safe_filename(filename) == expected


def test_long_file_name_is_cut_to_150_characters_keeping_the_extension():
    name = safe_filename("Giấy phép " * 40 + ".pdf")
    assert len(name) == 150 and name.endswith(".pdf") and name.startswith("Giấy phép")
    assert len(safe_filename("x" * 300)) == 150


@pytest.mark.parametrize("stored_name", [
    "../x", "../../etc/passwd", "/etc/passwd", "2027/03/../../../x.pdf", "2027\\03\\" + "a" * 32 + ".pdf",
    "2027/03/" + "a" * 32 + ".html", "2027/03/.upload-abc.part", "", "x.pdf", None,
])
def test_stored_path_refuses_anything_not_made_here(app, request_context, stored_name):
    with pytest.raises(ValueError):
        stored_path(stored_name)
    with pytest.raises(ValueError):
        open_stored(stored_name)
    with pytest.raises(ValueError):
        delete_stored(stored_name)


def test_stored_path_refuses_an_absolute_path_even_inside_the_folder(request_context, upload_folder):
    stored = store_bytes(PDF, "letter.pdf")
    with pytest.raises(ValueError):
        stored_path(str(Path(upload_folder, stored.stored_name)))
    assert stored_path(stored.stored_name) == Path(upload_folder, stored.stored_name)


def test_delete_stored(request_context, upload_folder):
    stored = store_bytes(PDF, "letter.pdf")
    delete_stored(stored.stored_name)
    assert files_under(upload_folder) == []
    delete_stored(stored.stored_name)  # already gone: fine


def test_failed_write_leaves_no_temporary_file(request_context, upload_folder, monkeypatch):
    def disk_full(source, destination):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(OSError):
        store_bytes(PDF, "letter.pdf")
    assert files_under(upload_folder) == []


# --- sending back ------------------------------------------------------------------

def test_send_stored_is_an_uncached_attachment_a_browser_will_not_run(app, client):
    with app.app_context():
        stored = store_bytes(PDF, "Hộ chiếu đặc biệt.pdf")
    app.add_url_rule("/test-download", "test_download", lambda: send_stored(stored))

    response = client.get("/test-download")
    assert response.status_code == 200 and response.data == PDF
    assert response.mimetype == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''" + quote("Hộ chiếu đặc biệt.pdf") in disposition
    assert response.headers["Cache-Control"] == "no-store, private"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    # app/security.py sets its page policy with setdefault: the download's own policy stays.
    assert response.headers.getlist("Content-Security-Policy") == ["default-src 'none'; sandbox"]


def test_send_stored_offers_the_real_extension(app, client):
    with app.app_context():
        stored = store_bytes(image_bytes("PNG"), "report.html")
    app.add_url_rule("/test-download", "test_download", lambda: send_stored(stored))
    response = client.get("/test-download")
    assert response.mimetype == "image/png"
    assert response.headers["Content-Disposition"] == "attachment; filename=report.html.png"


# --- language ------------------------------------------------------------------------

def test_messages_are_translatable_strings_in_the_request_language(app):
    # The Vietnamese catalogue gets these strings from the lead; only English is asserted here.
    with app.test_request_context(headers={"Accept-Language": "vi"}), force_locale("en"):
        with pytest.raises(UploadError) as refused:
            store_bytes(b"<html></html>", "x.jpg")
    assert str(refused.value) == NOT_ACCEPTED


# --- pixels kept per kind ---------------------------------------------------------------

def decoded_sizes(monkeypatch) -> list[tuple[int, int]]:
    """The size at which each JPEG is really decoded (after draft mode, if any)."""
    from PIL import JpegImagePlugin

    sizes = []
    real_load = JpegImagePlugin.JpegImageFile.load

    def load(self):
        if self.tile:  # not yet decoded: this is the decode
            sizes.append(self.size)
        return real_load(self)

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "load", load)
    return sizes


def test_a_face_photo_is_kept_at_about_a_megapixel_and_never_fully_decoded(app, request_context, upload_folder,
                                                                           monkeypatch):
    from app.uploads import photo_pixels

    sizes = decoded_sizes(monkeypatch)
    stored = store_bytes(image_bytes("JPEG", size=(6000, 4000)), "face.jpg", pixels=photo_pixels())
    with Image.open(Path(upload_folder, stored.stored_name)) as kept:
        assert kept.width * kept.height <= app.config["UPLOAD_PHOTO_PIXELS"] == 1_000_000
        assert kept.width * kept.height > 0.9 * app.config["UPLOAD_PHOTO_PIXELS"]
        assert abs(kept.width / kept.height - 1.5) < 0.01  # the proportions stay
    # JPEG draft mode: 24 megapixels decoded at 1/4 scale (1500 x 1000), never whole.
    assert sizes == [(1500, 1000)]


def test_a_scan_keeps_more_pixels_than_a_photo(app, request_context, upload_folder, monkeypatch):
    sizes = decoded_sizes(monkeypatch)
    stored = store_bytes(image_bytes("JPEG", size=(4960, 7016)), "passport.jpg")  # A4 at 600 dpi
    with Image.open(Path(upload_folder, stored.stored_name)) as kept:
        assert 8_000_000 < kept.width * kept.height <= app.config["UPLOAD_SCAN_PIXELS"] == 9_000_000
    assert sizes == [(2480, 3508)]  # decoded at half scale
    small = store_bytes(image_bytes("JPEG", size=(1200, 900)), "card.jpg")
    with Image.open(Path(upload_folder, small.stored_name)) as kept:
        assert kept.size == (1200, 900)  # small enough: not scaled


def test_a_large_png_is_reduced_too(app, request_context, upload_folder):
    from app.uploads import photo_pixels

    stored = store_bytes(image_bytes("PNG", size=(2000, 2000)), "face.png", pixels=photo_pixels())
    with Image.open(Path(upload_folder, stored.stored_name)) as kept:
        assert kept.size == (1000, 1000)


def test_the_declared_size_is_refused_before_anything_is_decoded(app, request_context, monkeypatch):
    sizes = decoded_sizes(monkeypatch)
    app.config["UPLOAD_MAX_IMAGE_PIXELS"] = 1_000_000
    with pytest.raises(UploadError, match="at most 1 million pixels"):
        store_bytes(image_bytes("JPEG", size=(1001, 1000)), "photo.jpg")
    assert sizes == []


def test_a_photo_must_be_an_image(request_context):
    with pytest.raises(UploadError, match="The photo must be a JPEG or PNG image."):
        store_upload(FileStorage(io.BytesIO(PDF), filename="face.pdf"), images_only=True)


# --- PDF structure ------------------------------------------------------------------

def pdf_with(*pages_text: str, encrypt: tuple[str, str] | None = None) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _text in pages_text:
        writer.add_blank_page(width=595, height=842)
    if encrypt:
        writer.encrypt(user_password=encrypt[0], owner_password=encrypt[1])
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("content, message", [
    (b"%PDF-1.4\n<html><script>alert(document.cookie)</script></html>\n%%EOF\n", "This PDF is incomplete or damaged."),
    (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
     b"trailer<</Root 1 0 R>>\n%%EOF\n", "This PDF is incomplete or damaged."),  # no xref, no pages
    (pdf_with(), "This PDF has no pages."),
    (pdf_with("secret", encrypt=("open-sesame", "owner")),
     "This PDF is protected by a password. Upload it without the password."),
])
def test_a_pdf_must_open_and_have_a_page(request_context, upload_folder, content, message):
    with pytest.raises(UploadError) as refused:
        store_bytes(content, "letter.pdf")
    assert str(refused.value) == message
    assert files_under(upload_folder) == []
    with pytest.raises(UploadError, match=re.escape(message)):
        store_upload(FileStorage(io.BytesIO(content), filename="letter.pdf"))


def test_a_pdf_a_viewer_opens_is_accepted(request_context):
    two_pages = pdf_with("one", "two")
    assert store_bytes(two_pages, "letter.pdf").size == len(two_pages)
    # Restricted by an owner password only: every viewer opens it without asking.
    restricted = pdf_with("one", encrypt=("", "owner"))
    assert store_bytes(restricted, "letter.pdf").size == len(restricted)
    # A cross-reference table with wrong offsets (common from scanners) is rebuilt, as viewers do.
    shifted = PDF.replace(b"%PDF-1.4\n", b"%PDF-1.4\n% a comment that moves every object\n")
    assert store_bytes(shifted, "scan.pdf").size == len(shifted)


# --- files follow their transaction ----------------------------------------------------

def test_a_file_written_by_a_transaction_that_rolls_back_is_deleted(app, request_context, upload_folder):
    from app.extensions import db as app_db
    from app.auth.models import User

    app_db.session.scalar(sa_select_count(User))  # a transaction is under way
    stored = store_bytes(PDF, "letter.pdf")
    assert files_under(upload_folder) == [stored.stored_name]
    app_db.session.rollback()
    assert files_under(upload_folder) == []

    kept = store_bytes(PDF, "letter.pdf")
    app_db.session.scalar(sa_select_count(User))
    app_db.session.commit()
    assert files_under(upload_folder) == [kept.stored_name]


def test_a_file_written_before_the_transaction_belongs_to_the_next_one(app, request_context, upload_folder):
    """store_upload works before the write transaction opens: the file is deleted if that
    transaction does not commit (a refusal in the second check), and kept if it does."""
    from app.extensions import db as app_db

    stored = store_upload(FileStorage(io.BytesIO(PDF), filename="letter.pdf"))
    assert not app_db.session().in_transaction()
    app_db.session.execute(sa_text("SELECT 1"))
    app_db.session.close()  # ended without a commit (the request's teardown)
    assert files_under(upload_folder) == []
    assert stored.stored_name


def test_a_removed_file_is_deleted_only_after_the_commit(app, request_context, upload_folder):
    from app.extensions import db as app_db
    from app.auth.models import User

    first, second = store_bytes(PDF, "a.pdf"), store_bytes(PDF, "b.pdf")
    app_db.session.scalar(sa_select_count(User))
    app_db.session.commit()
    app_db.session.scalar(sa_select_count(User))
    delete_stored(first.stored_name)
    assert first.stored_name in files_under(upload_folder)  # not yet: the transaction may roll back
    app_db.session.rollback()
    assert first.stored_name in files_under(upload_folder)
    app_db.session.scalar(sa_select_count(User))
    delete_stored(second.stored_name)
    app_db.session.commit()
    assert files_under(upload_folder) == [first.stored_name]


def sa_select_count(model):
    import sqlalchemy as sa

    return sa.select(sa.func.count()).select_from(model)


def sa_text(sql):
    import sqlalchemy as sa

    return sa.text(sql)


# --- modes ---------------------------------------------------------------------------

def test_folders_and_files_are_for_the_service_user_only(app, request_context, upload_folder):
    stored = store_bytes(image_bytes("PNG"), "face.png")
    path = Path(upload_folder, stored.stored_name)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for folder in (path.parent, path.parent.parent, Path(upload_folder)):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700


# --- flask uploads sweep -------------------------------------------------------------

def test_sweep_removes_old_orphans_only(app, runner, make_registration, db):
    import sqlalchemy as sa

    from app.registrations.models import Attachment, Status

    registration, _correspondent = make_registration(Status.draft)
    referenced = set(db.session.scalars(sa.select(Attachment.stored_name)))
    with app.test_request_context():
        old_orphan = store_bytes(PDF, "lost.pdf").stored_name
        young_orphan = store_bytes(PDF, "in flight.pdf").stored_name
        folder = Path(app.config["UPLOAD_FOLDER"])
        leftover = Path(stored_path(old_orphan).parent, ".upload-x.part")
        leftover.write_bytes(b"half")
        foreign = folder / "README.txt"
        foreign.write_text("not ours")
        two_hours_ago = stored_path(old_orphan).stat().st_mtime - 7200
        for path in (stored_path(old_orphan), leftover, foreign, *(stored_path(name) for name in referenced)):
            os.utime(path, (two_hours_ago, two_hours_ago))

    dry = runner.invoke(args=["uploads", "sweep", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert old_orphan in dry.output and "would delete 2 orphaned file(s)" in dry.output
    with app.test_request_context():
        assert stored_path(old_orphan).is_file()

    result = runner.invoke(args=["uploads", "sweep"])
    assert result.exit_code == 0, result.output
    assert "deleted 2 orphaned file(s)" in result.output
    with app.test_request_context():
        assert not stored_path(old_orphan).exists() and not leftover.exists()
        assert stored_path(young_orphan).is_file()  # younger than an hour: perhaps not committed yet
        assert foreign.is_file()  # not a name this module makes
        assert all(stored_path(name).is_file() for name in referenced) and referenced

    assert "deleted 1" in runner.invoke(args=["uploads", "sweep", "--min-age", "0"]).output  # the young one
