"""Error pages in the user's language, never a traceback; roll back on error.

Every error page shows the request's reference (its X-Request-ID, app/ops/logs.py) so that a user
can quote it and the department find the log lines of that request.
"""
from __future__ import annotations

from flask import Flask, render_template
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from app.extensions import db
from app.ops.addresses import UnsafePublicAddress
from app.ops.logs import request_id

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood. Go back, reload the page and try again.")),
    403: (_l("Not allowed"), _l("Your account may not open this page.")),
    404: (_l("Page not found"), _l("There is no page at this address. Check the link, or start from the home page.")),
    405: (_l("Not allowed"), _l("This page cannot be used this way.")),
    409: (_l("Changed meanwhile"), _l("Someone changed this in the meantime. Reload the page and try again.")),
    413: (_l("File too large"), _l("What you sent is larger than PressDesk accepts. Send smaller files.")),
    429: (_l("Too many attempts"), _l("Too many attempts in a short time. Wait a few minutes, then try again.")),
    500: (_l("Something went wrong"), _l("An error occurred on our side and nothing was saved. Try again later; "
                                          "if it happens again, contact the department.")),
}


def render_error(code: int, detail: str | None = None):
    title, message = MESSAGES.get(code) or MESSAGES[400 if code < 500 else 500]
    return render_template("errors/error.html", code=code, title=title, message=message, detail=detail,
                           reference=request_id()), code


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        db.session.rollback()
        if error.code is None or error.code < 400:  # redirects raised as exceptions
            return error
        # Flask-Limiter adds Retry-After to a 429 itself.
        return render_error(error.code)

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        db.session.rollback()
        return render_error(400, _l("The form expired or was sent from another site. Reload the page and send it again."))

    @app.errorhandler(UnsafePublicAddress)
    def unsafe_public_address(error: UnsafePublicAddress):
        # A decision that would print permits nobody can check: nothing of it is kept.
        db.session.rollback()
        app.logger.error("permit refused: BASE_URL %r is loopback or not https", error.base_url)
        title = _l("No permit issued")
        return render_template("errors/error.html", code=error.status, title=title, message=str(error),
                               detail=None, reference=request_id()), error.status

    @app.errorhandler(InternalServerError)
    def server_error(error):
        db.session.rollback()
        return render_error(500)
