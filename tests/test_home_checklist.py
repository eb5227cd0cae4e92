"""The new correspondent's home page: a checklist of first steps, then a short summary."""
from __future__ import annotations

import re

import sqlalchemy as sa

from app.auth.models import Role
from app.db import utcnow
from app.outlets.models import CrewMember
from app.registrations.models import Registration, Status
from tests.support import login


def steps(html: str) -> dict[str, str]:
    """Each step's <li>, by its key."""
    return dict(re.findall(r'<li[^>]*data-step="(\w+)"[^>]*>(.*?)</li>', html, re.S))


def step_tags(html: str) -> dict[str, str]:
    """Each step's opening <li ...> tag, by its key."""
    return {key: tag for tag, key in re.findall(r'(<li[^>]*data-step="(\w+)"[^>]*>)', html)}


def home(client) -> str:
    response = client.get("/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_new_correspondent_sees_three_steps_and_the_first_is_next(client, make_user):
    login(client, make_user(Role.correspondent).email)
    page = home(client)
    found = steps(page)
    assert list(found) == ["outlet", "crew", "registration"]
    assert "0 of 3 done." in page
    assert 'href="/outlet"' in found["outlet"] and 'href="/outlet/crew"' in found["crew"]
    assert 'href="/registrations/new"' in found["registration"]
    tags = step_tags(page)
    assert 'aria-current="step"' in tags["outlet"] and 'aria-current="step"' not in tags["crew"]
    assert "Next step" in found["outlet"] and "Next step" not in found["crew"]
    for key in found:
        assert "To do:" in found[key] and "✓" not in found[key]


def test_steps_tick_as_they_are_done(app, client, db, make_user, make_outlet, make_crew_member):
    user = make_user(Role.correspondent)
    outlet = make_outlet(correspondents=[user])
    login(client, user.email)
    found = steps(home(client))
    assert "✓" in found["outlet"] and "Done:" in found["outlet"]
    assert "Next step" in found["crew"] and "✓" not in found["crew"]

    # A crew member without a photo: the crew step is not done, and says why.
    member = make_crew_member(outlet)
    with app.app_context():  # the factory may have given a photo: its file goes after the commit
        stored = db.session.get(CrewMember, member.id)
        stored.photo_stored_name = None
        db.session.commit()
    page = home(client)
    assert "1 crew member still needs a photo for the permit." in steps(page)["crew"]
    assert "✓" not in steps(page)["crew"]

    stored = db.session.get(CrewMember, member.id)
    stored.photo_stored_name, stored.photo_content_type = "2026/10/" + "a" * 32 + ".jpg", "image/jpeg"
    db.session.commit()
    page = home(client)
    found = steps(page)
    assert "✓" in found["crew"] and "Next step" in found["registration"] and "2 of 3 done." in page


def test_a_draft_is_not_a_registered_programme(client, db, make_registration):
    registration, correspondent = make_registration(Status.draft)
    _give_photos(db, correspondent)
    login(client, correspondent.email)
    found = steps(home(client))
    assert "✓" not in found["registration"] and "Next step" in found["registration"]
    assert f'href="/registrations/{registration.id}/edit"' in found["registration"]
    assert "Continue your draft" in found["registration"]


def test_once_all_is_done_the_home_page_shows_a_summary(client, db, make_registration):
    registration, correspondent = make_registration(Status.needs_info)
    _give_photos(db, correspondent)
    stored = db.session.get(Registration, registration.id)
    stored.first_submitted_at = stored.first_submitted_at or utcnow()
    db.session.commit()
    login(client, correspondent.email)
    page = home(client)
    assert steps(page) == {}
    assert "All done" in page and 'href="/my/registrations"' in page
    assert "1 registration waits for your answer." in page


def test_staff_and_anonymous_home_pages_have_no_checklist(client, make_user):
    assert "Your first steps" not in home(client) and "Foreign correspondents" in home(client)
    login(client, make_user(Role.officer, locale="en").email)
    page = home(client)
    assert "Your first steps" not in page and "All done" not in page


def _give_photos(db, correspondent) -> None:
    for member in db.session.scalars(sa.select(CrewMember).where(CrewMember.outlet_id == correspondent.outlet_id)):
        if not member.photo_stored_name:
            member.photo_stored_name, member.photo_content_type = "2026/10/" + "b" * 32 + ".jpg", "image/jpeg"
    db.session.commit()

