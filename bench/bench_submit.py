"""Benchmark: 20 correspondents submitting registrations at once, under gunicorn, beside an insert.

Not a test. Run from the project root:

    .venv/bin/python bench/bench_submit.py                              # 20 clients x 30 s, the large seed
    .venv/bin/python bench/bench_submit.py --registrations 2000 --products 1000 --seconds 5 --clients 4
    .venv/bin/python bench/bench_submit.py --rounds 3 --json /tmp/submit.json

On a copy of the cached seed (bench/seed.py; SQLite: a copy of the file, PostgreSQL: a database
made from the seed's as a template, dropped at the end, so that the seed stays as it was), two
gunicorn servers with the same settings (2 sync workers, loopback, production mode, rate limits
off; mail is queued in the outbox, which no worker sends here): PressDesk, and the anchor, a
tiny Flask app whose POST inserts one row and commits on the same database (bench/anchors.py).

Each client thread is one correspondent (seeded: an outlet of their own, two crew members with
a photo), logged in before the clock starts, and submits complete registrations back to back as
a browser does, following every redirect: GET /registrations/new, POST it (a new draft), GET the
form, POST it with everything filled in and the MOFA permit attached (a one-page PDF), GET it,
POST it attaching the passport, GET it, POST it with "Submit to the province", GET the
registration's page: 10 requests a submission, one keep-alive http.client connection per client
(gunicorn's sync workers close it after each response; the client reconnects). The anchor's
clients POST the insert back to back. Reported: requests/s, submissions/s, p50/p95/p99 of every
request, p95 of the final "submit" POST, errors (any unexpected status, a failed request, a
submission that does not end on its page saying "Submitted"); the ratio PressDesk requests/s /
anchor requests/s. With --rounds above 1, anchor and PressDesk alternate and the median round
is shown.

Targets (issue "Speed and scale"): 0 errors, p95 under 500 ms on PostgreSQL, and on SQLite at
least twice the rate measured before the work (bench/README.md keeps that figure).
"""
from __future__ import annotations

import argparse
import html
import http.client
import io
import json
import os
import platform
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

import seed as bench_seed  # noqa: E402
from anchors import create_insert_table, insert_app_source  # noqa: E402
from bench_checkpoint import cpu_seconds, gunicorn, worker_pids  # noqa: E402
from bench_outbox_hang import free_port, wait_until_up  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
VERSION = re.compile(r'name="version"[^>]*value="(\d*)"|value="(\d*)"[^>]*name="version"')
CREW = re.compile(r'name="crew_member_ids"[^>]*value="(\d+)"|value="(\d+)"[^>]*name="crew_member_ids"')
PLACE = re.compile(r'<option[^>]*value="(\d+)"')
EDIT = re.compile(r"/registrations/(\d+)/edit")
REQUESTS_PER_SUBMISSION = 10


def one_page_pdf() -> bytes:
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, invariant=1)
    page.drawString(72, 720, "Bench attachment")
    page.showPage()
    page.save()
    return buffer.getvalue()


def multipart(fields: list[tuple[str, str]], files: list[tuple[str, str, bytes, str]]) -> tuple[bytes, str]:
    boundary = "bench" + secrets.token_hex(12)
    parts = []
    for name, value in fields:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, filename, content, content_type in files:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     f"Content-Type: {content_type}\r\n\r\n".encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class Failed(Exception):
    pass


class Browser:
    """One keep-alive connection and a cookie jar: just enough of a browser for these forms."""

    def __init__(self, port: int, latencies: list | None = None):
        self.port, self.cookies, self.latencies = port, {}, latencies
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(self, method: str, path: str, body: bytes | None = None, content_type: str | None = None,
                expect: tuple[int, ...] = (200,), label: str = "") -> tuple[int, str, str]:
        headers = {"Host": f"127.0.0.1:{self.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        if content_type:
            headers["Content-Type"] = content_type
        began = time.perf_counter()
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            text = response.read().decode("utf-8", "replace")
        except (OSError, http.client.HTTPException) as error:
            self.connection.close()
            raise Failed(f"{method} {path}: {error}") from None
        finally:
            if self.latencies is not None:
                self.latencies.append((label or method, time.perf_counter() - began))
        for header in response.msg.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if "max-age=0" in header.lower() or "expires=thu, 01 jan 1970" in header.lower():
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value
        if response.status not in expect:
            raise Failed(f"{method} {path} answered {response.status}: {text[:200]!r}")
        location = urlsplit(response.getheader("Location") or "")
        return response.status, (location.path + ("?" + location.query if location.query else "")), text

    def get(self, path: str, label: str = "GET") -> str:
        return self.request("GET", path, label=label)[2]

    def post(self, path: str, fields: list[tuple[str, str]], files=(), expect=(302, 303), label="POST") -> str:
        if files:
            body, content_type = multipart(fields, list(files))
        else:
            body, content_type = urlencode(fields).encode(), "application/x-www-form-urlencoded"
        return self.request("POST", path, body, content_type, expect, label)[1]


def log_in(browser: Browser, email: str) -> None:
    page = browser.get("/login")
    token = CSRF.search(page).group(1)
    browser.post("/login", [("csrf_token", token), ("email", email), ("password", bench_seed.PASSWORD)],
                 expect=(302, 303))
    if "session" not in " ".join(browser.cookies):
        raise Failed(f"no session cookie after logging in as {email}")


def submit_one(browser: Browser, today, pdf: bytes, number: int) -> None:
    """One complete registration, as the correspondent's browser sends it."""
    page = browser.get("/registrations/new", "GET new")
    token = CSRF.search(page).group(1)
    edit = browser.post("/registrations/new", [("csrf_token", token), ("submit", "Start")], label="POST new")
    if not EDIT.search(edit):
        raise Failed(f"POST /registrations/new went to {edit!r}")
    start = today + timedelta(days=40 + number % 30)
    for step, kind in enumerate(("mofa_permit", "passport", None)):
        form = browser.get(edit, "GET edit")
        version = next(filter(None, VERSION.search(form).groups()), "")
        crew = sorted({value for pair in CREW.findall(form) for value in pair if value})
        places = PLACE.findall(form)
        if not crew or not places:
            raise Failed("the registration form shows no crew member or no place")
        fields = [("csrf_token", CSRF.search(form).group(1)), ("version", version),
                  ("mofa_permit_number", f"MOFA-{number:06d}"), ("purpose", "A report on the province's coffee."),
                  ("content", "Farms, a cooperative, the harvest."), ("start_date", start.isoformat()),
                  ("end_date", (start + timedelta(days=2)).isoformat()),
                  ("itinerary-0-day", start.isoformat()), ("itinerary-0-place_id", places[number % len(places)]),
                  ("itinerary-0-place_text", ""), ("itinerary-0-host_organisation", "People's Committee"),
                  ("itinerary-0-activity", "Interviews at a farm"), ("itinerary-0-interviewees", "Farmers"),
                  ("interview_questions", "How was the harvest?"), ("publication_plan", "Evening news, March."),
                  ("equipment", "Two cameras"), ("guiding_agency", ""), ("pledge", "y"),
                  ("short_notice_accepted", "y")] + [("crew_member_ids", member) for member in crew]
        if kind is not None:
            browser.post(edit, fields + [("attachment_kind", kind), ("attach", "Attach the file")],
                         files=[("attachment_file", f"{kind}.pdf", pdf, "application/pdf")], label="POST attach")
        else:
            detail = browser.post(edit, fields + [("send", "Submit to the province")], label="POST submit")
            page = browser.get(detail, "GET registration")
            if "/edit" in detail or "Submitted" not in html.unescape(page):
                raise Failed(f"the submission did not go through (ended on {detail!r})")


@dataclass
class Load:
    seconds: float
    latencies: list = field(default_factory=list)
    submissions: int = 0
    errors: int = 0
    error_examples: list = field(default_factory=list)
    server_cpu: float = 0.0

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, fraction: float, label: str | None = None) -> float | None:
        values = sorted(latency for name, latency in self.latencies if label is None or name == label)
        if not values:
            return None
        return values[min(len(values) - 1, int(fraction * len(values)))] * 1000

    def summary(self) -> dict:
        return {"requests": self.requests, "seconds": round(self.seconds, 2),
                "requests_per_second": round(self.rate, 1),
                "submissions": self.submissions, "submissions_per_second": round(self.submissions / self.seconds, 2),
                "p50_ms": _round(self.percentile(0.50)), "p95_ms": _round(self.percentile(0.95)),
                "p99_ms": _round(self.percentile(0.99)),
                "submit_post_p95_ms": _round(self.percentile(0.95, "POST submit")),
                "errors": self.errors, "error_examples": self.error_examples[:3],
                "server_cpu_ms_per_request": round(self.server_cpu / max(self.requests, 1) * 1000, 2)}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def run_clients(port: int, clients: int, seconds: float, server_pids: list[int], work, prepare=None) -> Load:
    """`clients` threads doing `work(browser, number)` back to back for `seconds` (a bounded closed
    loop); `prepare(browser, number)` (logging in) runs before the clock starts."""
    load = Load(seconds)
    lock = threading.Lock()
    deadline = [0.0]
    began = [0.0]

    def start_clock() -> None:  # run once, when every client is logged in and waiting
        began[0] = time.monotonic()
        deadline[0] = began[0] + seconds

    gate = threading.Barrier(clients + 1, action=start_clock)

    def client(number: int) -> None:
        mine: list = []
        browser = Browser(port, None)
        try:
            if prepare is not None:
                prepare(browser, number)
        except Failed as error:
            with lock:
                load.errors += 1
                load.error_examples.append(f"setting up client {number}: {error}")
        browser.latencies = mine
        gate.wait()
        done, errors, examples, count = 0, 0, [], 0
        while time.monotonic() < deadline[0]:
            try:
                work(browser, number * 100_000 + count)
                done += 1
            except Failed as error:
                errors += 1
                examples.append(str(error))
            count += 1
        browser.connection.close()
        with lock:
            load.latencies.extend(mine)
            load.submissions += done
            load.errors += errors
            load.error_examples.extend(examples[:2])

    threads = [threading.Thread(target=client, args=(number,), daemon=True) for number in range(clients)]
    for thread in threads:
        thread.start()
    cpu_before = cpu_seconds(server_pids)
    gate.wait()
    for thread in threads:
        thread.join(seconds + 120)
    load.seconds = time.monotonic() - began[0]  # the last submissions finish after the deadline
    load.server_cpu = cpu_seconds(server_pids) - cpu_before
    return load


@dataclass
class Copy:
    url: str
    drop: object  # callable: remove the copy


def working_copy(seed: bench_seed.Seed, folder: str) -> Copy:
    """A copy of the seed to write into: the cached seed stays as it was."""
    if seed.dialect == "sqlite":
        source = Path(sa.engine.make_url(seed.url).database)
        target = Path(folder) / "submit.sqlite"
        shutil.copyfile(source, target)
        return Copy(f"sqlite:///{target}", lambda: None)
    url = sa.engine.make_url(seed.url)
    name = f"{url.database}_submit"
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{url.database}"')

    def drop():
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    return Copy(url.set(database=name).render_as_string(hide_password=False), drop)


def stop(servers) -> None:
    for server in servers:
        server.terminate()
    for server in servers:
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()


def measure_database(seed: bench_seed.Seed, arguments, pdf: bytes) -> dict:
    from app import create_app
    from app.clock import local_today

    with tempfile.TemporaryDirectory() as folder:
        copy = working_copy(seed, folder)
        try:
            app = create_app(bench_seed.app_config(copy.url, folder))
            bench_seed.open_seed(app)
            from app.extensions import db

            with app.app_context():
                create_insert_table(db.engine)
                db.engine.dispose()
            env = dict(os.environ, **bench_seed.environment(copy.url, folder))
            Path(folder, "insert_anchor.py").write_text(insert_app_source())
            pressdesk_port, anchor_port = free_port(), free_port()
            env["PRESSDESK_BASE_URL"] = f"http://127.0.0.1:{pressdesk_port}"
            servers = [gunicorn("wsgi:app", pressdesk_port, ROOT, env),
                       gunicorn("insert_anchor:app", anchor_port, Path(folder), env)]
            try:
                wait_until_up(pressdesk_port, time.monotonic() + 60)
                wait_until_up(anchor_port, time.monotonic() + 60)
                return _measure(seed, arguments, pdf, local_today(), servers, pressdesk_port, anchor_port)
            finally:
                stop(servers)
        finally:
            copy.drop()


def _measure(seed, arguments, pdf, today, servers, pressdesk_port: int, anchor_port: int) -> dict:
    pids = {pressdesk_port: worker_pids(servers[0].pid), anchor_port: worker_pids(servers[1].pid)}
    clients = arguments.clients

    def anchor_work(browser: Browser, _number: int) -> None:
        browser.request("POST", "/write", b"", "application/x-www-form-urlencoded", (201,), "POST write")

    def prepare(browser: Browser, number: int) -> None:
        log_in(browser, bench_seed.submitter_email(number % arguments.submitters))

    def submit_work(browser: Browser, number: int) -> None:
        submit_one(browser, today, pdf, number)

    if clients > arguments.submitters:
        raise SystemExit(f"--clients {clients} needs as many seeded submitters (--submitters {arguments.submitters})")
    # Warm-up: imports, templates and connections in both workers of both servers.
    run_clients(anchor_port, 4, 1.0, pids[anchor_port], anchor_work)
    run_clients(pressdesk_port, 2, arguments.warmup, pids[pressdesk_port], submit_work, prepare)
    anchors, pressdesk = [], []
    for number in range(arguments.rounds):
        anchors.append(run_clients(anchor_port, clients, arguments.seconds, pids[anchor_port], anchor_work))
        pressdesk.append(run_clients(pressdesk_port, clients, arguments.seconds, pids[pressdesk_port], submit_work,
                                     prepare))
        print(f"{seed.dialect} round {number + 1}: anchor {anchors[-1].rate:,.0f}/s, PressDesk "
              f"{pressdesk[-1].rate:,.1f}/s, {pressdesk[-1].errors} errors", file=sys.stderr, flush=True)
    anchor = sorted(anchors, key=lambda load: load.rate)[len(anchors) // 2]
    chosen = sorted(pressdesk, key=lambda load: load.rate)[len(pressdesk) // 2]
    result = {"database": seed.dialect, "seed": seed.url.rsplit("/", 1)[-1], "anchor": anchor.summary(),
              "pressdesk": chosen.summary(), "ratio": round(chosen.rate / anchor.rate, 4),
              "all_rounds": [{"anchor_rps": round(a.rate, 1), "pressdesk_rps": round(p.rate, 1)}
                             for a, p in zip(anchors, pressdesk)],
              "errors_all_rounds": sum(load.errors for load in pressdesk)}
    return result


def measure(arguments) -> dict:
    seeds, missing = bench_seed.ensure(arguments)
    pdf = one_page_pdf()
    load_before = os.getloadavg()
    results = [measure_database(seed, arguments, pdf) for seed in seeds]
    from bench_pages import git_commit

    return {"bench": "bench_submit", "commit": git_commit(), "measured_at": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
            "machine": f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
                       f"Python {platform.python_version()}",
            "load_average": [round(load_before[0], 2), round(os.getloadavg()[0], 2)], "clients": arguments.clients,
            "seconds": arguments.seconds, "rounds": arguments.rounds, "postgresql_missing": missing,
            "requests_per_submission": REQUESTS_PER_SUBMISSION, "databases": results}


def table(result: dict) -> str:
    lines = ["| 20 concurrent submitters | requests/s | submissions/s | p50 ms | p95 ms | p99 ms | submit POST p95 ms "
             "| errors | ratio to anchor |".replace("20", str(result["clients"])),
             "|---|---|---|---|---|---|---|---|---|"]
    for database in result["databases"]:
        name = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[database["database"]]
        for label, figures, ratio in ((f"{name}: anchor (insert and commit)", database["anchor"], "1"),
                                      (f"{name}: PressDesk, complete registrations", database["pressdesk"],
                                       f"**{database['ratio']:.3f}**")):
            submissions = "" if ratio == "1" else figures["submissions_per_second"]
            lines.append(f"| {label} | {figures['requests_per_second']:,.1f} | {submissions} | {figures['p50_ms']} "
                         f"| {figures['p95_ms']} | {figures['p99_ms']} | {figures['submit_post_p95_ms'] or ''} "
                         f"| {figures['errors']} | {ratio} |")
    if result["postgresql_missing"]:
        lines.append(f"| PostgreSQL: not measured ({result['postgresql_missing']}) | | | | | | | | |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    bench_seed.add_arguments(parser)
    parser.add_argument("--clients", type=int, default=20, help="concurrent submitters (each its own correspondent)")
    parser.add_argument("--seconds", type=float, default=30.0, help="per load and round")
    parser.add_argument("--rounds", type=int, default=1, help="anchor and PressDesk alternate; the median is shown")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of two submitters before measuring")
    parser.add_argument("--json", metavar="PATH", help="also write the results to PATH as JSON")
    arguments = parser.parse_args()
    result = measure(arguments)
    print(f"\n{result['machine']}; load average {result['load_average'][0]} before, {result['load_average'][1]} "
          f"after; commit {result['commit']}; {result['measured_at']}")
    print(f"gunicorn, 2 sync workers each, production settings, rate limits off; {result['clients']} clients x "
          f"{result['seconds']:g} s, {result['rounds']} round(s); a submission is {REQUESTS_PER_SUBMISSION} requests "
          f"(GET and POST, following redirects)\n")
    print(table(result))
    for database in result["databases"]:
        for example in database["pressdesk"]["error_examples"]:
            print(f"error ({database['database']}): {example}")
    if arguments.json:
        Path(arguments.json).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
