"""Encryption at rest of the most sensitive personal data: passport numbers, dates of birth and
the two-factor secrets.

AES-256-GCM (the `cryptography` package) under a data key kept outside the database, in the file
that `DATA_KEY_FILE` (`PRESSDESK_DATA_KEY_FILE`) names: a database dump, a backup or a read-only
SQL injection does not reveal the values. The file is JSON:

    {"current": "k20261202-1a2b", "keys": {"k20261202-1a2b": "<32 bytes, base64>"},
     "search_key": "<32 bytes, base64>"}

Each stored value carries the id of the key that sealed it, beside the ciphertext in the same
column: ``pd1:<key id>:<base64url(nonce | ciphertext | tag)>``. `flask privacy rotate-key` adds a
new current key and re-encrypts every value; older keys stay in the file (so that a process that
has not reloaded it can still read and write) until `--retire` removes the keys no value uses.
The column's name is the associated data: a value copied into another column does not open.

Searching by passport number uses `search_hash` (HMAC-SHA256 under `search_key`, which rotation
keeps), stored in its own column.

Choices: the key file is created on first use in development and tests (and by `make run`); in
production a missing file is an error that says to run `flask privacy init-key`, since a new
key silently created there would make every existing value unreadable.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import threading
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app, has_app_context
from sqlalchemy.types import TypeDecorator

from app.clock import utcnow

PREFIX = "pd1"
NONCE_BYTES = 12


class DataKeyError(RuntimeError):
    pass


@dataclass
class DataKeys:
    path: Path
    current: str
    keys: dict[str, bytes]
    search_key: bytes
    # The file as it was read: its mtime in nanoseconds, size and inode (a rewrite is a new inode,
    # so a change is seen even where the file system's timestamps are coarse).
    stamp: tuple[int, int, int] = (0, 0, 0)
    _aead: dict[str, AESGCM] = field(default_factory=dict, repr=False)

    def aead(self, key_id: str) -> AESGCM:
        if key_id not in self._aead:
            self._aead[key_id] = AESGCM(self.keys[key_id])
        return self._aead[key_id]

    def to_json(self) -> str:
        return json.dumps({"current": self.current,
                           "keys": {key_id: _b64(key) for key_id, key in self.keys.items()},
                           "search_key": _b64(self.search_key)}, indent=2) + "\n"


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def new_key_id() -> str:
    return f"k{utcnow():%Y%m%d}-{secrets.token_hex(2)}"


def key_file_path(app=None) -> Path:
    app = app or current_app
    return Path(app.config.get("DATA_KEY_FILE") or Path(app.instance_path) / "data-key.json")


def write_key_file(keys: DataKeys) -> None:
    """Write atomically, mode 0600 from the start."""
    keys.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = keys.path.with_name(keys.path.name + f".{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(keys.to_json())
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, keys.path)
    keys.stamp = file_stamp(keys.path)


def file_stamp(path: Path) -> tuple[int, int, int]:
    status = path.stat()
    return status.st_mtime_ns, status.st_size, status.st_ino


def create_key_file(path: Path) -> DataKeys:
    key_id = new_key_id()
    keys = DataKeys(path=path, current=key_id, keys={key_id: AESGCM.generate_key(bit_length=256)},
                    search_key=secrets.token_bytes(32))
    write_key_file(keys)
    return keys


def read_key_file(path: Path) -> DataKeys:
    try:
        data = json.loads(path.read_text())
        keys = {key_id: base64.b64decode(value) for key_id, value in data["keys"].items()}
        loaded = DataKeys(path=path, current=data["current"], keys=keys,
                          search_key=base64.b64decode(data["search_key"]), stamp=file_stamp(path))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise DataKeyError(f"The data key file {path} cannot be read: {error}") from None
    if loaded.current not in keys or any(len(key) != 32 for key in keys.values()):
        raise DataKeyError(f"The data key file {path} is not valid: its current key is missing or not 32 bytes.")
    return loaded


_lock = threading.Lock()
# The keys last used in this process: an object loaded in a request and read after it (in a
# script, a test) still opens its values without an application context.
_last_used: DataKeys | None = None


def data_keys(*, reload: bool = False) -> DataKeys:
    """This application's data keys, read once per process (again when the file changed)."""
    global _last_used
    if not has_app_context():
        if _last_used is None:
            raise DataKeyError("No application context, and no data key loaded yet.")
        return _last_used
    loaded = _keys_of_app(current_app._get_current_object(), reload=reload)
    _last_used = loaded
    return loaded


def _keys_of_app(app, *, reload: bool) -> DataKeys:
    path = key_file_path(app)
    with _lock:
        loaded: DataKeys | None = app.extensions.get("pressdesk_data_keys")
        if loaded is not None and loaded.path == path and not reload:
            return loaded
        if loaded is not None and loaded.path == path and path.exists() and file_stamp(path) == loaded.stamp:
            return loaded
        if not path.exists():
            if app.config["ENV_NAME"] == "production" and not app.config.get("TESTING"):
                raise DataKeyError(
                    f"The data key file {path} does not exist. Create it once with `flask privacy init-key` "
                    "(or set PRESSDESK_DATA_KEY_FILE to the existing one) and keep it out of the database's backups.")
            loaded = create_key_file(path)
        else:
            loaded = read_key_file(path)
        app.extensions["pressdesk_data_keys"] = loaded
        return loaded


def encrypt(plaintext: str, purpose: str, keys: DataKeys | None = None) -> str:
    # One stat of the key file per value sealed: a long-running process seals under the current
    # key as soon as `flask privacy rotate-key` changed it, never under a key `--retire` removed.
    keys = keys or data_keys(reload=True)
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = keys.aead(keys.current).encrypt(nonce, plaintext.encode(), purpose.encode())
    return f"{PREFIX}:{keys.current}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def key_id_of(stored: str) -> str | None:
    parts = stored.split(":", 2)
    return parts[1] if len(parts) == 3 and parts[0] == PREFIX else None


def decrypt(stored: str, purpose: str) -> str:
    key_id = key_id_of(stored)
    if key_id is None:
        raise DataKeyError("A stored value is not in the encrypted format.")
    keys = data_keys()
    if key_id not in keys.keys:
        keys = data_keys(reload=True)  # rotated by another process since this one read the file
        if key_id not in keys.keys:
            raise DataKeyError(f"The data key {key_id} is not in {keys.path}: restore the key file.")
    raw = base64.urlsafe_b64decode(stored.split(":", 2)[2])
    return keys.aead(key_id).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], purpose.encode()).decode()


def normalise_passport_number(number: str) -> str:
    """As stored and as searched: no spaces or dashes, capitals."""
    return "".join(number.split()).replace("-", "").upper()


def search_hash(value: str, purpose: str) -> str:
    """A keyed hash to find a value without decrypting every row (stable across key rotation)."""
    return hmac.new(data_keys().search_key, f"{purpose}\x00{value}".encode(), hashlib.sha256).hexdigest()


def passport_search_hash(number: str) -> str:
    return search_hash(normalise_passport_number(number), "passport_number")


class EncryptedString(TypeDecorator):
    """A string column stored encrypted (see the module docstring); `purpose` is the AAD."""

    impl = sa.String(200)
    cache_ok = True

    def __init__(self, purpose: str, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.purpose = purpose

    def process_bind_param(self, value, dialect):
        return None if value is None else encrypt(self.encode(value), self.purpose)

    def process_result_value(self, value, dialect):
        return None if value is None else self.decode(decrypt(value, self.purpose))

    def encode(self, value) -> str:
        return str(value)

    def decode(self, text: str):
        return text


class EncryptedDate(EncryptedString):
    """A date stored as its encrypted ISO form."""

    cache_ok = True

    def encode(self, value) -> str:
        if not isinstance(value, date):
            raise TypeError("EncryptedDate takes a date")
        return value.isoformat()

    def decode(self, text: str):
        return date.fromisoformat(text)
