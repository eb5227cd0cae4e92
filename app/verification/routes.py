"""The page a checkpoint officer sees after scanning a permit, and the published keys."""
from __future__ import annotations

from types import SimpleNamespace

from flask import abort, current_app, jsonify, make_response, render_template

from app.extensions import limiter
from app.main import sessionless
from app.verification import bp
from app.verification.service import check_token, key_ring, record_check


def _verify_limit() -> str:
    return current_app.config["RATELIMIT_VERIFY"]


@bp.route("/v/<token>")
@limiter.limit(_verify_limit)
@sessionless
def verify(token: str):
    verdict = check_token(token[:200])
    body = render_template("verification/verify.html", verdict=verdict, token=token)
    record_check(verdict)
    response = make_response(body, 404 if verdict.outcome == "unknown" else 200)
    # The answer is true now: a screenshot must not be replayed from a cache.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.route("/v/<token>/photo")
@limiter.limit(_verify_limit)
def photo(token: str):
    """The holder's photo as approved, while the page shows the holder (not once revoked or unknown)."""
    from app.uploads import send_stored

    verdict = check_token(token[:200])
    holder = verdict.holder
    if not verdict.shows_holder or not holder.photo_stored_name:
        abort(404)
    response = send_stored(SimpleNamespace(stored_name=holder.photo_stored_name,
                                           content_type=holder.photo_content_type, original_filename="photo"))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/.well-known/pressdesk-permit-keys.json")
def key_set():
    response = jsonify(key_ring().public_key_set())
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
