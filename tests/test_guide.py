"""The public guide for foreign press: default text from the profile, admin edits, safe Markdown."""
from __future__ import annotations

import html
import json
import re

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.auth.models import Role
from app.authority import DEMO_PROFILE
from app.guide.models import GuidePage
from tests.support import login, post_form

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)

HOSTILE_MARKDOWN = """\
## Safe heading

<script>alert(1)</script>

<img src=x onerror=alert(2)>

[x](javascript:alert(3))

<a href="https://ok.example" onclick="x">ok</a>

<p style="color:red">red text</p>

<iframe src="https://evil.example"></iframe>
"""


@pytest.fixture
def app_config(tmp_path):
    """The demo profile with deadlines unlike any other number on the page."""
    profile = json.loads(DEMO_PROFILE.read_text(encoding="utf-8"))
    profile.update(submission_lead_time_working_days=7, reply_deadline_working_days=4,
                   post_visit_report_working_days=2)
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(profile), encoding="utf-8")
    return {"AUTHORITY_PROFILE_FILE": str(path)}


def admin_client(client, make_user):
    admin = make_user(Role.admin, locale="en")
    login(client, admin.email)
    return admin


def guide_text(client, locale="en") -> str:
    response = client.get("/guide", headers={"Accept-Language": locale})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def article(body: str) -> str:
    """The guide's own text on the page, without the navigation around it."""
    return re.search(r"<article[^>]*>(.*?)</article>", body, re.S).group(1)


def save(client, vi: str, en: str, **kwargs):
    return post_form(client, "/admin/guide", {"body_vi": vi, "body_en": en}, **kwargs)


def test_anonymous_visitor_reads_the_default_guide_in_english(client):
    body = guide_text(client, "en")
    assert "<h1" in body and "Guide for foreign press" in body
    text = article(body)
    assert "DEMO Tay Ninh Province" in text
    assert "at least <strong>7 working days</strong> before" in text
    assert "in writing within 4 working days" in text
    assert "within 2 working days after it ends" in text
    assert "Ministry of Foreign Affairs" in text and "flight permit" in text and "QR code" in text
    assert '<a href="mailto:press-demo@example.org" rel="noopener noreferrer">press-demo@example.org</a>' in text
    assert "+84 276 000 0000" in text
    assert "{" not in text  # every placeholder was filled


def test_anonymous_visitor_reads_the_default_guide_in_vietnamese(client):
    body = guide_text(client, "vi")
    assert '<html lang="vi">' in body
    text = article(body)
    assert "tỉnh DEMO Tây Ninh" in text
    assert "Ủy ban nhân dân tỉnh DEMO Tây Ninh" in text  # the letterhead capitals, as running text
    assert "chậm nhất <strong>7 ngày làm việc</strong>" in text
    assert "trong thời hạn 4 ngày làm việc" in text
    assert "Bộ Ngoại giao" in text and "giấy phép bay" in text and "mã QR" in text
    assert "{" not in text


def test_the_guide_is_linked_from_the_menu_and_the_home_page(client):
    body = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert body.count('href="/guide"') == 2  # the menu and the correspondents' card


def test_admin_edits_both_languages_and_visitors_see_the_new_text(app, client, db, make_user):
    admin = admin_client(client, make_user)
    form = client.get("/admin/guide").get_data(as_text=True)
    # The form starts from the default text, its placeholders already filled.
    assert "DEMO Tay Ninh Province" in form and "tỉnh DEMO Tây Ninh" in form
    assert "{lead_time}" not in form and "7 working days" in form

    response = save(client, "## Hướng dẫn mới\r\n\r\nNội dung tiếng Việt.", "## New guide\r\n\r\nEnglish text.")
    assert response.status_code == 302 and response.location == "/guide"

    visitor = app.test_client()
    text = article(guide_text(visitor, "en"))
    assert '<h2 class="h4 mt-4">New guide</h2>' in text and "English text." in text and "DEMO Tay Ninh" not in text
    assert "Last updated" in guide_text(visitor, "en")
    assert '<h2 class="h4 mt-4">Hướng dẫn mới</h2>' in article(guide_text(visitor, "vi"))

    pages = {page.locale: page for page in db.session.scalars(sa.select(GuidePage))}
    assert pages["en"].body_markdown == "## New guide\n\nEnglish text.\n"  # LF line ends, as stored
    assert pages["vi"].updated_by_id == admin.id
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "guide.updated")
                                .order_by(AuditEvent.id)).all()
    assert [event.after["locale"] for event in events] == ["vi", "en"]
    english = events[1]
    assert (english.actor_id, english.object_type, english.object_id) == (admin.id, "guide_pages",
                                                                           str(pages["en"].id))
    assert english.before["default"] is True and english.before["length"] > 1000
    assert english.after["length"] == len("## New guide\n\nEnglish text.\n")
    assert "English text." not in json.dumps([english.before, english.after])  # the text is not stored twice


def test_saving_again_audits_only_the_language_that_changed(client, db, make_user):
    admin_client(client, make_user)
    save(client, "Văn bản một.", "Text one.")
    response = save(client, "Văn bản một.", "Text two.", follow_redirects=True)
    assert "Guide saved." in response.get_data(as_text=True)
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "guide.updated")).all()
    assert [event.after["locale"] for event in events] == ["vi", "en", "en"]
    last = events[-1]
    assert last.before["sha256"] != last.after["sha256"] and "default" not in last.before

    response = save(client, "Văn bản một.", "Text two.", follow_redirects=True)
    assert "No changes to save." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "guide.updated")) == 3


def test_saving_the_untouched_default_stores_nothing(client, db, make_user):
    """An unchanged default keeps following the authority profile."""
    admin_client(client, make_user)
    form = client.get("/admin/guide").get_data(as_text=True)
    defaults = {name: re.search(rf'<textarea[^>]*name="{name}"[^>]*>\n?(.*?)</textarea>', form, re.S).group(1)
                for name in ("body_vi", "body_en")}
    save(client, html.unescape(defaults["body_vi"]), html.unescape(defaults["body_en"]))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(GuidePage)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "guide.updated")) == 0


def test_an_empty_or_huge_text_is_refused(client, db, make_user):
    admin_client(client, make_user)
    response = save(client, "", "English.")
    assert response.status_code == 200 and "This field is required." in response.get_data(as_text=True)
    response = save(client, "x" * 30_001, "English.")
    assert "Field cannot be longer than 30000 characters." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(GuidePage)) == 0


@pytest.mark.parametrize("role", [Role.correspondent, Role.officer, Role.leader])
def test_only_administrators_edit_the_guide(app, client, db, make_user, role):
    login(client, make_user(role).email)
    assert client.get("/admin/guide").status_code == 403
    response = post_form(client, "/admin/guide", {"body_vi": "Bị sửa.", "body_en": "Defaced."}, page="/guide")
    assert response.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(GuidePage)) == 0
    assert "Edit guide" not in guide_text(client)


def test_anonymous_visitors_are_sent_to_log_in(client, db):
    response = client.get("/admin/guide")
    assert response.status_code == 302 and response.location.startswith("/login")
    response = post_form(client, "/admin/guide", {"body_vi": "Bị sửa.", "body_en": "Defaced."}, page="/guide")
    assert response.status_code == 302 and response.location.startswith("/login")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(GuidePage)) == 0


def test_administrators_see_an_edit_button_on_the_guide(client, make_user):
    admin_client(client, make_user)
    assert 'href="/admin/guide"' in guide_text(client)


def test_raw_html_and_dangerous_links_never_reach_the_page(app, client, make_user):
    admin_client(client, make_user)
    save(client, HOSTILE_MARKDOWN, HOSTILE_MARKDOWN)
    for locale in ("en", "vi"):
        body = guide_text(app.test_client(), locale)
        text = article(body)
        assert "<script" not in text.lower() and not INLINE_SCRIPT.search(body)  # only Bootstrap's own files
        for forbidden in ("alert(", "onerror", "javascript:", "onclick", "style=", "<img", "<iframe", "evil.example"):
            assert forbidden not in body.lower(), forbidden
        assert '<h2 class="h4 mt-4">Safe heading</h2>' in text
        assert '<a href="https://ok.example" rel="noopener noreferrer">ok</a>' in text
        assert "<p>red text</p>" in text


def test_markdown_renders_headings_lists_tables_and_safe_links(client, make_user):
    admin_client(client, make_user)
    markdown_text = (
        "# Top heading\n\n### Documents\n\n- programme\n- crew list\n\n1. first\n2. second\n\n"
        "See [the ministry](https://mofa.example/press \"MOFA\") or [write](mailto:press@example.org).\n\n"
        "| Step | Days |\n|---|---|\n| Reply | 5 |\n\n> Quoted **rule** and *note*.\n"
    )
    save(client, markdown_text, markdown_text)
    text = article(guide_text(client))
    assert "<h1" not in text and '<h2 class="h4 mt-4">Top heading</h2>' in text  # the page keeps the only h1
    assert '<h3 class="h5 mt-3">Documents</h3>' in text
    assert "<ul>\n<li>programme</li>\n<li>crew list</li>\n</ul>" in text
    assert "<ol>\n<li>first</li>" in text
    assert '<a href="https://mofa.example/press" title="MOFA" rel="noopener noreferrer">the ministry</a>' in text
    assert '<a href="mailto:press@example.org" rel="noopener noreferrer">write</a>' in text
    assert '<table class="table table-sm table-bordered">' in text and "<td>Reply</td>" in text
    assert "<blockquote>" in text and "<strong>rule</strong>" in text and "<em>note</em>" in text


@pytest.mark.parametrize("locale", ["en", "vi"])
def test_the_guide_pages_have_no_inline_script_or_style(app, client, make_user, locale):
    """The CSP forbids inline scripts and styles: neither the default, nor a saved text, nor the form has any."""
    pages = [guide_text(app.test_client(), locale)]
    admin_client(client, make_user)
    save(client, "## Tiêu đề\n\n| a |\n|---|\n| b |\n", "## Title\n\n| a |\n|---|\n| b |\n")
    pages += [guide_text(app.test_client(), locale), client.get("/admin/guide").get_data(as_text=True)]
    for body in pages:
        assert not INLINE_SCRIPT.search(body), "inline <script>"
        assert "style=" not in body and "<style" not in body
