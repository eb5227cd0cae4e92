"""The administrator's pages for the reference data: an index, and for each list a table, a form
for a new or changed entry, and buttons to activate, deactivate (or delete) an entry.

The six lists share these views; `LISTS` says what differs (model, form, service calls, order)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.auth.permissions import admin_required
from app.extensions import db
from app.forms import database_id
from app.pagination import paginate
from app.places.models import Place
from app.reference import bp, service
from app.reference.forms import (ActionForm, CalendarDayForm, ConsultedBodyForm, EscortOfficerForm, PlaceForm,
                                 SectorForm, StandardTextForm)
from app.reference.models import CalendarDay, ConsultedBodyEntry, EscortOfficer, SpearheadSector, StandardText
from app.reference.service import ReferenceDataError
from app.registrations.workdays import FIRST_YEAR, LAST_YEAR


@dataclass(frozen=True)
class ReferenceList:
    name: str  # in the address: /admin/reference/<name>/
    model: type
    form: type
    create: Callable
    update: Callable
    title: str
    description: str
    order: Callable[[], tuple]
    new_label: str
    template: str
    seeds_from_profile: bool = False  # offers "Load from the authority profile" while empty
    deletable: bool = False  # else deactivated only


LISTS = {item.name: item for item in (
    ReferenceList("places", Place, PlaceForm, service.create_place, service.update_place,
                  _l("Places"), _l("Communes, wards and sites of the province that itineraries go to; border "
                                   "areas need a consultation."),
                  lambda: (Place.active.desc(), Place.name_vi, Place.id), _l("New place"), "reference/places.html",
                  deletable=True),
    ReferenceList("escort-officers", EscortOfficer, EscortOfficerForm, service.create_escort_officer,
                  service.update_escort_officer, _l("Escort officers"),
                  _l("Province officials who accompany crews; letters and permits print their name, title and "
                     "phone."),
                  lambda: (EscortOfficer.active.desc(), EscortOfficer.full_name, EscortOfficer.id),
                  _l("New escort officer"), "reference/escort_officers.html"),
    ReferenceList("consulted-bodies", ConsultedBodyEntry, ConsultedBodyForm, service.create_consulted_body,
                  service.update_consulted_body, _l("Consulted bodies"),
                  _l("The bodies the province consults or informs, by their official Vietnamese names."),
                  lambda: (ConsultedBodyEntry.active.desc(), ConsultedBodyEntry.kind, ConsultedBodyEntry.id),
                  _l("New body"), "reference/consulted_bodies.html", seeds_from_profile=True),
    ReferenceList("standard-texts", StandardText, StandardTextForm, service.create_standard_text,
                  service.update_standard_text, _l("Standard texts"),
                  _l("Conditions, refusal reasons and requests for information in Vietnamese and English, which "
                     "staff pick and may edit."),
                  lambda: (StandardText.kind, StandardText.active.desc(), StandardText.position, StandardText.id),
                  _l("New standard text"), "reference/standard_texts.html"),
    ReferenceList("sectors", SpearheadSector, SectorForm, service.create_sector, service.update_sector,
                  _l("Spearhead sectors"), _l("The sectors the province promotes; products are tagged with them."),
                  lambda: (SpearheadSector.active.desc(), SpearheadSector.position, SpearheadSector.id),
                  _l("New sector"), "reference/sectors.html", seeds_from_profile=True),
    ReferenceList("calendar", CalendarDay, CalendarDayForm, service.create_calendar_day,
                  service.update_calendar_day, _l("Extra days off and make-up working days"),
                  _l("Days the working calendar treats differently from the national holidays, for the "
                     "deadlines counted in working days."),
                  lambda: (CalendarDay.day,), _l("New calendar day"), "reference/calendar.html", deletable=True),
)}


def _list_or_404(list_name: str) -> ReferenceList:
    reference_list = LISTS.get(list_name)
    if reference_list is None:
        abort(404)
    return reference_list


def _back_to_list(reference_list: ReferenceList, record=None):
    if isinstance(record, CalendarDay):
        return redirect(url_for("reference.list_page", list_name=reference_list.name, year=record.day.year))
    return redirect(url_for("reference.list_page", list_name=reference_list.name))


def _show_refusal(form, error: ReferenceDataError) -> list[str]:
    """The service's message next to its field; a message about the whole entry is returned."""
    field = getattr(form, error.field, None) if error.field else None
    if field is None:
        return [str(error)]
    field.errors = [*field.errors, str(error)]
    return []


def _form_page(reference_list: ReferenceList, form, record, status: int = 200, problems=()):
    in_use = isinstance(record, Place) and service.place_in_use(record)
    return render_template("reference/form.html", reference_list=reference_list, form=form, record=record,
                           action_form=ActionForm(), problems=list(problems), place_in_use=in_use), status


@bp.route("/")
@admin_required
def index():
    counts = {}
    for reference_list in LISTS.values():
        model = reference_list.model
        total = db.session.scalar(sa.select(sa.func.count()).select_from(model))
        active = (db.session.scalar(sa.select(sa.func.count()).select_from(model).where(model.active.is_(True)))
                  if hasattr(model, "active") else None)
        counts[reference_list.name] = (active, total)
    return render_template("reference/index.html", lists=LISTS.values(), counts=counts)


@bp.route("/<list_name>/")
@admin_required
def list_page(list_name: str):
    reference_list = _list_or_404(list_name)
    query = sa.select(reference_list.model).order_by(*reference_list.order())
    year = years = None
    if reference_list.model is CalendarDay:
        years = service.calendar_years()
        year = request.args.get("year", type=database_id)
        if year is not None and FIRST_YEAR <= year <= LAST_YEAR:
            query = query.where(CalendarDay.day.between(date(year, 1, 1), date(year, 12, 31)))
        else:
            year = None
    page = paginate(query)
    empty = not page.total and year is None
    return render_template(reference_list.template, reference_list=reference_list, page=page, year=year,
                           years=years, offer_seed=reference_list.seeds_from_profile and empty,
                           action_form=ActionForm())


@bp.route("/<list_name>/new", methods=["GET", "POST"])
@admin_required
def create(list_name: str):
    reference_list = _list_or_404(list_name)
    form = reference_list.form()
    problems = []
    if form.validate_on_submit():
        try:
            record = reference_list.create(current_user, **form.values())
        except ReferenceDataError as error:
            db.session.rollback()
            problems = _show_refusal(form, error)
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return _back_to_list(reference_list, record)
    return _form_page(reference_list, form, None, 422 if form.is_submitted() else 200, problems)


@bp.route("/<list_name>/<int:record_id>", methods=["GET", "POST"])
@admin_required
def edit(list_name: str, record_id: int):
    reference_list = _list_or_404(list_name)
    record = db.get_or_404(reference_list.model, record_id)
    form = reference_list.form()
    problems = []
    if request.method == "GET":
        form.load(record)
    elif form.validate_on_submit():
        try:
            changed = reference_list.update(current_user, record, **form.values())
        except ReferenceDataError as error:
            db.session.rollback()
            problems = _show_refusal(form, error)
            record = db.session.get(reference_list.model, record_id)
        else:
            db.session.commit()
            flash(_("Saved.") if changed else _("Nothing was changed."), "success" if changed else "info")
            return _back_to_list(reference_list, record)
    return _form_page(reference_list, form, record, 422 if form.is_submitted() else 200, problems)


@bp.route("/<list_name>/<int:record_id>/active", methods=["POST"])
@admin_required
def toggle_active(list_name: str, record_id: int):
    reference_list = _list_or_404(list_name)
    if not hasattr(reference_list.model, "active"):
        abort(404)
    record = db.get_or_404(reference_list.model, record_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    service.set_active(current_user, record, not record.active)
    db.session.commit()
    flash(_("Activated: it is offered again.") if record.active
          else _("Deactivated: it is no longer offered, and keeps its name where it is already used."), "success")
    return _back_to_list(reference_list, record)


@bp.route("/<list_name>/<int:record_id>/delete", methods=["POST"])
@admin_required
def delete(list_name: str, record_id: int):
    reference_list = _list_or_404(list_name)
    if not reference_list.deletable:
        abort(404)
    record = db.get_or_404(reference_list.model, record_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    year = record.day.year if isinstance(record, CalendarDay) else None
    try:
        if isinstance(record, Place):
            service.delete_place(current_user, record)
        else:
            service.delete_calendar_day(current_user, record)
    except ReferenceDataError as error:
        db.session.rollback()
        record = db.session.get(reference_list.model, record_id)
        form = reference_list.form()
        form.load(record)
        return _form_page(reference_list, form, record, 409, [str(error)])
    db.session.commit()
    flash(_("Deleted."), "success")
    return redirect(url_for("reference.list_page", list_name=reference_list.name, year=year))


@bp.route("/<list_name>/seed", methods=["POST"])
@admin_required
def seed(list_name: str):
    reference_list = _list_or_404(list_name)
    if not reference_list.seeds_from_profile:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    added = service.seed_from_profile(current_user)
    db.session.commit()
    count = added["consulted_bodies" if reference_list.model is ConsultedBodyEntry else "spearhead_sectors"]
    if count:
        flash(_("Loaded %(count)d entries from the authority profile.", count=count), "success")
    else:
        flash(_("Nothing was loaded: the list already has entries, or the authority profile has none."), "info")
    return _back_to_list(reference_list)
