"""`flask reference seed`: the consulted bodies and spearhead sectors from the authority profile."""
from __future__ import annotations

import click
from flask.cli import AppGroup

reference_cli = AppGroup("reference", help="Reference data (places, escort officers, consulted bodies, ...).")


@reference_cli.command("seed")
def seed_command() -> None:
    """Fill the consulted bodies and the spearhead sectors from the authority profile, if they are empty."""
    from app.extensions import db
    from app.reference.service import seed_from_profile

    added = seed_from_profile()
    db.session.commit()
    click.echo(f"From the authority profile: {added['consulted_bodies']} consulted bodies, "
               f"{added['spearhead_sectors']} spearhead sectors added (a list that already had entries is left "
               "as it was).")
