"""The admin Outbox page: what is waiting, failed and sent; resend one; send a test message."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from app.auth.permissions import admin_required
from app.extensions import db
from app.outbox import bp, service
from app.outbox.forms import ResendForm, RetryFailedForm, TestMessageForm
from app.outbox.models import OutboxMessage
from app.pagination import paginate


@bp.route("/")
@admin_required
def index():
    return _page()


def _page(test_form: TestMessageForm | None = None):
    state = request.args.get("state", "pending")
    if state not in service.STATES:
        state = "pending"
    return render_template("outbox/index.html", state=state, page=paginate(service.messages_query(state)),
                           health=service.mail_health(), test_form=test_form or TestMessageForm(),
                           resend_form=ResendForm(), retry_form=RetryFailedForm())


@bp.route("/<int:message_id>/resend", methods=["POST"])
@admin_required
def resend(message_id: int):
    db.get_or_404(OutboxMessage, message_id)
    if ResendForm().validate_on_submit():
        try:
            message = service.resend(message_id, actor=current_user)
        except service.OutboxError:
            db.session.rollback()
            flash(_("This message is being sent right now; look again in a minute."), "warning")
            return redirect(url_for("outbox.index", state=request.args.get("state", "pending")))
        db.session.commit()
        flash(_("Message to %(email)s queued; the worker sends it within seconds.", email=message.recipient),
              "success")
    return redirect(url_for("outbox.index"))


@bp.route("/retry-failed", methods=["POST"])
@admin_required
def retry_failed():
    if RetryFailedForm().validate_on_submit():
        count = service.retry_failed(actor=current_user)
        db.session.commit()
        flash(ngettext("%(num)d failed message queued again.", "%(num)d failed messages queued again.", count),
              "success")
    return redirect(url_for("outbox.index"))


@bp.route("/test", methods=["POST"])
@admin_required
def test_message():
    form = TestMessageForm()
    if form.validate_on_submit():
        service.queue_test_message(form.email.data, current_user)
        db.session.commit()
        flash(_("Test message to %(email)s queued; the worker sends it within seconds.", email=form.email.data),
              "success")
        return redirect(url_for("outbox.index"))
    return _page(form), 400
