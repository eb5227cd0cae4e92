"""Benchmark: the indicators dashboard on years of data.

Not a test. Run from the project root:

    .venv/bin/python bench/bench_dashboard.py [--registrations 100000] [--products 50000] [--rounds 5]
    PRESSDESK_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/bench_dashboard.py

Seeds a throwaway SQLite file (and, when PRESSDESK_BENCH_DATABASE_URL is set, a throwaway
PostgreSQL database next to that URL's, dropped afterwards) with registrations spread over five
years (2022-2026) with their crews, itineraries (some places in border areas) and products with
languages, target countries and sectors, all by bulk Core inserts. Then it times, for a year and
for a quarter, `build_report` on its own and the full dashboard page (GET through the Flask test
client, logged in as an officer: form, report, template, charts), and the XLSX download.
Wall-clock best and median of the rounds, and the best CPU time of this process (with SQLite
the database works inside it; the machine is shared, so CPU time is the steadier figure). The
SQL statements of one report are counted too (on SQLite, with the BEGIN that app.database emits).
"""
from __future__ import annotations

import argparse
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


def login(client) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"email": "officer@bench.example", "password": PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 302, response.status_code


def timed(function, rounds: int) -> list[tuple[float, float]]:
    """(wall-clock seconds, CPU seconds of this process) of each round."""
    times = []
    for _ in range(rounds):
        wall, cpu = time.perf_counter(), time.process_time()
        function()
        times.append((time.perf_counter() - wall, time.process_time() - cpu))
    return times


def milliseconds(times: list[tuple[float, float]]) -> str:
    walls = [wall for wall, _cpu in times]
    return (f"best {min(walls) * 1000:6.0f} ms, median {statistics.median(walls) * 1000:6.0f} ms "
            f"(CPU of this process, best: {min(cpu for _wall, cpu in times) * 1000:6.0f} ms)")


def run(url: str, arguments) -> None:
    app = create_app({"TESTING": True, "SECRET_KEY": secrets.token_hex(16), "SQLALCHEMY_DATABASE_URI": url,
                      "RATELIMIT_STORAGE_URI": "memory://", "SESSION_COOKIE_SECURE": False,
                      "BASE_URL": "http://localhost", "UPLOAD_FOLDER": tempfile.mkdtemp(),
                      "PERMIT_KEYS_DIR": tempfile.mkdtemp()})
    with app.app_context():
        engine = db.engine
        print(f"\n== {engine.dialect.name} ({engine.url.render_as_string(hide_password=True)})")
        db.create_all()
        began = time.perf_counter()
        counts = seed(arguments.registrations, arguments.products)
        print(f"seeded in {time.perf_counter() - began:.1f} s: "
              + ", ".join(f"{count:,} {name}" for name, count in counts.items()))
        if engine.dialect.name == "postgresql":
            with engine.connect() as connection:
                connection.exec_driver_sql("ANALYZE")
                connection.commit()
        else:
            db.session.execute(sa.text("ANALYZE"))
            db.session.commit()

    statements = []

    def count_statement(*_args):
        statements.append(1)

    client = app.test_client()
    login(client)
    for name, period in (("year 2025", period_for("year", 2025)), ("quarter Q2 2025", period_for("quarter", 2025, 2))):
        with app.test_request_context():
            event.listen(engine, "before_cursor_execute", count_statement)
            report = build_report(period.start, period.end, "vi")
            event.remove(engine, "before_cursor_execute", count_statement)
            figures = {figure.key: figure.value for figure in report.figures}
            report_times = timed(lambda: build_report(period.start, period.end, "vi"), arguments.rounds)
            db.session.remove()
        query = {"kind": period.kind, "year": period.start.year}
        if period.kind == "quarter":
            query["number"] = (period.start.month - 1) // 3 + 1

        def page():
            response = client.get("/staff/indicators", query_string=query)
            assert response.status_code == 200, response.status_code

        def workbook():
            response = client.get("/staff/indicators.xlsx", query_string=query)
            assert response.status_code == 200, response.status_code

        page_times, xlsx_times = timed(page, arguments.rounds), timed(workbook, arguments.rounds)
        print(f"{name}: {figures['registrations_received']:,} received, {figures['delegations_hosted']:,} visits, "
              f"{figures['journalists_hosted']:,} journalists, {figures['products_published']:,} products; "
              f"{len(statements)} SQL statements per report")
        statements.clear()
        print(f"  build_report      {milliseconds(report_times)}")
        print(f"  dashboard page    {milliseconds(page_times)}")
        print(f"  XLSX download     {milliseconds(xlsx_times)}")
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--registrations", type=int, default=100_000)
    parser.add_argument("--products", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=5)
    arguments = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}, SQLAlchemy {sa.__version__}, "
          f"load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as directory:
        run(f"sqlite:///{Path(directory) / 'bench.db'}", arguments)
    server_url = os.environ.get("PRESSDESK_BENCH_DATABASE_URL")
    if server_url:
        with throwaway_postgres(server_url) as url:
            run(url, arguments)


if __name__ == "__main__":
    main()
