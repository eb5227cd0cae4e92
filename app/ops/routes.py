"""/healthz (the process answers) and /readyz (it can serve): no login, no cookie, no limit."""
from __future__ import annotations

from flask import current_app, jsonify

from app.extensions import limiter
from app.ops import bp, service


def _uncached(response):
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/healthz")
@limiter.exempt
def healthz():
    """The process answers: touches neither the database nor Redis."""
    return _uncached(current_app.response_class("ok", mimetype="text/plain"))


@bp.route("/readyz")
@limiter.exempt
def readyz():
    """The database answers, Redis too when it holds the rate limits; the outbox backlog is reported."""
    ready, report = service.readiness()
    response = jsonify(report)
    response.status_code = 200 if ready else 503
    return _uncached(response)
