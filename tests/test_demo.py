"""`flask demo load` looks real: attachments and crew photos are real files made at load time,
marked DEMO, and every permit carries the dates of its programme (a past visit's is expired)."""
from __future__ import annotations

import io

import pypdf
import pytest
import sqlalchemy as sa
from PIL import Image

from app.clock import local_today
from app.documents.models import DocumentKind, IssuedDocument
from app.extensions import db as app_db
from app.outbox.models import OutboxMessage
from app.outlets.models import CrewMember
from app.registrations.models import Attachment, Registration, Status


@pytest.fixture
def demo(app, runner, db, mailbox):
    result = runner.invoke(args=["demo", "load", "--force"])
    assert result.exit_code == 0, result.output
    return db


def stored_bytes(app, stored_name: str) -> bytes:
    from app.uploads import open_stored

    with app.app_context(), open_stored(stored_name) as stored:
        return stored.read()


def test_every_demo_attachment_is_a_real_one_page_pdf_or_an_image_marked_demo(app, demo):
    attachments = demo.session.scalars(sa.select(Attachment)).all()
    assert attachments
    kinds = {attachment.content_type for attachment in attachments}
    assert {"application/pdf", "image/jpeg", "image/png"} <= kinds
    for attachment in attachments:
        content = stored_bytes(app, attachment.stored_name)
        assert "DEMO" in attachment.original_filename
        if attachment.content_type == "application/pdf":
            reader = pypdf.PdfReader(io.BytesIO(content))
            assert len(reader.pages) == 1
            text = reader.pages[0].extract_text()
            assert "DEMO" in text and len(text) > 200  # a page with a text on it, not a blank
        else:
            with Image.open(io.BytesIO(content)) as image:
                image.load()
                assert image.width >= 600 and image.height >= 400
    # Every registration of the queue (the year of history is an imported register, without files)
    # carries what the settings require.
    from app.demo.data import DEMO_REGISTRATIONS

    queue = demo.session.scalars(sa.select(Registration).where(Registration.created_by_id.is_not(None))).all()
    assert len(queue) == len(DEMO_REGISTRATIONS) + 1  # and the amendment
    for registration in queue:
        required = set(app.config["REQUIRED_ATTACHMENTS"][registration.kind.name])
        assert required <= {attachment.kind.name for attachment in registration.attachments}


def test_every_demo_crew_member_has_a_drawn_photo(app, demo):
    members = demo.session.scalars(sa.select(CrewMember)).all()
    assert len(members) >= 10
    for member in members:
        assert member.photo_stored_name and member.photo_content_type in ("image/jpeg", "image/png")
        with Image.open(io.BytesIO(stored_bytes(app, member.photo_stored_name))) as photo:
            photo.load()
            assert photo.height > photo.width  # portrait, 3:4
    # The photo is on the permits it was issued with.
    permit = demo.session.scalars(sa.select(IssuedDocument).where(IssuedDocument.kind == DocumentKind.permit)).first()
    page = pypdf.PdfReader(io.BytesIO(stored_bytes(app, permit.stored_name))).pages[0]
    assert page.images


def test_every_demo_permit_carries_its_programme_dates_and_a_past_visit_is_expired(app, client, demo):
    today = local_today()
    permits = demo.session.scalars(sa.select(IssuedDocument).where(IssuedDocument.kind == DocumentKind.permit)).all()
    assert permits
    for permit in permits:
        registration = permit.registration
        assert (permit.valid_from, permit.valid_until) == (registration.start_date, registration.end_date)
        assert permit.valid_from <= registration.end_date
        if registration.status is Status.completed:
            assert permit.valid_until < today

    from app.verification.service import permit_url

    completed = [permit for permit in permits if permit.registration.status is Status.completed]
    assert len({permit.registration_id for permit in completed}) == 2
    for permit in completed:
        with app.app_context():
            path = permit_url(app_db.session.get(IssuedDocument, permit.id))[len(app.config["BASE_URL"]):]
        body = client.get(path, headers={"Accept-Language": "en"}).get_data(as_text=True)
        assert "EXPIRED" in body and "NOT YET" not in body
    # One visit is under way today: scanning its permits shows the holder, as at a checkpoint.
    under_way = [permit for permit in permits if permit.registration.status is Status.approved
                 and permit.revoked_at is None and permit.valid_from < today < permit.valid_until]
    assert len({permit.registration_id for permit in under_way}) == 1
    for permit in under_way:
        with app.app_context():
            path = permit_url(app_db.session.get(IssuedDocument, permit.id))[len(app.config["BASE_URL"]):]
        body = client.get(path, headers={"Accept-Language": "en"}).get_data(as_text=True)
        assert "VALID" in body and permit.crew_member.full_name in body


def test_demo_data_sends_no_mail(app, demo, mailbox):
    assert demo.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0
    assert mailbox.messages == []


def _verdicts(app, client, session) -> set[str]:
    """What scanning each demo permit answers today."""
    from app.verification.service import permit_url

    outcomes = set()
    for permit in session.session.scalars(sa.select(IssuedDocument).where(IssuedDocument.kind == DocumentKind.permit)).all():
        with app.app_context():
            path = permit_url(app_db.session.get(IssuedDocument, permit.id))[len(app.config["BASE_URL"]):]
        body = client.get(path, headers={"Accept-Language": "en"}).get_data(as_text=True)
        outcomes |= {name for name, mark in (("valid", "✓ VALID"), ("not_yet_valid", "NOT YET VALID"),
                                             ("expired", "EXPIRED"), ("revoked", "REVOKED")) if mark in body}
    session.session.rollback()  # end the read: the command that follows writes
    return outcomes


def test_whatever_the_day_make_run_starts_there_is_a_demo_permit_of_each_verdict(app, client, demo, runner):
    import time_machine
    from datetime import timedelta

    from app.clock import utcnow

    assert _verdicts(app, client, demo) == {"valid", "not_yet_valid", "expired", "revoked"}
    # Six weeks later, the same demo database: the visit under way has ended, the upcoming one too.
    with time_machine.travel(utcnow() + timedelta(days=42), tick=True):
        assert "valid" not in _verdicts(app, client, demo)
        result = runner.invoke(args=["demo", "load", "--if-empty", "--force"])
        assert result.exit_code == 0, result.output
        assert "a demo permit of each verdict" in result.output
        assert _verdicts(app, client, demo) == {"valid", "not_yet_valid", "expired", "revoked"}
        # And the next start on the same day adds nothing.
        again = runner.invoke(args=["demo", "load", "--if-empty", "--force"])
        assert again.exit_code == 0 and "a demo permit of each verdict" not in again.output
