"""The public "Guide for foreign press" page, edited by administrators."""
from flask import Blueprint
from flask_babel import lazy_gettext as _l

from app.audit.labels import register_action_labels

bp = Blueprint("guide", __name__)


def init_app(app):
    from app.guide import models, routes  # noqa: F401

    app.register_blueprint(bp)
    register_action_labels({"guide.updated": _l("Guide updated")})
