"""/dev/mail: what the development catcher received (ENV_NAME=development only, else 404)."""
from __future__ import annotations

import re

from flask import abort, current_app, render_template
from markupsafe import Markup, escape

from app.devmail import bp, store

URL = re.compile(r"https?://[^\s<>\"')\]]+")


@bp.before_request
def development_only():
    if current_app.config["ENV_NAME"] != "development":
        abort(404)


@bp.route("/")
def index():
    return render_template("outbox/devmail_index.html", messages=store.summaries(store.mail_dir()))


@bp.route("/<name>")
def show(name: str):
    message = store.load(store.mail_dir(), name)
    if message is None:
        abort(404)
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    text = text_part.get_content() if text_part is not None else ""
    html_links = URL.findall(html_part.get_content()) if html_part is not None else []
    return render_template("outbox/devmail_show.html", message=message, name=name, text=linkify(text),
                           links=sorted(set(html_links) | set(URL.findall(text))))


def linkify(text: str) -> Markup:
    """The text, escaped, with every http(s) address a link."""
    parts, last = [], 0
    for match in URL.finditer(text):
        parts.append(escape(text[last:match.start()]))
        url = match.group(0)
        parts.append(Markup('<a href="{0}">{0}</a>').format(url))
        last = match.end()
    parts.append(escape(text[last:]))
    return Markup("").join(parts)
