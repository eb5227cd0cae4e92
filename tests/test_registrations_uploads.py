"""Attachments through the registration page: attacks get a clear message and store nothing."""
from __future__ import annotations

import io
import os

import sqlalchemy as sa
from PIL import Image

from app.registrations.models import Attachment, Status
from tests.support import login, post_form


def upload(client, registration_id, content: bytes, filename: str, kind="passport", **kwargs):
    return post_form(client, f"/registrations/{registration_id}/attachments",
                     {"kind": kind, "file": (io.BytesIO(content), filename)},
                     page=f"/registrations/{registration_id}", **kwargs)


def stored_files(app) -> set[str]:
    found = set()
    for folder, _dirs, files in os.walk(app.config["UPLOAD_FOLDER"]):
        found.update(os.path.join(folder, name) for name in files)
    return found


def count(db) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Attachment))


def test_html_renamed_jpg_is_refused(app, client, db, make_registration):
    registration, correspondent = make_registration(Status.draft)
    login(client, correspondent.email)
    before, files = count(db), stored_files(app)
    response = upload(client, registration.id, b"<html><script>alert(1)</script></html>", "photo.jpg",
                      follow_redirects=True)
    assert "This file is not a PDF, JPEG or PNG document." in response.get_data(as_text=True)
    assert count(db) == before and stored_files(app) == files


def test_png_bytes_named_pdf_are_kept_as_png(app, client, db, make_registration):
    registration, correspondent = make_registration(Status.draft)
    login(client, correspondent.email)
    buffer = io.BytesIO()
    Image.new("RGB", (30, 30), "white").save(buffer, "PNG")
    upload(client, registration.id, buffer.getvalue(), "scan.pdf")
    newest = db.session.scalar(sa.select(Attachment).order_by(Attachment.id.desc()))
    assert newest.content_type == "image/png" and newest.stored_name.endswith(".png")
    response = client.get(f"/registrations/{registration.id}/attachments/{newest.id}")
    assert response.mimetype == "image/png"
    assert "scan.pdf.png" in response.headers["Content-Disposition"]


def test_oversized_file_is_refused(app, client, db, make_registration):
    app.config["UPLOAD_MAX_FILE_BYTES"] = 50_000
    registration, correspondent = make_registration(Status.draft)
    login(client, correspondent.email)
    before = count(db)
    response = upload(client, registration.id, b"%PDF-1.4\n" + b"0" * 60_000 + b"\n%%EOF\n", "big.pdf",
                      follow_redirects=True)
    assert "This file is larger than" in response.get_data(as_text=True)
    assert count(db) == before


def test_a_body_over_the_request_limit_gets_the_413_page(app, client, make_registration):
    app.config["MAX_CONTENT_LENGTH"] = 100_000
    registration, correspondent = make_registration(Status.draft)
    login(client, correspondent.email)
    response = upload(client, registration.id, b"%PDF-1.4\n" + b"0" * 200_000, "huge.pdf")
    assert response.status_code == 413
    assert "File too large" in response.get_data(as_text=True)


def test_path_traversal_filename_is_stored_safely(app, client, db, make_registration):
    registration, correspondent = make_registration(Status.draft)
    login(client, correspondent.email)
    upload(client, registration.id, b"%PDF-1.4\nx\n%%EOF\n", "../../../etc/passwd.pdf")
    newest = db.session.scalar(sa.select(Attachment).order_by(Attachment.id.desc()))
    assert newest.original_filename == "passwd.pdf"
    assert ".." not in newest.stored_name
    root = os.path.realpath(app.config["UPLOAD_FOLDER"])
    assert all(os.path.realpath(path).startswith(root + os.sep) for path in stored_files(app))


def test_the_total_per_registration_is_limited(app, client, db, make_registration):
    registration, correspondent = make_registration(Status.draft)
    used = sum(attachment.size for attachment in db.session.scalars(
        sa.select(Attachment).where(Attachment.registration_id == registration.id)))
    app.config["REGISTRATION_MAX_ATTACHMENT_BYTES"] = used + 100
    login(client, correspondent.email)
    before, files = count(db), stored_files(app)
    response = upload(client, registration.id, b"%PDF-1.4\n" + b"1" * 500 + b"\n%%EOF\n", "extra.pdf",
                      follow_redirects=True)
    assert "may not exceed" in response.get_data(as_text=True)
    assert count(db) == before and stored_files(app) == files


def test_attachments_cannot_be_added_once_submitted(app, client, db, make_registration):
    registration, correspondent = make_registration(Status.submitted)
    login(client, correspondent.email)
    before = count(db)
    upload(client, registration.id, b"%PDF-1.4\nx\n%%EOF\n", "late.pdf")
    assert count(db) == before


def test_image_attachments_lose_their_exif(app, client, db, make_registration):
    registration, correspondent = make_registration(Status.draft)
    login(client, correspondent.email)
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    buffer = io.BytesIO()
    Image.new("RGB", (40, 40), "red").save(buffer, "JPEG", exif=exif.tobytes())
    upload(client, registration.id, buffer.getvalue(), "card.jpg", kind="press_card")
    newest = db.session.scalar(sa.select(Attachment).order_by(Attachment.id.desc()))
    data = client.get(f"/registrations/{registration.id}/attachments/{newest.id}").data
    assert b"SpyCam" not in data and not Image.open(io.BytesIO(data)).getexif()
