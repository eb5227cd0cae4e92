from flask import Blueprint

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")


def init_app(app):
    from app.audit import routes  # noqa: F401
    from app.audit.labels import ACTION_LABELS

    app.register_blueprint(bp)
    # The name of an audit action, from what every area registered (register_action_labels).
    app.add_template_global(lambda key: ACTION_LABELS.get(key, key), "action_label")
