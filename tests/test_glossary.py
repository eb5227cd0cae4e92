"""The Vietnamese catalogue follows docs/glossary.md: one term per idea, the avoided terms nowhere.

The glossary table is parsed here, so the document and the check cannot drift apart.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from app.auth.models import Role
from tests.support import login

ROOT = Path(__file__).resolve().parent.parent
GLOSSARY = ROOT / "docs/glossary.md"
VI_CATALOGUE = ROOT / "app/translations/vi/LC_MESSAGES/messages.po"
COLUMNS = ["concept", "English", "Vietnamese", "avoid", "scope", "required", "notes"]

# The emails that go to correspondents (app/registrations/service.py `_mail_correspondents`,
# app/products/service.py, app/auth/service.py), with the layouts they extend.
CORRESPONDENT_MAILS = [
    "_layout.html", "_registration.html", "_registration.txt",
    "registration_received", "registration_message", "registration_needs_info", "registration_approved",
    "registration_refused", "registration_revoked", "post_visit_reminder", "product_correction",
    "account_exists", "confirm_email", "reset_password", "password_changed",
]
GREETING = "Hello %(name)s,"


@dataclass(frozen=True)
class Term:
    concept: str
    english: tuple[str, ...]
    vietnamese: str
    avoid: tuple[str, ...]
    scope: str
    required: bool


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _list(cell: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in cell.split(";") if item.strip() and item.strip() != "—")


def parse_glossary(text: str) -> list[Term]:
    """The rows of the table whose header is COLUMNS."""
    lines = text.splitlines()
    start = next(index for index, line in enumerate(lines) if line.startswith("|") and _cells(line) == COLUMNS)
    terms = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        cells = _cells(line)
        assert len(cells) == len(COLUMNS), f"glossary row with {len(cells)} cells: {line}"
        row = dict(zip(COLUMNS, cells))
        assert row["scope"] in ("all", "mail") and row["required"] in ("yes", "no"), line
        terms.append(Term(row["concept"], _list(row["English"]), _nfc(row["Vietnamese"]),
                          tuple(_nfc(term) for term in _list(row["avoid"])), row["scope"], row["required"] == "yes"))
    return terms


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def contains_word(text: str, term: str) -> bool:
    """`term` in `text` as whole words (not inside a longer word), whatever the case or the
    Unicode normalisation of either."""
    pattern = r"(?<!\w)" + re.escape(_nfc(term)) + r"(?!\w)"
    return re.search(pattern, _nfc(text), flags=re.IGNORECASE) is not None


def avoided_terms_used(entries, terms: list[Term], scope: str = "all") -> list[str]:
    """Each (msgid, msgstr) whose msgstr uses a term the glossary says to avoid in that scope."""
    problems = []
    for msgid, msgstr in entries:
        for term in terms:
            if term.scope != scope:
                continue
            for avoided in term.avoid:
                if contains_word(msgstr, avoided):
                    problems.append(f"{msgid!r}: {msgstr!r} uses {avoided!r}, say {term.vietnamese!r}")
    return problems


def missing_terms(entries, terms: list[Term]) -> list[str]:
    """Required terms absent from the catalogue, or not used for their own msgids."""
    problems = []
    strings = dict(entries)
    for term in terms:
        if term.required and not any(contains_word(msgstr, term.vietnamese) for msgstr in strings.values()):
            problems.append(f"{term.vietnamese!r} ({term.concept}) is nowhere in the catalogue")
        for msgid in term.english:
            if msgid not in strings:
                if term.required:
                    problems.append(f"{msgid!r} named in the glossary is not in the catalogue")
                continue
            if not contains_word(strings[msgid], term.vietnamese):
                problems.append(f"{msgid!r}: {strings[msgid]!r} should say {term.vietnamese!r}")
    return problems


def _singular(value):
    return value if isinstance(value, str) else value[0]


def catalogue_entries(path: Path = VI_CATALOGUE) -> list[tuple[str, str]]:
    with path.open("rb") as source:
        catalogue = read_po(source)
    entries = []
    for message in catalogue:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        entries.extend((_singular(message.id), string) for string in strings if string)
    return entries


def correspondent_mail_ids() -> set[str]:
    ids = set()
    for name in CORRESPONDENT_MAILS:
        paths = [ROOT / "templates/email" / name] if "." in name else [
            ROOT / "templates/email" / f"{name}.{suffix}" for suffix in ("txt", "html")]
        for path in paths:
            assert path.exists(), f"{path} is gone: update CORRESPONDENT_MAILS"
            for _lineno, message, _comments, _context in extract_from_file(
                    "jinja2", str(path), keywords={"_": None, "gettext": None, "ngettext": (1, 2)},
                    options={"extensions": "jinja2.ext.do"}):
                ids.add(_singular(message))
    return ids


@pytest.fixture(scope="module")
def glossary() -> list[Term]:
    return parse_glossary(GLOSSARY.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def entries() -> list[tuple[str, str]]:
    return catalogue_entries()


# --- the checker itself ------------------------------------------------------------------

def test_the_glossary_names_the_terms_of_the_issue(glossary):
    terms = {term.vietnamese: term for term in glossary}
    assert "tin nhắn" in terms["trao đổi"].avoid
    assert "gắn cờ" in terms["có dấu hiệu sai lệch chủ quyền, biên giới"].avoid
    assert "trước ngày" in terms["chậm nhất ngày"].avoid
    assert {"chuyến thăm", "chuyến hoạt động", "chuyến công tác", "lượt hoạt động"} <= set(
        terms["đợt hoạt động báo chí"].avoid)
    assert {"chuyên viên thụ lý", "phân công thụ lý", "Thống kê, báo cáo", "Kính gửi Ông/Bà", "Ông/Bà", "hồ sơ",
            "dự thảo", "trả lại", "lãnh đạo", "xin ý kiến", "văn bản chấp thuận", "giấy phép", "cán bộ đi cùng",
            "phóng viên", "cơ quan báo chí"} <= set(terms)
    assert len(terms) == len(glossary), "one row per Vietnamese term"


def test_checker_reports_an_avoided_term(glossary):
    fake = [("Messages", "Tin nhắn"), ("Send the message", "Gửi TIN NHẮN"),
            ("Message sent.", unicodedata.normalize("NFD", "Đã gửi tin nhắn."))]
    problems = avoided_terms_used(fake, glossary)
    assert len(problems) == 3 and all("'tin nhắn'" in problem for problem in problems)


def test_checker_matches_whole_words_only(glossary):
    assert contains_word("Hồ sơ của bạn", "bạn") and not contains_word("Hồ sơ của bạnh", "bạn")
    assert not avoided_terms_used([("x", "Đã gửi nội dung trao đổi.")], glossary)
    assert avoided_terms_used([("x", "Kính gửi bạn")], glossary, scope="mail")


def test_checker_reports_a_missing_term(glossary):
    fake = [("Indicators", "Chỉ số"), ("Messages", "Trao đổi")]
    problems = missing_terms(fake, glossary)
    assert any("'Indicators': 'Chỉ số' should say 'Thống kê, báo cáo'" in problem for problem in problems)
    assert not any(problem.startswith("'Messages'") for problem in problems)


# --- the catalogue ---------------------------------------------------------------------

def test_no_msgstr_uses_an_avoided_term(glossary, entries):
    assert avoided_terms_used(entries, glossary) == []


def test_the_catalogue_uses_the_glossary_terms(glossary, entries):
    assert missing_terms(entries, glossary) == []


def test_deadlines_say_at_the_latest_on(entries):
    deadline = re.compile(r"\bby %\((?:date|due)\)s")
    wrong = [(msgid, msgstr) for msgid, msgstr in entries
             if deadline.search(msgid) and "chậm nhất ngày" not in _nfc(msgstr)]
    assert wrong == []


def test_assigning_is_always_phan_cong_thu_ly(entries):
    wrong = [(msgid, msgstr) for msgid, msgstr in entries
             if re.search(r"phân công(?! thụ lý)", _nfc(msgstr), flags=re.IGNORECASE)]
    assert wrong == []


def test_mails_to_correspondents_say_ong_ba(glossary, entries):
    mail_ids = correspondent_mail_ids()
    assert GREETING in mail_ids and "Your registration is approved." in mail_ids
    mail_entries = [(msgid, msgstr) for msgid, msgstr in entries if msgid in mail_ids]
    assert avoided_terms_used(mail_entries, glossary, scope="mail") == []
    assert dict(entries)[GREETING] == "Kính gửi Ông/Bà %(name)s,"


def test_the_menu_says_thong_ke_bao_cao(client, make_user):
    login(client, make_user(Role.officer).email)
    body = client.get("/").get_data(as_text=True)
    assert "Thống kê, báo cáo" in body and ">Chỉ số<" not in body
