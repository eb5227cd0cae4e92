"""The staff queue: every registration but drafts, filtered, sorted and paginated; open ones by
default. Saved filters (kept by app.worklist) and bulk assignment work from it."""
from __future__ import annotations

from urllib.parse import parse_qsl

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import MultiDict
from wtforms import SelectChoice

from app.auth.models import User
from app.extensions import db
from app.outlets.models import CrewMember, Outlet
from app.pagination import IdsFirstPage, page_number
from app.places.models import Place
from app.privacy.crypto import normalise_passport_number, passport_search_hash
from app.registrations import bp, service
from app.search import contains, fold
from app.registrations.forms import BulkAssignForm, DeleteFilterForm, QueueFilterForm, SaveFilterForm
from app.registrations.labels import KIND_LABELS, STATUS_LABELS
from app.registrations.models import (ItineraryItem, OPEN_STATUSES, Registration, RegistrationKind, Status,
                                      is_open, may_be_in_a_reference, reference_contains, reference_like,
                                      registration_crew)
from app.registrations.routes import _reviewers, reviewer_required
from app.worklist import service as worklist

# --- the staff queue ----------------------------------------------------------------

CLOSED_STATUSES = tuple(status for status in Status if status is not Status.draft and status not in OPEN_STATUSES)
# The status filter's groups; without a status filter the queue shows the open dossiers.
STATUS_GROUPS = {"open": OPEN_STATUSES, "closed": CLOSED_STATUSES}
DEFAULT_STATUS = "open"
ALL_STATUSES = "all"  # all but drafts

_OPEN_FIRST = sa.case((Registration.status.in_(OPEN_STATUSES), 0), else_=1)

SORTS = {
    # By deadline, open ones first: the overdue ones (the earliest deadlines) on top, no deadline last.
    # (Without the open-first term when every row is open: see _sort.)
    "due": (_OPEN_FIRST, Registration.due_date.asc().nulls_last(), Registration.id),
    "submitted": (Registration.submitted_at.desc().nulls_last(), Registration.id.desc()),
    "start": (Registration.start_date.asc().nulls_last(), Registration.id),
    "reference": (Registration.reference.asc(),),
}


def _filter_args(query_string: str | None) -> MultiDict:
    """The queue's filters carried by a form (a hidden field holding the queue's query string)."""
    return MultiDict(parse_qsl(query_string or "", keep_blank_values=False))


def _queue_url(query_string: str | None) -> str:
    query_string = worklist.filter_query_string(_filter_args(query_string))
    return url_for("registrations.queue") + ("?" + query_string if query_string else "")


@bp.route("/staff/registrations")
@reviewer_required
def queue():
    return _queue_page(request.args)


def _queue_page(args: MultiDict, status: int = 200, *, bulk_form: BulkAssignForm | None = None,
                save_form: SaveFilterForm | None = None):
    form = QueueFilterForm(formdata=args)
    _queue_choices(form)
    if not form.status.data:
        form.status.data = DEFAULT_STATUS
    today = service.local_today()
    # The ids first, no join: the sort and the count read registrations' indexes alone; the page's
    # 25 rows, their outlets and the rest come afterwards (IdsFirstPage, registration_loading).
    query = sa.select(Registration.id).where(Registration.status != Status.draft)
    # The status applies even when another filter is mistyped: closed dossiers stay one choice away.
    query = _apply_status(query, form.status.data)
    valid = form.validate()
    if valid:
        query = _apply_filters(query, form, today, only_open=_only_open(form.status.data))
    sort = form.sort.data if form.sort.data in SORTS else "due"
    if sort == "due" and form.status.data == ALL_STATUSES and not _narrowed(form):
        page = IdsFirstPage(_open_first(query), Registration, worklist.registration_loading(itinerary=False),
                            count_query=query)
    else:
        # A search is ranked, so every match is sorted: its total comes with the page's ids.
        page = IdsFirstPage(query.order_by(*_sort(sort, form.status.data)), Registration,
                            worklist.registration_loading(itinerary=False),
                            count_with_ids=bool(valid and form.q.data and fold(form.q.data)))
    # Each row's next action reads the consultations loaded with the page; whether it visits a
    # border area comes from one statement for the page's rows.
    border = worklist.border_area_visits([registration.id for registration in page.items])
    rows = [(registration, registration.id in border,
             worklist.next_action(registration, current_user, visits_border_area=registration.id in border))
            for registration in page.items]
    current_filters = worklist.filter_query_string(args)
    bulk_form = bulk_form or BulkAssignForm(formdata=None, filters=current_filters)
    bulk_form.officer_id.choices = _officer_choices()
    save_form = save_form or SaveFilterForm(formdata=None, filters=current_filters)
    return render_template("registrations/queue.html", form=form, page=page, rows=rows, today=today,
                           due_soon=service.working_calendar().add_working_days(today, 2),
                           bulk_form=bulk_form, save_form=save_form, delete_form=DeleteFilterForm(),
                           saved_filters=worklist.saved_filters(current_user),
                           current_filters=current_filters), status


def _officer_choices() -> list[SelectChoice]:
    return [SelectChoice(user.id, user.full_name) for user in _reviewers()]


def _only_open(status: str | None) -> bool:
    """Whether the status filter leaves open dossiers only."""
    if status in Status.__members__ and status != Status.draft.name:
        return Status[status] in OPEN_STATUSES
    if status == ALL_STATUSES:
        return False
    return STATUS_GROUPS.get(status, STATUS_GROUPS[DEFAULT_STATUS]) == OPEN_STATUSES


def _sort(sort: str, status: str | None) -> tuple:
    if sort == "due" and status != ALL_STATUSES:
        # "Open first" says nothing when all are open, or all closed; without it the open dossiers'
        # own index (ix_registrations_open_due), or the deadline's, gives them in order: the page
        # reads 25 entries instead of sorting them all.
        return SORTS["due"][1:]
    return SORTS[sort]


def _narrowed(form: QueueFilterForm) -> bool:
    """Whether a filter other than the status (or a search) narrows the queue: then the few rows it
    keeps are sorted as they are, rather than read in deadline order from an index and tested one by one."""
    return bool(form.q.data or form.kind.data or form.nationality.data or form.date_from.data or form.date_to.data
                or form.border.data or form.mine.data or form.due.data)


def _open_first(query):
    """All but drafts by deadline, open ones first, as the two ordered parts the indexes give:
    the open dossiers' first (page × size) by deadline and the closed ones' first (page × size),
    each read in order from its index and cut, then merged. One ORDER BY CASE over every dossier
    sorted some 87,000 rows to keep 25 (33 ms on either database at 100,000 registrations)."""
    reach = page_number() * current_app.config["PAGE_SIZE"]
    deadline = (Registration.due_date.asc().nulls_last(), Registration.id)

    def part(number, condition):
        return sa.select(query.where(condition).add_columns(sa.literal(number).label("part"), Registration.due_date)
                         .order_by(*deadline).limit(reach).subquery())

    both = sa.union_all(part(0, is_open()), part(1, Registration.status.in_(CLOSED_STATUSES))).subquery()
    return sa.select(both.c.id).order_by(both.c.part, both.c.due_date.asc().nulls_last(), both.c.id)


def _apply_status(query, status: str | None):
    if status in Status.__members__ and status != Status.draft.name:
        return query.where(Registration.status == Status[status])
    if status == ALL_STATUSES:
        return query
    group = STATUS_GROUPS.get(status, STATUS_GROUPS[DEFAULT_STATUS])
    return query.where(is_open() if group == OPEN_STATUSES else Registration.status.in_(group))


# --- saved filters ------------------------------------------------------------------

@bp.route("/staff/registrations/filters", methods=["POST"])
@reviewer_required
def save_filter():
    form = SaveFilterForm()
    if not form.validate_on_submit():
        return _queue_page(_filter_args(form.filters.data), 422, save_form=form)
    try:
        saved, replaced = worklist.save_filter(current_user, form.name.data, form.filters.data or "")
    except worklist.WorklistError as error:
        db.session.rollback()
        form.name.errors = [*form.name.errors, str(error)]
        return _queue_page(_filter_args(form.filters.data), error.status, save_form=form)
    db.session.commit()
    if replaced:
        flash(_("The filter \"%(name)s\" now holds these filters.", name=saved.name), "success")
    else:
        flash(_("Filter saved as \"%(name)s\".", name=saved.name), "success")
    return redirect(_queue_url(saved.query_string), 303)


@bp.route("/staff/registrations/filters/<int:filter_id>/delete", methods=["POST"])
@reviewer_required
def delete_filter(filter_id: int):
    saved = worklist.own_filter(current_user, filter_id)
    if saved is None:
        abort(404)
    if not DeleteFilterForm().validate_on_submit():
        abort(400)
    name = saved.name
    worklist.delete_filter(current_user, saved)
    db.session.commit()
    flash(_("The filter \"%(name)s\" is deleted.", name=name), "success")
    return redirect(url_for("registrations.queue"), 303)


# --- bulk assignment ----------------------------------------------------------------

@bp.route("/staff/registrations/bulk-assign", methods=["POST"])
@reviewer_required
def bulk_assign():
    form = BulkAssignForm()
    form.officer_id.choices = _officer_choices()
    if not form.validate_on_submit():
        flash(" ".join(str(error) for errors in form.errors.values() for error in errors), "danger")
        return _queue_page(_filter_args(form.filters.data), 422, bulk_form=form)
    officer = db.session.get(User, form.officer_id.data)
    result = worklist.bulk_assign(current_user, officer, form.selected.data)
    db.session.commit()
    if result.assigned:
        flash(_("Assigned to %(name)s: %(references)s", name=officer.full_name,
                references=_references(result.assigned)), "success")
    if result.changed:
        flash(_("Changed meanwhile, not assigned: %(references)s (reload to see the change)",
                references=_references(result.changed)), "warning")
    for registration, reason in result.refused:
        flash(_("Not assigned: %(reference)s: %(reason)s", reference=registration.reference, reason=reason),
              "warning")
    if result.not_found:
        flash(_("Not found, not assigned: %(count)d of the selected registrations", count=len(result.not_found)),
              "warning")
    return redirect(_queue_url(form.filters.data), 303)


def _references(registrations) -> str:
    return ", ".join(registration.reference for registration in registrations)


def _registrations_of_crew(*conditions):
    """Ids of the registrations naming a crew member who meets `conditions` (an IN-subquery: the
    small crew table is searched once, then its registrations by the index on crew_member_id,
    instead of one correlated subquery per registration)."""
    return (sa.select(registration_crew.c.registration_id)
            .join(CrewMember, CrewMember.id == registration_crew.c.crew_member_id).where(*conditions))


def _registrations_visiting(*place_conditions):
    return (sa.select(ItineraryItem.registration_id)
            .join(Place, ItineraryItem.place_id == Place.id).where(*place_conditions))


def search_conditions(term: str) -> tuple[sa.ColumnElement, sa.ColumnElement]:
    """What "search" matches in the queue, ignoring case and diacritics (app/search.py): the
    reference, the outlet's name, a crew member's name, a place of the programme (from the list,
    or typed in), and the exact passport number. One `id IN (... UNION ...)`: each part finds its
    registration ids with its own index (the small tables' folded names, the reference's index
    read alone), instead of an OR that makes the database test every registration against each.
    Returns (the condition, a rank: 0 for the exact reference, 1 for a reference containing the
    term, 2 for the rest)."""
    folded = fold(term)
    like = reference_like(term)
    parts = [
        sa.select(Registration.id).where(
            Registration.outlet_id.in_(sa.select(Outlet.id).where(contains(Outlet.name_folded, term)))),
        _registrations_of_crew(contains(CrewMember.full_name_folded, term)),
        _registrations_visiting(contains(Place.name_folded, term)),
        # Few items have a typed-in place: "> ''" (not IS NOT NULL, which SQLite's planner does not
        # take to the index) makes SQLite read only those from the index.
        sa.select(ItineraryItem.registration_id).where(ItineraryItem.place_text_folded > "",
                                                       contains(ItineraryItem.place_text_folded, term)),
    ]
    if may_be_in_a_reference(term):
        parts.append(sa.select(Registration.id).where(reference_contains(term)))
    if normalise_passport_number(term):
        # Passport numbers are encrypted: the exact number is found by its keyed hash (an index).
        parts.append(_registrations_of_crew(CrewMember.passport_number_hash == passport_search_hash(term)))
    rank = sa.case((Registration.reference == folded.upper(), 0), (like, 1), else_=2)
    return Registration.id.in_(sa.union(*parts)), rank


def _naming(only_open: bool, registration_ids, link_column):
    """The registrations among `registration_ids` (a SELECT of `link_column`, e.g. _registrations_of_crew).
    Among the open dossiers (a few thousand, read in deadline order from their own index) a correlated
    EXISTS per row, which lets the first page stop at its 25th match; among all of them an IN-subquery,
    which reads the crew or the places once (SQLite at 100,000 registrations: border areas among the
    open ones 25 ms counted with EXISTS, 80 ms with IN; among all, the other way round)."""
    if only_open:
        return registration_ids.where(link_column == Registration.id).exists()
    return Registration.id.in_(registration_ids)


def _apply_filters(query, form: QueueFilterForm, today, *, only_open: bool = False):
    """The filters, each an indexed condition on registrations or a subquery on a small table."""
    if form.q.data and fold(form.q.data):
        matches, rank = search_conditions(form.q.data)
        query = query.where(matches).order_by(rank)
    if form.kind.data in RegistrationKind.__members__:
        query = query.where(Registration.kind == RegistrationKind[form.kind.data])
    if form.nationality.data:
        query = query.where(_naming(only_open, _registrations_of_crew(CrewMember.nationality == form.nationality.data),
                                    registration_crew.c.registration_id))
    if form.date_from.data:
        query = query.where(Registration.end_date >= form.date_from.data)
    if form.date_to.data:
        query = query.where(Registration.start_date <= form.date_to.data)
    if form.border.data:
        query = query.where(_naming(only_open, _registrations_visiting(Place.border_area.is_(True)),
                                    ItineraryItem.registration_id))
    if form.mine.data:
        query = query.where(Registration.assigned_officer_id == current_user.id)
    if form.due.data == "overdue":
        query = query.where(Registration.status.in_(OPEN_STATUSES), Registration.due_date < today)
    elif form.due.data == "soon":
        query = query.where(Registration.status.in_(OPEN_STATUSES), Registration.due_date >= today,
                            Registration.due_date <= service.working_calendar().add_working_days(today, 2))
    return query


def _queue_choices(form: QueueFilterForm) -> None:
    from app.outlets.forms import country_choices

    form.status.choices = ([SelectChoice(DEFAULT_STATUS, _("Open (to handle)")),
                            SelectChoice("closed", _("Closed (decided, withdrawn)")),
                            SelectChoice(ALL_STATUSES, _("All but drafts"))]
                           + [SelectChoice(status.name, STATUS_LABELS[status]) for status in Status
                              if status is not Status.draft])
    form.kind.choices = [SelectChoice("", _("All kinds"))] + [SelectChoice(kind.name, KIND_LABELS[kind])
                                                              for kind in RegistrationKind]
    form.nationality.choices = [SelectChoice("", _("All nationalities"))] + country_choices()[1:]
    form.due.choices = [SelectChoice("", _("Any")), SelectChoice("soon", _("Due within 2 working days")),
                        SelectChoice("overdue", _("Overdue"))]
    form.sort.choices = [SelectChoice("due", _("Deadline")), SelectChoice("submitted", _("Newest submission")),
                         SelectChoice("start", _("Programme start")), SelectChoice("reference", _("Reference"))]
