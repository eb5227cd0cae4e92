"""The shape of an indicator report: what the dashboard shows, the XLSX holds and the PDF prints.

The indicators service (service.py) builds an `IndicatorReport`; the dashboard template, the XLSX
export (one sheet per table) and the PDF report (report_pdf.py) only read it. Labels are already
translated into the requested language when the report is built.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Optional, Union

Cell = Union[str, int, float, Decimal, date, None]


@dataclass
class Figure:
    """A headline number with its value in the previous period, for comparison."""

    key: str  # stable id, e.g. "registrations_received"
    label: str
    value: Optional[Union[int, float, Decimal]]
    previous: Optional[Union[int, float, Decimal]] = None
    unit: str = ""  # "", "%", "VND", "working days"

    @property
    def change(self) -> Optional[Union[int, float, Decimal]]:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous


@dataclass
class Table:
    """A table of the report. With a `chart`, column 0 holds the labels and column 1 the values."""

    key: str  # stable id and XLSX sheet name source, e.g. "by_country"
    title: str
    columns: list[str]
    rows: list[list[Cell]]
    chart: Optional[str] = None  # None, "bar" (horizontal bars) or "line" (a trend by month)
    note: str = ""


@dataclass
class IndicatorReport:
    start: date  # first day of the period
    end: date  # last day of the period (inclusive)
    previous_start: date
    previous_end: date
    period_label: str  # e.g. "Quý III/2026" or "Q3 2026"
    locale: str
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
