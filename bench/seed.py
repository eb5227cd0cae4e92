"""The large data set of `make bench`, seeded once and cached between runs.

Not a test. Run from the project root (bench/run.py calls it first):

    .venv/bin/python bench/seed.py                       # 100,000 registrations, 50,000 products
    .venv/bin/python bench/seed.py --registrations 2000 --products 1000 --reseed
    .venv/bin/python bench/seed.py --postgres-url none   # SQLite only

What is seeded: bench_dashboard.py's `seed()` (imported, not copied: 400 outlets, 4,000 crew
members, 300 places, registrations over 2022-2026 in every state with crews and itineraries,
products, sovereignty cases), then what the staff pages and the write load need on top of it:
Vietnamese crew names (so that an accent-blind search has something to find), six officers with
the registrations assigned among them, due dates of the open registrations around today, and
`--submitters` correspondents (20), each with an outlet of their own and two crew members with a
photo on file, who can submit a complete registration (bench_submit.py).

Where it is kept:
- SQLite: bench/.cache/seed-<size>-<hash>.sqlite (bench/.cache/ is not in git);
- PostgreSQL: a database `pressdesk_bench_seed_<size>_<hash>` on the server of `--postgres-url`
  (default postgresql://postgres@127.0.0.1:5432/postgres), kept between runs.
<hash> covers the seed parameters, the schema (alembic head and the models' DDL), the source of
the seeding functions and the data key (bench/.cache/data-key.json: passport numbers are
encrypted with it, so a seed is only readable with its key). When the hash changes, the data set
is built again and the older seeds of that size are removed (<size>, e.g. r100000p50000s20, keeps a
trial run's small seed from replacing the large one); `--reseed` forces it. A seed is
used only once its last step wrote `complete` in its `bench_seed_info` table (an interrupted
seed is built again).

Schema: `db.create_all()` from the models, not the migrations. The code measured is the code of
the working tree: while a change of the models waits for its migration (several people work at
once), create_all still builds what the code reads, and
tests/test_database.py::test_migrations_build_exactly_the_models_schema holds the migrations to
exactly that schema (PostgreSQL's pg_trgm extension included: app/search.py creates it for
create_all). The alembic head is in the hash all the same, so a new migration rebuilds the seed.

Due dates move with the calendar: each time a seed is opened on a new day (`open_seed`), the
open registrations' deadlines are set again around today (a third overdue, some within two
working days), so that the deadline filters find what they would on a busy day.
"""
from __future__ import annotations

import argparse
import hashlib
import inspect
import json
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

import bench_dashboard  # noqa: E402  (its seed() is the data set; another helper owns that file)

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / ".cache"
KEY_FILE = CACHE / "data-key.json"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
# Only databases of this script are ever dropped (others' throwaways are left alone);
# PRESSDESK_BENCH_SEED_PREFIX keeps the seeds of another tree (an older commit measured) apart.
DATABASE_PREFIX = os.environ.get("PRESSDESK_BENCH_SEED_PREFIX", "pressdesk_bench_seed_")
PASSWORD = bench_dashboard.PASSWORD
OFFICERS = 6  # officer@bench.example (bench_dashboard's) and officer2..officer6
SEED_FORMAT = 1  # bump when what this file seeds changes in a way its source hash would miss
OPEN = ("submitted", "in_review", "needs_info")

# Vietnamese names, as a passport prints them (with diacritics): family, middle, given.
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô",
          "Dương", "Lý"]
MIDDLE = ["Văn", "Thị", "Hữu", "Đức", "Minh", "Thanh", "Quốc", "Ngọc", "Xuân", "Thu"]
GIVEN = ["An", "Bình", "Cường", "Dũng", "Đạt", "Giang", "Hà", "Hải", "Hạnh", "Hiếu", "Hòa", "Hùng", "Hương", "Khánh",
         "Lan", "Linh", "Long", "Mai", "Nam", "Nga", "Phúc", "Quân", "Sơn", "Tâm", "Thảo", "Trang", "Tuấn", "Vy"]

info_metadata = sa.MetaData()
seed_info = sa.Table("bench_seed_info", info_metadata, sa.Column("key", sa.String(40), primary_key=True),
                     sa.Column("value", sa.Text, nullable=False))


@dataclass
class Seed:
    """One cached data set, ready to open."""

    dialect: str
    url: str
    fingerprint: str
    built_seconds: float | None  # None: taken from the cache
    counts: dict

    @property
    def how(self) -> str:
        return "cached" if self.built_seconds is None else f"seeded in {self.built_seconds:.0f} s"


def parameters(arguments) -> dict:
    return {"registrations": arguments.registrations, "products": arguments.products,
            "submitters": arguments.submitters, "seed": 2026, "format": SEED_FORMAT}


def size_tag(arguments) -> str:
    """In the seed's name, so that a small seed (a trial run) does not replace the large one."""
    return f"r{arguments.registrations}p{arguments.products}s{arguments.submitters}"


def ensure_key_file() -> None:
    from app.privacy.crypto import create_key_file

    if not KEY_FILE.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        create_key_file(KEY_FILE)


def fingerprint(params: dict) -> str:
    """12 hex digits of SHA-256 over everything that makes a seed what it is."""
    from alembic.script import ScriptDirectory
    from sqlalchemy.dialects import postgresql, sqlite
    from sqlalchemy.schema import CreateIndex, CreateTable

    from app.extensions import db

    import app  # noqa: F401  (the models register on db.metadata when the app package's areas import)

    ensure_key_file()
    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode())
    digest.update(str(ScriptDirectory(str(ROOT / "migrations")).get_heads()).encode())
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        for table in db.metadata.sorted_tables:
            digest.update(str(CreateTable(table).compile(dialect=dialect)).encode())
            for index in sorted(table.indexes, key=lambda index: index.name or ""):
                digest.update(str(CreateIndex(index).compile(dialect=dialect)).encode())
    for function in (bench_dashboard.seed, add_bench_people, _assign_officers):
        digest.update(inspect.getsource(function).encode())
    digest.update(KEY_FILE.read_bytes())
    return digest.hexdigest()[:12]


def _import_models() -> None:
    """Every model on db.metadata (create_app imports the areas; the fingerprint needs them before)."""
    from app import create_app

    create_app(app_config("sqlite://", tempfile.gettempdir(), testing=True))


def app_config(url: str, folder: str, *, testing: bool = False) -> dict:
    """Production settings (as gunicorn would run them) for a process of the benchmark, on `url`:
    sessions over plain http on loopback, rate limits off, mail to a port where nothing listens (the
    outbox is not worked in a benchmark), files in `folder`, the seed's data key."""
    from bench_outbox_hang import free_port

    return {"ENV_NAME": "production", "TESTING": testing, "SECRET_KEY": "bench-" + hashlib.sha256(
                folder.encode()).hexdigest(), "SQLALCHEMY_DATABASE_URI": url,
            "BASE_URL": "http://127.0.0.1", "ALLOW_INSECURE_BASE_URL": True, "SESSION_COOKIE_SECURE": False,
            "RATELIMIT_ENABLED": False, "RATELIMIT_STORAGE_URI": "memory://",
            "UPLOAD_FOLDER": f"{folder}/uploads", "PERMIT_KEYS_DIR": f"{folder}/permit-keys",
            "BACKUP_FOLDER": f"{folder}/backups", "DATA_KEY_FILE": str(KEY_FILE),
            "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": free_port()}


def environment(url: str, folder: str) -> dict:
    """The same settings as PRESSDESK_* variables, for gunicorn."""
    settings = app_config(url, folder)
    settings.pop("TESTING")
    return {f"PRESSDESK_{key}": value if isinstance(value, str) else json.dumps(value)
            for key, value in settings.items()}


# --- seeding ----------------------------------------------------------------------------------

def add_bench_people(submitters: int, rng: random.Random) -> dict:
    """On top of bench_dashboard.seed(): officers, Vietnamese crew names, and the submitters."""
    from app.auth.models import Role, User
    from app.auth.passwords import hash_password
    from app.extensions import db
    from app.outlets.models import CrewMember, CrewRole, MediaType, Outlet
    from app.privacy.notice import current_notice_version

    now = datetime.now(timezone.utc)
    password_hash = hash_password(PASSWORD)  # one scrypt for every account: the same password
    insert = bench_dashboard.insert
    insert(User.__table__, [dict(email=f"officer{number}@bench.example", full_name=f"Bench Officer {number}",
                                 role=Role.officer, locale="vi", password_hash=password_hash, active=True,
                                 email_confirmed_at=now) for number in range(2, OFFICERS + 1)])
    crew = db.session.execute(sa.select(CrewMember.id).order_by(CrewMember.id)).scalars().all()
    db.session.execute(sa.update(CrewMember.__table__).where(CrewMember.__table__.c.id == sa.bindparam("row_id"))
                       .values(full_name=sa.bindparam("name")),
                       [{"row_id": member, "name": f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"}
                        for member in crew])
    first_outlet = (db.session.scalar(sa.select(sa.func.max(Outlet.id))) or 0) + 1
    first_member = (db.session.scalar(sa.select(sa.func.max(CrewMember.id))) or 0) + 1
    outlets = [first_outlet + number for number in range(submitters)]
    insert(Outlet.__table__, [dict(id=outlet, name=f"Submitter Outlet {number + 1}", country="JP",
                                   media_type=MediaType.television, is_resident_office=False, created_at=now)
                              for number, outlet in enumerate(outlets)])
    insert(CrewMember.__table__, [dict(
        id=first_member + 2 * number + position, outlet_id=outlet, full_name=f"Submitter {number + 1} Crew {position}",
        nationality="JP", date_of_birth=date(1985, 5, 5), passport_number=f"S{number:03d}{position}0000",
        passport_expiry=date(2036, 1, 1), role=CrewRole.reporter if position == 0 else CrewRole.camera_operator,
        photo_stored_name=f"2026/01/{number:016x}{position:016x}.jpg", photo_content_type="image/jpeg",
        active=True, created_at=now) for number, outlet in enumerate(outlets) for position in range(2)])
    version = current_notice_version()
    insert(User.__table__, [dict(email=submitter_email(number), full_name=f"Submitter {number + 1}",
                                 role=Role.correspondent, locale="en", password_hash=password_hash, active=True,
                                 email_confirmed_at=now, outlet_id=outlet, privacy_notice_version=version,
                                 privacy_consented_at=now) for number, outlet in enumerate(outlets)])
    _assign_officers()
    return {"officers": OFFICERS, "submitters": submitters}


def submitter_email(number: int) -> str:
    return f"submitter{number + 1:02d}@bench.example"


def _assign_officers() -> None:
    """Every registration past submission has one of the officers (in turn, by id): the queue's
    "assigned to me" filter finds a sixth of them."""
    from app.auth.models import Role, User
    from app.extensions import db
    from app.registrations.models import Registration, Status

    officers = db.session.scalars(sa.select(User.id).where(User.role == Role.officer).order_by(User.id)).all()
    table = Registration.__table__
    db.session.execute(sa.update(table).where(table.c.status.not_in([Status.draft, Status.submitted]))
                       .values(assigned_officer_id=sa.case(*[(table.c.id % len(officers) == number, officer)
                                                             for number, officer in enumerate(officers)])))


def refresh_due_dates(today: date) -> int:
    """The open registrations' deadlines around `today`, by id: 8 days overdue to 15 ahead (a third overdue)."""
    from app.extensions import db
    from app.registrations.models import Registration, Status

    table = Registration.__table__
    updates = db.session.execute(sa.select(table.c.id).where(table.c.status.in_([Status[name] for name in OPEN])))
    rows = [{"row_id": row_id, "due": today + timedelta(days=row_id % 24 - 8)} for row_id in updates.scalars()]
    if rows:
        db.session.execute(sa.update(table).where(table.c.id == sa.bindparam("row_id"))
                           .values(due_date=sa.bindparam("due")), rows)
    return len(rows)


def _move_sequences() -> None:
    """bench_dashboard inserts explicit ids: PostgreSQL's sequences must start past them, or the
    first registration a submitter makes collides with id 1."""
    from app.extensions import db

    for table in db.metadata.sorted_tables:
        if "id" in table.c and isinstance(table.c.id.type, sa.Integer) and table.c.id.primary_key:
            db.session.execute(sa.text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"(SELECT coalesce(max(id), 0) + 1 FROM {table.name}), false)"))


def build(url: str, arguments, fingerprint_value: str) -> dict:
    """Create the schema and seed everything in the (empty) database at `url`; returns the counts."""
    from app import create_app
    from app.extensions import db

    try:
        from app import search
    except ImportError:  # a tree without accent-blind search (measuring an older commit)
        search = None

    rng = random.Random(2027)
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(app_config(url, folder, testing=True))
        with app.app_context():
            db.create_all()
            info_metadata.create_all(db.engine)
            counts = bench_dashboard.seed(arguments.registrations, arguments.products)
            counts.update(add_bench_people(arguments.submitters, rng))
            backfill = getattr(search, "backfill", None)  # the folded search copies, when the code has them
            if backfill is not None:
                counts["folded copies"] = backfill()
            if db.engine.dialect.name == "postgresql":
                _move_sequences()
            db.session.commit()
            if db.engine.dialect.name == "postgresql":
                with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                    connection.exec_driver_sql("VACUUM ANALYZE")
            else:
                db.session.execute(sa.text("ANALYZE"))
                db.session.commit()
            db.session.execute(sa.insert(seed_info), [
                {"key": "fingerprint", "value": fingerprint_value},
                {"key": "counts", "value": json.dumps(counts)},
                {"key": "complete", "value": datetime.now(timezone.utc).isoformat()}])
            db.session.commit()
            db.session.remove()
            db.engine.dispose()
    return counts


def read_info(engine: sa.Engine) -> dict | None:
    """The seed's info table, or None when there is none or the seed did not finish."""
    try:
        with engine.connect() as connection:
            rows = dict(connection.execute(sa.select(seed_info.c.key, seed_info.c.value)).all())
    except sa.exc.DBAPIError:
        return None
    return rows if "complete" in rows else None


def ensure_sqlite(arguments) -> Seed:
    params = parameters(arguments)
    value = fingerprint(params)
    size = size_tag(arguments)
    path = CACHE / f"seed-{size}-{value}.sqlite"
    if path.exists() and not arguments.reseed:
        engine = sa.create_engine(f"sqlite:///{path}")
        info = read_info(engine)
        engine.dispose()
        if info is not None:
            return Seed("sqlite", f"sqlite:///{path}", value, None, json.loads(info["counts"]))
    for old in CACHE.glob(f"seed-{size}-*.sqlite*"):  # older seeds of this size, and this one if unfinished
        old.unlink()
    began = time.perf_counter()
    print(f"seeding SQLite {path.name} ...", file=sys.stderr, flush=True)
    counts = build(f"sqlite:///{path}", arguments, value)
    return Seed("sqlite", f"sqlite:///{path}", value, time.perf_counter() - began, counts)


def postgres_reachable(base_url: str) -> str | None:
    """None when the server answers, else why not."""
    from app import normalise_database_url

    engine = sa.create_engine(normalise_database_url(base_url), connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
        return None
    except Exception as error:  # noqa: BLE001  (any failure means: SQLite only, said in the table)
        return str(error).splitlines()[0]
    finally:
        engine.dispose()


def ensure_postgres(base_url: str, arguments) -> Seed:
    from app import normalise_database_url

    params = parameters(arguments)
    value = fingerprint(params)
    name = f"{DATABASE_PREFIX}{size_tag(arguments)}_{value}"
    base_url = normalise_database_url(base_url)
    url = sa.engine.make_url(base_url).set(database=name).render_as_string(hide_password=False)
    admin = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            existing = connection.execute(sa.text("SELECT datname FROM pg_database WHERE datname LIKE :prefix"),
                                          {"prefix": DATABASE_PREFIX.replace("_", r"\_") + "%"}).scalars().all()
        if name in existing and not arguments.reseed:
            engine = sa.create_engine(url)
            info = read_info(engine)
            engine.dispose()
            if info is not None:
                return Seed("postgresql", url, value, None, json.loads(info["counts"]))
        with admin.connect() as connection:
            for old in existing:  # older seeds of this size (and this one, unfinished or --reseed)
                if old.startswith(f"{DATABASE_PREFIX}{size_tag(arguments)}_") and not old.endswith("_submit"):
                    connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{old}" WITH (FORCE)')
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        admin.dispose()
    began = time.perf_counter()
    print(f"seeding PostgreSQL {name} ...", file=sys.stderr, flush=True)
    counts = build(url, arguments, value)
    return Seed("postgresql", url, value, time.perf_counter() - began, counts)


def ensure(arguments) -> tuple[list[Seed], str | None]:
    """The seeds to measure on (SQLite, then PostgreSQL when its server answers), and why
    PostgreSQL is missing when it is."""
    _import_models()
    seeds = [ensure_sqlite(arguments)]
    postgres_url = arguments.postgres_url
    if not postgres_url or postgres_url.lower() == "none":
        return seeds, "PostgreSQL not asked for (--postgres-url none)"
    problem = postgres_reachable(postgres_url)
    if problem is not None:
        return seeds, f"PostgreSQL unreachable at {postgres_url}: {problem}"
    seeds.append(ensure_postgres(postgres_url, arguments))
    return seeds, None


def open_seed(app) -> None:
    """Before measuring on a seed: deadlines of the open registrations around today (once a day)."""
    from app.clock import local_today
    from app.extensions import db

    today = local_today().isoformat()
    with app.app_context():
        current = db.session.scalar(sa.select(seed_info.c.value).where(seed_info.c.key == "dates_for"))
        if current != today:
            refresh_due_dates(local_today())
            db.session.execute(sa.delete(seed_info).where(seed_info.c.key == "dates_for"))
            db.session.execute(sa.insert(seed_info).values(key="dates_for", value=today))
            db.session.commit()
            if db.engine.dialect.name == "postgresql":
                # The refresh rewrote every open dossier (8% of the table): PostgreSQL's index-only
                # scans read the heap again until a VACUUM marks the pages all-visible. In production
                # autovacuum does that within its minute's nap (migration 0012 lowers the registrations
                # table's threshold to 2% of its rows); here it is done at once, as it would be by then.
                with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                    connection.exec_driver_sql("VACUUM ANALYZE registrations")
        db.session.remove()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The seed's options, shared by every script of `make bench`."""
    parser.add_argument("--registrations", type=int, default=100_000)
    parser.add_argument("--products", type=int, default=50_000)
    parser.add_argument("--submitters", type=int, default=20, help="correspondents seeded for bench_submit.py")
    parser.add_argument("--postgres-url", default=os.environ.get("PRESSDESK_BENCH_DATABASE_URL", DEFAULT_POSTGRES_URL),
                        help="a PostgreSQL server's URL (the seed is a database next to it); 'none': SQLite only")
    parser.add_argument("--reseed", action="store_true", help="build the seeds again even if cached")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    arguments = parser.parse_args()
    seeds, missing = ensure(arguments)
    for seed in seeds:
        print(f"{seed.dialect}: {seed.url.rsplit('/', 1)[-1]} ({seed.how}): "
              + ", ".join(f"{count:,} {name}" for name, count in seed.counts.items()))
    if missing:
        print(missing)


if __name__ == "__main__":
    main()
