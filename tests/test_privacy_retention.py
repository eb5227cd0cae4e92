"""Retention: `flask privacy purge` removes what the authority profile's periods make due, from the
database and from disk, audits each dossier once, and leaves a permit in force verifiable."""
from __future__ import annotations

import hashlib
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import time_machine

from app.audit.models import AuditEvent
from app.clock import DEFAULT_TIMEZONE, local_today, utcnow
from app.auth.models import Role, User
from app.documents.models import DocumentKind, IssuedDocument, PermitHolder
from app.extensions import db as app_db
from app.outlets.models import CrewMember
from app.privacy.retention import start_of_day
from app.registrations.models import Attachment, AttachmentKind, Registration, Status, registration_crew
from tests.conftest import TINY_PDF, night_instant
from tests.support import decide, escort_officer, login

# The default periods (app/authority DEFAULT_RETENTION).
ATTACHMENTS_DAYS, PHOTOS_DAYS, NUMBERS_DAYS = 90, 180, 365


def on_day(day: date):
    """The clock at an instant whose date in the province is `day` (at night: UTC's date differs)."""
    moment = night_instant(day)
    moment += day - moment.astimezone(ZoneInfo(DEFAULT_TIMEZONE)).date()
    return time_machine.travel(moment.timestamp(), tick=False)


def purge(runner, *args):
    result = runner.invoke(args=["privacy", "purge", *args])
    assert result.exit_code == 0, result.output
    return result.output


def stored_file(app, stored_name: str) -> Path:
    return Path(app.config["UPLOAD_FOLDER"], *stored_name.split("/"))


def raw_crew_row(db, member_id: int):
    return db.session.execute(sa.text(
        "SELECT passport_number, passport_number_hash, date_of_birth, photo_stored_name, updated_at, "
        "personal_data_purged_at FROM crew_members WHERE id = :id"), {"id": member_id}).one()


def purge_events(db, object_type=None, object_id=None):
    query = sa.select(AuditEvent).where(AuditEvent.action == "privacy.purged").order_by(AuditEvent.id)
    if object_type:
        query = query.where(AuditEvent.object_type == object_type, AuditEvent.object_id == str(object_id))
    return db.session.scalars(query).all()


@pytest.fixture
def finished(app, make_registration):
    """A completed registration (programme ended yesterday) with a passport page, a press card and
    the MOFA permit attached; returns (registration id, its crew member id, end date)."""
    from app.uploads import store_bytes

    registration, correspondent = make_registration(Status.completed, start_in_days=-4, days=3)
    with app.test_request_context():
        stored = store_bytes(TINY_PDF, "press card.pdf")
        app_db.session.add(Attachment.from_stored(stored, registration_id=registration.id,
                                                  kind=AttachmentKind.press_card, uploaded_by_id=correspondent.id))
        app_db.session.commit()
        member_id = app_db.session.get(Registration, registration.id).crew_members[0].id
        # The member was entered before the programme, and not changed since.
        entered = start_of_day(registration.start_date - timedelta(days=30))
        app_db.session.execute(sa.update(CrewMember).where(CrewMember.id == member_id)
                               .values(created_at=entered, updated_at=entered))
        app_db.session.commit()
        app_db.session.remove()
    return registration.id, member_id, registration.end_date


def attachments_of(db, registration_id):
    return db.session.scalars(sa.select(Attachment).where(Attachment.registration_id == registration_id)
                              .order_by(Attachment.id)).all()


def test_identity_attachments_go_on_the_day_their_period_ends_and_not_a_day_before(app, db, runner, finished):
    registration_id, member_id, end = finished
    identity_files = [stored_file(app, attachment.stored_name) for attachment in attachments_of(db, registration_id)
                      if attachment.kind in (AttachmentKind.passport, AttachmentKind.press_card)]
    assert len(identity_files) == 2 and all(path.exists() for path in identity_files)

    with on_day(end + timedelta(days=ATTACHMENTS_DAYS - 1)):
        output = purge(runner)
    assert "Removed: 0 identity attachment(s)" in output
    assert len(attachments_of(db, registration_id)) == 3 and not purge_events(db)

    with on_day(end + timedelta(days=ATTACHMENTS_DAYS)):
        output = purge(runner)
    registration = db.session.get(Registration, registration_id)
    assert f"{registration.reference}: removed identity attachments: 1 passport, 1 press_card" in output
    assert [attachment.kind for attachment in attachments_of(db, registration_id)] == [AttachmentKind.mofa_permit]
    assert not any(path.exists() for path in identity_files)
    assert registration.identity_purged_at is not None
    [event] = purge_events(db, "registrations", registration_id)
    assert event.after["identity_attachments"] == {"passport": 1, "press_card": 1}
    assert "crew_photos" not in event.after  # the crew's periods are longer
    row = raw_crew_row(db, member_id)
    assert row.passport_number and row.photo_stored_name and row.personal_data_purged_at is None

    # Idempotent: a second run that day finds nothing and writes no second event.
    with on_day(end + timedelta(days=ATTACHMENTS_DAYS)):
        assert "Removed: 0 identity attachment(s) from 0 registration(s)" in purge(runner)
    assert len(purge_events(db)) == 1


def test_crew_photo_then_passport_number_and_date_of_birth_go_after_their_own_periods(app, db, runner, finished):
    registration_id, member_id, end = finished
    member = db.session.get(CrewMember, member_id)
    photo = stored_file(app, member.photo_stored_name)
    changed = raw_crew_row(db, member_id).updated_at

    with on_day(end + timedelta(days=PHOTOS_DAYS - 1)):
        purge(runner)
    assert raw_crew_row(db, member_id).photo_stored_name and photo.exists()

    with on_day(end + timedelta(days=PHOTOS_DAYS)):
        output = purge(runner)
    assert f"crew member {member_id}: photo" in output
    row = raw_crew_row(db, member_id)
    assert row.photo_stored_name is None and not photo.exists()
    assert row.passport_number is not None and row.date_of_birth is not None  # their period is longer
    assert row.personal_data_purged_at is not None
    assert row.updated_at == changed  # the purge is not a change of the member's data
    attachments_run, event = purge_events(db, "registrations", registration_id)  # one event per dossier and run
    assert "crew_photos" not in attachments_run.after and "identity_attachments" not in event.after
    assert event.after["crew_photos"] == [member_id] and "crew_identity_numbers" not in event.after

    with on_day(end + timedelta(days=NUMBERS_DAYS - 1)):
        purge(runner)
    assert raw_crew_row(db, member_id).passport_number is not None

    with on_day(end + timedelta(days=NUMBERS_DAYS)):
        output = purge(runner)
    assert f"crew member {member_id}: passport number and date of birth" in output
    row = raw_crew_row(db, member_id)
    assert (row.passport_number, row.passport_number_hash, row.date_of_birth) == (None, None, None)
    member = db.session.get(CrewMember, member_id)
    assert member.full_name == "Ingrid Larsen" and member.passport_expiry is not None  # the dossier keeps the name
    events = purge_events(db, "registrations", registration_id)
    assert len(events) == 3 and events[2].after["crew_identity_numbers"] == [member_id]
    assert member.passport_number is None


def test_a_registration_in_review_keeps_its_crew_member_whatever_the_age_of_older_ones(
        app, db, runner, finished, make_registration):
    registration_id, member_id, end = finished
    pending, _ = make_registration(Status.in_review)
    with app.app_context():  # the same crew member is named in a new registration, now in review
        app_db.session.execute(sa.insert(registration_crew).values(registration_id=pending.id,
                                                                   crew_member_id=member_id))
        app_db.session.commit()
    with on_day(end + timedelta(days=NUMBERS_DAYS + 10)):
        purge(runner)
    row = raw_crew_row(db, member_id)
    assert row.photo_stored_name and row.passport_number and row.personal_data_purged_at is None
    # The old dossier's own identity attachments went all the same; the one in review keeps its own.
    assert [attachment.kind for attachment in attachments_of(db, registration_id)] == [AttachmentKind.mofa_permit]
    assert len(attachments_of(db, pending.id)) == 2


def test_a_crew_member_never_in_a_registration_counts_from_their_last_change(app, db, runner, make_outlet,
                                                                            make_crew_member):
    outlet = make_outlet()
    member = make_crew_member(outlet)
    photo = stored_file(app, member.photo_stored_name)
    day = local_today()
    with on_day(day + timedelta(days=PHOTOS_DAYS - 1)):
        purge(runner)
    assert photo.exists()
    with on_day(day + timedelta(days=PHOTOS_DAYS)):
        output = purge(runner)
    assert f"crew member {member.id} (in no registration): removed crew member {member.id}: photo" in output
    assert not photo.exists() and raw_crew_row(db, member.id).photo_stored_name is None
    [event] = purge_events(db, "crew_members", member.id)
    assert event.after["crew_photos"] == [member.id]


def test_the_dry_run_lists_the_same_items_and_changes_nothing(app, db, runner, finished):
    registration_id, member_id, end = finished
    files = sorted(path for path in Path(app.config["UPLOAD_FOLDER"]).rglob("*") if path.is_file())
    before = (raw_crew_row(db, member_id), len(attachments_of(db, registration_id)),
              db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)))
    reference = db.session.get(Registration, registration_id).reference
    with on_day(end + timedelta(days=NUMBERS_DAYS)):
        listed = purge(runner, "--dry-run")
        assert sorted(path for path in Path(app.config["UPLOAD_FOLDER"]).rglob("*") if path.is_file()) == files
        assert (raw_crew_row(db, member_id), len(attachments_of(db, registration_id)),
                db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))) == before
        removed = purge(runner)
    assert f"{reference}: would remove identity attachments: 1 passport, 1 press_card; crew member {member_id}: " \
           "photo, passport number and date of birth" in listed
    assert "Would remove: 2 identity attachment(s) from 1 registration(s), 1 crew photo(s), 1 passport number(s)" \
           in listed
    assert listed.replace("would remove", "removed").replace("Would remove", "Removed") == removed
    refused = runner.invoke(args=["privacy", "purge", "--as-of", "2030-01-01"])
    assert refused.exit_code != 0 and "dry run only" in refused.output


def test_as_of_shows_what_a_later_day_would_remove(db, runner, finished):
    registration_id, _, end = finished
    assert "Would remove: 0 identity attachment(s)" in purge(runner, "--dry-run")
    ahead = purge(runner, "--dry-run", "--as-of", (end + timedelta(days=ATTACHMENTS_DAYS)).isoformat())
    assert "Would remove: 2 identity attachment(s) from 1 registration(s)" in ahead
    assert len(attachments_of(db, registration_id)) == 3


def test_batches_reach_every_dossier_once(app, db, runner, make_registration):
    made = [make_registration(status, start_in_days=-4, days=3)[0]
            for status in (Status.completed, Status.refused, Status.withdrawn)]
    # The factory enters each crew member today, the day after the programmes' end: counted from then.
    with on_day(made[0].end_date + timedelta(days=NUMBERS_DAYS + 1)):
        output = purge(runner, "--batch-size", "1")
    assert "Removed: 3 identity attachment(s) from 3 registration(s), 3 crew photo(s), 3 passport number(s)" in output
    for registration in made:
        [event] = purge_events(db, "registrations", registration.id)
        assert event.after["identity_attachments"] == {"passport": 1}
    assert not db.session.scalars(sa.select(Attachment).where(Attachment.kind == AttachmentKind.passport)).all()


def test_a_draft_never_submitted_counts_from_its_last_change(app, db, runner, make_registration):
    draft, _ = make_registration(Status.draft, start_in_days=400)  # its programme is far ahead: no matter
    day = local_today()
    with on_day(day + timedelta(days=ATTACHMENTS_DAYS - 1)):
        purge(runner)
    assert len(attachments_of(db, draft.id)) == 2
    with on_day(day + timedelta(days=ATTACHMENTS_DAYS)):
        purge(runner)
    assert [attachment.kind for attachment in attachments_of(db, draft.id)] == [AttachmentKind.mofa_permit]


def test_a_purged_crew_member_must_be_completed_before_a_new_submission(app, db, runner, finished):
    from app.registrations.service import completeness_problems

    registration_id, member_id, end = finished
    with on_day(end + timedelta(days=NUMBERS_DAYS)):
        purge(runner)
        with app.test_request_context():
            registration = app_db.session.get(Registration, registration_id)
            problems = completeness_problems(registration)["crew_member_ids"]
    assert any("were removed under the retention rules" in problem for problem in problems)
    assert any("has no photo" in problem for problem in problems)


def test_old_audit_events_are_deleted_and_that_is_audited(app, db, runner):
    today = local_today()
    with app.app_context():
        for days_old in (5 * 365 + 2, 5 * 365 - 2):
            app_db.session.add(AuditEvent(action="auth.login", actor_email="old@example.org",
                                          created_at=utcnow() - timedelta(days=days_old)))
        app_db.session.commit()
    assert "1 audit event(s)" in purge(runner, "--dry-run")
    assert len(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "auth.login")).all()) == 2
    assert "1 audit event(s)" in purge(runner)
    [kept] = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "auth.login")).all()
    assert kept.created_at.date() > today - timedelta(days=5 * 365)
    [summary] = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "privacy.audit_log_purged")).all()
    assert summary.after == {"deleted": 1, "older_than_years": 5}


def test_checkpoint_scan_addresses_are_cleared_after_their_period_and_the_scans_stay(app, db, runner):
    from app.documents.models import VerificationCheck

    with app.app_context():
        for days_old, address in ((91, "203.0.113.9"), (89, "203.0.113.10")):
            app_db.session.add(VerificationCheck(outcome="valid", ip_address=address,
                                                 checked_at=utcnow() - timedelta(days=days_old)))
        app_db.session.commit()
    assert "1 checkpoint scan address(es)" in purge(runner, "--dry-run")
    assert db.session.scalar(sa.select(sa.func.count()).where(VerificationCheck.ip_address.is_not(None))) == 2
    assert "1 checkpoint scan address(es)" in purge(runner)
    db.session.expire_all()
    scans = db.session.scalars(sa.select(VerificationCheck).order_by(VerificationCheck.checked_at)).all()
    assert [(scan.outcome, scan.ip_address) for scan in scans] == [("valid", None), ("valid", "203.0.113.10")]
    [summary] = db.session.scalars(sa.select(AuditEvent)
                                   .where(AuditEvent.action == "privacy.scan_addresses_purged")).all()
    assert summary.after == {"cleared": 1, "older_than_days": 90}
    assert "0 checkpoint scan address(es)" in purge(runner)  # what is cleared is not found again


# --- permits ------------------------------------------------------------------------------------

@pytest.fixture
def approved(app, make_registration, make_user):
    """An approved registration whose programme runs from yesterday for three days, with its permit;
    returns (registration, permit document id, the path of the permit's QR code)."""
    from app.verification.service import permit_url

    registration, correspondent = make_registration(Status.in_review, start_in_days=-1, days=3)
    officer, leader = make_user(Role.officer), make_user(Role.leader)
    with app.test_request_context():
        escort = escort_officer(phone="+84 912 000 111")
        decide(app_db.session.get(Registration, registration.id), app_db.session.get(User, officer.id),
               app_db.session.get(User, leader.id), escort_officer_id=escort.id)
        app_db.session.commit()
        permit = app_db.session.scalar(sa.select(IssuedDocument).where(
            IssuedDocument.registration_id == registration.id, IssuedDocument.kind == DocumentKind.permit))
        path = permit_url(permit)[len(app.config["BASE_URL"]):]
        permit_id = permit.id
        app_db.session.remove()
    return SimpleNamespace(registration=registration, correspondent=correspondent, leader=leader,
                           permit_id=permit_id, path=path)


def test_a_permit_in_force_still_verifies_with_its_holder_while_older_data_goes(
        app, db, client, runner, approved, make_registration):
    # An older dossier of another crew, long finished: everything of it that can go goes today.
    old, _ = make_registration(Status.completed, start_in_days=-NUMBERS_DAYS - 10, days=3)
    holder = db.session.get(PermitHolder, approved.permit_id)
    with stored_file(app, holder.photo_stored_name).open("rb") as photo:
        approved_photo = photo.read()
    member_id = db.session.get(IssuedDocument, approved.permit_id).crew_member_id

    output = purge(runner)
    assert old.reference in output and approved.registration.reference not in output
    assert not any(attachment.kind is AttachmentKind.passport for attachment in attachments_of(db, old.id))
    row = raw_crew_row(db, member_id)
    assert row.photo_stored_name and row.passport_number  # the crew of a programme in force stays

    page = client.get(approved.path, headers={"Accept-Language": "en"})
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "VALID" in body and holder.full_name in body
    picture = client.get(approved.path + "/photo")
    assert picture.status_code == 200 and picture.data == approved_photo
    assert hashlib.sha256(picture.data).hexdigest() == holder.photo_sha256


def test_the_permit_photo_goes_after_its_validity_and_the_pdfs_after_the_documents_period(
        app, db, client, runner, approved):
    permit = db.session.get(IssuedDocument, approved.permit_id)
    holder_photo = stored_file(app, db.session.get(PermitHolder, approved.permit_id).photo_stored_name)
    full_name = db.session.get(PermitHolder, approved.permit_id).full_name
    pdfs = {document.id: stored_file(app, document.stored_name) for document in db.session.scalars(
        sa.select(IssuedDocument).where(IssuedDocument.registration_id == approved.registration.id))}

    with on_day(permit.valid_until + timedelta(days=PHOTOS_DAYS - 1)):
        purge(runner)
        assert holder_photo.exists()
    with on_day(permit.valid_until + timedelta(days=PHOTOS_DAYS)):
        output = purge(runner)
        assert f"photo kept with permit {permit.id}" in output
        page = client.get(approved.path, headers={"Accept-Language": "en"}).get_data(as_text=True)
        assert "EXPIRED" in page and full_name in page
        assert "The photo was removed under the retention rules" in page
        assert client.get(approved.path + "/photo").status_code == 404
    holder = db.session.get(PermitHolder, approved.permit_id)
    assert holder.photo_stored_name is None and not holder_photo.exists()
    event = purge_events(db, "registrations", approved.registration.id)[-1]  # the first run took the passport
    assert event.after["permit_photos"] == [permit.id] and event.after["crew_photos"]

    ten_years_on = permit.issue_date.replace(year=permit.issue_date.year + 10)
    with on_day(ten_years_on - timedelta(days=1)):
        purge(runner)
    assert all(path.exists() for path in pdfs.values())
    with on_day(ten_years_on):
        output = purge(runner)
        assert f"PDF of document {permit.id} ({permit.register_number})" in output
        assert not any(path.exists() for path in pdfs.values())
        for document in db.session.scalars(sa.select(IssuedDocument).where(
                IssuedDocument.registration_id == approved.registration.id)):
            assert document.stored_name is None and document.sha256 and document.issue_date  # the register stays
        assert db.session.get(PermitHolder, approved.permit_id) is None
        login(client, approved.leader.email)
        page = client.get(f"/registrations/{approved.registration.id}")
        assert page.status_code == 200
        assert "đã được xóa theo quy định về thời hạn lưu trữ" in page.get_data(as_text=True)
        assert client.get(f"/registrations/{approved.registration.id}/documents/{permit.id}").status_code == 404
