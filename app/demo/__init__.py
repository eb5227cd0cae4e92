"""`flask demo load`: clearly marked demo data for a newcomer's first look."""
from __future__ import annotations

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
    from app.audit.service import record_event
    from app.demo.data import database_is_empty, load_demo_data
    from app.extensions import db

    if current_app.config["ENV_NAME"] != "development" and not force:
        raise click.ClickException("Demo accounts have a published password: refusing outside development "
                                   "(PRESSDESK_ENV_NAME=development), unless --force is given.")

    base_url = current_app.config["BASE_URL"]
    if if_empty and not database_is_empty():
        click.echo("The database already has data; demo data not loaded.")
        if demo_base_url() is not None:
            from app.demo.data import refresh_demo_permits

            for purpose in refresh_demo_permits():
                click.echo(f"Added, so that a demo permit of each verdict can be scanned today: {purpose}")
            db.session.commit()
        printed_for = demo_base_url()
        if printed_for and printed_for != base_url:
            # A permit is printed once: its QR code keeps the address it was issued under.
            click.echo(f"Note: the DEMO permits were issued for {printed_for}; their QR codes point there, not to "
                       f"{base_url}. To issue them again for this address: make demo-reset, then make run again.")
        return
    created = load_demo_data()
    # The address the demo permits' QR codes carry, so that a later `make run` on another one can say so.
    record_event("demo.loaded", after={"base_url": base_url})
    db.session.commit()
    click.echo(f"DEMO data loaded: {created['places']} places, {created['users']} accounts, "
               f"{created['registrations']} registrations, {created['products']} products.")
    click.echo(f"Demo accounts (password for all: {DEMO_PASSWORD}):")
    for email, role in created["accounts"]:
        click.echo(f"  {role:<14} {email}")


def demo_base_url() -> str | None:
    """The public address the demo data (its permits) was made for, if it was loaded."""
    import sqlalchemy as sa

    from app.audit.models import AuditEvent
    from app.extensions import db

    after = db.session.scalar(sa.select(AuditEvent.after).where(AuditEvent.action == "demo.loaded")
                              .order_by(AuditEvent.id.desc()).limit(1))
    return (after or {}).get("base_url")


def init_app(app):
    from flask_babel import lazy_gettext as _l

    from app.audit.labels import register_action_labels

    app.cli.add_command(demo_cli)
    register_action_labels({"demo.loaded": _l("DEMO data loaded")})
