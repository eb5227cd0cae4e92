"""The checkpoint's trust data and devices: signed key set and revocation list, enrolment, a device's
permits and its offline checks (app/checkpoint/service.py, api.py)."""
from __future__ import annotations

import base64
import io
import json
import threading
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
import time_machine
from PIL import Image

from app.auth.models import Role, User
from app.checkpoint import service
from app.checkpoint.models import CheckpointDevice, CheckpointEnrolment
from app.clock import utcnow
from app.documents.models import IssuedDocument, VerificationCheck
from app.extensions import db as app_db
from app.outlets.models import CrewMember
from app.registrations import service as registrations
from app.registrations.models import Registration, Status
from app.verification.service import key_ring
from app.verification.tokens import KeyRing
from tests.test_verification import approve, permit_of  # noqa: F401  (fixture)

ENROL = "/check/api/enrol"
PERMITS = "/check/api/permits"
CHECKS = "/check/api/checks"
KEYS = "/check/trust/keys.json"
REVOCATIONS = "/check/trust/revocations.json"


# --- helpers shared with test_checkpoint_devices.py -------------------------------------

def _flipped(signature: str) -> str:
    """The signature with one bit of its first byte changed (not its last characters replaced by
    fixed ones: a signature that already ended so would stay the same, 1 run in 4,096)."""
    raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    raw[0] ^= 0x01
    return base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()


def open_envelope(app, envelope) -> dict | None:
    with app.app_context():
        return key_ring().open_envelope(envelope)


def new_code(app, user_id: int, checkpoint_name: str = "Mộc Bài border gate") -> str:
    """An enrolment code made as the staff page makes it."""
    with app.test_request_context():
        _, code = service.create_enrolment(app_db.session.get(User, user_id), checkpoint_name)
        app_db.session.commit()
        app_db.session.remove()
    return code


def enrol(client, code) -> dict:
    response = client.post(ENROL, json={"code": code}, headers={"Accept-Language": "en"})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def bearer(device: dict) -> dict:
    return {"Authorization": "Bearer " + device["device_token"], "Accept-Language": "en"}


def revoke_registration(app, registration_id: int, leader_id: int) -> None:
    with app.test_request_context():
        registrations.revoke(app_db.session.get(User, leader_id), app_db.session.get(Registration, registration_id),
                             reason="Filming outside the programme.", expected_version=None)
        app_db.session.commit()
        app_db.session.remove()


def offline_check(check_id: str, permit_id=None, outcome="valid", **fields) -> dict:
    return {"id": check_id, "permit_id": permit_id, "key_id": None, "outcome": outcome,
            "checked_at": "2026-10-14T09:30:00Z", "data_age_seconds": 3600, **fields}


@pytest.fixture
def officer(make_user):
    return make_user(Role.officer, locale="en")


@pytest.fixture
def leader(make_user):
    return make_user(Role.leader, locale="en")


@pytest.fixture
def device(app, client, officer):
    return enrol(client, new_code(app, officer.id))


def _altered(envelope: dict) -> dict:
    """The same envelope with one field of its payload changed (and validly re-encoded)."""
    document = json.loads(base64.urlsafe_b64decode(envelope["payload"] + "=="))
    document["issued_at"] = "2099-01-01T00:00:00Z"
    payload = base64.urlsafe_b64encode(json.dumps(document).encode()).rstrip(b"=").decode()
    return {**envelope, "payload": payload}


# --- the key set ------------------------------------------------------------------------

def test_the_key_set_is_signed_by_a_key_it_holds_and_expires(app, client):
    before = utcnow().replace(microsecond=0)
    response = client.get(KEYS)
    after = utcnow()
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-cache"
    envelope = response.get_json()
    key_set = open_envelope(app, envelope)
    assert key_set["type"] == "pressdesk-key-set" and key_set["max_data_age_hours"] == 24
    # Self-signed: the keys it carries verify it, without anything else.
    assert envelope["kid"] in [key["kid"] for key in key_set["keys"]]
    assert KeyRing.from_key_set(key_set).open_envelope(envelope) == key_set
    issued_at = datetime.fromisoformat(key_set["issued_at"])
    valid_until = datetime.fromisoformat(key_set["valid_until"])
    assert valid_until - issued_at == timedelta(days=7)
    assert before <= issued_at <= after
    with app.app_context():
        from app.authority import authority_profile

        profile = authority_profile()
        assert key_set["authority"] == {"vi": profile.issuing_body_vi, "en": profile.issuing_body_en}
        assert key_set["hotline"] == profile.checkpoint_hotline and key_set["hotline"]
    # Eight days on, the same key set is past its date (the checkpoint app then refuses it).
    with time_machine.travel(utcnow() + timedelta(days=7, seconds=1)):
        assert utcnow() > valid_until
    # Tampered with, it opens with no key.
    assert open_envelope(app, _altered(envelope)) is None
    assert KeyRing.from_key_set(key_set).open_envelope(_altered(envelope)) is None
    assert open_envelope(app, {**envelope, "signature": _flipped(envelope["signature"])}) is None


@pytest.mark.parametrize("app_config", [{"CHECKPOINT_KEY_SET_DAYS": 2, "CHECKPOINT_MAX_DATA_AGE_HOURS": 6}])
def test_the_key_set_lifetime_and_data_age_come_from_the_settings(app, client):
    key_set = open_envelope(app, client.get(KEYS).get_json())
    lifetime = datetime.fromisoformat(key_set["valid_until"]) - datetime.fromisoformat(key_set["issued_at"])
    assert lifetime == timedelta(days=2) and key_set["max_data_age_hours"] == 6


# --- the revocation list ------------------------------------------------------------------

def test_the_revocation_list_names_revoked_permits_and_is_signed(app, approve, client, db, make_registration,
                                                               leader):
    kept, _ = make_registration(Status.in_review, start_in_days=-1, days=3)
    revoked, _ = make_registration(Status.in_review, start_in_days=-1, days=3)
    approve(kept.id, leader.id)
    approve(revoked.id, leader.id)
    revoke_registration(app, revoked.id, leader.id)
    response = client.get(REVOCATIONS)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-cache"
    document = open_envelope(app, response.get_json())
    permit = db.session.get(IssuedDocument, permit_of(db, revoked.id).id)
    assert document["type"] == "pressdesk-revocations"
    assert document["complete"] is True and document["since"] is None
    assert document["revoked"] == [{"id": permit.id, "revoked_at": service.iso_utc(permit.revoked_at)}]
    assert permit_of(db, kept.id).id not in [entry["id"] for entry in document["revoked"]]
    assert document["issued_at"].endswith("Z")
    assert open_envelope(app, _altered(response.get_json())) is None


def test_since_gives_the_later_revocations_and_five_minutes_before(app, approve, client, db, make_registration,
                                                                 leader):
    registrations_ = [make_registration(Status.in_review, start_in_days=-1, days=3)[0] for _ in range(4)]
    for registration in registrations_:
        approve(registration.id, leader.id)
    since = utcnow().replace(microsecond=0)
    early, in_overlap, later, _live = (permit_of(db, registration.id) for registration in registrations_)
    # A revocation stamped before `since` whose transaction committed after the list was served.
    for permit, revoked_at in ((early, since - timedelta(minutes=6)), (in_overlap, since - timedelta(minutes=4)),
                               (later, since + timedelta(hours=1))):
        db.session.get(IssuedDocument, permit.id).revoked_at = revoked_at
    db.session.commit()
    response = client.get(REVOCATIONS, query_string={"since": service.iso_utc(since)})
    document = open_envelope(app, response.get_json())
    assert document["complete"] is False and document["since"] == service.iso_utc(since)
    assert [entry["id"] for entry in document["revoked"]] == sorted([in_overlap.id, later.id])
    # Without `since`, all of them.
    everything = open_envelope(app, client.get(REVOCATIONS).get_json())
    assert {entry["id"] for entry in everything["revoked"]} == {early.id, in_overlap.id, later.id}
    # Another spelling of the same instant gives the same answer.
    offset = (since + timedelta(hours=7)).replace(tzinfo=timezone(timedelta(hours=7))).isoformat()
    again = open_envelope(app, client.get(REVOCATIONS, query_string={"since": offset}).get_json())
    assert again["revoked"] == document["revoked"]


@pytest.mark.parametrize("since", ["yesterday", "2026-10-14", "2026-10-14T10:00:00", "0001-01-01T00:00:00Z",
                                   "2026-13-01T00:00:00Z", "", "9" * 60])
def test_a_bad_since_is_refused_with_a_message(client, since):
    response = client.get(REVOCATIONS, query_string={"since": since}, headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert "ISO 8601" in response.get_json()["error"]


# --- enrolment ---------------------------------------------------------------------------

def test_an_enrolment_code_works_once(app, client, db, officer):
    code = new_code(app, officer.id, "Xa Mát border gate")
    enrolment = db.session.scalar(sa.select(CheckpointEnrolment))
    assert code.replace("-", "") not in json.dumps([str(value) for value in enrolment.__dict__.values()])
    response = client.post(ENROL, json={"code": code.lower().replace("-", " ")})
    assert response.status_code == 201 and response.headers["Cache-Control"] == "no-store"
    answer = response.get_json()
    assert answer["checkpoint_name"] == "Xa Mát border gate" and len(answer["device_token"]) >= 43
    device = db.session.get(CheckpointDevice, answer["device_id"])
    assert device.token_hash != answer["device_token"] and device.enrolled_by_id == officer.id
    enrolment = db.session.get(CheckpointEnrolment, enrolment.id)
    assert enrolment.used_at is not None and enrolment.device_id == device.id
    again = client.post(ENROL, json={"code": code}, headers={"Accept-Language": "en"})
    assert again.status_code == 410 and "already been used" in again.get_json()["error"]
    assert db.session.scalar(sa.select(sa.func.count(CheckpointDevice.id))) == 1
    events = db.session.execute(sa.text("select action from audit_events order by id")).scalars().all()
    assert "checkpoint.enrolment_created" in events and "checkpoint.device_enrolled" in events


def test_an_enrolment_code_lasts_fifteen_minutes(app, client, db, officer):
    code = new_code(app, officer.id)
    late = new_code(app, officer.id)
    start = utcnow()
    with time_machine.travel(start + timedelta(minutes=14, seconds=50), tick=False):
        assert client.post(ENROL, json={"code": code}).status_code == 201
    with time_machine.travel(start + timedelta(minutes=15, seconds=1), tick=False):
        response = client.post(ENROL, json={"code": late}, headers={"Accept-Language": "en"})
    assert response.status_code == 410 and "expired" in response.get_json()["error"]
    assert db.session.scalar(sa.select(sa.func.count(CheckpointDevice.id))) == 1


@pytest.mark.parametrize("body", [{"code": "ABCD-EFGH-JKMN-PQRS"}, {"code": ""}, {"code": 12}, {}, ["x"], None])
def test_an_unknown_code_is_refused(client, body, db):
    response = client.post(ENROL, json=body, headers={"Accept-Language": "en"})
    assert response.status_code == 404 and "not known" in response.get_json()["error"]
    assert db.session.scalar(sa.select(sa.func.count(CheckpointDevice.id))) == 0


def test_the_messages_follow_the_language_asked(app, client):
    from flask_babel import force_locale, gettext

    english = client.post(ENROL + "?lang=en", json={"code": "x"}, headers={"Accept-Language": "vi"})
    vietnamese = client.post(ENROL, json={"code": "x"}, headers={"Accept-Language": "vi"})
    message = "This enrolment code is not known. Check it, or ask for a new one."
    assert english.get_json()["error"] == message
    with app.test_request_context(), force_locale("vi"):
        assert vietnamese.get_json()["error"] == gettext(message)


def test_a_revoked_device_is_told_to_wipe_at_its_next_sync_and_upload(app, client, db, device, officer):
    assert client.get(PERMITS, headers=bearer(device)).status_code == 200
    with app.test_request_context():
        assert service.revoke_device(app_db.session.get(User, officer.id),
                                     app_db.session.get(CheckpointDevice, device["device_id"]))
        app_db.session.commit()
    for response in (client.get(PERMITS, headers=bearer(device)),
                     client.post(CHECKS, json={"checks": [offline_check("a")]}, headers=bearer(device))):
        assert response.status_code == 401 and response.get_json()["wipe"] is True
    assert db.session.scalar(sa.select(sa.func.count(VerificationCheck.id))) == 0
    for headers in ({}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic abc"}):
        answer = client.get(PERMITS, headers=headers)
        assert answer.status_code == 401 and answer.get_json()["wipe"] is True


# --- a device's permits ---------------------------------------------------------------------

def test_a_device_gets_the_permits_of_the_next_days_with_the_holders_as_approved(
        app, approve, client, db, device, make_registration, leader):
    under_way, _ = make_registration(Status.in_review, start_in_days=-1, days=3)
    soon, _ = make_registration(Status.in_review, start_in_days=7, days=2)
    later, _ = make_registration(Status.in_review, start_in_days=8, days=2)
    ended, _ = make_registration(Status.in_review, start_in_days=-10, days=3)
    revoked, _ = make_registration(Status.in_review, start_in_days=-1, days=3)
    for registration in (under_way, soon, later, ended, revoked):
        approve(registration.id, leader.id)
    revoke_registration(app, revoked.id, leader.id)
    permit = permit_of(db, under_way.id)
    member = db.session.get(CrewMember, permit.crew_member_id)
    approved_name = member.full_name
    member.full_name, member.nationality = "Someone Else", "FR"  # edited after the approval
    db.session.commit()

    response = client.get(PERMITS, headers={**bearer(device), "User-Agent": "Checkpoint phone/1.0"})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    document = open_envelope(app, response.get_json())
    assert document["type"] == "pressdesk-permits" and document["days"] == 7
    assert document["device"] == {"id": device["device_id"], "checkpoint_name": "Mộc Bài border gate"}
    assert [entry["id"] for entry in document["permits"]] == [permit.id, permit_of(db, soon.id).id]
    entry = document["permits"][0]
    assert entry["holder"]["full_name"] == approved_name != "Someone Else"
    assert entry["holder"]["nationality"] == {"vi": "Na Uy", "en": "Norway"}
    assert entry["holder"]["role"]["en"] == "Reporter" and entry["holder"]["outlet"]
    assert entry["register_number"] == db.session.get(IssuedDocument, permit.id).register_number
    assert entry["valid_from"] == permit.valid_from.isoformat()
    assert entry["escort"] == {"name": "Trần Văn Hộ", "phone": "+84 912 000 111"}
    assert entry["places"] == [{"vi": "Phường Tân Ninh", "en": "Phường Tân Ninh (en)", "border": False,
                                "days": [permit.valid_from.isoformat()]}]
    assert entry["photo"].startswith("data:image/jpeg;base64,")
    photo = Image.open(io.BytesIO(base64.b64decode(entry["photo"].split(",", 1)[1])))
    assert photo.format == "JPEG" and photo.size[0] <= 150 and photo.size[1] <= 200
    stored = db.session.get(CheckpointDevice, device["device_id"])
    assert stored.last_sync_at is not None and stored.user_agent == "Checkpoint phone/1.0"
    assert open_envelope(app, _altered(response.get_json())) is None


# --- the offline check log -------------------------------------------------------------------

def test_offline_checks_are_stored_once(app, approve, client, db, device, make_registration, leader):
    registration, _ = make_registration(Status.in_review, start_in_days=-1, days=3)
    approve(registration.id, leader.id)
    permit_id = permit_of(db, registration.id).id
    first = client.post(CHECKS, headers=bearer(device), json={"checks": [
        offline_check("a", permit_id), offline_check("a", permit_id), offline_check("b", 99999, "unknown")]})
    assert first.status_code == 200 and first.get_json() == {"accepted": 2, "duplicates": 1}
    second = client.post(CHECKS, headers=bearer(device), json={"checks": [
        offline_check("b", 99999, "unknown"), offline_check("c", permit_id, "revocation_unknown")]})
    assert second.get_json() == {"accepted": 1, "duplicates": 1}
    assert client.post(CHECKS, headers=bearer(device), json={"checks": []}).get_json() == {
        "accepted": 0, "duplicates": 0}
    checks = {check.client_check_id: check for check in db.session.scalars(sa.select(VerificationCheck))}
    assert sorted(checks) == ["a", "b", "c"]
    assert checks["a"].document_id == permit_id and checks["b"].document_id is None
    assert checks["c"].outcome == "revocation_unknown"
    assert all(check.offline and check.device_id == device["device_id"] and check.data_age_seconds == 3600
               for check in checks.values())
    assert checks["a"].checked_at == datetime(2026, 10, 14, 9, 30, tzinfo=timezone.utc)
    assert abs(checks["a"].received_at - utcnow()) < timedelta(seconds=10)


def test_two_uploads_of_the_same_checks_at_once_store_them_once(app, db, device):
    batch = {"checks": [offline_check(f"race-{number}") for number in range(40)]}
    answers, barrier = [], threading.Barrier(2)

    def upload():
        client = app.test_client()
        barrier.wait()
        response = client.post(CHECKS, headers=bearer(device), json=batch)
        answers.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=upload) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert [status for status, _ in answers] == [200, 200]
    assert sum(answer["accepted"] for _, answer in answers) == 40
    assert sum(answer["duplicates"] for _, answer in answers) == 40
    assert db.session.scalar(sa.select(sa.func.count(VerificationCheck.id))) == 40


@pytest.mark.parametrize("body, problem", [
    ({"checks": [offline_check("ok"), offline_check("", None)]}, "Check 2"),
    ({"checks": [offline_check("ok"), offline_check("x" * 65)]}, "Check 2"),
    ({"checks": [offline_check("ok", outcome="fine")]}, "outcome"),
    ({"checks": [offline_check("ok", checked_at="2026-10-14 09:30")]}, "checked_at"),
    ({"checks": [offline_check("ok", permit_id="12")]}, "permit_id"),
    ({"checks": [offline_check("ok", permit_id=True)]}, "permit_id"),
    ({"checks": [offline_check("ok", data_age_seconds=-1)]}, "data_age_seconds"),
    ({"checks": [offline_check("ok", key_id="k" * 17)]}, "key_id"),
    ({"checks": [offline_check(f"n{number}") for number in range(501)]}, "at most 500"),
    ({"checks": "none"}, "checks"),
    ([], "checks"),
])
def test_a_bad_upload_is_refused_whole(client, db, device, body, problem):
    response = client.post(CHECKS, headers=bearer(device), json=body)
    assert response.status_code == 400 and problem in response.get_json()["error"]
    assert db.session.scalar(sa.select(sa.func.count(VerificationCheck.id))) == 0


def test_a_body_that_is_not_json_is_refused(client, db, device):
    response = client.post(CHECKS, headers={**bearer(device), "Content-Type": "application/json"}, data=b"{nope")
    assert response.status_code == 400 and response.get_json()["error"]


@pytest.mark.parametrize("app_config", [{"RATELIMIT_CHECKPOINT": "2 per minute"}])
def test_too_many_enrolment_attempts_are_refused_in_json(client):
    answers = [client.post(ENROL, json={"code": "x"}, headers={"Accept-Language": "en"}) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [404, 404, 429]
    assert "Too many attempts" in answers[2].get_json()["error"] and answers[2].headers["Retry-After"]
