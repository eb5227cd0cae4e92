"""The audit list for administrators: filter by action, person and dates."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app, render_template, request
from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice

from app.audit import bp
from app.audit.forms import AuditFilterForm
from app.audit.labels import ACTION_LABELS
from app.audit.models import AuditEvent
from app.auth.permissions import admin_required
from app.pagination import paginate



def _local_midnight_utc(day) -> datetime:
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return datetime.combine(day, time.min, tzinfo=zone)


@bp.route("/")
@admin_required
def events():
    form = AuditFilterForm(request.args)
    form.action.choices = [SelectChoice("", _l("All actions"))] + [
        SelectChoice(key, label) for key, label in ACTION_LABELS.items()]
    query = sa.select(AuditEvent).order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    if form.validate():
        if form.action.data:
            query = query.where(AuditEvent.action == form.action.data)
        if form.actor.data:
            query = query.where(AuditEvent.actor_email.icontains(form.actor.data.strip(), autoescape=True))
        if form.date_from.data:
            query = query.where(AuditEvent.created_at >= _local_midnight_utc(form.date_from.data))
        if form.date_to.data:
            query = query.where(AuditEvent.created_at < _local_midnight_utc(form.date_to.data + timedelta(days=1)))
    page = paginate(query)
    return render_template("audit/events.html", form=form, page=page, action_labels=ACTION_LABELS)
