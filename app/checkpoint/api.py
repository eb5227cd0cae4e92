"""The checkpoint's JSON endpoints: public trust data, device enrolment, a device's permits and checks.

No session, no CSRF token: the trust data is public, and a device proves itself with its bearer
token (`Authorization: Bearer ...`), which a cross-site form cannot send. Every answer is marked
`Cache-Control: no-cache` (or no-store when it carries a secret or personal data); messages are
in the client's language (Accept-Language, or ?lang=vi|en).
"""
from __future__ import annotations

from flask import current_app, jsonify, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from app.checkpoint import bp, service
from app.checkpoint.service import CheckpointError
from app.database import writes
from app.errors import MESSAGES, render_error
from app.extensions import csrf, db, limiter

API_PREFIXES = ("/check/api/", "/check/trust/")


def _checkpoint_limit() -> str:
    return current_app.config["RATELIMIT_CHECKPOINT"]


def _public_limit() -> str:
    """The public trust data is fetched by every phone that opens /check, as often as a scan."""
    return current_app.config["RATELIMIT_VERIFY"]


def _json(document: dict, status: int = 200, *, cache: str = "no-cache"):
    response = jsonify(document)
    response.status_code = status
    response.headers["Cache-Control"] = cache
    return response


def _error(message, status: int, **extra):
    return _json({"error": str(message), **extra}, status, cache="no-store")


def _refused_device():
    """A revoked or unknown device: it deletes its token, its permit cache and its queue."""
    db.session.rollback()
    return _error(_l("This phone is not, or no longer, an enrolled checkpoint device."), 401, wipe=True)


def _calling_device():
    device = service.device_for_token(service.bearer_token(request.headers.get("Authorization")))
    return device if device is not None and device.revoked_at is None else None


@bp.route("/check/trust/keys.json")
@limiter.limit(_public_limit)
def trust_keys():
    return _json(service.signed_key_set())


@bp.route("/check/trust/revocations.json")
@limiter.limit(_public_limit)
def trust_revocations():
    try:
        since = service.parse_since(request.args.get("since"))
    except CheckpointError as error:
        return _error(error, error.status)
    return _json(service.revocation_list(since))


@bp.route("/check/api/enrol", methods=["POST"], endpoint="api_enrol")  # lead: /check/enrol is the page
@csrf.exempt
@limiter.limit(_checkpoint_limit)
def enrol():
    body = request.get_json(silent=True)
    try:
        device, token = service.enrol_device(body.get("code") if isinstance(body, dict) else None,
                                             request.user_agent.string)
    except CheckpointError as error:
        db.session.rollback()
        return _error(error, error.status)
    answer = {"device_token": token, "device_id": device.id, "checkpoint_name": device.checkpoint_name}
    db.session.commit()
    return _json(answer, 201, cache="no-store")


@bp.route("/check/api/permits")
@limiter.limit(_checkpoint_limit)
def device_permits():
    device = _calling_device()
    if device is None:
        return _refused_device()
    device_id = device.id
    envelope = service.device_permits(device)  # read (and photos shrunk) before the write lock is taken
    writes()
    if not service.note_sync(db.session.get(type(device), device_id), request.user_agent.string):
        return _refused_device()
    db.session.commit()
    return _json(envelope, cache="no-store")  # personal data: kept by the app, never by an HTTP cache


@bp.route("/check/api/checks", methods=["POST"])
@csrf.exempt
@limiter.limit(_checkpoint_limit)
def device_checks():
    device = _calling_device()
    if device is None:
        return _refused_device()
    try:
        checks = service.parse_checks(request.get_json(silent=True))
    except CheckpointError as error:
        db.session.rollback()
        return _error(error, error.status)
    accepted, duplicates = service.record_offline_checks(device, checks)
    db.session.commit()
    return _json({"accepted": accepted, "duplicates": duplicates}, cache="no-store")


@bp.errorhandler(405)
@bp.errorhandler(413)
@bp.errorhandler(429)
def api_error(error: HTTPException):
    """The JSON endpoints answer errors in JSON (the app reads "error"); the checkpoint's pages as every page."""
    db.session.rollback()
    if not request.path.startswith(API_PREFIXES):
        return render_error(error.code)
    return _error(MESSAGES.get(error.code, MESSAGES[400])[1], error.code)  # Flask-Limiter adds Retry-After
