"""`flask users ...`: accounts from the command line (the first admin, scripted setups)."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from app.auth.models import Role
from app.auth.passwords import password_problems
from app.auth import service
from app.extensions import db

users_cli = AppGroup("users", help="Manage user accounts.")


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", "full_name", required=True, help="Full name.")
@click.option("--role", type=click.Choice([role.name for role in Role]), required=True)
@click.option("--locale", type=click.Choice(["vi", "en"]), default=None,
              help="Language of pages and emails (default: vi for staff, en for correspondents).")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="Prompted for when not given.")
def create_user(email: str, full_name: str, role: str, locale: str | None, password: str) -> None:
    """Create a confirmed account that can log in at once."""
    problems = password_problems(password, email=email, full_name=full_name)
    if problems:
        raise click.ClickException(problems[0])
    role_value = Role[role]
    try:
        user = service.create_staff_account(admin=None, email=email, full_name=full_name, role=role_value,
                                            locale=locale or ("en" if role_value is Role.correspondent else "vi"),
                                            password=password)
    except service.AccountError as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"Created {user.role.name} account {user.email}.")
