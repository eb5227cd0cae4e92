"""The page a checkpoint officer sees after scanning a permit, and the published keys."""
from __future__ import annotations

from types import SimpleNamespace

from flask import abort, current_app, jsonify, render_template

from app.extensions import db, limiter
from app.verification import bp
from app.verification.service import check_token, key_ring


def _verify_limit() -> str:
    return current_app.config["RATELIMIT_VERIFY"]


@bp.route("/v/<token>")
@limiter.limit(_verify_limit)
def verify(token: str):
    verdict = check_token(token[:200])
    db.session.commit()  # the check is logged
    status = 200 if verdict.outcome != "unknown" else 404
    response = render_template("verification/verify.html", verdict=verdict, token=token), status
    return response


@bp.route("/v/<token>/photo")
@limiter.limit(_verify_limit)
def photo(token: str):
    """The holder's photo, only while the token shows a valid permit (the page shows nothing else)."""
    from app.uploads import send_stored

    verdict = check_token(token[:200])
    db.session.commit()
    member = verdict.document.crew_member if verdict.document else None
    if verdict.outcome != "valid" or member is None or not member.photo_stored_name:
        abort(404)
    return send_stored(SimpleNamespace(stored_name=member.photo_stored_name, content_type=member.photo_content_type,
                                       original_filename="photo"))


@bp.route("/.well-known/pressdesk-permit-keys.json")
def key_set():
    response = jsonify(key_ring().public_key_set())
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
