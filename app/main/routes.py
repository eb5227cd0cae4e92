"""The home page and the language switcher."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import redirect, render_template, request, session, url_for
from flask_login import current_user

from app.auth import service as account_service
from app.auth.models import Role
from app.authority import authority_profile
from app.extensions import db
from app.main import bp
from app.main.checklist import correspondent_checklist
from app.main.forms import LanguageForm
from app.security import is_safe_next


@bp.route("/")
def index():
    checklist = None
    if current_user.is_authenticated and current_user.role is Role.correspondent:
        checklist = correspondent_checklist(current_user)
    return render_template("main/index.html", profile=authority_profile(), checklist=checklist)


@bp.route("/language", methods=["POST"])
def set_language():
    """Remember the chosen language: in the session, and on the account when logged in."""
    form = LanguageForm()
    if form.validate_on_submit():
        session["locale"] = form.locale.data
        if current_user.is_authenticated:
            account_service.set_locale(current_user, form.locale.data)
            db.session.commit()
    target = form.next.data or request.referrer and _path_of(request.referrer)
    return redirect(target if is_safe_next(target) else url_for("main.index"))


def _path_of(url: str) -> str | None:
    """The path of a Referer on this host, or None for another host."""
    parts = urlsplit(url)
    if parts.netloc and parts.netloc != request.host:
        return None
    return parts.path + ("?" + parts.query if parts.query else "")
