"""The checkpoint: trust data for offline checks (signed key set and revocation list), enrolled
checkpoint devices, and the installable checking app at /check (DESIGN.md section 6)."""
from flask import Blueprint

bp = Blueprint("checkpoint", __name__)


def init_app(app):
    from app.checkpoint import api, models, pages, staff  # noqa: F401

    app.register_blueprint(bp)
