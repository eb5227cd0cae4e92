"""The public guide for foreign press, and its editing page for administrators."""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from app.auth.permissions import admin_required
from app.authority import authority_profile
from app.extensions import db
from app.guide import bp, service
from app.guide.content import GUIDE_LOCALES
from app.guide.forms import GuideForm


@bp.route("/guide")
def show():
    return render_template("guide/show.html", guide=service.guide_for(str(get_locale())), profile=authority_profile())


@bp.route("/admin/guide", methods=["GET", "POST"])
@admin_required
def edit():
    guides = {locale: service.guide_for(locale) for locale in GUIDE_LOCALES}
    form = GuideForm(data={"body_vi": guides["vi"].body_markdown, "body_en": guides["en"].body_markdown})
    if form.validate_on_submit():
        try:
            changed = service.save_guide(admin=current_user, bodies=form.bodies())
            db.session.commit()
        except IntegrityError:  # another administrator saved a language's first version at the same moment
            db.session.rollback()
            flash(_("Another administrator saved the guide at the same time. Check the text and save again."),
                  "warning")
            return render_template("guide/edit.html", form=form, guides=guides), 409
        flash(_("Guide saved.") if changed else _("No changes to save."), "success" if changed else "info")
        return redirect(url_for("guide.show"))
    return render_template("guide/edit.html", form=form, guides=guides)
