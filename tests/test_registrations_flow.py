"""A registration from the correspondent's first page to the leader's decision, over HTTP."""
from __future__ import annotations

import io
import re
from datetime import timedelta

import sqlalchemy as sa
from PIL import Image

from app.clock import local_today
from app.audit.models import AuditEvent
from app.extensions import db as app_db
from app.auth.models import Role, User
from app.outlets.models import CrewMember
from app.documents.models import IssuedDocument
from app.reference.models import BodyKind, ConsultedBodyEntry, EscortOfficer
from app.registrations.models import Attachment, Consultation, Proposal, Registration, Status
from tests.conftest import TINY_PDF
from tests.support import login, post_form, propose


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (330, 440), (200, 180, 150)).save(buffer, "PNG")  # a permit photo: 3:4, at least 319 x 425
    return buffer.getvalue()


def form_fields(html: str) -> dict:
    """The named inputs of the registration form as the browser would send them (text fields only)."""
    fields = {}
    for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html):
        if "type=\"submit\"" not in name:
            fields[name] = value
    return fields


def registration_form(registration_id, version, crew_ids, place_id, start, **overrides):
    data = {
        "kind": "non_resident", "mofa_permit_number": "01/BC-2027-15", "guiding_agency": "Sở Ngoại vụ",
        "crew_member_ids": crew_ids, "purpose": "A documentary on border trade",
        "content": "Border markets, logistics", "start_date": start.isoformat(),
        "end_date": (start + timedelta(days=2)).isoformat(),
        "itinerary-0-day": start.isoformat(), "itinerary-0-place_id": str(place_id), "itinerary-0-place_text": "",
        "itinerary-0-host_organisation": "Ban quản lý cửa khẩu", "itinerary-0-activity": "Film the market",
        "itinerary-0-interviewees": "Traders",
        "itinerary-1-day": (start + timedelta(days=1)).isoformat(), "itinerary-1-place_id": "",
        "itinerary-1-place_text": "Chợ Long Hoa", "itinerary-1-host_organisation": "",
        "itinerary-1-activity": "Interviews", "itinerary-1-interviewees": "",
        "interview_questions": "How has trade changed?", "publication_plan": "NRK Dokumentar, autumn 2027",
        "equipment": "Camera, microphones", "pledge": "y", "version": str(version),
    }
    data.update(overrides)
    return data


def test_from_outlet_to_approval(app, client, db, mailbox, make_user, make_place):
    correspondent = make_user(Role.correspondent, email="ingrid@nrk.example")
    officer = make_user(Role.officer, email="canbo@tayninh.example", locale="vi")
    leader = make_user(Role.leader, email="lanhdao@tayninh.example", locale="vi")
    border_gate = make_place(name="Cửa khẩu quốc tế Mộc Bài", border=True)
    login(client, correspondent.email)

    # The outlet, then a crew member with a photo.
    response = post_form(client, "/outlet", {"name": "NRK", "country": "NO", "media_type": "television",
                                             "website": "https://nrk.example"})
    assert response.status_code == 302
    response = post_form(client, "/outlet/crew/new", {
        "full_name": "Ingrid Larsen", "nationality": "NO", "date_of_birth": "1985-04-12", "role": "reporter",
        "passport_number": "n1234567", "passport_expiry": (local_today() + timedelta(days=900)).isoformat(),
        "press_card_number": "PC-1", "photo": (io.BytesIO(png_bytes()), "ingrid.png"), "privacy_consent": "y"})
    assert response.status_code == 302, response.get_data(as_text=True)
    member = db.session.scalar(sa.select(CrewMember))
    assert member.passport_number == "N1234567" and member.photo_content_type == "image/png"

    # A new draft, saved with two itinerary days, coming back to it later.
    response = post_form(client, "/registrations/new", {"kind": "non_resident"})
    registration = db.session.scalar(sa.select(Registration))
    assert response.location == f"/registrations/{registration.id}/edit"
    assert re.fullmatch(r"PD-\d{4}-00001", registration.reference)
    start = local_today() + timedelta(days=30)
    data = registration_form(registration.id, registration.version, [str(member.id)], border_gate.id, start,
                             save="Save draft")
    response = post_form(client, f"/registrations/{registration.id}/edit", data)
    assert response.status_code == 302
    registration = db.session.get(Registration, registration.id)
    assert [item.place_text or item.place.name_vi for item in registration.itinerary] == [
        "Cửa khẩu quốc tế Mộc Bài", "Chợ Long Hoa"]
    page = client.get(f"/registrations/{registration.id}/edit").get_data(as_text=True)
    assert "Chợ Long Hoa" in page and "A documentary on border trade" in page

    # Submitting without the required attachments is refused, next to the field; the draft is kept.
    response = post_form(client, f"/registrations/{registration.id}/edit",
                         registration_form(registration.id, registration.version, [str(member.id)],
                                           border_gate.id, start, send="Submit"))
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Attach: the MOFA press permit." in body and "Attach: passport page." in body
    assert db.session.get(Registration, registration.id).status is Status.draft

    for kind, name, content in (("mofa_permit", "permit.pdf", TINY_PDF), ("passport", "Hộ chiếu.png", png_bytes())):
        response = post_form(client, f"/registrations/{registration.id}/attachments",
                             {"kind": kind, "file": (io.BytesIO(content), name)},
                             page=f"/registrations/{registration.id}/edit")
        assert response.status_code == 302
    assert {a.original_filename for a in db.session.scalars(sa.select(Attachment))} == {"permit.pdf", "Hộ chiếu.png"}

    registration = db.session.get(Registration, registration.id)
    response = post_form(client, f"/registrations/{registration.id}/edit",
                         registration_form(registration.id, registration.version, [str(member.id)],
                                           border_gate.id, start, send="Submit"), follow_redirects=True)
    assert "Submitted. The province replies by" in response.get_data(as_text=True)
    registration = db.session.get(Registration, registration.id)
    assert registration.status is Status.submitted and registration.due_date > local_today()
    assert mailbox.to(correspondent.email)[-1]["Subject"] == f"We received your registration {registration.reference}"
    [to_officer] = mailbox.to(officer.email)
    assert to_officer["Subject"] == f"Hồ sơ {registration.reference} cần xem xét"

    # The officer takes it, asks for information.
    staff = app.test_client()
    login(staff, officer.email)
    page = staff.get("/staff/registrations").get_data(as_text=True)
    assert registration.reference in page and "khu vực biên giới" in page
    detail = f"/registrations/{registration.id}"
    response = post_form(staff, f"{detail}/assign", {"officer_id": officer.id, "version": registration.version},
                         page=detail)
    assert response.status_code == 302
    registration = db.session.get(Registration, registration.id)
    assert registration.status is Status.in_review and registration.assigned_officer_id == officer.id
    # The correspondent reads English: the Vietnamese text alone is refused, nothing changes.
    response = post_form(staff, f"{detail}/request-info", {"body": "Đề nghị bổ sung trang 2 hộ chiếu.",
                                                           "version": registration.version}, page=detail)
    assert response.status_code == 409
    assert db.session.get(Registration, registration.id).status is Status.in_review
    response = post_form(staff, f"{detail}/request-info", {"body": "Đề nghị bổ sung trang 2 hộ chiếu.",
                                                           "body_en": "Please add the second passport page.",
                                                           "version": registration.version}, page=detail)
    assert response.status_code == 302
    assert db.session.get(Registration, registration.id).status is Status.needs_info
    needs_info_mail = mailbox.to(correspondent.email)[-1]
    assert "Please add the second passport page." in mailbox.text(needs_info_mail)
    assert "Đề nghị bổ sung" not in mailbox.text(needs_info_mail)

    # The correspondent answers and submits again.
    response = post_form(client, f"{detail}/messages", {"body": "Added, see the attachments."}, page=detail)
    assert response.status_code == 302
    registration = db.session.get(Registration, registration.id)
    response = post_form(client, f"{detail}/edit", registration_form(
        registration.id, registration.version, [str(member.id)], border_gate.id, start, send="Submit"))
    assert response.status_code == 302
    # Resubmitted, it goes straight back to its officer, in review, with no new assignment.
    registration = db.session.get(Registration, registration.id)
    assert registration.status is Status.in_review and registration.assigned_officer_id == officer.id
    assert mailbox.to(officer.email)[-1]["Subject"] == f"Hồ sơ {registration.reference} cần xem xét"

    # The officer drafts the decision: the summary the letter quotes, the conditions, the escort.
    escort = EscortOfficer(full_name="Trần Văn Hộ", title_vi="Chuyên viên Sở Ngoại vụ",
                           title_en="Officer, Department of Foreign Affairs", phone="+84 912 000 111")
    db.session.add(escort)
    db.session.commit()
    draft = {"proposal": "approve", "summary_vi": "Quay phim tài liệu về thương mại biên giới.",
             "summary_en": "A documentary on border trade.", "request_date": local_today().isoformat(),
             "conditions_vi": "Luôn đi cùng cán bộ hướng dẫn.", "conditions_en": "Stay with the escort.",
             "escort_officer_id": str(escort.id), "note": "Đề nghị đồng ý.", "submit": "Propose",
             "version": registration.version}
    response = post_form(staff, f"{detail}/decision", draft, page=detail)
    assert response.status_code == 302
    registration = db.session.get(Registration, registration.id)
    assert registration.proposed_decision.name == "approve" and registration.proposed_by_id == officer.id
    assert registration.conditions_en == "Stay with the escort." and registration.escort_name == "Trần Văn Hộ"

    # The border-area place blocks approval until the border guard answers.
    leader_browser = app.test_client()
    login(leader_browser, leader.email)
    page = leader_browser.get(detail).get_data(as_text=True)
    assert "Mộc Bài" in page and "bộ đội biên phòng" in page.lower()
    assert "Luôn đi cùng cán bộ hướng dẫn." in page  # the leader reads the draft she decides on
    approve = {"version": registration.version}
    response = post_form(leader_browser, f"{detail}/approve", approve, page=detail)
    assert response.status_code == 409
    assert db.session.get(Registration, registration.id).status is Status.in_review

    border_guard = ConsultedBodyEntry(kind=BodyKind.border_guard, name_vi="Đồn Biên phòng Mộc Bài",
                                      name_en="Moc Bai Border Guard Station")
    db.session.add(border_guard)
    db.session.commit()
    response = post_form(staff, f"{detail}/consultations", {"consulted_body": str(border_guard.id),
                                                            "request_note": "Visit on day 1"}, page=detail)
    assert response.status_code == 302
    consultation = db.session.scalar(sa.select(Consultation))
    response = post_form(staff, f"{detail}/consultations/{consultation.id}/answer",
                         {"opinion": "agree", "answer": "Đồng ý, có cán bộ đi cùng.", "reply_number": "12/ĐBP",
                          "reply_date": local_today().isoformat()}, page=detail)
    assert response.status_code == 302
    registration = db.session.get(Registration, registration.id)
    approve["version"] = registration.version
    response = post_form(leader_browser, f"{detail}/approve", approve, page=detail)
    assert response.status_code == 302
    registration = db.session.get(Registration, registration.id)
    assert registration.status is Status.approved and registration.decided_by_id == leader.id

    approved_mail = mailbox.to(correspondent.email)[-1]
    assert approved_mail["Subject"] == f"Registration {registration.reference} is approved"
    assert "Trần Văn Hộ" in mailbox.text(approved_mail)
    # The conditions are the officer's draft, in the correspondent's language.
    assert "Stay with the escort." in mailbox.text(approved_mail)
    assert "Luôn đi cùng" not in mailbox.text(approved_mail)
    page = client.get("/my/registrations").get_data(as_text=True)
    assert "approved" in page

    # The timeline has every step; the correspondent does not see the internal ones.
    actions = list(db.session.scalars(sa.select(AuditEvent.action).where(
        AuditEvent.object_type == "registrations").order_by(AuditEvent.id)))
    for expected in ("registration.created", "registration.edit", "registration.submit", "registration.assign",
                     "registration.request_info", "registration.resubmit", "registration.propose",
                     "registration.consultation_requested", "registration.consultation_answered",
                     "registration.approve"):
        assert expected in actions
    correspondent_view = client.get(detail).get_data(as_text=True)
    assert "Consultation requested" not in correspondent_view and "Đồn Biên phòng" not in correspondent_view
    assert "Đề nghị đồng ý." not in correspondent_view  # the officer's note to the leader is internal
    staff_view = staff.get(detail).get_data(as_text=True)
    assert "Đồn Biên phòng Mộc Bài" in staff_view


def test_validation_messages_next_to_the_fields(client, db, make_registration):
    registration, correspondent = make_registration(Status.draft)
    login(client, correspondent.email)
    crew_id = db.session.get(Registration, registration.id).crew_members[0].id
    start = local_today() + timedelta(days=20)
    data = registration_form(registration.id, registration.version, [str(crew_id)], "", start,
                             end_date=(start - timedelta(days=1)).isoformat(), save="Save draft")
    data["itinerary-0-place_text"] = "Somewhere"
    response = post_form(client, f"/registrations/{registration.id}/edit", data)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert re.search(r'id="end_date-error"[^>]*>The end date cannot be before the start date', body)
    assert db.session.get(Registration, registration.id).end_date != start - timedelta(days=1)


def test_itinerary_dates_outside_the_programme_are_refused(client, db, make_registration):
    registration, correspondent = make_registration(Status.draft)
    login(client, correspondent.email)
    crew_id = db.session.get(Registration, registration.id).crew_members[0].id
    start = local_today() + timedelta(days=20)
    data = registration_form(registration.id, registration.version, [str(crew_id)], "", start, save="Save draft")
    data["itinerary-0-place_text"] = "Somewhere"
    data["itinerary-1-day"] = (start + timedelta(days=10)).isoformat()
    response = post_form(client, f"/registrations/{registration.id}/edit", data)
    assert response.status_code == 422
    assert "This date is outside the programme dates." in response.get_data(as_text=True)


def test_passport_must_be_valid_six_months_after_the_end(app, client, db, make_registration):
    registration, correspondent = make_registration(Status.draft)
    stored = db.session.get(Registration, registration.id)
    member = stored.crew_members[0]
    member.passport_expiry = stored.end_date + timedelta(days=100)
    db.session.commit()
    login(client, correspondent.email)
    data = registration_form(registration.id, stored.version, [str(member.id)], stored.itinerary[0].place_id,
                             stored.start_date, send="Submit")
    data["end_date"] = stored.end_date.isoformat()
    data["itinerary-1-day"] = stored.start_date.isoformat()
    response = post_form(client, f"/registrations/{registration.id}/edit", data)
    assert response.status_code == 422
    assert f"The passport of {member.full_name} expires on" in response.get_data(as_text=True)


def test_itinerary_buttons_add_remove_and_reorder(client, db, make_registration):
    registration, correspondent = make_registration(Status.draft)
    login(client, correspondent.email)
    stored = db.session.get(Registration, registration.id)
    start = stored.start_date
    data = registration_form(registration.id, stored.version, [str(stored.crew_members[0].id)],
                             stored.itinerary[0].place_id, start, add_item="Add")
    response = post_form(client, f"/registrations/{registration.id}/edit", data)
    assert response.location.endswith("#itinerary")
    stored = db.session.get(Registration, registration.id)
    assert len(stored.itinerary) == 3 and stored.itinerary[2].day == start + timedelta(days=2)
    # Move "Chợ Long Hoa" (the second day) up, then remove the new third one.
    data = registration_form(registration.id, stored.version, [str(stored.crew_members[0].id)],
                             stored.itinerary[0].place_id, start)
    data.update({"itinerary-2-day": "", "itinerary-2-place_id": "", "itinerary-2-place_text": "",
                 "itinerary-2-activity": "", "itinerary-1-move_up": "Move up"})
    post_form(client, f"/registrations/{registration.id}/edit", data)
    stored = db.session.get(Registration, registration.id)
    assert stored.itinerary[0].place_text == "Chợ Long Hoa"
    data = registration_form(registration.id, stored.version, [str(stored.crew_members[0].id)],
                             stored.itinerary[1].place_id, start)
    data.update({"itinerary-0-place_text": "Chợ Long Hoa", "itinerary-0-place_id": "",
                 "itinerary-1-place_text": "", "itinerary-1-place_id": str(stored.itinerary[1].place_id),
                 "itinerary-2-day": "", "itinerary-2-place_id": "", "itinerary-2-activity": "",
                 "itinerary-2-remove": "Remove"})
    post_form(client, f"/registrations/{registration.id}/edit", data)
    assert len(db.session.get(Registration, registration.id).itinerary) == 2


def test_saving_keeps_each_days_row_and_reads_a_changed_place_anew(app, client, db, make_registration, make_place):
    """Every button saves the whole form: a day saved unchanged stays the same row (no DELETE and
    INSERT each time), a day beyond the form's goes, and a changed place is the new one at once."""
    from app.registrations import service

    registration, correspondent = make_registration(Status.draft)
    login(client, correspondent.email)
    stored = db.session.get(Registration, registration.id)
    start, crew = stored.start_date, [str(stored.crew_members[0].id)]
    post_form(client, f"/registrations/{registration.id}/edit",
              registration_form(registration.id, stored.version, crew, stored.itinerary[0].place_id, start))
    db.session.expire_all()
    stored = db.session.get(Registration, registration.id)
    ids = [item.id for item in stored.itinerary]
    assert len(ids) == 2
    post_form(client, f"/registrations/{registration.id}/edit",
              registration_form(registration.id, stored.version, crew, stored.itinerary[0].place_id, start))
    db.session.expire_all()
    stored = db.session.get(Registration, registration.id)
    assert [item.id for item in stored.itinerary] == ids
    assert stored.itinerary[1].place_text == "Chợ Long Hoa"

    db.session.rollback()
    other = make_place(name="Xã Biên Giới", border=True)
    entries = [service.ItineraryEntry(day=start, place_id=other.id, place_text=None, activity="Film")]
    with app.test_request_context():
        stored = app_db.session.get(Registration, registration.id)
        first = stored.itinerary[0]
        assert first.place is not None and first.place.id != other.id  # loaded for the old place
        service.save_draft(app_db.session.get(User, correspondent.id), stored,
                           service.DraftData(kind=stored.kind, crew_member_ids=[int(crew[0])], itinerary=entries),
                           stored.version)
        assert [item.id for item in stored.itinerary] == ids[:1]
        assert first.place.id == other.id and stored.border_places == [first.place]
        app_db.session.rollback()


def test_lead_time_is_a_warning_not_a_refusal(client, db, make_registration):
    registration, correspondent = make_registration(Status.draft, start_in_days=2)
    login(client, correspondent.email)
    page = client.get(f"/registrations/{registration.id}/edit").get_data(as_text=True)
    assert "The programme starts in less than 5 working days" in page
    stored = db.session.get(Registration, registration.id)
    data = registration_form(registration.id, stored.version, [str(stored.crew_members[0].id)],
                             stored.itinerary[0].place_id, stored.start_date, send="Submit")
    data["itinerary-1-day"] = stored.start_date.isoformat()
    # It needs an explicit acknowledgement of the risk, named in the summary at the top.
    response = post_form(client, f"/registrations/{registration.id}/edit", data)
    assert response.status_code == 422
    assert 'href="#short_notice_accepted"' in response.get_data(as_text=True)
    stored = db.session.get(Registration, registration.id)
    assert stored.status is Status.draft and stored.short_notice_acknowledged_at is None
    data.update(version=str(stored.version), short_notice_accepted="y")
    response = post_form(client, f"/registrations/{registration.id}/edit", data)
    assert response.status_code == 302
    stored = db.session.get(Registration, registration.id)
    assert stored.status is Status.submitted and stored.short_notice_acknowledged_at is not None


def test_a_stale_form_gets_a_conflict_and_changes_nothing(app, client, db, make_registration, make_user):
    registration, _ = make_registration(Status.in_review)
    officer, leader = make_user(Role.officer), make_user(Role.leader, locale="en")
    with app.test_request_context():
        from app.extensions import db as app_db

        propose(app_db.session.get(Registration, registration.id), app_db.session.get(User, officer.id),
                Proposal.refuse)
        app_db.session.commit()
    first, second = app.test_client(), app.test_client()
    login(first, officer.email)
    login(second, leader.email)
    detail = f"/registrations/{registration.id}"
    seen = db.session.get(Registration, registration.id).version
    response = post_form(first, f"{detail}/request-info", {"body": "Thêm, xin vui lòng.", "body_en": "More, please.",
                                                           "version": seen}, page=detail)
    assert response.status_code == 302
    response = post_form(second, f"{detail}/refuse", {"version": seen}, page=detail)
    assert response.status_code == 409
    assert "changed by someone else" in response.get_data(as_text=True)
    stored = db.session.get(Registration, registration.id)
    assert stored.status is Status.needs_info and stored.decided_at is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IssuedDocument)) == 0


def test_a_failure_in_the_middle_of_a_transition_leaves_everything_as_it_was(app, client, db, monkeypatch,
                                                                             make_registration, make_user):
    """The approval is written, then mail queueing breaks: the request fails and nothing stays half-done."""
    import app.registrations.service as registration_service
    from app.outbox.models import OutboxMessage

    registration, _ = make_registration(Status.in_review)
    leader, officer = make_user(Role.leader, locale="en"), make_user(Role.officer)
    with app.test_request_context():
        from app.extensions import db as app_db

        propose(app_db.session.get(Registration, registration.id), app_db.session.get(User, officer.id))
        app_db.session.commit()
    registration = db.session.get(Registration, registration.id)
    login(client, leader.email)
    events_before = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    mail_before = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))  # the proposal's

    def broken_mail(*args, **kwargs):
        raise RuntimeError("the template store is gone")

    monkeypatch.setattr(registration_service, "queue_email", broken_mail)
    app.testing = False  # answer with the 500 page, as in production
    app.config["PROPAGATE_EXCEPTIONS"] = False
    detail = f"/registrations/{registration.id}"
    response = post_form(client, f"{detail}/approve", {"version": registration.version}, page=detail)
    assert response.status_code == 500
    assert "nothing was saved" in response.get_data(as_text=True)
    stored = db.session.get(Registration, registration.id)
    assert (stored.status, stored.version, stored.decided_at) == (Status.in_review, registration.version, None)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == events_before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == mail_before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IssuedDocument)) == 0
