"""The "Your sessions" page, "last seen", the mail for a login from a new browser, and "forgot
password" doing the same work for an unknown address."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.auth.models import KnownDevice, Role, User, UserSession
from app.outbox.models import OutboxMessage
from tests.support import login, post_form

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:130.0) Gecko/20100101 Firefox/130.0"
PHONE = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/129.0.0.0 Mobile Safari/537.36")


def browser(app, agent=FIREFOX, address="127.0.0.1"):
    client = app.test_client()
    client.environ_base.update({"HTTP_USER_AGENT": agent, "REMOTE_ADDR": address})
    return client


def live_sessions(db, user):
    return db.session.scalars(sa.select(UserSession).where(UserSession.user_id == user.id,
                                                           UserSession.revoked_at.is_(None))).all()


def test_the_page_lists_the_sessions_and_ends_another_one(app, db, make_user):
    user = make_user(Role.correspondent)
    laptop, phone = browser(app), browser(app, PHONE, "203.0.113.20")
    login(laptop, user.email)
    login(phone, user.email)
    page = laptop.get("/account/sessions").get_data(as_text=True)
    assert "Firefox on Windows" in page and "Chrome on Android" in page and "203.0.113.20" in page
    assert page.count("This browser") == 1
    phone_session = next(s for s in live_sessions(db, user) if s.ip_address == "203.0.113.20")
    response = post_form(laptop, f"/account/sessions/{phone_session.id}/end", page="/account/sessions")
    assert response.status_code == 302
    assert phone.get("/account").status_code == 302  # logged out there
    assert laptop.get("/account").status_code == 200
    assert "auth.session_ended" in db.session.scalars(sa.select(AuditEvent.action)).all()


def test_ending_this_browsers_session_logs_out(app, make_user):
    user = make_user()
    laptop = browser(app)
    login(laptop, user.email)
    page = laptop.get("/account/sessions").get_data(as_text=True)
    import re

    session_id = re.search(r'action="/account/sessions/(\d+)/end"', page).group(1)
    response = post_form(laptop, f"/account/sessions/{session_id}/end", page="/account/sessions")
    assert response.headers["Location"].endswith("/login")
    assert laptop.get("/account").status_code == 302


def test_a_session_of_someone_else_cannot_be_ended(app, db, make_user):
    owner, other = make_user(), make_user()
    owner_browser, other_browser = browser(app), browser(app)
    login(owner_browser, owner.email)
    login(other_browser, other.email)
    (owner_session,) = live_sessions(db, owner)
    response = post_form(other_browser, f"/account/sessions/{owner_session.id}/end", page="/account/sessions")
    assert response.status_code == 404
    assert owner_browser.get("/account").status_code == 200


def test_end_all_other_sessions(app, db, make_user):
    user = make_user()
    clients = [browser(app, address=f"198.51.100.{n}") for n in range(1, 4)]
    for client in clients:
        login(client, user.email)
    response = post_form(clients[0], "/account/sessions/end-others", page="/account/sessions", follow_redirects=True)
    assert "2 other sessions are ended." in response.get_data(as_text=True)
    assert [client.get("/account").status_code for client in clients] == [200, 302, 302]
    assert len(live_sessions(db, user)) == 1


def test_last_seen_is_written_at_most_every_five_minutes(app, db, make_user, frozen_clock):
    user = make_user()
    client = browser(app)
    login(client, user.email)
    (first,) = live_sessions(db, user)
    started = first.last_seen_at
    frozen_clock.shift(timedelta(minutes=2))
    assert client.get("/account").status_code == 200  # a GET: a read-only transaction (SQLite)
    assert live_sessions(db, user)[0].last_seen_at == started
    frozen_clock.shift(timedelta(minutes=4))
    assert client.get("/account/sessions").status_code == 200
    later = live_sessions(db, user)[0].last_seen_at
    assert later - started >= timedelta(minutes=6)
    assert client.get("/").status_code == 200
    assert live_sessions(db, user)[0].last_seen_at == later


# --- a new browser ------------------------------------------------------------------------------

def test_a_login_from_a_new_browser_mails_the_user(app, db, mailbox, make_user):
    user = make_user(email="ingrid@example.org")
    laptop = browser(app)
    login(laptop, user.email)
    assert mailbox.to(user.email) == []  # the first browser of the account: nothing to compare with
    cookie = laptop.get_cookie("pressdesk_device")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    stored = db.session.scalars(sa.select(KnownDevice.device_hash)).all()
    assert stored and cookie.value not in stored  # kept hashed

    post_form(laptop, "/logout", page="/")
    login(laptop, user.email)  # the same browser again: no mail
    assert mailbox.to(user.email) == []

    phone = browser(app, PHONE, "203.0.113.20")
    login(phone, user.email)
    (message,) = mailbox.to(user.email)
    assert message["Subject"] == "New sign-in to your PressDesk account"
    text = mailbox.text(message)
    assert "Chrome on Android" in text and "203.0.113.20" in text
    assert "/forgot-password" in text and "/account/sessions" in text
    assert "14 Oct 2026" in text or "15 Oct 2026" in text  # the province's time
    assert "auth.new_device" in db.session.scalars(sa.select(AuditEvent.action)).all()


def test_the_new_device_mail_is_in_the_users_language(app, mailbox, make_user):
    user = make_user(Role.officer, locale="vi")
    login(browser(app), user.email)
    login(browser(app, PHONE), user.email)
    (message,) = mailbox.to(user.email)
    assert "Chrome trên Android" in mailbox.text(message)


# --- "forgot password": the same work -------------------------------------------------------------

def test_forgot_password_does_the_same_work_for_an_unknown_address(client, db, mailbox, make_user):
    user = make_user()
    for email in (user.email, "nobody@example.org"):
        response = post_form(client, "/forgot-password", {"email": email})
        assert response.status_code == 200
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "auth.password_reset_requested")
                                .order_by(AuditEvent.id)).all()
    assert [event.actor_email for event in events] == [user.email, "nobody@example.org"]
    assert events[1].after == {"account": False}
    # Nothing is mailed to an address without an account.
    assert [message.recipient for message in db.session.scalars(sa.select(OutboxMessage))] == [user.email]
    assert mailbox.to("nobody@example.org") == []


def test_a_signed_in_request_finds_its_session_and_user_in_one_statement(app, make_user):
    """Every signed-in request starts here: the session row and its user come in one SELECT, and a
    revoked session still signs nobody in."""
    from app.auth.service import load_session_user, start_session
    from app.extensions import db as app_db
    from tests.support import statements_sent

    user = make_user(Role.correspondent)
    with app.test_request_context():
        raw_token = start_session(app_db.session.get(User, user.id))
        app_db.session.commit()
        app_db.session.expunge_all()  # nothing of the user left in the session, as at a request's start
        with statements_sent(app_db.engine) as sent:
            loaded = load_session_user(raw_token)
            assert loaded.email == user.email and loaded.role is Role.correspondent and loaded.is_active
        selects = [statement for statement, _ in sent if statement.lstrip().upper().startswith("SELECT")]
        assert len(selects) == 1 and "users" in selects[0] and "user_sessions" in selects[0]
        app_db.session.execute(sa.update(UserSession).where(UserSession.user_id == user.id)
                               .values(revoked_at=UserSession.created_at))
        app_db.session.commit()
        assert load_session_user(raw_token) is None
