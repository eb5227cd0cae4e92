"""Co-produced promotional products, the correspondent's post-visit report and sovereignty cases."""
from flask import Blueprint

from app.audit.labels import register_action_labels

bp = Blueprint("products", __name__)


def init_app(app):
    from app.products import cli, labels, models, routes  # noqa: F401

    app.register_blueprint(bp)
    register_action_labels(labels.AUDIT_LABELS)
    app.cli.add_command(cli.reminders_cli)
    for name, table in {
        "product_type_label": labels.TYPE_LABELS, "channel_label": labels.CHANNEL_LABELS,
        "cooperation_label": labels.COOPERATION_LABELS, "evaluation_label": labels.EVALUATION_LABELS,
        "product_status_label": labels.STATUS_LABELS, "report_state_label": labels.REPORT_STATE_LABELS,
        "case_status_label": labels.CASE_STATUS_LABELS, "evaluation_badge": labels.EVALUATION_BADGES,
    }.items():
        app.add_template_global(lambda key, table=table: table.get(key, key), name)
    app.add_template_global(labels.language_name)
    app.add_template_global(labels.sector_name)
