"""Browser tests: the app on a live server in a thread, driven by Debian's Chromium through Playwright.

Every test here is marked `e2e` (`pytest -m "not e2e"` leaves them out). The browser
is started once per session; each test gets a fresh database (the `app` fixture),
a live server on a free loopback port, and a fresh browser context.

Chromium is /usr/bin/chromium (the Debian package); Playwright's own browser
downloads are neither used nor needed. Without Chromium the tests are skipped,
except in CI (CI=true), where they fail: there, the browser must be installed.
"""
from __future__ import annotations

import os
import re
import threading
import time
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import free_port

try:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - requirements-dev.txt installs it
    sync_playwright = None
    PlaywrightError = Exception

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# How long a locator waits for what the user should see; a page of this app renders in milliseconds.
DEFAULT_TIMEOUT_MS = 10_000
SCREENSHOT_DIR = Path("/tmp/pressdesk-e2e")
E2E_DIR = Path(__file__).parent


# --- marking ------------------------------------------------------------------

def pytest_collection_modifyitems(config, items):
    """Mark every test under tests/e2e as `e2e` (the hook sees the whole session's items)."""
    for item in items:
        if E2E_DIR in Path(item.path).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item, so the `page` fixture knows whether the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


# --- live server --------------------------------------------------------------

@pytest.fixture
def live_server_port() -> int:
    return free_port()


@pytest.fixture
def app_config(app_config, live_server_port):
    """Links in emails must point at the live server: BASE_URL is set before `app` is built."""
    app_config["BASE_URL"] = f"http://127.0.0.1:{live_server_port}"
    return app_config


class LiveServer:
    """The app on a threaded Werkzeug server, and beside it the real outbox worker loop
    (`run_worker`, what `flask outbox worker` runs) in a thread of its own, as in production."""

    def __init__(self, app, port: int):
        self.app = app
        self.server = make_server("127.0.0.1", port, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, name=f"live-server-{port}", daemon=True)
        self.stop_worker = threading.Event()
        self.worker = threading.Thread(target=self._work, name=f"outbox-worker-{port}", daemon=True)

    def _work(self) -> None:
        from app.outbox.service import run_worker

        with self.app.app_context():
            run_worker(self.stop_worker, poll_seconds=0.1)

    def start(self) -> None:
        self.thread.start()
        self.worker.start()

    def stop(self) -> None:
        self.stop_worker.set()
        self.server.shutdown()  # stops serve_forever and waits for it
        self.server.server_close()
        self.thread.join(timeout=5)
        self.worker.join(timeout=15)


@pytest.fixture
def live_server(app, live_server_port):
    server = LiveServer(app, live_server_port)
    assert server.url == app.config["BASE_URL"]
    server.start()
    yield server
    server.stop()


# --- browser ------------------------------------------------------------------

def _no_browser(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}: browser tests must run in CI; install Debian's chromium package there.",
                    pytrace=False)
    pytest.skip(reason)


# Module scope, not session: Playwright's sync API keeps an event loop running in the main thread
# while it is started, and code under test that calls asyncio.run() (pyHanko's signing) must not
# run inside it. Stopping Playwright after each browser module keeps the rest of the suite clean.
@pytest.fixture(scope="module")
def browser():
    if sync_playwright is None:
        _no_browser("the playwright package is not installed (pip install -r requirements-dev.txt)")
    if not os.path.exists(CHROMIUM):
        _no_browser(f"{CHROMIUM} does not exist (apt-get install chromium)")
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    except BaseException:
        playwright.stop()
        raise
    yield chromium
    chromium.close()
    playwright.stop()


@pytest.fixture
def new_page(browser, live_server, request):
    """Open a page in a new browser context: a new visitor, with no cookies. All are closed after the test.

    It depends on `live_server` so that the browser lets go of its connections before the server stops.
    """
    contexts = []

    def factory():
        context = browser.new_context(locale="en-US")
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield factory
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        _save_screenshots(request.node.name, contexts)
    for context in contexts:
        context.close()


def _save_screenshots(test_name: str, contexts) -> None:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    safe_name = re.sub(r"[^A-Za-z0-9_.-]+", "_", test_name)
    for number, context in enumerate(contexts, start=1):
        for page_number, page in enumerate(context.pages, start=1):
            path = SCREENSHOT_DIR / f"{safe_name}-{number}-{page_number}.png"
            try:
                page.screenshot(path=str(path), full_page=True)
            except PlaywrightError:
                continue
            print(f"screenshot of the failed test: {path}")


@pytest.fixture
def page(new_page):
    return new_page()


# --- mail ---------------------------------------------------------------------

def wait_for_mail(mailbox, address: str, timeout: float = 5):
    """The messages to `address`, waiting for the first one: the worker beside the live server sends them."""
    deadline = time.monotonic() + timeout
    while True:
        with mailbox.lock:
            messages = mailbox.to(address)
        if messages:
            return messages
        if time.monotonic() > deadline:
            with mailbox.lock:
                received = [message["To"] for message in mailbox.messages]
            pytest.fail(f"no email to {address} within {timeout} s; the SMTP server received mail for {received}")
        time.sleep(0.05)
