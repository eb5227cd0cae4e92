"""Product pages: the staff list, record and evaluation; the correspondent's post-visit report;
sovereignty cases; the overdue-report view; CSV and XLSX exports.

Views are thin: load and check access, read the form, call one service function, commit,
then redirect or render. The rules live in service.py.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload, selectinload
from wtforms import SelectChoice

from app.auth.models import Role
from app.auth.permissions import roles_required
from app.extensions import db
from app.forms import database_id
from app.outlets.forms import country_choices
from app.outlets.models import Outlet
from app.pagination import ListPage
from app.search import contains, fold, like_pattern
from app.products import bp, exports, service
from app.products.forms import (AcceptForm, CaseForm, CorrectionForm, EvaluationForm, EvidenceForm,
                                ProductFilterForm, ProductForm, RemoveForm, ReportForm, language_choices,
                                sector_choices)
from app.products.labels import CHANNEL_LABELS, EVALUATION_LABELS, STATUS_LABELS, TYPE_LABELS
from app.products.models import (CaseStatus, Channel, CooperationType, Evaluation, EvidenceFile, PostVisitReminder,
                                 Product, ProductCountry, ProductLanguage, ProductSector, ProductStatus, ProductType,
                                 ReportState, SovereigntyCase)
from app.products.permissions import can_report_on, can_view_product
from app.registrations.models import Registration, may_be_in_a_reference, reference_contains
from app.clock import local_today
from app.uploads import UploadError, send_stored, upload_rate_limited

reviewer_required = roles_required(Role.officer, Role.leader)
member_required = roles_required(Role.correspondent, Role.officer, Role.leader)

PRODUCT_LOADING = (selectinload(Product.outlet), selectinload(Product.registration),
                   selectinload(Product.language_rows), selectinload(Product.country_rows),
                   selectinload(Product.sector_rows), selectinload(Product.cases))


def _load(product_id: int) -> Product:
    """The product, or 404 for anyone who may not see it."""
    product = db.session.get(Product, product_id)
    if product is None or not can_view_product(current_user, product):
        abort(404)
    return product


def _load_registration_for_report(registration_id: int) -> Registration:
    registration = db.session.get(Registration, registration_id)
    if registration is None or current_user.outlet_id is None or registration.outlet_id != current_user.outlet_id:
        abort(404)
    return registration


def _refused(error: service.ProductError) -> None:
    """Roll back, then tell the user why; a duplicate URL links to the product that has it."""
    db.session.rollback()
    if isinstance(error, service.DuplicateUrl) and can_view_product(current_user, error.existing):
        flash(_("This URL is already recorded: %(title)s (%(url)s). Open that product instead of recording it "
                "again.", title=error.existing.title,
                url=url_for("products.detail", product_id=error.existing.id)), "danger")
    else:
        flash(str(error), "danger")


def _upload_refused(error: UploadError) -> None:
    db.session.rollback()
    flash(str(error), "danger")


def _saved(perform, done: str, location):
    """Run `perform()`; on success commit, flash `done`: (a redirect to `location(result)`, 302).

    On a refusal (a rule, or an upload that is not accepted) roll back and flash why: (None, the
    refusal's status), so that the view shows its form again with what the user typed.
    """
    try:
        result = perform()
    except service.ProductError as error:
        _refused(error)
        return None, error.status
    except UploadError as error:
        _upload_refused(error)
        return None, 422
    db.session.commit()
    flash(done, "success")
    return redirect(location(result)), 302


def _form_status(refused: int | None = None) -> int:
    """200 for a page shown, 422 for a form sent back with its errors, or the refusal's own status."""
    if request.method != "POST":
        return 200
    return refused or 422


def _with_evidence(save, field):
    """`save()` (which returns a product or a case), then the evidence file sent with its form, if
    any, attached to it. The file is decoded and stored first, holding no database lock (the save
    writes, and a write transaction cannot let go of its lock); a refusal rolls back both."""
    stored = None
    if field.data and getattr(field.data, "filename", ""):
        stored = service.receive_evidence(field.data)
    owner = save()
    if stored is not None:
        service.add_evidence(current_user, owner, stored)
    return owner


# --- forms <-> data ---------------------------------------------------------------

def _publication_data(form, **extra) -> service.ProductData:
    data = service.ProductData(
        title=form.title.data.strip(), original_title=(form.original_title.data or "").strip() or None,
        outlet_id=extra.pop("outlet_id", 0), type=ProductType[form.type.data], channel=Channel[form.channel.data],
        channel_name=(form.channel_name.data or "").strip() or None, publication_date=form.publication_date.data,
        url=(form.url.data or "").strip() or None, reach=form.reach.data,
        reach_note=(form.reach_note.data or "").strip() or None, summary=(form.summary.data or "").strip(),
        languages=list(form.languages.data or []), countries=list(form.countries.data or []))
    for name, value in extra.items():
        setattr(data, name, value)
    return data


def _fill_publication(form, product: Product) -> None:
    for name in ("title", "original_title", "channel_name", "publication_date", "url", "reach", "reach_note",
                 "summary"):
        getattr(form, name).data = getattr(product, name)
    form.type.data = product.type.name
    form.channel.data = product.channel.name
    form.languages.data = product.languages
    form.countries.data = product.countries
    form.version.data = product.version


def _product_form(product: Product | None = None, registration: Registration | None = None) -> ProductForm:
    form = ProductForm()
    outlets = db.session.scalars(sa.select(Outlet).order_by(Outlet.name)).all()
    form.fill_choices(outlets)
    if product is not None:  # a sector deactivated since stays on the product it tags
        form.sectors.choices = sector_choices(keep=product.sectors)
    if request.method == "GET":
        if product is not None:
            _fill_publication(form, product)
            form.outlet_id.data = product.outlet_id
            form.registration_reference.data = product.registration.reference if product.registration else ""
            form.cooperation_type.data = product.cooperation_type.name
            form.status.data = product.status.name
            form.sectors.data = product.sectors
            form.contribution_vnd.data = product.contribution_vnd
        elif registration is not None:
            form.outlet_id.data = registration.outlet_id
            form.registration_reference.data = registration.reference
            form.status.data = ProductStatus.published.name
    return form


def _staff_data(form: ProductForm, product: Product | None) -> service.ProductData | None:
    """The form as data, or None after putting a message on the registration field."""
    registration_id = None
    reference = (form.registration_reference.data or "").strip().upper()
    if reference:
        registration = db.session.scalar(sa.select(Registration).where(Registration.reference == reference))
        if registration is None:
            form.registration_reference.errors = [_("No registration has this reference.")]
            return None
        if registration.outlet_id != form.outlet_id.data:
            form.registration_reference.errors = [_("This registration belongs to another outlet.")]
            return None
        registration_id = registration.id
    status = ProductStatus[form.status.data]
    if product is not None and product.status == ProductStatus.evaluated and status == ProductStatus.published:
        status = ProductStatus.evaluated  # editing facts keeps the evaluation
    return _publication_data(form, outlet_id=form.outlet_id.data, registration_id=registration_id,
                             cooperation_type=CooperationType[form.cooperation_type.data], status=status,
                             contribution_vnd=form.contribution_vnd.data, sectors=list(form.sectors.data or []))


# --- staff: list and exports ---------------------------------------------------------

def _filter_choices(form: ProductFilterForm) -> None:
    """The filters' choices. About 900 options in all (outlets, countries, languages): the form's
    selects render them with a plain string join (`forms.QuickSelect`), not an option widget each."""
    everything = SelectChoice("", _("All"))
    outlets = db.session.execute(sa.select(Outlet.id, Outlet.name).order_by(Outlet.name)).all()
    form.outlet.choices = [everything] + [SelectChoice(str(outlet_id), name) for outlet_id, name in outlets]
    form.country.choices = [everything] + country_choices()[1:]
    form.language.choices = [everything] + language_choices()
    form.type.choices = [everything] + [SelectChoice(item.name, label) for item, label in TYPE_LABELS.items()]
    form.channel.choices = [everything] + [SelectChoice(item.name, label) for item, label in CHANNEL_LABELS.items()]
    form.sector.choices = [everything] + sector_choices(active_only=False)
    form.evaluation.choices = ([everything] + [SelectChoice(item.name, label)
                                               for item, label in EVALUATION_LABELS.items()]
                               + [SelectChoice("none", _("Not evaluated yet")),
                                  SelectChoice("flagged", _("Flagged: sovereignty or borders"))])
    form.status.choices = ([everything] + [SelectChoice(item.name, label) for item, label in STATUS_LABELS.items()]
                           + [SelectChoice("to_review", _("Reported, waiting for review"))])
    form.linked.choices = [everything, SelectChoice("yes", _("Linked to a visit")),
                           SelectChoice("no", _("Not linked"))]
    form.sort.choices = [SelectChoice(key, label) for key, label in _sort_labels().items()]


def _sort_labels() -> dict:
    return {"published": _("Publication date, newest first"), "recorded": _("Recorded, newest first"),
            "reach": _("Reach, largest first"), "title": _("Title, A to Z")}


# The list's sorts, each served by an index in this exact order (app/products/models.py), ties by id.
SORTS = {
    "published": (Product.publication_date.desc().nulls_last(), Product.id.desc()),
    "recorded": (Product.created_at.desc(), Product.id.desc()),
    "reach": (Product.reach.desc().nulls_last(), Product.id.desc()),
    "title": (Product.title_folded.asc(), Product.id.asc()),
}
DEFAULT_SORT = "published"


def _id_or_none(text) -> int | None:
    try:
        return database_id(text or "")
    except ValueError:
        return None


def _search_matches(term: str):
    """The ids of the products the search finds (a SELECT for `Product.id IN (...)`): the title or
    the original title, the outlet's name or the URL containing the term, ignoring case and
    diacritics (app/search.py), or a registration reference containing it.

    A UNION of one SELECT per way of matching, not one OR across joined tables: each part is served
    by its own index (on PostgreSQL the trigram indexes of the folded columns, in one BitmapOr; the
    outlets' and the registrations' through products.outlet_id and products.registration_id), where
    an OR across a join reads every product. Only a term that can be part of a reference (letters,
    digits and hyphens, with a digit: `may_be_in_a_reference`) looks in the references, as the staff
    queue's search does: "outlet 17" or a title does not scan every registration for them."""
    folded = fold(term)
    parts = [sa.select(Product.id).where(sa.or_(contains(Product.title_folded, folded),
                                                contains(Product.original_title_folded, folded),
                                                contains(Product.url_folded, folded))),
             sa.select(Product.id).where(Product.outlet_id.in_(
                 sa.select(Outlet.id).where(contains(Outlet.name_folded, folded))))]
    if may_be_in_a_reference(term):
        parts.append(sa.select(Product.id).where(Product.registration_id.in_(
            sa.select(Registration.id).where(reference_contains(term)))))
    return sa.union(*parts)


def _search_rank(term: str):
    """0 for a title (or original title) that is the term, 1 for one that starts with it, 2 for one
    that contains it, 3 for a match elsewhere (the outlet, the URL, the reference); the chosen
    sort orders each rank."""
    folded = fold(term)
    starts_with = like_pattern(folded)[1:]  # "term%": the contains-pattern without its leading %
    titles = (Product.title_folded, Product.original_title_folded)
    return sa.case((sa.or_(*(column == folded for column in titles)), 0),
                   (sa.or_(*(column.like(starts_with, escape="\\") for column in titles)), 1),
                   (sa.or_(*(contains(column, folded) for column in titles)), 2), else_=3)


def _filters(form: ProductFilterForm) -> list:
    """The WHERE conditions of the list's filters; none for a form that does not validate. Code
    filters (country, language, sector, flagged) are `id IN (SELECT product_id ...)`, read once
    through the code's index, not a subquery per product."""
    if not form.validate():
        return []
    conditions = []
    if form.q.data and form.q.data.strip() and fold(form.q.data):
        conditions.append(Product.id.in_(_search_matches(form.q.data.strip())))
    if (outlet_id := _id_or_none(form.outlet.data)) is not None:
        conditions.append(Product.outlet_id == outlet_id)
    for value, model in ((form.country.data, ProductCountry), (form.language.data, ProductLanguage),
                         (form.sector.data, ProductSector)):
        if value:
            conditions.append(Product.id.in_(sa.select(model.product_id).where(model.code == value)))
    if form.type.data in ProductType.__members__:
        conditions.append(Product.type == ProductType[form.type.data])
    if form.channel.data in Channel.__members__:
        conditions.append(Product.channel == Channel[form.channel.data])
    if form.evaluation.data in Evaluation.__members__:
        conditions.append(Product.evaluation == Evaluation[form.evaluation.data])
    elif form.evaluation.data == "none":
        conditions.append(Product.evaluation.is_(None))
    elif form.evaluation.data == "flagged":
        conditions.append(Product.id.in_(sa.select(SovereigntyCase.product_id)
                                         .where(SovereigntyCase.product_id.is_not(None))))
    if form.status.data in ProductStatus.__members__:
        conditions.append(Product.status == ProductStatus[form.status.data])
    elif form.status.data == "to_review":
        conditions.append(Product.report_state == ReportState.reported)
    if form.linked.data == "yes":
        conditions.append(Product.registration_id.is_not(None))
    elif form.linked.data == "no":
        conditions.append(Product.registration_id.is_(None))
    if form.date_from.data:
        conditions.append(Product.publication_date >= form.date_from.data)
    if form.date_to.data:
        conditions.append(Product.publication_date <= form.date_to.data)
    return conditions


def _ordering(form: ProductFilterForm) -> tuple:
    """The chosen sort; with a search, the rank first (exact title, then prefix, then substring)."""
    order = SORTS.get(form.sort.data, SORTS[DEFAULT_SORT])
    term = (form.q.data or "").strip()
    if term and fold(term) and not form.errors:
        return (_search_rank(term), *order)
    return order


def _flagged():
    return sa.select(SovereigntyCase.id).where(SovereigntyCase.product_id == Product.id).exists()


def _product_page(form: ProductFilterForm) -> ListPage:
    conditions = _filters(form)
    rows = (sa.select(Product, _flagged().label("flagged")).where(*conditions)
            .options(joinedload(Product.outlet), joinedload(Product.registration))
            .order_by(*_ordering(form)))
    return ListPage(rows, sa.select(sa.func.count(Product.id)).where(*conditions))


@bp.route("/staff/products")
@reviewer_required
def index():
    form = ProductFilterForm(request.args)
    _filter_choices(form)
    page = _product_page(form)
    to_review = db.session.scalar(sa.select(sa.func.count(Product.id)).where(
        Product.report_state == ReportState.reported))
    export_args = {key: value for key, value in request.args.items() if key not in ("page", "submit") and value}
    return render_template("products/index.html", form=form, page=page, to_review=to_review,
                           export_args=export_args)


@bp.route("/staff/products.<any(csv, xlsx):extension>")
@reviewer_required
def export(extension: str):
    form = ProductFilterForm(request.args)
    _filter_choices(form)
    query = sa.select(Product).where(*_filters(form)).order_by(*_ordering(form)).options(*PRODUCT_LOADING)
    products = db.session.scalars(query.limit(exports.MAX_ROWS)).all()
    table = exports.product_table(products)
    stamp = local_today().isoformat()
    if extension == "csv":
        body, mimetype = exports.to_csv(table), "text/csv; charset=utf-8"
    else:
        body, mimetype = exports.to_xlsx(table, _("Products")), exports.XLSX_MIMETYPE
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="pressdesk-products-{stamp}.{extension}"'
    response.headers["Cache-Control"] = "no-store"
    return response


# --- staff: record, edit, evaluate, review ------------------------------------------------

@bp.route("/staff/products/new", methods=["GET", "POST"])
@upload_rate_limited
@reviewer_required
def new():
    registration = None
    if (registration_id := request.args.get("registration_id", type=database_id)) is not None:
        registration = db.session.get(Registration, registration_id)
    form = _product_form(registration=registration)
    refused = None
    if form.validate_on_submit() and (data := _staff_data(form, None)) is not None:
        done, refused = _saved(
            lambda: _with_evidence(lambda: service.create_product(current_user, data), form.evidence),
            _("The product is recorded."), lambda product: url_for("products.detail", product_id=product.id))
        if done:
            return done
    return render_template("products/form.html", form=form, product=None), _form_status(refused)


@bp.route("/products/<int:product_id>")
@member_required
def detail(product_id: int):
    return _detail_page(_load(product_id))


def _detail_page(product: Product, status: int = 200, **forms):
    evaluation_form = forms.get("evaluation") or EvaluationForm(version=product.version)
    evaluation_form.fill_choices()
    if product.evaluation and not forms.get("evaluation"):
        evaluation_form.evaluation.data = product.evaluation.name
        evaluation_form.note.data = product.evaluation_note
    return render_template(
        "products/detail.html", product=product, evaluation_form=evaluation_form,
        correction_form=forms.get("correction") or CorrectionForm(version=product.version),
        accept_form=AcceptForm(version=product.version), evidence_form=forms.get("evidence") or EvidenceForm(),
        remove_form=RemoveForm(), audit=_history(product)), status


def _history(record):
    """The audit events of a product or a case, for staff (correspondents see the state, not the steps)."""
    from app.audit.models import AuditEvent

    if current_user.role == Role.correspondent:
        return []
    return db.session.scalars(sa.select(AuditEvent).options(selectinload(AuditEvent.actor)).where(
        AuditEvent.object_type == record.__tablename__, AuditEvent.object_id == str(record.id))
        .order_by(AuditEvent.id.desc()).limit(50)).all()


@bp.route("/products/<int:product_id>/edit", methods=["GET", "POST"])
@upload_rate_limited
@member_required
def edit(product_id: int):
    product = _load(product_id)
    if current_user.role == Role.correspondent:
        return _correct(product)
    form = _product_form(product)
    refused = None
    if form.validate_on_submit() and (data := _staff_data(form, product)) is not None:
        def save():
            service.update_product(current_user, product, data, form.version.data)
            return product

        def perform():
            return _with_evidence(save, form.evidence)

        done, refused = _saved(perform, _("The product is saved."),
                               lambda saved: url_for("products.detail", product_id=saved.id))
        if done:
            return done
    return render_template("products/form.html", form=form, product=product), _form_status(refused)


def _correct(product: Product):
    form = ReportForm(registration=product.registration)
    form.fill_choices()
    refused = None
    if request.method == "GET":
        _fill_publication(form, product)
    elif form.validate_on_submit():
        def save():
            service.correct_report(current_user, product, _publication_data(form), form.version.data)
            return product

        def perform():
            return _with_evidence(save, form.evidence)

        done, refused = _saved(perform, _("Thank you: the corrected publication is sent to the province."),
                               lambda saved: url_for("products.report", registration_id=saved.registration_id))
        if done:
            return done
    return render_template("products/report_edit.html", form=form, product=product,
                           registration=product.registration), _form_status(refused)


def _product_action(product_id: int, form_class, form_key: str, perform, done: str):
    product = _load(product_id)
    form = form_class()
    if form_key == "evaluation":
        form.fill_choices()
    if not form.validate_on_submit():
        return _detail_page(product, 422, **{form_key: form})
    try:
        perform(product, form)
    except service.ProductError as error:
        _refused(error)
        return _detail_page(_load(product_id), error.status, **{form_key: form})
    db.session.commit()
    flash(done, "success")
    return redirect(url_for("products.detail", product_id=product_id))


@bp.route("/products/<int:product_id>/evaluate", methods=["POST"])
@reviewer_required
def evaluate(product_id: int):
    return _product_action(product_id, EvaluationForm, "evaluation", lambda product, form: service.evaluate(
        current_user, product, Evaluation[form.evaluation.data], form.note.data or "", form.version.data),
        _("The evaluation is saved."))


@bp.route("/products/<int:product_id>/accept", methods=["POST"])
@reviewer_required
def accept(product_id: int):
    return _product_action(product_id, AcceptForm, "accept", lambda product, form: service.accept_report(
        current_user, product, form.version.data), _("The reported product is accepted."))


@bp.route("/products/<int:product_id>/correction", methods=["POST"])
@reviewer_required
def correction(product_id: int):
    return _product_action(product_id, CorrectionForm, "correction", lambda product, form: service.request_correction(
        current_user, product, form.note.data, form.version.data),
        _("The correspondent is asked to correct the product."))


# --- evidence -------------------------------------------------------------------------

def _add_evidence(owner, redirect_to: str, page):
    form = EvidenceForm()
    if not form.validate_on_submit():
        return page(evidence=form, status=422)
    done, _refusal = _saved(lambda: service.add_evidence(current_user, owner, form.file.data,
                                                         form.description.data or ""),
                            _("The file is added."), lambda evidence: redirect_to)
    return done or redirect(redirect_to)


@bp.route("/products/<int:product_id>/evidence", methods=["POST"])
@upload_rate_limited
@member_required
def add_evidence(product_id: int):
    product = _load(product_id)
    return _add_evidence(product, url_for("products.detail", product_id=product_id),
                         lambda evidence, status: _detail_page(product, status, evidence=evidence))


def _load_evidence(evidence_id: int, *, product_id: int | None = None, case_id: int | None = None) -> EvidenceFile:
    evidence = db.session.get(EvidenceFile, evidence_id)
    if evidence is None or evidence.product_id != product_id or evidence.case_id != case_id:
        abort(404)
    return evidence


@bp.route("/products/<int:product_id>/evidence/<int:evidence_id>")
@member_required
def evidence(product_id: int, evidence_id: int):
    _load(product_id)
    return send_stored(_load_evidence(evidence_id, product_id=product_id))


@bp.route("/products/<int:product_id>/evidence/<int:evidence_id>/remove", methods=["POST"])
@member_required
def remove_evidence(product_id: int, evidence_id: int):
    _load(product_id)
    item = _load_evidence(evidence_id, product_id=product_id)
    form = RemoveForm()
    if form.validate_on_submit():
        try:
            service.remove_evidence(current_user, item)
        except service.ProductError as error:
            _refused(error)
        else:
            db.session.commit()
            flash(_("The file is removed."), "success")
    return redirect(request.referrer if request.referrer and request.referrer.startswith(request.host_url)
                    else url_for("products.detail", product_id=product_id))


# --- the correspondent's post-visit report -------------------------------------------------

@bp.route("/registrations/<int:registration_id>/report", methods=["GET", "POST"])
@upload_rate_limited
@roles_required(Role.correspondent)
def report(registration_id: int):
    registration = _load_registration_for_report(registration_id)
    form = ReportForm(registration=registration)
    form.fill_choices()
    reported = db.session.scalars(sa.select(Product).where(Product.registration_id == registration.id)
                                  .options(*PRODUCT_LOADING).order_by(Product.id)).all()
    may_report = can_report_on(current_user, registration) and registration.start_date is not None \
        and registration.start_date <= local_today()
    refused = None
    if request.method == "POST" and not may_report:
        abort(403)
    if form.validate_on_submit():
        done, refused = _saved(
            lambda: _with_evidence(lambda: service.report_product(
                current_user, registration, _publication_data(form, outlet_id=registration.outlet_id)),
                form.evidence),
            _("Thank you: the publication is reported to the province."),
            lambda product: url_for("products.report", registration_id=registration.id))
        if done:
            return done
    return render_template("products/report.html", registration=registration, form=form, reported=reported,
                           may_report=may_report, due_on=service.report_due_date(registration),
                           today=local_today()), _form_status(refused)


# --- overdue reports ----------------------------------------------------------------------

@bp.route("/staff/reports/overdue")
@reviewer_required
def overdue():
    """One page of the late reports: the rows, their reminders and the count, three statements
    (the working days of each row's lateness are counted in Python, for the page's rows only)."""
    today = local_today()
    page = ListPage(service.overdue_reports_query(today).options(joinedload(Registration.outlet)),
                    service.overdue_count_query(today), scalars=True)
    rows = [(registration, service.report_due_date(registration)) for registration in page.items]
    reminders: dict[int, list[PostVisitReminder]] = {}
    if rows:
        for reminder in db.session.scalars(sa.select(PostVisitReminder).where(
                PostVisitReminder.registration_id.in_([registration.id for registration, _due in rows]))
                .order_by(PostVisitReminder.sent_at)):
            reminders.setdefault(reminder.registration_id, []).append(reminder)
    calendar = service.working_calendar()
    lateness = {registration.id: calendar.working_days_between(due, today) for registration, due in rows}
    return render_template("products/overdue.html", page=page, rows=rows, reminders=reminders, lateness=lateness,
                           today=today)


# --- sovereignty cases ------------------------------------------------------------------------

def _case_data(form: CaseForm) -> service.CaseData:
    return service.CaseData(
        title=form.title.data.strip(), finding=form.finding.data.strip(), detected_on=form.detected_on.data,
        url=(form.url.data or "").strip() or None, publisher=(form.publisher.data or "").strip() or None,
        country=form.country.data or None, reported_to=(form.reported_to.data or "").strip() or None,
        steps_taken=(form.steps_taken.data or "").strip(), status=CaseStatus[form.status.data],
        reported_on=form.reported_on.data, handled_on=form.handled_on.data)


@bp.route("/staff/cases")
@reviewer_required
def cases():
    show = request.args.get("show", "open")
    conditions = [] if show == "all" else [SovereigntyCase.status != CaseStatus.handled]
    page = ListPage(sa.select(SovereigntyCase).where(*conditions).options(joinedload(SovereigntyCase.product))
                    .order_by(SovereigntyCase.detected_on.desc(), SovereigntyCase.id.desc()),
                    sa.select(sa.func.count(SovereigntyCase.id)).where(*conditions), scalars=True)
    return render_template("products/cases.html", page=page, show=show)


@bp.route("/staff/cases/new", methods=["GET", "POST"])
@upload_rate_limited
@reviewer_required
def new_case():
    product = None
    if (product_id := request.args.get("product_id", type=database_id)) is not None:
        product = db.session.get(Product, product_id)
    form = CaseForm()
    form.fill_choices()
    if request.method == "GET":
        form.detected_on.data = local_today()
        if product is not None:
            form.title.data, form.url.data = product.title, product.url
            form.publisher.data, form.country.data = product.outlet.name, product.outlet.country
    refused = None
    if form.validate_on_submit():
        done, refused = _saved(
            lambda: _with_evidence(lambda: service.open_case(current_user, _case_data(form), product),
                                   form.evidence),
            _("The case is recorded."), lambda case: url_for("products.case", case_id=case.id))
        if done:
            return done
    return render_template("products/case.html", form=form, case=None, product=product), _form_status(refused)


@bp.route("/staff/cases/<int:case_id>", methods=["GET", "POST"])
@upload_rate_limited
@reviewer_required
def case(case_id: int):
    case = db.get_or_404(SovereigntyCase, case_id)
    form = CaseForm()
    form.fill_choices()
    refused = None
    if request.method == "GET":
        for name in ("title", "url", "publisher", "country", "finding", "detected_on", "reported_to",
                     "reported_on", "steps_taken", "handled_on", "version"):
            getattr(form, name).data = getattr(case, name)
        form.status.data = case.status.name
    elif form.validate_on_submit():
        def save():
            service.update_case(current_user, case, _case_data(form), form.version.data)
            return case

        def perform():
            return _with_evidence(save, form.evidence)

        done, refused = _saved(perform, _("The case is saved."),
                               lambda saved: url_for("products.case", case_id=saved.id))
        if done:
            return done
    return render_template("products/case.html", form=form, case=case, product=case.product,
                           evidence_form=EvidenceForm(), remove_form=RemoveForm(),
                           audit=_history(case)), _form_status(refused)


@bp.route("/staff/cases/<int:case_id>/evidence", methods=["POST"])
@upload_rate_limited
@reviewer_required
def add_case_evidence(case_id: int):
    case = db.get_or_404(SovereigntyCase, case_id)
    target = url_for("products.case", case_id=case_id)
    return _add_evidence(case, target, lambda evidence, status: redirect(target))


@bp.route("/staff/cases/<int:case_id>/evidence/<int:evidence_id>")
@reviewer_required
def case_evidence(case_id: int, evidence_id: int):
    db.get_or_404(SovereigntyCase, case_id)
    return send_stored(_load_evidence(evidence_id, case_id=case_id))


@bp.route("/staff/cases/<int:case_id>/evidence/<int:evidence_id>/remove", methods=["POST"])
@reviewer_required
def remove_case_evidence(case_id: int, evidence_id: int):
    db.get_or_404(SovereigntyCase, case_id)
    item = _load_evidence(evidence_id, case_id=case_id)
    if RemoveForm().validate_on_submit():
        service.remove_evidence(current_user, item)
        db.session.commit()
        flash(_("The file is removed."), "success")
    return redirect(url_for("products.case", case_id=case_id))

