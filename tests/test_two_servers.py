"""Two app servers on one PostgreSQL and one Redis serve one site (issue 15, "Several app servers").

The unit tests (always run) cover the shared permit key folder: the first key made once however
many servers race for it, and a loaded ring following a key another process adds.

The journey (PostgreSQL and Redis only) starts what two hosts would run: two gunicorn servers
(`wsgi:app`, 2 sync workers each) on loopback, each with its own instance folder
(PRESSDESK_INSTANCE_PATH), in production mode, sharing only what the README says they must: the
database, Redis (with a key prefix of its own, so other users of 6379 are not disturbed), the
SECRET_KEY, and the upload folder, permit key folder and data key file. The test plays nginx
(X-Forwarded-For / -Proto / -Host, TRUSTED_PROXY_HOPS=1) and walks: a login made on A works on B;
the verification limit counted on both trips at its count; a key rotated on B's host is used by A;
a permit approved on A downloads from B and verifies there as valid; two `flask outbox worker`
processes send every queued message exactly once.

Skipped without TEST_DATABASE_URL=postgresql://...; with it, a Redis that does not answer on
127.0.0.1:6379 is a skip on a laptop and a failure under CI=true (.ci/run starts one).
"""
from __future__ import annotations

import asyncio
import collections
import http.client
import json
import multiprocessing
import os
import re
import secrets
import socket
import subprocess
import sys
import time
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.verification import tokens
from app.verification.tokens import KeyRing, ensure_key, generate_key
from tests.conftest import SMTPServer, Mailbox, free_port, throwaway_postgres_database

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # .venv/bin: gunicorn and flask beside the interpreter
PASSWORD = "pressdesk-demo"  # every demo account's
HOST = "pressdesk.example.org"
BASE_URL = f"https://{HOST}"
VERIFY_LIMIT = 5  # per minute and client address, set on both servers


# --- the shared key folder (no servers needed) ------------------------------------------------

def _ensure_after(directory: str, start, results) -> None:
    start.wait()
    results.put(ensure_key(directory))


def test_servers_racing_for_the_first_key_make_exactly_one(tmp_path):
    directory = str(tmp_path / "permit-keys")
    context = multiprocessing.get_context("fork")
    start, results = context.Event(), context.Queue()
    racers = [context.Process(target=_ensure_after, args=(directory, start, results)) for _ in range(6)]
    for racer in racers:
        racer.start()
    start.set()
    for racer in racers:
        racer.join(30)
        assert racer.exitcode == 0
    key_ids = {results.get(timeout=5) for _ in racers}
    private_keys = sorted(path.name for path in Path(directory).glob("*.pem"))
    assert len(key_ids) == 1 and private_keys == [f"{key_ids.pop()}.pem"]
    assert (Path(directory) / "current").read_text().strip() + ".pem" == private_keys[0]
    # The lock file is named like a half-written key, which backups leave out.
    assert (Path(directory) / ".key-lock").exists()


def test_ensure_key_keeps_an_existing_key(tmp_path):
    first = generate_key(tmp_path)
    assert ensure_key(tmp_path) == first
    assert len(list(tmp_path.glob("*.pem"))) == 1


def test_a_loaded_ring_follows_a_key_another_server_adds(tmp_path, monkeypatch):
    first = ensure_key(tmp_path)
    ring = KeyRing.from_directory(tmp_path)  # what a server holds for its life
    old_token = ring.sign(7, *_dates())
    second = generate_key(tmp_path)  # another server's `flask permits rotate-key`
    monkeypatch.setattr(tokens, "RECHECK_SECONDS", 0.0)  # the second a server waits at most
    assert ring.current_key_id == second
    assert [key["kid"] for key in ring.public_key_set()["keys"]] == sorted([first, second])
    assert ring.verify(ring.sign(8, *_dates())).key_id == second
    assert ring.verify(old_token).key_id == first


def test_within_the_recheck_interval_the_folder_is_not_read_again(tmp_path, monkeypatch):
    first = ensure_key(tmp_path)
    ring = KeyRing.from_directory(tmp_path)
    monkeypatch.setattr(tokens, "RECHECK_SECONDS", 3600.0)
    generate_key(tmp_path)
    assert ring.current_key_id == first  # looked at once an hour here: not yet
    ring.refresh(force=True)
    assert ring.current_key_id != first


def test_a_folder_that_cannot_be_read_keeps_the_loaded_keys(tmp_path, monkeypatch, caplog):
    first = ensure_key(tmp_path)
    ring = KeyRing.from_directory(tmp_path)
    (tmp_path / "current").write_text("nope\n")  # names no key: the reload fails
    monkeypatch.setattr(tokens, "RECHECK_SECONDS", 0.0)
    assert ring.current_key_id == first
    assert "keeping the keys loaded" in caplog.text


def test_each_host_names_its_own_instance_folder(tmp_path, monkeypatch, smtp_server):
    from app import create_app
    from tests.conftest import make_test_config

    instance = tmp_path / "host-a" / "instance"
    instance.mkdir(parents=True)
    (instance / "config.py").write_text('PAGE_SIZE = 17\n')  # this host's own settings file
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PRESSDESK_INSTANCE_PATH", "host-a/instance")  # relative: made absolute
    app = create_app(make_test_config(f"sqlite:///{tmp_path / 'pressdesk.db'}", smtp_server))
    assert app.instance_path == str(instance)
    assert app.config["PAGE_SIZE"] == 17
    assert app.config["UPLOAD_FOLDER"] == str(instance / "uploads")  # unless named elsewhere (shared)


def _dates():
    from datetime import date

    return date(2027, 3, 1), date(2027, 3, 5)


# --- the journey on two servers ----------------------------------------------------------------

def _redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _require_services() -> str:
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        pytest.skip("two servers share one PostgreSQL: set TEST_DATABASE_URL=postgresql://... (CI's second pass)")
    missing = [what for what, there in (("Redis on 127.0.0.1:6379", _redis_answers()),
                                        (f"{BIN / 'gunicorn'}", (BIN / "gunicorn").exists())) if not there]
    if missing:
        reason = "the two-server test needs " + " and ".join(missing)
        if os.environ.get("CI") == "true":
            pytest.fail(reason + ": it must run in CI", pytrace=False)
        pytest.skip(reason)
    return url


class Response:
    def __init__(self, raw: http.client.HTTPResponse):
        self.status, self.headers, self.body = raw.status, raw.headers, raw.read()

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)


class Browser:
    """A browser behind nginx: its cookies, its address (X-Forwarded-For), any server."""

    def __init__(self, address: str):
        self.address, self.cookies = address, {}

    def request(self, server: "Server", method: str, path: str, form: dict | None = None,
                address: str | None = None) -> Response:
        headers = {"Host": HOST, "X-Forwarded-For": address or self.address, "X-Forwarded-Proto": "https",
                   "X-Forwarded-Host": HOST, "Accept-Language": "en"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        body = None
        if form is not None:
            from urllib.parse import urlencode

            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = BASE_URL + path  # over https, the CSRF check wants the same-site referrer
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = Response(connection.getresponse())
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return response

    def get(self, server, path, **kwargs) -> Response:
        return self.request(server, "GET", path, **kwargs)

    def post(self, server, path, form, **kwargs) -> Response:
        return self.request(server, "POST", path, form=form, **kwargs)


def csrf_in(html: str, action: str | None = None) -> str:
    """The CSRF token of the page's first form, or of the form posting to `action`."""
    if action is not None:
        html = html[html.index(f'action="{action}"'):]
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


class Server:
    """One host: gunicorn with its own instance folder and log, on a loopback port."""

    def __init__(self, name: str, environment: dict, log_folder: Path):
        self.name, self.port, self.environment = name, free_port(), environment
        self.log_path = log_folder / f"{name}.log"
        self.process = None

    def flask(self, *arguments: str, timeout: float = 300) -> str:
        result = subprocess.run([str(BIN / "flask"), *arguments], cwd=ROOT, env=self.environment,
                                capture_output=True, text=True, timeout=timeout)
        assert result.returncode == 0, f"flask {' '.join(arguments)} on {self.name}:\n{result.stdout}{result.stderr}"
        return result.stdout

    def start(self) -> None:
        self.log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [str(BIN / "gunicorn"), "--workers", "2", "--bind", f"127.0.0.1:{self.port}", "--timeout", "120",
             "wsgi:app"], cwd=ROOT, env=self.environment, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"server {self.name} exited:\n{self.log_tail()}", pytrace=False)
            try:
                if Browser("192.0.2.1").get(self, "/readyz").status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        pytest.fail(f"server {self.name} never became ready:\n{self.log_tail()}", pytrace=False)

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        if self.process is not None:
            self.log.close()


class Worker:
    """`flask outbox worker` of one host."""

    def __init__(self, server: Server):
        self.server = server
        self.log_path = server.log_path.with_name(f"{server.name}-outbox.log")
        self.process = None

    def start(self) -> None:
        self.log = open(self.log_path, "wb")
        self.process = subprocess.Popen([str(BIN / "flask"), "outbox", "worker", "--poll-seconds", "0.2"], cwd=ROOT,
                                        env=self.server.environment, stdout=self.log, stderr=subprocess.STDOUT)

    def stop(self) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                self.process.terminate()  # SIGTERM: finishes the message under way, then exits
                try:
                    self.process.wait(30)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(10)
            self.log.close()


class SlowMailbox(Mailbox):
    """A relay that takes its time (50 ms a message), so both workers are sending at once."""

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(0.05)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def relay():
    server = SMTPServer()
    server.mailbox = SlowMailbox()
    server.start()
    yield server
    server.stop()


def _environment(database_url: str, shared: Path, instance: Path, smtp_port: int, redis_prefix: str,
                 secret_key: str) -> dict:
    environment = {name: value for name, value in os.environ.items()
                   if not name.startswith(("PRESSDESK_", "FLASK_")) and name != "TEST_DATABASE_URL"}
    environment.update({
        "FLASK_APP": "wsgi.py",
        "PRESSDESK_INSTANCE_PATH": str(instance),  # this host's own
        "PRESSDESK_ENV_NAME": "production",
        # Equal on every server:
        "PRESSDESK_SECRET_KEY": secret_key,
        "PRESSDESK_SQLALCHEMY_DATABASE_URI": database_url,
        "PRESSDESK_RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
        "PRESSDESK_RATELIMIT_KEY_PREFIX": redis_prefix,
        "PRESSDESK_UPLOAD_FOLDER": str(shared / "uploads"),
        "PRESSDESK_PERMIT_KEYS_DIR": str(shared / "permit-keys"),
        "PRESSDESK_DATA_KEY_FILE": str(shared / "data-key.json"),
        "PRESSDESK_BASE_URL": BASE_URL,
        "PRESSDESK_TRUSTED_PROXY_HOPS": "1",  # the test is the nginx in front
        "PRESSDESK_MAIL_SERVER": "127.0.0.1",
        "PRESSDESK_MAIL_PORT": str(smtp_port),
        "PRESSDESK_RATELIMIT_VERIFY": f"{VERIFY_LIMIT} per minute",
        # The demo leader and admin sign in with their password (production asks them for a code).
        "PRESSDESK_TWO_FACTOR_REQUIRED_ROLES": "",
        "PRESSDESK_LOG_LEVEL": "WARNING",
    })
    return environment


def _log_in(browser: Browser, server: Server, email: str) -> None:
    page = browser.get(server, "/login")
    response = browser.post(server, "/login", {"csrf_token": csrf_in(page.text), "email": email,
                                               "password": PASSWORD, "next": ""})
    assert response.status == 302, response.text[:2000]


def _token_in_permit(pdf: bytes) -> str:
    """Print the permit, photograph it, read the QR code: the token in its URL."""
    import pypdfium2

    from tests.support import qr_texts

    document = pypdfium2.PdfDocument(pdf)
    image = document[0].render(scale=250 / 72).to_pil()
    document.close()
    [text] = qr_texts(image)
    assert text.startswith(BASE_URL + "/v/")
    return text.rsplit("/", 1)[1]


def _envelope_document(envelope: dict) -> dict:
    return json.loads(tokens._b64decode_canonical(envelope["payload"]))


def test_two_servers_serve_one_site(tmp_path, relay):
    _require_services()
    redis_prefix = f"h_servers_{secrets.token_hex(4)}"
    servers: list[Server] = []
    workers: list[Worker] = []
    with throwaway_postgres_database("h_servers") as database_url:
        shared = tmp_path / "shared"
        shared.mkdir(mode=0o700)
        secret_key = secrets.token_urlsafe(48)
        a, b = (Server(name, _environment(database_url, shared, tmp_path / name / "instance", relay.port,
                                          redis_prefix, secret_key), tmp_path) for name in ("a", "b"))
        engine = sa.create_engine(database_url)  # the test's own look at the shared database
        try:
            a.flask("db", "upgrade")
            a.flask("privacy", "init-key")  # once, in the shared file: production refuses to make one itself
            a.flask("demo", "load", "--force")  # as host A; its permits make the first signing key
            first_key = (shared / "permit-keys" / "current").read_text().strip()
            servers.extend((a, b))
            for server in servers:
                server.start()
            for server in servers:
                server.wait_ready()
            for name in ("a", "b"):  # each host's instance folder is its own, and holds none of the shared files
                assert not (tmp_path / name / "instance" / "permit-keys").exists()
                assert not (tmp_path / name / "instance" / "uploads").exists()

            # 1. A login made on A works on B, and a form of B posts to A (one SECRET_KEY, sessions in the database).
            leader = Browser("203.0.113.10")
            _log_in(leader, a, "leader@example.org")
            queue = leader.get(b, "/staff/registrations")
            assert queue.status == 200 and "leader@example.org" not in queue.headers.get("Location", "")
            assert Browser("203.0.113.11").get(b, "/staff/registrations").status == 302  # no cookie: log in first

            # 2. Both servers verify a demo permit (each loads its key ring), then host B rotates the key.
            with engine.connect() as connection:
                under_way = connection.execute(sa.text(
                    "SELECT d.registration_id, d.id FROM issued_documents d JOIN registrations r "
                    "ON r.id = d.registration_id WHERE d.kind = 'permit' AND r.status = 'approved' "
                    "AND r.start_date <= (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date "
                    "AND r.end_date >= (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date ORDER BY d.id LIMIT 1")).one()
            demo_pdf = leader.get(b, f"/registrations/{under_way[0]}/documents/{under_way[1]}")
            assert demo_pdf.status == 200 and demo_pdf.body.startswith(b"%PDF")  # written by the loader, shared
            demo_token = _token_in_permit(demo_pdf.body)
            for index, server in enumerate((a, b, a, b)):
                page = Browser(f"203.0.113.{20 + index}").get(server, f"/v/{demo_token}")
                assert "✓ VALID" in page.text
            rotated = b.flask("permits", "rotate-key")
            second_key = (shared / "permit-keys" / "current").read_text().strip()
            assert second_key in rotated and second_key != first_key
            time.sleep(tokens.RECHECK_SECONDS + 0.2)  # a loaded ring looks at the folder at most once a second
            for index, server in enumerate((a, b, a, b)):  # both workers of each, most likely
                envelope = Browser(f"203.0.113.{30 + index}").get(server, "/check/trust/keys.json").json()
                assert envelope["kid"] == second_key, f"server {server.name} signs with an old key"
                published = {key["kid"] for key in _envelope_document(envelope)["keys"]}
                assert published == {first_key, second_key}

            # 3. A permit the leader approves on A: its PDF downloads from B, its QR code verifies there.
            with engine.begin() as connection:
                # Seeding: the demo proposal's programme moved to yesterday .. the day after tomorrow.
                registration_id = connection.execute(sa.text(
                    "SELECT id FROM registrations WHERE status = 'in_review' AND proposed_decision = 'approve' "
                    "ORDER BY id LIMIT 1")).scalar_one()
                today = sa.text("(now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date")
                connection.execute(sa.text(
                    f"UPDATE registrations SET start_date = {today} - 1, end_date = {today} + 2 WHERE id = :id"),
                    {"id": registration_id})
                connection.execute(sa.text(
                    f"UPDATE itinerary_items SET day = {today} WHERE registration_id = :id"), {"id": registration_id})
            page = leader.get(b, f"/registrations/{registration_id}")
            assert page.status == 200
            action = f"/registrations/{registration_id}/approve"
            form_html = page.text[page.text.index(f'action="{action}"'):]
            version = re.search(r'name="version" type="hidden" value="([^"]*)"', form_html).group(1)
            approved = leader.post(a, action, {"csrf_token": csrf_in(page.text, action), "version": version})
            assert approved.status == 302, approved.text[:2000]
            with engine.connect() as connection:
                permit_ids = connection.execute(sa.text(
                    "SELECT id FROM issued_documents WHERE registration_id = :id AND kind = 'permit' ORDER BY id"),
                    {"id": registration_id}).scalars().all()
            assert permit_ids
            for permit_id in permit_ids:
                pdf = leader.get(b, f"/registrations/{registration_id}/documents/{permit_id}")
                assert pdf.status == 200 and pdf.body.startswith(b"%PDF")
                token = _token_in_permit(pdf.body)
                assert tokens.KeyRing.from_directory(shared / "permit-keys").verify(token).key_id == second_key
                page = Browser("203.0.113.40").get(b, f"/v/{token}")
                assert page.status == 200 and "✓ VALID" in page.text

            # 4. The verification limit is one count in Redis: alternating servers, it trips at VERIFY_LIMIT.
            scanner = Browser("198.51.100.77")
            statuses = [scanner.get((a, b)[index % 2], f"/v/{token}").status for index in range(VERIFY_LIMIT + 2)]
            assert statuses == [200] * VERIFY_LIMIT + [429, 429]
            assert Browser("198.51.100.78").get(a, f"/v/{token}").status == 200  # another client: its own count

            # 5. Mail queued on both servers; two workers send each message exactly once.
            admin = Browser("203.0.113.50")
            _log_in(admin, b, "admin@example.org")
            for index in range(12):
                server = (a, b)[index % 2]
                page = admin.get(server, "/admin/outbox/")
                assert page.status == 200
                queued = admin.post(server, "/admin/outbox/test", {
                    "csrf_token": csrf_in(page.text, "/admin/outbox/test"), "email": f"check{index}@example.org"})
                assert queued.status == 302, queued.text[:2000]
            with engine.connect() as connection:
                queued = connection.execute(sa.text(
                    "SELECT recipient, subject FROM outbox_messages WHERE sent_at IS NULL AND failed_at IS NULL")).all()
            assert len(queued) >= 12 + 1  # the test messages, and the approval's mail at least
            workers.extend((Worker(a), Worker(b)))
            for worker in workers:
                worker.start()
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                with engine.connect() as connection:
                    left = connection.execute(sa.text(
                        "SELECT count(*) FROM outbox_messages WHERE sent_at IS NULL AND failed_at IS NULL")).scalar()
                if left == 0:
                    break
                time.sleep(0.2)
            assert left == 0, "the workers did not send everything:\n" + "\n".join(
                worker.log_path.read_text(errors="replace")[-2000:] for worker in workers)
            for worker in workers:
                worker.stop()
            with engine.connect() as connection:
                assert connection.execute(sa.text(
                    "SELECT count(*) FROM outbox_messages WHERE failed_at IS NOT NULL")).scalar() == 0
            received = collections.Counter((str(message["To"]), str(message["Subject"]))
                                           for message in relay.mailbox.messages)
            expected = collections.Counter((recipient, subject) for recipient, subject in queued)
            assert received == expected  # every message once: none lost, none twice
        finally:
            for worker in workers:
                worker.stop()
            for server in servers:
                server.stop()
            engine.dispose()
            _forget_redis_keys(redis_prefix)


def _forget_redis_keys(prefix: str) -> None:
    import redis

    store = redis.Redis(host="127.0.0.1", port=6379, socket_timeout=2)
    try:
        for key in store.scan_iter(match=f"*{prefix}*", count=500):
            store.delete(key)
    finally:
        store.close()
