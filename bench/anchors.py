"""Anchors for `make bench`: what a page or a write costs on this machine with nothing of PressDesk.

A figure alone says little on a shared 2-core machine; a ratio to an anchor measured in the same
run, interleaved, does. Two anchors:

- The bare 50-row Jinja table page is bench_dashboard.py's `add_bare_page` (the denominator of
  every page benchmark); `add_bare_page` here is the fallback bench_pages.py uses when that file
  has none: a 50-row table from a template, rows built in Python, no query.
- `INSERT_APP`: a Flask app whose POST inserts one row and commits, with SQLAlchemy Core on the
  same database, served by the same gunicorn settings as PressDesk (bench_submit.py): what any
  writing request costs at least on that database.
"""
from __future__ import annotations

from datetime import date, timedelta

ROWS = 50

TABLE_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Registrations</title></head>
<body><main><h1>Registrations</h1>
<table>
<thead><tr><th>Reference</th><th>Outlet</th><th>Programme</th><th>Status</th><th>Due</th><th>Officer</th></tr></thead>
<tbody>
{% for row in rows %}<tr>
<td><a href="/registrations/{{ row.id }}">{{ row.reference }}</a></td><td>{{ row.outlet }}</td>
<td>{{ row.start.isoformat() }} to {{ row.end.isoformat() }}</td><td>{{ row.status }}</td>
<td>{{ row.due.strftime("%d/%m/%Y") }}</td><td>{{ row.officer }}</td>
</tr>{% endfor %}
</tbody></table>
<p>Page 1 of 1,000</p></main></body></html>
"""


def add_bare_page(app) -> str:
    """Add the fallback anchor page to `app` (before its first request); returns its path."""
    from flask import render_template_string

    today = date(2026, 12, 1)
    rows = [{"id": number, "reference": f"PD-2026-{number:05d}", "outlet": f"Outlet {number}",
             "start": today + timedelta(days=number), "end": today + timedelta(days=number + 3),
             "status": "In review", "due": today + timedelta(days=number % 9), "officer": "Nguyễn Văn An"}
            for number in range(1, ROWS + 1)]

    def bench_bare_table():
        return render_template_string(TABLE_TEMPLATE, rows=rows)

    app.add_url_rule("/bench/bare-table", "bench_bare_table", bench_bare_table)
    return "/bench/bare-table"


INSERT_APP = '''\
"""Anchor: one INSERT and a commit per POST, on PRESSDESK_SQLALCHEMY_DATABASE_URI (bench/anchors.py)."""
import os

import sqlalchemy as sa
from flask import Flask

url = os.environ["PRESSDESK_SQLALCHEMY_DATABASE_URI"]
if url.startswith("postgresql://"):
    url = "postgresql+psycopg://" + url[len("postgresql://"):]
# As PressDesk's engine (app/config.py, app/database.py): no ping of a connection in steady use
# (PressDesk pings only one idle for 10 s); on SQLite WAL, synchronous NORMAL and a 15 s busy timeout.
engine = sa.create_engine(url)
if url.startswith("sqlite"):
    @sa.event.listens_for(engine, "connect")
    def _wal(connection, _record):
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("PRAGMA busy_timeout=15000")

table = sa.Table("bench_anchor_writes", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                 sa.Column("body", sa.String(200), nullable=False))
app = Flask(__name__)


@app.route("/write", methods=["POST"])
def write():
    with engine.begin() as connection:
        connection.execute(table.insert().values(body="a registration's worth of nothing"))
    return "ok", 201
'''


def insert_app_source() -> str:
    """The module gunicorn serves for the write anchor (written to a temporary folder)."""
    return INSERT_APP


def create_insert_table(engine) -> None:
    import sqlalchemy as sa

    metadata = sa.MetaData()
    sa.Table("bench_anchor_writes", metadata, sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("body", sa.String(200), nullable=False))
    metadata.create_all(engine)
