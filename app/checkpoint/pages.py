"""The checking app at /check: an installable web app that answers /v/<token> without a network.

Its pages (the app, enrolment, and the offline verdict shell) are rendered in each language
(`?lang=`, as the online permit check) and kept on the phone by the service worker, which is
served from /check-sw.js so that its scope can be the whole site: it must answer navigations to
/v/<token>. The worker intercepts only those and the app's own files (DESIGN.md section 6);
every other request goes to the network as if it were not there.

The worker's first line lists the files it keeps, with a version drawn from their contents: a
changed template, script, style sheet or catalogue makes a new worker, which replaces the old
files on the phone.
"""
from __future__ import annotations

import functools
import hashlib
import io
import json
from pathlib import Path

from flask import Response, abort, current_app, make_response, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup
from PIL import Image, ImageDraw

from app.authority import authority_profile
from app.checkpoint import bp
from app.main import sessionless

ICON_SIZES = (192, 512)
# The icon's colours: the top bar's blue, white on it (5.2:1), so it reads as PressDesk's.
ICON_BACKGROUND = (10, 88, 202)
ICON_FOREGROUND = (255, 255, 255)
THEME_COLOR = "#0a58ca"
WORKER_PATH = "/check-sw.js"
# The app's own scripts, in the order the pages load them.
SCRIPTS = ("js/checkpoint-core.js", "js/checkpoint-app.js", "js/checkpoint-verdict.js")
WORKER_SOURCE = "js/checkpoint-sw.js"
# What the worker keeps for offline use besides the pages: the style sheets of the layout.
STYLE_SHEETS = (("bootstrap.static", "css/bootstrap.min.css"), ("static", "css/pressdesk.css"))
PAGE_ENDPOINTS = ("checkpoint.app", "checkpoint.enrol", "checkpoint.offline_verdict")
# Permissions-Policy of the app page: its scanner needs this site's camera (elsewhere: none at all).
APP_PERMISSIONS_POLICY = "camera=(self), microphone=(), geolocation=()"


def slot(name: str) -> Markup:
    """A place in a translated sentence that the page's script fills in (a date, a name, an age)."""
    return Markup('<span data-slot="%s"></span>') % name


def _page(template: str, **context) -> Response:
    response = make_response(render_template(template, slot=slot, scripts=_script_urls(),
                                                  style_sheets=_style_urls(), **context))
    response.headers["Cache-Control"] = "no-cache"  # the worker keeps its own copy
    return response


@bp.route("/check")
@sessionless
def app():
    """The app: the trust data on this phone, Scan, Sync now."""
    response = _page("checkpoint/app/check.html")
    response.headers["Permissions-Policy"] = APP_PERMISSIONS_POLICY
    return response


@bp.route("/check/enrol")
@sessionless
def enrol():
    """Enrolment: the code comes in the address's #fragment (never sent to the server) or is typed."""
    return _page("checkpoint/app/enrol.html")


@bp.route("/check/offline")
@sessionless
def offline_verdict():
    """The offline verdict shell: the worker answers /v/<token> with it when the network fails."""
    return _page("checkpoint/app/offline.html")


@bp.route("/check/manifest.webmanifest")
@sessionless
def manifest():
    locale = str(get_locale())
    document = {
        "name": _("PressDesk permit check"),
        "short_name": _("Permit check"),
        "description": _("Checks press permits by their QR code, also without a network."),
        "lang": locale,
        "start_url": url_for("checkpoint.app"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": THEME_COLOR,
        "icons": [{"src": url_for("checkpoint.icon", size=size), "sizes": f"{size}x{size}", "type": "image/png",
                   "purpose": purpose} for size in ICON_SIZES for purpose in ("any", "maskable")],
    }
    response = current_app.response_class(json.dumps(document, ensure_ascii=False),
                                          mimetype="application/manifest+json")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/check/icon-<int:size>.png")
def icon(size: int):
    """The icon; every layout links it."""
    if size not in ICON_SIZES:
        abort(404)
    response = current_app.response_class(icon_png(size), mimetype="image/png")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@bp.route("/favicon.ico")
def favicon():
    """The icon, for the clients that ask here whatever the page links (not a whole 404 page each time)."""
    return icon(ICON_SIZES[0])


@functools.lru_cache(maxsize=len(ICON_SIZES))
def icon_png(size: int) -> bytes:
    """The app's icon, drawn here: a white check mark in a ring on the top bar's blue.

    Full-bleed, with the drawing inside the central 60 %, so it also serves as a maskable icon
    (a launcher may cut it to a circle or a rounded square).
    """
    scale = 4  # drawn large, then reduced: smooth edges without an anti-aliasing library
    side = size * scale
    image = Image.new("RGB", (side, side), ICON_BACKGROUND)
    draw = ImageDraw.Draw(image)
    centre, radius, width = side / 2, side * 0.28, max(1, round(side * 0.045))
    draw.ellipse((centre - radius, centre - radius, centre + radius, centre + radius),
                 outline=ICON_FOREGROUND, width=width)
    tick = [(centre - radius * 0.5, centre + radius * 0.02), (centre - radius * 0.12, centre + radius * 0.4),
            (centre + radius * 0.55, centre - radius * 0.38)]
    draw.line(tick, fill=ICON_FOREGROUND, width=round(width * 1.6), joint="curve")
    image = image.resize((size, size), Image.LANCZOS)
    output = io.BytesIO()
    image.save(output, format="PNG", optimize=True)
    return output.getvalue()


@bp.route(WORKER_PATH)
def service_worker():
    """The service worker, from the site's root so that its scope is "/" (it answers /v/<token>)."""
    source = (Path(current_app.static_folder) / WORKER_SOURCE).read_text(encoding="utf-8")
    shell = {"version": shell_version(), "pages": [url_for(endpoint) for endpoint in PAGE_ENDPOINTS],
             "verdict": url_for("checkpoint.offline_verdict"), "languages": list(current_app.config["LANGUAGES"]),
             "default_language": current_app.config["BABEL_DEFAULT_LOCALE"],
             "assets": _asset_urls(), "core": _script_urls()[0]}
    body = "self.CHECKPOINT_SHELL = " + json.dumps(shell, sort_keys=True) + ";\n" + source
    response = current_app.response_class(body, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


def _script_urls() -> list[str]:
    version = shell_version()
    return [url_for("static", filename=name, v=version) for name in SCRIPTS]


def _style_urls() -> list[str]:
    """The layout's style sheets under addresses of the app's own (?v=): the worker answers these
    offline and leaves the plain addresses, which every other page uses, to the network."""
    version = shell_version()
    return [url_for(endpoint, filename=name, v=version) for endpoint, name in STYLE_SHEETS]


def _asset_urls() -> list[str]:
    """The files the worker keeps besides the pages."""
    return (_script_urls() + _style_urls() + [url_for("checkpoint.manifest")]
            + [url_for("checkpoint.icon", size=size) for size in ICON_SIZES])


def shell_version() -> str:
    """A digest of everything the worker keeps: the templates, scripts, style sheets and catalogues.

    Computed once per process (on every request when debugging, so an edit shows at once).
    """
    cached = current_app.extensions.get("checkpoint_shell_version")
    if cached and not current_app.debug:
        return cached
    root = Path(current_app.root_path)
    files = sorted([*(root.parent / "templates" / "checkpoint" / "app").glob("*.html"),
                    root.parent / "templates" / "verification" / "_layout.html",
                    *(Path(current_app.static_folder) / "js").glob("checkpoint-*.js"),
                    Path(current_app.static_folder) / "css" / "pressdesk.css",
                    *(root / "translations").glob("*/LC_MESSAGES/messages.mo")])
    digest = hashlib.sha256()
    for path in files:
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    digest.update(repr(authority_profile()).encode())  # the layout's header and footer
    version = current_app.extensions["checkpoint_shell_version"] = digest.hexdigest()[:16]
    return version
