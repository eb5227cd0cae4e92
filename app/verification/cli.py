"""`flask permits ...`: verify a token offline, rotate the signing key."""
import json

import click
from flask.cli import AppGroup

permits_cli = AppGroup("permits", help="Permit QR tokens.")


@permits_cli.command("verify")
@click.argument("token")
@click.option("--key-set", "key_set_file", type=click.Path(exists=True, dir_okay=False),
              help="The published key set (JSON) to check against, offline; default: this server's keys.")
@click.option("--revocations", "revocations_file", type=click.Path(exists=True, dir_okay=False),
              help="A signed revocation list saved from /check/trust/revocations.json, to check revocation offline.")
def verify_command(token: str, key_set_file: str | None, revocations_file: str | None) -> None:
    """Check a token's signature and dates without the database (what an offline checkpoint can do)."""
    from app.verification.service import key_ring
    from app.verification.tokens import KeyRing

    if token.startswith("http"):
        token = token.rstrip("/").rsplit("/", 1)[-1]
    ring = key_ring()
    if key_set_file:
        try:
            with open(key_set_file, encoding="utf-8") as source:
                ring = KeyRing.from_key_set(json.load(source))
        except ValueError as error:  # not JSON, or not a key set
            raise click.ClickException(f"{key_set_file} is not a PressDesk key set: {error}") from None
    claims = ring.verify(token)
    if claims is None:
        raise click.ClickException("unknown or forged: the signature does not verify with any known key")
    click.echo(f"signature valid (key {claims.key_id}): permit {claims.permit_id}, "
               f"valid from {claims.valid_from.isoformat()} to {claims.valid_until.isoformat()}")
    if not revocations_file:
        click.echo("revocation is known only online, or with --revocations: open the URL to see whether the "
                   "permit was revoked")
        return
    try:
        with open(revocations_file, encoding="utf-8") as source:
            revocations = ring.open_envelope(json.load(source))
    except ValueError:
        revocations = None
    if revocations is None or revocations.get("type") != "pressdesk-revocations":
        raise click.ClickException(f"{revocations_file} is not a revocation list signed by a key of the key set")
    revoked = {entry.get("id"): entry.get("revoked_at") for entry in revocations.get("revoked", [])}
    if claims.permit_id in revoked:
        raise click.ClickException(f"REVOKED at {revoked[claims.permit_id]} (revocation list of "
                                   f"{revocations.get('issued_at')})")
    click.echo(f"not revoked as of {revocations.get('issued_at')} (the revocation list's date)")


@permits_cli.command("rotate-key")
def rotate_key_command() -> None:
    """Make a new signing key current; permits signed with older keys still verify."""
    from app.verification.service import keys_directory, reload_key_ring
    from app.verification.tokens import generate_key

    kid = generate_key(keys_directory())
    reload_key_ring()
    click.echo(f"new permit signing key {kid} is now current")
