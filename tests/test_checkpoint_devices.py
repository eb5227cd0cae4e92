"""Staff pages of the checkpoint: enrolment codes as QR codes, devices, revocation, checks per device and permit."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from PIL import Image

from app.auth.models import Role
from app.checkpoint.models import CheckpointDevice, CheckpointEnrolment
from app.documents.models import DocumentKind, IssuedDocument
from app.registrations.models import Status
from tests.support import login, post_form, qr_texts
from tests.test_checkpoint_trust import (CHECKS, PERMITS, bearer, enrol, leader, new_code,  # noqa: F401
                                         offline_check, officer)
from tests.test_verification import approve, permit_of, scanned_path  # noqa: F401  (fixture)

INDEX = "/staff/checkpoints"
CODE = re.compile(r'id="enrolment-code">([0-9A-Z-]{19})<')


def qr_text(page: str) -> str:
    """Read the page's SVG QR code as a phone would: draw the path (even-odd), decode the picture."""
    size = int(re.search(r'viewBox="0 0 (\d+) \1"', page).group(1))
    path = re.search(r'<path d="([^"]+)"', page).group(1)
    dark = [[False] * size for _ in range(size)]
    for outline in path.split("Z")[:-1]:
        points = [tuple(map(int, point.split())) for point in outline.lstrip("M").split("L")]
        for (x1, y1), (x2, y2) in zip(points, points[1:] + points[:1]):
            if x1 == x2:  # a vertical edge flips every module to its right on its rows
                for row in range(min(y1, y2), max(y1, y2)):
                    for column in range(x1, size):
                        dark[row][column] = not dark[row][column]
    scale = 8
    image = Image.new("L", (size * scale, size * scale), 255)
    for row in range(size):
        for column in range(size):
            if dark[row][column]:
                image.paste(0, (column * scale, row * scale, (column + 1) * scale, (row + 1) * scale))
    [text] = qr_texts(image)
    return text


@pytest.fixture
def correspondent(make_user):
    return make_user(Role.correspondent)


def test_only_staff_open_the_checkpoint_pages(app, approve, client, db, correspondent, leader, make_registration,
                                              make_user, officer):
    registration, _ = make_registration(Status.in_review, start_in_days=-1, days=3)
    approve(registration.id, leader.id)
    permit_id = permit_of(db, registration.id).id
    device = enrol(client, new_code(app, officer.id))
    pages = [INDEX, f"/staff/checkpoints/{device['device_id']}", f"/staff/permits/{permit_id}/checks"]
    for page in pages:
        assert client.get(page).status_code == 302  # to the login page
    login(client, correspondent.email)
    for page in pages:
        assert client.get(page).status_code == 403
    for action in ("/staff/checkpoints/enrolments", f"/staff/checkpoints/{device['device_id']}/revoke"):
        assert post_form(client, action, {"checkpoint_name": "X", "confirm": "y"}, page="/").status_code == 403
    assert db.session.scalar(sa.select(sa.func.count(CheckpointEnrolment.id))) == 1
    assert db.session.get(CheckpointDevice, device["device_id"]).revoked_at is None
    for role in (Role.officer, Role.leader, Role.admin):
        staff_client = app.test_client()
        login(staff_client, make_user(role, locale="en").email)
        assert [staff_client.get(page).status_code for page in pages] == [200, 200, 200]


def test_a_new_code_is_shown_once_as_a_qr_code_and_as_text(app, client, db, officer):
    login(client, officer.email)
    response = post_form(client, "/staff/checkpoints/enrolments", {"checkpoint_name": "  Mộc Bài   border gate "},
                         page=INDEX)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    code = CODE.search(page).group(1)
    url = "http://localhost/check/enrol#" + code
    assert url in page and "<svg" in page and "Mộc Bài border gate" in page
    assert qr_text(page) == url
    assert 'style="' not in page.split("<main", 1)[1]  # CSP: no inline styles
    enrolment = db.session.scalar(sa.select(CheckpointEnrolment))
    assert enrolment.checkpoint_name == "Mộc Bài border gate" and enrolment.created_by_id == officer.id
    # Shown once: the list, reloaded, does not have it; a GET of the form's address goes back to the list.
    assert code not in client.get(INDEX).get_data(as_text=True)
    assert client.get("/staff/checkpoints/enrolments").status_code == 302
    # The code enrols a phone, which the list then shows.
    device = enrol(app.test_client(), code)
    listing = client.get(INDEX).get_data(as_text=True)
    assert f"/staff/checkpoints/{device['device_id']}" in listing and officer.full_name in listing


def test_a_code_needs_a_checkpoint_name(client, db, officer):
    login(client, officer.email)
    response = post_form(client, "/staff/checkpoints/enrolments", {"checkpoint_name": "   "}, page=INDEX)
    assert response.status_code == 400 and "invalid-feedback" in response.get_data(as_text=True)
    assert post_form(client, "/staff/checkpoints/enrolments", {"checkpoint_name": "x" * 201},
                     page=INDEX).status_code == 400
    assert db.session.scalar(sa.select(sa.func.count(CheckpointEnrolment.id))) == 0


def test_staff_revoke_a_device_after_confirming(app, client, db, officer):
    device = enrol(app.test_client(), new_code(app, officer.id, "Xa Mát"))
    login(client, officer.email)
    page = f"/staff/checkpoints/{device['device_id']}"
    assert 'id="revoke"' in client.get(page).get_data(as_text=True)
    unconfirmed = post_form(client, page + "/revoke", {}, page=page)
    assert unconfirmed.status_code == 400 and "Tick the box" in unconfirmed.get_data(as_text=True)
    assert db.session.get(CheckpointDevice, device["device_id"]).revoked_at is None
    assert client.get(PERMITS, headers=bearer(device)).status_code == 200
    response = post_form(client, page + "/revoke", {"confirm": "y"}, page=page)
    assert response.status_code == 302
    revoked = db.session.get(CheckpointDevice, device["device_id"])
    assert revoked.revoked_at is not None and revoked.revoked_by_id == officer.id
    assert "is revoked" in client.get(page).get_data(as_text=True)
    answer = client.get(PERMITS, headers=bearer(device))
    assert answer.status_code == 401 and answer.get_json()["wipe"] is True
    events = db.session.execute(sa.text("select action from audit_events")).scalars().all()
    assert "checkpoint.device_revoked" in events


def test_staff_see_the_checks_per_device_and_per_permit(app, approve, client, db, leader, make_registration,
                                                        officer):
    registration, _ = make_registration(Status.in_review, start_in_days=-1, days=3)
    approve(registration.id, leader.id)
    permit = permit_of(db, registration.id)
    client.get(scanned_path(app, permit))  # a public check, online
    device = enrol(app.test_client(), new_code(app, officer.id, "Xa Mát"))
    assert app.test_client().post(CHECKS, headers=bearer(device), json={"checks": [
        offline_check("one", permit.id, "revoked", data_age_seconds=7200)]}).get_json()["accepted"] == 1
    login(client, officer.email)
    listing = client.get(INDEX).get_data(as_text=True)
    assert re.search(r"Xa Mát</a></td>.*?<td data-label=\"Checks\">1</td>", listing, re.S)
    by_device = client.get(f"/staff/checkpoints/{device['device_id']}").get_data(as_text=True)
    assert "offline" in by_device and "revoked" in by_device and "2 hours" in by_device
    assert db.session.get(IssuedDocument, permit.id).register_number in by_device
    by_permit = client.get(f"/staff/permits/{permit.id}/checks").get_data(as_text=True)
    assert "Xa Mát" in by_permit and "offline" in by_permit and "online" in by_permit
    assert by_permit.count("<tr>") == 3  # header, the online check, the offline one
    letter = db.session.scalar(sa.select(IssuedDocument).where(
        IssuedDocument.registration_id == registration.id, IssuedDocument.kind == DocumentKind.approval_letter))
    assert client.get(f"/staff/permits/{letter.id}/checks").status_code == 404
    assert client.get("/staff/permits/999999/checks").status_code == 404
    assert client.get("/staff/checkpoints/999999").status_code == 404


@pytest.mark.parametrize("app_config", [{"PAGE_SIZE": 2}])
def test_the_checks_of_a_device_are_paged(app, client, officer):
    device = enrol(app.test_client(), new_code(app, officer.id, "Xa Mát"))
    app.test_client().post(CHECKS, headers=bearer(device), json={"checks": [offline_check(f"c{n}") for n in range(3)]})
    login(client, officer.email)
    page = f"/staff/checkpoints/{device['device_id']}"
    first = client.get(page).get_data(as_text=True)
    assert f'href="{page}?page=2"' in first and first.count("<tr>") == 3
    second = client.get(page + "?page=2").get_data(as_text=True)
    assert second.count("<tr>") == 2 and f'href="{page}?page=1"' in second
