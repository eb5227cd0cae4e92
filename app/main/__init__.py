import contextlib
import functools

from flask import Blueprint, g

bp = Blueprint("main", __name__)


def sessionless(view):
    """A page that must not start a session: no navbar forms (their CSRF token would set a cookie).

    For pages anyone opens without an account, many times a minute: a scanned permit, the
    checkpoint app. They use templates/verification/_layout.html, which has no form.
    """
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        g.sessionless = True
        return view(*args, **kwargs)

    return wrapped


@contextlib.contextmanager
def without_page_forms():
    """Templates rendered inside the block (emails, in a request) get none of the navbar's forms.

    An email has no navbar; building its two forms (a CSRF token each) was a third of the time
    to render one (7 mails, 14 templates, a submission: 3.9 of 12.6 ms, cProfile)."""
    before = g.get("without_page_forms", False)
    g.without_page_forms = True
    try:
        yield
    finally:
        g.without_page_forms = before


def init_app(app):
    from app.main import routes  # noqa: F401

    app.register_blueprint(bp)

    @app.context_processor
    def shared_forms():
        from flask import has_request_context

        from app.auth.forms import LogoutForm
        from app.main.forms import LanguageForm

        from app.authority import authority_profile

        if not has_request_context():  # an email rendered by a command
            return {}
        if g.get("sessionless") or g.get("without_page_forms"):
            return {"authority": authority_profile()}
        # formdata=None: these navbar forms never read the request (an error page
        # for a too-large body must not touch the body again).
        return {"language_form": LanguageForm(formdata=None), "logout_form": LogoutForm(formdata=None),
                "authority": authority_profile()}

    from app.auth.labels import role_label
    from app.authority import authority_profile
    from flask_babel import get_locale

    app.add_template_global(role_label)
    app.add_template_global(lambda: authority_profile().province_name(str(get_locale())), "profile_name")

