"""The calendar of approved visits, and each staff member's secret iCalendar feed."""
from flask import Blueprint
from flask_babel import lazy_gettext as _l

from app.audit.labels import register_action_labels

bp = Blueprint("visits", __name__)


def init_app(app):
    from app.visits import routes  # noqa: F401

    app.register_blueprint(bp)
    register_action_labels({"calendar.link_reset": _l("Made a new calendar link")})
