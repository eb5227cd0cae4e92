"""The post-visit report: the reminder schedule in working days, idempotent sending, the overdue view."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.auth.models import Role
from app.extensions import db as app_db
from app.outbox.models import OutboxMessage
from app.products.models import PostVisitReminder, ReminderKind
from app.products.service import overdue_reports, reminder_dates, report_due_date, send_reminders
from app.registrations.models import Registration, Status
from tests.support import login

# The visit ends on Tuesday 28 April 2026. Then: Wed 29/4 is working day 1; 30/4 (Reunification Day)
# and 1/5 (Labour Day) are public holidays, 2-3/5 a weekend; Mon 4/5 is day 2 and Tue 5/5 day 3.
# Day 10 is Thu 14/5.
END = date(2026, 4, 28)
FIRST_DUE = date(2026, 5, 5)
SECOND_DUE = date(2026, 5, 14)


@pytest.fixture
def visit(app, make_registration, db):
    registration, correspondent = make_registration(Status.completed)
    row = db.session.get(Registration, registration.id)
    row.start_date, row.end_date = END - timedelta(days=2), END
    db.session.commit()
    return registration, correspondent


def _send(app, today):
    with app.test_request_context():
        sent = send_reminders(today)
        app_db.session.commit()
        return [(reminder.kind, reminder.due_on) for reminder in sent]


def test_reminder_dates_count_working_days_over_the_holidays(app, visit):
    registration, _correspondent = visit
    with app.test_request_context():
        row = app_db.session.get(Registration, registration.id)
        assert reminder_dates(row) == {ReminderKind.first: FIRST_DUE, ReminderKind.second: SECOND_DUE}
        assert report_due_date(row) == FIRST_DUE


def test_each_reminder_is_sent_once_on_its_day(app, db, visit):
    registration, correspondent = visit
    assert _send(app, FIRST_DUE - timedelta(days=1)) == []
    assert _send(app, FIRST_DUE) == [(ReminderKind.first, FIRST_DUE)]
    assert _send(app, FIRST_DUE) == []  # the hourly cron runs again: nothing new
    assert _send(app, FIRST_DUE + timedelta(days=3)) == []
    assert _send(app, SECOND_DUE - timedelta(days=1)) == []
    assert _send(app, SECOND_DUE) == [(ReminderKind.second, SECOND_DUE)]
    assert _send(app, SECOND_DUE + timedelta(days=20)) == []
    mails = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.template == "post_visit_reminder")
                               .order_by(OutboxMessage.id)).all()
    assert [mail.recipient for mail in mails] == [correspondent.email, correspondent.email]
    assert "still not received" not in mails[0].body_text and "still not received" in mails[1].body_text
    assert f"/registrations/{registration.id}/report" in mails[0].body_text


def test_when_both_are_due_only_the_second_is_sent(app, db, visit):
    assert _send(app, SECOND_DUE + timedelta(days=1)) == [(ReminderKind.second, SECOND_DUE)]
    assert _send(app, SECOND_DUE + timedelta(days=2)) == []
    assert db.session.scalar(sa.select(sa.func.count(PostVisitReminder.id))) == 1


def test_a_configured_day_off_moves_the_reminder(make_app, make_registration, db):
    registration_app = make_app(WORKING_CALENDAR_EXTRA_HOLIDAYS=["2026-05-05"])
    # make_registration writes to the test database, which the app made here shares.
    registration, _correspondent = make_registration(Status.completed)
    row = db.session.get(Registration, registration.id)
    row.start_date, row.end_date = END - timedelta(days=2), END
    db.session.commit()
    assert _send(registration_app, FIRST_DUE) == []
    assert _send(registration_app, FIRST_DUE + timedelta(days=1)) == [(ReminderKind.first,
                                                                       FIRST_DUE + timedelta(days=1))]


def test_no_reminder_once_something_is_reported(app, db, visit, make_user):
    registration, correspondent = visit
    from app.products.models import Channel, CooperationType, Product, ProductType

    db.session.add(Product(title="Reported", outlet_id=registration.outlet_id, registration_id=registration.id,
                           type=ProductType.article, channel=Channel.website,
                           cooperation_type=CooperationType.facilitated))
    db.session.commit()
    assert _send(app, SECOND_DUE) == []


@pytest.mark.parametrize("status", [Status.revoked, Status.superseded, Status.refused, Status.withdrawn])
def test_no_reminder_for_a_visit_not_in_force(app, db, make_registration, status):
    registration, _correspondent = make_registration(status)
    row = db.session.get(Registration, registration.id)
    row.start_date, row.end_date = END - timedelta(days=2), END
    db.session.commit()
    assert _send(app, SECOND_DUE) == []


def test_old_visits_get_no_reminders(app, visit):
    assert _send(app, END + timedelta(days=120)) == []


def test_reminders_command_delivers_in_the_correspondents_language(app, runner, db, mailbox, make_registration,
                                                                   make_user):
    correspondent = make_user(Role.correspondent, locale="vi")
    registration, _same = make_registration(Status.completed, correspondent=correspondent, start_in_days=-40,
                                            days=3)
    result = runner.invoke(args=["reminders", "send"])
    assert result.exit_code == 0, result.output
    assert "1 reminder(s) queued; 1 message(s) sent" in result.output
    [mail] = mailbox.to(correspondent.email)
    assert registration.reference in mail["Subject"]
    assert "Chương trình" in mailbox.text(mail) or "chương trình" in mailbox.text(mail)
    result = runner.invoke(args=["reminders", "send"])
    assert "0 reminder(s) queued" in result.output
    assert len(mailbox.to(correspondent.email)) == 1


def test_overdue_view_lists_ended_visits_without_a_report(app, client, db, visit, make_registration, make_user):
    registration, _correspondent = visit
    upcoming, _other = make_registration(Status.approved, start_in_days=10)
    with app.test_request_context():
        rows = overdue_reports(SECOND_DUE)
        assert [(row.id, due) for row, due in rows] == [(registration.id, FIRST_DUE)]
        assert overdue_reports(FIRST_DUE) == []  # due today: not late yet
    officer = make_user(Role.officer, locale="en")
    login(client, officer.email)
    text = client.get("/staff/reports/overdue").get_data(as_text=True)
    assert registration.reference in text and upcoming.reference not in text
    assert f"/staff/products/new?registration_id={registration.id}" in text


def test_staff_record_for_an_overdue_visit_prefills_the_registration(client, make_user, visit):
    registration, _correspondent = visit
    officer = make_user(Role.officer)
    login(client, officer.email)
    page = client.get(f"/staff/products/new?registration_id={registration.id}").get_data(as_text=True)
    assert f'value="{registration.reference}"' in page
