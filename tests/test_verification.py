"""A checkpoint scans a printed permit: the QR code leads to a page saying valid, revoked, expired..."""
from __future__ import annotations

import json

import pypdfium2
import pytest
import sqlalchemy as sa
import zxingcpp

from app.auth.models import Role, User
from app.documents.models import DocumentKind, IssuedDocument, VerificationCheck
from app.extensions import db as app_db
from app.registrations import service
from app.registrations.models import Registration, Status
from tests.support import decide, escort_officer


@pytest.fixture
def approve(app, make_user):
    """Approve as the leader does, on an officer's complete draft (escort Trần Văn Hộ, +84 912 000 111)."""
    officer = make_user(Role.officer)

    def approve(registration_id, leader_id):
        with app.test_request_context():
            escort = escort_officer(phone="+84 912 000 111")
            decide(app_db.session.get(Registration, registration_id), app_db.session.get(User, officer.id),
                   app_db.session.get(User, leader_id), escort_officer_id=escort.id)
            app_db.session.commit()
            app_db.session.remove()

    return approve


def permit_of(db, registration_id) -> IssuedDocument:
    return db.session.scalar(sa.select(IssuedDocument).where(IssuedDocument.registration_id == registration_id,
                                                             IssuedDocument.kind == DocumentKind.permit))


def scanned_path(app, document) -> str:
    """Print the permit, photograph it, read the QR code: the path of the URL it holds."""
    from app.documents.service import document_bytes

    with app.app_context():
        pdf = pypdfium2.PdfDocument(document_bytes(document))
        image = pdf[0].render(scale=250 / 72).to_pil()
        pdf.close()
    [barcode] = zxingcpp.read_barcodes(image)
    assert barcode.text.startswith(app.config["BASE_URL"] + "/v/")
    return barcode.text[len(app.config["BASE_URL"]):]


def test_a_valid_permit_shows_what_a_checkpoint_needs_and_nothing_more(app, approve, client, db, make_registration,
                                                                      make_user):
    registration, _ = make_registration(Status.in_review, start_in_days=-1, days=3)
    approve(registration.id, make_user(Role.leader).id)
    document = permit_of(db, registration.id)
    path = scanned_path(app, document)
    response = client.get(path, headers={"Accept-Language": "en"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "VALID" in body and "NOT YET" not in body
    member = db.session.get(IssuedDocument, document.id).crew_member
    assert member.full_name in body and "Trần Văn Hộ" in body and "+84 912 000 111" in body
    assert member.passport_number not in body and member.press_card_number not in body
    assert "1985" not in body  # no date of birth
    vietnamese = client.get(path, headers={"Accept-Language": "vi"}).get_data(as_text=True)
    assert "CÒN HIỆU LỰC" in vietnamese
    checks = db.session.scalars(sa.select(VerificationCheck)).all()
    assert [check.outcome for check in checks] == ["valid", "valid"] and checks[0].document_id == document.id


def test_revocation_takes_effect_at_once(app, approve, client, db, make_registration, make_user):
    registration, _ = make_registration(Status.in_review, start_in_days=-1, days=3)
    leader = make_user(Role.leader)
    approve(registration.id, leader.id)
    path = scanned_path(app, permit_of(db, registration.id))
    assert "VALID" in client.get(path, headers={"Accept-Language": "en"}).get_data(as_text=True)
    with app.test_request_context():
        service.revoke(app_db.session.get(User, leader.id), app_db.session.get(Registration, registration.id),
                       reason="Filming outside the programme.", expected_version=None)
        app_db.session.commit()
    body = client.get(path, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "REVOKED" in body and "Trần Văn Hộ" not in body


def test_a_changed_character_is_unknown_or_forged(app, approve, client, db, make_registration, make_user):
    registration, _ = make_registration(Status.in_review, start_in_days=-1, days=3)
    approve(registration.id, make_user(Role.leader).id)
    path = scanned_path(app, permit_of(db, registration.id))
    position = len(path) - 10
    forged = path[:position] + ("A" if path[position] != "A" else "B") + path[position + 1:]
    response = client.get(forged, headers={"Accept-Language": "en"})
    assert response.status_code == 404 and "UNKNOWN OR FORGED" in response.get_data(as_text=True)
    assert client.get("/v/not-a-token", headers={"Accept-Language": "en"}).status_code == 404


def test_after_the_end_date_the_permit_is_expired_and_before_it_not_yet_valid(app, approve, client, db,
                                                                              make_registration, make_user):
    leader = make_user(Role.leader)
    ended, _ = make_registration(Status.in_review, start_in_days=-10, days=3)
    upcoming, _ = make_registration(Status.in_review, start_in_days=20, days=3)
    approve(ended.id, leader.id)
    approve(upcoming.id, leader.id)
    ended_page = client.get(scanned_path(app, permit_of(db, ended.id)), headers={"Accept-Language": "en"})
    assert "EXPIRED" in ended_page.get_data(as_text=True)
    upcoming_page = client.get(scanned_path(app, permit_of(db, upcoming.id)), headers={"Accept-Language": "en"})
    assert "NOT YET VALID" in upcoming_page.get_data(as_text=True)


def test_the_key_set_is_published_and_verifies_offline(app, approve, client, db, runner, make_registration, make_user,
                                                       tmp_path):
    registration, _ = make_registration(Status.in_review, start_in_days=-1, days=3)
    approve(registration.id, make_user(Role.leader).id)
    token = scanned_path(app, permit_of(db, registration.id)).rsplit("/", 1)[1]
    key_set = client.get("/.well-known/pressdesk-permit-keys.json").get_json()
    assert key_set["keys"][0]["crv"] == "Ed25519"
    path = tmp_path / "keys.json"
    path.write_text(json.dumps(key_set))
    result = runner.invoke(args=["permits", "verify", token, "--key-set", str(path)])
    assert result.exit_code == 0 and "signature valid" in result.output
    result = runner.invoke(args=["permits", "verify", token[:-2] + "AA", "--key-set", str(path)])
    assert result.exit_code != 0 and "unknown or forged" in result.output


def test_rotated_keys_keep_old_permits_verifiable(app, approve, client, db, runner, make_registration, make_user):
    leader = make_user(Role.leader)
    first, _ = make_registration(Status.in_review, start_in_days=-1, days=3)
    approve(first.id, leader.id)
    old_path = scanned_path(app, permit_of(db, first.id))
    assert "is now current" in runner.invoke(args=["permits", "rotate-key"]).output
    second, _ = make_registration(Status.in_review, start_in_days=-1, days=3)
    approve(second.id, leader.id)
    new_path = scanned_path(app, permit_of(db, second.id))
    for path in (old_path, new_path):
        assert "VALID" in client.get(path, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert len(client.get("/.well-known/pressdesk-permit-keys.json").get_json()["keys"]) == 2


def test_the_verification_page_is_rate_limited(app, client):
    app.config["RATELIMIT_VERIFY"] = "5 per minute"
    statuses = [client.get("/v/some-token").status_code for _ in range(6)]
    assert statuses == [404] * 5 + [429]
