"""Development mail: `flask devmail serve`, the SMTP catcher `make run` starts beside the site,
and /dev/mail, which lists what it caught (development only; 404 elsewhere)."""
from __future__ import annotations

import signal
import threading

import click
from flask import Blueprint, Flask, current_app
from flask.cli import AppGroup

bp = Blueprint("devmail", __name__, url_prefix="/dev/mail")
devmail_cli = AppGroup("devmail", help="Development mail (make run).")


@devmail_cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8025, show_default=True, type=int)
def serve_command(host: str, port: int) -> None:
    """Accept every message on HOST:PORT and keep it in instance/dev-mail/ (one .eml each)."""
    from aiosmtpd.controller import Controller

    from app.devmail.store import Catcher, mail_dir

    if current_app.config["ENV_NAME"] != "development":
        raise click.ClickException("the mail catcher is for development (PRESSDESK_ENV_NAME=development) only")
    folder = mail_dir()
    controller = Controller(Catcher(folder), hostname=host, port=port)
    controller.start()
    click.echo(f"Development mail: SMTP on {host}:{port}, messages kept in {folder}")
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    try:
        stop.wait()
    finally:
        controller.stop()


@devmail_cli.command("lan-address")
def lan_address_command() -> None:
    """Print this machine's primary local-network IPv4 address (read from its interfaces)."""
    from app.devmail.network import lan_ipv4

    address = lan_ipv4()
    if address is None:
        raise click.ClickException("no local-network IPv4 address found")
    click.echo(address)


def init_app(app: Flask) -> None:
    from app.devmail import routes  # noqa: F401

    app.cli.add_command(devmail_cli)
    app.register_blueprint(bp)
