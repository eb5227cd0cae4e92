"""The guide for foreign press: which text to show, saving an administrator's edit, safe rendering."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Optional

import markdown
import nh3
import sqlalchemy as sa
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor
from markupsafe import Markup

from app.audit.service import record_event
from app.auth.models import User
from app.authority import authority_profile
from app.db import utcnow
from app.extensions import db
from app.guide.content import GUIDE_LOCALES, default_guide
from app.guide.models import GuidePage

# What survives sanitising. Everything else, including any raw HTML an administrator
# types, is removed: the site's CSP forbids inline scripts and styles anyway, and a
# stored page is shown to every visitor.
ALLOWED_TAGS = {
    "p", "h2", "h3", "h4", "ul", "ol", "li", "strong", "em", "a", "blockquote",
    "table", "thead", "tbody", "tr", "th", "td", "code", "pre", "hr", "br",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "noopener noreferrer"
# Set by the sanitiser, never taken from the text: Bootstrap's look for tables, and
# headings a step below the page's own title.
FIXED_ATTRIBUTES = {
    "h2": {"class": "h4 mt-4"},
    "h3": {"class": "h5 mt-3"},
    "h4": {"class": "h6 mt-3"},
    "table": {"class": "table table-sm table-bordered"},
}
# Removed with their content, not only their tags.
REMOVED_WITH_CONTENT = {"script", "style", "iframe", "noscript", "noembed", "noframes", "template",
                        "textarea", "title", "xmp"}


@dataclass(frozen=True)
class Guide:
    """The guide as one language's visitors see it."""

    locale: str
    body_markdown: str
    updated_at: Optional[datetime]  # None: the default text, never saved

    @property
    def html(self) -> Markup:
        return render_markdown(self.body_markdown)


def guide_for(locale: str) -> Guide:
    """The saved guide in `locale`, or the default text filled from the authority profile."""
    locale = locale if locale in GUIDE_LOCALES else "en"
    page = _page(locale)
    if page is None:
        return Guide(locale, default_guide(locale, authority_profile()), None)
    return Guide(locale, page.body_markdown, page.updated_at)


def save_guide(*, admin: User, bodies: dict[str, str]) -> list[GuidePage]:
    """Store the guide's text per language; audit each language whose text changed.

    Saving the text unchanged stores nothing, so an untouched default keeps following
    the authority profile. Returns the pages that changed. Flushes, never commits.
    """
    changed = []
    for locale in GUIDE_LOCALES:
        if locale not in bodies:
            continue
        text = normalise(bodies[locale])
        page = _page(locale)
        was_default = page is None
        before = default_guide(locale, authority_profile()) if was_default else page.body_markdown
        if text == normalise(before):
            continue
        if was_default:
            page = GuidePage(locale=locale)
            db.session.add(page)
        page.body_markdown = text
        page.updated_at = utcnow()
        page.updated_by_id = admin.id
        db.session.flush()
        record_event("guide.updated", actor=admin, subject=page,
                     before=_summary(locale, normalise(before), default=was_default),
                     after=_summary(locale, text))
        changed.append(page)
    return changed


def normalise(text: str) -> str:
    """Browsers send textareas with CRLF line ends; store LF, without surrounding blank space."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip() + "\n"


def render_markdown(text: str) -> Markup:
    """Markdown to HTML, then sanitised: only then is it marked safe for templates."""
    html = markdown.markdown(text, extensions=["tables", "sane_lists", _HeadingLevels()], output_format="html")
    clean = nh3.clean(html, tags=ALLOWED_TAGS, clean_content_tags=REMOVED_WITH_CONTENT,
                      attributes=ALLOWED_ATTRIBUTES, url_schemes=ALLOWED_URL_SCHEMES, link_rel=LINK_REL,
                      set_tag_attribute_values=FIXED_ATTRIBUTES, strip_comments=True)
    return Markup(clean)


def _page(locale: str) -> GuidePage | None:
    return db.session.scalar(sa.select(GuidePage).where(GuidePage.locale == locale))


def _summary(locale: str, text: str, default: bool = False) -> dict:
    """What the audit keeps of a text: enough to tell versions apart, not the text twice."""
    summary = {"locale": locale, "length": len(text), "sha256": hashlib.sha256(text.encode()).hexdigest()}
    if default:
        summary["default"] = True
    return summary


class _DemoteHeadingsProcessor(Treeprocessor):
    def run(self, root):
        for element in root.iter():
            if element.tag == "h1":
                element.tag = "h2"
            elif element.tag in ("h5", "h6"):
                element.tag = "h4"


class _HeadingLevels(Extension):
    """The page has its own h1: a `#` heading in the guide becomes h2, h5 and h6 become h4."""

    def extendMarkdown(self, md):
        md.treeprocessors.register(_DemoteHeadingsProcessor(md), "pressdesk_heading_levels", 1)
