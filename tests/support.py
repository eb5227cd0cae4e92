"""Helpers for tests: forms posted with their CSRF token, as a browser does; the outbox worker."""
from __future__ import annotations

import contextlib
import re
import threading
from datetime import timedelta
from html.parser import HTMLParser

from werkzeug.datastructures import MultiDict

from tests.conftest import TEST_PASSWORD

CSRF_PATTERN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class DaysFromToday:
    """A date for a `parametrize` list, read when the test runs (under the frozen clock), not when
    pytest collects the module (under the real one, which would make the case depend on the day
    CI runs): `DaysFromToday(-60)` is sixty days before the province's today, as ISO text."""

    def __init__(self, days: int):
        self.days = days

    def __repr__(self) -> str:
        return f"today{self.days:+d}d"

    def resolve(self) -> str:
        from app.clock import local_today
        return (local_today() + timedelta(days=self.days)).isoformat()


def resolved(values: dict) -> dict:
    """`values` with each DaysFromToday turned into its date."""
    return {key: value.resolve() if isinstance(value, DaysFromToday) else value for key, value in values.items()}


def page_assets(html: str) -> list[str]:
    """The stylesheets and scripts a page loads from this site."""
    return [path for path in re.findall(r'<(?:link[^>]+href|script[^>]+src)="(/[^"]+)"', html)
            if path.endswith((".css", ".js"))]


@contextlib.contextmanager
def statements_sent(engine):
    """A list that receives (statement, parameters) for each SQL statement `engine` sends while the block runs."""
    import sqlalchemy as sa

    sent: list[tuple[str, object]] = []

    def keep(_connection, _cursor, statement, parameters, *_args):
        sent.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", keep)
    try:
        yield sent
    finally:
        sa.event.remove(engine, "before_cursor_execute", keep)


def assert_index_can_serve(engine, statement: str, parameters, table: str, where: str, index: str) -> None:
    """The database's planner can read `table` through `index` for `statement`: the query's condition
    implies the partial index's (its values written into the SQL: a bound parameter proves nothing to
    SQLite). Forced, since a handful of test rows is cheaper to scan: SQLite by INDEXED BY, put after
    the FROM `table` that the regular expression `where` follows (SQLite refuses the statement, "no
    query solution", when the index cannot serve it), PostgreSQL with sequential and bitmap scans off
    (its EXPLAIN then names the index, or another way)."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            forced, replaced = re.subn(rf"FROM {table}\s+(?=" + where + ")", f"FROM {table} INDEXED BY {index} ",
                                       statement, 1)
            assert replaced == 1, statement
            plan = " ".join(str(row[-1]) for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + forced,
                                                                               parameters))
        else:
            for setting in ("enable_seqscan", "enable_bitmapscan"):
                connection.exec_driver_sql(f"SET LOCAL {setting} = off")
            plan = " ".join(row[0] for row in connection.exec_driver_sql("EXPLAIN " + statement, parameters))
    assert index in plan, plan


def qr_texts(image) -> list[str]:
    """The texts of the QR codes in `image` (a PIL image), as a phone's camera reads them. Other formats are
    not looked for: a PostgreSQL CI run found two barcodes on a permit that has one QR code (not
    reproduced; a line of text read as a linear barcode is the likely cause, not a proven one)."""
    import zxingcpp

    return [barcode.text for barcode in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


def csrf_token(client, page: str = "/login") -> str:
    response = client.get(page)
    match = CSRF_PATTERN.search(response.get_data(as_text=True))
    assert match, f"no CSRF token on {page}"
    return match.group(1)


def post_form(client, url: str, data: dict | None = None, *, page: str | None = None, **kwargs):
    """POST `data` to `url` with a CSRF token read from `page` (by default `url` itself)."""
    payload = dict(data or {})
    payload["csrf_token"] = csrf_token(client, page or url)
    return client.post(url, data=payload, **kwargs)


def login(client, email: str, password: str = TEST_PASSWORD):
    return post_form(client, "/login", {"email": email, "password": password})


def logout(client):
    return post_form(client, "/logout", page="/")


def link_in(text: str, path_prefix: str) -> str:
    """The path of the first link in an email body that starts with `path_prefix`."""
    match = re.search(r"https?://[^/\s]+(" + re.escape(path_prefix) + r"[^\s\"<]*)", text)
    assert match, f"no {path_prefix} link in: {text}"
    return match.group(1)


@contextlib.contextmanager
def outbox_worker(app, poll_seconds: float = 0.05):
    """The real worker loop (what `flask outbox worker` runs) in a thread, stopped on exit;
    yields the thread, which the caller may check has stopped."""
    from app.outbox.service import run_worker

    stop = threading.Event()

    def work():
        with app.app_context():
            run_worker(stop, poll_seconds=poll_seconds)

    worker = threading.Thread(target=work, name="outbox-worker")
    worker.start()
    try:
        yield worker
    finally:
        stop.set()
        worker.join(timeout=10)


def escort_officer(full_name: str = "Trần Văn Hộ", phone: str = "0912 345 678"):
    """An escort officer in the reference data (inside an app context)."""
    from app.extensions import db
    from app.reference.models import EscortOfficer

    officer = EscortOfficer(full_name=full_name, title_vi="Chuyên viên Sở Ngoại vụ",
                            title_en="Officer, Department of Foreign Affairs", phone=phone)
    db.session.add(officer)
    db.session.flush()
    return officer


def propose(registration, officer, proposal=None, **fields):
    """The officer's complete draft, proposed to the leader, as the decision page does it."""
    from app.registrations import service
    from app.registrations.models import Proposal

    proposal = proposal or Proposal.approve
    defaults = service.draft_defaults(registration)
    draft = service.DraftDecision(
        proposal=proposal, legal_basis_vi=defaults["legal_basis_vi"], legal_basis_en=defaults["legal_basis_en"], summary_vi="Thực hiện phóng sự về du lịch và văn hóa của tỉnh.",
        summary_en="A report on the province's tourism and culture.",
        request_date=registration.request_date or service.local_today(),
        refusal_reasons_vi="Trùng lịch sự kiện của tỉnh." if proposal is Proposal.refuse else "",
        refusal_reasons_en="It clashes with a provincial event." if proposal is Proposal.refuse else "")
    if proposal is Proposal.approve:
        draft.escort_officer_id = escort_officer().id
    for name, value in fields.items():
        setattr(draft, name, value)
    service.propose_decision(officer, registration, draft, None)


def decide(registration, officer, leader, proposal=None, **fields):
    """Propose (as `officer`) then decide (as `leader`) from the draft: approve unless told to refuse."""
    from app.registrations import service
    from app.registrations.models import Proposal

    propose(registration, officer, proposal, **fields)
    if (proposal or Proposal.approve) is Proposal.approve:
        service.approve(leader, registration, None)
    else:
        service.refuse(leader, registration, None)


class _FormReader(HTMLParser):
    """The fields a browser would send for one <form> of a page, buttons aside."""

    def __init__(self, form_id: str):
        super().__init__(convert_charrefs=True)
        self.form_id, self.inside, self.fields = form_id, False, []
        self._textarea = self._select = None
        self._selected_option = self._first_option = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self.inside = attributes.get("id") == self.form_id
        if not self.inside:
            return
        name = attributes.get("name")
        if tag == "input" and name and attributes.get("type", "text") not in ("submit", "button", "file", "image"):
            if attributes.get("type") in ("checkbox", "radio") and "checked" not in attributes:
                return
            self.fields.append((name, attributes.get("value", "on" if attributes.get("type") == "checkbox" else "")))
        elif tag == "textarea" and name:
            self._textarea = [name, ""]
        elif tag == "select" and name:
            self._select, self._selected_option, self._first_option = name, None, None
        elif tag == "option" and self._select is not None:
            if self._first_option is None:
                self._first_option = attributes.get("value", "")
            if "selected" in attributes:
                self._selected_option = attributes.get("value", "")

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "textarea" and self._textarea is not None:
            self.fields.append((self._textarea[0], self._textarea[1].removeprefix("\n")))
            self._textarea = None
        elif tag == "select" and self._select is not None:
            chosen = self._selected_option if self._selected_option is not None else self._first_option
            self.fields.append((self._select, chosen or ""))
            self._select = None


def form_fields(html: str, form_id: str) -> MultiDict:
    """What submitting the form `form_id` of `html` sends, as the page renders it (no button pressed)."""
    reader = _FormReader(form_id)
    reader.feed(html)
    return MultiDict(reader.fields)
