"""Fixtures: an app with a fresh database per test, a real SMTP server on loopback,
factories, and a guard that fails any test reaching beyond this machine.

Set TEST_DATABASE_URL=postgresql://... to run the same suite on PostgreSQL: the
suite creates a throwaway database there and drops it at the end.
"""
from __future__ import annotations

import contextlib
import functools
import io
import ipaddress
import os
import secrets
import socket
import tempfile
import threading
from datetime import date, datetime, time, timezone
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo
from email import message_from_bytes, policy

import pytest
import sqlalchemy as sa
import time_machine
from sqlalchemy import event
from sqlalchemy.orm import Session
from aiosmtpd.controller import Controller
from flask.testing import FlaskClient

from app import create_app, normalise_database_url
from app.clock import DEFAULT_TIMEZONE, local_today
from app.auth.models import Role, User
from app.auth.passwords import hash_password
from app.db import utcnow
from app.extensions import db as _db
from app.privacy.notice import current_notice_version

TEST_PASSWORD = "correct horse battery staple"


# --- no outside network -------------------------------------------------------

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _check_address(sock, address):
    if sock.family == getattr(socket, "AF_UNIX", None):
        return
    host = address[0]
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise RuntimeError(f"a test tried to reach {address!r} outside this machine")


def _guarded_connect(sock, address):
    _check_address(sock, address)
    return _real_connect(sock, address)


def _guarded_connect_ex(sock, address):
    _check_address(sock, address)
    return _real_connect_ex(sock, address)


@pytest.fixture(autouse=True)
def no_outside_network(monkeypatch):
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", _guarded_connect_ex)


# --- the clock ------------------------------------------------------------------

# A Wednesday in an ordinary week (no holiday within a fortnight either side). To try the suite
# on another day (the first of a month, a day before Tết): PRESSDESK_TEST_DAY=2026-11-01 make test.
FROZEN_DAY = date.fromisoformat(os.environ.get("PRESSDESK_TEST_DAY") or "2026-10-14")


def night_instant(day: date = FROZEN_DAY) -> datetime:
    """An instant of `day` (UTC) at which the province's date differs from the machine's and, if
    it can, from UTC's: a test that reads `date.today()` or the UTC date instead of the one
    clock (app/clock.py) then fails at once, not only at night."""
    province = ZoneInfo(DEFAULT_TIMEZONE)
    candidates = [datetime.combine(day, time(hour), timezone.utc) for hour in (20, 18, 12, 10, 3)]

    def differs_from_machine(moment):
        machine_day = date.fromtimestamp(moment.timestamp())  # the machine's TZ, as date.today() reads it
        return machine_day != moment.astimezone(province).date()

    for moment in candidates:
        if differs_from_machine(moment) and moment.date() != moment.astimezone(province).date():
            return moment
    return next((moment for moment in candidates if differs_from_machine(moment)), candidates[0])


def at_frozen_instant():
    """The frozen clock for a module- or session-scoped fixture (these run before `frozen_clock`),
    so that what they make (a certificate, a signed letter) is dated like the tests that use it.
    A timestamp, not an aware datetime: given one, time-machine also sets TZ to its zone, and
    the machine's own time zone (the one CI picks far from the province's) would be lost."""
    return time_machine.travel(night_instant().timestamp(), tick=True)


@pytest.fixture(autouse=True)
def frozen_clock(request):
    """Every test starts at the same instant (then the clock ticks on), late at night in UTC.

    Browser tests (marked e2e) keep the real clock: Chromium judges cookie expiry by its own.
    A test that needs another day travels there itself: `time_machine.travel(...)`.
    """
    if request.node.get_closest_marker("e2e"):
        yield None
        return
    with at_frozen_instant() as traveller:
        yield traveller


# --- SMTP ---------------------------------------------------------------------

class Mailbox:
    """What the loopback SMTP server received, parsed."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"

    def clear(self):
        with self.lock:
            self.messages.clear()

    def to(self, address):
        return [message for message in self.messages if message["To"] == address]

    @staticmethod
    def text(message) -> str:
        return message.get_body(preferencelist=("plain",)).get_content()

    @staticmethod
    def html(message) -> str:
        return message.get_body(preferencelist=("html",)).get_content()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SMTPServer:
    def __init__(self):
        self.mailbox = Mailbox()
        self.port = free_port()
        self.controller = None

    def start(self):
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture(scope="session")
def smtp_server():
    server = SMTPServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mailbox(smtp_server):
    if smtp_server.controller is None:  # a test stopped it and failed before restarting
        smtp_server.start()
    smtp_server.mailbox.clear()
    return smtp_server.mailbox


# --- database -----------------------------------------------------------------

@contextlib.contextmanager
def throwaway_postgres_database(prefix: str):
    """A new, empty PostgreSQL database next to TEST_DATABASE_URL's, dropped afterwards."""
    base_url = normalise_database_url(os.environ["TEST_DATABASE_URL"])
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
    admin_engine = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield sa.engine.make_url(base_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin_engine.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin_engine.dispose()


@pytest.fixture(scope="session")
def server_database_url():
    """A throwaway PostgreSQL database for this run, or None to use SQLite files."""
    if not os.environ.get("TEST_DATABASE_URL"):
        yield None
        return
    with throwaway_postgres_database("pressdesk_test") as url:
        yield url


@pytest.fixture
def database_url(server_database_url, tmp_path):
    return server_database_url or f"sqlite:///{tmp_path / 'pressdesk.db'}"


class BufferedClient(FlaskClient):
    """Closes each response like a real server does, then plays the outbox worker: one
    `send_due()` pass (the worker's own function) in the test process, so a test reads the mail a
    request queued in `mailbox` right after the request. Requests never send mail themselves.
    A test that wants the queue left alone sets `client.deliver_mail = False`."""

    deliver_mail = True

    def open(self, *args, **kwargs):
        kwargs.setdefault("buffered", True)
        response = super().open(*args, **kwargs)
        if self.deliver_mail:
            from app.outbox.service import send_due

            with self.application.app_context():
                try:
                    send_due()
                finally:
                    _db.session.remove()
        return response


_TEST_DATA_KEY_FILE = Path(tempfile.mkdtemp(prefix="pressdesk-data-key-")) / "data-key.json"


def make_test_config(database_url, smtp_server, **overrides) -> dict:
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-" + secrets.token_hex(16),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_server.port,
        "BASE_URL": "http://localhost",
        "SESSION_COOKIE_SECURE": False,  # the test client and live server speak http
        "RATELIMIT_STORAGE_URI": "memory://",
        # Tests log in many times from 127.0.0.1; the rate-limit tests set the production limit back.
        "RATELIMIT_LOGIN": "1000 per minute",
        # Staff tests sign in with the password alone; the two-factor tests set the roles.
        "TWO_FACTOR_REQUIRED_ROLES": "",
        # One data key per test process (app/privacy/crypto.py); a test may name its own file.
        "DATA_KEY_FILE": str(_TEST_DATA_KEY_FILE),
        # The menu's shared counts afresh on every page (tests/test_worklist.py tests the keeping).
        "WORKLIST_SHARED_COUNT_SECONDS": 0,
    }
    config.update(overrides)
    return config


@pytest.fixture
def app_config():
    """Tests override settings by updating this dict before `app` is first used."""
    return {}


@pytest.fixture
def app(database_url, smtp_server, app_config, tmp_path):
    application = create_app(make_test_config(database_url, smtp_server, UPLOAD_FOLDER=str(tmp_path / "uploads"),
                                              PERMIT_KEYS_DIR=str(tmp_path / "permit-keys"), **app_config))
    application.test_client_class = BufferedClient
    server_database = not database_url.startswith("sqlite")
    with application.app_context():
        if server_database:
            _db.drop_all()
        _db.create_all()
    yield application
    with application.app_context():
        _db.session.remove()
        if server_database:  # an SQLite test database is a file in tmp_path, gone with it
            _db.drop_all()
        _db.engine.dispose()


class _FreshSession(Session):
    def get(self, *args, **kwargs):
        kwargs.setdefault("populate_existing", True)
        return super().get(*args, **kwargs)


class TestDatabase:
    """The test's own view of the database: a session on a separate engine.

    Tests must not hold an application context open across requests (Flask would
    share `g`, and with it cached CSRF tokens, between requests), so they read
    and write through this session instead of Flask-SQLAlchemy's. Every query
    reloads what it returns, so a test always sees what the requests committed.
    """

    def __init__(self, url: str):
        connect_args = {"timeout": 15} if url.startswith("sqlite") else {}
        self.engine = sa.create_engine(url, connect_args=connect_args)
        self.session = _FreshSession(self.engine)

        @event.listens_for(self.session, "do_orm_execute")
        def _always_fresh(state):
            if state.is_select:
                state.update_execution_options(populate_existing=True)

    def close(self):
        self.session.close()
        self.engine.dispose()


@pytest.fixture
def make_app(database_url, smtp_server):
    """Another application on the test database, with other settings; its pool is closed afterwards."""
    made = []

    def factory(**overrides):
        application = create_app(make_test_config(database_url, smtp_server, **overrides))
        application.test_client_class = BufferedClient
        made.append(application)
        return application

    yield factory
    for application in made:
        with application.app_context():
            _db.session.remove()
            _db.engine.dispose()


@pytest.fixture
def db(app):
    database = TestDatabase(app.config["SQLALCHEMY_DATABASE_URI"])
    yield database
    database.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# --- factories ----------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def _hash_once(password: str) -> str:
    """scrypt is slow on purpose; the factory needs each test password hashed once."""
    return hash_password(password)


@pytest.fixture
def make_user(app):
    counter = iter(range(1, 10_000))

    def factory(role: Role = Role.correspondent, *, email: str | None = None, password: str = TEST_PASSWORD,
                locale: str | None = None, confirmed: bool = True, active: bool = True, full_name: str | None = None):
        number = next(counter)
        with app.app_context():
            user = User(
                email=email or f"{role.name}{number}@example.org",
                full_name=full_name or f"Test {role.name.title()} {number}",
                role=role,
                locale=locale or ("en" if role is Role.correspondent else "vi"),
                password_hash=_hash_once(password),
                email_confirmed_at=utcnow() if confirmed else None,
                active=active,
                # Accepted the current privacy notice, so that the consent gate lets the tests through.
                privacy_notice_version=current_notice_version(),
                privacy_consented_at=utcnow(),
            )
            _db.session.add(user)
            _db.session.commit()
            _db.session.refresh(user)
            _db.session.expunge(user)
        return user

    return factory


# --- registration factories ------------------------------------------------------

def _one_page_pdf() -> bytes:
    """The smallest real PDF: one empty A4 page, with a correct cross-reference table."""
    objects = [b"<</Type/Catalog/Pages 2 0 R>>", b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
               b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>"]
    pdf = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    pdf += b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(pdf)


# A real one-page PDF (the upload check refuses a PDF without pages).
TINY_PDF = _one_page_pdf()


@pytest.fixture
def make_outlet(app):
    def factory(*, name="Nordic Broadcasting", country="NO", resident=False, correspondents=()):
        from app.outlets.models import MediaType, Outlet

        with app.app_context():
            outlet = Outlet(name=name, country=country, media_type=MediaType.television,
                            website="https://nordic.example", is_resident_office=resident,
                            office_address="12 Tràng Tiền, Hà Nội" if resident else None,
                            mofa_accreditation_number="BNG-123" if resident else None)
            _db.session.add(outlet)
            _db.session.flush()
            for user in correspondents:
                _db.session.get(User, user.id).outlet_id = outlet.id
                user.outlet_id = outlet.id
            _db.session.commit()
            _db.session.refresh(outlet)
            _db.session.expunge(outlet)
        return outlet

    return factory


@functools.cache
def _portrait_png() -> bytes:
    """A 360x480 portrait, the shape and size a permit photo needs."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (360, 480), (200, 170, 150)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def make_crew_member(app):
    def factory(outlet, *, full_name="Ingrid Larsen", nationality="NO", passport_expiry=None, role=None,
                photo=True):
        """A crew member with a portrait photo (a registration cannot be submitted without one)."""
        from datetime import timedelta

        from app.outlets.models import CrewMember, CrewRole
        from app.uploads import store_bytes

        with app.app_context():
            member = CrewMember(outlet_id=outlet.id, full_name=full_name, nationality=nationality,
                                date_of_birth=date(1985, 4, 12), passport_number="N" + secrets.token_hex(3).upper(),
                                passport_expiry=passport_expiry or local_today() + timedelta(days=3 * 365),
                                role=role or CrewRole.reporter, press_card_number="PC-77")
            if photo:
                stored = store_bytes(_portrait_png(), f"{full_name}.png")
                member.photo_stored_name, member.photo_content_type = stored.stored_name, stored.content_type
            _db.session.add(member)
            _db.session.commit()
            _db.session.refresh(member)
            _db.session.expunge(member)
        return member

    return factory


@pytest.fixture
def make_place(app):
    def factory(*, code=None, name="Phường Tân Ninh", border=False):
        from app.places.models import Place, PlaceKind

        with app.app_context():
            place = Place(code=code or "T-" + secrets.token_hex(3), name_vi=name, name_en=name + " (en)",
                          kind=PlaceKind.commune, border_area=border, border_country="KH" if border else None)
            _db.session.add(place)
            _db.session.commit()
            _db.session.refresh(place)
            _db.session.expunge(place)
        return place

    return factory


@pytest.fixture
def make_registration(app, make_user, make_outlet, make_crew_member, make_place):
    """A complete registration of a fresh outlet, put directly in `status` (for transition tests).

    Returns (registration, correspondent). `border=True` puts a border-area place in the itinerary.
    """

    def factory(status=None, *, kind=None, border=False, correspondent=None, start_in_days=20, days=3,
                assigned_to=None):
        from datetime import timedelta

        from app.db import utcnow
        from app.registrations.models import (Attachment, AttachmentKind, ItineraryItem, Registration,
                                              RegistrationKind, Status)
        from app.registrations.service import next_reference
        from app.uploads import store_bytes

        status = status or Status.draft
        kind = kind or RegistrationKind.non_resident
        correspondent = correspondent or make_user(Role.correspondent)
        if correspondent.outlet_id is None:
            make_outlet(correspondents=[correspondent], name=f"Outlet of {correspondent.email}")
        member = make_crew_member(SimpleNamespace(id=correspondent.outlet_id))
        place = make_place(border=border)
        start = local_today() + timedelta(days=start_in_days)
        with app.test_request_context():
            registration = Registration(
                reference=next_reference(start.year), kind=kind, outlet_id=correspondent.outlet_id,
                created_by_id=correspondent.id, status=status, purpose="Report on rice farming in the Mekong",
                content="Agriculture, climate adaptation", start_date=start, end_date=start + timedelta(days=days),
                interview_questions="How has the harvest changed?", publication_plan="Evening news, NRK, May",
                equipment="2 cameras", guiding_agency="Provincial Department of Foreign Affairs",
                mofa_permit_number="01/BC-2027-77" if kind is RegistrationKind.non_resident else None,
                pledge_accepted_at=utcnow(), assigned_officer_id=assigned_to.id if assigned_to else None)
            registration.itinerary = [ItineraryItem(position=0, day=start, place_id=place.id,
                                                    host_organisation="Farmers' cooperative",
                                                    activity="Film the harvest", interviewees="Cooperative head")]
            from app.outlets.models import CrewMember

            registration.crew_members = [_db.session.get(CrewMember, member.id)]
            if status is not Status.draft:
                registration.submitted_at = registration.first_submitted_at = utcnow()
                registration.due_date = local_today() + timedelta(days=7)
            if status in (Status.approved, Status.completed, Status.revoked, Status.superseded, Status.refused):
                registration.decided_at = utcnow()
                registration.escort_name, registration.escort_phone = "Trần Văn Hộ", "+84 912 000 111"
            _db.session.add(registration)
            _db.session.flush()
            for attachment_kind in app.config["REQUIRED_ATTACHMENTS"][kind.name]:
                stored = store_bytes(TINY_PDF, f"{attachment_kind}.pdf")
                _db.session.add(Attachment.from_stored(stored, registration_id=registration.id,
                                                       kind=AttachmentKind[attachment_kind],
                                                       uploaded_by_id=correspondent.id))
            _db.session.commit()
            _db.session.refresh(registration)
            _db.session.expunge_all()
        return registration, correspondent

    return factory
