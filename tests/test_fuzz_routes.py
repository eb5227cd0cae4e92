"""Every route, as every role, with values nobody would type: never a 500, never an exception.

The test crawls the app's own url_map (so a new route is fuzzed without anyone adding it here):
for each role it opens every GET page of a small world (registrations in several states, a
product, a case, attachments), reads the forms on them (action, field names, choices), then
lets hypothesis send
* GETs to any rule, with path values from the world, zero, the column's limit and beyond it,
  and text; with query arguments named like the fields;
* the forms found (POST with a valid CSRF token, and the GET filters), most fields as the page
  offers them and one to three kept out or replaced by hostile values (far dates, control
  characters, huge numbers, long text, broken URLs, files), hidden fields often;
* POSTs to every POST rule with fields drawn from all the names seen.
With TESTING on, an exception in a view propagates to the test client: hypothesis then shrinks
it to the smallest request that fails. The number of examples keeps the whole file under about
a minute on SQLite (PRESSDESK_FUZZ_EXAMPLES raises it for a longer hunt).
"""
from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import quote, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.auth.models import Role
from app.registrations.models import Status
from tests.conftest import TINY_PDF
from tests.support import csrf_token, login

EXAMPLES = int(os.environ.get("PRESSDESK_FUZZ_EXAMPLES", "400"))  # per role
MAX_INTEGER = 2**31 - 1
SKIPPED_POSTS = {"auth.logout"}  # it would end the session the rest of the run relies on
# Rendering these takes a while; they are fuzzed less often.
SLOW = {"indicators.report_pdf", "indicators.export_xlsx", "products.export"}
# Statuses a page may answer with; 503 only where "not ready" is the page's job.
ALLOWED_5XX = {"ops.readyz": {503}}


# --- hostile values ---------------------------------------------------------------------

VIETNAMESE = "ạảãàáâậầấẩẫăắằặẳẵđêềếệểễôồốộổỗơờớợởỡưừứựửữỳýỵỷỹĐƯƠÂĂÊÔ"
CONTROL = "".join(map(chr, range(0, 32))) + "\x7f\x85\u2028\ufeff\ufffe\uffff"
texts = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=VIETNAMESE + CONTROL + " <>&'\"%{}", max_size=60),
    st.text(min_size=1, max_size=8).map(lambda piece: piece * (10_050 // len(piece) + 1)),
    st.sampled_from(["", " ", "\x00", "abc", "None", "null", "[]", "-1", "0", "1e3", "1.5", "NaN", "∞",
                     "' OR 1=1 --", "<script>alert(1)</script>", "%(name)s", "{{ 7*7 }}", "../../etc/passwd",
                     "https://nrk.example:99999/a", "http://[::1/a", "https://nrk.example:abc/",
                     "javascript:alert(1)", "//evil.example", "https://" + "đ" * 1990]),
)
numbers = st.one_of(st.integers(min_value=-(2**70), max_value=2**70).map(str),
                    st.sampled_from([str(MAX_INTEGER), str(MAX_INTEGER + 1), str(2**63), "9" * 30, "9" * 5000]))
dates = st.one_of(st.sampled_from(["9999-12-31", "0001-01-01", "1899-12-31", "1900-01-01", "2100-12-31",
                                   "2101-01-01", "2200-01-01", "2026-02-30", "2026-13-01", "26-10-14",
                                   "14/10/2026", "2026-10-14T10:00", "+2026-10-14"]),
                  st.dates().map(lambda day: day.isoformat()))
values = st.one_of(texts, numbers, dates)


def upload():
    return st.sampled_from([b"", b"%PDF-", TINY_PDF, b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, b"GIF89a", b"x" * 3000]) \
        .flatmap(lambda content: st.sampled_from(["a.pdf", "a.png", "a.jpg", "", "../../x.pdf", "đ\x00.pdf"])
                 .map(lambda name: (io.BytesIO(content), name)))


# --- the world ----------------------------------------------------------------------

@dataclass
class FoundForm:
    action: str
    fields: dict[str, list[str]]  # name -> values seen (the first is the page's own)
    files: set[str] = field(default_factory=set)
    method: str = "post"
    hidden: set[str] = field(default_factory=set)  # version counters, ids, next: what a tamperer changes
    endpoint: str = ""


class FormParser(HTMLParser):
    """The forms of a page: where they go, their fields and the choices offered."""

    def __init__(self, page: str):
        super().__init__()
        self.page, self.forms, self.current, self.select = page, [], None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            method = (attrs.get("method") or "get").lower()
            action = attrs.get("action") or self.page
            self.current = FoundForm(urlsplit(action).path or self.page, {}, method=method)
            self.forms.append(self.current)
        elif self.current is None or not attrs.get("name") and tag != "option":
            return
        elif tag in ("input", "button", "textarea"):
            if attrs.get("type") == "file":
                self.current.files.add(attrs["name"])
            else:
                if attrs.get("type") == "hidden" and attrs["name"] != "csrf_token":
                    self.current.hidden.add(attrs["name"])
                self.current.fields.setdefault(attrs["name"], []).append(attrs.get("value") or "")
        elif tag == "select":
            self.select = attrs["name"]
            self.current.fields.setdefault(self.select, [])
        elif tag == "option" and self.select:
            self.current.fields[self.select].append(attrs.get("value") or "")

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None
        elif tag == "select":
            self.select = None


def _build_world(app, db, make_user, make_registration):
    """Users of every role and records in most states: what the crawl starts from."""
    from tests.support import post_form
    from tests.test_products import staff_form

    officer, leader, admin = make_user(Role.officer), make_user(Role.leader), make_user(Role.admin)
    draft, correspondent = make_registration(Status.draft)
    make_registration(Status.needs_info, correspondent=correspondent)
    make_registration(Status.approved, correspondent=correspondent)
    make_registration(Status.completed, correspondent=correspondent, start_in_days=-10, days=3,
                      assigned_to=officer)
    in_review, _ = make_registration(Status.in_review, assigned_to=officer, border=True)
    proposed, _ = make_registration(Status.in_review, assigned_to=officer)
    make_registration(Status.submitted)
    with app.test_request_context():  # reference data, and a proposal waiting for the leader
        from app.auth.models import User
        from app.extensions import db as app_db
        from app.reference.models import BodyKind, ConsultedBodyEntry, StandardText, StandardTextKind
        from app.registrations.models import Registration
        from tests.support import propose

        border_guard = ConsultedBodyEntry(kind=BodyKind.border_guard, name_vi="Đồn Biên phòng Mộc Bài")
        app_db.session.add(border_guard)
        app_db.session.add_all([StandardText(kind=kind, title=kind.name, text_vi="Văn bản mẫu.",
                                             text_en="A standard text.") for kind in StandardTextKind])
        propose(app_db.session.get(Registration, proposed.id), app_db.session.get(User, officer.id))
        app_db.session.commit()
        border_guard_id = border_guard.id
        app_db.session.remove()
    staff = app.test_client()
    login(staff, officer.email)
    detail = f"/registrations/{in_review.id}"
    consulted = post_form(staff, f"{detail}/consultations", {"consulted_body": str(border_guard_id)}, page=detail)
    assert consulted.status_code == 302  # the world has a consultation (with its letter) to fuzz
    post_form(staff, "/staff/products/new", staff_form(draft.outlet_id, url="https://nrk.example/fuzz"))
    post_form(staff, "/staff/cases/new", {"title": "Map", "finding": "A map", "detected_on": "2026-01-02",
                                          "status": "detected"})
    post_form(staff, "/products/1/evidence", {"file": (io.BytesIO(TINY_PDF), "evidence.pdf")}, page="/products/1")
    return {Role.correspondent: correspondent, Role.officer: officer, Role.leader: leader, Role.admin: admin}


def _ids(db) -> dict[str, list[int]]:
    import sqlalchemy as sa

    from app.auth.models import User
    from app.documents.models import IssuedDocument
    from app.outlets.models import CrewMember
    from app.products.models import EvidenceFile, Product, SovereigntyCase
    from app.registrations.models import Attachment, Consultation, Registration

    def ids(model):
        return list(db.session.scalars(sa.select(model.id).order_by(model.id))) or [1]

    return {"registration_id": ids(Registration), "attachment_id": ids(Attachment),
            "consultation_id": ids(Consultation), "document_id": ids(IssuedDocument), "product_id": ids(Product),
            "evidence_id": ids(EvidenceFile), "case_id": ids(SovereigntyCase), "user_id": ids(User),
            "member_id": ids(CrewMember), "message_id": [1]}


ARGUMENT = re.compile(r"<(?:(?P<converter>[a-z]+)(?:\((?P<options>[^)]*)\))?:)?(?P<name>\w+)>")


def _path(rule: str, choose) -> str:
    return ARGUMENT.sub(lambda match: choose(match.group("converter") or "default", match.group("options"),
                                             match.group("name")), rule)


def _crawl(app, client, rules, ids) -> list[FoundForm]:
    """The forms of every GET page, one per method and action (the choices seen on all pages merged)."""
    forms, forms_of_page = _page_forms(app, client)
    for rule in rules:
        if "GET" not in rule.methods or rule.endpoint in SLOW or rule.endpoint == "static" or \
                rule.endpoint.startswith("bootstrap"):
            continue
        for path in _world_paths(rule, ids):
            forms_of_page(path)
    return list(forms.values())


def _world_paths(rule, ids, limit: int = 12) -> list[str]:
    """The rule's paths for the world's records: every id of the first argument, the first of the others."""
    names = [match.group("name") for match in ARGUMENT.finditer(rule.rule)]
    paths = []
    for index in range(limit):
        def choose(converter, options, name):
            if converter == "int":
                known = ids.get(name, [1])
                return str(known[index % len(known)] if name == names[0] else known[0])
            return options.split(",")[0].strip() if options else "x"
        paths.append(_path(rule.rule, choose))
    return list(dict.fromkeys(paths))


def _page_forms(app, client):
    adapter = app.url_map.bind("localhost")
    forms: dict[str, FoundForm] = {}

    def forms_of_page(path):
        response = client.get(path)
        assert response.status_code < 500, (path, response.status_code)
        if response.mimetype != "text/html":
            return
        parser = FormParser(path)
        parser.feed(response.get_data(as_text=True))
        for found in parser.forms:
            try:
                endpoint, _arguments = adapter.match(found.action, method=found.method.upper())
            except Exception:  # a form to another site
                continue
            if endpoint in SKIPPED_POSTS:
                continue
            known = forms.setdefault((found.method, found.action),
                                     FoundForm(found.action, {}, method=found.method, endpoint=endpoint))
            known.hidden |= found.hidden
            for name, seen in found.fields.items():
                known.fields.setdefault(name, [])
                known.fields[name].extend(value for value in seen if value not in known.fields[name])
            known.files |= found.files

    return forms, forms_of_page


# --- the test -------------------------------------------------------------------------

SETTINGS = settings(max_examples=EXAMPLES, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large, HealthCheck.filter_too_much])


@pytest.mark.parametrize("role", [None, Role.correspondent, Role.officer, Role.leader, Role.admin],
                         ids=["anonymous", "correspondent", "officer", "leader", "admin"])
def test_no_route_answers_500_whatever_it_is_sent(app, db, make_user, make_registration, role):
    users = _build_world(app, db, make_user, make_registration)
    client = app.test_client()
    client.deliver_mail = False  # the fuzzer looks for 500s, not at mail: leave the queue alone
    if role is not None:
        assert login(client, users[role].email).status_code == 302
    rules = list(app.url_map.iter_rules())
    ids = _ids(db)
    forms = _crawl(app, client, rules, ids)
    token = csrf_token(client, "/account" if role is not None else "/login")
    names = sorted({name for form in forms for name in form.fields} | {"page", "next", "role", "state", "show",
                                                                     "month", "registration_id", "product_id"})
    forms_by_endpoint: dict[str, list[FoundForm]] = {}
    for form in forms:
        forms_by_endpoint.setdefault(form.endpoint, []).append(form)
    post_rules = [rule for rule in rules if "POST" in rule.methods and rule.endpoint not in SKIPPED_POSTS]
    get_rules = [rule for rule in rules if "GET" in rule.methods and rule.endpoint != "static"]
    assert forms and post_rules and get_rules

    def path_value(draw, converter, options, name):
        if converter == "int":
            return str(draw(st.one_of(st.sampled_from(ids.get(name, [1])), st.sampled_from(
                [0, MAX_INTEGER, MAX_INTEGER + 1, 2**63, 10**20]), st.integers(0, 10**40))))
        if converter == "any":
            return draw(st.sampled_from([option.strip() for option in options.split(",")] + ["pdf"]))
        return quote(draw(st.text(max_size=120)) or "x", safe="")

    @SETTINGS
    @given(data=st.data())
    def send(data):
        draw = data.draw
        kind = draw(st.sampled_from(["get", "form", "form", "post"]), label="kind")
        endpoint = None
        if kind == "get":
            rule = draw(st.sampled_from(get_rules), label="rule")
            endpoint = rule.endpoint
            if endpoint in SLOW and draw(st.integers(0, 9)):
                return
            path = _path(rule.rule, lambda *args: path_value(draw, *args))
            query = draw(st.dictionaries(st.sampled_from(names), values, max_size=4), label="query")
            response = client.get(path, query_string=query)
        else:
            files = {}
            if kind == "form":
                endpoint = draw(st.sampled_from(sorted(forms_by_endpoint)), label="endpoint")
                form = draw(st.sampled_from(forms_by_endpoint[endpoint]), label="form")
                path = form.action
                # Most fields as the page offers them (so the form often passes and the service runs),
                # one to three replaced by hostile values or dropped; hidden fields (version counters,
                # ids) often, since a page's own values are what a tampered or stale page changes.
                fields = sorted(name for name in form.fields if name != "csrf_token")
                hostile = set()
                if fields:
                    hostile = draw(st.one_of(
                        st.sampled_from(fields).map(lambda name: {name}),
                        st.sampled_from(sorted(form.hidden) or fields).map(lambda name: {name}),
                        st.sets(st.sampled_from(fields), max_size=3)), label="hostile")
                payload = {"csrf_token": token}
                for name in fields:
                    seen = form.fields[name] or [""]
                    if name in hostile:
                        choice = draw(st.one_of(values, st.none()), label=name)
                    else:
                        choice = draw(st.sampled_from(seen), label=name)
                    if choice is not None:
                        payload[name] = choice
                for name in form.files:
                    if draw(st.booleans()):
                        files[name] = draw(upload())
            else:
                rule = draw(st.sampled_from(post_rules), label="rule")
                endpoint = rule.endpoint
                path = _path(rule.rule, lambda *args: path_value(draw, *args))
                payload = draw(st.dictionaries(st.sampled_from(names), values, max_size=8), label="fields")
                payload["csrf_token"] = token
            if files:
                payload.update(files)
            if kind == "form" and form.method == "get":
                payload.pop("csrf_token")
                response = client.get(path, query_string=payload)
            else:
                response = client.post(path, data=payload)
        allowed = ALLOWED_5XX.get(endpoint, set())
        assert response.status_code < 500 or response.status_code in allowed, (path, response.status_code)

    send()
