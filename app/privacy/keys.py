"""The data key file (app/privacy/crypto.py): `flask privacy init-key`, `rotate-key` and `key-status`.

Rotation makes a new key current, writes the file (the older keys stay in it), then re-encrypts
every value of every encrypted column (each EncryptedString / EncryptedDate of the models) that
is not under the new key, in batches of one transaction each, by primary key. A value changed by
the site meanwhile is left as the site wrote it (the update only applies while the row still holds
the value that was read), and the site seals under the new key from its next write on
(`crypto.encrypt` looks at the file). An interrupted rotation is finished by running it again.

`--retire` removes the keys that no stored value uses and refuses, changing nothing, while one
still does. It is a separate step on purpose: run it once the rotation is done and every process
runs with the new file. Backups taken before the rotation need the retired keys: keep a copy of
the key file from before as long as those backups are kept (or let them become unreadable, if
that is the aim).
"""
from __future__ import annotations

import contextlib
import fcntl
import os
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Callable, Iterator

import click
import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.database import reading
from app.extensions import db
from app.privacy import privacy_cli
from app.privacy.crypto import (PREFIX, DataKeyError, DataKeys, EncryptedString, create_key_file, data_keys, decrypt,
                                encrypt, key_file_path, key_id_of, new_key_id, write_key_file)

DEFAULT_BATCH_SIZE = 500
# The key id is the second field of "pd1:<key id>:<sealed>", well within the first 40 characters.
KEY_ID_CHARACTERS = 40
# Where key_usage counts a stored value that is not in the encrypted format at all.
NOT_ENCRYPTED = "(not encrypted)"


class KeyRotationError(RuntimeError):
    pass


def encrypted_columns() -> list[sa.Column]:
    """Every encrypted column of the models: the ones rotation re-encrypts and retirement checks."""
    return [column for table in db.metadata.sorted_tables for column in table.columns
            if isinstance(column.type, EncryptedString)]


def _name(column: sa.Column) -> str:
    return f"{column.table.name}.{column.name}"


@contextlib.contextmanager
def _only_one_change(keys_path) -> Iterator[None]:
    """Two rotations at once would each write a file without the other's new key: refuse the second."""
    lock_path = keys_path.with_name(keys_path.name + ".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(lock_path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise KeyRotationError(f"Another command is changing {keys_path} (a rotation is under way): "
                                   "wait for it to finish.") from None
        yield
    finally:
        os.close(descriptor)  # releases the lock


# --- what uses which key ----------------------------------------------------------------

@dataclass
class KeyUsage:
    keys: DataKeys
    # key id -> "table.column" -> number of stored values sealed under it
    values: dict[str, Counter] = field(default_factory=dict)

    def count(self, key_id: str) -> int:
        return sum(self.values.get(key_id, Counter()).values())

    @property
    def unknown(self) -> list[str]:
        """Key ids that stored values name and the file does not hold: those values cannot be read."""
        return sorted(key_id for key_id in self.values if key_id not in self.keys.keys)


def key_usage() -> KeyUsage:
    """How many stored values each key sealed, per column (reads the key id of every value, not the value)."""
    keys = data_keys(reload=True)
    values: dict[str, Counter] = defaultdict(Counter)
    with reading():
        for column in encrypted_columns():
            raw = sa.table(column.table.name, sa.column(column.name, sa.String)).c[column.name]
            rows = db.session.execute(sa.select(sa.func.substr(raw, 1, KEY_ID_CHARACTERS)).where(raw.is_not(None)),
                                      execution_options={"yield_per": 5000})
            for (start,) in rows:
                values[key_id_of(start + ":") or NOT_ENCRYPTED][_name(column)] += 1
        db.session.rollback()
    return KeyUsage(keys=keys, values=dict(values))


# --- rotation ---------------------------------------------------------------------------

@dataclass
class Rotation:
    key_id: str
    older_keys: list[str]
    # "table.column" -> values re-encrypted
    reencrypted: dict[str, int]


def rotate_data_key(*, batch_size: int = DEFAULT_BATCH_SIZE,
                    progress: Callable[[str, int], None] | None = None) -> Rotation:
    """A new current key in the file, then every stored value re-encrypted under it (commits per batch)."""
    path = key_file_path()
    with _only_one_change(path):
        before = data_keys(reload=True)
        key_id = new_key_id()
        while key_id in before.keys:
            key_id = new_key_id()
        write_key_file(DataKeys(path=path, current=key_id,
                                keys={**before.keys, key_id: AESGCM.generate_key(bit_length=256)},
                                search_key=before.search_key))  # kept: the search hashes stay valid
        keys = data_keys(reload=True)
        if keys.current != key_id:
            raise KeyRotationError(f"{path} changed while the new key was written: run the rotation again.")
        reencrypted = {}
        for column in encrypted_columns():
            reencrypted[_name(column)] = _reencrypt_column(column, keys, batch_size, progress)
    return Rotation(key_id=key_id, older_keys=sorted(key for key in before.keys if key != key_id),
                    reencrypted=reencrypted)


def _reencrypt_column(column: sa.Column, keys: DataKeys, batch_size: int,
                      progress: Callable[[str, int], None] | None) -> int:
    (primary_key,) = column.table.primary_key.columns
    # The stored text as it is, without the column type's decryption.
    table = sa.table(column.table.name, sa.column(primary_key.name), sa.column(column.name, sa.String))
    row_id, stored = table.c[primary_key.name], table.c[column.name]
    purpose = column.type.purpose
    under_current = stored.startswith(f"{PREFIX}:{keys.current}:", autoescape=True)
    update = (sa.update(table).where(row_id == sa.bindparam("row_id"), stored == sa.bindparam("old"))
              .values({column.name: sa.bindparam("new")}))
    done, last_id = 0, None
    while True:
        query = sa.select(row_id, stored).where(stored.is_not(None), sa.not_(under_current))
        if last_id is not None:
            query = query.where(row_id > last_id)
        rows = db.session.execute(query.order_by(row_id).limit(batch_size)).all()
        if not rows:
            break
        changes = []
        for found_id, old in rows:
            try:
                plaintext = decrypt(old, purpose)
            except (DataKeyError, InvalidTag, ValueError) as error:
                db.session.rollback()
                raise KeyRotationError(f"{_name(column)} of row {found_id} cannot be decrypted "
                                       f"({error or type(error).__name__}); the rows before it are re-encrypted, "
                                       "nothing else changed. Restore that key, or clear the value, and run "
                                       "the rotation again.") from None
            changes.append({"row_id": found_id, "old": old, "new": encrypt(plaintext, purpose, keys)})
        db.session.execute(update, changes)
        db.session.commit()
        done += len(changes)
        last_id = rows[-1][0]
        if progress is not None:
            progress(_name(column), done)
    return done


# --- retirement ---------------------------------------------------------------------------

@dataclass
class Retirement:
    current: str
    retired: list[str]


class KeysStillUsed(KeyRotationError):
    def __init__(self, usage: KeyUsage, used: list[str]):
        self.usage, self.used = usage, used
        details = "; ".join(f"{key_id}: " + ", ".join(f"{count} in {column}"
                                                     for column, count in sorted(usage.values[key_id].items()))
                            for key_id in used)
        super().__init__(f"Not retired: stored values still use older keys ({details}). Run "
                         "`flask privacy rotate-key` to re-encrypt them, then retire again.")


def retire_unused_keys() -> Retirement:
    """Remove from the file the older keys that no stored value uses; refuse (nothing removed) while one does."""
    path = key_file_path()
    with _only_one_change(path):
        usage = key_usage()
        keys = usage.keys
        used = sorted(key_id for key_id in keys.keys if key_id != keys.current and usage.count(key_id))
        if used:
            raise KeysStillUsed(usage, used)
        retired = sorted(key_id for key_id in keys.keys if key_id != keys.current)
        if retired:
            write_key_file(DataKeys(path=path, current=keys.current, keys={keys.current: keys.keys[keys.current]},
                                    search_key=keys.search_key))
            data_keys(reload=True)
    return Retirement(current=keys.current, retired=retired)


# --- commands -----------------------------------------------------------------------------

@privacy_cli.command("init-key")
def init_key_command():
    """Create the data key file if it does not exist (make run calls this; idempotent)."""
    path = key_file_path()
    if path.exists():
        click.echo(f"The data key file {path} exists; nothing changed.")
        return
    create_key_file(path)
    click.echo(f"Created the data key file {path}. Keep it outside the database's backups, and back it up.")


@privacy_cli.command("rotate-key")
@click.option("--retire", is_flag=True,
              help="Make no new key: remove the older keys that no stored value uses (refused while one does).")
@click.option("--batch-size", type=click.IntRange(1, 100_000), default=DEFAULT_BATCH_SIZE, show_default=True,
              help="Values re-encrypted per transaction.")
def rotate_key_command(retire: bool, batch_size: int):
    """Make a new current data key and re-encrypt every stored value under it (older keys kept)."""
    try:
        if retire:
            _echo_retirement(retire_unused_keys())
        else:
            _echo_rotation(rotate_data_key(batch_size=batch_size))
    except (KeyRotationError, DataKeyError) as error:
        raise click.ClickException(str(error)) from None


def _echo_rotation(rotation: Rotation) -> None:
    path = key_file_path()
    click.echo(f"New current data key {rotation.key_id} in {path}.")
    for column, count in rotation.reencrypted.items():
        click.echo(f"  {column}: {count} values re-encrypted")
    if rotation.older_keys:
        click.echo(f"Older keys kept in the file: {', '.join(rotation.older_keys)}. Once every process of the site "
                   "has seen the new file (any process sealing a value reads it again), remove them with "
                   "`flask privacy rotate-key --retire`. Back up the new key file now.")


def _echo_retirement(retirement: Retirement) -> None:
    path = key_file_path()
    if not retirement.retired:
        click.echo(f"{path} holds only the current key {retirement.current}; nothing to retire.")
        return
    click.echo(f"Retired from {path}: {', '.join(retirement.retired)}; the current key is {retirement.current}.")
    click.echo("Backups of the database taken before the rotation need the retired keys: keep the former key "
               "file as long as those backups, or they can no longer be read.")


@privacy_cli.command("key-status")
def key_status_command():
    """The data keys in the file and how many stored values each one sealed, per column."""
    try:
        usage = key_usage()
    except DataKeyError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Data key file: {usage.keys.path}")
    for key_id in sorted(usage.keys.keys):
        counts = usage.values.get(key_id, Counter())
        where = ", ".join(f"{count} in {column}" for column, count in sorted(counts.items())) or "no stored value"
        click.echo(f"  {key_id}{' (current)' if key_id == usage.keys.current else ''}: {where}")
    for key_id in usage.unknown:
        counts = ", ".join(f"{count} in {column}" for column, count in sorted(usage.values[key_id].items()))
        if key_id == NOT_ENCRYPTED:
            click.echo(f"  VALUES NOT IN THE ENCRYPTED FORMAT: {counts} (they cannot be read)")
        else:
            click.echo(f"  {key_id} NOT IN THE FILE: {counts} (cannot be read: restore the key file that holds it)")
    if usage.unknown:
        raise SystemExit(1)
