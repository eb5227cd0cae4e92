"""`flask documents ...`."""
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

documents_cli = AppGroup("documents", help="Issued documents.")


@documents_cli.command("dev-certificate")
@click.option("--directory", type=click.Path(file_okay=False), default=None,
              help="Where to write signer-cert.pem and signer-key.pem (default: instance/signing).")
def dev_certificate(directory: str | None) -> None:
    """Make a self-signed DEMO certificate for signing letters (PAdES), and say how to use it."""
    from app.documents.signing import make_dev_certificate

    target = Path(directory or Path(current_app.instance_path) / "signing")
    target.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = make_dev_certificate(target)
    click.echo(f"DEMO certificate: {cert_path}\nkey: {key_path}")
    click.echo(f"Sign letters with it by setting PRESSDESK_SIGNING_CERT_FILE={cert_path} "
               f"PRESSDESK_SIGNING_KEY_FILE={key_path}")
