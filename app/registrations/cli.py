"""`flask registrations ...`: housekeeping run by cron."""
import click
from flask.cli import AppGroup

registrations_cli = AppGroup("registrations", help="Registrations.")


@registrations_cli.command("complete-ended")
def complete_ended() -> None:
    """Mark approved programmes whose end date has passed as completed (run daily)."""
    from app.extensions import db
    from app.registrations.service import complete_ended_programmes

    ended = complete_ended_programmes()
    db.session.commit()
    click.echo(f"Completed {len(ended)} registration(s).")


@registrations_cli.command("remind-consultations")
def remind_consultations() -> None:
    """Mail the officer in charge once about each consultation past its reply date (run daily or hourly)."""
    from app.extensions import db
    from app.outbox.service import send_due
    from app.registrations.consultations import remind_overdue_consultations

    reminded = remind_overdue_consultations()
    db.session.commit()
    sent, failed = send_due()
    click.echo(f"{reminded} overdue consultation(s) reminded of; {sent} message(s) sent, {failed} failed.")
