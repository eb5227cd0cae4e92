"""Reference data the administrator manages: places, escort officers, consulted bodies,
standard texts, spearhead sectors, and extra days off and make-up working days."""
from flask import Blueprint

bp = Blueprint("reference", __name__, url_prefix="/admin/reference")


def init_app(app):
    from app.reference import models  # noqa: F401  (the tables are part of the schema)

    app.register_blueprint(bp)
