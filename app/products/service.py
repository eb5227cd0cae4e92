"""The rules for products, the post-visit report, evidence, sovereignty cases and reminders.

As in the registrations service, functions flush and never commit: the route (or the CLI)
commits once, so a refused action leaves nothing half-saved.
"""
from __future__ import annotations

import hashlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from app.audit.service import record_event, snapshot
from app.auth.models import Role, User
from app.authority import authority_profile
from app.db import utcnow
from app.extensions import db
from app.outbox.service import queue_email
from app.products.models import (CaseStatus, Channel, CooperationType, EvidenceFile, Evaluation, PostVisitReminder,
                                 Product, ProductCountry, ProductLanguage, ProductSector, ProductStatus, ProductType,
                                 ReminderKind, ReportState, SovereigntyCase)
from app.products.permissions import can_report_on, can_view_product, is_reviewer
from app.registrations.models import Registration, is_in_force
from app.clock import local_today
from app.registrations.service import working_calendar
from app.database import slow_work
from app.uploads import StoredFile, receive_upload, scan_pixels, store_received

# Visits that ended longer ago than this get no reminders: a new installation (or a province
# starting to use the report) does not mail every correspondent of past years at once.
REMINDER_HORIZON_DAYS = 60

TRACKING_PARAMETERS = ("utm_", "fbclid", "gclid", "mc_cid", "mc_eid", "igshid", "ref_src")


class ProductError(Exception):
    """A rule refused the action. `str()` is a translated message; `status` the HTTP status."""

    status = 409

    def __init__(self, message):
        super().__init__(str(message))


class NotAllowed(ProductError):
    status = 403


class ConflictError(ProductError):
    def __init__(self):
        super().__init__(_l("This record was changed by someone else in the meantime. "
                            "Reload the page to see the change, then try again."))


class InvalidInput(ProductError):
    """The facts given do not hold together (dates in the wrong order, a status without its facts)."""

    status = 422


class DuplicateUrl(ProductError):
    """The URL is already recorded: `existing` is the product that has it."""

    status = 422

    def __init__(self, existing: Product):
        super().__init__(_l("This URL is already recorded for the product “%(title)s”.", title=existing.title))
        self.existing = existing


# --- data ---------------------------------------------------------------------

@dataclass
class ProductData:
    title: str
    outlet_id: int
    type: ProductType
    channel: Channel
    cooperation_type: CooperationType = CooperationType.facilitated
    original_title: str | None = None
    registration_id: int | None = None
    channel_name: str | None = None
    publication_date: date | None = None
    url: str | None = None
    reach: int | None = None
    reach_note: str | None = None
    contribution_vnd: int | None = None
    status: ProductStatus = ProductStatus.published
    summary: str = ""
    languages: list[str] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)
    sectors: list[str] = field(default_factory=list)


@dataclass
class CaseData:
    title: str
    finding: str
    detected_on: date
    url: str | None = None
    publisher: str | None = None
    country: str | None = None
    reported_to: str | None = None
    steps_taken: str = ""
    status: CaseStatus = CaseStatus.detected
    reported_on: date | None = None
    handled_on: date | None = None


SCALAR_FIELDS = ("title", "original_title", "outlet_id", "registration_id", "type", "channel", "channel_name",
                 "publication_date", "url", "reach", "reach_note", "contribution_vnd", "cooperation_type", "status",
                 "summary")


def normalised_url(url: str | None) -> str | None:
    """The URL reduced to what identifies the page, for spotting the same publication twice.

    Lower-case scheme and host, no "www.", no default port, no fragment, no tracking
    parameters (utm_*, fbclid...), the other parameters sorted, no trailing slash. A URL
    that does not parse (the forms refuse those; an older row may hold one) stays as typed.
    """
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:  # "http://[::1/a", port 99999 or "abc"
        return url.strip()
    host = (parts.hostname or "").lower()
    if host.startswith("www."):
        host = host[4:]
    if port and port not in (80, 443):
        host = f"{host}:{port}"
    query = sorted((key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True)
                   if not key.lower().startswith(TRACKING_PARAMETERS))
    path = parts.path.rstrip("/")
    return urlunsplit(("https", host, path, urlencode(query), ""))


def url_key(url: str | None) -> str | None:
    """The unique key of a product's URL: the SHA-256 of its normalised form, in hex.

    A hash, not the normalised URL itself: percent-encoding makes the normal form of a
    non-Latin URL several times longer than the URL, beyond any column or index limit."""
    normal = normalised_url(url)
    return None if normal is None else hashlib.sha256(normal.encode("utf-8", "surrogatepass")).hexdigest()


def existing_with_url(url: str | None, exclude_id: int | None = None) -> Product | None:
    key = url_key(url)
    if key is None:
        return None
    query = sa.select(Product).where(Product.url_key == key)
    if exclude_id is not None:
        query = query.where(Product.id != exclude_id)
    return db.session.scalars(query).first()


def _snapshot(product: Product) -> dict:
    return {**snapshot(product, SCALAR_FIELDS + ("evaluation", "report_state")),
            "languages": product.languages, "countries": product.countries, "sectors": product.sectors}


def _apply(product: Product, data: ProductData) -> None:
    for name in SCALAR_FIELDS:
        setattr(product, name, getattr(data, name))
    product.url = (data.url or "").strip() or None
    product.url_key = url_key(product.url)
    _set_codes(product.language_rows, ProductLanguage, data.languages)
    _set_codes(product.country_rows, ProductCountry, data.countries)
    _set_codes(product.sector_rows, ProductSector, data.sectors)
    product.updated_at = utcnow()


def _set_codes(rows: list, model, codes: list[str]) -> None:
    wanted = list(dict.fromkeys(code for code in codes if code))
    rows[:] = [row for row in rows if row.code in wanted]
    have = {row.code for row in rows}
    rows.extend(model(code=code) for code in wanted if code not in have)


def _flush(product_or_case) -> None:
    """Flush, turning a lost race on the version into the user's message."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except StaleDataError:
        raise ConflictError() from None


@contextmanager
def _saving(product: Product, url: str | None):
    """The changes made in the block, flushed inside a savepoint opened *before* them (opening
    one flushes what is pending, so changes made earlier would fail outside it): a lost race on
    the URL (two reports of the same page at once) or on the version becomes the user's
    message, and the caller's transaction stays usable."""
    exclude_id = product.id
    try:
        with db.session.begin_nested():
            yield
            db.session.flush()
    except StaleDataError:
        raise ConflictError() from None
    except IntegrityError:
        existing = existing_with_url(url, exclude_id=exclude_id)
        if existing is not None:
            raise DuplicateUrl(existing) from None
        raise


def _check_version(record, expected_version: int | None) -> None:
    if expected_version is not None and record.version != expected_version:
        raise ConflictError()


def _check_url(data: ProductData, exclude_id: int | None = None) -> None:
    existing = existing_with_url(data.url, exclude_id)
    if existing is not None:
        raise DuplicateUrl(existing)


# --- staff: products ----------------------------------------------------------

def _require_reviewer(actor: User) -> None:
    if not is_reviewer(actor):
        raise NotAllowed(_l("Only provincial staff may do this."))


def create_product(actor: User, data: ProductData) -> Product:
    _require_reviewer(actor)
    _check_url(data)
    product = Product(created_by_id=actor.id)
    with _saving(product, data.url):
        _apply(product, data)
        db.session.add(product)
    record_event("product.created", actor=actor, subject=product, after=_snapshot(product))
    return product


def update_product(actor: User, product: Product, data: ProductData, expected_version: int | None) -> None:
    _require_reviewer(actor)
    _check_version(product, expected_version)
    _check_url(data, exclude_id=product.id)
    before = _snapshot(product)
    with _saving(product, data.url):
        _apply(product, data)
    record_event("product.updated", actor=actor, subject=product, before=before, after=_snapshot(product))


def evaluate(actor: User, product: Product, evaluation: Evaluation, note: str, expected_version: int | None) -> None:
    _require_reviewer(actor)
    _check_version(product, expected_version)
    if product.report_state in (ReportState.reported, ReportState.correction_requested):
        raise ProductError(_l("Accept the reported product before evaluating it."))
    if product.status == ProductStatus.planned or product.status == ProductStatus.in_production:
        raise ProductError(_l("Only a published product can be evaluated."))
    before = _snapshot(product)
    product.evaluation = evaluation
    product.evaluation_note = note.strip() or None
    product.evaluated_at = product.updated_at = utcnow()
    product.evaluated_by_id = actor.id
    product.status = ProductStatus.evaluated
    _flush(product)
    record_event("product.evaluated", actor=actor, subject=product, before=before, after=_snapshot(product))


# --- the post-visit report -----------------------------------------------------

def report_product(actor: User, registration: Registration, data: ProductData) -> Product:
    """The correspondent reports a publication that came out of the visit."""
    if not can_report_on(actor, registration):
        raise NotAllowed(_l("You may report publications only for your outlet's approved programmes."))
    if registration.start_date is None or registration.start_date > local_today():
        raise ProductError(_l("Publications can be reported once the programme has started."))
    _check_url(data)
    data.outlet_id = registration.outlet_id
    data.registration_id = registration.id
    data.status = ProductStatus.published
    data.contribution_vnd = None  # the province records its own contribution
    product = Product(created_by_id=actor.id, report_state=ReportState.reported, reported_at=utcnow())
    with _saving(product, data.url):
        _apply(product, data)
        db.session.add(product)
    record_event("product.reported", actor=actor, subject=product, after=_snapshot(product))
    _mail_reviewers(registration, product, "product_reported",
                    _l("%(reference)s: a publication was reported", reference=registration.reference))
    return product


def correct_report(actor: User, product: Product, data: ProductData, expected_version: int | None) -> None:
    """The correspondent changes a reported product that staff have not accepted yet."""
    if not can_view_product(actor, product) or actor.role != Role.correspondent:
        raise NotAllowed(_l("You may change only the publications you reported."))
    if product.report_state not in (ReportState.reported, ReportState.correction_requested):
        raise ProductError(_l("An accepted publication can no longer be changed; write to the province."))
    _check_version(product, expected_version)
    _check_url(data, exclude_id=product.id)
    before = _snapshot(product)
    data.outlet_id, data.registration_id = product.outlet_id, product.registration_id
    data.status, data.contribution_vnd = product.status, product.contribution_vnd
    data.cooperation_type = product.cooperation_type
    with _saving(product, data.url):
        _apply(product, data)
        product.report_state = ReportState.reported
        product.reported_at = utcnow()
    record_event("product.report_corrected", actor=actor, subject=product, before=before, after=_snapshot(product))
    if before["report_state"] == ReportState.correction_requested.name:
        _mail_reviewers(product.registration, product, "product_reported",
                        _l("%(reference)s: a publication was corrected", reference=product.registration.reference))


def _review(actor: User, product: Product, expected_version: int | None) -> dict:
    _require_reviewer(actor)
    _check_version(product, expected_version)
    if product.report_state not in (ReportState.reported, ReportState.correction_requested):
        raise ProductError(_l("This product is not waiting for a review."))
    return _snapshot(product)


def accept_report(actor: User, product: Product, expected_version: int | None) -> None:
    before = _review(actor, product, expected_version)
    product.report_state = ReportState.accepted
    product.review_note = None
    product.updated_at = utcnow()
    _flush(product)
    record_event("product.report_accepted", actor=actor, subject=product, before=before, after=_snapshot(product))


def request_correction(actor: User, product: Product, note: str, expected_version: int | None) -> None:
    before = _review(actor, product, expected_version)
    if product.report_state != ReportState.reported:
        raise ProductError(_l("A correction is already requested; wait for the correspondent."))
    product.report_state = ReportState.correction_requested
    product.review_note = note.strip()
    product.updated_at = utcnow()
    _flush(product)
    record_event("product.correction_requested", actor=actor, subject=product, before=before,
                 after={**_snapshot(product), "note": product.review_note})
    registration = product.registration
    for user in _correspondents(registration.outlet_id):
        queue_email(user.email, "product_correction", user.locale,
                    _l("%(reference)s: please correct a reported publication", reference=registration.reference),
                    user=user, registration=registration, product=product, link_text=_l("Correct the publication"),
                    url=_absolute_url("products.edit", product_id=product.id))


# --- evidence -----------------------------------------------------------------

def receive_evidence(file_storage) -> StoredFile:
    """Store an evidence file sent with a form that also creates its owner (a new product):
    first, holding no database lock; add_evidence() then checks it and writes the row."""
    received = receive_upload(file_storage)
    with slow_work():
        return store_received(received, pixels=scan_pixels())


def add_evidence(actor: User, owner: Product | SovereigntyCase, upload, description: str = "") -> EvidenceFile:
    """`upload`: a file from a form (checked, then stored holding no database lock, then checked
    again in the write transaction), or a StoredFile from receive_evidence()."""
    _check_evidence_allowed(actor, owner)
    if isinstance(upload, StoredFile):
        stored = upload
    else:
        received = receive_upload(upload)
        _check_evidence_room(owner, received.size)  # before any decoding
        with slow_work():
            stored = store_received(received, pixels=scan_pixels())
        _check_evidence_allowed(actor, owner)
    _check_evidence_room(owner, stored.size)
    evidence = EvidenceFile(stored_name=stored.stored_name, content_type=stored.content_type, size=stored.size,
                            sha256=stored.sha256, original_filename=stored.original_filename,
                            description=description.strip() or None, uploaded_by_id=actor.id)
    owner.evidence.append(evidence)
    owner.updated_at = utcnow()
    db.session.flush()
    action = "product.evidence_added" if isinstance(owner, Product) else "case.evidence_added"
    record_event(action, actor=actor, subject=owner, after={"file": stored.original_filename, "sha256": stored.sha256})
    return evidence


def _check_evidence_allowed(actor: User, owner: Product | SovereigntyCase) -> None:
    if isinstance(owner, Product):
        allowed = is_reviewer(actor) or (
            can_view_product(actor, owner) and owner.report_state in (ReportState.reported,
                                                                      ReportState.correction_requested))
    else:
        allowed = is_reviewer(actor)
    if not allowed:
        raise NotAllowed(_l("You may not add evidence here."))


def _check_evidence_room(owner: Product | SovereigntyCase, size: int) -> None:
    limit = current_app.config["REGISTRATION_MAX_ATTACHMENT_BYTES"]
    used = sum(item.size for item in owner.evidence)
    if used + size > limit:
        raise ProductError(_l("The evidence files of one record may not exceed %(megabytes)d MB in all.",
                              megabytes=limit // (1024 * 1024)))


def remove_evidence(actor: User, evidence: EvidenceFile) -> None:
    owner = evidence.product or evidence.case
    if not is_reviewer(actor) and evidence.uploaded_by_id != actor.id:
        raise NotAllowed(_l("You may not remove this file."))
    if isinstance(owner, Product) and not is_reviewer(actor) and owner.report_state == ReportState.accepted:
        raise ProductError(_l("An accepted publication can no longer be changed; write to the province."))
    record_event("product.evidence_removed", actor=actor, subject=owner,
                 before={"file": evidence.original_filename, "sha256": evidence.sha256})
    owner.evidence.remove(evidence)
    owner.updated_at = utcnow()
    db.session.flush()


# --- sovereignty cases ----------------------------------------------------------

def _check_case_dates(data: CaseData) -> None:
    today = local_today()
    for value in (data.detected_on, data.reported_on, data.handled_on):
        if value is not None and value > today:
            raise InvalidInput(_l("A date of the case cannot be in the future."))
    if data.reported_on and data.reported_on < data.detected_on:
        raise InvalidInput(_l("The content cannot be reported before it was detected."))
    if data.handled_on and data.handled_on < data.detected_on:
        raise InvalidInput(_l("The case cannot be handled before the content was detected."))
    if data.status in (CaseStatus.reported, CaseStatus.handled) and not (data.reported_to and data.reported_on):
        raise InvalidInput(_l("Say which body the content was reported to, and when."))
    if data.status == CaseStatus.handled and not (data.handled_on and data.steps_taken.strip()):
        raise InvalidInput(_l("A handled case needs the steps taken and the date it was handled."))


CASE_FIELDS = ("title", "finding", "detected_on", "url", "publisher", "country", "reported_to", "steps_taken",
               "status", "reported_on", "handled_on")


def _case_snapshot(case: SovereigntyCase) -> dict:
    return snapshot(case, CASE_FIELDS)


def open_case(actor: User, data: CaseData, product: Product | None = None) -> SovereigntyCase:
    _require_reviewer(actor)
    _check_case_dates(data)
    if product is not None:
        data.title = data.title or product.title
        data.url = data.url or product.url
        data.publisher = data.publisher or product.outlet.name
        data.country = data.country or product.outlet.country
    case = SovereigntyCase(product_id=product.id if product is not None else None, created_by_id=actor.id,
                           **{name: getattr(data, name) for name in CASE_FIELDS})
    db.session.add(case)
    db.session.flush()
    record_event("case.opened", actor=actor, subject=case, after=_case_snapshot(case))
    return case


def update_case(actor: User, case: SovereigntyCase, data: CaseData, expected_version: int | None) -> None:
    _require_reviewer(actor)
    _check_version(case, expected_version)
    _check_case_dates(data)
    before = _case_snapshot(case)
    for name in CASE_FIELDS:
        setattr(case, name, getattr(data, name))
    case.updated_at = utcnow()
    _flush(case)
    record_event("case.updated", actor=actor, subject=case, before=before, after=_case_snapshot(case))


# --- reminders and overdue reports -----------------------------------------------

def report_due_date(registration: Registration) -> date | None:
    """The working day by which the correspondent should report what was published; None when
    there is no end date or the calendar cannot count it (a year beyond 2100, stored before the
    forms bounded dates): the registration page must still show."""
    if registration.end_date is None:
        return None
    try:
        return working_calendar().add_working_days(registration.end_date,
                                                   authority_profile().post_visit_report_working_days)
    except ValueError:
        return None


def reminder_dates(registration: Registration) -> dict[ReminderKind, date]:
    """When each reminder becomes due: N and M working days after the end of the programme."""
    profile = authority_profile()
    calendar = working_calendar()
    return {
        ReminderKind.first: calendar.add_working_days(registration.end_date, profile.post_visit_report_working_days),
        ReminderKind.second: calendar.add_working_days(registration.end_date,
                                                       profile.post_visit_second_reminder_working_days),
    }


def _ended_without_report(today: date, since: date | None = None):
    """Registrations in force whose programme has ended and that have no product at all."""
    has_product = sa.select(Product.id).where(Product.registration_id == Registration.id).exists()
    query = sa.select(Registration).where(is_in_force(), Registration.end_date < today, ~has_product)
    if since is not None:
        query = query.where(Registration.end_date >= since)
    return query.order_by(Registration.end_date, Registration.id)


# How far back from today `late_end_cutoff` looks for the last late end date: more than any run of
# days off (Tết with its weekends is about ten) on top of the report's working days.
_CUTOFF_SEARCH_DAYS = 400


def late_end_cutoff(today: date) -> date | None:
    """The last programme end date whose post-visit report is late on `today`: a report is late
    exactly when the programme ended on or before this day. None when no end date can be late.

    Why this works: the report is due N working days after the end (`report_due_date`), and adding
    working days never goes backwards (a later end date has the same or a later due date), so the
    end dates whose due date is before today are all those up to one cutoff. And the due date is
    at least N calendar days after the end, so the search starts at today - N - 1 and walks back
    over the days off. This keeps the working-day arithmetic in Python (one calendar, the one the
    reminders use) while the list is a plain `end_date <= cutoff` in SQL, paginated and counted
    there, not 40,000 registrations loaded to be tested one by one."""
    days = authority_profile().post_visit_report_working_days
    calendar = working_calendar()
    end = today - timedelta(days=days + 1)
    for _step in range(_CUTOFF_SEARCH_DAYS):
        try:
            if calendar.add_working_days(end, days) < today:
                return end
        except ValueError:  # a year the calendar does not cover
            return None
        end -= timedelta(days=1)
    return None


def overdue_reports_query(today: date | None = None):
    """The registrations whose post-visit report is late, the longest overdue first (a SELECT)."""
    today = today or local_today()
    cutoff = late_end_cutoff(today)
    query = _ended_without_report(today)
    return query.where(Registration.end_date <= cutoff) if cutoff is not None else query.where(sa.false())


def overdue_count_query(today: date | None = None):
    """SELECT count(*) of `overdue_reports_query`."""
    query = overdue_reports_query(today).order_by(None).with_only_columns(Registration.id)
    return sa.select(sa.func.count()).select_from(query.subquery())


def overdue_count(today: date | None = None) -> int:
    """How many post-visit reports are late (one COUNT, for the menu's and the list's totals)."""
    return db.session.scalar(overdue_count_query(today))


def overdue_reports(today: date | None = None) -> list[tuple[Registration, date]]:
    """(registration, due date) of visits whose report is late, the longest overdue first."""
    rows = []
    for registration in db.session.scalars(overdue_reports_query(today)):
        due = report_due_date(registration)
        if due is not None:
            rows.append((registration, due))
    return rows


def send_reminders(today: date | None = None) -> list[PostVisitReminder]:
    """Queue the reminders that are due. Safe to run every hour: a reminder is sent once.

    The PostVisitReminder row is written in the same transaction as the queued mail; its
    unique key (registration, kind) makes a second run, or two runs at once, send nothing
    again. When both reminders are due (cron was down), only the second is sent.
    """
    today = today or local_today()
    sent = []
    horizon = today - timedelta(days=REMINDER_HORIZON_DAYS)
    registrations = db.session.scalars(_ended_without_report(today, since=horizon)).all()
    already = set(db.session.execute(sa.select(PostVisitReminder.registration_id, PostVisitReminder.kind).where(
        PostVisitReminder.registration_id.in_([registration.id for registration in registrations]))).tuples())
    for registration in registrations:
        due = [(kind, on) for kind, on in reminder_dates(registration).items() if on <= today]
        if not due:
            continue
        kind, due_on = due[-1]
        if (registration.id, kind) in already:
            continue
        reminder = _send_reminder(registration, kind, due_on)
        if reminder is not None:
            sent.append(reminder)
    return sent


def _send_reminder(registration: Registration, kind: ReminderKind, due_on: date) -> PostVisitReminder | None:
    users = _correspondents(registration.outlet_id)
    try:
        with db.session.begin_nested():
            reminder = PostVisitReminder(registration_id=registration.id, kind=kind, due_on=due_on,
                                         recipients=len(users))
            db.session.add(reminder)
            db.session.flush()
            for user in users:
                queue_email(user.email, "post_visit_reminder", user.locale,
                            _l("%(reference)s: what did you publish about your visit?",
                               reference=registration.reference),
                            user=user, registration=registration, second=kind == ReminderKind.second,
                            due_on=report_due_date(registration), link_text=_l("Report your publications"),
                            url=_absolute_url("products.report", registration_id=registration.id))
    except IntegrityError:
        return None  # another run sent it a moment ago
    record_event("reminder.sent", subject=registration, after={"kind": kind.name, "recipients": len(users)})
    return reminder


# --- mail helpers ---------------------------------------------------------------

def _absolute_url(endpoint: str, **values) -> str:
    path = current_app.url_map.bind("pressdesk.invalid").build(endpoint, values)
    return current_app.config["BASE_URL"].rstrip("/") + path


def _correspondents(outlet_id: int) -> list[User]:
    return list(db.session.scalars(sa.select(User).where(
        User.outlet_id == outlet_id, User.role == Role.correspondent, User.active.is_(True)).order_by(User.id)))


def _mail_reviewers(registration: Registration, product: Product, template: str, subject) -> None:
    """The assigned officer, or every officer when nobody is assigned."""
    if registration.assigned_officer_id:
        users = [db.session.get(User, registration.assigned_officer_id)]
    else:
        users = db.session.scalars(sa.select(User).where(User.role == Role.officer, User.active.is_(True))).all()
    for user in users:
        if user is not None and user.active:
            queue_email(user.email, template, user.locale, subject, user=user, registration=registration,
                        product=product, link_text=_l("Review the publication"),
                        url=_absolute_url("products.detail", product_id=product.id))
