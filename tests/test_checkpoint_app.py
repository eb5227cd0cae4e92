"""The checkpoint app's files (issue 14): its pages in both languages, the manifest and icons that make
it installable, and the service worker: served from the root with the scope "/", answering only
/v/<token> and the app's own files, and nothing fetched from another site. What the app does in a
browser, offline, is tests/e2e/test_checkpoint_offline.py.
"""
from __future__ import annotations

import io
import json
import re

import pytest
from PIL import Image

from app.checkpoint.pages import ICON_SIZES, shell_version

PAGES = ("/check", "/check/enrol", "/check/offline")
# An address of another site: a script, style sheet, font or image fetched from elsewhere at run time.
THIRD_PARTY = re.compile(r"""(?:https?:)?//(?!127\.0\.0\.1|localhost)[A-Za-z0-9.-]+\.[A-Za-z]{2,}""")


def worker_shell(client) -> dict:
    response = client.get("/check-sw.js")
    first_line = response.get_data(as_text=True).split("\n", 1)[0]
    assert first_line.startswith("self.CHECKPOINT_SHELL = ") and first_line.endswith(";")
    return json.loads(first_line[len("self.CHECKPOINT_SHELL = "):-1])


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("locale,word", [("vi", "Kiểm tra giấy phép"), ("en", "Permit check")])
def test_the_app_pages_answer_in_both_languages_without_a_session(client, path, locale, word):
    response = client.get(f"{path}?lang={locale}")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and f'<html lang="{locale}">' in body
    assert word in body or path != "/check/offline"
    assert "Set-Cookie" not in response.headers  # an officer's phone gets no session
    assert 'rel="manifest" href="/check/manifest.webmanifest"' in body
    assert "<script>" not in body and "style=" not in body and "<style" not in body  # the CSP allows neither
    for src in re.findall(r'<script src="([^"]+)"', body):
        assert client.get(src).status_code == 200, src


def test_only_the_app_page_may_use_the_camera(client):
    assert client.get("/check").headers["Permissions-Policy"].startswith("camera=(self)")
    assert client.get("/check/enrol").headers["Permissions-Policy"].startswith("camera=()")
    assert client.get("/login").headers["Permissions-Policy"].startswith("camera=()")


def test_the_manifest_makes_an_installable_app(client):
    response = client.get("/check/manifest.webmanifest", headers={"Accept-Language": "vi"})
    assert response.status_code == 200 and response.mimetype == "application/manifest+json"
    manifest = json.loads(response.get_data(as_text=True))
    assert manifest["start_url"] == "/check" and manifest["scope"] == "/" and manifest["display"] == "standalone"
    assert manifest["name"] and manifest["short_name"] and manifest["lang"] == "vi"
    sizes = {(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]}
    assert sizes == {("192x192", "any"), ("512x512", "any"), ("192x192", "maskable"), ("512x512", "maskable")}
    for icon in manifest["icons"]:
        assert icon["type"] == "image/png" and icon["src"].startswith("/check/")


@pytest.mark.parametrize("size", ICON_SIZES)
def test_the_icons_are_pngs_of_their_size_drawn_full_bleed(client, size):
    response = client.get(f"/check/icon-{size}.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    image = Image.open(io.BytesIO(response.data))
    assert image.format == "PNG" and image.size == (size, size)
    # Maskable: the corners are background (a launcher cuts them), the drawing is in the middle.
    rgb = image.convert("RGB")
    assert rgb.getpixel((0, 0)) == rgb.getpixel((size - 1, size - 1)) == (10, 88, 202)
    assert max(rgb.getpixel((size // 2 + dx, size // 2 + dy))[0] for dx in range(-size // 4, size // 4, 4)
               for dy in range(-size // 4, size // 4, 4)) > 200


@pytest.mark.parametrize("page", ["/guide", "/v/not-a-token", "/check"])
def test_every_layout_links_the_icon(client, page):
    icon = f'rel="icon" type="image/png" sizes="192x192" href="/check/icon-{ICON_SIZES[0]}.png"'
    assert icon in client.get(page).text


def test_favicon_is_the_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.data == client.get(f"/check/icon-{ICON_SIZES[0]}.png").data


def test_an_icon_of_another_size_is_not_found(client):
    assert client.get("/check/icon-100.png").status_code == 404


def test_the_worker_is_served_from_the_root_for_the_whole_site(client):
    response = client.get("/check-sw.js")
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert response.headers["Cache-Control"] == "no-cache"  # a new version reaches the phones at once
    assert "Set-Cookie" not in response.headers
    body = response.get_data(as_text=True)
    assert 'importScripts(SHELL.core)' in body and '"fetch"' in body


def test_the_worker_keeps_the_app_and_intercepts_only_permit_checks_and_its_own_files(app, client):
    shell = worker_shell(client)
    with app.app_context():
        assert shell["version"] == shell_version()
    assert shell["pages"] == list(PAGES) and shell["verdict"] == "/check/offline"
    assert set(shell["languages"]) == {"vi", "en"}
    for asset in shell["assets"]:
        # The app's own addresses only: the plain style sheets every other page uses are left alone.
        assert asset.startswith("/check/") or f"v={shell['version']}" in asset, asset
        assert client.get(asset).status_code == 200, asset
    source = client.get("/check-sw.js").get_data(as_text=True)
    assert r"const PERMIT_PATH = /^\/v\/[A-Za-z0-9_-]{1,200}$/;" in source
    # What it answers: navigations to /v/<token> or to an app page, and the listed files; nothing else.
    assert source.count("event.respondWith(") == 3
    assert 'request.method !== "GET"' in source and "url.origin !== self.location.origin" in source


def test_the_pages_link_the_files_the_worker_keeps(client):
    assets = set(worker_shell(client)["assets"])
    for path in PAGES:
        body = client.get(path).get_data(as_text=True)
        linked = set(re.findall(r'(?:src|href)="(/(?:static|bootstrap)/[^"]+\?v=[^"]+)"', body))
        assert linked and linked <= assets, path


def test_the_version_changes_with_what_the_worker_keeps(app, client, tmp_path, monkeypatch):
    before = worker_shell(client)["version"]
    app.extensions.pop("checkpoint_shell_version")
    monkeypatch.setattr(app, "static_folder", str(tmp_path))
    (tmp_path / "js").mkdir()
    (tmp_path / "js" / "checkpoint-sw.js").write_text("// another worker\n")
    with app.app_context():
        assert shell_version() != before


def test_nothing_comes_from_another_site(client):
    served = [client.get(path).get_data(as_text=True) for path in (*PAGES, "/check-sw.js")]
    served += [client.get(asset).get_data(as_text=True) for asset in worker_shell(client)["assets"]
               if "/js/" in asset or asset.endswith(".webmanifest")]
    for text in served:
        assert not THIRD_PARTY.findall(text)
