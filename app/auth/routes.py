"""Views of the accounts area: thin, each calls one service function."""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy.exc import IntegrityError

from app.auth import bp
from app.auth.forms import (ChangePasswordForm, ConfirmForm, EmailForm, LoginForm, SetPasswordForm,
                            SignupForm)
from app.auth.models import TokenPurpose
from app.auth import devices, service, twofactor
from app.extensions import db, limiter
from app.security import is_safe_next


def _login_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN"]


def _reset_limit() -> str:
    return current_app.config["RATELIMIT_PASSWORD_RESET"]


def _signup_limit() -> str:
    return current_app.config["RATELIMIT_SIGNUP"]


def _begin_browser_session(user, raw_token: str | None) -> None:
    """A new cookie for a new login: nothing from before the login carries over but the language.

    Without a user, only the clearing (the password step of a two-step login)."""
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale
    if user is None:
        return
    user.session_token = raw_token
    login_user(user)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            user = service.authenticate(form.email.data, form.password.data)
        except service.LoginThrottled as error:  # the per-account throttle: the same for any address
            db.session.commit()  # keep the audit event of the throttled attempt
            form.password.errors.append(str(error))
            return render_template("auth/login.html", form=form), 429, {"Retry-After": str(error.retry_after)}
        except service.AccountError as error:
            db.session.commit()  # keep the audit event of the failed attempt
            form.password.errors.append(str(error))
        else:
            target = form.next.data if is_safe_next(form.next.data) else ""
            if twofactor.is_enabled(user):
                # The password alone does not log in: the code follows, within 5 minutes, in this browser.
                db.session.commit()
                _begin_browser_session(None, None)
                twofactor.remember_pending_login(session, user, target)
                return redirect(url_for("auth.two_factor_challenge"))
            return complete_login(user, target)
    return render_template("auth/login.html", form=form)


def complete_login(user, target: str):
    """Start the session of a user who passed every step; note the browser (a new one is mailed)."""
    raw = service.start_session(user)
    device_token = devices.recognise_device(user, request.cookies.get(devices.DEVICE_COOKIE))
    db.session.commit()
    _begin_browser_session(user, raw)
    from app.worklist.service import may_have_worklist  # officers and leaders land on their worklist

    default = url_for("worklist.mine") if may_have_worklist(user) else url_for("main.index")
    response = redirect(target if is_safe_next(target) else default)
    devices.set_device_cookie(response, device_token)
    return response


def log_out_browser() -> None:
    """Forget the login in this browser (logout, an account closed, this session ended): only the
    language stays."""
    logout_user()
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    service.end_session(current_user)
    db.session.commit()
    log_out_browser()
    flash(_("You have logged out."), "success")
    return redirect(url_for("main.index"))


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(_signup_limit, methods=["POST"])
def signup():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = SignupForm()
    if request.method == "GET":
        form.locale.data = session.get("locale") or "en"
    if form.validate_on_submit():
        try:
            service.register_correspondent(email=form.email.data, full_name=form.full_name.data,
                                           password=form.password.data, locale=form.locale.data,
                                           privacy_consent=form.privacy_consent.data)
            db.session.commit()
        except IntegrityError:
            # The same address signed up a moment ago in another request: the same
            # answer as for any existing address, and nothing half-saved.
            db.session.rollback()
        return render_template("auth/check_email.html", email=service.normalise_email(form.email.data))
    return render_template("auth/signup.html", form=form)


@bp.route("/confirm/<token>", methods=["GET", "POST"])
def confirm_email(token: str):
    # GET only shows a button: mail scanners that open links must not confirm anything.
    form = ConfirmForm()
    if service.peek_token(token, TokenPurpose.confirm_email) is None:
        return render_template("auth/link_invalid.html", resend=True), 400
    if form.validate_on_submit():
        try:
            service.confirm_email(token)
        except service.AccountError as error:
            db.session.rollback()
            flash(str(error), "danger")
            return render_template("auth/link_invalid.html", resend=True), 400
        db.session.commit()
        flash(_("Thank you: your email address is confirmed. You can log in now."), "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/confirm_email.html", form=form)


@bp.route("/confirm/resend", methods=["GET", "POST"])
@limiter.limit(_reset_limit, methods=["POST"])
def resend_confirmation():
    form = EmailForm()
    if form.validate_on_submit():
        service.resend_confirmation(form.email.data)
        db.session.commit()
        return render_template("auth/check_email.html", email=service.normalise_email(form.email.data))
    return render_template("auth/email_form.html", form=form, title=_("Send the confirmation link again"))


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit(_reset_limit, methods=["POST"])
def forgot_password():
    form = EmailForm()
    if form.validate_on_submit():
        service.request_password_reset(form.email.data)
        db.session.commit()
        return render_template("auth/check_email.html", email=service.normalise_email(form.email.data), reset=True)
    return render_template("auth/email_form.html", form=form, title=_("Forgotten password"))


def _set_password_page(token: str, purpose: TokenPurpose, title: str):
    live = service.peek_token(token, purpose)
    if live is None:
        return render_template("auth/link_invalid.html", resend=False), 400
    form = SetPasswordForm()
    form.password_context = lambda: {"email": live.user.email, "full_name": live.user.full_name}
    if form.validate_on_submit():
        try:
            service.reset_password(token, form.password.data, purpose)
        except service.AccountError as error:
            db.session.rollback()
            flash(str(error), "danger")
            return render_template("auth/link_invalid.html", resend=False), 400
        db.session.commit()
        flash(_("Your password is saved. Log in with it now."), "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/set_password.html", form=form, title=title, email=live.user.email)


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@limiter.limit(_reset_limit, methods=["POST"])
def reset_password(token: str):
    return _set_password_page(token, TokenPurpose.reset_password, _("Choose a new password"))


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@limiter.limit(_reset_limit, methods=["POST"])
def accept_invitation(token: str):
    return _set_password_page(token, TokenPurpose.invitation, _("Welcome to PressDesk: choose your password"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            raw = service.change_password(current_user, form.current_password.data, form.password.data)
        except service.AccountError as error:
            form.current_password.errors.append(str(error))
        else:
            db.session.commit()
            _begin_browser_session(current_user._get_current_object(), raw)
            flash(_("Your password is changed. Other browsers where you were logged in are logged out."), "success")
            return redirect(url_for("auth.account"))
    return render_template("auth/account.html", form=form)
