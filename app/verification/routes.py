"""The page a checkpoint officer sees after scanning a permit, and the published keys."""
from __future__ import annotations

from types import SimpleNamespace

from flask import abort, current_app, jsonify, render_template, request
from flask_babel import get_locale
from markupsafe import escape

from app.extensions import limiter
from app.i18n import when
from app.main import sessionless
from app.verification import bp
from app.verification.service import Verdict, check_token, key_ring, page_cache, record_check

# Where the time of the check goes in a kept page: control characters that no permit data,
# translation or markup contains (a page where it is not found exactly once is not kept).
CHECKED_AT_SLOT = "\x1e\x1fchecked-at\x1f\x1e"


def _verify_limit() -> str:
    return current_app.config["RATELIMIT_VERIFY"]


@bp.route("/v/<token>")
@limiter.limit(_verify_limit)
@sessionless
def verify(token: str):
    verdict = check_token(token[:200])
    body = verification_page(verdict, token)
    record_check(verdict)
    response = current_app.response_class(body, 404 if verdict.outcome == "unknown" else 200, mimetype="text/html")
    # The answer is true now: a screenshot must not be replayed from a cache.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def verification_page(verdict: Verdict, token: str) -> str:
    """The page for this verdict: made once per process for a given permit row, language and address
    (service.PageCache), with this scan's time of check put in.

    The key holds every value the page is made from: the permit row read fresh for this scan (so a
    revocation, or any other change, makes a new page at once), the verdict (which depends on the
    day), the language, and the address (the language links and the photo's URL). The authority
    profile, the translations and the templates are the process's own and do not change while it
    runs; with the debugger (templates reloaded) nothing is kept. An unknown or forged token is not
    kept: its page costs a render, and a flood of them cannot push out the real permits' pages.
    """
    checked_at = when(verdict.checked_at)
    if verdict.row is None or current_app.debug:
        return render_template("verification/verify.html", verdict=verdict, token=token, checked_at=checked_at)
    cache = page_cache()
    key = (request.script_root, request.path, str(get_locale()), verdict.outcome, tuple(verdict.row))
    parts = cache.get(key)
    if parts is None:
        page = render_template("verification/verify.html", verdict=verdict, token=token, checked_at=CHECKED_AT_SLOT)
        parts = page.split(CHECKED_AT_SLOT)
        if len(parts) != 2:
            return render_template("verification/verify.html", verdict=verdict, token=token, checked_at=checked_at)
        cache.put(key, parts)
    # Escaped as the template would, and joined as a str (a Markup would escape the kept page).
    return parts[0] + str(escape(checked_at)) + parts[1]


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
