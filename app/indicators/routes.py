"""The indicators dashboard and its XLSX download: staff (officers and leaders) only.

Both read the period from the address (?kind=quarter&year=2026&number=2, or kind=custom with
start and end); without one, the current quarter. A period that makes no sense is answered
with the form, its messages and a 400.
"""
from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

from flask import render_template, request, send_file, url_for
from flask_babel import force_locale, format_decimal, get_locale
from flask_babel import gettext as _
from markupsafe import Markup

from app.auth.models import Role
from app.auth.permissions import roles_required
from app.i18n import day
from app.indicators import bp
from app.indicators.charts import render_chart
from app.indicators.forms import IndicatorPeriodForm
from app.indicators.report_pdf import render_report
from app.indicators.service import build_report, unit_name
from app.indicators.tables import Figure, Table
from app.indicators.xlsx import MEDIA_TYPE, build_workbook
from app.clock import local_today

staff_required = roles_required(Role.officer, Role.leader)


def _period_form():
    if request.args:
        form = IndicatorPeriodForm(request.args)
    else:
        today = local_today()
        form = IndicatorPeriodForm(None, data={"kind": "quarter", "year": today.year,
                                               "number": (today.month - 1) // 3 + 1})
    return form, form.period()


def number(value) -> str:
    """A cell or figure as the user's language writes it ("1.234,5" in Vietnamese)."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return format_decimal(value)
    if isinstance(value, (float, Decimal)):
        return format_decimal(value, format="#,##0.0")
    if isinstance(value, date):
        return day(value)
    return str(value)


def figure_label(figure: Figure) -> str:
    """The label with its unit, as the PDF report prints it: "Processing time, median (working days)"."""
    unit = unit_name(figure.unit)
    return f"{figure.label} ({unit})" if unit else figure.label


def change(figure: Figure) -> str:
    difference = figure.change
    if difference is None:
        return ""
    if difference == 0:
        return _("no change")
    sign = "+" if difference > 0 else "−"
    return sign + number(abs(difference))


def _chart(table: Table) -> Markup:
    return render_chart(table, chart_id=f"chart-{table.key}", table_id=f"table-{table.key}", number=number)


def _render_dashboard(form, report, status=200):
    return render_template("indicators/dashboard.html", form=form, report=report, number=number, change=change,
                           figure_label=figure_label,
                           chart=_chart, xlsx_url=url_for("indicators.export_xlsx", **request.args.to_dict()),
                           pdf_url=url_for("indicators.report_pdf", **request.args.to_dict())), status


@bp.route("/staff/indicators")
@staff_required
def dashboard():
    form, period = _period_form()
    if period is None:
        return _render_dashboard(form, None, 400)
    return _render_dashboard(form, build_report(period.start, period.end, str(get_locale())))


@bp.route("/staff/indicators.xlsx")
@staff_required
def export_xlsx():
    form, period = _period_form()
    if period is None:
        return _render_dashboard(form, None, 400)
    report = build_report(period.start, period.end, str(get_locale()))
    return send_file(io.BytesIO(build_workbook(report)), mimetype=MEDIA_TYPE, as_attachment=True,
                     download_name=f"indicators-{period.start.isoformat()}-{period.end.isoformat()}.xlsx",
                     max_age=0)


@bp.route("/staff/indicators.pdf")
@staff_required
def report_pdf():
    """The period's report for sending upward: always in Vietnamese, the official language, whatever
    the user's language, with the number and date left blank for the clerk (report_pdf.py)."""
    form, period = _period_form()
    if period is None:
        return _render_dashboard(form, None, 400)
    with force_locale("vi"):
        report = build_report(period.start, period.end, "vi")
        pdf = render_report(report)
    return send_file(io.BytesIO(pdf), mimetype="application/pdf", as_attachment=True,
                     download_name=f"bao-cao-chi-so-{period.start.isoformat()}-{period.end.isoformat()}.pdf",
                     max_age=0)
