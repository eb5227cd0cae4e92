"""Outlets (foreign media organisations) and their crew members."""
from flask import Blueprint
from flask_babel import lazy_gettext as _l

from app.audit.labels import register_action_labels

bp = Blueprint("outlets", __name__)


def init_app(app):
    from app.outlets import models, routes  # noqa: F401

    app.register_blueprint(bp)
    register_action_labels({
        "outlet.saved": _l("Outlet saved"), "crew_member.added": _l("Crew member added"),
        "crew_member.updated": _l("Crew member updated"), "crew_member.removed": _l("Crew member removed"),
    })
