from flask import Blueprint

bp = Blueprint("main", __name__)


def init_app(app):
    from app.main import routes  # noqa: F401

    app.register_blueprint(bp)

    @app.context_processor
    def shared_forms():
        from flask import has_request_context

        from app.auth.forms import LogoutForm
        from app.main.forms import LanguageForm

        if not has_request_context():  # an email rendered by a command
            return {}
        # formdata=None: these navbar forms never read the request (an error page
        # for a too-large body must not touch the body again).
        return {"language_form": LanguageForm(formdata=None), "logout_form": LogoutForm(formdata=None)}

    from app.auth.labels import role_label
    from app.authority import authority_profile
    from flask_babel import get_locale

    app.add_template_global(role_label)
    app.add_template_global(lambda: authority_profile().province_name(str(get_locale())), "profile_name")

