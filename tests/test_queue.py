"""The staff queue: open dossiers by deadline by default, the closed ones one filter away, the next
action column, saved filters and bulk assignment with a version check per row."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.auth.models import Role
from app.clock import local_today, utcnow
from app.outbox.models import OutboxMessage
from app.registrations.models import Proposal, Registration, Status
from app.worklist.models import SavedFilter
from tests.support import csrf_token, login, post_form

QUEUE = "/staff/registrations"


@pytest.fixture
def officer(make_user):
    return make_user(Role.officer, locale="en", full_name="Officer Lan")


@pytest.fixture
def staff(client, officer):
    login(client, officer.email)
    return client


def _set(db, registration, **fields):
    row = db.session.get(Registration, registration.id)
    for name, value in fields.items():
        setattr(row, name, value)
    db.session.commit()
    return row


def _page(client, url=QUEUE) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _tbody(page: str) -> str:
    return page[page.index("<tbody>"):page.index("</tbody>")]


# --- the default view ----------------------------------------------------------------

def test_the_queue_opens_on_open_dossiers_overdue_first(staff, db, make_registration):
    later, _ = make_registration(Status.in_review)
    _set(db, later, due_date=local_today() + timedelta(days=6))
    no_deadline, _ = make_registration(Status.needs_info)
    _set(db, no_deadline, due_date=None)
    overdue, _ = make_registration(Status.submitted)
    _set(db, overdue, due_date=local_today() - timedelta(days=2))
    approved, _ = make_registration(Status.approved)
    _set(db, approved, due_date=local_today() - timedelta(days=30))
    withdrawn, _ = make_registration(Status.withdrawn)
    draft, _ = make_registration(Status.draft)

    body = _tbody(_page(staff))
    assert body.index(overdue.reference) < body.index(later.reference) < body.index(no_deadline.reference)
    for hidden in (approved, withdrawn, draft):
        assert hidden.reference not in body
    assert re.search(r'<option selected value="open">|<option value="open" selected>', _page(staff))

    closed = _tbody(_page(staff, QUEUE + "?status=closed"))
    assert approved.reference in closed and withdrawn.reference in closed
    assert overdue.reference not in closed and draft.reference not in closed

    everything = _tbody(_page(staff, QUEUE + "?status=all"))
    assert all(r.reference in everything for r in (overdue, later, no_deadline, approved, withdrawn))
    assert draft.reference not in everything
    # Open ones first even among all: the long-closed deadline does not push the overdue one down.
    assert everything.index(overdue.reference) < everything.index(approved.reference)

    one_status = _tbody(_page(staff, QUEUE + "?status=approved"))
    assert approved.reference in one_status and overdue.reference not in one_status


def test_all_but_drafts_run_open_ones_by_deadline_then_closed_ones_across_pages(app, staff, db, make_registration):
    """The "all" view is read as two ordered parts (open, closed) merged: page by page, with a page
    boundary inside each part and one between them, nothing is repeated or left out."""
    today = local_today()
    made = {}
    for name, status, due in (("open later", Status.in_review, 5), ("open overdue", Status.submitted, -1),
                              ("open no deadline", Status.needs_info, None), ("closed long ago", Status.approved, -10),
                              ("closed later", Status.withdrawn, 2), ("open soon", Status.submitted, 1)):
        registration, _ = make_registration(status)
        made[name] = _set(db, registration, due_date=None if due is None else today + timedelta(days=due)).reference
    make_registration(Status.draft)
    app.config["PAGE_SIZE"] = 2
    seen = []
    for number in (1, 2, 3, 4):
        page = _page(staff, QUEUE + f"?status=all&page={number}")
        assert "6 registrations" in page
        seen += list(dict.fromkeys(re.findall(r"PD-\d{4}-\d+", _tbody(page))))
    assert seen == [made[name] for name in ("open overdue", "open soon", "open later", "open no deadline",
                                            "closed long ago", "closed later")]


def test_the_border_and_nationality_filters_among_open_ones_and_among_all(staff, db, make_registration):
    """Among the open dossiers these filters are a correlated EXISTS, among all an IN-subquery
    (app/registrations/queue.py _crew_or_places): the same registrations either way."""
    open_border, _ = make_registration(Status.submitted, border=True)
    open_plain, _ = make_registration(Status.in_review)
    closed_border, _ = make_registration(Status.approved, border=True)
    for registration in (open_plain, closed_border):
        db.session.get(Registration, registration.id).crew_members[0].nationality = "JP"
    db.session.commit()

    def found(query):
        return set(re.findall(r"PD-\d{4}-\d+", _tbody(_page(staff, QUEUE + "?" + query))))

    assert found("border=y") == {open_border.reference}
    assert found("status=all&border=y") == {open_border.reference, closed_border.reference}
    assert found("nationality=JP") == {open_plain.reference}
    assert found("status=all&nationality=JP") == {open_plain.reference, closed_border.reference}
    assert found("status=all&nationality=JP&border=y") == {closed_border.reference}


def test_the_status_applies_even_when_another_filter_is_mistyped(staff, db, make_registration):
    approved, _ = make_registration(Status.approved)
    open_one, _ = make_registration(Status.submitted)
    body = _tbody(_page(staff, QUEUE + "?date_from=not-a-date"))
    assert open_one.reference in body and approved.reference not in body


def test_the_next_action_column(staff, db, officer, make_registration):
    unassigned, _ = make_registration(Status.submitted)
    proposed, _ = make_registration(Status.in_review, assigned_to=officer)
    _set(db, proposed, proposed_decision=Proposal.refuse, proposed_at=utcnow(), proposed_by_id=officer.id)
    mine, _ = make_registration(Status.in_review, assigned_to=officer)
    page = _page(staff)
    assert "Proposal / next action" in page
    body = _tbody(page)
    assert f'<a href="/registrations/{unassigned.id}#assign">Assign an officer</a>' in body
    assert "Proposal: <strong>refuse</strong>" in body
    assert f'<a href="/registrations/{proposed.id}#decision">Waiting for the leader&#39;s decision</a>' in body
    assert f'<a href="/registrations/{mine.id}#decision">Review and propose a decision</a>' in body
    assert f'<label class="form-check-label visually-hidden" for="select-{mine.id}">Select {mine.reference}</label>' \
        in body


def test_filters_and_pagination_still_work(app, staff, db, make_registration):
    app.config["PAGE_SIZE"] = 2
    made = [make_registration(Status.submitted)[0] for _ in range(3)]
    first = _page(staff, QUEUE + "?kind=non_resident")
    assert "Page 1 of 2" in first and "kind=non_resident" in first and "page=2" in first
    second = _tbody(_page(staff, QUEUE + "?kind=non_resident&page=2"))
    assert sum(registration.reference in second for registration in made) == 1
    assert made[0].reference in _tbody(_page(staff, QUEUE + "?q=" + made[0].reference))


# --- saved filters -----------------------------------------------------------------------

def _save(client, name, filters):
    return post_form(client, QUEUE + "/filters", {"name": name, "filters": filters}, page=QUEUE)


def test_save_use_replace_and_delete_a_filter(app, staff, db, officer, make_user, make_registration):
    approved, _ = make_registration(Status.approved)
    submitted, _ = make_registration(Status.submitted)
    response = _save(staff, "Closed ones", "status=closed&page=3&csrf_token=x&q=")
    assert response.status_code == 303 and response.location == QUEUE + "?status=closed"
    saved = db.session.scalars(sa.select(SavedFilter)).one()
    assert (saved.user_id, saved.name, saved.query_string) == (officer.id, "Closed ones", "status=closed")

    page = _page(staff)
    assert f'<a href="{QUEUE}?status=closed"' in page and ">Closed ones</a>" in page
    used = _tbody(_page(staff, QUEUE + "?status=closed"))
    assert approved.reference in used and submitted.reference not in used

    # The same name again: it now holds the new filters (one row, not two).
    response = _save(staff, "Closed ones", "status=approved&border=y")
    assert response.status_code == 303
    assert [(row.name, row.query_string) for row in db.session.scalars(sa.select(SavedFilter))] == \
        [("Closed ones", "status=approved&border=y")]
    assert 'now holds these filters' in _page(staff)

    # Another user sees none of it, and cannot delete it.
    other = app.test_client()
    login(other, make_user(Role.leader, locale="en").email)
    assert "Closed ones" not in _page(other)
    token = csrf_token(other, QUEUE)
    assert other.post(f"{QUEUE}/filters/{saved.id}/delete", data={"csrf_token": token}).status_code == 404
    assert db.session.scalars(sa.select(SavedFilter)).one().id == saved.id

    # Deleting without the token is refused; with it, the filter is gone.
    assert staff.post(f"{QUEUE}/filters/{saved.id}/delete").status_code == 400
    response = post_form(staff, f"{QUEUE}/filters/{saved.id}/delete", page=QUEUE)
    assert response.status_code == 303
    assert db.session.scalars(sa.select(SavedFilter)).all() == []
    assert staff.post(f"{QUEUE}/filters/999/delete", data={"csrf_token": csrf_token(staff, QUEUE)}).status_code == 404


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_a_filter_needs_a_name_of_at_most_100_characters(staff, db, name):
    response = _save(staff, name, "status=closed")
    assert response.status_code == 422
    assert 'id="name-error"' in response.get_data(as_text=True)
    assert db.session.scalars(sa.select(SavedFilter)).all() == []


def test_correspondents_cannot_save_filters(client, make_user):
    login(client, make_user(Role.correspondent).email)
    token = csrf_token(client, "/")
    assert client.post(QUEUE + "/filters", data={"csrf_token": token, "name": "x"}).status_code == 403
    assert client.post(QUEUE + "/bulk-assign", data={"csrf_token": token}).status_code == 403


# --- bulk assignment -------------------------------------------------------------------------

def _bulk(client, selected, officer_id, filters="status=open"):
    return client.post(QUEUE + "/bulk-assign", data={
        "csrf_token": csrf_token(client, QUEUE), "selected": selected, "officer_id": officer_id,
        "filters": filters}, follow_redirects=False)


def test_bulk_assign_assigns_each_row_and_reports_the_one_changed_meanwhile(staff, db, make_user, make_registration):
    colleague = make_user(Role.officer, locale="en", full_name="Officer Hoa")
    first, _ = make_registration(Status.submitted)
    second, _ = make_registration(Status.in_review)
    changed, _ = make_registration(Status.submitted)
    approved, _ = make_registration(Status.approved)
    page = _page(staff)
    for registration in (first, second, changed):
        assert f'value="{registration.id}:{registration.version}"' in page
    seen = [f"{registration.id}:{registration.version}" for registration in (first, second, changed, approved)]
    # Someone else edits one of them after the page was made.
    bumped = _set(db, changed, purpose="Changed by someone else")
    assert bumped.version == changed.version + 1

    response = _bulk(staff, seen + ["2147483647:1"], colleague.id)
    assert response.status_code == 303 and response.location == QUEUE + "?status=open"
    for registration in (first, second):
        row = db.session.get(Registration, registration.id)
        assert row.assigned_officer_id == colleague.id and row.status is Status.in_review
    row = db.session.get(Registration, changed.id)
    assert row.assigned_officer_id is None and row.status is Status.submitted and row.purpose.startswith("Changed")
    assert db.session.get(Registration, approved.id).assigned_officer_id is None
    # Only the assigned ones were mailed and audited.
    mails = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.template == "registration_assigned")).all()
    assert len(mails) == 2 and {mail.recipient for mail in mails} == {colleague.email}

    result = staff.get(response.location).get_data(as_text=True)
    assert f"Assigned to Officer Hoa: {first.reference}, {second.reference}" in result
    assert f"Changed meanwhile, not assigned: {changed.reference} (reload to see the change)" in result
    assert f"Not assigned: {approved.reference}: " in result
    assert "Not found, not assigned: 1 of the selected registrations" in result


def test_bulk_assign_with_nothing_selected_is_422(staff, db, officer, make_registration):
    registration, _ = make_registration(Status.submitted)
    response = _bulk(staff, [], officer.id)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Select at least one registration." in page and registration.reference in page
    assert db.session.get(Registration, registration.id).assigned_officer_id is None
    response = _bulk(staff, ["not-a-selection"], officer.id)
    assert response.status_code == 422 and "The selection could not be read." in response.get_data(as_text=True)


def test_bulk_assign_only_to_an_active_officer_or_leader(staff, db, make_user, make_registration):
    registration, _ = make_registration(Status.submitted)
    inactive = make_user(Role.officer, active=False)
    correspondent = make_user(Role.correspondent)
    for target in (inactive, correspondent):
        response = _bulk(staff, [f"{registration.id}:{registration.version}"], target.id)
        assert response.status_code == 422
    assert db.session.get(Registration, registration.id).assigned_officer_id is None


def test_bulk_assign_needs_the_csrf_token(staff, db, officer, make_registration):
    registration, _ = make_registration(Status.submitted)
    response = staff.post(QUEUE + "/bulk-assign", data={"selected": [f"{registration.id}:{registration.version}"],
                                                        "officer_id": officer.id})
    assert response.status_code == 400
    assert db.session.get(Registration, registration.id).assigned_officer_id is None
