"""Whatever is typed into the forms, the answer is a page with a message, never a 500."""
from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.registrations.models import Registration, Status
from tests.support import csrf_token, login

VIETNAMESE = "ạảãàáâậầấẩẫăắằặẳẵđêềếệểễôồốộổỗơờớợởỡưừứựửữỳýỵỷỹĐƯƠÂĂÊÔ"
text = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=VIETNAMESE + " \n", max_size=300),
    st.text(min_size=1, max_size=20).map(lambda piece: piece * (10_001 // len(piece) + 1)),  # over the limits
    st.sampled_from(["\x00", "' OR 1=1 --", "<script>alert(1)</script>", "%(name)s", "{{ 7*7 }}", "../../etc"]),
)
dates = st.one_of(st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat),
                  st.text(max_size=20), st.just(""))
numbers = st.one_of(st.integers(min_value=-(2**70), max_value=2**70).map(str), text)
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                          HealthCheck.too_slow])


@SETTINGS
@given(purpose=text, content=text, start=dates, end=dates, day=dates, place=numbers, crew=numbers, kind=text,
       version=numbers, place_text=text, extra_index=st.integers(min_value=0, max_value=10**9), send=st.booleans())
def test_registration_form_never_fails(app, db, make_registration, purpose, content, start, end, day, place, crew,
                                       kind, version, place_text, extra_index, send):
    registration, correspondent = _world(app, make_registration)
    client = app.test_client()
    login(client, correspondent.email)
    token = csrf_token(client, f"/registrations/{registration.id}/edit")
    current = db.session.get(Registration, registration.id)
    data = {"csrf_token": token, "kind": kind, "purpose": purpose, "content": content, "start_date": start,
            "end_date": end, "crew_member_ids": crew, "version": str(current.version) if version == "0" else version,
            "itinerary-0-day": day, "itinerary-0-place_id": place, "itinerary-0-place_text": place_text,
            f"itinerary-{extra_index}-activity": content, "pledge": "y"}
    data["send" if send else "save"] = "x"
    response = client.post(f"/registrations/{registration.id}/edit", data=data)
    assert response.status_code in (200, 302, 400, 403, 409, 422), response.status_code
    assert db.session.get(Registration, registration.id).status in (Status.draft, Status.submitted)


_WORLD = {}


def _world(app, make_registration):
    """One draft per app (hypothesis runs many examples against the same test database)."""
    key = id(app)
    if key not in _WORLD:
        _WORLD.clear()
        _WORLD[key] = make_registration(Status.draft)
    return _WORLD[key]


@SETTINGS
@given(name=text, country=text, media=text, website=text, address=text, accreditation=text, resident=st.booleans())
def test_outlet_form_never_fails(app, make_user, name, country, media, website, address, accreditation, resident):
    from app.auth.models import Role

    client = app.test_client()
    user = _user(app, make_user, Role.correspondent)
    login(client, user.email)
    data = {"csrf_token": csrf_token(client, "/outlet"), "name": name, "country": country, "media_type": media,
            "website": website, "office_address": address, "mofa_accreditation_number": accreditation}
    if resident:
        data["is_resident_office"] = "y"
    response = client.post("/outlet", data=data)
    assert response.status_code in (200, 302), response.status_code


@SETTINGS
@given(name=text, nationality=text, birth=dates, role=text, passport=text, expiry=dates, card=text)
def test_crew_form_never_fails(app, make_user, make_outlet, name, nationality, birth, role, passport, expiry, card):
    from app.auth.models import Role

    user = _user(app, make_user, Role.correspondent, make_outlet)
    client = app.test_client()
    login(client, user.email)
    response = client.post("/outlet/crew/new", data={
        "csrf_token": csrf_token(client, "/outlet/crew/new"), "full_name": name, "nationality": nationality,
        "date_of_birth": birth, "role": role, "passport_number": passport, "passport_expiry": expiry,
        "press_card_number": card, "privacy_consent": "y"})
    assert response.status_code in (200, 302, 400), response.status_code


_USERS = {}


def _user(app, make_user, role, make_outlet=None):
    key = (id(app), role, make_outlet is not None)
    if key not in _USERS:
        user = make_user(role)
        if make_outlet is not None:
            make_outlet(correspondents=[user])
        _USERS[key] = user
    return _USERS[key]


def test_queue_filters_never_fail(app, make_user, make_registration):
    from app.auth.models import Role

    make_registration(Status.submitted)
    client = app.test_client()
    login(client, make_user(Role.officer).email)
    for query in ("q=%00", "q=" + "đ" * 500, "status=nonsense", "date_from=2027-02-30", "date_to=99999-01-01",
                  "page=-1", "page=999999999999999999999", "sort=;drop", "nationality=ZZ", "due=overdue&mine=y",
                  "kind=<script>", "q=%25_%25"):
        response = client.get("/staff/registrations?" + query)
        assert response.status_code in (200, 404), (query, response.status_code)
