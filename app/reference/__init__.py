"""Reference data the administrator manages: places, escort officers, consulted bodies,
standard texts, spearhead sectors, and extra days off and make-up working days."""
from flask import Blueprint

bp = Blueprint("reference", __name__, url_prefix="/admin/reference")


def init_app(app):
    from app.audit.labels import register_action_labels
    from app.reference import cli, labels, models, routes  # noqa: F401  (the tables are part of the schema)

    app.register_blueprint(bp)
    app.cli.add_command(cli.reference_cli)
    register_action_labels(labels.AUDIT_LABELS)
    for name, table in {
        "place_kind_label": labels.PLACE_KIND_LABELS, "body_kind_label": labels.BODY_KIND_LABELS,
        "standard_text_kind_label": labels.STANDARD_TEXT_KIND_LABELS,
        "calendar_day_kind_label": labels.CALENDAR_DAY_KIND_LABELS,
    }.items():
        app.add_template_global(lambda key, table=table: table.get(key, key), name)
