"""`flask reminders send`: the post-visit report reminders, safe to run every hour from cron."""
import click
from flask.cli import AppGroup

reminders_cli = AppGroup("reminders", help="Post-visit report reminders.")


@reminders_cli.command("send")
def send() -> None:
    """Queue the reminders that are due (each at most once), then deliver the outbox."""
    from app.extensions import db
    from app.outbox.service import send_due
    from app.products.service import send_reminders

    reminders = send_reminders()
    db.session.commit()
    sent, failed = send_due()
    click.echo(f"{len(reminders)} reminder(s) queued; {sent} message(s) sent, {failed} failed.")
