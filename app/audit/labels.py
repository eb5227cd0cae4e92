"""Names of audit actions, for the audit list. Each area adds its own at start-up."""
from flask_babel import lazy_gettext as _l

ACTION_LABELS = {
    "auth.login": _l("Logged in"),
    "auth.login_failed": _l("Failed login"),
    "auth.login_throttled": _l("Login refused: too many failures for the account"),
    "auth.logout": _l("Logged out"),
    "auth.password_changed": _l("Changed password"),
    "auth.password_reset_requested": _l("Asked for a password reset"),
    "auth.password_reset": _l("Reset password"),
    "account.signup": _l("Signed up"),
    "account.email_confirmed": _l("Confirmed email"),
    "account.created": _l("Account created"),
    "account.invitation_accepted": _l("Accepted invitation"),
    "account.role_changed": _l("Role changed"),
    "account.activated": _l("Account activated"),
    "account.deactivated": _l("Account deactivated"),
}


def register_action_labels(labels: dict) -> None:
    """Called by an area's init_app with the translated names of the actions it records."""
    ACTION_LABELS.update(labels)
