"""Personal data: the privacy notice and consent, the data subject's rights (a copy of their data,
corrections, closing the account), retention and its purge, and the keys that encrypt passport
numbers and dates of birth at rest (see the README, "Personal data and sign-in")."""
from flask import Blueprint
from flask.cli import AppGroup

bp = Blueprint("privacy", __name__)
privacy_cli = AppGroup("privacy", help="Personal data: the data key, retention and its purge.")


def init_app(app):
    from app.privacy import access, keys, masking, models, notice, retention, rights  # noqa: F401  (views, commands)

    app.register_blueprint(bp)
    app.cli.add_command(privacy_cli)
    notice.init_app(app)
