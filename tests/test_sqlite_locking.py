"""SQLite's write lock: pages answer while a long write is under way, writers queue instead of
failing, and slow work (decoding uploads, copying files) holds no lock (app/database.py)."""
from __future__ import annotations

import io
import os
import re
import sqlite3
import threading

import pytest
import sqlalchemy as sa
from PIL import Image

from app import database
from app.extensions import db as app_db
from app.registrations.models import Attachment, Registration, Status
from tests.conftest import TINY_PDF
from tests.support import csrf_token, form_fields, login, post_form

LOCK_HELD_FOR_AT_MOST = 60  # seconds: a safety net, the tests release the lock themselves


def _database_file(app) -> str:
    url = sa.engine.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if not url.drivername.startswith("sqlite"):
        pytest.skip("SQLite's locking; PostgreSQL has row locks and MVCC")
    return url.database


class LongWrite(threading.Thread):
    """Another connection inside BEGIN IMMEDIATE, holding the write lock until released."""

    def __init__(self, path: str, *, hold_until: threading.Event | None = None, hold_seconds: float | None = None):
        super().__init__(daemon=True)
        self.path, self.hold_until, self.hold_seconds = path, hold_until, hold_seconds
        self.locked = threading.Event()
        self.released_by_test = None
        self.error = None

    def run(self):
        connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("UPDATE users SET full_name = full_name")
            self.locked.set()
            if self.hold_until is not None:
                self.released_by_test = self.hold_until.wait(LOCK_HELD_FOR_AT_MOST)
            else:
                threading.Event().wait(self.hold_seconds)
            connection.execute("COMMIT")
        except Exception as error:  # reported by the test
            self.error = error
            self.locked.set()
        finally:
            connection.close()


def test_a_page_answers_while_another_connection_holds_the_write_lock(app, client, make_registration):
    path = _database_file(app)
    app.config["SQLITE_BUSY_TIMEOUT_MS"] = 30_000  # a page that waited for the lock would wait 30 s, then fail
    registration, correspondent = make_registration(Status.draft)
    login(client, correspondent.email)
    client.deliver_mail = False  # the test client's outbox run after each request is a writer
    release = threading.Event()
    writer = LongWrite(path, hold_until=release)
    writer.start()
    assert writer.locked.wait(10) and writer.error is None
    try:
        pages = [client.get(f"/registrations/{registration.id}"), client.get("/my/registrations"), client.get("/")]
        # The lock was never released while the pages were served: they did not wait for it.
        assert writer.is_alive() and not release.is_set()
    finally:
        release.set()
        writer.join(LOCK_HELD_FOR_AT_MOST)
    assert [page.status_code for page in pages] == [200, 200, 200]
    assert writer.released_by_test is True and writer.error is None


def test_a_write_waits_for_the_lock_and_succeeds(app, client, db, make_user):
    path = _database_file(app)
    user = make_user()
    login(client, user.email)
    client.deliver_mail = False
    writer = LongWrite(path, hold_seconds=0.5)
    writer.start()
    assert writer.locked.wait(10) and writer.error is None
    response = post_form(client, "/language", {"locale": "vi", "next": "/"}, page="/")
    writer.join(LOCK_HELD_FOR_AT_MOST)
    assert response.status_code == 302 and writer.error is None
    from app.auth.models import User

    assert db.session.get(User, user.id).locale == "vi"


def test_two_writers_that_read_first_queue_instead_of_failing(app):
    """The case BEGIN IMMEDIATE exists for: both read, then write. Deferred, one would fail at
    once with "database is locked"; here the second waits for the first and both commit."""
    _database_file(app)
    from app.auth.models import Role, User

    with app.app_context():
        app_db.session.add(User(email="queue@example.org", full_name="Queue", role=Role.officer,
                                password_hash="x", locale="en"))
        app_db.session.commit()
    first_has_read = threading.Event()
    errors, names = [], []

    def writer(suffix: str, wait_for: threading.Event | None):
        try:
            with app.app_context():
                if wait_for is not None:
                    wait_for.wait(10)
                user = app_db.session.scalar(sa.select(User).where(User.email == "queue@example.org"))
                if wait_for is None:
                    first_has_read.set()
                    threading.Event().wait(0.3)  # the second one tries to start meanwhile
                user.full_name += suffix
                app_db.session.commit()
                app_db.session.remove()
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(" A", None)),
               threading.Thread(target=writer, args=(" B", first_has_read))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    with app.app_context():
        names.append(app_db.session.scalar(sa.select(User.full_name).where(User.email == "queue@example.org")))
    assert names == ["Queue A B"]  # neither update was lost


@pytest.fixture
def begun(monkeypatch) -> list[bool]:
    """Whether each transaction begun from now on asked for the write lock (BEGIN IMMEDIATE)."""
    asked = []
    real_begin = database._wants_write

    def spy():
        wanted = real_begin()
        asked.append(wanted)
        return wanted

    monkeypatch.setattr(database, "_wants_write", spy)
    return asked


def test_a_read_request_begins_deferred_and_a_post_immediate(app, client, make_user, begun):
    _database_file(app)
    client.deliver_mail = False
    user = make_user()
    login(client, user.email)
    begun.clear()
    assert client.get("/my/registrations").status_code == 200
    assert begun and not any(begun)  # every transaction of the page was deferred
    begun.clear()
    assert post_form(client, "/language", {"locale": "vi", "next": "/"}, page="/").status_code == 302
    assert begun[-1] is True  # the POST's own transaction took the write lock at BEGIN


def test_the_correspondents_posts_take_the_write_lock_only_to_write(app, client, db, make_registration, begun):
    """Each write of a registration's journey is one write transaction: a new draft one, "Attach the
    file" two (the draft, then the attachment's row; the checks between them, before the file is
    decoded, read in a read one), "Submit" one (the draft and the submission), withdrawing one. What the redirect
    needs is read before the commit, which would make it reload in another write transaction."""
    _database_file(app)
    registration, correspondent = make_registration(Status.draft)
    client.deliver_mail = False
    login(client, correspondent.email)

    def form_of(registration_id):
        return form_fields(client.get(f"/registrations/{registration_id}/edit").get_data(as_text=True),
                           "registration-form")

    def post(path, data):
        begun.clear()
        response = client.post(path, data=data)
        assert response.status_code in (302, 303), response.get_data(as_text=True)[:300]
        return begun.count(True), False in begun

    assert post("/registrations/new", {"csrf_token": csrf_token(client, "/registrations/new")}) == (1, False)

    fields = form_of(registration.id)
    fields["attachment_kind"], fields["attach"] = "press_card", "Attach the file"
    data = fields.to_dict(flat=False)
    data["attachment_file"] = (io.BytesIO(TINY_PDF), "press card.pdf")
    assert post(f"/registrations/{registration.id}/edit", data) == (2, True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attachment).where(
        Attachment.registration_id == registration.id, Attachment.original_filename == "press card.pdf")) == 1

    fields = form_of(registration.id)
    fields["send"], fields["short_notice_accepted"] = "Submit to the province", "y"
    assert post(f"/registrations/{registration.id}/edit", fields) == (1, False)
    assert db.session.get(Registration, registration.id).status is Status.submitted

    # An action on the registration's page (they share one helper): withdrawing it.
    page = client.get(f"/registrations/{registration.id}").get_data(as_text=True)
    withdraw = re.search(r'<form method="post" action="[^"]*/withdraw">(.*?)</form>', page, re.S).group(1)
    fields = dict(re.findall(r'name="(csrf_token|version)"[^>]*value="([^"]*)"', withdraw))
    assert post(f"/registrations/{registration.id}/withdraw", fields) == (1, False)
    db.session.expire_all()
    assert db.session.get(Registration, registration.id).status is Status.withdrawn


def test_a_get_that_writes_without_saying_so_fails_in_tests(app, client):
    _database_file(app)
    from app.auth.models import Role, User

    def sneaky():
        app_db.session.add(User(email="sneaky@example.org", full_name="S", role=Role.officer, password_hash="x",
                                locale="en"))
        app_db.session.commit()
        return "written"

    def declared():
        database.writes()
        app_db.session.scalar(sa.select(sa.func.count()).select_from(User))  # a read first, then the write
        database.writes()
        app_db.session.add(User(email="declared@example.org", full_name="D", role=Role.officer, password_hash="x",
                                locale="en"))
        app_db.session.commit()
        return "written"

    app.add_url_rule("/test-sneaky-write", "sneaky", sneaky)
    app.add_url_rule("/test-declared-write", "declared", declared)
    with pytest.raises(database.ReadTransactionWrite, match="GET /test-sneaky-write"):
        client.get("/test-sneaky-write")
    assert client.get("/test-declared-write").get_data(as_text=True) == "written"


def test_the_verification_page_writes_its_log_with_the_write_lock(app, client):
    """The permit check is a GET that writes (every check is logged): it says so (writes())."""
    response = client.get("/v/not-a-real-token")
    assert response.status_code == 404  # an unknown token, logged without ReadTransactionWrite
    with app.app_context():
        from app.documents.models import VerificationCheck

        assert app_db.session.scalar(sa.select(sa.func.count()).select_from(VerificationCheck)) == 1


# --- slow work holds no lock ------------------------------------------------------------------

def _another_writer_can_write_now(app) -> None:
    """Fails at once ("database is locked") if anyone holds the write lock: busy timeout 0."""
    url = sa.engine.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.drivername.startswith("sqlite"):
        connection = sqlite3.connect(url.database, timeout=0, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("ROLLBACK")
        finally:
            connection.close()
    else:  # PostgreSQL: the request's session has no transaction open during the work
        assert not app_db.session().in_transaction()


def jpeg_bytes(size=(1200, 900)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "teal").save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.fixture
def decoding_checks_the_lock(app, monkeypatch):
    """Every image decoded and every file copied checks, while it runs, that no lock is held."""
    import app.uploads as uploads

    checked = []
    real_reencode, real_copy = uploads._reencode_image, uploads.copy_stored

    def reencode(*args, **kwargs):
        from flask import has_request_context

        if not has_request_context():  # the factories' own crew photos, stored before the test's request
            return real_reencode(*args, **kwargs)
        _another_writer_can_write_now(app)
        checked.append("decode")
        return real_reencode(*args, **kwargs)

    def copy(*args, **kwargs):
        _another_writer_can_write_now(app)
        checked.append("copy")
        return real_copy(*args, **kwargs)

    monkeypatch.setattr(uploads, "_reencode_image", reencode)
    monkeypatch.setattr("app.registrations.service.copy_stored", copy)
    return checked


def test_an_attachment_is_decoded_holding_no_lock(app, client, db, make_registration, decoding_checks_the_lock):
    registration, correspondent = make_registration(Status.draft)
    login(client, correspondent.email)
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Attachment))
    response = post_form(client, f"/registrations/{registration.id}/attachments",
                         {"kind": "passport", "file": (io.BytesIO(jpeg_bytes()), "passport.jpg")},
                         page=f"/registrations/{registration.id}/edit")
    assert response.status_code == 302 and decoding_checks_the_lock == ["decode"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attachment)) == before + 1


def test_a_crew_photo_is_decoded_holding_no_lock(app, client, db, make_registration, decoding_checks_the_lock):
    from app.outlets.models import CrewMember

    registration, correspondent = make_registration(Status.draft)
    member = db.session.scalars(sa.select(CrewMember).where(CrewMember.outlet_id == correspondent.outlet_id)).first()
    login(client, correspondent.email)
    page = client.get(f"/outlet/crew/{member.id}").get_data(as_text=True)
    assert "passport_number" in page
    data = {"full_name": member.full_name, "nationality": member.nationality,
            "date_of_birth": member.date_of_birth.isoformat(), "role": member.role.name,
            "passport_number": member.passport_number, "passport_expiry": member.passport_expiry.isoformat(),
            "press_card_number": member.press_card_number or "", "privacy_consent": "y",
            "photo": (io.BytesIO(jpeg_bytes((1800, 2400))), "face.jpg")}  # portrait, as the permit needs
    response = post_form(client, f"/outlet/crew/{member.id}", data)
    assert response.status_code == 302 and decoding_checks_the_lock == ["decode"]
    stored = db.session.get(CrewMember, member.id)
    assert stored.photo_stored_name and stored.photo_content_type == "image/jpeg"


def test_an_amendment_copies_its_files_holding_no_lock(app, client, db, make_registration, decoding_checks_the_lock):
    from app.registrations.models import Registration

    registration, correspondent = make_registration(Status.approved)
    files = db.session.scalars(sa.select(Attachment.stored_name)
                               .where(Attachment.registration_id == registration.id)).all()
    login(client, correspondent.email)
    response = post_form(client, f"/registrations/{registration.id}/amend", {"version": registration.version},
                         page=f"/registrations/{registration.id}")
    assert response.status_code == 302
    assert decoding_checks_the_lock == ["copy"] * len(files) and files
    revision = db.session.scalar(sa.select(Registration).where(Registration.amends_id == registration.id))
    copies = db.session.scalars(sa.select(Attachment).where(Attachment.registration_id == revision.id)).all()
    assert len(copies) == len(files) and not {copy.stored_name for copy in copies} & set(files)
    with app.app_context():
        from app.uploads import stored_path

        for copy in copies:
            assert stored_path(copy.stored_name).read_bytes() == stored_path(
                next(a.stored_name for a in db.session.scalars(sa.select(Attachment).where(
                    Attachment.registration_id == registration.id, Attachment.kind == copy.kind)))).read_bytes()


def test_an_upload_refused_after_its_decoding_leaves_no_file(app, client, db, make_registration, monkeypatch):
    """The registration was submitted by someone else while the file was being decoded: the
    second check, in the write transaction, refuses, and the file already written is deleted."""
    import app.uploads as uploads

    registration, correspondent = make_registration(Status.draft)
    login(client, correspondent.email)
    page = f"/registrations/{registration.id}/edit"
    token_response = client.get(page)
    assert token_response.status_code == 200
    real_store = uploads.store_received

    def store_then_submit_elsewhere(*args, **kwargs):
        stored = real_store(*args, **kwargs)
        db.session.execute(sa.text("UPDATE registrations SET status = 'submitted' WHERE id = :id"),
                           {"id": registration.id})
        db.session.commit()
        return stored

    monkeypatch.setattr("app.registrations.service.store_received", store_then_submit_elsewhere)
    folder = app.config["UPLOAD_FOLDER"]

    def files():
        return {os.path.join(root, name) for root, _dirs, names in os.walk(folder) for name in names}

    before, count = files(), db.session.scalar(sa.select(sa.func.count()).select_from(Attachment))
    post_form(client, f"/registrations/{registration.id}/attachments",
              {"kind": "passport", "file": (io.BytesIO(TINY_PDF), "passport.pdf")}, page=page)
    assert files() == before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attachment)) == count
