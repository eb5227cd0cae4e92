"""Benchmark: the products list, the sovereignty cases and the overdue reports, beside a bare 50-row page.

Not a test. Run from the project root:

    .venv/bin/python bench/bench_products.py [--registrations 100000] [--products 50000] [--rounds 7]
    PRESSDESK_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/bench_products.py
    .venv/bin/python bench/bench_products.py --sqlite bench/.cache/bench.db --json bench/.cache/products.json

Seeds a throwaway SQLite file (and, when PRESSDESK_BENCH_DATABASE_URL is set, a throwaway
PostgreSQL database next to that URL's, dropped afterwards) with bench_dashboard.py's `seed`
(imported, so that every benchmark measures the same data), then gives one product in a hundred
a Vietnamese title ("Lúa gạo Đồng Tháp 4200"), for the accent-blind search. Bulk inserts bypass
the models, so the folded search copies are then set by `app.search.backfill()`. `--sqlite PATH`
and `--postgres URL` use a database already seeded (bench/seed.py's cache) instead: no titles
changed there, only the folded copies backfilled (a no-op once set).

Then, through the Flask test client logged in as an officer, in rounds that interleave every
page (the shared machine's load falls on all alike): the anchor (bench_dashboard.py's bare
50-row Jinja table page, imported: the same denominator as every other benchmark), the products
list by default, with each filter, each sort, searches (a title without its diacritics, an
outlet's name, a registration reference, a term found nowhere: the worst case), a later page;
the sovereignty cases (open, all) and the overdue post-visit reports. Each figure is the median
of the rounds (best too), its ratio to the anchor's median, and the SQL statements of one
request (SQLAlchemy before_cursor_execute; on SQLite with the BEGIN that app.database emits).
`--json PATH` writes the same figures as JSON.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from app.extensions import db  # noqa: E402
from app.products.models import Product  # noqa: E402
from app.registrations.models import Registration  # noqa: E402
from bench_dashboard import (add_bare_page, bench_app, login, run_on_databases, seed, summary,  # noqa: E402
                             time_pages)

# (key, label, path, query): the pages timed, the anchor first.
PAGES = [
    ("bare_page", "bare 50-row page (anchor)", None, None),
    ("products", "products, default", "/staff/products", {}),
    ("products_page_40", "products, page 40", "/staff/products", {"page": 40}),
    ("filter_outlet", "filter: outlet", "/staff/products", {"outlet": 17}),
    ("filter_country", "filter: target country", "/staff/products", {"country": "JP"}),
    ("filter_language", "filter: language", "/staff/products", {"language": "ko"}),
    ("filter_type", "filter: type", "/staff/products", {"type": "documentary"}),
    ("filter_channel", "filter: channel", "/staff/products", {"channel": "radio"}),
    ("filter_sector", "filter: sector", "/staff/products", {"sector": "tourism"}),
    ("filter_evaluation", "filter: evaluation none", "/staff/products", {"evaluation": "none"}),
    ("filter_flagged", "filter: flagged", "/staff/products", {"evaluation": "flagged"}),
    ("filter_status", "filter: status published", "/staff/products", {"status": "published"}),
    ("filter_to_review", "filter: to review", "/staff/products", {"status": "to_review"}),
    ("filter_linked", "filter: not linked", "/staff/products", {"linked": "no"}),
    ("filter_dates", "filter: published in 2025", "/staff/products",
     {"date_from": "2025-01-01", "date_to": "2025-12-31"}),
    ("filter_combined", "filter: country+type+2025", "/staff/products",
     {"country": "JP", "type": "article", "date_from": "2025-01-01", "date_to": "2025-12-31"}),
    ("sort_published", "sort: published", "/staff/products", {"sort": "published"}),
    ("sort_recorded", "sort: recorded", "/staff/products", {"sort": "recorded"}),
    ("sort_reach", "sort: reach", "/staff/products", {"sort": "reach"}),
    ("sort_title", "sort: title", "/staff/products", {"sort": "title"}),
    ("search_title", "search: title 'lua gao'", "/staff/products", {"q": "lua gao"}),
    ("search_number", "search: 'product 4242'", "/staff/products", {"q": "product 4242"}),
    ("search_outlet", "search: outlet 'outlet 17'", "/staff/products", {"q": "outlet 17"}),
    ("search_reference", "search: reference", "/staff/products", {"q": "PD-2025-0123"}),
    ("search_nothing", "search: found nowhere", "/staff/products", {"q": "zzqx"}),
    ("search_sorted", "search + sort: reach", "/staff/products", {"q": "lua gao", "sort": "reach"}),
    ("cases", "sovereignty cases, open", "/staff/cases", {}),
    ("cases_all", "sovereignty cases, all", "/staff/cases", {"show": "all"}),
    ("overdue", "overdue reports", "/staff/reports/overdue", {}),
    ("overdue_page_5", "overdue reports, page 5", "/staff/reports/overdue", {"page": 5}),
]
TARGETS = {"postgresql": 3.0, "sqlite": 5.0}
VIETNAMESE_EVERY = 100  # one product in a hundred gets a Vietnamese title


def give_vietnamese_titles() -> int:
    """Titles with diacritics (stored NFC) for one product in `VIETNAMESE_EVERY`: what the search
    without diacritics must find."""
    result = db.session.execute(sa.update(Product).where(Product.id % VIETNAMESE_EVERY == 0).values(
        title=sa.literal("Lúa gạo Đồng Tháp ") + sa.cast(Product.id, sa.String),
        original_title=sa.literal("Rice of Đồng Tháp ") + sa.cast(Product.id, sa.String))
        .execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount


def run(url: str, arguments, seeded: bool = False) -> dict:
    app = bench_app(url, **({"PAGE_SIZE": arguments.page_size} if arguments.page_size else {}))
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
            counts["Vietnamese titles"] = give_vietnamese_titles()
            print(f"seeded in {time.perf_counter() - began:.1f} s: "
                  + ", ".join(f"{count:,} {name}" for name, count in counts.items()))
        try:
            from app.search import backfill
        except ImportError:  # the code before the folded search copies
            backfill = None
        if backfill is not None:
            began = time.perf_counter()
            changed = backfill()
            db.session.commit()
            print(f"folded search copies backfilled in {time.perf_counter() - began:.1f} s: {changed:,} rows")
        if engine.dialect.name == "postgresql":
            with engine.connect() as connection:
                connection.exec_driver_sql("ANALYZE")
                connection.commit()
        else:
            db.session.execute(sa.text("ANALYZE"))
            db.session.commit()
        result["registrations"] = db.session.scalar(sa.select(sa.func.count()).select_from(Registration))
        result["products"] = db.session.scalar(sa.select(sa.func.count()).select_from(Product))
        result["page_size"] = app.config["PAGE_SIZE"]
        db.session.remove()

    client = app.test_client()
    login(client)

    def get(path, query):
        def request():
            response = client.get(path, query_string=query)
            assert response.status_code == 200, (path, query, response.status_code)
        return request

    pages = [(key, label, get(path or bare_path, query)) for key, label, path, query in PAGES
             if arguments.only is None or key == "bare_page" or any(word in key for word in arguments.only)]
    statements, walls, cpus = time_pages(engine, pages, arguments.rounds)
    with app.app_context():
        engine.dispose()

    anchor = statistics.median(walls["bare_page"])
    target = TARGETS.get(result["database"])
    result["target_ratio"] = target
    result["pages"] = {}
    for key, label, _function in pages:
        figure = summary(walls[key], cpus[key])
        figure.update(label=label, statements=statements[key],
                      ratio=round(statistics.median(walls[key]) / anchor, 2))
        result["pages"][key] = figure
    print(f"{result['products']:,} products, {result['registrations']:,} registrations, "
          f"page size {result['page_size']}; target: at most {target}x the anchor")
    print(f"{'page':<34}{'median':>10}{'best':>10}{'CPU best':>10}{'statements':>12}{'x anchor':>10}")
    for key, figure in result["pages"].items():
        mark = "" if key == "bare_page" or figure["ratio"] <= target else "  ABOVE TARGET"
        print(f"{figure['label']:<34}{figure['median_ms']:>8.1f}ms{figure['best_ms']:>8.1f}ms"
              f"{figure['cpu_best_ms']:>8.1f}ms{figure['statements']:>12}{figure['ratio']:>9.2f}x{mark}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--registrations", type=int, default=100_000)
    parser.add_argument("--products", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--page-size", type=int, help="the list pages' size (default: the app's PAGE_SIZE)")
    parser.add_argument("--only", nargs="+", metavar="WORD", help="only the pages whose key contains a WORD")
    parser.add_argument("--sqlite", metavar="PATH", help="an SQLite file already seeded: no seeding")
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL database already seeded: no seeding "
                                                          "(instead of PRESSDESK_BENCH_DATABASE_URL)")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON to PATH")
    arguments = parser.parse_args()
    run_on_databases("bench_products", run, arguments, sqlite=not arguments.no_sqlite)

if __name__ == "__main__":
    main()
