"""Logs: a request id per request, one line per request, JSON when asked, never a secret link.

- Every request gets an id: the `X-Request-ID` of a trusted proxy (TRUSTED_PROXY_HOPS > 0, and
  only a plain token of at most 64 characters), else a new random one. It is returned as
  `X-Request-ID`, printed on error pages ("Reference: ...") and carried by every log line
  written during the request, so a user's quote leads to the lines.
- LOG_FORMAT=json writes one JSON object per line on stderr (time, level, logger, message,
  request_id, method, path, status, duration_ms, remote_addr); "text" (the default) human lines.
- Secret links in paths (password reset, email confirmation, invitation, the calendar feed) are
  replaced by "[redacted]" in every line, Werkzeug's own request lines included. The permit
  verification token (/v/<token>) is not secret (it is printed on the permit) but it opens the
  holder's page and photo, and every check is already recorded in verification_checks: it is
  redacted too.
"""
from __future__ import annotations

import json
import logging
import re
import secrets
import sys
import time
from datetime import datetime, timezone

from flask import Flask, g, has_request_context, request
from flask.logging import default_handler

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
REDACTED = "[redacted]"

# The routes whose path carries a secret (tests/test_logging.py checks that every route with a
# <token> is covered). The lookbehind keeps "/confirm/resend" readable.
_SECRET_PATHS = (
    (re.compile(r"(/(?:reset-password|invitation)/)[^/?#\s\"']+"), r"\g<1>" + REDACTED),
    (re.compile(r"(/confirm/)(?!resend(?:[/?#\s\"']|$))[^/?#\s\"']+"), r"\g<1>" + REDACTED),
    (re.compile(r"(/calendar/)[^/?#\s\"']+?(\.ics)"), r"\g<1>" + REDACTED + r"\g<2>"),
    (re.compile(r"(/v/)[^/?#\s\"']+"), r"\g<1>" + REDACTED),
)
# The loggers PressDesk writes through: its own ("app", Flask's app.logger), the rate limiter
# (storage down / recovered) and Werkzeug's development server request lines.
LOGGER_NAMES = ("app", "flask-limiter", "werkzeug")
_HANDLER_MARK = "_pressdesk_handler"


def redact(text: str) -> str:
    """`text` (a path, a URL, a log message) with every secret link replaced by [redacted]."""
    for pattern, replacement in _SECRET_PATHS:
        text = pattern.sub(replacement, text)
    return text


# --- the request id -------------------------------------------------------------

def request_id() -> str | None:
    """This request's id (made on first use), None outside a request."""
    if not has_request_context():
        return None
    current = g.get("request_id")
    if current is None:
        from flask import current_app

        offered = request.headers.get(REQUEST_ID_HEADER, "")
        trusted = int(current_app.config.get("TRUSTED_PROXY_HOPS") or 0) > 0
        current = offered if trusted and _VALID_REQUEST_ID.fullmatch(offered) else secrets.token_hex(16)
        g.request_id = current
    return current


# --- formatting -----------------------------------------------------------------

class _RequestFields(logging.Filter):
    """Adds the request's fields to each record and redacts secret links from its message."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: let the handler report it as logging does
            return True
        redacted = redact(message)
        if redacted != message or record.args:
            record.msg, record.args = redacted, ()
        if has_request_context():
            record.request_id = getattr(record, "request_id", None) or request_id()
            record.method = getattr(record, "method", None) or request.method
            record.path = redact(getattr(record, "path", None) or request.path)
            record.remote_addr = getattr(record, "remote_addr", None) or request.remote_addr
        return True


class JsonFormatter(logging.Formatter):
    FIELDS = ("request_id", "method", "path", "status", "duration_ms", "remote_addr")

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in self.FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s [%(name)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        if getattr(record, "request_id", None):
            line += f" [request {record.request_id}]"
        return redact(line) if record.exc_info else line


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is when the line is written (so capture works in tests)."""

    def __init__(self):
        super().__init__()

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


def configure_logging(app: Flask) -> None:
    """One handler on stderr for PressDesk's loggers, in the configured format (replacing any
    installed by an earlier create_app in this process)."""
    log_format = str(app.config.get("LOG_FORMAT") or "text").lower()
    if log_format not in ("text", "json"):
        raise RuntimeError(f"PRESSDESK_LOG_FORMAT must be \"text\" or \"json\", not {log_format!r}.")
    handler = _StderrHandler()
    setattr(handler, _HANDLER_MARK, True)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(_RequestFields())
    level = str(app.config.get("LOG_LEVEL") or "INFO").upper()
    for name in LOGGER_NAMES:
        logger = logging.getLogger(name)
        for old in [h for h in logger.handlers if getattr(h, _HANDLER_MARK, False) or h is default_handler]:
            logger.removeHandler(old)
        for old in [f for f in logger.filters if isinstance(f, _RequestFields)]:
            logger.removeFilter(old)
        logger.addHandler(handler)
        # On the logger too: a record written straight to "werkzeug" is redacted before any
        # handler (another one a server may have added) sees it.
        logger.addFilter(_RequestFields())
        logger.setLevel(level)


# --- one line per request ----------------------------------------------------------

_QUIET_ENDPOINTS = {"ops.healthz", "ops.readyz", "static", "bootstrap.static"}
request_log = logging.getLogger("app.request")


def init_app(app: Flask) -> None:
    configure_logging(app)
    log_requests = app.config.get("LOG_REQUESTS")
    if log_requests is None:
        log_requests = str(app.config.get("LOG_FORMAT") or "text").lower() == "json"

    def start_timer():
        g.request_started = time.perf_counter()
        request_id()

    # First of all before_request functions (the rate limiter's among them) so that a request
    # refused early still has its id and its time.
    app.before_request_funcs.setdefault(None, []).insert(0, start_timer)

    @app.after_request
    def tag_response(response):
        response.headers[REQUEST_ID_HEADER] = request_id()
        if log_requests and (request.endpoint not in _QUIET_ENDPOINTS or response.status_code >= 500):
            started = g.get("request_started")
            duration = round((time.perf_counter() - started) * 1000, 1) if started else None
            request_log.info("%s %s %s", request.method, redact(request.path), response.status_code,
                             extra={"status": response.status_code, "duration_ms": duration})
        return response
