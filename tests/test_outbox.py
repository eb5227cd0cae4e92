"""The mail outbox: stored with the change, sent by a worker outside any request, retried for days,
never twice. (The fault tests, with a silent SMTP server and a week of outage, are in
test_outbox_faults.py.)"""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.auth.models import Role, User
from app.db import utcnow
from app.outbox.models import OutboxMessage
from app.outbox.service import backoff, send_due
from tests.support import outbox_worker, post_form

PASSWORD = "mekong delta at dawn"


def signup(client, email="reporter@example.com", locale="en"):
    return post_form(client, "/signup", {"full_name": "Jane Reporter", "email": email, "password": PASSWORD,
                                         "password_again": PASSWORD, "locale": locale, "privacy_consent": "y"})


def test_message_is_sent_by_the_workers_pass_after_the_request(client, db, mailbox):
    signup(client)
    [message] = mailbox.messages
    assert message["To"] == "reporter@example.com"
    assert message["From"] == "PressDesk <no-reply@pressdesk.invalid>"
    stored = db.session.scalar(sa.select(OutboxMessage))
    assert stored.sent_at is not None and stored.attempts == 1 and stored.last_error is None


def test_smtp_down_keeps_the_signup_and_the_message_then_delivers_once(app, client, db, smtp_server, mailbox, runner):
    smtp_server.stop()
    try:
        response = signup(client)
        # The user is not told about SMTP: the account exists and the mail waits.
        assert response.status_code == 200 and "Check your email" in response.get_data(as_text=True)
        assert db.session.scalar(sa.select(User.email)) == "reporter@example.com"
        waiting = db.session.scalar(sa.select(OutboxMessage))
        assert waiting.sent_at is None and waiting.attempts == 1
        assert "Connection refused" in waiting.last_error or "ConnectionRefused" in waiting.last_error
        assert waiting.next_attempt_at > utcnow()
        # Not due yet: the cron run leaves it alone.
        assert "Sent 0, failed 0." in runner.invoke(args=["outbox", "send"]).output
    finally:
        smtp_server.start()
    db.session.execute(sa.update(OutboxMessage).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert "Sent 1, failed 0." in runner.invoke(args=["outbox", "send"]).output
    assert "Sent 0, failed 0." in runner.invoke(args=["outbox", "send", "--all"]).output
    assert len(mailbox.to("reporter@example.com")) == 1
    assert "/confirm/" in mailbox.text(mailbox.messages[0])


def test_a_failed_transaction_queues_no_mail(app, db, mailbox):
    from app.extensions import db as app_db
    from app.outbox.service import queue_email
    from flask_babel import lazy_gettext

    with app.test_request_context():
        user = User(email="x@example.org", full_name="X", role=Role.officer, locale="en")
        app_db.session.add(user)
        app_db.session.flush()
        queue_email("x@example.org", "password_changed", "en", lazy_gettext("Subject"), user=user,
                    reset_url="http://localhost/r")
        app_db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0
    assert mailbox.messages == []


def test_backoff_grows_and_is_capped_at_an_hour(app):
    with app.app_context():
        assert [backoff(attempt).total_seconds() for attempt in (1, 2, 3, 4)] == [60, 120, 240, 480]
        assert backoff(7) == timedelta(hours=1) and backoff(500) == timedelta(hours=1)
        app.config["OUTBOX_MAX_BACKOFF_SECONDS"] = 600
        assert backoff(30) == timedelta(minutes=10)


def test_gives_up_after_the_configured_hours_then_retry_failed_puts_it_back(app, client, db, smtp_server, mailbox,
                                                                              runner, frozen_clock):
    app.config["OUTBOX_GIVE_UP_AFTER_HOURS"] = 2
    smtp_server.stop()
    try:
        signup(client)
        with app.app_context():
            frozen_clock.shift(timedelta(hours=1))
            assert send_due(ignore_backoff=True) == (0, 1)
            assert db.session.scalar(sa.select(OutboxMessage)).failed_at is None
            frozen_clock.shift(timedelta(hours=1, minutes=1))
            assert send_due(ignore_backoff=True) == (0, 1)
            assert send_due(ignore_backoff=True) == (0, 0)  # given up: no more attempts
    finally:
        smtp_server.start()
    stored = db.session.scalar(sa.select(OutboxMessage))
    assert stored.attempts == 3 and stored.failed_at is not None and stored.sent_at is None
    assert "1 failed message(s) queued again." in runner.invoke(args=["outbox", "retry-failed"]).output
    assert "Sent 1, failed 0." in runner.invoke(args=["outbox", "send"]).output
    stored = db.session.scalar(sa.select(OutboxMessage))
    assert stored.sent_at is not None and stored.failed_at is None and stored.retried_at is not None
    assert len(mailbox.to("reporter@example.com")) == 1


def test_no_request_talks_to_smtp(app, client, db, mailbox, monkeypatch):
    """The request only writes the row; delivery is the worker's (here: nobody's)."""
    import smtplib

    def no_smtp(*args, **kwargs):
        raise AssertionError("a request talked to SMTP")

    monkeypatch.setattr(smtplib.SMTP, "connect", no_smtp)
    client.deliver_mail = False
    response = signup(client)
    assert response.status_code == 200
    waiting = db.session.scalar(sa.select(OutboxMessage))
    assert waiting.sent_at is None and waiting.attempts == 0 and waiting.claim_token is None
    assert mailbox.messages == []


def test_the_worker_loop_sends_what_is_queued_and_stops_cleanly(app, client, db, mailbox):
    import time

    client.deliver_mail = False
    with outbox_worker(app) as worker:
        signup(client)
        deadline = time.monotonic() + 10
        while not mailbox.to("reporter@example.com") and time.monotonic() < deadline:
            time.sleep(0.05)
    assert not worker.is_alive()
    assert len(mailbox.to("reporter@example.com")) == 1
    assert db.session.scalar(sa.select(OutboxMessage.sent_at)) is not None


def test_send_command_is_bounded_in_time(app, client, db, mailbox, runner):
    client.deliver_mail = False
    signup(client)
    assert "Sent 0, failed 0." in runner.invoke(args=["outbox", "send", "--max-seconds", "0"]).output
    assert mailbox.messages == []
    assert "Sent 1, failed 0." in runner.invoke(args=["outbox", "send", "--max-seconds", "5"]).output


def test_an_expired_claim_is_taken_over_and_the_old_sender_cannot_record(app, client, db, mailbox):
    from app.outbox import service

    client.deliver_mail = False
    signup(client)
    with app.app_context():
        token, [first] = service._claim(10, False, None)
        # The first sender's lease runs out (it crashed): another sender takes the message.
        db.session.execute(sa.update(OutboxMessage).values(claimed_until=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        assert send_due() == (1, 0)
        service._record_failure(first, token, OSError("late"))  # the crashed sender wakes up: no effect
    stored = db.session.scalar(sa.select(OutboxMessage))
    assert stored.sent_at is not None and stored.last_error is None and stored.attempts == 1
    assert len(mailbox.messages) == 1


def test_a_message_whose_lease_is_nearly_over_is_released_not_sent(app, client, db, mailbox, monkeypatch):
    from app.outbox import service

    client.deliver_mail = False
    signup(client)
    monkeypatch.setattr(service, "lease_seconds", lambda: 5)  # less than 10 x MAIL_TIMEOUT
    with app.app_context():
        assert send_due() == (0, 0)
    stored = db.session.scalar(sa.select(OutboxMessage))
    assert stored.claim_token is None and stored.claimed_until is None and stored.attempts == 0
    assert mailbox.messages == []


def test_a_claimed_message_is_not_sent_by_a_second_sender(app, client, db, smtp_server, mailbox):
    smtp_server.stop()
    try:
        signup(client)
    finally:
        smtp_server.start()
    # Another sender holds the claim (it is talking to SMTP right now).
    db.session.execute(sa.update(OutboxMessage).values(claimed_until=utcnow() + timedelta(minutes=5)))
    db.session.commit()
    with app.app_context():
        assert send_due(ignore_backoff=True) == (0, 0)
    assert mailbox.messages == []


def test_email_is_written_in_the_recipients_language(client, mailbox):
    signup(client, email="phongvien@example.vn", locale="vi")
    [message] = mailbox.messages
    assert message["Subject"] == "Xác nhận địa chỉ email của Ông/Bà trên PressDesk"
    text = mailbox.text(message)
    assert "Kính gửi Ông/Bà Jane Reporter," in text and "hết hạn sau 48 giờ" in text
    assert 'lang="vi"' in mailbox.html(message)


def test_email_language_follows_the_recipient_not_the_sender(client, db, mailbox, make_user):
    from tests.support import login

    admin = make_user(Role.admin, locale="en")
    login(client, admin.email)
    response = post_form(client, "/admin/users/new", {"full_name": "Phạm Văn Cán Bộ", "email": "canbo@example.vn",
                                                      "role": "officer", "locale": "vi"})
    assert response.status_code == 302
    [message] = mailbox.to("canbo@example.vn")
    assert message["Subject"] == "Tài khoản PressDesk của Ông/Bà"
    assert "Chuyên viên" in mailbox.text(message)


def test_a_mail_queued_in_a_request_renders_none_of_the_navbar_forms(app, client, db, monkeypatch):
    """An email has no navbar: queue_email renders it without the language and logout forms that
    every page's template context builds (a CSRF token each), and the page after it still has them."""
    from flask import render_template_string

    import app.main.forms as main_forms
    from app.outbox.service import queue_email

    built = []
    original = main_forms.LanguageForm.__init__

    def counting(self, *args, **kwargs):
        built.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(main_forms.LanguageForm, "__init__", counting)
    with app.test_request_context("/"):
        message = queue_email("reporter@example.com", "test_message", "vi", "Thư thử", sender_name="Admin",
                              base_url="http://127.0.0.1:5000")
        assert built == []
        assert "PressDesk" in message.body_html and "Admin" in message.body_text
        assert "Tiếng Việt" in render_template_string("{{ language_form.locale }}") and len(built) == 1
