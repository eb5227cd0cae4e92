from flask import Blueprint

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")


def init_app(app):
    from app.audit import routes  # noqa: F401

    app.register_blueprint(bp)
