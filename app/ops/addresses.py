"""The public address (BASE_URL): every emailed link and every permit's QR code points there.

A permit is printed once and checked for years, so a QR code that points at a laptop
(`http://127.0.0.1:5000`) or at plain http is a permit nobody can check. Outside development
and the test suite PressDesk therefore refuses to start with such an address, and refuses to
issue a permit whose QR code would carry one, unless ALLOW_INSECURE_BASE_URL says otherwise
explicitly (an intranet pilot on http, say).
"""
from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import lazy_gettext as _l

SETTING = "PRESSDESK_ALLOW_INSECURE_BASE_URL"


class UnsafePublicAddress(Exception):
    """A permit would point at a loopback or non-https address. `str()` is translated, safe to show."""

    status = 409

    def __init__(self, base_url: str):
        super().__init__(str(_l(
            "No permit was issued and nothing was saved: the public address of PressDesk (%(address)s) is "
            "a local or non-https address, so the QR code on the permits could not be checked by anyone. "
            "Ask the administrator to set PRESSDESK_BASE_URL to the site's public https address.",
            address=base_url)))
        self.base_url = base_url


def address_problem(base_url: str | None) -> str | None:
    """Why `base_url` cannot be printed on a permit (in English, for operators), or None if it can."""
    parts = urlsplit(base_url or "")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        return "it has no host name"
    if host == "localhost" or host.endswith(".localhost"):
        return "it is a loopback address"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None and (address.is_loopback or address.is_unspecified):
        return "it is a loopback address"
    if parts.scheme != "https":
        return "it is not https"
    return None


def insecure_address_allowed(config) -> bool:
    """ALLOW_INSECURE_BASE_URL as set, else derived: allowed in development and in the test suite."""
    allowed = config.get("ALLOW_INSECURE_BASE_URL")
    if allowed is None:
        return config.get("ENV_NAME") == "development" or bool(config.get("TESTING"))
    return bool(allowed)


def check_base_url_at_start(config) -> None:
    """Refuse to start with an address a permit cannot carry, unless explicitly allowed.

    The derived answer is fixed here, at start: a test that later sets `app.testing = False`
    (to see the production error page) still runs on the address it started with."""
    config["ALLOW_INSECURE_BASE_URL"] = insecure_address_allowed(config)
    problem = address_problem(config.get("BASE_URL"))
    if problem and not insecure_address_allowed(config):
        raise RuntimeError(
            f"PRESSDESK_BASE_URL={config.get('BASE_URL')!r} cannot be the public address: {problem}. Emailed links "
            "and the QR codes printed on permits point there. Set PRESSDESK_BASE_URL to the site's public https "
            f"address (https://pressdesk.example.gov.vn), or set {SETTING}=true to run on it anyway."
        )


def require_permit_address() -> str:
    """The BASE_URL a permit's QR code may carry; UnsafePublicAddress if it may not carry it."""
    base_url = current_app.config["BASE_URL"]
    if address_problem(base_url) and not insecure_address_allowed(current_app.config):
        raise UnsafePublicAddress(base_url)
    return base_url
