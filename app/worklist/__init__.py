"""The staff's own worklist ("Việc của tôi") and their saved queue filters."""
from flask import Blueprint
from flask_babel import lazy_gettext as _l

bp = Blueprint("worklist", __name__)


def init_app(app):
    from app.audit.labels import register_action_labels
    from app.worklist import models, routes, service  # noqa: F401  (the table is part of the schema)

    app.register_blueprint(bp)
    register_action_labels({
        "saved_filter.saved": _l("Saved a queue filter"),
        "saved_filter.replaced": _l("Replaced a saved queue filter"),
        "saved_filter.deleted": _l("Deleted a saved queue filter"),
    })

    @app.context_processor
    def worklist_counts():
        # A function, not the counts: only the pages that show the menu item (templates/worklist/_nav.html)
        # run the COUNT queries, once per request, and only for officers and leaders.
        return {"worklist_counts": service.counts_for_page}
