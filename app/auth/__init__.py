from flask import Blueprint

bp = Blueprint("auth", __name__)


def init_app(app):
    from app.auth import cli, routes, security_views, twofactor  # noqa: F401  (registers views and commands)
    from app.auth.devices import device_label
    from app.auth.service import load_session_user
    from app.extensions import login_manager
    from flask_babel import lazy_gettext as _l

    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.user_loader(load_session_user)
    # Flask-Login's session protection only marks a session not "fresh" when the address or browser
    # changes ("strong" would log out a phone moving between networks); nothing here reads
    # freshness, and a session is the server's revocable record (load_session_user). Its mark was a
    # write of the cookie on a visitor's first request after the session began (the favicon, an
    # icon), and that response, racing a language switch made as the page loaded, put back the
    # cookie without the new language (a CI run caught it).
    login_manager.session_protection = None
    app.register_blueprint(bp)
    twofactor.init_app(app)  # the set-up gate: before the other areas' gates (the consent gate)
    app.add_template_global(device_label)
    app.cli.add_command(cli.users_cli)
