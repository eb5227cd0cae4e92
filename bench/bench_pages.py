"""Benchmark: the staff queue and the registration page on the large seed, beside a bare page.

Not a test. Run from the project root:

    .venv/bin/python bench/bench_pages.py                     # the 100,000-registration seed, 5 rounds
    .venv/bin/python bench/bench_pages.py --registrations 2000 --products 1000 --rounds 2
    .venv/bin/python bench/bench_pages.py --only search --json /tmp/pages.json

On the cached seed (bench/seed.py: SQLite, and PostgreSQL when its server answers), in this
process, with the Flask test client of an app in production settings (templates cached, no
debug, CSRF on; rate limits off), logged in as the officer officer@bench.example, it GETs: the
staff queue /staff/registrations by default (open dossiers, by deadline), with each filter
(status, kind, nationality, programme dates, border areas, assigned to me, overdue, due soon),
with each sort (deadline, newest submission, programme start, reference) and three searches (a
reference, an outlet name, a crew member's name typed without diacritics, and the same name with
them), and the registration page /registrations/<id> of an open dossier of that officer (four crew
members and four places at most: bench_dashboard's seed has no messages, notes or documents).

Anchor: the bare 50-row Jinja table page of bench_dashboard.py (`add_bare_page`: the site's layout
and navbar behind the same staff check and session, 50 rows built in Python, no query of its
own), added to each database's app: the denominator of every page benchmark of `make bench`. In
each round, every page is measured once on each database right after one GET of that database's
anchor, the databases in alternating order; each figure is the median of the rounds (the
anchor's median over all its GETs), and the ratio is page / anchor on the same database in the
same run. Statements: every SQL statement one GET sends (SQLAlchemy before_cursor_execute; on
SQLite with the BEGIN that app.database emits, as bench_dashboard.py counts), from the last
round. "rows": registrations linked from the page (distinct /registrations/<id> links), to see
that a search found something.

Targets (issue "Speed and scale"): at most 3x the bare page on PostgreSQL and 5x on SQLite, with a
number of statements that does not grow with the data or the page size.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

import seed as bench_seed  # noqa: E402
from bench_dashboard import login  # noqa: E402

try:  # the anchor every benchmark of `make bench` divides by (bench_dashboard.py's)
    from bench_dashboard import add_bare_page  # noqa: E402
except ImportError:  # an older bench_dashboard.py: the same page, defined here
    from anchors import add_bare_page  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"sqlite": 5.0, "postgresql": 3.0}
REGISTRATION_LINK = re.compile(r'href="/registrations/(\d+)"')


@dataclass
class Page:
    label: str
    path: str
    group: str  # queue, search, registration page: the target that applies


@dataclass
class Measured:
    times: list[float] = field(default_factory=list)
    statements: int = 0
    rows: int | None = None

    @property
    def median_ms(self) -> float:
        return statistics.median(self.times) * 1000


def git_commit() -> str:
    try:
        return subprocess.run(["git", "log", "-1", "--format=%h %cI %s"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def pick(app) -> dict:
    """What the page list needs from the seed: an open dossier of the bench officer (the one with the
    most crew members and places among the first), its reference, a crew member's name."""
    from app.auth.models import User
    from app.extensions import db
    from app.outlets.models import CrewMember
    from app.registrations.models import ItineraryItem, Registration, Status, registration_crew

    with app.app_context():
        officer = db.session.scalar(sa.select(User.id).where(User.email == "officer@bench.example"))
        crew_count = (sa.select(sa.func.count()).where(registration_crew.c.registration_id == Registration.id)
                      .scalar_subquery())
        places = (sa.select(sa.func.count()).where(ItineraryItem.registration_id == Registration.id)
                  .scalar_subquery())
        registration = db.session.execute(
            sa.select(Registration.id, Registration.reference)
            .where(Registration.status == Status.in_review, Registration.assigned_officer_id == officer)
            .order_by((crew_count + places).desc(), Registration.id).limit(1)).one()
        name = db.session.scalar(sa.select(CrewMember.full_name).where(CrewMember.full_name.like("Nguyễn Văn %"))
                                 .order_by(CrewMember.id).limit(1)) or "Nguyễn Văn An"
        db.session.remove()
    return {"registration_id": registration.id, "reference": registration.reference, "name": name}


def pages(picked: dict) -> list[Page]:
    from urllib.parse import quote_plus

    try:
        from app.search import fold
    except ImportError:  # a tree without accent-blind search (measuring an older commit)
        import unicodedata

        def fold(text: str) -> str:
            bare = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "d"))
            return "".join(char for char in bare if not unicodedata.combining(char)).casefold()

    queue = "/staff/registrations"
    return [
        Page("queue, default (open, by deadline)", queue, "queue"),
        Page("filter: status closed", f"{queue}?status=closed", "queue"),
        Page("filter: status all but drafts", f"{queue}?status=all", "queue"),
        Page("filter: kind resident", f"{queue}?kind=resident", "queue"),
        Page("filter: nationality JP", f"{queue}?nationality=JP", "queue"),
        Page("filter: programme dates (a month)", f"{queue}?status=all&date_from=2025-06-01&date_to=2025-06-30",
             "queue"),
        Page("filter: border areas only", f"{queue}?border=y", "queue"),
        Page("filter: assigned to me", f"{queue}?mine=y", "queue"),
        Page("filter: overdue", f"{queue}?due=overdue", "queue"),
        Page("filter: due within 2 working days", f"{queue}?due=soon", "queue"),
        Page("sort: deadline", f"{queue}?sort=due", "queue"),
        Page("sort: newest submission", f"{queue}?sort=submitted", "queue"),
        Page("sort: programme start", f"{queue}?sort=start", "queue"),
        Page("sort: reference", f"{queue}?sort=reference", "queue"),
        Page("sort: newest submission, all but drafts", f"{queue}?status=all&sort=submitted", "queue"),
        Page("search: a reference", f"{queue}?q={quote_plus(picked['reference'])}", "search"),
        Page("search: an outlet name", f"{queue}?q={quote_plus('Outlet 123')}", "search"),
        Page(f"search: a crew name without diacritics ({fold(picked['name'])})",
             f"{queue}?q={quote_plus(fold(picked['name']))}", "search"),
        Page(f"search: the same name with diacritics ({picked['name']})",
             f"{queue}?q={quote_plus(picked['name'])}", "search"),
        Page("search: all but drafts, a crew name without diacritics",
             f"{queue}?status=all&q={quote_plus(fold(picked['name']))}", "search"),
        Page("registration page (staff)", f"/registrations/{picked['registration_id']}", "registration page"),
    ]


class Database:
    """One seed, one app in production settings, one logged-in test client, a statement counter."""

    def __init__(self, seed: bench_seed.Seed, folder: str):
        from app import create_app
        from app.extensions import db

        self.seed = seed
        self.app = create_app(bench_seed.app_config(seed.url, folder))
        self.anchor_path = add_bare_page(self.app)
        bench_seed.open_seed(self.app)
        with self.app.app_context():
            self.engine = db.engine
        self.counting, self.statements, self.thread = False, [], threading.get_ident()
        sa.event.listen(self.engine, "before_cursor_execute", self._count)
        self.client = self.app.test_client()
        login(self.client)

    def _count(self, _connection, _cursor, statement, *_args):
        if self.counting and threading.get_ident() == self.thread:
            self.statements.append(statement)

    def get(self, path: str) -> tuple[float, int, str]:
        self.statements.clear()
        self.counting = True
        began = time.perf_counter()
        response = self.client.get(path)
        body = response.get_data(as_text=True)
        elapsed = time.perf_counter() - began
        self.counting = False
        if response.status_code != 200:
            raise SystemExit(f"{self.seed.dialect}: GET {path} answered {response.status_code} "
                             f"({response.headers.get('Location', '')}): {body[:300]!r}")
        return elapsed, len(self.statements), body

    def close(self) -> None:
        from app.extensions import db

        sa.event.remove(self.engine, "before_cursor_execute", self._count)
        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()


def measure(arguments) -> dict:
    seeds, missing = bench_seed.ensure(arguments)
    with tempfile.TemporaryDirectory() as folder:
        databases = [Database(seed, folder) for seed in seeds]
        picked = pick(databases[0].app)
        page_list = [page for page in pages(picked) if not arguments.only
                     or any(word.lower() in page.label.lower() for word in arguments.only)]
        results = {page.label: {database.seed.dialect: Measured() for database in databases} for page in page_list}
        anchors = {database.seed.dialect: Measured() for database in databases}
        for database in databases:  # warm up: templates, first queries, caches of every kind
            for path in [database.anchor_path] * 3 + [page.path for page in page_list]:
                database.get(path)
        load_before = os.getloadavg()
        for number in range(arguments.rounds):
            order = databases if number % 2 == 0 else databases[::-1]
            for page in page_list:
                for database in order:
                    elapsed, statements, _body = database.get(database.anchor_path)
                    anchors[database.seed.dialect].times.append(elapsed)
                    anchors[database.seed.dialect].statements = statements
                    elapsed, statements, body = database.get(page.path)
                    measured = results[page.label][database.seed.dialect]
                    measured.times.append(elapsed)
                    measured.statements = statements
                    if page.group != "registration page":
                        measured.rows = len(set(REGISTRATION_LINK.findall(body)))
            print(f"round {number + 1}/{arguments.rounds} done", file=sys.stderr, flush=True)
        load_after = os.getloadavg()
        for database in databases:
            database.close()
    return {
        "bench": "bench_pages", "commit": git_commit(), "measured_at": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "machine": f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
                   f"Python {platform.python_version()}, SQLAlchemy {sa.__version__}",
        "load_average": [round(load_before[0], 2), round(load_after[0], 2)], "rounds": arguments.rounds,
        "seeds": [{"database": seed.dialect, "name": seed.url.rsplit("/", 1)[-1], "how": seed.how,
                   "counts": seed.counts} for seed in seeds],
        "postgresql_missing": missing,
        "anchor": {"page": "bare 50-row Jinja table page (bench_dashboard.add_bare_page)",
                   **{dialect: {"median_ms": round(measured.median_ms, 2),
                                "best_ms": round(min(measured.times) * 1000, 2),
                                "statements": measured.statements} for dialect, measured in anchors.items()}},
        "pages": [{"page": page.label, "path": page.path, "group": page.group,
                   **{dialect: {"median_ms": round(measured.median_ms, 2), "statements": measured.statements,
                                "ratio": round(measured.median_ms / anchors[dialect].median_ms, 2),
                                "rows": measured.rows, "target_ratio": TARGETS[dialect],
                                "met": measured.median_ms / anchors[dialect].median_ms <= TARGETS[dialect]}
                      for dialect, measured in results[page.label].items()}}
                  for page in page_list],
    }


def table(result: dict) -> str:
    """The Markdown table of a result (also used by run.py)."""
    lines = ["| page | rows | SQLite ms | statements | ratio | PostgreSQL ms | statements | ratio | target |",
             "|---|---|---|---|---|---|---|---|---|"]
    cells = []
    for dialect in ("sqlite", "postgresql"):
        anchor = result["anchor"].get(dialect)
        cells.append("not measured | | " if anchor is None
                     else f"{anchor['median_ms']:.1f} | {anchor['statements']} | 1")
    lines.append(f"| bare 50-row Jinja table page (anchor) | 50 | {cells[0]} | {cells[1]} | |")
    for page in result["pages"]:
        cells = []
        for dialect in ("sqlite", "postgresql"):
            if dialect not in page:
                cells.append("not measured | | ")
                continue
            figures = page[dialect]
            mark = "" if figures["met"] else " ✗"
            cells.append(f"{figures['median_ms']:.1f} | {figures['statements']} | {figures['ratio']:.1f}x{mark}")
        rows = page.get("sqlite", {}).get("rows")
        lines.append(f"| {page['page']} | {'' if rows is None else rows} | {cells[0]} | {cells[1]} | "
                     f"≤ {TARGETS['sqlite']:g}x / ≤ {TARGETS['postgresql']:g}x |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    bench_seed.add_arguments(parser)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", nargs="*", help="only the pages whose label contains one of these words")
    parser.add_argument("--json", metavar="PATH", help="also write the results to PATH as JSON")
    arguments = parser.parse_args()
    result = measure(arguments)
    print(f"\n{result['machine']}; load average {result['load_average'][0]} before, {result['load_average'][1]} "
          f"after; commit {result['commit']}; {result['measured_at']}")
    print("seeds: " + "; ".join(f"{seed['database']} {seed['name']} ({seed['how']})" for seed in result["seeds"]))
    if result["postgresql_missing"]:
        print(result["postgresql_missing"])
    print(f"Flask test client, production settings, logged in as an officer; median of {result['rounds']} rounds, "
          f"interleaved with the anchor; ✗: target not met\n")
    print(table(result))
    if arguments.json:
        Path(arguments.json).write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
