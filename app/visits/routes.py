"""The staff's calendar of approved visits, and the iCalendar feed behind each one's secret link.

Views are thin: parse the request, call the service, commit, render. The queries
and the building of the .ics live in service.py.
"""
from __future__ import annotations

from datetime import date

from babel.dates import format_skeleton, get_day_names
from flask import abort, current_app, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.models import Role
from app.auth.permissions import roles_required
from app.errors import render_error
from app.extensions import csrf, db, limiter
from app.clock import local_today
from app.visits import bp, service
from app.visits.forms import CalendarLinkForm

reviewer_required = roles_required(Role.officer, Role.leader)


def _feed_limit() -> str:
    """Calendar apps poll the feed (hourly, at most every few minutes); the limit stops link guessing."""
    return current_app.config["RATELIMIT_CALENDAR_FEED"]


def _month_label(first_day: date, locale: str, *, in_text: bool = False) -> str:
    """"December 2026", "Tháng 12 năm 2026" (mid-sentence: "tháng 12 năm 2026")."""
    label = format_skeleton("yMMMM", first_day, locale=locale)
    return label if in_text else label[:1].upper() + label[1:]


def _calendar_page(first_day: date, today: date, *, new_link: str | None = None):
    locale = str(get_locale())
    day_names = get_day_names("wide", locale=locale)
    return render_template(
        "visits/calendar.html", view=service.month_view(first_day, today), link_form=CalendarLinkForm(),
        has_link=current_user.calendar_token_hash is not None, new_link=new_link,
        month_label=lambda first, in_text=False: _month_label(first, locale, in_text=in_text),
        month_param=service.month_param,
        day_names=[day_names[weekday] for weekday in range(7)])  # Monday first, as in Vietnam


@bp.route("/staff/calendar")
@reviewer_required
def calendar():
    today = local_today()
    try:
        first_day = service.parse_month(request.args.get("month"), today)
    except service.InvalidMonth:
        return render_error(400, _("“%(value)s” is not a month the calendar can show. Write the month as "
                                   "year-month, for example %(example)s.",
                                   value=request.args.get("month", "")[:20], example=service.month_param(today)))
    return _calendar_page(first_day, today)


@bp.route("/staff/calendar/link", methods=["GET", "POST"])
@reviewer_required
def calendar_link():
    """Make a new feed link (the old one stops working) and show it in this response only.

    The link is shown once, like a new password: only its hash is stored, so it cannot
    be shown again later; it is rendered into this POST's answer (marked no-store) rather
    than flashed, because a flash would carry the secret through the session cookie.
    A GET (a reload, a language switch) goes back to the calendar page.
    """
    form = CalendarLinkForm()
    if request.method == "GET" or not form.validate_on_submit():
        return redirect(url_for("visits.calendar", _anchor="calendar-link"))
    raw_token = service.reset_calendar_link(current_user)
    db.session.commit()
    today = local_today()
    response = current_app.make_response(_calendar_page(today.replace(day=1), today,
                                                        new_link=service.feed_url(raw_token)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/calendar/<token>.ics")
@csrf.exempt
@limiter.limit(_feed_limit)
def feed(token: str):
    """The iCalendar feed: no login (a calendar app cannot log in), the secret link is the key."""
    user = service.feed_user(token)
    if user is None:
        abort(404)
    body = service.build_feed(user, local_today())
    response = current_app.response_class(body, content_type="text/calendar; charset=utf-8")
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["X-Robots-Tag"] = "noindex"
    return response
