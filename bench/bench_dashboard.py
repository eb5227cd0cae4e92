"""Benchmark: the indicators dashboard on years of data, beside a bare 50-row table page.

Not a test. Run from the project root:

    .venv/bin/python bench/bench_dashboard.py [--registrations 100000] [--products 50000] [--rounds 5]
    PRESSDESK_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/bench_dashboard.py
    .venv/bin/python bench/bench_dashboard.py --json bench/.cache/dashboard.json   # for `make bench`

Seeds a throwaway SQLite file (and, when PRESSDESK_BENCH_DATABASE_URL is set, a throwaway
PostgreSQL database next to that URL's, dropped afterwards) with registrations spread over five
years (2022-2026) with their crews, itineraries (some places in border areas) and products with
languages, target countries and sectors, all by bulk Core inserts. `--sqlite PATH` and
`--postgres URL` use a database already seeded (bench/seed.py's cache) instead, read only.

Then, through the Flask test client logged in as an officer, in rounds that interleave every
page (so that the load of the shared machine falls on all of them alike): the anchor, a bare
50-row Jinja table page (`add_bare_page`: the site's layout and navbar, the same login and
session, no query of its own), the dashboard for the year 2025 and for its second quarter, and
the year's XLSX download; and `build_report` alone (no request). Each figure is the median of
the rounds (best too), with its ratio to the anchor's median, and the SQL statements of one
request (SQLAlchemy before_cursor_execute; on SQLite with the BEGIN that app.database emits).
`--json PATH` writes the same figures as JSON.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import secrets
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402
from sqlalchemy import event  # noqa: E402

from app import create_app, normalise_database_url  # noqa: E402
from app.auth.models import Role, User  # noqa: E402
from app.auth.passwords import hash_password  # noqa: E402
from app.extensions import db  # noqa: E402
from app.indicators.service import build_report, period_for  # noqa: E402
from app.outlets.models import CrewMember, CrewRole, MediaType, Outlet  # noqa: E402
from app.places.models import Place, PlaceKind  # noqa: E402
from app.products.models import (CaseStatus, Channel, CooperationType, Product, ProductStatus,  # noqa: E402
                                 ProductType, ReportState, SovereigntyCase, product_countries, product_languages,
                                 product_sectors)
from app.registrations.models import (ItineraryItem, Registration, RegistrationKind, Status,  # noqa: E402
                                      registration_crew)

PASSWORD = "bench horse battery staple"
FIRST_DAY, LAST_DAY = date(2022, 1, 1), date(2026, 12, 31)
CHUNK = 5_000
COUNTRIES = ["JP", "KR", "CN", "US", "FR", "DE", "GB", "AU", "TH", "KH", "LA", "SG", "IN", "RU", "IT", "ES", "CA",
             "NO", "SE", "NL"]
LANGUAGES = ["en", "ja", "ko", "zh", "fr", "de", "ru", "es", "th", "km", "vi"]
SECTORS = ["tourism", "agriculture", "industry", "border_trade", "culture", "investment"]
STATUS_WEIGHTS = {Status.completed: 55, Status.approved: 6, Status.refused: 8, Status.withdrawn: 5,
                  Status.revoked: 1, Status.superseded: 4, Status.in_review: 3, Status.submitted: 3,
                  Status.needs_info: 2, Status.draft: 13}
DECIDED = {Status.completed, Status.approved, Status.refused, Status.revoked, Status.superseded}


@contextmanager
def throwaway_postgres(base_url: str):
    base_url = normalise_database_url(base_url)
    name = f"pressdesk_bench_{os.getpid()}_{secrets.token_hex(3)}"
    admin = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield sa.engine.make_url(base_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def insert(table, rows: list[dict]) -> None:
    for first in range(0, len(rows), CHUNK):
        db.session.execute(sa.insert(table), rows[first:first + CHUNK])


def utc(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=timezone.utc)


def seed(registrations: int, products: int, seed_value: int = 2026) -> dict:
    """Bulk inserts of everything the indicators read; returns the row counts."""
    rng = random.Random(seed_value)
    span = (LAST_DAY - FIRST_DAY).days
    insert(User.__table__, [dict(email="officer@bench.example", full_name="Bench Officer", role=Role.officer,
                                 locale="vi", password_hash=hash_password(PASSWORD), active=True,
                                 email_confirmed_at=datetime.now(timezone.utc))])
    outlet_count, crew_per_outlet, place_count = 400, 10, 300
    insert(Outlet.__table__, [dict(id=number, name=f"Outlet {number}", country=rng.choice(COUNTRIES),
                                   media_type=rng.choice(list(MediaType)), is_resident_office=number % 7 == 0,
                                   created_at=datetime.now(timezone.utc))
                              for number in range(1, outlet_count + 1)])
    insert(CrewMember.__table__, [dict(id=number, outlet_id=(number - 1) // crew_per_outlet + 1,
                                       full_name=f"Journalist {number}", nationality=rng.choice(COUNTRIES),
                                       date_of_birth=date(1980, 1, 1), passport_number=f"P{number:07d}",
                                       passport_expiry=date(2030, 1, 1), role=rng.choice(list(CrewRole)),
                                       active=True, created_at=datetime.now(timezone.utc))
                                  for number in range(1, outlet_count * crew_per_outlet + 1)])
    insert(Place.__table__, [dict(id=number, code=f"P{number}", name_vi=f"Xã {number}", name_en=f"Commune {number}",
                                  kind=PlaceKind.commune, border_area=number % 7 == 0,
                                  border_country="KH" if number % 7 == 0 else None, active=True)
                             for number in range(1, place_count + 1)])

    statuses, weights = list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values())
    registration_rows, crew_rows, itinerary_rows = [], [], []
    for number in range(1, registrations + 1):
        status = rng.choices(statuses, weights)[0]
        outlet_id = rng.randint(1, outlet_count)
        submitted_on = FIRST_DAY + timedelta(days=rng.randrange(span))
        start = submitted_on + timedelta(days=rng.randint(8, 40))
        end = start + timedelta(days=rng.randint(0, 6))
        row = dict(id=number, reference=f"PD-{submitted_on.year}-{number:06d}", kind=rng.choice(list(RegistrationKind)),
                   outlet_id=outlet_id, status=status, start_date=start, end_date=end, has_drone=False,
                   revision=1, version=1, created_at=utc(submitted_on, 1), updated_at=utc(submitted_on, 2),
                   first_submitted_at=None, submitted_at=None, due_date=None, decided_at=None, revoked_at=None,
                   amends_id=None)
        if status is not Status.draft:
            row.update(first_submitted_at=utc(submitted_on, rng.randint(0, 23)), due_date=submitted_on + timedelta(7))
            row["submitted_at"] = row["first_submitted_at"]
        if status in DECIDED:
            row["decided_at"] = utc(submitted_on + timedelta(days=rng.randint(1, 12)), rng.randint(0, 23))
        if status is Status.revoked:
            row["revoked_at"] = utc(start + timedelta(days=rng.randint(-3, 3)), 5)
        if status is Status.withdrawn:
            row["updated_at"] = utc(submitted_on + timedelta(days=rng.randint(1, 5)), 3)
        if status is Status.approved and number > 1 and registration_rows[-1]["status"] is Status.superseded:
            row.update(amends_id=number - 1, revision=2)
        registration_rows.append(row)
        first_member = (outlet_id - 1) * crew_per_outlet + 1
        for member in rng.sample(range(first_member, first_member + crew_per_outlet), rng.randint(1, 4)):
            crew_rows.append(dict(registration_id=number, crew_member_id=member))
        for position in range(rng.randint(1, 4)):
            itinerary_rows.append(dict(registration_id=number, position=position, day=start,
                                       place_id=rng.randint(1, place_count), host_organisation="", activity="",
                                       interviewees=""))
    insert(Registration.__table__, registration_rows)
    insert(registration_crew, crew_rows)
    insert(ItineraryItem.__table__, itinerary_rows)

    product_rows, language_rows, country_rows, sector_rows = [], [], [], []
    for number in range(1, products + 1):
        published = FIRST_DAY + timedelta(days=rng.randrange(span)) if rng.random() > 0.03 else None
        product_rows.append(dict(
            id=number, title=f"Product {number}", outlet_id=rng.randint(1, outlet_count),
            registration_id=rng.randint(1, registrations) if rng.random() < 0.8 else None,
            type=rng.choice(list(ProductType)), channel=rng.choice(list(Channel)), publication_date=published,
            reach=rng.randint(100, 2_000_000) if rng.random() < 0.9 else None,
            contribution_vnd=rng.randrange(0, 50_000_000, 500_000) if rng.random() < 0.5 else None,
            cooperation_type=rng.choice(list(CooperationType)),
            status=rng.choices([ProductStatus.published, ProductStatus.evaluated, ProductStatus.planned],
                               [70, 20, 10])[0],
            report_state=rng.choices([None, ReportState.accepted, ReportState.reported], [80, 15, 5])[0],
            summary="", created_at=datetime.now(timezone.utc), updated_at=datetime.now(timezone.utc), version=1))
        for code in rng.sample(LANGUAGES, rng.randint(1, 2)):
            language_rows.append(dict(product_id=number, code=code))
        for code in rng.sample(COUNTRIES, rng.randint(1, 3)):
            country_rows.append(dict(product_id=number, code=code))
        for code in rng.sample(SECTORS, rng.randint(0, 2)):
            sector_rows.append(dict(product_id=number, code=code))
    insert(Product.__table__, product_rows)
    insert(product_languages, language_rows)
    insert(product_countries, country_rows)
    insert(product_sectors, sector_rows)
    case_rows = [dict(product_id=rng.randint(1, products), title="Map", finding="Islands missing",
                      detected_on=FIRST_DAY + timedelta(days=rng.randrange(span)),
                      status=rng.choice(list(CaseStatus)), steps_taken="", version=1,
                      created_at=datetime.now(timezone.utc), updated_at=datetime.now(timezone.utc))
                 for _ in range(max(products // 200, 1))]
    insert(SovereigntyCase.__table__, case_rows)
    db.session.commit()
    return {"registrations": len(registration_rows), "crew rows": len(crew_rows),
            "itinerary items": len(itinerary_rows), "products": len(product_rows),
            "product languages": len(language_rows), "product countries": len(country_rows),
            "product sectors": len(sector_rows), "sovereignty cases": len(case_rows)}


# --- the anchor: a bare 50-row Jinja table page -----------------------------------

BARE_PAGE_PATH = "/bench/bare-table"
BARE_PAGE_ROWS = 50
# One table of 50 rows and 6 columns in a page of its own (not base.html: the navbar's worklist
# counts are work of their own, which the staff pages pay and the anchor must not), rendered by
# Jinja from rows the view gives (no query), behind the same staff check as the dashboard (the
# session and the user's row are loaded as for any staff page): what a staff list page costs
# before it asks the database anything. Compiled once, as Flask compiles a template file once.
BARE_PAGE_TEMPLATE = """<!doctype html>
<html lang="vi">
<head><meta charset="utf-8"><title>Bare table</title>
<link rel="stylesheet" href="{{ url_for('static', filename='css/pressdesk.css') }}"></head>
<body><main class="container">
<h1 class="h3">Bare table</h1>
<table class="table table-sm">
  <thead><tr><th>Reference</th><th>Outlet</th><th>Status</th><th>Programme</th><th>Due</th><th>Officer</th></tr></thead>
  <tbody>
  {% for row in rows %}
  <tr><td><a href="#r{{ row.number }}">{{ row.reference }}</a></td><td>{{ row.outlet }}</td><td>{{ row.status }}</td>
      <td>{{ row.start|day }} – {{ row.end|day }}</td><td>{{ row.due|day }}</td><td>{{ row.officer }}</td></tr>
  {% endfor %}
  </tbody>
</table>
</main></body>
</html>
"""


def add_bare_page(app) -> str:
    """Add the anchor page to `app` (before its first request) and return its path.

    Behind the same staff check as the dashboard (so the session and the user's row are loaded
    as for any staff page), it renders BARE_PAGE_TEMPLATE with 50 rows built in Python: no query
    of its own. Other benchmarks import it so that every ratio has the same denominator.
    """
    from flask import render_template

    from app.auth.permissions import roles_required

    template = app.jinja_env.from_string(BARE_PAGE_TEMPLATE)
    rows = [dict(number=number, reference=f"PD-2025-{number:06d}", outlet=f"Outlet {number}",
                 status="Đang thẩm định", start=date(2025, 6, 1) + timedelta(days=number),
                 end=date(2025, 6, 3) + timedelta(days=number), due=date(2025, 5, 20) + timedelta(days=number),
                 officer="Bench Officer") for number in range(1, BARE_PAGE_ROWS + 1)]

    @roles_required(Role.officer, Role.leader)
    def bare_table():
        return render_template(template, rows=rows)

    app.add_url_rule(BARE_PAGE_PATH, "bench_bare_table", bare_table)
    return BARE_PAGE_PATH


def login(client, email: str = "officer@bench.example", password: str = PASSWORD) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"email": email, "password": password, "csrf_token": token})
    assert response.status_code == 302, response.status_code


@contextmanager
def counting_statements(engine):
    """A list that receives one item per SQL statement sent while the block runs."""
    statements: list[str] = []

    def count(_connection, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def summary(walls: list[float], cpus: list[float]) -> dict:
    return {"median_ms": round(statistics.median(walls) * 1000, 2), "best_ms": round(min(walls) * 1000, 2),
            "cpu_best_ms": round(min(cpus) * 1000, 2), "rounds": len(walls)}


def time_pages(engine, pages, rounds: int) -> tuple[dict, dict, dict]:
    """Time `pages` ((key, label, function) each) in interleaved rounds, so that the shared
    machine's load falls on all of them alike, after a warm-up that counts each one's statements.
    Returns ({key: statements}, {key: [wall seconds]}, {key: [CPU seconds]})."""
    statements = {}
    for key, _label, function in pages:
        with counting_statements(engine) as sent:
            function()
        statements[key] = len(sent)
    walls = {key: [] for key, _label, _function in pages}
    cpus = {key: [] for key, _label, _function in pages}
    for _round in range(rounds):
        for key, _label, function in pages:
            wall, cpu = time.perf_counter(), time.process_time()
            function()
            walls[key].append(time.perf_counter() - wall)
            cpus[key].append(time.process_time() - cpu)
    return statements, walls, cpus


def bench_app(url: str | None, **config):
    """An app on `url` for a page benchmark: test settings (rate limits in memory, no secure cookie),
    throwaway upload and key folders, `config` on top."""
    return create_app({"TESTING": True, "SECRET_KEY": secrets.token_hex(16), "SQLALCHEMY_DATABASE_URI": url,
                       "RATELIMIT_STORAGE_URI": "memory://", "SESSION_COOKIE_SECURE": False,
                       "BASE_URL": "http://localhost", "UPLOAD_FOLDER": tempfile.mkdtemp(),
                       "PERMIT_KEYS_DIR": tempfile.mkdtemp(), **config})


def run(url: str | None, arguments, seeded: bool = False) -> dict:
    """Seed `url` (unless `seeded`), time every page in interleaved rounds; returns the figures."""
    app = bench_app(url)
    bare_path = add_bare_page(app)
    result: dict = {}
    with app.app_context():
        engine = db.engine
        result["database"] = engine.dialect.name
        print(f"\n== {engine.dialect.name} ({engine.url.render_as_string(hide_password=True)})")
        if not seeded:
            db.create_all()
            began = time.perf_counter()
            counts = seed(arguments.registrations, arguments.products)
            print(f"seeded in {time.perf_counter() - began:.1f} s: "
                  + ", ".join(f"{count:,} {name}" for name, count in counts.items()))
            if engine.dialect.name == "postgresql":
                # VACUUM too, as autovacuum does soon after bulk inserts: without the visibility map
                # every index-only scan of the link tables visits the heap (the visits' crew join
                # took 1.5-2x as long on the freshly seeded database).
                with sa.create_engine(engine.url, isolation_level="AUTOCOMMIT").connect() as connection:
                    connection.exec_driver_sql("VACUUM ANALYZE")
            else:
                db.session.execute(sa.text("ANALYZE"))
                db.session.commit()
        result["registrations"] = db.session.scalar(sa.select(sa.func.count()).select_from(Registration))
        result["products"] = db.session.scalar(sa.select(sa.func.count()).select_from(Product))
        db.session.remove()

    year, quarter = period_for("year", 2025), period_for("quarter", 2025, 2)
    client = app.test_client()
    login(client)

    def get(path, query=None):
        def request():
            response = client.get(path, query_string=query)
            assert response.status_code == 200, (path, response.status_code)
        return request

    def report_alone(period):
        def build():
            with app.app_context():
                build_report(period.start, period.end, "vi")
                db.session.remove()
        return build

    # (key, label, what is timed); the anchor first, and the ratio of each to it.
    pages = [("bare_page", "bare 50-row page (anchor)", get(bare_path)),
             ("dashboard_year", "dashboard, year 2025", get("/staff/indicators", {"kind": "year", "year": 2025})),
             ("dashboard_quarter", "dashboard, Q2 2025",
              get("/staff/indicators", {"kind": "quarter", "year": 2025, "number": 2})),
             ("xlsx_year", "XLSX download, year 2025",
              get("/staff/indicators.xlsx", {"kind": "year", "year": 2025})),
             ("report_year", "build_report alone, year 2025", report_alone(year)),
             ("report_quarter", "build_report alone, Q2 2025", report_alone(quarter))]
    statements, walls, cpus = time_pages(engine, pages, arguments.rounds)

    with app.app_context():
        figures = {}
        for name, period in (("year", year), ("quarter", quarter)):
            report = build_report(period.start, period.end, "vi")
            figures[name] = {figure.key: figure.value for figure in report.figures}
            db.session.remove()
        engine.dispose()
    anchor = statistics.median(walls["bare_page"])
    result["pages"] = {}
    for key, label, _function in pages:
        figure = summary(walls[key], cpus[key])
        figure.update(label=label, statements=statements[key],
                      ratio=round(statistics.median(walls[key]) / anchor, 1))
        result["pages"][key] = figure
    result["figures"] = figures
    for name in ("year", "quarter"):
        values = figures[name]
        print(f"{name}: {values['registrations_received']:,} received, {values['delegations_hosted']:,} visits, "
              f"{values['journalists_hosted']:,} journalists, {values['products_published']:,} products, "
              f"processing median {values['processing_median']}, p90 {values['processing_p90']}")
    print(f"{'page':<34}{'median':>10}{'best':>10}{'CPU best':>10}{'statements':>12}{'x anchor':>10}")
    for key, figure in result["pages"].items():
        print(f"{figure['label']:<34}{figure['median_ms']:>8.1f}ms{figure['best_ms']:>8.1f}ms"
              f"{figure['cpu_best_ms']:>8.1f}ms{figure['statements']:>12}{figure['ratio']:>9.1f}x")
    return result


def run_on_databases(name: str, run, arguments, *, sqlite: bool = True) -> None:
    """`run(url, arguments, seeded=...)` on SQLite (the --sqlite seed, or one seeded in a temporary
    folder; not when `sqlite` is false) and on PostgreSQL (the --postgres seed, or a throwaway database
    next to PRESSDESK_BENCH_DATABASE_URL), between two load averages; the figures to --json."""
    load = os.getloadavg()[0]
    machine = (f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
               f"Python {platform.python_version()}, SQLAlchemy {sa.__version__}")
    print(f"machine: {machine}, load average {load:.1f}")
    output = {"benchmark": name, "machine": machine, "load_average_start": round(load, 2),
              "rounds": arguments.rounds, "databases": []}
    if arguments.sqlite:
        output["databases"].append(run(f"sqlite:///{Path(arguments.sqlite).resolve()}", arguments, seeded=True))
    elif sqlite:
        with tempfile.TemporaryDirectory() as directory:
            output["databases"].append(run(f"sqlite:///{Path(directory) / 'bench.db'}", arguments))
    if arguments.postgres:
        output["databases"].append(run(normalise_database_url(arguments.postgres), arguments, seeded=True))
    elif os.environ.get("PRESSDESK_BENCH_DATABASE_URL"):
        with throwaway_postgres(os.environ["PRESSDESK_BENCH_DATABASE_URL"]) as url:
            output["databases"].append(run(url, arguments))
    output["load_average_end"] = round(os.getloadavg()[0], 2)
    print(f"load average at the end {output['load_average_end']:.1f}")
    if arguments.json:
        Path(arguments.json).parent.mkdir(parents=True, exist_ok=True)
        Path(arguments.json).write_text(json.dumps(output, indent=2, ensure_ascii=False, default=str) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--registrations", type=int, default=100_000)
    parser.add_argument("--products", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--sqlite", metavar="PATH", help="an SQLite file already seeded: no seeding")
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL database already seeded: no seeding "
                                                          "(instead of PRESSDESK_BENCH_DATABASE_URL)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON to PATH")
    arguments = parser.parse_args()
    run_on_databases("bench_dashboard", run, arguments)


if __name__ == "__main__":
    main()
