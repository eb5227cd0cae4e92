"""Staff pages of the checkpoint: enrol and revoke devices, and read the checks per device and per permit.

An enrolment code is shown once, in the answer to the POST that made it (marked no-store), like
the calendar feed link: only its hash is kept, so it cannot be shown again.
"""
from __future__ import annotations

from datetime import timedelta

from flask import abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import format_timedelta
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import BooleanField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from app.audit.labels import register_action_labels
from app.auth.permissions import roles_required
from app.checkpoint import bp, service
from app.checkpoint.models import CheckpointDevice
from app.documents.models import DocumentKind, IssuedDocument
from app.documents.qr import QUIET_ZONE_MODULES, dark_outlines, qr_matrix
from app.extensions import db
from app.forms import Form
from app.ops.addresses import address_problem
from app.pagination import paginate

register_action_labels(service.AUDIT_LABELS)

manager_required = roles_required(*service.MANAGERS)

OUTCOME_LABELS = {
    "valid": _l("valid"),
    "not_yet_valid": _l("not yet valid"),
    "expired": _l("expired"),
    "revoked": _l("revoked"),
    "unknown": _l("unknown or forged"),
    "revocation_unknown": _l("signature and dates right, revocation status unknown"),
}


class EnrolmentForm(Form):
    checkpoint_name = StringField(_l("Checkpoint name"), validators=[DataRequired(), Length(max=200)],
                                  description=_l("For example: Mộc Bài border gate, police post of Tân Biên."))
    submit = SubmitField(_l("Create an enrolment code"))


class RevokeDeviceForm(Form):
    confirm = BooleanField(_l("Yes, revoke this device: at its next sync it is refused and deletes what it cached."),
                           validators=[DataRequired(_l("Tick the box to confirm."))])
    submit = SubmitField(_l("Revoke the device"))


def qr_svg_path(data: str) -> tuple[int, str]:
    """(side in modules with the quiet zone, SVG path of the dark modules) of the QR code for `data`."""
    matrix = qr_matrix(data)
    offset = QUIET_ZONE_MODULES
    path = "".join("M" + "L".join(f"{column + offset} {row + offset}" for column, row in outline) + "Z"
                   for outline in dark_outlines(matrix))
    return len(matrix) + 2 * offset, path


def data_age(seconds: int | None) -> str:
    if seconds is None:
        return ""
    return format_timedelta(timedelta(seconds=seconds), threshold=1.1)


@bp.context_processor
def checkpoint_labels():
    return {"check_outcome_label": lambda outcome: OUTCOME_LABELS.get(outcome, outcome),
            "check_data_age": data_age}


def _index_page(form: EnrolmentForm, status: int = 200, *, enrolment=None, code: str | None = None):
    new_code = None
    if code is not None:
        url = service.enrolment_url(code)
        size, path = qr_svg_path(url)
        new_code = {"code": code, "url": url, "expires_at": enrolment.expires_at,
                    "checkpoint_name": enrolment.checkpoint_name, "qr_size": size, "qr_path": path}
    # A loopback or plain-http address: a phone cannot open the link, or cannot keep the app offline.
    unsafe_address = address_problem(current_app.config["BASE_URL"]) is not None
    response = make_response(render_template(
        "checkpoint/staff/index.html", devices=service.devices_with_counts(), form=form, new_code=new_code,
        unsafe_address=unsafe_address), status)
    if new_code is not None:
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/staff/checkpoints")
@manager_required
def index():
    return _index_page(EnrolmentForm(formdata=None))


@bp.route("/staff/checkpoints/enrolments", methods=["GET", "POST"])
@manager_required
def create_enrolment():
    """Make a code and show it, with its QR code, in this answer only. A GET (a reload) goes back to the list."""
    form = EnrolmentForm()
    if request.method == "GET":
        return redirect(url_for("checkpoint.index"))
    if not form.validate_on_submit():
        return _index_page(form, 400)
    try:
        enrolment, code = service.create_enrolment(current_user, form.checkpoint_name.data)
    except service.CheckpointError as error:
        db.session.rollback()
        form.checkpoint_name.errors = [str(error)]
        return _index_page(form, error.status)
    db.session.commit()
    return _index_page(EnrolmentForm(formdata=None), enrolment=enrolment, code=code)


def _check_rows_page(query):
    page = paginate(query)
    return page, service.check_rows(list(page.items))


def _device_page(device: CheckpointDevice, revoke_form: RevokeDeviceForm, status: int = 200):
    page, rows = _check_rows_page(service.checks_for_device(device))
    return render_template("checkpoint/staff/device.html", device=device, page=page, rows=rows,
                           revoke_form=revoke_form), status


@bp.route("/staff/checkpoints/<int:device_id>")
@manager_required
def device(device_id: int):
    return _device_page(db.get_or_404(CheckpointDevice, device_id), RevokeDeviceForm(formdata=None))


@bp.route("/staff/checkpoints/<int:device_id>/revoke", methods=["POST"])
@manager_required
def revoke(device_id: int):
    checkpoint_device = db.get_or_404(CheckpointDevice, device_id)
    form = RevokeDeviceForm()
    if not form.validate_on_submit():
        return _device_page(checkpoint_device, form, 400)
    if service.revoke_device(current_user, checkpoint_device):
        db.session.commit()
        flash(_("The device of %(checkpoint)s is revoked: at its next sync it is refused and deletes what it "
                "cached.", checkpoint=checkpoint_device.checkpoint_name), "success")
    else:
        flash(_("This device was already revoked."), "info")
    return redirect(url_for("checkpoint.device", device_id=device_id))


@bp.route("/staff/permits/<int:document_id>/checks")
@manager_required
def permit_checks(document_id: int):
    document = db.get_or_404(IssuedDocument, document_id)
    if document.kind is not DocumentKind.permit:
        abort(404)
    page, rows = _check_rows_page(service.checks_for_permit(document))
    return render_template("checkpoint/staff/permit_checks.html", document=document, page=page, rows=rows)
