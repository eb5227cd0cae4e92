"""`flask backup create` and `flask backup restore`: the database, the uploads and the permit keys."""
import click
from flask.cli import AppGroup

backup_cli = AppGroup("backup", help="Back up this instance, or rebuild one from a backup.")


def _size(count: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1024
    return str(count)


@backup_cli.command("create")
@click.option("--output", type=click.Path(dir_okay=True), default=None,
              help="Where to write the archive (a file, or a folder for the default name); "
                   "default: instance/backups/pressdesk-backup-<UTC time>.tar.gz.")
def create_command(output: str | None) -> None:
    """Write one archive: the database, the uploads (issued documents included), the permit keys, a manifest."""
    from app.backup.service import BackupError, create_backup

    try:
        result = create_backup(output)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    files = len(result.manifest.files)
    click.echo(f"backup written to {result.path} ({files} files, {_size(result.total_bytes)} before compression; "
               f"{result.manifest.database} database at schema revision {result.manifest.schema_revision or 'none'})")
    click.echo("it holds the permit signing keys: keep it as safe as the server itself")
    from app.privacy.crypto import key_file_path

    click.echo(f"it does not hold the data key file {key_file_path()} (passport numbers and dates of birth "
               "are encrypted under it): back that file up apart, or the restored values cannot be read")


@backup_cli.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False))
@click.option("--force", is_flag=True,
              help="Overwrite a database that holds data; folders that hold files are renamed aside.")
def restore_command(archive: str, force: bool) -> None:
    """Rebuild this instance from a backup archive (stop the site and the workers first)."""
    from app.backup.service import BackupError, restore_backup

    try:
        result = restore_backup(archive, force=force)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    manifest = result.manifest
    click.echo(f"restored the {manifest.database} database of {manifest.created_at}, {result.uploads} uploaded "
               f"or issued files and {result.keys} permit key files")
    for folder in result.moved_aside:
        click.echo(f"the files that were there before are kept in {folder}")
    if result.missing_data_keys:
        from app.privacy.crypto import key_file_path

        click.echo(f"WARNING: the restored passport numbers, dates of birth or two-factor secrets are encrypted under "
                   f"data keys that {key_file_path()} does not hold ({', '.join(result.missing_data_keys)}): "
                   "put back the data key file of the backed-up installation")
    if manifest.schema_revision != result.current_revision:
        click.echo(f"the database is at schema revision {manifest.schema_revision or 'none'} and this code at "
                   f"{result.current_revision}: run `flask db upgrade`")


def init_app(app):
    app.cli.add_command(backup_cli)
