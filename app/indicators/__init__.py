"""The indicators the province reports upward (DESIGN.md section 7): dashboard, XLSX and PDF report."""
from flask import Blueprint

bp = Blueprint("indicators", __name__)


def init_app(app):
    from app.indicators import routes  # noqa: F401

    app.register_blueprint(bp)
