"""`flask demo load`: clearly marked demo data for a newcomer's first look."""
import click
from flask import current_app
from flask.cli import AppGroup

from app.demo.data import DEMO_PASSWORD

demo_cli = AppGroup("demo", help="Demo data (never on a production database).")


@demo_cli.command("load")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has accounts.")
@click.option("--force", is_flag=True, help="Load even though PRESSDESK_ENV_NAME is not development.")
def load_command(if_empty: bool, force: bool) -> None:
    """Load the DEMO places and one account per role (password: pressdesk-demo)."""
    from app.demo.data import database_is_empty, load_demo_data
    from app.extensions import db

    if current_app.config["ENV_NAME"] != "development" and not force:
        raise click.ClickException("Demo accounts have a published password: refusing outside development "
                                   "(PRESSDESK_ENV_NAME=development), unless --force is given.")

    if if_empty and not database_is_empty():
        click.echo("The database already has data; demo data not loaded.")
        return
    created = load_demo_data()
    db.session.commit()
    click.echo(f"DEMO data loaded: {created['places']} places, {created['users']} accounts, "
               f"{created['registrations']} registrations, {created['products']} products.")
    click.echo(f"Demo accounts (password for all: {DEMO_PASSWORD}):")
    for email, role in created["accounts"]:
        click.echo(f"  {role:<14} {email}")


def init_app(app):
    app.cli.add_command(demo_cli)
