"""Staff accounts, managed by an administrator."""
from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.admin import bp
from app.admin.forms import ActiveForm, RoleForm, StaffAccountForm
from app.auth import service, twofactor
from app.auth.models import Role, User
from app.auth.permissions import admin_required
from app.extensions import db
from app.pagination import paginate


@bp.route("/users")
@admin_required
def users():
    role_name = request.args.get("role", "")
    query = sa.select(User).order_by(User.role, User.full_name)
    if role_name in Role.__members__:
        query = query.where(User.role == Role[role_name])
    page = paginate(query)
    return render_template("admin/users.html", page=page, role_name=role_name, roles=list(Role))


@bp.route("/users/new", methods=["GET", "POST"])
@admin_required
def create_user():
    form = StaffAccountForm()
    if form.validate_on_submit():
        try:
            user = service.create_staff_account(admin=current_user, email=form.email.data,
                                                full_name=form.full_name.data, role=Role[form.role.data],
                                                locale=form.locale.data)
        except service.AccountError as error:
            db.session.rollback()
            form.email.errors.append(str(error))
        else:
            user_id, email = user.id, user.email  # read before the commit (after it: a reload)
            db.session.commit()
            flash(_("Account created. An invitation to choose a password was sent to %(email)s.", email=email),
                  "success")
            return redirect(url_for("admin.user", user_id=user_id))
    return render_template("admin/user_new.html", form=form)


@bp.route("/users/<int:user_id>", methods=["GET"])
@admin_required
def user(user_id: int):
    return _user_page(db.get_or_404(User, user_id))


def _user_page(account: User, role_form: RoleForm | None = None):
    role_form = role_form or RoleForm(role=account.role.name)
    return render_template("admin/user.html", account=account, role_form=role_form, active_form=ActiveForm(),
                           two_factor_on=twofactor.is_enabled(account),
                           two_factor_required=twofactor.required_for(account), reset_form=ActiveForm(prefix="reset"))


@bp.route("/users/<int:user_id>/two-factor/reset", methods=["POST"])
@admin_required
def reset_two_factor(user_id: int):
    """For a user who lost both the phone and the recovery codes (the code page sends them here)."""
    account = db.get_or_404(User, user_id)
    if ActiveForm(prefix="reset").validate_on_submit():
        try:
            twofactor.reset_by_admin(current_user._get_current_object(), account)
        except twofactor.TwoFactorError as error:
            db.session.rollback()
            flash(str(error), "danger")
            return _user_page(account), 409
        db.session.commit()
        flash(_("Two-step sign-in is reset and every session of the account has ended; %(name)s was mailed and "
                "sets it up again at the next login.", name=account.full_name), "success")
    return redirect(url_for("admin.user", user_id=user_id))


@bp.route("/users/<int:user_id>/role", methods=["POST"])
@admin_required
def change_role(user_id: int):
    account = db.get_or_404(User, user_id)
    form = RoleForm()
    if form.validate_on_submit():
        try:
            service.change_role(admin=current_user, user=account, role=Role[form.role.data])
        except service.AccountError as error:
            db.session.rollback()
            form.role.errors.append(str(error))
            return _user_page(account, form), 409
        db.session.commit()
        flash(_("Role changed."), "success")
        return redirect(url_for("admin.user", user_id=user_id))
    return _user_page(account, form), 400


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@admin_required
def toggle_active(user_id: int):
    account = db.get_or_404(User, user_id)
    if ActiveForm().validate_on_submit():
        try:
            service.set_active(admin=current_user, user=account, active=not account.active)
        except service.AccountError as error:
            db.session.rollback()
            flash(str(error), "danger")
            return _user_page(account), 409
        db.session.commit()
        flash(_("Account activated.") if account.active else _("Account deactivated; its sessions are ended."),
              "success")
    return redirect(url_for("admin.user", user_id=user_id))
