"""Security headers on every response, the check on `next` redirects, the trusted proxies."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, request, session
from werkzeug.middleware.proxy_fix import ProxyFix

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def is_safe_next(target: str | None) -> bool:
    """True only for a path on this site: "/x", never "//host", "/\\host" or "http://host"."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return False
    if any(ord(character) < 32 or character == "\\" for character in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def trusted_proxy_hops(app: Flask) -> int:
    return int(app.config.get("TRUSTED_PROXY_HOPS") or 0)


def install_proxy_fix(app: Flask) -> None:
    """Behind TRUSTED_PROXY_HOPS reverse proxies, believe their X-Forwarded-* headers.

    ProxyFix rewrites REMOTE_ADDR, the scheme, the host and the script root from the headers the
    trusted proxies added (the last `hops` values), so request.remote_addr is the real client for
    the rate limits, the audit trail and the logs. With 0 hops the headers are ignored: a client
    talking to the app directly could otherwise claim any address.
    """
    hops = trusted_proxy_hops(app)
    if hops < 0:
        raise RuntimeError("PRESSDESK_TRUSTED_PROXY_HOPS must be 0 (no proxy) or the number of proxies in front.")
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_prefix=hops)


def init_app(app: Flask) -> None:
    install_proxy_fix(app)

    @app.after_request
    def set_security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        headers["Referrer-Policy"] = "same-origin"
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")  # /check: camera=(self)
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        # Every page and download a signed-in user gets may hold personal data (passport numbers, scans,
        # photos): never kept by the browser or a shared cache. Static files stay cacheable.
        # Read from the session cookie, not current_user: after the view's commit, the user would be
        # loaded again, starting a transaction after the response was made.
        if request.endpoint != "static" and "_user_id" in session \
                and "no-store" not in headers.get("Cache-Control", ""):
            headers["Cache-Control"] = "no-store"
        if app.config["HSTS_ENABLED"]:
            headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        return response
