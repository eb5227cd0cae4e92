"""Public verification of printed permits by their QR code."""
from flask import Blueprint

bp = Blueprint("verification", __name__)


def init_app(app):
    from app.verification import cli, routes  # noqa: F401

    app.register_blueprint(bp)
    app.cli.add_command(cli.permits_cli)
