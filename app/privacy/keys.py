"""`flask privacy init-key`: the data key file (app/privacy/crypto.py)."""
from __future__ import annotations

import click

from app.privacy import privacy_cli
from app.privacy.crypto import create_key_file, key_file_path


@privacy_cli.command("init-key")
def init_key_command():
    """Create the data key file if it does not exist (make run calls this; idempotent)."""
    path = key_file_path()
    if path.exists():
        click.echo(f"The data key file {path} exists; nothing changed.")
        return
    create_key_file(path)
    click.echo(f"Created the data key file {path}. Keep it outside the database's backups, and back it up.")
