"""The one clock: the province's date and time, whatever the server's time zone."""
from __future__ import annotations

import ast
import re
from datetime import date, datetime, timezone
from pathlib import Path

import time_machine

from app.clock import local_date_of, local_now, local_today, utcnow

APP = Path(__file__).resolve().parent.parent / "app"


def test_the_province_is_already_on_tomorrow_at_night_utc():
    with time_machine.travel(datetime(2026, 10, 14, 17, 30, tzinfo=timezone.utc), tick=False):
        assert utcnow().date() == date(2026, 10, 14)
        assert local_today() == date(2026, 10, 15)
        assert local_now().hour == 0 and local_now().minute == 30
        assert local_now().utcoffset().total_seconds() == 7 * 3600


def test_just_before_midnight_in_the_province():
    with time_machine.travel(datetime(2026, 10, 14, 16, 59, tzinfo=timezone.utc), tick=False):
        assert local_today() == date(2026, 10, 14)
    assert local_date_of(datetime(2026, 12, 31, 17, 0, tzinfo=timezone.utc)) == date(2027, 1, 1)


def test_the_configured_time_zone_is_the_one_used(make_app):
    app = make_app(BABEL_DEFAULT_TIMEZONE="America/Los_Angeles")
    with time_machine.travel(datetime(2026, 10, 14, 3, 0, tzinfo=timezone.utc), tick=False), app.app_context():
        assert local_today() == date(2026, 10, 13)


def test_the_suite_runs_at_an_hour_when_the_machine_and_the_province_disagree(frozen_clock):
    """The autouse fixture picks an instant at which `date.today()` (the machine's date) is not
    the province's, unless the machine itself is on UTC+7."""
    machine_offset = datetime.now().astimezone().utcoffset()
    if machine_offset.total_seconds() != 7 * 3600:
        assert date.today() != local_today()


def test_nothing_in_the_app_reads_the_machine_clock():
    offenders = []
    pattern = re.compile(r"\bdate\.today\(\)|\bdatetime\.now\(|\bdatetime\.utcnow\(|\bdatetime\.today\(")
    for path in APP.rglob("*.py"):
        if path.name == "clock.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line.split("#", 1)[0]):
                offenders.append(f"{path.relative_to(APP.parent)}:{number}: {line.strip()}")
    assert offenders == [], "use app.clock instead:\n" + "\n".join(offenders)


CLOCK_READERS = {"local_today", "local_now", "utcnow", "today", "now"}


def _clock_reads_at_collection(node: ast.AST) -> list[int]:
    """Lines of clock calls that run when pytest imports the module (module level, a class
    body, a decorator such as `parametrize`, a default argument), not inside a function or a
    lambda, which run later under the frozen clock."""
    found = []
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for eager in child.decorator_list + child.args.defaults + [d for d in child.args.kw_defaults if d]:
                found += _clock_reads_at_collection(ast.Expression(eager))
            continue
        if isinstance(child, ast.Lambda):
            continue
        if isinstance(child, ast.Call):
            func = child.func
            if (func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")) in CLOCK_READERS:
                found.append(child.lineno)
        found += _clock_reads_at_collection(child)
    return found


def test_no_test_reads_the_clock_when_it_is_collected():
    """A date computed while pytest collects (in a `parametrize` list) is the real day, not the
    frozen one, and the case then passes or fails by the day CI runs (it did: a publication date
    "sixty days ago" fell inside the visit in December). tests/support.DaysFromToday is the way."""
    offenders = []
    for path in Path(__file__).parent.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        offenders += [f"{path.name}:{line}" for line in _clock_reads_at_collection(tree)]
    assert offenders == []
