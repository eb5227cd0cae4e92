from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")


def init_app(app):
    from app.admin import routes  # noqa: F401

    app.register_blueprint(bp)
