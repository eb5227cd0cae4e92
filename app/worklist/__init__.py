"""The staff's own worklist ("Việc của tôi") and their saved queue filters."""
from flask import Blueprint

bp = Blueprint("worklist", __name__)


def init_app(app):
    from app.worklist import models  # noqa: F401  (the table is part of the schema)

    app.register_blueprint(bp)
