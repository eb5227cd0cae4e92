"""Activity registrations: the correspondent's request and the staff's review."""
from flask import Blueprint

from app.audit.labels import register_action_labels

bp = Blueprint("registrations", __name__)


def init_app(app):
    from app.registrations import cli, labels, models, queue, routes, routes_consultations, routes_dossier  # noqa: F401
    from app.registrations import routes_documents  # noqa: F401

    app.register_blueprint(bp)
    register_action_labels(labels.TIMELINE_LABELS)
    app.cli.add_command(cli.registrations_cli)

    def country_name(code: str | None) -> str:
        from flask_babel import get_locale

        from app.countries import country_name as name_in

        return name_in(code, get_locale())

    for name, table in {
        "status_label": labels.STATUS_LABELS, "status_badge": labels.STATUS_BADGES, "kind_label": labels.KIND_LABELS,
        "attachment_label": labels.ATTACHMENT_LABELS, "consulted_body_label": labels.CONSULTED_BODY_LABELS,
        "opinion_label": labels.OPINION_LABELS, "proposal_label": labels.PROPOSAL_LABELS,
        "media_type_label": labels.MEDIA_TYPE_LABELS, "crew_role_label": labels.CREW_ROLE_LABELS,
        "document_label": labels.DOCUMENT_LABELS,
    }.items():
        app.add_template_global(lambda key, table=table: table.get(key, key), name)
    app.add_template_global(country_name)
    app.add_template_filter(lambda name: models.AttachmentKind[name], "attachment_kind")
    app.add_template_filter(lambda name: models.Status[name], "status_of")
