"""Official documents: letters and permits issued as PDFs, optionally digitally signed."""
from flask import Blueprint
from flask_babel import lazy_gettext as _l

from app.audit.labels import register_action_labels

bp = Blueprint("documents", __name__)


def init_app(app):
    from app.documents import cli, models, routes  # noqa: F401

    app.register_blueprint(bp)
    app.cli.add_command(cli.documents_cli)
    register_action_labels({"document.issued": _l("Document issued"), "document.revoked": _l("Documents revoked")})
