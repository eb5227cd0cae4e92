"""Inline SVG charts of indicator tables, drawn on the server: no JavaScript, no CDN.

The Content-Security-Policy allows no inline styles (`style-src 'self'`), so the SVG uses
presentation attributes only (fill=, stroke=, font-size=), never style="...". Each chart is an
image (role="img") named by its <title> and by the caption of the table that holds the same
numbers (aria-labelledby), so a screen reader reads the table rather than the drawing.
Colours are Bootstrap 5's, as on the rest of the site.
"""
from __future__ import annotations

import math
from collections.abc import Callable

from flask_babel import gettext as _
from markupsafe import Markup, escape

from app.indicators.tables import Table

PRIMARY = "#0d6efd"
SUCCESS = "#198754"
ORANGE = "#fd7e14"
PURPLE = "#6f42c1"
BODY_COLOUR = "#212529"
MUTED_COLOUR = "#6c757d"
GRID_COLOUR = "#dee2e6"
SERIES_COLOURS = (PRIMARY, SUCCESS, ORANGE, PURPLE)

WIDTH = 640
FONT_SIZE = 12
# Horizontal bars: label column, bar area, room for the value.
BAR_LABEL_WIDTH = 200
BAR_AREA_WIDTH = 360
BAR_ROW_HEIGHT = 26
BAR_HEIGHT = 18
MAX_BARS = 15
MAX_LABEL_CHARACTERS = 30
# Trend: plot margins.
LINE_HEIGHT = 260
LINE_LEFT, LINE_RIGHT, LINE_TOP, LINE_BOTTOM = 56, 16, 36, 40
MAX_X_LABELS = 8

Formatter = Callable[[object], str]


def render_chart(table: Table, chart_id: str, table_id: str, number: Formatter = str) -> Markup:
    """The table's chart (bar or line), or empty markup when it has none or no rows."""
    if not table.rows or table.chart is None:
        return Markup("")
    if table.chart == "bar":
        return bar_chart(table, chart_id, table_id, number)
    if table.chart == "line":
        return line_chart(table, chart_id, table_id, number)
    raise ValueError(f"unknown chart kind {table.chart!r}")


def _short(label: object) -> str:
    text = str(label)
    return text if len(text) <= MAX_LABEL_CHARACTERS else text[:MAX_LABEL_CHARACTERS - 1] + "…"


def _number(value) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def _open_svg(table: Table, chart_id: str, table_id: str, height: int, description: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="100%" '
        f'viewBox="0 0 {WIDTH} {height}" preserveAspectRatio="xMinYMin meet" focusable="false" '
        f'aria-labelledby="{escape(chart_id)}-title {escape(table_id)}-caption" '
        f'aria-describedby="{escape(chart_id)}-desc">',
        f'<title id="{escape(chart_id)}-title">{escape(table.title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(description)}</desc>',
    ]


def bar_chart(table: Table, chart_id: str, table_id: str, number: Formatter = str) -> Markup:
    """Horizontal bars of column 1 by the labels of column 0, in the table's order, at most MAX_BARS."""
    rows = table.rows[:MAX_BARS]
    largest = max((_number(row[1]) for row in rows), default=0) or 1
    height = len(rows) * BAR_ROW_HEIGHT + 12
    description = _("Chart of the table “%(title)s”: %(column)s by %(label)s.", title=table.title,
                    column=table.columns[1], label=table.columns[0])
    if len(table.rows) > MAX_BARS:
        description += " " + _("The first %(count)d rows are drawn; the table lists all of them.", count=MAX_BARS)
    parts = _open_svg(table, chart_id, table_id, height, description)
    bar_x = BAR_LABEL_WIDTH + 8
    for position, row in enumerate(rows):
        top = 6 + position * BAR_ROW_HEIGHT
        middle = top + BAR_ROW_HEIGHT / 2
        value = _number(row[1])
        length = max(BAR_AREA_WIDTH * value / largest, 1 if value else 0)
        parts.append(f'<text x="{BAR_LABEL_WIDTH}" y="{middle:.1f}" text-anchor="end" dominant-baseline="middle" '
                     f'font-size="{FONT_SIZE}" fill="{BODY_COLOUR}">{escape(_short(row[0]))}</text>')
        parts.append(f'<rect x="{bar_x}" y="{top + (BAR_ROW_HEIGHT - BAR_HEIGHT) / 2:.1f}" width="{length:.1f}" '
                     f'height="{BAR_HEIGHT}" rx="2" fill="{PRIMARY}"/>')
        parts.append(f'<text x="{bar_x + length + 6:.1f}" y="{middle:.1f}" dominant-baseline="middle" '
                     f'font-size="{FONT_SIZE}" fill="{BODY_COLOUR}">{escape(number(row[1]))}</text>')
    parts.append("</svg>")
    return Markup("\n".join(parts))


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 5 x 10^k that is at least `value` (1 for nothing)."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power  # pragma: no cover  (the loop always returns)


def line_chart(table: Table, chart_id: str, table_id: str, number: Formatter = str) -> Markup:
    """One line per numeric column (1, 2, ...) over the labels of column 0 (months)."""
    series = list(range(1, len(table.columns)))[:len(SERIES_COLOURS)]
    count = len(table.rows)
    top_value = nice_ceiling(max((_number(row[index]) for row in table.rows for index in series), default=0))
    plot_width = WIDTH - LINE_LEFT - LINE_RIGHT
    plot_height = LINE_HEIGHT - LINE_TOP - LINE_BOTTOM
    step = plot_width / (count - 1) if count > 1 else 0

    def x_of(position: int) -> float:
        return LINE_LEFT + (position * step if count > 1 else plot_width / 2)

    def y_of(value) -> float:
        return LINE_TOP + plot_height * (1 - _number(value) / top_value)

    description = _("Chart of the table “%(title)s”: %(columns)s by %(label)s.", title=table.title,
                    columns=", ".join(str(table.columns[index]) for index in series), label=table.columns[0])
    parts = _open_svg(table, chart_id, table_id, LINE_HEIGHT, description)
    # Grid and values of the vertical axis, at whole numbers.
    ticks = next(count for count in (5, 4, 2, 1) if top_value % count == 0)
    for tick in range(ticks + 1):
        value = top_value * tick / ticks
        y = y_of(value)
        parts.append(f'<line x1="{LINE_LEFT}" y1="{y:.1f}" x2="{WIDTH - LINE_RIGHT}" y2="{y:.1f}" '
                     f'stroke="{GRID_COLOUR}" stroke-width="1"/>')
        parts.append(f'<text x="{LINE_LEFT - 6}" y="{y:.1f}" text-anchor="end" dominant-baseline="middle" '
                     f'font-size="{FONT_SIZE - 1}" fill="{MUTED_COLOUR}">{escape(number(int(value)))}</text>')
    # Labels of the horizontal axis, thinned out when there are many months.
    every = max(math.ceil(count / MAX_X_LABELS), 1)
    for position, row in enumerate(table.rows):
        if position % every == 0:
            parts.append(f'<text x="{x_of(position):.1f}" y="{LINE_HEIGHT - LINE_BOTTOM + 18}" text-anchor="middle" '
                         f'font-size="{FONT_SIZE - 1}" fill="{MUTED_COLOUR}">{escape(_short(row[0]))}</text>')
    # Legend, then one line and its points per series.
    legend_x = LINE_LEFT
    for index, colour in zip(series, SERIES_COLOURS):
        name = str(table.columns[index])
        parts.append(f'<rect x="{legend_x}" y="8" width="14" height="4" fill="{colour}"/>')
        parts.append(f'<text x="{legend_x + 20}" y="10" dominant-baseline="middle" font-size="{FONT_SIZE}" '
                     f'fill="{BODY_COLOUR}">{escape(name)}</text>')
        legend_x += 20 + 7 * len(name) + 24
    for index, colour in zip(series, SERIES_COLOURS):
        points = " ".join(f"{x_of(position):.1f},{y_of(row[index]):.1f}" for position, row in enumerate(table.rows))
        if count > 1:
            parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2" '
                         f'stroke-linejoin="round"/>')
        for position, row in enumerate(table.rows):
            parts.append(f'<circle cx="{x_of(position):.1f}" cy="{y_of(row[index]):.1f}" r="3" fill="{colour}">'
                         f'<title>{escape(row[0])}: {escape(number(row[index]))}</title></circle>')
    parts.append("</svg>")
    return Markup("\n".join(parts))
