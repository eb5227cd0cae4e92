"""Attachments through the registration page: attacks get a clear message and store nothing."""
from __future__ import annotations

import io
import os

import sqlalchemy as sa
from PIL import Image

from app.registrations.models import Attachment, Registration, Status
from tests.conftest import TINY_PDF
from tests.support import form_fields, login, post_form


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
    upload(client, registration.id, TINY_PDF, "../../../etc/passwd.pdf")
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
    response = upload(client, registration.id, TINY_PDF, "extra.pdf", follow_redirects=True)
    assert "may not exceed" in response.get_data(as_text=True)
    assert count(db) == before and stored_files(app) == files


def test_attachments_cannot_be_added_once_submitted(app, client, db, make_registration):
    registration, correspondent = make_registration(Status.submitted)
    login(client, correspondent.email)
    before = count(db)
    upload(client, registration.id, TINY_PDF, "late.pdf")
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


def stored_names(db) -> set[str]:
    return set(db.session.scalars(sa.select(Attachment.stored_name)))


def test_the_quota_is_checked_before_anything_is_decoded(app, client, db, make_registration, monkeypatch):
    registration, correspondent = make_registration(Status.draft)
    used = sum(attachment.size for attachment in db.session.scalars(
        sa.select(Attachment).where(Attachment.registration_id == registration.id)))
    app.config["REGISTRATION_MAX_ATTACHMENT_BYTES"] = used + 1000
    decoded = []
    monkeypatch.setattr("app.uploads._reencode_image", lambda *args: decoded.append(args) or b"")
    login(client, correspondent.email)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (200, 200), os.urandom(200 * 200 * 3)).save(buffer, "PNG")  # > 1000 bytes
    response = upload(client, registration.id, buffer.getvalue(), "scan.png", follow_redirects=True)
    assert "may not exceed" in response.get_data(as_text=True)
    assert decoded == []


def test_a_removed_attachment_file_is_deleted_after_the_commit(app, client, db, make_registration):
    registration, correspondent = make_registration(Status.draft)
    login(client, correspondent.email)
    attachment = db.session.scalars(sa.select(Attachment).where(Attachment.registration_id == registration.id)).first()
    with app.app_context():
        from app.uploads import stored_path

        path = stored_path(attachment.stored_name)
    assert path.is_file()
    response = post_form(client, f"/registrations/{registration.id}/attachments/{attachment.id}/remove",
                         {"version": registration.version},
                         page=f"/registrations/{registration.id}/edit")
    assert response.status_code == 303  # See Other: back to the form, as the form's own Remove
    assert db.session.get(Attachment, attachment.id) is None
    assert not path.exists()


def test_a_refused_removal_keeps_the_file(app, client, db, make_registration):
    registration, correspondent = make_registration(Status.submitted)
    login(client, correspondent.email)
    attachment = db.session.scalars(sa.select(Attachment).where(Attachment.registration_id == registration.id)).first()
    with app.app_context():
        from app.uploads import stored_path

        path = stored_path(attachment.stored_name)
    post_form(client, f"/registrations/{registration.id}/attachments/{attachment.id}/remove",
              {"version": registration.version}, page=f"/registrations/{registration.id}")
    assert db.session.get(Attachment, attachment.id) is not None and path.is_file()


def test_uploads_are_limited_per_user(app, client, db, make_registration):
    app.config["RATELIMIT_UPLOAD"] = "3 per minute"
    registration, correspondent = make_registration(Status.draft)
    login(client, correspondent.email)
    statuses = [upload(client, registration.id, TINY_PDF, f"page {number}.pdf").status_code for number in range(4)]
    assert statuses == [302, 302, 302, 429]
    other_registration, other = make_registration(Status.draft)
    other_client = app.test_client()
    login(other_client, other.email)
    assert upload(other_client, other_registration.id, TINY_PDF, "mine.pdf").status_code == 302  # their own budget


def test_a_replaced_crew_photo_is_deleted_after_the_commit(app, client, db, make_registration):
    from app.outlets.models import CrewMember

    registration, correspondent = make_registration(Status.draft)
    member = db.session.scalars(sa.select(CrewMember).where(CrewMember.outlet_id == correspondent.outlet_id)).first()
    login(client, correspondent.email)

    def send_photo(colour: str):
        buffer = io.BytesIO()
        Image.new("RGB", (450, 600), colour).save(buffer, "JPEG")  # a permit photo: 3:4, at least 319 x 425
        buffer.seek(0)
        data = {"full_name": member.full_name, "nationality": member.nationality,
                "date_of_birth": member.date_of_birth.isoformat(), "role": member.role.name,
                "passport_number": member.passport_number, "passport_expiry": member.passport_expiry.isoformat(),
                "press_card_number": member.press_card_number or "", "photo": (buffer, "face.jpg"),
                "privacy_consent": "y"}
        response = post_form(client, f"/outlet/crew/{member.id}", data)
        assert response.status_code == 302
        return db.session.get(CrewMember, member.id).photo_stored_name

    first = send_photo("red")
    with app.app_context():
        from app.uploads import stored_path

        first_path = stored_path(first)
        assert first_path.is_file()
        second = send_photo("blue")
        assert second != first and stored_path(second).is_file()
    assert not first_path.exists()


def test_remove_on_the_form_as_the_page_renders_it_removes_the_attachment_and_says_so(app, client, db,
                                                                                     make_registration):
    """The page's own form, as rendered, with its "Yes, remove" button: the attachment goes, the
    page says so, and what was typed (not yet saved) is saved, not lost."""
    registration, correspondent = make_registration(Status.draft)
    login(client, correspondent.email)
    attachment = db.session.scalars(sa.select(Attachment).where(Attachment.registration_id == registration.id)).first()
    page = client.get(f"/registrations/{registration.id}/edit").get_data(as_text=True)
    assert f'name="remove_attachment" value="{attachment.id}"' in page
    fields = form_fields(page, "registration-form")
    assert "version" in fields and "csrf_token" in fields
    fields["purpose"] = "Typed just before removing the file"
    fields["remove_attachment"] = str(attachment.id)
    response = client.post(f"/registrations/{registration.id}/edit", data=fields, follow_redirects=True)
    assert response.status_code == 200
    assert f"Removed: {attachment.original_filename}." in response.get_data(as_text=True)
    assert db.session.get(Attachment, attachment.id) is None
    assert db.session.get(Registration, registration.id).purpose == "Typed just before removing the file"


def test_attaching_before_saving_keeps_what_was_typed(app, client, db, make_registration):
    registration, correspondent = make_registration(Status.draft)
    login(client, correspondent.email)
    fields = form_fields(client.get(f"/registrations/{registration.id}/edit").get_data(as_text=True),
                         "registration-form")
    fields["purpose"], fields["attachment_kind"] = "A purpose typed, never saved", "press_card"
    fields["attach"] = "Attach the file"
    data = fields.to_dict(flat=False)
    data["attachment_file"] = (io.BytesIO(TINY_PDF), "press card.pdf")
    response = client.post(f"/registrations/{registration.id}/edit", data=data, follow_redirects=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "Attached: press card.pdf." in body
    assert "A purpose typed, never saved" in body
    stored = db.session.get(Registration, registration.id)
    assert stored.purpose == "A purpose typed, never saved"
    assert "press card.pdf" in {attachment.original_filename for attachment in stored.attachments}


def test_a_refused_file_still_saves_what_was_typed(app, client, db, make_registration):
    registration, correspondent = make_registration(Status.draft)
    login(client, correspondent.email)
    fields = form_fields(client.get(f"/registrations/{registration.id}/edit").get_data(as_text=True),
                         "registration-form")
    fields["content"], fields["attach"] = "Typed before a bad file", "Attach the file"
    data = fields.to_dict(flat=False)
    data["attachment_file"] = (io.BytesIO(b"MZ not a document"), "virus.exe")
    response = client.post(f"/registrations/{registration.id}/edit", data=data, follow_redirects=True)
    body = response.get_data(as_text=True)
    assert "The file was not attached" in body and "Typed before a bad file" in body
    assert db.session.get(Registration, registration.id).content == "Typed before a bad file"


def test_attachment_kinds_offer_the_first_missing_required_one_first(app, client, db, make_registration):
    registration, correspondent = make_registration(Status.draft)
    login(client, correspondent.email)
    first = db.session.scalars(sa.select(Attachment).where(Attachment.registration_id == registration.id)
                               .order_by(Attachment.id)).first()
    fields = form_fields(client.get(f"/registrations/{registration.id}/edit").get_data(as_text=True),
                         "registration-form")
    fields["remove_attachment"] = str(first.id)
    client.post(f"/registrations/{registration.id}/edit", data=fields)
    page = client.get(f"/registrations/{registration.id}/edit").get_data(as_text=True)
    assert form_fields(page, "registration-form")["attachment_kind"] == first.kind.name


def test_a_stale_remove_form_says_nothing_was_removed(app, client, db, make_registration):
    registration, correspondent = make_registration(Status.draft)
    login(client, correspondent.email)
    attachment = db.session.scalars(sa.select(Attachment).where(Attachment.registration_id == registration.id)).first()
    response = post_form(client, f"/registrations/{registration.id}/attachments/{attachment.id}/remove", {},
                         page=f"/registrations/{registration.id}/edit", follow_redirects=True)
    assert "The attachment was not removed" in response.get_data(as_text=True)
    assert db.session.get(Attachment, attachment.id) is not None
