"""The admin Outbox page and the staff banner when mail is not going out."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.auth.models import Role
from app.clock import utcnow
from app.outbox.models import OutboxMessage
from tests.support import login, post_form


def _message(db, **values) -> int:
    fields = dict(recipient="someone@example.org", subject="Hello", body_text="Hello", body_html=None,
                  template="test_message", locale="en")
    fields.update(values)
    message = OutboxMessage(**fields)
    db.session.add(message)
    db.session.commit()
    return message.id


@pytest.mark.parametrize("role", [Role.correspondent, Role.officer, Role.leader])
def test_only_admins_open_the_outbox(app, make_user, role):
    browser = app.test_client()
    login(browser, make_user(role).email)
    assert browser.get("/admin/outbox/").status_code == 403
    assert app.test_client().get("/admin/outbox/").status_code == 302  # to the login page


def test_the_outbox_lists_waiting_failed_and_sent_messages_with_their_error(app, client, db, make_user):
    login(client, make_user(Role.admin, locale="en").email)
    client.deliver_mail = False
    _message(db, recipient="waiting@example.org", attempts=2, last_error="ConnectionRefusedError: refused")
    _message(db, recipient="failed@example.org", attempts=90, failed_at=utcnow(), last_error="SMTPDataError: 554")
    _message(db, recipient="sent@example.org", attempts=1, sent_at=utcnow())
    waiting = client.get("/admin/outbox/").get_data(as_text=True)
    assert "waiting@example.org" in waiting and "ConnectionRefusedError: refused" in waiting
    assert "failed@example.org" not in waiting and "sent@example.org" not in waiting
    failed = client.get("/admin/outbox/?state=failed").get_data(as_text=True)
    assert "failed@example.org" in failed and "SMTPDataError: 554" in failed and "waiting@" not in failed
    assert "sent@example.org" in client.get("/admin/outbox/?state=sent").get_data(as_text=True)
    assert client.get("/admin/outbox/?state=nonsense&page=abc").status_code == 200


def test_the_outbox_paginates(app, client, db, make_user):
    app.config["PAGE_SIZE"] = 2
    login(client, make_user(Role.admin, locale="en").email)
    for number in range(5):
        _message(db, recipient=f"r{number}@example.org")
    client.deliver_mail = False
    first = client.get("/admin/outbox/").get_data(as_text=True)
    assert "r0@example.org" in first and "r2@example.org" not in first and "Page 1 of 3" in first
    assert "r4@example.org" in client.get("/admin/outbox/?page=3").get_data(as_text=True)


def test_resend_puts_a_failed_message_back_and_it_is_delivered(app, client, db, mailbox, make_user):
    login(client, make_user(Role.admin, locale="en").email)
    message_id = _message(db, recipient="failed@example.org", attempts=90, failed_at=utcnow(), last_error="x")
    response = post_form(client, f"/admin/outbox/{message_id}/resend", page="/admin/outbox/?state=failed")
    assert response.status_code == 302
    stored = db.session.get(OutboxMessage, message_id)
    assert stored.sent_at is not None and stored.failed_at is None
    assert len(mailbox.to("failed@example.org")) == 1
    [event] = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "outbox.resent")).all()
    assert event.after["recipient"] == "failed@example.org" and event.after["queued_id"] == message_id


def test_retry_failed_from_the_page_queues_every_given_up_message(app, client, db, mailbox, make_user):
    login(client, make_user(Role.admin, locale="en").email)
    for address in ("one@example.org", "two@example.org"):
        _message(db, recipient=address, attempts=90, failed_at=utcnow(), last_error="SMTP down")
    response = post_form(client, "/admin/outbox/retry-failed", page="/admin/outbox/?state=failed")
    assert response.status_code == 302
    assert len(mailbox.to("one@example.org")) == 1 and len(mailbox.to("two@example.org")) == 1
    [event] = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "outbox.failed_retried")).all()
    assert event.after == {"messages": 2}


def test_resending_a_sent_message_queues_a_copy(app, client, db, mailbox, make_user):
    login(client, make_user(Role.admin, locale="en").email)
    message_id = _message(db, recipient="sent@example.org", sent_at=utcnow(), attempts=1)
    post_form(client, f"/admin/outbox/{message_id}/resend", page="/admin/outbox/?state=sent")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 2
    assert len(mailbox.to("sent@example.org")) == 1


def test_resend_needs_the_csrf_token_and_an_existing_message(app, client, db, make_user):
    login(client, make_user(Role.admin, locale="en").email)
    message_id = _message(db, failed_at=utcnow())
    client.post(f"/admin/outbox/{message_id}/resend")
    assert db.session.get(OutboxMessage, message_id).failed_at is not None
    assert post_form(client, "/admin/outbox/999999/resend", page="/admin/outbox/").status_code == 404


def test_a_test_message_is_sent_to_the_address_given(app, client, db, mailbox, make_user):
    admin = make_user(Role.admin, locale="en")
    login(client, admin.email)
    response = post_form(client, "/admin/outbox/test", {"email": "it@example.gov.vn"}, page="/admin/outbox/")
    assert response.status_code == 302
    [message] = mailbox.to("it@example.gov.vn")
    assert message["Subject"] == "PressDesk test message"
    assert admin.full_name in mailbox.text(message)
    [event] = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "outbox.test_queued")).all()
    assert event.after == {"recipient": "it@example.gov.vn"} and event.actor_id == admin.id
    bad = post_form(client, "/admin/outbox/test", {"email": "not an address"}, page="/admin/outbox/")
    assert bad.status_code == 400 and "Enter a valid email address." in bad.get_data(as_text=True)


BANNER = "Mail is not going out"


def test_staff_see_a_banner_when_a_message_has_waited_half_an_hour(app, db, make_user, frozen_clock):
    _message(db, attempts=3, last_error="ConnectionRefusedError")
    officer, admin, correspondent = make_user(Role.officer, locale="en"), make_user(Role.admin, locale="en"), make_user(Role.correspondent)
    browsers = {}
    for user in (officer, admin, correspondent):
        browsers[user.role] = app.test_client()
        browsers[user.role].deliver_mail = False  # SMTP is down in this story: nobody delivers
        login(browsers[user.role], user.email)
    assert BANNER not in browsers[Role.officer].get("/staff/calendar").get_data(as_text=True)
    frozen_clock.shift(timedelta(minutes=31))
    officer_page = browsers[Role.officer].get("/staff/calendar").get_data(as_text=True)
    assert BANNER in officer_page and "Tell the administrator." in officer_page
    admin_page = browsers[Role.admin].get("/admin/users").get_data(as_text=True)
    assert BANNER in admin_page and 'href="/admin/outbox/?state=pending"' in admin_page
    assert BANNER not in browsers[Role.correspondent].get("/").get_data(as_text=True)


def test_the_banner_names_given_up_messages_and_goes_when_mail_flows(app, client, db, make_user):
    client.deliver_mail = False
    login(client, make_user(Role.admin, locale="en").email)
    message_id = _message(db, failed_at=utcnow(), attempts=200)
    page = client.get("/admin/users").get_data(as_text=True)
    assert "1 message could not be delivered and was given up." in page and BANNER not in page
    db.session.execute(sa.update(OutboxMessage).where(OutboxMessage.id == message_id).values(sent_at=utcnow()))
    db.session.commit()
    assert "could not be delivered" not in client.get("/admin/users").get_data(as_text=True)


def test_the_banner_costs_one_query(app, client, db, make_user):
    from app.extensions import db as app_db

    login(client, make_user(Role.admin, locale="en").email)
    client.deliver_mail = False
    with app.app_context():
        engine = app_db.engine
    statements = []

    def count(conn, cursor, statement, *args):
        if "outbox_messages" in statement:
            statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        client.get("/admin/users")
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == 1
