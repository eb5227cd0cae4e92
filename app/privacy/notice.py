"""The privacy notice (/privacy, public) and consent to it.

The notice's text and version come from the authority profile (`privacy_notice_*`; the demo
profile has a DEMO text, app/privacy/default_notice.py is used when a profile has none). The page
adds what the profile already knows: the controller's names and contact, and the retention table.

Consent is recorded with the notice's version and the time (PrivacyConsent): at sign-up, for each
crew member whose personal data a correspondent enters, and again when a new version is
published: the consent gate sends a signed-in correspondent whose accepted version differs from
the current one to the consent page before anything else.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask import redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from flask_login import current_user, login_required
from werkzeug.routing import BuildError
from wtforms import BooleanField, HiddenField, SubmitField
from wtforms.validators import DataRequired

from app.audit.labels import register_action_labels
from app.audit.service import record_event
from app.authority import DEFAULT_RETENTION, AuthorityProfile, authority_profile
from app.auth.models import Role, User
from app.auth.twofactor import serves_static
from app.clock import utcnow
from app.extensions import db
from app.forms import Form
from app.privacy import bp
from app.privacy.default_notice import DEFAULT_NOTICE_EN, DEFAULT_NOTICE_VERSION, DEFAULT_NOTICE_VI
from app.privacy.models import ConsentContext, PrivacyConsent
from app.security import is_safe_next

AUDIT_LABELS = {
    "privacy.consent_given": _l("Accepted the privacy notice"),
}

# Endpoints a correspondent who has not accepted the current notice may still reach: the notice
# and the rest of the privacy area (their data, closing the account), logging out, the language,
# static files, and the two-factor steps (that gate runs first). Other areas may add theirs.
CONSENT_GATE_OPEN_ENDPOINTS = {
    "static", "auth.logout", "main.set_language",
    "auth.two_factor_setup", "auth.two_factor_challenge",
    "ops.healthz", "ops.readyz",
}

# What each retention period covers, and from when it counts (the table on the notice).
RETENTION_ROWS = {
    "identity_attachments_days": (_l("Passport pages and press cards attached to a registration"),
                                  _l("The end of the programme (for a registration never submitted: its last change)")),
    "face_photos_days": (_l("Crew members' face photos, and the permit's copy once the permit is no longer in force"),
                         _l("The end of the last programme that names the person (or their last change)")),
    "identity_numbers_days": (_l("Passport numbers and dates of birth"),
                              _l("The end of the last programme that names the person (or their last change)")),
    "issued_documents_years": (_l("Issued letters and permits (the files; the register entry stays)"),
                               _l("The date of issue")),
    "audit_log_years": (_l("The audit log (who did what, and when)"), _l("The date of the event")),
    "scan_addresses_days": (_l("The network address a permit's QR code was checked from"), _l("The date of the check")),
}


class ConsentForm(Form):
    accept = BooleanField(_l("I have read the privacy notice and agree to the processing of my personal data as "
                             "it describes"),
                          validators=[DataRequired(message=_l("Tick the box to accept the privacy notice, or log "
                                                              "out."))])
    next = HiddenField()
    submit = SubmitField(_l("Accept and continue"))


# --- the notice ------------------------------------------------------------------

def current_notice_version(profile: AuthorityProfile | None = None) -> str:
    profile = profile or authority_profile()
    return profile.privacy_notice_version or DEFAULT_NOTICE_VERSION


@dataclass
class NoticeSection:
    key: str
    heading: str
    blocks: list[tuple[str, object]] = field(default_factory=list)  # ("p", text) or ("ul", [items])


def _fill(text: str, values: dict[str, str]) -> str:
    """Replace the {name} placeholders the profile may use; anything else stays as written."""
    return re.sub(r"\{([a-z_]+)\}", lambda match: values.get(match.group(1), match.group(0)), text)


def _blocks(body: str) -> list[tuple[str, object]]:
    """Paragraphs are separated by a blank line; a paragraph whose lines start with "- " is a list."""
    blocks = []
    for paragraph in re.split(r"\n\s*\n", body.strip()):
        lines = [line.strip() for line in paragraph.splitlines() if line.strip()]
        if lines and all(line.startswith("- ") for line in lines):
            blocks.append(("ul", [line[2:].strip() for line in lines]))
        elif lines:
            blocks.append(("p", " ".join(lines)))
    return blocks


def notice_sections(locale: str, profile: AuthorityProfile | None = None) -> list[NoticeSection]:
    profile = profile or authority_profile()
    sections = profile.privacy_notice(locale)
    if not sections:
        sections = DEFAULT_NOTICE_VI if locale == "vi" else DEFAULT_NOTICE_EN
    values = {"issuing_body": profile.issuing_body_in_text(locale), "department": profile.department(locale),
              "province": profile.province_in_text(locale), "contact_email": profile.contact_email,
              "contact_phone": profile.contact_phone}
    return [NoticeSection(key=section.get("key", ""), heading=_fill(section.get("heading", ""), values),
                          blocks=_blocks(_fill(section.get("body", ""), values)))
            for section in sections]


def retention_rows(profile: AuthorityProfile | None = None) -> list[tuple[str, str, str]]:
    """(what, for how long, counted from) for each period of the profile."""
    retention = (profile or authority_profile()).retention
    rows = []
    for name in DEFAULT_RETENTION:
        what, since = RETENTION_ROWS[name]
        value = retention[name]
        if name.endswith("_years"):
            period = lazy_ngettext("%(num)d year", "%(num)d years", value)
        else:
            period = lazy_ngettext("%(num)d day", "%(num)d days", value)
        rows.append((str(what), str(period), str(since)))
    return rows


def _url_or_none(endpoint: str) -> str | None:
    """The page of another part of the privacy area, when it exists in this build."""
    try:
        return url_for(endpoint)
    except BuildError:
        return None


def notice_context() -> dict:
    profile = authority_profile()
    locale = str(get_locale())
    sections = notice_sections(locale, profile)
    keys = {section.key for section in sections}
    return {"profile": profile, "sections": sections, "notice_version": current_notice_version(profile),
            "retention_rows": retention_rows(profile), "my_data_url": _url_or_none("privacy.my_data"),
            # Where the page adds the controller's contact and the retention table: after the
            # sections of those keys, else at the start and the end.
            "controller_after": "controller" if "controller" in keys else None,
            "retention_after": "retention" if "retention" in keys else None,
            "rights_after": "rights" if "rights" in keys else None}


@bp.route("/privacy")
def notice():
    """Public, in the language of ?lang= (a link from the permit check, which has no session)."""
    return render_template("privacy/notice.html", **notice_context())


# --- consent ------------------------------------------------------------------------

def record_consent(user: User, context: ConsentContext, crew_member=None) -> PrivacyConsent:
    """Record that `user` accepted the current notice (signup, renewal) or, for `crew_member`, that
    the person whose data `user` entered was given it and agrees. Flushes; the caller commits."""
    if (context is ConsentContext.crew_member) != (crew_member is not None):
        raise ValueError("a crew member's consent names the crew member, and only it does")
    version = current_notice_version()
    consent = PrivacyConsent(user_id=user.id, crew_member_id=crew_member.id if crew_member is not None else None,
                             context=context, notice_version=version, given_at=utcnow())
    db.session.add(consent)
    if crew_member is None:
        user.privacy_notice_version = version
        user.privacy_consented_at = consent.given_at
    db.session.flush()
    record_event("privacy.consent_given", actor=user, subject=crew_member if crew_member is not None else user,
                 after={"context": context.name, "notice_version": version})
    return consent


def needs_consent(user) -> bool:
    """A correspondent who has not accepted the current version of the notice."""
    return (user.is_authenticated and user.role is Role.correspondent
            and user.privacy_notice_version != current_notice_version())


def consent_gate():
    endpoint = request.endpoint
    if (endpoint is None or endpoint in CONSENT_GATE_OPEN_ENDPOINTS or serves_static(endpoint)
            or request.blueprint == "privacy"):
        return None
    if not needs_consent(current_user):
        return None
    target = request.full_path if request.query_string else request.path
    return redirect(url_for("privacy.consent", next=target if request.method == "GET" else None))


@bp.route("/privacy/consent", methods=["GET", "POST"])
@login_required
def consent():
    form = ConsentForm(next=request.args.get("next", ""))
    target = form.next.data if is_safe_next(form.next.data) else url_for("main.index")
    if not needs_consent(current_user):
        return redirect(target)
    if form.validate_on_submit():
        record_consent(current_user, ConsentContext.renewal)
        db.session.commit()
        return redirect(target)
    return render_template("privacy/consent.html", form=form,
                           first_time=current_user.privacy_notice_version is None, **notice_context())


def init_app(app):
    register_action_labels(AUDIT_LABELS)
    app.before_request(consent_gate)
