"""The staff's own worklist ("Việc của tôi"): what waits for an officer or a leader, each row with
its reason and its next action, and the counts the menu shows; the saved queue filters.

The worklist loads each section with one query and the same eager loads (selectinload), so the
page costs a fixed number of queries whatever the number of rows. The counts are COUNT queries,
computed at most once per request (cached on `flask.g`) and only for officers and leaders.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from urllib.parse import parse_qsl, urlencode

import sqlalchemy as sa
from flask import current_app, g, has_request_context, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.audit.service import record_event
from app.auth.models import Role, User
from app.clock import local_date_of, local_today
from app.extensions import db
from app.i18n import day
from app.products import service as product_service
from app.places.models import Place
from app.products.models import Product, ReportState
from app.registrations import service as registration_service
from app.registrations.labels import CONSULTED_BODY_LABELS, PROPOSAL_LABELS
from app.registrations.models import (Consultation, ConsultedBody, ItineraryItem, OPEN_STATUSES, Registration, Status,
                                      is_open)
from app.worklist.models import SavedFilter

WORKLIST_ROLES = frozenset({Role.officer, Role.leader})
DUE_SOON_WORKING_DAYS = 2
BORDER_BODIES = (ConsultedBody.border_guard, ConsultedBody.police)
# What the queue's saved filters keep of a query string: the filters, not the page or the token.
NOT_SAVED_PARAMETERS = frozenset({"page", "csrf_token", "submit"})



def registration_loading(*, itinerary: bool = True) -> tuple:
    """Everything `next_action` and the rows read, to load with the registrations (one query each).
    Without the itinerary for a list that finds which registrations visit a border area by
    itself (border_area_visits) and passes it to next_action."""
    options = (
        selectinload(Registration.outlet), selectinload(Registration.assigned_officer),
        selectinload(Registration.returned_by), selectinload(Registration.proposed_by),
        selectinload(Registration.consultations),
    )
    return options + ((selectinload(Registration.itinerary).selectinload(ItineraryItem.place),) if itinerary else ())


def border_area_visits(registration_ids) -> set[int]:
    """Which of these registrations visit a place in a border area: one statement, instead of
    loading every itinerary item and its place to read Registration.visits_border_area."""
    if not registration_ids:
        return set()
    return set(db.session.scalars(
        sa.select(ItineraryItem.registration_id).distinct().join(Place, ItineraryItem.place_id == Place.id)
        .where(ItineraryItem.registration_id.in_(list(registration_ids)), Place.border_area.is_(True))))


class WorklistError(Exception):
    """A request on the worklist or the saved filters was refused; `str()` is translated."""

    status = 422

    def __init__(self, message):
        super().__init__(str(message))


def may_have_worklist(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.role in WORKLIST_ROLES)


# --- the next action --------------------------------------------------------------------

@dataclass(frozen=True)
class NextAction:
    """What should happen next to a registration, and the part of its page where it is done."""

    text: str
    registration_id: int
    anchor: str | None = None

    @property
    def url(self) -> str:
        return url_for("registrations.detail", registration_id=self.registration_id, _anchor=self.anchor)


def next_action(registration: Registration, user: User, *,
                visits_border_area: bool | None = None) -> NextAction | None:
    """The next step on an open registration, as `user` should read it; None when it is closed.

    Reads the registration's consultations, and its itinerary places unless `visits_border_area`
    is given: load them with it (registration_loading()) when calling this for a list."""
    here = registration.id
    if registration.status not in OPEN_STATUSES:
        return None
    if registration.status is Status.needs_info:
        return NextAction(_("Waiting for the correspondent"), here, "messages")
    if registration.status is Status.submitted:
        if registration.assigned_officer_id is None:
            return NextAction(_("Assign an officer"), here, "assign")
        return NextAction(_("Take the dossier into review"), here, "assign")
    # In review.
    if registration.proposed_decision is not None:
        if user.role is Role.leader:
            return NextAction(_("Decide from the preview"), here, "decision")
        return NextAction(_("Waiting for the leader's decision"), here, "decision")
    if registration.returned:
        return NextAction(_("Correct the draft and propose again"), here, "decision")
    if visits_border_area is None:
        visits_border_area = registration.visits_border_area
    if visits_border_area and not registration_service.border_consultation_answered(registration):
        if any(consultation.body in BORDER_BODIES and consultation.answered_at is None
               for consultation in registration.consultations):
            return NextAction(_("Waiting for the answer of the border guard or police"), here, "consultations")
        return NextAction(_("Consult the border guard or police"), here, "consultations")
    if registration.assigned_officer_id is None:
        return NextAction(_("Assign an officer"), here, "assign")
    if registration.assigned_officer_id == user.id:
        if user.role is Role.leader:
            return NextAction(_("Review and decide"), here, "decision")
        return NextAction(_("Review and propose a decision"), here, "decision")
    name = registration.assigned_officer.full_name if registration.assigned_officer else ""
    return NextAction(_("In review by %(name)s", name=name), here, "decision")


# --- the worklist -------------------------------------------------------------------------

@dataclass(frozen=True)
class WorkRow:
    """One thing to handle: what it is about, why it is here, what to do and where."""

    label: str  # the dossier's reference or the product's title
    reason: str
    action: str
    url: str
    registration: Registration | None = None
    overdue: bool = False  # shown with a word, not only a colour
    comment: str | None = None  # the leader's comment on a returned dossier


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    empty: str
    rows: list[WorkRow]


@dataclass(frozen=True)
class Worklist:
    user: User
    today: date
    sections: list[Section]

    @property
    def total(self) -> int:
        return sum(len(section.rows) for section in self.sections)

    def section(self, key: str) -> Section | None:
        return next((section for section in self.sections if section.key == key), None)


SECTION_TITLES = {
    "proposals": (_l("Proposals waiting for my decision"), _l("No proposal is waiting for a decision.")),
    "returned": (_l("Returned to me by the leader"), _l("Nothing was returned to you.")),
    "unassigned": (_l("New, not yet assigned"), _l("Every submitted dossier has an officer in charge.")),
    "assigned": (_l("Assigned to me and open"), _l("No open dossier is assigned to you.")),
    "overdue": (_l("Overdue"), _l("No dossier is overdue.")),
    "due_soon": (_l("Due within 2 working days"), _l("No dossier is due within 2 working days.")),
    "consultations": (_l("Waiting for a consultation answer"), _l("No consultation is waiting for an answer.")),
    "reports": (_l("Post-visit reports overdue"), _l("No post-visit report is overdue.")),
    "products": (_l("Reported products waiting for review"), _l("No reported product is waiting for review.")),
}


def _section_order(user: User) -> tuple[str, ...]:
    keys = ("returned", "unassigned", "assigned", "overdue", "due_soon", "consultations", "reports", "products")
    return ("proposals",) + keys if user.role is Role.leader else keys


def _open_registrations():
    return (sa.select(Registration).where(Registration.status.in_(OPEN_STATUSES))
            .options(*registration_loading()))


def _due_soon_limit(today: date) -> date:
    return registration_service.working_calendar().add_working_days(today, DUE_SOON_WORKING_DAYS)


# The conditions of each section, shared by the rows and the counts so that they cannot disagree.

def _proposals_where():
    return (Registration.status == Status.in_review, Registration.proposed_decision.is_not(None))


def _returned_where(user: User):
    return (Registration.status == Status.in_review, Registration.returned_at.is_not(None),
            Registration.proposed_decision.is_(None), Registration.assigned_officer_id == user.id)


def _unassigned_where():
    return (Registration.status == Status.submitted, Registration.assigned_officer_id.is_(None))


def _assigned_where(user: User):
    return (Registration.status.in_(OPEN_STATUSES), Registration.assigned_officer_id == user.id)


def _overdue_where(today: date):
    return (is_open(), Registration.due_date < today)  # a range of the open dossiers' deadline index


def _due_soon_where(today: date):
    return (is_open(), Registration.due_date >= today,
            Registration.due_date <= _due_soon_limit(today))


def _consultations_where(user: User):
    conditions = [Consultation.answered_at.is_(None), Registration.status.in_(OPEN_STATUSES)]
    if user.role is not Role.leader:  # an officer sees their own dossiers' consultations; leaders see all
        conditions.append(Registration.assigned_officer_id == user.id)
    return tuple(conditions)


def _products_where():
    # Products do not offer a "waiting for review" function of their own yet: the same
    # condition as the products list's "Reported, waiting for review" filter.
    return (Product.report_state == ReportState.reported,)


def _registration_row(registration: Registration, user: User, reason: str, *, overdue: bool = False,
                      comment: str | None = None) -> WorkRow:
    action = next_action(registration, user)
    return WorkRow(label=registration.reference, reason=reason, action=action.text if action else "",
                   url=action.url if action else url_for("registrations.detail", registration_id=registration.id),
                   registration=registration, overdue=overdue, comment=comment)


def _deadline_reason(registration: Registration, today: date) -> tuple[str, bool]:
    if registration.due_date is None:
        return _("No reply deadline"), False
    if registration.due_date < today:
        days = registration_service.working_calendar().working_days_between(registration.due_date, today)
        return _("Overdue: the reply was due by %(date)s (%(days)d working days late)",
                 date=day(registration.due_date), days=days), True
    return _("Reply due by %(date)s", date=day(registration.due_date)), False


def _proposal_rows(user: User, today: date) -> list[WorkRow]:
    registrations = db.session.scalars(_open_registrations().where(*_proposals_where()).order_by(
        Registration.proposed_at.asc().nulls_last(), Registration.id)).all()
    rows = []
    for registration in registrations:
        by = registration.proposed_by.full_name if registration.proposed_by else "—"
        proposal = str(PROPOSAL_LABELS[registration.proposed_decision])
        if registration.proposed_at is not None:
            reason = _("Proposed: %(proposal)s, by %(name)s on %(date)s", proposal=proposal, name=by,
                       date=day(local_date_of(registration.proposed_at)))
        else:
            reason = _("Proposed: %(proposal)s, by %(name)s", proposal=proposal, name=by)
        rows.append(_registration_row(registration, user, reason))
    return rows


def _returned_rows(user: User, today: date) -> list[WorkRow]:
    registrations = db.session.scalars(_open_registrations().where(*_returned_where(user)).order_by(
        Registration.returned_at, Registration.id)).all()
    rows = []
    for registration in registrations:
        by = registration.returned_by.full_name if registration.returned_by else "—"
        reason = _("Returned by %(name)s on %(date)s", name=by, date=day(local_date_of(registration.returned_at)))
        rows.append(_registration_row(registration, user, reason, comment=registration.return_comment or None))
    return rows


def _deadline_rows(user: User, today: date, conditions) -> list[WorkRow]:
    registrations = db.session.scalars(_open_registrations().where(*conditions).order_by(
        Registration.due_date.asc().nulls_last(), Registration.id)).all()
    rows = []
    for registration in registrations:
        reason, overdue = _deadline_reason(registration, today)
        rows.append(_registration_row(registration, user, reason, overdue=overdue))
    return rows


def _consultation_rows(user: User, today: date) -> list[WorkRow]:
    consultations = db.session.scalars(
        sa.select(Consultation).join(Registration, Consultation.registration_id == Registration.id)
        .where(*_consultations_where(user))
        .options(selectinload(Consultation.registration).options(*registration_loading()))
        .order_by(Consultation.requested_at, Consultation.id)).all()
    rows = []
    for consultation in consultations:
        body = f"{consultation.body_name} ({CONSULTED_BODY_LABELS[consultation.body]})"
        since = day(local_date_of(consultation.requested_at))
        overdue = consultation.due_date is not None and consultation.due_date < today
        if consultation.due_date is None:
            reason = _("Asked of %(body)s on %(since)s; no reply deadline", body=body, since=since)
        elif overdue:
            reason = _("Asked of %(body)s on %(since)s; the answer was due by %(date)s (overdue)", body=body,
                       since=since, date=day(consultation.due_date))
        else:
            reason = _("Asked of %(body)s on %(since)s; answer due by %(date)s", body=body, since=since,
                       date=day(consultation.due_date))
        registration = consultation.registration
        rows.append(WorkRow(label=registration.reference, reason=reason,
                            action=_("Record the answer when it arrives, or remind the body"),
                            url=url_for("registrations.detail", registration_id=registration.id,
                                        _anchor="consultations"),
                            registration=registration, overdue=overdue))
    return rows


def _report_rows(user: User, today: date) -> list[WorkRow]:
    late = product_service.overdue_reports(today)
    if late:  # the outlets of the rows, in one query (the products service loads the registrations only)
        db.session.scalars(sa.select(Registration).where(Registration.id.in_([r.id for r, _due in late]))
                           .options(selectinload(Registration.outlet))).all()
    calendar = registration_service.working_calendar()
    return [WorkRow(label=registration.reference,
                    reason=_("The report was due by %(date)s (%(days)d working days late)", date=day(due),
                             days=calendar.working_days_between(due, today)),
                    action=_("Remind the correspondent or record what was published"),
                    url=url_for("registrations.detail", registration_id=registration.id,
                                _anchor="publications-title"),
                    registration=registration, overdue=True)
            for registration, due in late]


def _product_rows(user: User, today: date) -> list[WorkRow]:
    products = db.session.scalars(sa.select(Product).where(*_products_where())
                                  .options(selectinload(Product.outlet))
                                  .order_by(Product.reported_at.asc().nulls_last(), Product.id)).all()
    rows = []
    for product in products:
        outlet = product.outlet.name if product.outlet is not None else ""
        if product.reported_at is not None:
            reason = _("Reported by %(outlet)s on %(date)s", outlet=outlet, date=day(local_date_of(product.reported_at)))
        else:
            reason = _("Reported by %(outlet)s", outlet=outlet)
        rows.append(WorkRow(label=product.title, reason=reason, action=_("Accept it or ask for a correction"),
                            url=url_for("products.detail", product_id=product.id, _anchor="review")))
    return rows


def worklist_for(user: User) -> Worklist:
    """Everything waiting for `user` (an officer or a leader), by section, oldest or most urgent first."""
    if not may_have_worklist(user):
        raise WorklistError(_l("Only officers and leaders have a worklist."))
    today = local_today()
    builders = {
        "proposals": _proposal_rows,
        "returned": _returned_rows,
        "unassigned": lambda user, today: _deadline_rows(user, today, _unassigned_where()),
        "assigned": lambda user, today: _deadline_rows(user, today, _assigned_where(user)),
        "overdue": lambda user, today: _deadline_rows(user, today, _overdue_where(today)),
        "due_soon": lambda user, today: _deadline_rows(user, today, _due_soon_where(today)),
        "consultations": _consultation_rows,
        "reports": _report_rows,
        "products": _product_rows,
    }
    sections = []
    for key in _section_order(user):
        title, empty = SECTION_TITLES[key]
        sections.append(Section(key=key, title=str(title), empty=str(empty), rows=builders[key](user, today)))
    return Worklist(user=user, today=today, sections=sections)


# --- the counts of the menu ---------------------------------------------------------------

@dataclass(frozen=True)
class Counts:
    sections: dict[str, int]

    @property
    def total(self) -> int:
        """The rows of the worklist page: a dossier in two sections (mine and overdue) counts twice."""
        return sum(self.sections.values())

    def __getitem__(self, key: str) -> int:
        return self.sections.get(key, 0)


def _count(query) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0


# The counts that are the same for every user, kept per process for WORKLIST_SHARED_COUNT_SECONDS.
# Choice: the late post-visit reports are an anti-join of every visit in force with the products
# (about 50 ms at 100,000 registrations on SQLite), too dear for a badge on every staff page, and a
# badge a minute behind is harmless: the worklist and the overdue page themselves count afresh. A
# column kept up to date on registrations would be exact, at the price of a write on every product
# change; not worth it for a menu. {(app, key, day): (expires at, value)}
_shared_counts: dict[tuple[int, str, date], tuple[float, int]] = {}


def _shared_count(key: str, today: date, count) -> int:
    seconds = current_app.config.get("WORKLIST_SHARED_COUNT_SECONDS", 60)
    if not seconds:
        return count()
    cache_key, now = (id(current_app._get_current_object()), key, today), time.time()
    cached = _shared_counts.get(cache_key)
    if cached is not None and cached[0] > now:
        return cached[1]
    value = count()
    if len(_shared_counts) > 64:  # yesterday's entries, other test apps
        _shared_counts.clear()
    _shared_counts[cache_key] = (now + seconds, value)
    return value


def counts_for(user: User) -> Counts:
    """The number of rows of each worklist section, in one statement: a COUNT subquery per section.
    Each reads only the status-and-deadline index (ix_registrations_status_due_date holds every
    column the conditions test), as a range where the section has one; the sections the menu shows
    on every staff page cost about 2 ms at 100,000 registrations on SQLite. (An earlier single pass
    summing one CASE per section over the open dossiers cost 12 ms: SQLite evaluates six CASE
    expressions per row, where a COUNT steps through the index.)"""
    if not may_have_worklist(user):
        raise WorklistError(_l("Only officers and leaders have a worklist."))
    today = local_today()
    registration_sections = {
        "proposals": _proposals_where(), "returned": _returned_where(user), "unassigned": _unassigned_where(),
        "assigned": _assigned_where(user), "overdue": _overdue_where(today), "due_soon": _due_soon_where(today),
    }
    wanted = _section_order(user)
    subqueries = [sa.select(sa.func.count()).select_from(Registration).where(*registration_sections[key])
                  .scalar_subquery().label(key) for key in wanted if key in registration_sections]
    if "consultations" in wanted:
        subqueries.append(sa.select(sa.func.count()).select_from(Consultation)
                          .join(Registration, Consultation.registration_id == Registration.id)
                          .where(*_consultations_where(user)).scalar_subquery().label("consultations"))
    counted = db.session.execute(sa.select(*subqueries)).one()._asdict() if subqueries else {}
    others = {
        # The products service decides what is overdue (its deadline is counted per row in working days).
        "reports": lambda: _shared_count("reports", today, lambda: product_service.overdue_count(today)),
        "products": lambda: _shared_count("products", today,
                                          lambda: _count(sa.select(Product.id).where(*_products_where()))),
    }
    counted.update({key: others[key]() for key in wanted if key in others})
    return Counts({key: int(counted[key] or 0) for key in wanted})


def counts_for_page() -> Counts | None:
    """The menu's counts for the logged-in officer or leader, once per request; None for anyone else."""
    if not has_request_context() or not may_have_worklist(current_user):
        return None
    if "worklist_counts" not in g:
        g.worklist_counts = counts_for(current_user)
    return g.worklist_counts


# --- saved queue filters -------------------------------------------------------------------

def filter_query_string(args) -> str:
    """The queue's filters of a request's arguments (a MultiDict), as a query string: no page, no token,
    no empty values."""
    pairs = [(name, value) for name, value in args.items(multi=True)
             if name not in NOT_SAVED_PARAMETERS and value != ""]
    return urlencode(pairs)


def saved_filters(user: User) -> list[SavedFilter]:
    return list(db.session.scalars(sa.select(SavedFilter).where(SavedFilter.user_id == user.id)
                                   .order_by(SavedFilter.name, SavedFilter.id)))


def save_filter(user: User, name: str, query_string: str) -> tuple[SavedFilter, bool]:
    """Keep the queue's current filters under `name` for `user`. The same name again replaces the
    filters it held (the user chose the name twice: the newer filters are the ones meant).
    Returns (the saved filter, True when it replaced an earlier one)."""
    if not may_have_worklist(user):
        raise WorklistError(_l("Only officers and leaders save queue filters."))
    name = name.strip()
    if not name:
        raise WorklistError(_l("Give the filter a name."))
    query_string = urlencode([(key, value) for key, value in parse_qsl(query_string)
                              if key not in NOT_SAVED_PARAMETERS and value != ""])
    if len(query_string) > SavedFilter.query_string.type.length:
        raise WorklistError(_l("These filters are too long to be saved."))
    existing = db.session.scalar(sa.select(SavedFilter).where(SavedFilter.user_id == user.id,
                                                              SavedFilter.name == name))
    if existing is None:
        saved = SavedFilter(user_id=user.id, name=name, query_string=query_string)
        try:
            with db.session.begin_nested():
                db.session.add(saved)
                db.session.flush()
        except IntegrityError:  # the same name saved a moment ago from another tab: replace that one
            existing = db.session.scalar(sa.select(SavedFilter).where(SavedFilter.user_id == user.id,
                                                                      SavedFilter.name == name))
        else:
            record_event("saved_filter.saved", actor=user, subject=saved,
                         after={"name": name, "query_string": query_string})
            return saved, False
    if existing is not None:
        before = {"name": existing.name, "query_string": existing.query_string}
        existing.query_string = query_string
        db.session.flush()
        record_event("saved_filter.replaced", actor=user, subject=existing, before=before,
                     after={"name": name, "query_string": query_string})
        return existing, True
    raise WorklistError(_l("The filter could not be saved. Try again."))


def own_filter(user: User, filter_id: int) -> SavedFilter | None:
    """`user`'s saved filter of that id; None for another user's (whose filters are not to be known)."""
    saved = db.session.get(SavedFilter, filter_id)
    if saved is None or saved.user_id != user.id:
        return None
    return saved


def delete_filter(user: User, saved: SavedFilter) -> None:
    if saved.user_id != user.id:
        raise WorklistError(_l("This filter is not yours."))
    record_event("saved_filter.deleted", actor=user, subject=saved,
                 before={"name": saved.name, "query_string": saved.query_string})
    db.session.delete(saved)
    db.session.flush()


# --- bulk assignment -------------------------------------------------------------------------

@dataclass
class BulkAssignResult:
    assigned: list[Registration]
    changed: list[Registration]  # changed by someone else since the page was made
    refused: list[tuple[Registration, str]]  # a rule refused it: (registration, the reason)
    not_found: list[int]  # ids that do not exist (or that the user may not see)


def bulk_assign(actor: User, officer: User, selected: list[tuple[int, int]]) -> BulkAssignResult:
    """Assign each selected (registration id, version seen) to `officer`, each in its own savepoint,
    so that a row changed meanwhile, or refused, leaves the others assigned. Flushes, never commits."""
    from app.registrations.permissions import can_view

    result = BulkAssignResult(assigned=[], changed=[], refused=[], not_found=[])
    seen_ids = set()
    for registration_id, version in selected:
        if registration_id in seen_ids:
            continue
        seen_ids.add(registration_id)
        registration = db.session.get(Registration, registration_id)
        if registration is None or not can_view(actor, registration) or registration.status is Status.draft:
            result.not_found.append(registration_id)
            continue
        try:
            with db.session.begin_nested():
                registration_service.assign(actor, registration, officer, version)
        except registration_service.ConflictError:
            db.session.refresh(registration)
            result.changed.append(registration)
        except registration_service.RegistrationError as error:
            db.session.refresh(registration)
            result.refused.append((registration, str(error)))
        else:
            result.assigned.append(registration)
    return result
