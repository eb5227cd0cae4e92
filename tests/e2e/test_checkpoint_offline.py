"""The checkpoint app in Chromium (issue 14): a phone opens /check online and is enrolled with a code;
then, offline (`context.set_offline`), its service worker answers /v/<token> and the page checks the
token with WebCrypto against the signed data it synced: a valid permit with the holder's photo kept
on the phone, a forged token refused, a permit revoked before the last sync shown revoked, and with
the phone's clock past the data limit, "revocation status unknown". Back online, its offline
checks reach the server once. The app page and the offline verdict pass axe-core at 390 px in
both languages.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from app.auth.models import Role, User
from app.checkpoint import service as checkpoint
from app.documents.models import DocumentKind, IssuedDocument, VerificationCheck
from app.extensions import db
from app.registrations import service as registrations
from app.registrations.models import Registration, Status
from app.verification.service import key_ring
from tests.support import decide, escort_officer

PHONE = {"width": 390, "height": 900}
CHECKPOINT = "Cửa khẩu Mộc Bài"
FAILING_IMPACTS = {"serious", "critical"}
axe = Axe()


@pytest.fixture
def permits(app, make_registration, make_crew_member, make_user):
    """Two visits under way, approved (a permit each, with a photo): one stays valid, one is revoked later.
    Returns (officer id, leader id, {name: (document id, registration id, token)})."""
    officer, leader = make_user(Role.officer), make_user(Role.leader)
    issued = {}
    for name in ("valid", "revoked"):
        registration, _ = make_registration(Status.in_review, start_in_days=-1, days=3)
        with app.test_request_context():
            escort = escort_officer(phone="+84 912 000 111")
            decide(db.session.get(Registration, registration.id), db.session.get(User, officer.id),
                   db.session.get(User, leader.id), escort_officer_id=escort.id)
            db.session.commit()
            document = db.session.scalar(sa.select(IssuedDocument).where(
                IssuedDocument.registration_id == registration.id, IssuedDocument.kind == DocumentKind.permit))
            token = key_ring().sign(document.id, document.valid_from, document.valid_until)
            issued[name] = (document.id, registration.id, token, document.holder.full_name)
            db.session.remove()
    return officer.id, leader.id, issued


def enrolment_code(app, officer_id: int) -> str:
    with app.test_request_context():
        _, code = checkpoint.create_enrolment(db.session.get(User, officer_id), CHECKPOINT)
        db.session.commit()
        db.session.remove()
    return code


def revoke(app, leader_id: int, registration_id: int) -> None:
    with app.test_request_context():
        registrations.revoke(db.session.get(User, leader_id), db.session.get(Registration, registration_id),
                             reason="Filming outside the programme.", expected_version=None)
        db.session.commit()
        db.session.remove()


def stored_checks(app) -> list[VerificationCheck]:
    with app.app_context():
        checks = list(db.session.scalars(sa.select(VerificationCheck).order_by(VerificationCheck.id)))
        db.session.expunge_all()
        db.session.remove()
    return checks


def forged(token: str) -> str:
    """The token with one character of its signature changed (still canonical base64url)."""
    position = 60
    replacement = "A" if token[position] != "A" else "B"
    return token[:position] + replacement + token[position + 1:]


def assert_axe_passes(page, where: str) -> None:
    violations = [violation for violation in axe.run(page).response["violations"]
                  if violation["impact"] in FAILING_IMPACTS]
    assert not violations, f"{where}: " + "; ".join(
        f"{violation['id']} ({violation['impact']}): {[node['target'] for node in violation['nodes']]}"
        for violation in violations)


def wait_for_stored_checks(app, page, count: int) -> list[VerificationCheck]:
    for _ in range(50):
        offline = [check for check in stored_checks(app) if check.offline]
        if len(offline) >= count:
            return offline
        page.wait_for_timeout(100)
    return [check for check in stored_checks(app) if check.offline]


def test_an_enrolled_phone_checks_permits_offline_and_sends_its_checks_once(app, live_server, new_page, permits):
    officer_id, leader_id, issued = permits
    valid_id, _, valid_token, valid_holder = issued["valid"]
    revoked_id, revoked_registration, revoked_token, revoked_holder = issued["revoked"]
    base = live_server.url
    page = new_page()
    page.set_viewport_size(PHONE)
    context = page.context

    # Enrolment: the staff page's QR code leads to /check/enrol#<code>.
    page.goto(f"{base}/check/enrol?lang=en#{enrolment_code(app, officer_id)}")
    expect(page.locator("#enrol-message")).to_have_text(f"This phone is now a checkpoint device for {CHECKPOINT}.")
    assert "#" not in page.url  # the code left the address
    assert page.evaluate("navigator.serviceWorker.ready.then(registration => registration.scope)") == base + "/"

    # The province revokes the second permit; the phone syncs (the app syncs when opened).
    revoke(app, leader_id, revoked_registration)
    page.goto(f"{base}/check?lang=en")
    expect(page.locator("#sync-message")).to_contain_text("Synced at")
    expect(page.locator("#status-device")).to_contain_text(f"Checkpoint device for {CHECKPOINT}", use_inner_text=True)
    expect(page.locator("#status-permits")).to_have_text("1")
    assert_axe_passes(page, "/check [en]")
    page.get_by_role("link", name="Tiếng Việt").click()
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    assert_axe_passes(page, "/check [vi]")
    assert not stored_checks(app)

    # Online, the worker lets the server answer /v/<token> (and log the check).
    page.goto(f"{base}/v/{valid_token}?lang=en")
    expect(page.locator("body")).to_contain_text("Checked online at")
    expect(page.locator("#checkpoint-verdict")).to_have_count(0)
    assert [(check.offline, check.outcome) for check in stored_checks(app)] == [(False, "valid")]

    context.set_offline(True)
    # Nothing but the app and /v/<token> is answered offline: a staff page is not kept on the phone.
    staff_page = context.new_page()
    with pytest.raises(PlaywrightError, match="ERR_INTERNET_DISCONNECTED"):
        staff_page.goto(f"{base}/login")
    staff_page.close()
    page.goto(f"{base}/v/{valid_token}?lang=en")
    verdict = page.locator("#checkpoint-verdict")
    expect(verdict).to_have_attribute("data-outcome", "valid")
    expect(page.locator(".verdict")).to_contain_text("VALID")
    expect(verdict).to_contain_text("Checked offline")
    expect(verdict).to_contain_text("Revocation list downloaded")
    expect(verdict).to_contain_text(valid_holder)
    photo = page.get_by_role("img", name=f"Photo of {valid_holder}")
    assert photo.get_attribute("src").startswith("data:image/jpeg;base64,")
    assert photo.evaluate("image => image.naturalWidth") > 0  # the photo kept on the phone, shown offline
    assert_axe_passes(page, "offline verdict [en]")
    page.get_by_role("link", name="Tiếng Việt").click()  # offline too: the worker keeps both languages
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(verdict).to_have_attribute("data-outcome", "valid")
    assert page.url.startswith(f"{base}/v/{valid_token}")
    assert_axe_passes(page, "offline verdict [vi]")

    page.goto(f"{base}/v/{forged(valid_token)}?lang=en")
    expect(verdict).to_have_attribute("data-outcome", "unknown")
    expect(page.locator(".verdict")).to_contain_text("UNKNOWN OR FORGED")
    expect(verdict).not_to_contain_text(valid_holder)

    page.goto(f"{base}/v/{revoked_token}?lang=en")
    expect(verdict).to_have_attribute("data-outcome", "revoked")
    expect(page.locator(".verdict")).to_contain_text("REVOKED")
    expect(verdict).to_contain_text(revoked_holder)  # kept from before the revocation: the name, no photo
    expect(page.locator("#details img")).to_have_count(0)

    # A day later, still offline: the revocation list is too old to say "valid".
    page.clock.set_fixed_time(datetime.now(timezone.utc) + timedelta(hours=25))
    page.goto(f"{base}/v/{valid_token}?lang=en")
    expect(verdict).to_have_attribute("data-outcome", "revocation_unknown")
    expect(page.locator(".verdict")).to_contain_text("REVOCATION STATUS UNKNOWN")
    expect(page.locator(".verdict")).not_to_contain_text("VALID\n")
    assert len(stored_checks(app)) == 1  # nothing reached the server while offline

    # Back online: the app sends the five offline checks, and a second sync sends nothing again.
    context.set_offline(False)
    page.clock.set_fixed_time(datetime.now(timezone.utc))
    page.goto(f"{base}/check?lang=en")
    expect(page.locator("#sync-message")).to_contain_text("Synced at")
    offline = wait_for_stored_checks(app, page, 5)
    assert sorted(check.outcome for check in offline) == sorted(
        ["valid", "valid", "unknown", "revoked", "revocation_unknown"])
    assert len({check.client_check_id for check in offline}) == 5
    assert {check.document_id for check in offline} == {valid_id, revoked_id, None}
    assert all(check.device_id == offline[0].device_id for check in offline)
    expect(page.locator("#status-queue")).to_have_text("0")
    page.get_by_role("button", name="Sync now").click()
    expect(page.locator("#sync-message")).to_contain_text("Synced at")
    page.reload()
    expect(page.locator("#sync-message")).to_contain_text("Synced at")
    assert len([check for check in stored_checks(app) if check.offline]) == 5
    assert len([check for check in stored_checks(app) if not check.offline]) == 1  # the one online check


def test_a_public_phone_shows_no_personal_data_offline_and_a_withdrawn_device_wipes(app, live_server, new_page,
                                                                                  permits):
    officer_id, _, issued = permits
    _, _, valid_token, valid_holder = issued["valid"]
    base = live_server.url
    page = new_page()
    page.set_viewport_size(PHONE)
    page.goto(f"{base}/check?lang=en")
    expect(page.locator("#status-device")).to_contain_text("Public phone", use_inner_text=True)
    expect(page.locator("#sync-message")).to_contain_text("Synced at")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.context.set_offline(True)
    page.goto(f"{base}/v/{valid_token}?lang=en")
    verdict = page.locator("#checkpoint-verdict")
    expect(verdict).to_have_attribute("data-outcome", "valid")
    expect(verdict).to_contain_text("shows no personal data")
    expect(verdict).not_to_contain_text(valid_holder)
    expect(page.locator("#details img")).to_have_count(0)
    page.context.set_offline(False)

    # Enrolled, then withdrawn by staff: the next sync wipes the permits it kept.
    page.goto(f"{base}/check/enrol?lang=en#{enrolment_code(app, officer_id)}")
    expect(page.locator("#enrol-message")).to_contain_text(CHECKPOINT)
    with app.test_request_context():
        from app.checkpoint.models import CheckpointDevice

        device = db.session.scalar(sa.select(CheckpointDevice))
        checkpoint.revoke_device(db.session.get(User, officer_id), device)
        db.session.commit()
        db.session.remove()
    page.goto(f"{base}/check?lang=en")
    expect(page.locator("#status-device")).to_contain_text("no longer a checkpoint device", use_inner_text=True)
    assert page.evaluate("PressDeskCheckpoint.store.get('permits')") is None
