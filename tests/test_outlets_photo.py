"""A crew member's photo: checked as a permit photo, kept across a form sent back with an error,
shown as the permit crops it; and removing a crew member after a confirmation."""
from __future__ import annotations

import io
import os
import re
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
import time_machine
from PIL import Image

from app.auth.models import Role
from app.clock import local_today
from app.outlets.models import CrewMember
from app.outlets.photos import KEPT_PHOTO_MAX_AGE_SECONDS, PHOTO_MIN_HEIGHT_PX, PHOTO_MIN_WIDTH_PX
from app.uploads import SWEEP_MIN_AGE_SECONDS
from tests.conftest import TINY_PDF
from tests.support import csrf_token, login, post_form

KEPT_FIELD = re.compile(r'name="kept_photo"[^>]*value="([^"]*)"|value="([^"]*)"[^>]*name="kept_photo"')


def image_bytes(size, kind="JPEG", colour=(200, 170, 150)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, kind)
    return buffer.getvalue()


GOOD_PHOTO = (450, 600)


def crew_data(**overrides) -> dict:
    data = {"full_name": "Ingrid Larsen", "nationality": "NO", "date_of_birth": "1985-04-12", "role": "reporter",
            "passport_number": "N1234567", "passport_expiry": (local_today() + timedelta(days=900)).isoformat(),
            "press_card_number": "PC-1", "privacy_consent": "y"}
    data.update(overrides)
    return data


def kept_token(html: str) -> str:
    match = KEPT_FIELD.search(html)
    assert match, "no kept_photo field"
    return match.group(1) or match.group(2) or ""


@pytest.fixture
def correspondent(client, make_user, make_outlet):
    user = make_user(Role.correspondent)
    make_outlet(correspondents=[user])
    login(client, user.email)
    return user


def send(client, data, photo=None, filename="face.jpg"):
    payload = dict(data)
    if photo is not None:
        payload["photo"] = (io.BytesIO(photo), filename)
    return post_form(client, "/outlet/crew/new", payload)


def members(db):
    return db.session.scalars(sa.select(CrewMember)).all()


# --- checks at upload ----------------------------------------------------------------------

def test_the_minimum_is_the_permit_photo_box_at_300_dpi():
    # 27 x 36 mm (app/documents/permits.py) at 300 dpi
    assert (PHOTO_MIN_WIDTH_PX, PHOTO_MIN_HEIGHT_PX) == (319, 425)
    assert KEPT_PHOTO_MAX_AGE_SECONDS < SWEEP_MIN_AGE_SECONDS


def test_a_good_portrait_photo_is_saved(client, db, correspondent):
    response = send(client, crew_data(), image_bytes(GOOD_PHOTO))
    assert response.status_code == 302
    (member,) = members(db)
    assert member.photo_stored_name and member.photo_content_type == "image/jpeg"


def test_the_form_tells_what_a_photo_must_be(client, correspondent):
    page = client.get("/outlet/crew/new").get_data(as_text=True)
    assert "at least 319 × 425 pixels" in page and "portrait" in page


@pytest.mark.parametrize("size, expected", [
    ((300, 400), "is 300 × 400 pixels, and the permit needs at least 319 × 425 pixels"),
    ((600, 450), "wider than it is tall (600 × 450 pixels)"),
    ((500, 500), "square or nearly so (500 × 500 pixels)"),
    ((560, 600), "square or nearly so (560 × 600 pixels)"),
    ((400, 1000), "too narrow for the permit (400 × 1000 pixels)"),
])
def test_a_photo_unfit_for_the_permit_is_refused_with_its_reason(client, db, correspondent, size, expected):
    response = send(client, crew_data(), image_bytes(size))
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and expected in body
    assert members(db) == []
    assert "Kept: the photo you chose" not in body


def test_the_size_is_judged_upright(client, db, correspondent):
    """A phone photo stored sideways with an EXIF orientation is judged as it will be shown."""
    image = Image.new("RGB", (600, 450), "grey")
    exif = image.getexif()
    exif[0x0112] = 6  # turned a quarter: upright it is 450 x 600
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    assert send(client, crew_data(), buffer.getvalue()).status_code == 302


def test_a_pdf_is_not_a_photo(client, db, correspondent):
    response = send(client, crew_data(), TINY_PDF, "face.pdf")
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and "This is a PDF. The photo must be an image" in body
    assert members(db) == []


def test_something_that_is_not_an_image_is_refused(client, db, correspondent):
    response = send(client, crew_data(), b"GIF89a not what we take", "face.jpg")
    assert response.status_code == 400
    assert "This file is not a JPEG or PNG image." in response.get_data(as_text=True)
    assert members(db) == []


def test_messages_are_in_vietnamese_too(client, make_user, make_outlet):
    user = make_user(Role.correspondent, locale="vi")
    make_outlet(correspondents=[user])
    login(client, user.email)
    body = send(client, crew_data(), image_bytes((300, 400))).get_data(as_text=True)
    assert "319 × 425" in body and "điểm ảnh" in body


# --- the photo kept across a validation error ----------------------------------------------

def test_the_photo_is_kept_across_an_error_and_used_on_success(app, client, db, correspondent):
    response = send(client, crew_data(passport_number=""), image_bytes(GOOD_PHOTO))
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and members(db) == []
    assert "Kept: the photo you chose" in body
    token = kept_token(body)
    assert token
    thumbnail = re.search(r'src="(/outlet/crew/kept-photo\?kept=[^"]+)"', body).group(1)
    image = client.get(thumbnail.replace("&amp;", "&"))
    assert image.status_code == 200 and image.mimetype == "image/jpeg"

    # The staged file survived the request that did not commit.
    with app.app_context():
        from app.outlets.photos import kept_photo
        from app.uploads import stored_path

        kept = kept_photo(token, correspondent.id)
        assert stored_path(kept.stored_name).is_file()

    # Sent again, corrected, without choosing the file again: the kept photo is the member's.
    response = send(client, crew_data(kept_photo=token))
    assert response.status_code == 302
    (member,) = members(db)
    assert member.photo_stored_name == kept.stored_name and member.photo_content_type == "image/jpeg"


def test_a_second_error_keeps_the_same_token(client, db, correspondent):
    token = kept_token(send(client, crew_data(passport_number=""), image_bytes(GOOD_PHOTO)).get_data(as_text=True))
    body = send(client, crew_data(full_name="", kept_photo=token)).get_data(as_text=True)
    assert "Kept: the photo you chose" in body and kept_token(body) == token


def test_a_new_photo_replaces_the_kept_one(client, db, correspondent):
    token = kept_token(send(client, crew_data(passport_number=""), image_bytes(GOOD_PHOTO)).get_data(as_text=True))
    response = send(client, crew_data(kept_photo=token), image_bytes(GOOD_PHOTO, "PNG"), "face.png")
    assert response.status_code == 302
    (member,) = members(db)
    assert member.photo_content_type == "image/png"


def test_a_tampered_token_gives_a_message(client, db, correspondent):
    token = kept_token(send(client, crew_data(passport_number=""), image_bytes(GOOD_PHOTO)).get_data(as_text=True))
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    response = send(client, crew_data(kept_photo=tampered))
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and "could not be found. Choose the photo again." in body
    assert members(db) == []
    assert client.get(f"/outlet/crew/kept-photo?kept={tampered}").status_code == 404


def test_an_expired_token_gives_a_message(client, db, correspondent):
    token = kept_token(send(client, crew_data(passport_number=""), image_bytes(GOOD_PHOTO)).get_data(as_text=True))
    with time_machine.travel(time.time() + KEPT_PHOTO_MAX_AGE_SECONDS + 60, tick=False):
        response = send(client, crew_data(kept_photo=token))
        assert client.get(f"/outlet/crew/kept-photo?kept={token}").status_code == 404
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and "that time is over. Choose the photo again." in body
    assert members(db) == []


def test_a_token_is_only_for_the_user_it_was_made_for(app, client, db, correspondent, make_user, make_outlet):
    token = kept_token(send(client, crew_data(passport_number=""), image_bytes(GOOD_PHOTO)).get_data(as_text=True))
    other = make_user(Role.correspondent)
    make_outlet(correspondents=[other], name="Other outlet")
    other_client = app.test_client()
    login(other_client, other.email)
    assert other_client.get(f"/outlet/crew/kept-photo?kept={token}").status_code == 404
    response = send(other_client, crew_data(kept_photo=token))
    assert response.status_code == 400 and members(db) == []


def test_the_sweep_leaves_a_kept_photo_while_its_token_lives_and_removes_it_after(app, client, db, correspondent,
                                                                                  runner):
    token = kept_token(send(client, crew_data(passport_number=""), image_bytes(GOOD_PHOTO)).get_data(as_text=True))
    with app.app_context():
        from app.outlets.photos import kept_photo
        from app.uploads import STORED_NAME, stored_path

        path = stored_path(kept_photo(token, correspondent.id).stored_name)
        relative = path.relative_to(app.config["UPLOAD_FOLDER"]).as_posix()
        assert STORED_NAME.fullmatch(relative)
    # Up to the token's last minute the file is younger than the sweep's minimum age.
    # (Files are stamped by the real clock, not the tests' frozen one.)
    written = path.stat().st_mtime
    os.utime(path, (written - KEPT_PHOTO_MAX_AGE_SECONDS,) * 2)
    assert runner.invoke(args=["uploads", "sweep"]).exit_code == 0 and path.is_file()
    os.utime(path, (written - SWEEP_MIN_AGE_SECONDS - 60,) * 2)
    result = runner.invoke(args=["uploads", "sweep"])
    assert relative in result.output and not path.exists()


def test_an_existing_members_photo_is_replaced_by_the_kept_one(client, db, correspondent, make_crew_member):
    from types import SimpleNamespace

    member = make_crew_member(SimpleNamespace(id=correspondent.outlet_id))
    url = f"/outlet/crew/{member.id}"
    data = crew_data(full_name=member.full_name, passport_number="")
    response = post_form(client, url, {**data, "photo": (io.BytesIO(image_bytes(GOOD_PHOTO)), "face.jpg")})
    body = response.get_data(as_text=True)
    assert "Kept: the photo you chose" in body
    response = post_form(client, url, {**data, "passport_number": "N7654321", "kept_photo": kept_token(body)})
    assert response.status_code == 302
    assert db.session.get(CrewMember, member.id).photo_stored_name


# --- the photo as it prints ----------------------------------------------------------------

def test_crew_pages_show_the_photo_cropped_as_it_prints(client, db, correspondent):
    send(client, crew_data(), image_bytes(GOOD_PHOTO))
    (member,) = members(db)
    listing = client.get("/outlet/crew").get_data(as_text=True)
    assert f'src="/crew/{member.id}/photo"' in listing and "permit-photo" in listing
    assert "css/pressdesk.css" in listing
    form = client.get(f"/outlet/crew/{member.id}").get_data(as_text=True)
    assert "permit-photo" in form
    css = client.get("/static/css/pressdesk.css").get_data(as_text=True)
    assert "aspect-ratio: 3 / 4" in css and "object-fit: cover" in css


# --- removing a crew member ----------------------------------------------------------------

def test_removing_asks_for_confirmation_then_removes_and_says_so(client, db, correspondent, make_crew_member):
    from types import SimpleNamespace

    member = make_crew_member(SimpleNamespace(id=correspondent.outlet_id), full_name="Ola Nordmann")
    page = client.get("/outlet/crew").get_data(as_text=True)
    confirmation = page[page.index("<details"):page.index("</details>")]
    assert "Remove…" in confirmation and "Yes, remove Ola Nordmann" in confirmation
    assert "will no longer be offered for new registrations" in confirmation
    response = client.post(f"/outlet/crew/{member.id}/remove", data={"csrf_token": csrf_token(client, "/outlet/crew")},
                           follow_redirects=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "Ola Nordmann is removed from the crew list." in body
    assert db.session.get(CrewMember, member.id).active is False
    assert "Yes, remove Ola Nordmann" not in body
