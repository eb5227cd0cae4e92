"""The privacy notice and consent: the public page in both languages, its links, consent at
sign-up and for a crew member's data (with the notice's version), and the consent gate that asks
again after a new version."""
from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.auth.models import Role, User
from app.authority import DEMO_PROFILE
from app.clock import local_today
from app.outlets.models import CrewMember, CrewRole
from app.privacy.models import ConsentContext, PrivacyConsent
from tests.support import csrf_token, login, page_assets, post_form

DEMO_VERSION = json.loads(DEMO_PROFILE.read_text(encoding="utf-8"))["privacy_notice_version"]
NEW_PASSWORD = "mekong delta at dawn"


def consents(db, **where) -> list[PrivacyConsent]:
    query = sa.select(PrivacyConsent).order_by(PrivacyConsent.id)
    for name, value in where.items():
        query = query.where(getattr(PrivacyConsent, name) == value)
    return list(db.session.scalars(query))


def profile_file(tmp_path, **changes) -> str:
    data = json.loads(DEMO_PROFILE.read_text(encoding="utf-8"))
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


def signup_data(email="reporter@example.com", consent=True) -> dict:
    data = {"full_name": "Jane Reporter", "email": email, "password": NEW_PASSWORD,
            "password_again": NEW_PASSWORD, "locale": "en"}
    if consent:
        data["privacy_consent"] = "y"
    return data


def set_accepted_version(db, user, version):
    db.session.get(User, user.id).privacy_notice_version = version
    db.session.commit()


# --- the page ------------------------------------------------------------------------------

def test_the_notice_is_public_complete_and_in_both_languages(client):
    response = client.get("/privacy")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert DEMO_VERSION in page and "DEMO TEXT" in page
    for heading in ("Who is responsible for your data", "What we collect and why", "Legal basis and your consent",
                    "Who sees it", "How long we keep it", "Your rights and how to use them", "How we protect it"):
        assert heading in page
    # What the page adds from the authority profile: the controller's contact, the retention table.
    assert "press-demo@example.org" in page and "DEMO Tay Ninh Department of Foreign Affairs" in page
    assert "Passport numbers and dates of birth" in page and "365 days" in page and "10 years" in page
    assert "Law 91/2025/QH15" in page and "13/2023/ND-CP" in page
    assert "Border Guard Command" in page and "Ministry of Foreign Affairs" in page
    # The list lines of a section are a list.
    assert "<li>Your account: your name" in page

    page = client.get("/privacy?lang=vi").get_data(as_text=True)
    assert 'lang="vi"' in page
    assert "Bên kiểm soát dữ liệu cá nhân" in page and "Quyền của bạn và cách thực hiện" in page
    assert "Luật số 91/2025/QH15" in page and "VĂN BẢN DEMO" in page


def test_the_retention_table_follows_the_profile(db, make_app, tmp_path):
    app = make_app(AUTHORITY_PROFILE_FILE=profile_file(tmp_path, retention={"identity_numbers_days": 30}))
    page = app.test_client().get("/privacy").get_data(as_text=True)
    assert "30 days" in page and "365 days" not in page and "90 days" in page


def test_a_profile_without_a_notice_gets_the_default_text_with_its_own_names(db, make_app, tmp_path):
    path = profile_file(tmp_path, privacy_notice_version=None, privacy_notice_vi=None, privacy_notice_en=None)
    app = make_app(AUTHORITY_PROFILE_FILE=path)
    page = app.test_client().get("/privacy").get_data(as_text=True)
    assert "default-1" in page and "DEMO TEXT" not in page and "{issuing_body}" not in page
    assert "People&#39;s Committee of DEMO Tay Ninh Province is the controller" in page
    vietnamese = app.test_client().get("/privacy?lang=vi").get_data(as_text=True)
    assert "Ủy ban nhân dân tỉnh DEMO Tây Ninh là bên kiểm soát" in vietnamese


def test_every_footer_sign_up_and_crew_form_links_the_notice(client, db, make_user, make_outlet):
    for path in ("/", "/login", "/signup", "/guide", "/v/not-a-token"):
        assert 'href="/privacy' in client.get(path).get_data(as_text=True), path
    assert 'href="/privacy?lang=vi"' in client.get("/v/not-a-token?lang=vi").get_data(as_text=True)
    correspondent = make_user(Role.correspondent)
    make_outlet(correspondents=[correspondent])
    login(client, correspondent.email)
    form = client.get("/outlet/crew/new").get_data(as_text=True)
    assert form.count('href="/privacy"') >= 2  # the footer and the form
    assert "http://localhost/privacy" in form  # the address to give the person


# --- consent at sign-up ------------------------------------------------------------------

def test_sign_up_needs_the_consent_and_records_it_with_the_version(client, db, mailbox):
    response = post_form(client, "/signup", signup_data(consent=False))
    assert response.status_code == 200
    assert "Accept the privacy notice to create an account." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0
    assert consents(db) == [] and mailbox.messages == []

    response = post_form(client, "/signup", signup_data())
    assert "Check your email" in response.get_data(as_text=True)
    user = db.session.scalar(sa.select(User))
    [consent] = consents(db)
    assert (consent.user_id, consent.context, consent.notice_version) == (user.id, ConsentContext.signup, DEMO_VERSION)
    assert consent.crew_member_id is None and consent.given_at is not None
    assert user.privacy_notice_version == DEMO_VERSION and user.privacy_consented_at == consent.given_at
    assert "privacy.consent_given" in db.session.scalars(sa.select(AuditEvent.action)).all()


def test_sign_up_with_an_existing_address_records_no_consent(client, db, make_user, mailbox):
    owner = make_user(email="taken@example.com")
    response = post_form(client, "/signup", signup_data(email="taken@example.com"))
    assert "Check your email" in response.get_data(as_text=True)
    assert consents(db) == []
    assert len(mailbox.to(owner.email)) == 1


def test_the_service_refuses_a_sign_up_without_consent(app, db):
    from app.auth import service

    with app.test_request_context():
        with pytest.raises(service.AccountError):
            service.register_correspondent(email="x@example.org", full_name="X", password=NEW_PASSWORD,
                                           locale="en", privacy_consent=False)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


# --- the consent gate ----------------------------------------------------------------------

def test_a_new_version_asks_again_at_the_next_login(make_app, make_user, db, tmp_path):
    correspondent = make_user(Role.correspondent)  # accepted the demo version
    assert db.session.get(User, correspondent.id).privacy_notice_version == DEMO_VERSION
    officer = make_user(Role.officer)
    # The province publishes a new version (a new profile, read at start-up).
    app = make_app(AUTHORITY_PROFILE_FILE=profile_file(tmp_path, privacy_notice_version="2027-1"))
    client = app.test_client()
    login(client, correspondent.email)
    response = client.get("/my/registrations?page=1")
    assert response.status_code == 302
    assert response.location == "/privacy/consent?next=/my/registrations?page%3D1"
    assert client.get("/outlet/crew").status_code == 302  # every page, not only the first
    page = client.get(response.location).get_data(as_text=True)
    assert "new version of its privacy notice (version 2027-1)" in page
    assert "What we collect and why" in page and 'href="/privacy"' in page
    # The notice itself, and the language, stay reachable.
    assert client.get("/privacy").status_code == 200
    assert post_form(client, "/language", {"locale": "vi", "next": "/privacy"}, page="/privacy").status_code == 302

    # Not ticked: refused, nothing recorded.
    response = post_form(client, "/privacy/consent?next=/my/registrations", {"next": "/my/registrations"},
                         page="/privacy/consent")
    assert response.status_code == 200 and consents(db, context=ConsentContext.renewal) == []
    response = post_form(client, "/privacy/consent", {"accept": "y", "next": "/my/registrations?page=1"})
    assert response.status_code == 302 and response.location == "/my/registrations?page=1"
    [renewal] = consents(db, context=ConsentContext.renewal)
    assert (renewal.user_id, renewal.notice_version) == (correspondent.id, "2027-1")
    assert db.session.get(User, correspondent.id).privacy_notice_version == "2027-1"
    assert client.get("/my/registrations").status_code == 200
    # Accepted: the consent page sends them on.
    assert client.get("/privacy/consent").status_code == 302

    # Staff process the data as their task: the gate does not stop them.
    staff = app.test_client()
    login(staff, officer.email)
    assert staff.get("/staff/registrations").status_code == 200


def test_an_account_that_never_accepted_is_asked_and_may_log_out(client, db, make_user):
    correspondent = make_user(Role.correspondent)
    set_accepted_version(db, correspondent, None)
    response = login(client, correspondent.email)
    assert response.status_code == 302
    landing = client.get(response.location)
    assert landing.status_code == 302 and landing.location.startswith("/privacy/consent")
    page = client.get(landing.location).get_data(as_text=True)
    assert "Before you go on, read how the province processes your personal data" in page
    assets = page_assets(page)
    assert any("bootstrap" in path for path in assets)
    assert [(path, client.get(path).status_code) for path in assets] == [(path, 200) for path in assets]
    # A POST elsewhere is stopped too, and nothing is saved.
    response = post_form(client, "/outlet", {"name": "NRK", "country": "NO", "media_type": "television"},
                         page="/privacy/consent")
    assert response.status_code == 302 and response.location == "/privacy/consent"
    assert db.session.get(User, correspondent.id).outlet_id is None
    # Logging out works without accepting.
    assert post_form(client, "/logout", page="/privacy/consent").status_code == 302
    assert client.get("/my/registrations").location.startswith("/login")


def test_the_consent_page_refuses_an_outside_next(client, db, make_user):
    correspondent = make_user(Role.correspondent)
    set_accepted_version(db, correspondent, "old")
    login(client, correspondent.email)
    response = post_form(client, "/privacy/consent", {"accept": "y", "next": "//evil.example/x"})
    assert response.status_code == 302 and response.location == "/"


# --- consent for a crew member's data ------------------------------------------------------

def crew_data(**overrides) -> dict:
    data = {"full_name": "Ingrid Larsen", "nationality": "NO", "date_of_birth": "1985-04-12", "role": "reporter",
            "passport_number": "n1234567", "passport_expiry": (local_today() + timedelta(days=900)).isoformat(),
            "press_card_number": "PC-1", "privacy_consent": "y"}
    data.update(overrides)
    return {name: value for name, value in data.items() if value is not None}


def test_adding_a_crew_member_needs_and_records_their_consent(client, db, make_user, make_outlet):
    correspondent = make_user(Role.correspondent)
    make_outlet(correspondents=[correspondent])
    login(client, correspondent.email)
    response = post_form(client, "/outlet/crew/new", crew_data(privacy_consent=None))
    assert response.status_code == 200
    assert "Give this person the privacy notice and tick the box" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CrewMember)) == 0

    response = post_form(client, "/outlet/crew/new", crew_data())
    assert response.status_code == 302
    member = db.session.scalar(sa.select(CrewMember))
    [consent] = consents(db)
    assert (consent.user_id, consent.crew_member_id, consent.context, consent.notice_version) == (
        correspondent.id, member.id, ConsentContext.crew_member, DEMO_VERSION)
    # The correspondent's own acceptance is not touched by a crew member's.
    assert db.session.get(User, correspondent.id).privacy_notice_version == DEMO_VERSION


def test_changing_a_crew_member_s_passport_data_asks_for_consent_again(client, db, make_user, make_outlet,
                                                                      make_crew_member):
    correspondent = make_user(Role.correspondent)
    outlet = make_outlet(correspondents=[correspondent])
    member = make_crew_member(outlet)
    saved = db.session.get(CrewMember, member.id)
    same = crew_data(full_name=saved.full_name, nationality=saved.nationality,
                     date_of_birth=saved.date_of_birth.isoformat(), passport_number=saved.passport_number,
                     passport_expiry=saved.passport_expiry.isoformat(), press_card_number=saved.press_card_number,
                     privacy_consent=None)
    login(client, correspondent.email)
    url = f"/outlet/crew/{member.id}"

    # The role alone: no new consent needed, none recorded.
    response = post_form(client, url, {**same, "role": "camera_operator"})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert db.session.get(CrewMember, member.id).role is CrewRole.camera_operator
    assert consents(db) == []

    # A new passport: refused without the box, nothing changed.
    response = post_form(client, url, {**same, "passport_number": "X7654321"})
    assert response.status_code == 200 and "tick the box" in response.get_data(as_text=True)
    assert db.session.get(CrewMember, member.id).passport_number == saved.passport_number
    response = post_form(client, url, {**same, "passport_number": "X7654321", "privacy_consent": "y"})
    assert response.status_code == 302
    assert db.session.get(CrewMember, member.id).passport_number == "X7654321"
    [consent] = consents(db)
    assert consent.crew_member_id == member.id and consent.context is ConsentContext.crew_member


def test_a_new_photo_is_personal_data_too(client, db, make_user, make_outlet, make_crew_member):
    from tests.conftest import _portrait_png

    correspondent = make_user(Role.correspondent)
    outlet = make_outlet(correspondents=[correspondent])
    member = make_crew_member(outlet)
    saved = db.session.get(CrewMember, member.id)
    same = crew_data(full_name=saved.full_name, date_of_birth=saved.date_of_birth.isoformat(),
                     passport_number=saved.passport_number, passport_expiry=saved.passport_expiry.isoformat(),
                     press_card_number=saved.press_card_number, privacy_consent=None)
    login(client, correspondent.email)
    response = client.post(f"/outlet/crew/{member.id}", data={
        **same, "csrf_token": csrf_token(client, f"/outlet/crew/{member.id}"),
        "photo": (io.BytesIO(_portrait_png()), "new.png")})
    assert response.status_code == 200 and "tick the box" in response.get_data(as_text=True)
    assert db.session.get(CrewMember, member.id).photo_stored_name == saved.photo_stored_name


# --- demo data -------------------------------------------------------------------------------

def test_demo_accounts_have_accepted_the_current_notice(app, runner, db, mailbox):
    result = runner.invoke(args=["demo", "load", "--force"])
    assert result.exit_code == 0, result.output
    users = db.session.scalars(sa.select(User)).all()
    assert users and all(user.privacy_notice_version == DEMO_VERSION for user in users)
    correspondent_ids = {user.id for user in users if user.role is Role.correspondent}
    signed = {consent.user_id for consent in consents(db, context=ConsentContext.signup)}
    assert correspondent_ids <= signed
    assert consents(db, context=ConsentContext.crew_member)
