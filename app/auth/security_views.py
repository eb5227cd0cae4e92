"""Views of two-step sign-in and of the sessions page: thin, each calls one service function."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from app.auth import bp, devices, twofactor
from app.auth.routes import complete_login, log_out_browser
from app.auth.security_forms import (EndOtherSessionsForm, EndSessionForm, PasswordCheckForm, TwoFactorChallengeForm,
                                     TwoFactorSetupForm)
from app.extensions import db, limiter
from app.security import is_safe_next


def _two_factor_limit() -> str:
    return current_app.config.get("RATELIMIT_TWO_FACTOR") or "1 per second"


def _no_two_factor_limit() -> bool:
    return not current_app.config.get("RATELIMIT_TWO_FACTOR")


def _setup_page(form, **extra):
    user = current_user._get_current_object()
    secret = twofactor.pending_secret(user)
    uri = twofactor.provisioning_uri(user, secret)
    return render_template("auth/two_factor_setup.html", form=form, secret=twofactor.grouped(secret),
                           qr=twofactor.qr_svg(uri, _("QR code to scan with your authenticator app")),
                           required=twofactor.required_for(user), **extra)


@bp.route("/account/two-factor", methods=["GET", "POST"])
@login_required
def two_factor_setup():
    user = current_user._get_current_object()
    if twofactor.is_enabled(user):
        return render_template("auth/two_factor_status.html", required=twofactor.required_for(user),
                               codes_left=twofactor.unused_recovery_codes(user),
                               codes_form=PasswordCheckForm(prefix="codes"), disable_form=PasswordCheckForm(prefix="off"))
    form = TwoFactorSetupForm()
    if form.validate_on_submit():
        try:
            codes = twofactor.confirm_setup(user, form.code.data)
        except twofactor.TwoFactorError as error:
            db.session.commit()  # keep the secret made for this set-up
            form.code.errors.append(str(error))
            return _setup_page(form), 400
        db.session.commit()
        flash(_("Two-step sign-in is on. From now on, PressDesk asks for a code from your app after the password."),
              "success")
        target = request.args.get("next", "")
        return render_template("auth/two_factor_recovery_codes.html", codes=codes,
                               continue_url=target if is_safe_next(target) else url_for("main.index"))
    if request.method == "GET":
        from app.database import writes

        writes()  # the first visit makes the secret
    page = _setup_page(form)
    db.session.commit()
    return page


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(_two_factor_limit, methods=["POST"], exempt_when=_no_two_factor_limit)
def two_factor_challenge():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    pending = twofactor.pending_login(session)
    if pending is None:
        twofactor.forget_pending_login(session)
        flash(_("Please log in again: the code must follow the password within 5 minutes."), "info")
        return redirect(url_for("auth.login"))
    user, target = pending
    form = TwoFactorChallengeForm()
    if form.validate_on_submit():
        try:
            kind = twofactor.check_code(user, form.code.data)
        except twofactor.TwoFactorThrottled as error:
            db.session.commit()  # keep the audit event
            form.code.errors.append(str(error))
            return (render_template("auth/two_factor_challenge.html", form=form), 429,
                    {"Retry-After": str(error.retry_after)})
        except twofactor.TwoFactorError as error:
            db.session.commit()  # keep the audit event and the count
            form.code.errors.append(str(error))
            return render_template("auth/two_factor_challenge.html", form=form), 400
        left = twofactor.unused_recovery_codes(user) if kind == "recovery" else None
        response = complete_login(user, target)  # a new browser session: flash after it
        if left is not None:
            flash(ngettext("You used a recovery code: %(num)d is left. Make a new set on the two-step sign-in page.",
                           "You used a recovery code: %(num)d are left. Make a new set on the two-step sign-in "
                           "page if you run short.", left), "warning")
        return response
    return render_template("auth/two_factor_challenge.html", form=form)


@bp.route("/account/two-factor/off", methods=["POST"])
@login_required
def two_factor_disable():
    form = PasswordCheckForm(prefix="off")
    if form.validate_on_submit():
        try:
            twofactor.disable(current_user._get_current_object(), form.password.data)
        except twofactor.TwoFactorError as error:
            db.session.rollback()
            flash(str(error), "danger")
            return redirect(url_for("auth.two_factor_setup")), 303
        db.session.commit()
        flash(_("Two-step sign-in is off. The password alone now logs in to your account."), "success")
        return redirect(url_for("auth.account"))
    flash(_("Type your password to turn two-step sign-in off."), "danger")
    return redirect(url_for("auth.two_factor_setup")), 303


@bp.route("/account/two-factor/recovery-codes", methods=["POST"])
@login_required
def recovery_codes():
    form = PasswordCheckForm(prefix="codes")
    if form.validate_on_submit():
        try:
            codes = twofactor.renew_recovery_codes(current_user._get_current_object(), form.password.data)
        except twofactor.TwoFactorError as error:
            db.session.rollback()
            flash(str(error), "danger")
            return redirect(url_for("auth.two_factor_setup")), 303
        db.session.commit()
        flash(_("New recovery codes are made: the earlier ones no longer work."), "success")
        return render_template("auth/two_factor_recovery_codes.html", codes=codes,
                               continue_url=url_for("auth.two_factor_setup"))
    flash(_("Type your password to make new recovery codes."), "danger")
    return redirect(url_for("auth.two_factor_setup")), 303


# --- sessions ------------------------------------------------------------------------------------

@bp.route("/account/sessions")
@login_required
def sessions():
    user = current_user._get_current_object()
    listed = [(user_session, devices.is_current(user, user_session)) for user_session in devices.live_sessions(user)]
    return render_template("auth/sessions.html", sessions=listed, end_form=EndSessionForm(),
                           end_others_form=EndOtherSessionsForm())


@bp.route("/account/sessions/<int:session_id>/end", methods=["POST"])
@login_required
def end_session(session_id: int):
    form = EndSessionForm()
    if not form.validate_on_submit():
        abort(400)
    user = current_user._get_current_object()
    ended = devices.end_user_session(user, session_id)
    if ended is None:
        abort(404)
    current = devices.is_current(user, ended)
    db.session.commit()
    if current:
        log_out_browser()
        flash(_("You ended the session of this browser: you are logged out."), "success")
        return redirect(url_for("auth.login"))
    flash(_("The session is ended: that browser is logged out."), "success")
    return redirect(url_for("auth.sessions"))


@bp.route("/account/sessions/end-others", methods=["POST"])
@login_required
def end_other_sessions():
    form = EndOtherSessionsForm()
    if not form.validate_on_submit():
        abort(400)
    count = devices.end_other_sessions(current_user._get_current_object())
    db.session.commit()
    flash(ngettext("%(num)d other session is ended.", "%(num)d other sessions are ended.", count), "success")
    return redirect(url_for("auth.sessions"))
