"""Operating PressDesk: health and readiness checks, logs and request ids, the public address rule."""
from flask import Blueprint

bp = Blueprint("ops", __name__)


def finish_config(config) -> None:
    """Start-up checks and derived settings of this area (called by create_app's _finish_config)."""
    from app.ops.addresses import check_base_url_at_start
    from app.ops.ratelimits import add_redis_timeouts

    check_base_url_at_start(config)
    add_redis_timeouts(config)


def init_app(app):
    from app.ops import logs, routes  # noqa: F401  (registers views)

    logs.init_app(app)
    app.register_blueprint(bp)
