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
