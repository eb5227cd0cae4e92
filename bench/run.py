"""`make bench`: every benchmark on the cached large seed, then one table (also bench/latest.md).

Not a test. Run from the project root:

    .venv/bin/python bench/run.py                                  # what `make bench` runs
    .venv/bin/python bench/run.py --registrations 2000 --products 1000 --rounds 2 --seconds 5 --quick
    .venv/bin/python bench/run.py --postgres-url none              # SQLite only
    .venv/bin/python bench/run.py --skip checkpoint permits

In order, each in its own process (so that one's caches and memory do not colour the next),
each writing JSON to bench/.cache/run/: bench/seed.py (the cached seed, built if needed), then
bench_pages.py (staff queue and registration page), bench_submit.py (20 concurrent submitters
under gunicorn), and, when the file exists, bench_dashboard.py and bench_products.py on the same
seed (--sqlite/--postgres: no seeding of their own), bench_checkpoint.py (the verification page
under gunicorn; its own throwaway PostgreSQL database with the DEMO data) and bench_permits.py
(the permit card against a bare PDF page: CPU only, no database). A benchmark that fails is
shown as failed in the table, with the end of its output; the others still run.

Without a PostgreSQL server (or with --postgres-url none) everything runs on SQLite alone and
the table says so; bench_checkpoint.py, which needs PostgreSQL, is left out.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
OUT = BENCH / ".cache" / "run"
PYTHON = sys.executable


def run_step(name: str, command: list[str], env: dict, timeout: float) -> dict:
    """Run one benchmark; its output goes to OUT/<name>.log (and the last lines to the terminal)."""
    log = OUT / f"{name}.log"
    began = time.monotonic()
    print(f"== {name}: {' '.join(command[1:])}", flush=True)
    with log.open("w") as handle:
        try:
            completed = subprocess.run(command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT,
                                       timeout=timeout)
            code = completed.returncode
        except subprocess.TimeoutExpired:
            code = "timeout"
    elapsed = time.monotonic() - began
    tail = [line for line in log.read_text(errors="replace").splitlines() if "rate-limit storage" not in line][-6:]
    print(f"   {'done' if code == 0 else f'FAILED ({code})'} in {elapsed:.0f} s; log {log.relative_to(ROOT)}",
          flush=True)
    if code != 0:
        print("   " + "\n   ".join(tail), flush=True)
    return {"name": name, "code": code, "seconds": elapsed, "tail": tail, "log": str(log.relative_to(ROOT))}


def load_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


# --- the combined table -----------------------------------------------------------------------

HEADER = ("| benchmark | measurement | SQLite | statements | ratio | PostgreSQL | statements | ratio | target |",
          "|---|---|---|---|---|---|---|---|---|")


def _row(bench: str, measurement: str, sqlite: tuple = ("", "", ""), postgresql: tuple = ("", "", ""),
         target: str = "") -> str:
    return f"| {bench} | {measurement} | " + " | ".join(map(str, (*sqlite, *postgresql))) + f" | {target} |"


def _ms(value) -> str:
    return "" if value is None else f"{value:,.1f} ms"


def _ratio(value, met: bool | None = None) -> str:
    if value is None:
        return ""
    return f"{value:.1f}x" + (" ✗" if met is False else "")


def pages_rows(result: dict, missing_pg: str | None) -> list[str]:
    rows = []
    anchor = result["anchor"]
    cells = []
    for dialect in ("sqlite", "postgresql"):
        figures = anchor.get(dialect)
        cells.append(("not measured", "", "") if figures is None else (_ms(figures["median_ms"]),
                                                                      figures["statements"], "1"))
    rows.append(_row("pages", "bare 50-row Jinja table page (anchor)", *cells))
    for page in result["pages"]:
        cells = []
        for dialect in ("sqlite", "postgresql"):
            figures = page.get(dialect)
            cells.append(("not measured", "", "") if figures is None else (
                _ms(figures["median_ms"]), figures["statements"], _ratio(figures["ratio"], figures["met"])))
        rows_shown = page.get("sqlite", {}).get("rows")
        label = page["page"] + ("" if rows_shown is None else f" ({rows_shown} rows)")
        rows.append(_row("pages", label, *cells, target="≤ 5x / ≤ 3x"))
    return rows


def submit_rows(result: dict) -> list[str]:
    by = {database["database"]: database for database in result["databases"]}
    rows = []

    def cell(dialect: str, side: str) -> tuple:
        database = by.get(dialect)
        if database is None:
            return ("not measured", "", "")
        figures = database[side]
        text = (f"{figures['requests_per_second']:,.1f} req/s, p50 {figures['p50_ms']} / p95 {figures['p95_ms']} / "
                f"p99 {figures['p99_ms']} ms, {figures['errors']} errors")
        if side == "pressdesk":
            text += f", {figures['submissions_per_second']} submissions/s"
        return (text, "", "1" if side == "anchor" else f"{database['ratio']:.3f}")

    clients = result["clients"]
    rows.append(_row("submit", f"anchor: insert and commit, {clients} clients", cell("sqlite", "anchor"),
                     cell("postgresql", "anchor")))
    rows.append(_row("submit", f"{clients} concurrent submitters, {result['seconds']:g} s (gunicorn, 2 workers)",
                     cell("sqlite", "pressdesk"), cell("postgresql", "pressdesk"),
                     target="0 errors; PG p95 < 500 ms; SQLite 2x the rate before"))
    return rows


def dashboard_like_rows(bench: str, result: dict, targets: dict) -> list[str]:
    """bench_dashboard.py and bench_products.py: {"databases": [{"database", "pages": {key: figure}}]}."""
    by = {database["database"]: database for database in result.get("databases", [])}
    keys = []
    for database in result.get("databases", []):
        keys += [key for key in database.get("pages", {}) if key not in keys]
    rows = []
    for key in keys:
        cells, label = [], key
        for dialect in ("sqlite", "postgresql"):
            figure = by.get(dialect, {}).get("pages", {}).get(key)
            if figure is None:
                cells.append(("not measured", "", ""))
                continue
            label = figure.get("label", key)
            target = by[dialect].get("target_ratio") or targets.get(dialect)
            met = None if target is None or key == "bare_page" else figure.get("ratio", 0) <= target
            cells.append((_ms(figure.get("median_ms")), figure.get("statements", ""),
                          _ratio(figure.get("ratio"), met)))
        target_text = "" if key == "bare_page" else " / ".join(
            f"≤ {by[d].get('target_ratio') or targets.get(d):g}x" for d in ("sqlite", "postgresql")
            if d in by and (by[d].get("target_ratio") or targets.get(d)))
        rows.append(_row(bench, label, *cells, target=target_text))
    return rows


def checkpoint_rows(result: dict) -> list[str]:
    rows = []
    for endpoint in result.get("endpoints", []):
        text = (f"{endpoint['requests_per_second']:,.0f} req/s, p50 {endpoint['p50_ms']} / "
                f"p99 {endpoint['p99_ms']} ms, "
                f"{endpoint['failures']} failures")
        target = "≥ 0.25x" if endpoint["endpoint"].startswith("/v/") else ""
        rows.append(_row("checkpoint", endpoint["endpoint"], ("not measured (PostgreSQL only)", "", ""),
                         (text, endpoint.get("statements_per_request", ""),
                          f"{endpoint.get('ratio_to_hello_world', 0):.3f}"), target=target))
    return rows


def permits_rows(log_text: str) -> list[str]:
    found = {}
    for key, pattern in (("bare", r"^bare page.*?([\d.]+) ms/page"),
                         ("permit", r"^permit \(same photo.*?([\d.]+) ms/page"),
                         ("ratio", r"^ratio permit / bare page: ([\d.]+)")):
        match = re.search(pattern, log_text, re.MULTILINE)
        if match:
            found[key] = float(match.group(1))
    if len(found) < 3:
        return [_row("permits", "permit card (output not understood: see the log)")]
    no_db = ("no database", "", "")
    return [_row("permits", "bare A6 PDF page (anchor), CPU best round", (f"{found['bare']:.2f} ms", "", "1"), no_db),
            _row("permits", "permit card, photo prepared before",
                 (f"{found['permit']:.2f} ms", "", f"{found['ratio']:.2f}x"),
                 no_db, target="≤ 2x")]


def main() -> None:
    import seed as bench_seed

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    bench_seed.add_arguments(parser)
    parser.add_argument("--rounds", type=int, default=5, help="rounds of the page benchmarks")
    parser.add_argument("--seconds", type=float, default=30.0, help="bench_submit.py: seconds per load")
    parser.add_argument("--clients", type=int, default=20, help="bench_submit.py: concurrent submitters")
    parser.add_argument("--quick", action="store_true",
                        help="short runs of bench_checkpoint.py (2 x 3 s) and bench_permits.py (50 x 2)")
    parser.add_argument("--skip", nargs="*", default=[], metavar="NAME",
                        help="leave out: pages submit dashboard products checkpoint permits")
    parser.add_argument("--output", default=str(BENCH / "latest.md"), help="where the table is written")
    arguments = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.json"):
        old.unlink()

    from bench_pages import git_commit

    started, load_start = time.strftime("%Y-%m-%d %H:%M %Z"), os.getloadavg()
    seeds, missing_pg = bench_seed.ensure(arguments)
    for seed in seeds:
        print(f"seed: {seed.dialect} {seed.url.rsplit('/', 1)[-1]} ({seed.how})", flush=True)
    if missing_pg:
        print(missing_pg, flush=True)
    by_dialect = {seed.dialect: seed for seed in seeds}
    postgres_url = arguments.postgres_url if "postgresql" in by_dialect else "none"
    seed_arguments = ["--registrations", str(arguments.registrations), "--products", str(arguments.products),
                      "--submitters", str(arguments.submitters), "--postgres-url", postgres_url]
    env = dict(os.environ, PRESSDESK_DATA_KEY_FILE=str(bench_seed.KEY_FILE))
    env.pop("PRESSDESK_BENCH_DATABASE_URL", None)  # the other scripts are told where, explicitly
    steps, rows = [], []

    def wanted(name: str, script: str) -> bool:
        return name not in arguments.skip and (BENCH / script).exists()

    if wanted("pages", "bench_pages.py"):
        steps.append(run_step("pages", [PYTHON, "bench/bench_pages.py", *seed_arguments, "--rounds",
                                        str(arguments.rounds), "--json", str(OUT / "pages.json")], env, 3600))
        if (result := load_json(OUT / "pages.json")) is not None:
            rows += pages_rows(result, missing_pg)
    if wanted("submit", "bench_submit.py"):
        steps.append(run_step("submit", [PYTHON, "bench/bench_submit.py", *seed_arguments, "--seconds",
                                         f"{arguments.seconds:g}", "--clients", str(arguments.clients),
                                         "--json", str(OUT / "submit.json")], env, 3600))
        if (result := load_json(OUT / "submit.json")) is not None:
            rows += submit_rows(result)
    on_seed = ["--sqlite", str(Path(bench_seed.sa.engine.make_url(by_dialect["sqlite"].url).database))]
    if "postgresql" in by_dialect:
        on_seed += ["--postgres", by_dialect["postgresql"].url]
    for name, script, targets in (("dashboard", "bench_dashboard.py", {"sqlite": 50, "postgresql": 25}),
                                  ("products", "bench_products.py", {"sqlite": 5, "postgresql": 3})):
        if wanted(name, script):
            steps.append(run_step(name, [PYTHON, f"bench/{script}", "--registrations", str(arguments.registrations),
                                         "--products", str(arguments.products), "--rounds", str(arguments.rounds),
                                         *on_seed, "--json", str(OUT / f"{name}.json")], env, 3600))
            if (result := load_json(OUT / f"{name}.json")) is not None:
                rows += dashboard_like_rows(name, result, targets)
    if wanted("checkpoint", "bench_checkpoint.py"):
        if "postgresql" in by_dialect:
            quick = ["--seconds", "3", "--rounds", "2"] if arguments.quick else []
            steps.append(run_step("checkpoint", [PYTHON, "bench/bench_checkpoint.py", *quick, "--json",
                                                 str(OUT / "checkpoint.json")],
                                  dict(env, PRESSDESK_BENCH_DATABASE_URL=arguments.postgres_url), 3600))
            if (result := load_json(OUT / "checkpoint.json")) is not None:
                rows += checkpoint_rows(result)
        else:
            rows.append(_row("checkpoint", "not measured: it needs PostgreSQL"))
    if wanted("permits", "bench_permits.py"):
        quick = ["--count", "50", "--rounds", "2"] if arguments.quick else []
        steps.append(run_step("permits", [PYTHON, "bench/bench_permits.py", *quick], env, 3600))
        if steps[-1]["code"] == 0:
            rows += permits_rows((ROOT / steps[-1]["log"]).read_text(errors="replace"))
    for step in steps:
        if step["code"] != 0:
            rows.append(_row(step["name"], f"FAILED ({step['code']}): {' / '.join(step['tail'][-2:])[:300]}"
                             .replace("|", "\\|")))

    load_end = os.getloadavg()
    seeds_text = "; ".join(f"{seed.dialect} `{seed.url.rsplit('/', 1)[-1]}` ({seed.how})" for seed in seeds)
    lines = [
        f"`make bench` (`.venv/bin/python bench/run.py {' '.join(sys.argv[1:])}`), {started}, commit "
        f"{git_commit()}.",
        f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}, Python {platform.python_version()}; "
        f"load average {load_start[0]:.1f} at the start, {load_end[0]:.1f} at the end "
        f"(the machine is shared: read the ratios, not the milliseconds).",
        f"Seed: {arguments.registrations:,} registrations, {arguments.products:,} products; {seeds_text}."
        + (f" **{missing_pg}: SQLite only.**" if missing_pg else ""),
        "Pages: Flask test client, production settings, median of "
        f"{arguments.rounds} rounds interleaved with the anchor, ratio = page / anchor on the same database; "
        "statements: every SQL statement of one request. Submitters and checkpoint: gunicorn, 2 sync workers, "
        "loopback; ratio = requests/s / the anchor's. ✗: target not met.",
        "", *HEADER, *rows, ""]
    text = "\n".join(lines)
    print("\n" + text)
    Path(arguments.output).write_text(text)
    output = Path(arguments.output).resolve()
    print(f"written to {output.relative_to(ROOT) if output.is_relative_to(ROOT) else output}")


if __name__ == "__main__":
    main()
