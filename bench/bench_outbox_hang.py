"""How long pages take while the SMTP server accepts connections and never answers.

Serves PressDesk with gunicorn (2 sync workers, as a small production host) on SQLite, points it
at a loopback "SMTP server" that accepts TCP connections and then says nothing, sends two
"forgot password" requests (each queues a mail) and then times a read page (/guide) and a
writing page (a third "forgot password"). With `flask outbox worker` available (this tree), the
worker runs beside gunicorn with PRESSDESK_MAIL_TIMEOUT=2.

    .venv/bin/python bench/bench_outbox_hang.py                      # this tree
    git archive HEAD | tar -x -C /tmp/before && .venv/bin/python bench/bench_outbox_hang.py --code /tmp/before

Loopback only; every request has a client timeout (--max-wait, 90 s) and everything started is
stopped at the end.
"""
from __future__ import annotations

import argparse
import http.client
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def silent_smtp_server(port: int, stop: threading.Event) -> threading.Thread:
    """Accepts connections and never sends the greeting."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(16)
    listener.settimeout(0.2)
    held = []

    def run():
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            held.append(connection)
        for connection in held:
            connection.close()
        listener.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def timed(port: int, method: str, path: str, form: dict | None, max_wait: float) -> tuple[float, str]:
    start = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=max_wait)
    try:
        body = urllib.parse.urlencode(form) if form else None
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if form else {}
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        outcome = str(response.status)
    except (TimeoutError, OSError) as error:
        outcome = f"no answer ({type(error).__name__})"
    finally:
        connection.close()
    return time.monotonic() - start, outcome


def wait_until_up(port: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--code", default=str(ROOT), help="the PressDesk tree to serve")
    parser.add_argument("--max-wait", type=float, default=90.0)
    args = parser.parse_args()
    code = Path(args.code).resolve()
    python = Path(sys.executable)
    smtp_port, web_port = free_port(), free_port()
    stop = threading.Event()
    silent_smtp_server(smtp_port, stop)
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, FLASK_APP="wsgi.py", PYTHONPATH=str(code), PRESSDESK_ENV_NAME="development",
                   PRESSDESK_SECRET_KEY="bench-secret", PRESSDESK_SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp}/bench.db",
                   PRESSDESK_MAIL_SERVER="127.0.0.1", PRESSDESK_MAIL_PORT=str(smtp_port), PRESSDESK_MAIL_TIMEOUT="2",
                   PRESSDESK_WTF_CSRF_ENABLED="false", PRESSDESK_RATELIMIT_PASSWORD_RESET="1000 per minute",
                   PRESSDESK_UPLOAD_FOLDER=f"{tmp}/uploads", PRESSDESK_OUTBOX_WORKER_POLL_SECONDS="0.5")
        setup = ("from app import create_app; from app.extensions import db; from app.auth.models import User, Role;"
                 "from app.db import utcnow\napp = create_app()\nwith app.app_context():\n db.create_all()\n"
                 " for n in (1, 2, 3): db.session.add(User(email=f'u{n}@example.org', full_name='U', role=Role.officer,"
                 " locale='en', email_confirmed_at=utcnow()))\n db.session.commit()")
        subprocess.run([str(python), "-c", setup], cwd=code, env=env, check=True)
        processes = [subprocess.Popen([str(python.parent / "gunicorn"), "--workers", "2", "--bind",
                                       f"127.0.0.1:{web_port}", "--log-level", "warning", "wsgi:app"],
                                      cwd=code, env=env)]
        has_worker = "def run_worker" in (code / "app" / "outbox" / "service.py").read_text()
        if has_worker:
            processes.append(subprocess.Popen([str(python.parent / "flask"), "outbox", "worker"], cwd=code, env=env))
        try:
            wait_until_up(web_port, time.monotonic() + 30)
            print(f"code: {code} ({'worker process' if has_worker else 'delivery after the response'})")
            for _ in range(4):  # warm both gunicorn workers up (imports, first connection)
                timed(web_port, "GET", "/guide", None, args.max_wait)
            for n in (1, 2):
                took, outcome = timed(web_port, "POST", "/forgot-password", {"email": f"u{n}@example.org"},
                                      args.max_wait)
                print(f"forgot password #{n}: {took:6.2f} s  {outcome}")
            time.sleep(0.5)  # the deliveries are now talking to the silent server
            took, outcome = timed(web_port, "GET", "/guide", None, args.max_wait)
            print(f"GET /guide while SMTP hangs: {took:6.2f} s  {outcome}")
            took, outcome = timed(web_port, "POST", "/forgot-password", {"email": "u3@example.org"}, args.max_wait)
            print(f"forgot password #3 while SMTP hangs: {took:6.2f} s  {outcome}")
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
            stop.set()


if __name__ == "__main__":
    main()
