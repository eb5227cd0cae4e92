"""Transactional outbox for mail: `flask outbox worker|send|retry-failed`, the admin Outbox page,
and the staff banner when mail is not going out."""
from __future__ import annotations

import signal
import threading
import time

import click
from flask import Blueprint, Flask
from flask.cli import AppGroup

bp = Blueprint("outbox", __name__, url_prefix="/admin/outbox")
outbox_cli = AppGroup("outbox", help="The mail outbox.")


@outbox_cli.command("worker")
@click.option("--poll-seconds", type=float, default=None,
              help="Pause between two looks at the queue (default PRESSDESK_OUTBOX_WORKER_POLL_SECONDS).")
def worker_command(poll_seconds: float | None) -> None:
    """Send queued mail as it becomes due, until stopped (SIGTERM or Ctrl-C finish the message under way)."""
    from app.outbox.service import run_worker

    stop = threading.Event()

    def request_stop(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    run_worker(stop, poll_seconds=poll_seconds)


@outbox_cli.command("send")
@click.option("--all", "ignore_backoff", is_flag=True, help="Also retry messages still waiting out their backoff.")
@click.option("--max-seconds", type=float, default=50.0, show_default=True,
              help="Start no new message after this long (an exchange under way is bounded by MAIL_TIMEOUT).")
def send_command(ignore_backoff: bool, max_seconds: float) -> None:
    """Send the queued messages that are due, then exit (for cron, every minute, instead of the worker)."""
    from app.outbox.service import send_due

    deadline = time.monotonic() + max_seconds
    sent = failed = 0
    while time.monotonic() < deadline:
        batch_sent, batch_failed = send_due(ignore_backoff=ignore_backoff, deadline=deadline)
        sent, failed = sent + batch_sent, failed + batch_failed
        if batch_sent < 100 or batch_failed:  # the queue is empty, or SMTP is down: done for this run
            break
    click.echo(f"Sent {sent}, failed {failed}.")


@outbox_cli.command("retry-failed")
def retry_failed_command() -> None:
    """Put every message that was given up back in the queue, due now."""
    from app.extensions import db
    from app.outbox.service import retry_failed

    count = retry_failed()
    db.session.commit()
    click.echo(f"{count} failed message(s) queued again.")


def init_app(app: Flask) -> None:
    from app.outbox import routes  # noqa: F401
    from app.outbox.service import mail_trouble_for_page

    from flask_babel import lazy_gettext as _l

    from app.audit.labels import register_action_labels

    app.cli.add_command(outbox_cli)
    app.register_blueprint(bp)
    register_action_labels({
        "outbox.resent": _l("Sent an email again"),
        "outbox.failed_retried": _l("Queued the failed emails again"),
        "outbox.test_queued": _l("Sent a test email"),
    })
    # Called by base.html for staff only, so other pages (and emails) never run the query.
    app.jinja_env.globals["mail_trouble"] = mail_trouble_for_page
