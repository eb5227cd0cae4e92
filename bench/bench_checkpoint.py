"""Benchmark: the checkpoint's public endpoints under gunicorn, beside a Flask hello-world page.

Not a test. Run from the project root:

    .venv/bin/python bench/bench_checkpoint.py [--seconds 10] [--rounds 3] [--threads 4] [--json results.json]
    PRESSDESK_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/bench_checkpoint.py

Creates a throwaway PostgreSQL database next to PRESSDESK_BENCH_DATABASE_URL's (dropped at the
end), migrates it, loads the DEMO data (which issues real permits, with holder records and photos)
and bulk-inserts 10,000 revoked permits. Then two gunicorn servers run side by side with the same
settings (2 sync workers, loopback): PressDesk in production mode (rate limits off) and a Flask
hello-world app. In each round, one after the other for --seconds each, a load client (--threads
threads, each one keep-alive http.client connection, reconnecting when the server closes it, as
gunicorn's sync workers do after every response) fetches: the hello-world page, `/v/<token>` for a
valid permit, `GET /check/trust/revocations.json` (the full list) and `?since=` (an incremental
update of 10 revocations). It prints requests per second, p50/p99 latency, the CPU the gunicorn
workers spent per request (PostgreSQL's own processes not counted), the ratio verification page /
hello world (issue 15: at least 0.25, 0.5 the aim), and the size of the revocation list, raw and gzipped.
The best round of each endpoint is reported: the machine is shared. The SQL statements one request
makes are counted in this process (Flask test client, same database), not under load.
`--json PATH` also writes the figures as JSON (one object per endpoint) for `make bench`.
"""
from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import platform
import secrets
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from bench_dashboard import insert, throwaway_postgres  # noqa: E402  (a sibling script: same database helpers)
from bench_outbox_hang import free_port, wait_until_up  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
REVOKED_PERMITS = 10_000
PERMITS_PER_REGISTRATION = 4
NEW_REVOCATIONS = 10
HELLO_APP = textwrap.dedent('''\
    from flask import Flask

    app = Flask(__name__)


    @app.route("/")
    def hello():
        return "Hello, World!"
''')


def gunicorn(module: str, port: int, cwd: Path, env: dict) -> subprocess.Popen:
    """The same server settings for both apps: 2 sync workers on loopback, warnings only."""
    return subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "--workers", "2", "--worker-class", "sync",
                             "--bind", f"127.0.0.1:{port}", "--log-level", "warning", module], cwd=cwd, env=env)


def worker_pids(master: int) -> list[int]:
    return [int(pid) for pid in (Path(f"/proc/{master}/task/{master}/children").read_text().split())]


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes so far (/proc/<pid>/stat, in clock ticks)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / ticks


def fetch(port: int, path: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@dataclass
class Round:
    requests: int
    seconds: float
    latencies: list[float]
    failures: int
    server_cpu: float
    client_cpu: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


def load(port: int, path: str, seconds: float, threads: int, server_pids: list[int]) -> Round:
    """`threads` clients, each requesting `path` back to back for `seconds`: a bounded closed loop."""
    latencies: list[list[float]] = [[] for _ in range(threads)]
    failures = [0] * threads
    start_gate = threading.Barrier(threads + 1)
    deadline = [0.0]

    def client(number: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = latencies[number]
        start_gate.wait()
        while time.monotonic() < deadline[0]:
            began = time.perf_counter()
            try:
                connection.request("GET", path)
                response = connection.getresponse()
                response.read()  # http.client reconnects by itself when the server closed the connection
                if response.status != 200:
                    failures[number] += 1
            except (OSError, http.client.HTTPException):
                failures[number] += 1
                connection.close()
            mine.append(time.perf_counter() - began)
        connection.close()

    workers = [threading.Thread(target=client, args=(number,), daemon=True) for number in range(threads)]
    for worker in workers:
        worker.start()
    cpu_before, client_before = cpu_seconds(server_pids), time.process_time()
    began = time.monotonic()
    deadline[0] = began + seconds
    start_gate.wait()
    for worker in workers:
        worker.join(seconds + 60)
    elapsed = time.monotonic() - began
    every = [latency for mine in latencies for latency in mine]
    return Round(len(every), elapsed, every, sum(failures), cpu_seconds(server_pids) - cpu_before,
                 time.process_time() - client_before)


def seed_revocations(count: int, new: bool = False) -> None:
    """`count` revoked permits by bulk Core inserts: registrations revoked (or, `new`, permits revoked
    now) with PERMITS_PER_REGISTRATION permits each. Old ones are revoked over the past year, at
    least an hour ago, so that an incremental update from now on holds only the new ones."""
    from app.clock import local_today
    from app.db import utcnow
    from app.documents.models import DocumentKind, IssuedDocument
    from app.extensions import db
    from app.outlets.models import Outlet
    from app.registrations.models import Registration, RegistrationKind, Status

    outlet_id = db.session.scalar(sa.select(Outlet.id).order_by(Outlet.id).limit(1))
    now, today = utcnow(), local_today()
    tag = secrets.token_hex(3)
    registrations = -(-count // PERMITS_PER_REGISTRATION)
    first_id = (db.session.scalar(sa.select(sa.func.max(Registration.id))) or 0) + 1
    revoked_at = [now if new else now - timedelta(hours=1, minutes=number * 525_600 // registrations)
                  for number in range(registrations)]
    insert(Registration.__table__, [dict(
        id=first_id + number, reference=f"BENCH-{tag}-{number:05d}", kind=RegistrationKind.non_resident,
        outlet_id=outlet_id, status=Status.revoked, start_date=today - timedelta(days=30),
        end_date=today + timedelta(days=30), revoked_at=revoked_at[number], revocation_reason="bench",
        decided_at=revoked_at[number] - timedelta(days=2)) for number in range(registrations)])
    insert(IssuedDocument.__table__, [dict(
        registration_id=first_id + number // PERMITS_PER_REGISTRATION, kind=DocumentKind.permit,
        series=f"GP-BENCH-{tag}", year=today.year, number=number + 1, valid_from=today - timedelta(days=30),
        valid_until=today + timedelta(days=30), issue_date=today - timedelta(days=31), signer_name="Bench",
        revoked_at=revoked_at[number // PERMITS_PER_REGISTRATION], revocation_reason="bench")
        for number in range(count)])
    if db.engine.dialect.name == "postgresql":  # explicit ids: move the sequence past them
        db.session.execute(sa.text("SELECT setval(pg_get_serial_sequence('registrations', 'id'), "
                                   "(SELECT max(id) FROM registrations))"))
    db.session.commit()


def age_demo_revocations() -> None:
    """The DEMO permits revoked at load time are moved an hour back, so that the incremental update
    measured later holds only the NEW_REVOCATIONS (its `since` has a 5-minute overlap)."""
    from app.documents.models import IssuedDocument
    from app.extensions import db
    from app.registrations.models import Registration

    for model in (IssuedDocument, Registration):
        db.session.execute(sa.update(model).where(model.revoked_at.is_not(None))
                           .values(revoked_at=model.revoked_at - sa.literal(timedelta(hours=1), sa.Interval())))


def valid_permit_path() -> str:
    """`/v/<token>` of a DEMO permit valid today (a visit under way), not revoked."""
    from app.clock import local_today
    from app.documents.models import DocumentKind, IssuedDocument
    from app.extensions import db
    from app.registrations.models import Registration, Status
    from app.verification.service import permit_url

    today = local_today()
    permit = db.session.scalars(sa.select(IssuedDocument).join(Registration).where(
        IssuedDocument.kind == DocumentKind.permit, IssuedDocument.revoked_at.is_(None),
        Registration.status == Status.approved, IssuedDocument.valid_from <= today,
        IssuedDocument.valid_until >= today).order_by(IssuedDocument.id).limit(1)).first()
    if permit is None:
        raise SystemExit("the DEMO data has no permit valid today")
    return "/v/" + permit_url(permit).rsplit("/v/", 1)[1]


def prepare(url: str, tmp: str, port: int) -> dict:
    """The environment both gunicorn and this process use, after migrating and seeding the database."""
    settings = {
        "PRESSDESK_ENV_NAME": "production", "PRESSDESK_SECRET_KEY": secrets.token_urlsafe(32),
        "PRESSDESK_SQLALCHEMY_DATABASE_URI": url, "PRESSDESK_BASE_URL": f"http://127.0.0.1:{port}",
        "PRESSDESK_ALLOW_INSECURE_BASE_URL": "true", "PRESSDESK_RATELIMIT_ENABLED": "false",
        "PRESSDESK_UPLOAD_FOLDER": f"{tmp}/uploads", "PRESSDESK_PERMIT_KEYS_DIR": f"{tmp}/permit-keys",
        "PRESSDESK_BACKUP_FOLDER": f"{tmp}/backups", "PRESSDESK_DATA_KEY_FILE": f"{tmp}/data-key.json",
        "PRESSDESK_MAIL_SERVER": "127.0.0.1",
        "PRESSDESK_MAIL_PORT": str(free_port()),  # nothing listens: the outbox is not worked in this run
    }
    os.environ.update(settings)
    from flask_migrate import upgrade

    from app.privacy.keys import create_key_file

    create_key_file(Path(settings["PRESSDESK_DATA_KEY_FILE"]))  # the DEMO crew's passport numbers are encrypted

    from app import create_app
    from app.demo.data import load_demo_data
    from app.extensions import db

    app = create_app()
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        load_demo_data()
        age_demo_revocations()
        db.session.commit()
        seed_revocations(REVOKED_PERMITS)
        verify_path = valid_permit_path()
    return {"env": dict(os.environ, **settings), "app": app, "verify_path": verify_path}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0, help="per endpoint and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4, help="client connections")
    parser.add_argument("--json", metavar="PATH", help="also write the results to PATH as JSON")
    args = parser.parse_args()
    server_url = os.environ.get("PRESSDESK_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    with tempfile.TemporaryDirectory() as tmp, throwaway_postgres(server_url) as url:
        pressdesk_port, hello_port = free_port(), free_port()
        started = time.monotonic()
        prepared = prepare(url, tmp, pressdesk_port)
        seeded = time.monotonic() - started
        Path(tmp, "hello.py").write_text(HELLO_APP)
        servers = {"pressdesk": gunicorn("wsgi:app", pressdesk_port, ROOT, prepared["env"]),
                   "hello": gunicorn("hello:app", hello_port, Path(tmp), prepared["env"])}
        try:
            wait_until_up(pressdesk_port, time.monotonic() + 60)
            wait_until_up(hello_port, time.monotonic() + 60)
            report(args, prepared, servers, pressdesk_port, hello_port, seeded)
        finally:
            for server in servers.values():
                server.terminate()
            for server in servers.values():
                try:
                    server.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    server.kill()
            from app.extensions import db

            check_log = prepared["app"].extensions.get("verification_check_log")
            if check_log is not None:
                check_log.stop()  # this process's own scans (the statement count), before the drop
            with prepared["app"].app_context():
                db.engine.dispose()  # so that the database can be dropped


def statements_per_request(app, path: str) -> int:
    """The SQL statements one GET of `path` makes (test client, this thread only, transaction
    control left out); the outbox worker the test client would play is not involved here."""
    from app.extensions import db

    with app.app_context():
        engine = db.engine
    this_thread, statements = threading.get_ident(), []

    def count(connection, cursor, statement, *args):
        if threading.get_ident() == this_thread and not statement.lstrip().upper().startswith(
                ("SAVEPOINT", "RELEASE", "BEGIN", "COMMIT", "ROLLBACK")):
            statements.append(statement)

    client = app.test_client()
    client.get(path)  # first use in this process: key ring, templates
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        client.get(path)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    return len(statements)


def report(args, prepared, servers, pressdesk_port: int, hello_port: int, seeded: float) -> None:
    status, full = fetch(pressdesk_port, "/check/trust/revocations.json")
    if status != 200:
        raise SystemExit(f"/check/trust/revocations.json answered {status}: {full[:300]!r}")
    full_document = json.loads(_payload(full))
    since = full_document["issued_at"]
    with prepared["app"].app_context():
        seed_revocations(NEW_REVOCATIONS, new=True)
    since_path = f"/check/trust/revocations.json?since={since}"
    _, update = fetch(pressdesk_port, since_path)
    update_document = json.loads(_payload(update))
    status, page = fetch(pressdesk_port, prepared["verify_path"])
    if status != 200 or b"VALID" not in page.upper():
        raise SystemExit(f"the verification page answered {status}")

    endpoints = {
        "hello world (Flask, same gunicorn settings)": (hello_port, "/"),
        "/v/<token>, a valid permit": (pressdesk_port, prepared["verify_path"]),
        f"revocations.json, full ({len(full_document['revoked']) + NEW_REVOCATIONS:,} entries)":
            (pressdesk_port, "/check/trust/revocations.json"),
        f"revocations.json?since= ({len(update_document['revoked'])} entries)": (pressdesk_port, since_path),
    }
    pids = {port: worker_pids(server.pid) for port, server in ((pressdesk_port, servers["pressdesk"]),
                                                                (hello_port, servers["hello"]))}
    for port, path in endpoints.values():  # warm up: imports, connections, first key ring load in each worker
        load(port, path, 1.0, args.threads, pids[port])
    rounds: dict[str, list[Round]] = {name: [] for name in endpoints}
    for number in range(args.rounds):
        for name, (port, path) in endpoints.items():  # interleaved: every endpoint in every round
            rounds[name].append(load(port, path, args.seconds, args.threads, pids[port]))
            print(f"round {number + 1}: {name}: {rounds[name][-1].rate:,.0f}/s", file=sys.stderr)

    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, PostgreSQL on loopback; load average {os.getloadavg()[0]:.1f}; "
          f"setup (migrate, DEMO data, {REVOKED_PERMITS:,} revoked permits) {seeded:.0f} s")
    print(f"gunicorn 2 sync workers each; client: {args.threads} threads, keep-alive http.client; "
          f"{args.rounds} rounds x {args.seconds:.0f} s per endpoint, interleaved; best round shown\n")
    statements = {name: 0 if port == hello_port else statements_per_request(prepared["app"], path)
                  for name, (port, path) in endpoints.items()}
    print("| endpoint | requests/s (best; all rounds) | p50 ms | p99 ms | server CPU ms/request | client CPU | "
          "failures | SQL statements |")
    print("|---|---|---|---|---|---|---|---|")
    best, results = {}, []
    for name, measured in rounds.items():
        top = best[name] = max(measured, key=lambda measured_round: measured_round.rate)
        every = ", ".join(f"{measured_round.rate:,.0f}" for measured_round in measured)
        cpu = min(measured_round.server_cpu / measured_round.requests * 1000 for measured_round in measured)
        print(f"| {name} | **{top.rate:,.0f}** ({every}) | {top.percentile(0.50):.1f} | {top.percentile(0.99):.1f} "
              f"| {cpu:.2f} | {top.client_cpu / top.seconds:.0%} "
              f"| {sum(measured_round.failures for measured_round in measured)} | {statements[name]} |")
        results.append({"endpoint": name, "requests_per_second": round(top.rate, 1),
                        "all_rounds": [round(measured_round.rate, 1) for measured_round in measured],
                        "p50_ms": round(top.percentile(0.50), 2), "p99_ms": round(top.percentile(0.99), 2),
                        "server_cpu_ms_per_request": round(cpu, 3),
                        "failures": sum(measured_round.failures for measured_round in measured),
                        "statements_per_request": statements[name]})
    names = list(endpoints)
    for result in results:
        result["ratio_to_hello_world"] = round(result["requests_per_second"] / best[names[0]].rate, 3)
    hello, verify = best[names[0]], best[names[1]]
    ratio = verify.rate / hello.rate
    print(f"\n**ratio /v/<token> / hello world: {ratio:.2f}** (target: at least 0.25, aim 0.5; "
          f"{'met' if ratio >= 0.25 else 'NOT met'}); median of the rounds: "
          f"{statistics.median(r.rate for r in rounds[names[1]]) / statistics.median(r.rate for r in rounds[names[0]]):.2f}")
    print(f"ratio revocations.json full / hello world: {best[names[2]].rate / hello.rate:.2f}; "
          f"?since= / hello world: {best[names[3]].rate / hello.rate:.2f}\n")

    print("| revocation list | entries | bytes | gzip -6 bytes | signed JSON payload (decoded) bytes |")
    print("|---|---|---|---|---|")
    for name, body, document in ((f"full ({REVOKED_PERMITS:,} seeded + the DEMO data's)", full, full_document),
                                 (f"incremental (?since=, {NEW_REVOCATIONS} new)", update, update_document)):
        print(f"| {name} | {len(document['revoked']):,} | {len(body):,} | {len(gzip.compress(body, 6)):,} "
              f"| {len(_payload(body)):,} (gzip {len(gzip.compress(_payload(body), 6)):,}) |")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "bench": "bench_checkpoint", "database": "postgresql", "load_average": round(os.getloadavg()[0], 2),
            "rounds": args.rounds, "seconds": args.seconds, "threads": args.threads, "endpoints": results,
            "ratio_verify_to_hello_world": round(ratio, 3)}, indent=2) + "\n")


def _payload(envelope_bytes: bytes) -> bytes:
    """The signed document inside the envelope: base64url of its UTF-8 JSON."""
    import base64

    encoded = json.loads(envelope_bytes)["payload"]
    return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))


if __name__ == "__main__":
    main()
