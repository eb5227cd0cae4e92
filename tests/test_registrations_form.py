"""The correspondent's registration form: the kind from the outlet, the error summary, required
marks, date bounds, border-area places, the photo rule, duplicating, and the folded timeline."""
from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from app.auth.models import Role
from app.clock import local_today
from app.registrations.models import Registration, RegistrationKind, Status
from tests.support import form_fields, login, logout, post_form


def edit_page(client, registration_id) -> str:
    return client.get(f"/registrations/{registration_id}/edit").get_data(as_text=True)


def submit_as_rendered(client, registration_id, **changes):
    fields = form_fields(edit_page(client, registration_id), "registration-form")
    for name, value in changes.items():
        fields[name] = value
    fields["send"] = "Submit to the province"
    return client.post(f"/registrations/{registration_id}/edit", data=fields)


def test_the_kind_comes_from_the_outlet_profile(client, db, make_user, make_outlet):
    for resident, kind in ((True, RegistrationKind.resident), (False, RegistrationKind.non_resident)):
        correspondent = make_user(Role.correspondent)
        make_outlet(correspondents=[correspondent], resident=resident, name=f"Outlet {resident}")
        login(client, correspondent.email)
        page = client.get("/registrations/new").get_data(as_text=True)
        assert 'type="radio"' not in page
        response = post_form(client, "/registrations/new", {})
        assert response.status_code == 302
        registration = db.session.scalar(sa.select(Registration).where(
            Registration.outlet_id == correspondent.outlet_id))
        assert registration.kind is kind
        # A resident office is not asked for a MOFA press permit number.
        assert ('name="mofa_permit_number"' in edit_page(client, registration.id)) is not resident
        logout(client)


def test_a_new_draft_offers_one_day_and_marks_what_is_required(client, db, make_user, make_outlet):
    correspondent = make_user(Role.correspondent)
    make_outlet(correspondents=[correspondent])
    login(client, correspondent.email)
    post_form(client, "/registrations/new", {})
    registration = db.session.scalar(sa.select(Registration))
    page = edit_page(client, registration.id)
    assert 'name="itinerary-0-day"' in page and 'name="itinerary-1-day"' not in page
    for name in ("purpose", "content", "start_date", "end_date", "publication_plan", "pledge",
                 "mofa_permit_number", "itinerary-0-day", "itinerary-0-place_id", "itinerary-0-activity"):
        assert re.search(rf'<(input|textarea|select)[^>]*aria-required="true"[^>]*id="{name}"', page) or re.search(
            rf'<(input|textarea|select)[^>]*id="{name}"[^>]*aria-required="true"', page), name
    assert not re.search(r'id="interview_questions"[^>]*aria-required', page)
    today = local_today()
    assert f'min="{today.isoformat()}"' in page
    assert re.search(r'id="start_date"[^>]*max="20\d\d-\d\d-\d\d"|max="20\d\d-\d\d-\d\d"[^>]*id="start_date"', page)
    # The attachments come before the Submit button.
    assert page.index('id="attachments"') < page.index('name="send"')


def test_a_refused_submission_lists_each_problem_with_a_link_to_its_field(client, db, make_registration):
    registration, correspondent = make_registration(Status.draft)
    login(client, correspondent.email)
    response = submit_as_rendered(client, registration.id, purpose="", publication_plan="", pledge=None)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    summary = body[body.index('id="error-summary"'):body.index("</div>", body.index('id="error-summary"'))]
    assert "3 things to correct before submitting" in summary
    assert '<a href="#purpose">Write the purpose of the programme.</a>' in summary
    assert '<a href="#publication_plan">Say where and when the work will be published or broadcast.</a>' in summary
    assert '<a href="#pledge">Accept the compliance pledge to submit.</a>' in summary
    assert 'id="purpose-error"' in body
    # The draft was saved as typed (empty purpose included), and is still a draft.
    stored = db.session.get(Registration, registration.id)
    assert stored.status is Status.draft and stored.purpose == ""


def test_a_crew_member_without_a_photo_stops_the_submission(client, db, make_registration, make_crew_member):
    from types import SimpleNamespace

    registration, correspondent = make_registration(Status.draft)
    no_photo = make_crew_member(SimpleNamespace(id=correspondent.outlet_id), full_name="Per Hansen", photo=False)
    login(client, correspondent.email)
    page = edit_page(client, registration.id)
    assert "no photo yet" in page
    crew = [str(member.id) for member in db.session.get(Registration, registration.id).crew_members] + [
        str(no_photo.id)]
    fields = form_fields(page, "registration-form")
    fields.setlist("crew_member_ids", crew)
    fields["send"] = "Submit"
    response = client.post(f"/registrations/{registration.id}/edit", data=fields)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<a href="#crew">Per Hansen has no photo: add one in Outlet and crew (the permit prints it).</a>' in body
    assert db.session.get(Registration, registration.id).status is Status.draft


def test_a_border_area_place_says_at_once_what_it_means(client, db, make_registration):
    registration, correspondent = make_registration(Status.draft, border=True)
    login(client, correspondent.email)
    page = edit_page(client, registration.id)
    note = re.search(r'<div class="alert alert-warning small py-2 border-note" data-border-note\s*(hidden)?>', page)
    assert note and note.group(1) is None  # shown: the saved place is in a border area
    assert 'data-border="true"' in page  # and the script shows it for a newly chosen one
    logout(client)
    registration, correspondent = make_registration(Status.draft, border=False)
    login(client, correspondent.email)
    assert re.search(r'data-border-note\s*hidden', edit_page(client, registration.id))


def test_the_start_of_the_dates_is_said_in_words(client, db, make_registration):
    registration, correspondent = make_registration(Status.draft)
    login(client, correspondent.email)
    page = edit_page(client, registration.id)
    weekday = registration.start_date.strftime("%A")  # English page: Babel's full pattern starts with it
    assert re.search(rf'id="start_date-hint2" class="form-text">{weekday}, ', page)


def test_duplicate_copies_the_programme_not_the_dates_or_files(client, db, make_registration, make_user):
    registration, correspondent = make_registration(Status.refused)
    login(client, correspondent.email)
    page = client.get(f"/registrations/{registration.id}").get_data(as_text=True)
    assert "Duplicate this registration" in page
    response = post_form(client, f"/registrations/{registration.id}/duplicate", {},
                         page=f"/registrations/{registration.id}")
    copy = db.session.scalar(sa.select(Registration).where(Registration.copied_from_id == registration.id))
    assert response.status_code == 302 and response.location == f"/registrations/{copy.id}/edit"
    original = db.session.get(Registration, registration.id)
    assert copy.status is Status.draft and copy.reference != original.reference
    assert (copy.purpose, copy.content, copy.publication_plan) == (
        original.purpose, original.content, original.publication_plan)
    assert copy.start_date is copy.end_date is None and copy.mofa_permit_number is None
    assert copy.pledge_accepted_at is None and not copy.attachments
    assert [(item.place_id, item.activity, item.day) for item in copy.itinerary] == [
        (item.place_id, item.activity, None) for item in original.itinerary]
    # Another outlet's correspondent cannot duplicate it, and a draft is edited, not duplicated.
    other = make_user(Role.correspondent)
    other_client = client.application.test_client()
    login(other_client, other.email)
    assert post_form(other_client, f"/registrations/{registration.id}/duplicate", {},
                     page="/").status_code == 404
    assert post_form(client, f"/registrations/{copy.id}/duplicate", {}, page="/").status_code == 409


def test_the_correspondents_timeline_folds_repeated_saves(client, db, make_registration):
    registration, correspondent = make_registration(Status.draft)
    login(client, correspondent.email)
    for purpose in ("one", "two", "three"):
        fields = form_fields(edit_page(client, registration.id), "registration-form")
        fields["purpose"] = purpose
        fields["save"] = "Save draft"
        assert client.post(f"/registrations/{registration.id}/edit", data=fields).status_code == 302
    page = client.get(f"/registrations/{registration.id}").get_data(as_text=True)
    timeline = page[page.index('class="timeline"'):]
    assert timeline.count("Draft saved") == 1 and "3 times; the last one shown" in timeline


def test_a_date_outside_the_window_is_a_message_not_a_500(client, db, make_registration):
    registration, correspondent = make_registration(Status.draft)
    login(client, correspondent.email)
    fields = form_fields(edit_page(client, registration.id), "registration-form")
    fields["start_date"] = (local_today() + timedelta(days=3 * 366)).isoformat()
    fields["save"] = "Save draft"
    response = client.post(f"/registrations/{registration.id}/edit", data=fields)
    assert response.status_code == 422
    assert '<a href="#start_date">A programme can be registered at most 2 years ahead.</a>' in response.get_data(
        as_text=True)
    assert db.session.get(Registration, registration.id).start_date == registration.start_date  # nothing saved


def test_a_submission_is_one_transaction_and_a_refused_one_keeps_only_the_draft(app, client, db, make_registration):
    """"Submit" saves the draft and submits it in one transaction (a savepoint for the submission):
    one commit; when the submission is refused, the draft is kept as typed and nothing of the
    submission is (no mail queued, no audit entry, still a draft)."""
    from flask import has_request_context

    from app.audit.models import AuditEvent
    from app.extensions import db as app_db
    from app.outbox.models import OutboxMessage

    registration, correspondent = make_registration(Status.draft)
    login(client, correspondent.email)
    with app.app_context():
        engine = app_db.engine
    commits = []

    def count_commit(connection):
        if has_request_context():  # not the test client's outbox run after the request (conftest)
            commits.append(connection)

    def submit_counting_commits(**changes):
        fields = form_fields(edit_page(client, registration.id), "registration-form")
        for name, value in {**changes, "send": "Submit to the province"}.items():
            fields[name] = value
        commits.clear()
        sa.event.listen(engine, "commit", count_commit)
        try:
            return client.post(f"/registrations/{registration.id}/edit", data=fields), len(commits)
        finally:
            sa.event.remove(engine, "commit", count_commit)

    def count(model, *where):
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))

    refused, refused_commits = submit_counting_commits(purpose="", content="Farms and a cooperative.")
    assert refused.status_code == 422 and refused_commits == 1
    stored = db.session.get(Registration, registration.id)
    assert stored.status is Status.draft and stored.content == "Farms and a cooperative."
    assert count(OutboxMessage) == 0 and count(AuditEvent, AuditEvent.action == "registration.submit") == 0
    db.session.expire_all()

    submitted, submit_commits = submit_counting_commits(purpose="A report on the coffee harvest.",
                                                        short_notice_accepted="y")
    assert submitted.status_code == 302 and submit_commits == 1
    assert submitted.headers["Location"].endswith(f"/registrations/{registration.id}")
    stored = db.session.get(Registration, registration.id)
    assert stored.status is Status.submitted and stored.purpose == "A report on the coffee harvest."
    assert count(OutboxMessage, OutboxMessage.recipient == correspondent.email,
                 OutboxMessage.template == "registration_received") == 1
    assert count(AuditEvent, AuditEvent.action == "registration.submit") == 1
