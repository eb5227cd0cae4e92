"""Signed permit tokens: what a permit's QR code carries, checkable online or offline.

A token names a permit and its validity dates, signed with Ed25519; it carries nothing
personal, so a photographed QR code leaks no one's identity. Keys rotate: a `KeyRing` signs
with its current key and verifies with every key it knows, so permits printed before a
rotation stay verifiable. The public halves are published as a JWKS-style document
(`KeyRing.public_key_set()`) that a checkpoint can use without reaching the server
(`verify_with_key_set()`).

Token layout (77 bytes, then base64url without padding: 103 characters, all in [A-Za-z0-9_-]):

    offset  size  field
         0     1  version, 0x01
         1     4  key id, 4 ASCII characters of the base64url alphabet
         5     4  permit id, unsigned big-endian (1 .. 2**32 - 1)
         9     2  valid_from, days since 2000-01-01, unsigned big-endian
        11     2  valid_until, days since 2000-01-01, unsigned big-endian (>= valid_from)
        13    64  Ed25519 signature over bytes 0..12

Every field has a fixed size, so parsing is a length check and slices: a token that is
truncated, extended, padded, re-encoded or altered anywhere does not verify. Only the
canonical encoding is accepted (the two spare bits of the last character must be zero),
so one token has exactly one spelling. In a QR code at error level M, BASE_URL + "/v/" +
token (about 140 characters) fits version 8 (49 x 49 modules).

Key directory (`KeyRing.from_directory`, `generate_key`):

    <kid>.pem       a PKCS#8 Ed25519 private key, mode 0600 (signs if current, else only verifies)
    <kid>.pub.pem   a retired key whose private half was destroyed (SubjectPublicKeyInfo); verifies
    current         the key id that signs new tokens; without it, the newest private key signs
    .key-lock       taken (flock) while a key is made, so that servers sharing the folder never race

Several servers (DESIGN: one PostgreSQL, several app hosts) share one key directory, named by
PERMIT_KEYS_DIR on each (a folder every host mounts). Two things make that safe. `ensure_key()`
makes the first key under an exclusive lock, so two servers issuing their first permit at the same
moment end with one key, not two. And the ring `from_directory()` returns follows the folder: at
most every RECHECK_SECONDS it compares the folder's stamp (its mtime and inode, and the `current`
file's) and reloads when another process added, rotated or restored a key, so every server signs
with the same current key and publishes every key in the key set a checkpoint downloads.
"""
from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import struct
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Literal, Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

VERSION = 1
EPOCH = date(2000, 1, 1)
KEY_ID_LENGTH = 4
SIGNATURE_LENGTH = 64
_BODY = struct.Struct(">B4sIHH")  # version, key id, permit id, valid_from, valid_until
TOKEN_BYTES = _BODY.size + SIGNATURE_LENGTH  # 77
TOKEN_LENGTH = (TOKEN_BYTES * 8 + 5) // 6  # 103 base64url characters, no padding
MAX_PERMIT_ID = 2**32 - 1
LAST_DATE = EPOCH + timedelta(days=0xFFFF)  # 2179-06-06

_KEY_ID = re.compile(r"[A-Za-z0-9_-]{%d}" % KEY_ID_LENGTH, re.ASCII)
_TOKEN = re.compile(r"[A-Za-z0-9_-]{%d}" % TOKEN_LENGTH, re.ASCII)
_PRIVATE_SUFFIX = ".pem"
_PUBLIC_SUFFIX = ".pub.pem"
_CURRENT_FILE = "current"
# Backups leave out files named `.key-...` (half-written keys), so the lock never enters an archive.
_LOCK_FILE = ".key-lock"
# How often a loaded ring looks at its folder again: two stat() calls and a listing, at most once a
# second per process, so a rotation on another host is followed within about a second (plus the
# NFS attribute cache, if the folder is mounted from a file server) at no measurable cost per scan.
RECHECK_SECONDS = 1.0

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TokenClaims:
    """What a genuine token says. Whether the permit is still in force (revocation) is the database's word."""

    permit_id: int
    valid_from: date
    valid_until: date
    key_id: str

    def validity_on(self, day: date) -> Literal["not_yet_valid", "valid", "expired"]:
        """Where `day` falls against the validity dates, both inclusive."""
        if day < self.valid_from:
            return "not_yet_valid"
        if day > self.valid_until:
            return "expired"
        return "valid"


class KeyRing:
    """One current signing key (or none, for a verify-only ring) and every key that verifies."""

    def __init__(self, verify_keys: Mapping[str, Ed25519PublicKey],
                 signing_key: tuple[str, Ed25519PrivateKey] | None = None):
        keys = dict(verify_keys)
        if signing_key is not None:
            kid, private_key = signing_key
            keys.setdefault(kid, private_key.public_key())
            if _raw_public(keys[kid]) != _raw_public(private_key.public_key()):
                raise ValueError(f"key id {kid!r} names two different keys")
        for kid in keys:
            if not _KEY_ID.fullmatch(kid):
                raise ValueError(f"invalid key id {kid!r}: {KEY_ID_LENGTH} characters of A-Z a-z 0-9 _ -")
        if not keys:
            raise ValueError("a key ring needs at least one key")
        self._verify_keys = keys
        self._signing_key = signing_key

    # --- loading -------------------------------------------------------------

    @classmethod
    def from_directory(cls, directory: str | os.PathLike) -> "DirectoryKeyRing":
        """Load `<kid>.pem` private keys, `<kid>.pub.pem` public keys and the `current` pointer.

        The ring keeps following the folder (DirectoryKeyRing): keys another process adds later are
        picked up without a restart."""
        return DirectoryKeyRing(directory)

    @staticmethod
    def _read_directory(directory: Path) -> tuple[dict[str, Ed25519PublicKey],
                                                  tuple[str, Ed25519PrivateKey] | None]:
        """The verifying keys and the signing key (None for a verify-only folder) of a key folder."""
        private_keys: dict[str, Ed25519PrivateKey] = {}
        public_keys: dict[str, Ed25519PublicKey] = {}
        newest: dict[str, float] = {}
        for path in sorted(directory.iterdir()):
            if path.name.endswith(_PUBLIC_SUFFIX):
                kid = path.name[: -len(_PUBLIC_SUFFIX)]
                public_keys[kid] = _load_public(path.read_bytes(), path)
            elif path.name.endswith(_PRIVATE_SUFFIX):
                kid = path.name[: -len(_PRIVATE_SUFFIX)]
                private_keys[kid] = _load_private(path.read_bytes(), path)
                newest[kid] = path.stat().st_mtime
        current_path = directory / _CURRENT_FILE
        if current_path.exists():
            current = current_path.read_text(encoding="ascii").strip()
            if current not in private_keys:
                raise ValueError(f"{current_path} names {current!r}, which has no private key {current}.pem there")
        elif private_keys:
            current = max(newest, key=lambda kid: (newest[kid], kid))
        else:
            current = None
        verify_keys = {**public_keys, **{kid: key.public_key() for kid, key in private_keys.items()}}
        if not verify_keys:
            raise ValueError(f"no permit signing keys in {directory}: create one with generate_key()")
        signing_key = (current, private_keys[current]) if current else None
        return verify_keys, signing_key

    @classmethod
    def from_key_set(cls, key_set: Mapping) -> "KeyRing":
        """A verify-only ring from a published key set; ValueError if the document is malformed.

        Entries for other key types are skipped (a JWKS may hold them); an Ed25519 entry that
        cannot be read is an error, not something to skip silently.
        """
        if not isinstance(key_set, Mapping) or not isinstance(key_set.get("keys"), list):
            raise ValueError('a key set is an object with a "keys" list')
        keys: dict[str, Ed25519PublicKey] = {}
        for entry in key_set["keys"]:
            if not isinstance(entry, Mapping):
                raise ValueError("each key in a key set is an object")
            if entry.get("kty") != "OKP" or entry.get("crv") != "Ed25519" or entry.get("use", "sig") != "sig":
                continue
            kid, x = entry.get("kid"), entry.get("x")
            if not isinstance(kid, str) or not _KEY_ID.fullmatch(kid):
                raise ValueError(f"invalid key id {kid!r} in key set")
            raw = _b64decode_canonical(x) if isinstance(x, str) else None
            if raw is None or len(raw) != 32:
                raise ValueError(f"key {kid!r}: x is not a base64url 32-byte Ed25519 public key")
            if kid in keys:
                raise ValueError(f"key id {kid!r} appears twice in the key set")
            keys[kid] = Ed25519PublicKey.from_public_bytes(raw)
        if not keys:
            raise ValueError("the key set holds no Ed25519 signing key")
        return cls(keys)

    # --- use -----------------------------------------------------------------

    @property
    def current_key_id(self) -> str | None:
        return self._signing_key[0] if self._signing_key else None

    @property
    def key_ids(self) -> list[str]:
        return sorted(self._verify_keys)

    def sign(self, permit_id: int, valid_from: date, valid_until: date) -> str:
        """A token for a permit, signed with the current key."""
        if self._signing_key is None:
            raise RuntimeError("this key ring can only verify: it holds no private key")
        if isinstance(permit_id, bool) or not isinstance(permit_id, int) or not 1 <= permit_id <= MAX_PERMIT_ID:
            raise ValueError(f"permit id must be an integer from 1 to {MAX_PERMIT_ID}")
        if valid_until < valid_from:
            raise ValueError("valid_until is before valid_from")
        kid, private_key = self._signing_key
        body = _BODY.pack(VERSION, kid.encode("ascii"), permit_id, _days(valid_from), _days(valid_until))
        return _b64encode(body + private_key.sign(body))

    def verify(self, token: object) -> TokenClaims | None:
        """The claims of a genuine token; None for anything else. Never raises on bad input."""
        if not isinstance(token, str) or not _TOKEN.fullmatch(token):
            return None
        raw = _b64decode_canonical(token)
        if raw is None or len(raw) != TOKEN_BYTES:
            return None
        body, signature = raw[: _BODY.size], raw[_BODY.size:]
        version, kid_bytes, permit_id, from_days, until_days = _BODY.unpack(body)
        if version != VERSION or not _KEY_ID.fullmatch(kid_bytes.decode("latin-1")):
            return None
        kid = kid_bytes.decode("ascii")
        public_key = self._verify_keys.get(kid)
        if public_key is None:
            return None
        try:
            public_key.verify(signature, body)
        except InvalidSignature:
            return None
        if permit_id == 0 or until_days < from_days:
            return None  # never signed by sign(); refuse rather than guess
        return TokenClaims(permit_id=permit_id, valid_from=EPOCH + timedelta(days=from_days),
                           valid_until=EPOCH + timedelta(days=until_days), key_id=kid)

    def sign_envelope(self, document: Mapping) -> dict:
        """A signed JSON document for checkpoints: the key set, the revocation list, a device's permits.

        {"payload": base64url(UTF-8 JSON), "kid": key id, "signature": base64url(Ed25519 over those
        JSON bytes)}. The signature covers the exact bytes, so a verifier (WebCrypto in the checkpoint
        app) needs no canonical JSON: it checks the decoded payload, then parses it.
        """
        if self._signing_key is None:
            raise RuntimeError("this key ring can only verify: it holds no private key")
        kid, private_key = self._signing_key
        payload = json.dumps(document, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")
        return {"payload": _b64encode(payload), "kid": kid, "signature": _b64encode(private_key.sign(payload))}

    def open_envelope(self, envelope: object) -> dict | None:
        """The document of a genuine envelope signed by a key of this ring; None for anything else."""
        if not isinstance(envelope, Mapping):
            return None
        kid, payload, signature = envelope.get("kid"), envelope.get("payload"), envelope.get("signature")
        if not all(isinstance(value, str) for value in (kid, payload, signature)):
            return None
        public_key = self._verify_keys.get(kid)
        raw, raw_signature = _b64decode_canonical(payload), _b64decode_canonical(signature)
        if public_key is None or raw is None or raw_signature is None:
            return None
        try:
            public_key.verify(raw_signature, raw)
            document = json.loads(raw.decode("utf-8"))
        except (InvalidSignature, UnicodeDecodeError, ValueError):
            return None
        return document if isinstance(document, dict) else None

    def public_key_set(self) -> dict:
        """Every verifying key as a JWKS-style document, for checkpoints that verify offline."""
        return {"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": kid, "use": "sig",
                          "x": _b64encode(_raw_public(self._verify_keys[kid]))}
                         for kid in sorted(self._verify_keys)]}


class DirectoryKeyRing(KeyRing):
    """A key ring read from a key directory that follows it: a key made, rotated or restored by
    another process (another server sharing PERMIT_KEYS_DIR, `flask permits rotate-key`, a backup
    restore) is used here within RECHECK_SECONDS, without a restart.

    Choice: a stamp of the folder checked at most once a second rather than a reload per use (a
    scan would read and parse every key file) or a reload only when a token fails to verify (the key
    set a checkpoint downloads, and the key that signs, would stay stale until then). A folder that
    cannot be read for a moment (a restore swapping it, a file server hiccup) keeps the keys already
    loaded, logged, rather than failing every scan.
    """

    def __init__(self, directory: str | os.PathLike):
        self.directory = Path(directory)
        self._refresh_lock = threading.Lock()
        self._stamp = _directory_stamp(self.directory)
        super().__init__(*KeyRing._read_directory(self.directory))
        self._checked_at = time.monotonic()

    def refresh(self, *, force: bool = False) -> None:
        """Reload if the folder changed since it was read (looked at once per RECHECK_SECONDS)."""
        now = time.monotonic()
        if not force and now - self._checked_at < RECHECK_SECONDS:
            return
        with self._refresh_lock:
            if not force and now - self._checked_at < RECHECK_SECONDS:
                return  # another thread just looked
            self._checked_at = now
            try:
                stamp = _directory_stamp(self.directory)
                if stamp == self._stamp and not force:
                    return
                # Stamp first, then read: a change during the read is seen at the next check.
                verify_keys, signing_key = KeyRing._read_directory(self.directory)
                KeyRing.__init__(self, verify_keys, signing_key)
                self._stamp = stamp
            except (OSError, ValueError) as error:
                log.warning("permit keys: %s could not be read again, keeping the keys loaded: %s",
                            self.directory, error)

    @property
    def current_key_id(self) -> str | None:
        self.refresh()
        return super().current_key_id

    @property
    def key_ids(self) -> list[str]:
        self.refresh()
        return super().key_ids

    def sign(self, permit_id: int, valid_from: date, valid_until: date) -> str:
        self.refresh()
        return super().sign(permit_id, valid_from, valid_until)

    def verify(self, token: object) -> TokenClaims | None:
        self.refresh()
        return super().verify(token)

    def sign_envelope(self, document: Mapping) -> dict:
        self.refresh()
        return super().sign_envelope(document)

    def open_envelope(self, envelope: object) -> dict | None:
        self.refresh()
        return super().open_envelope(envelope)

    def public_key_set(self) -> dict:
        self.refresh()
        return super().public_key_set()


def _directory_stamp(directory: Path) -> tuple:
    """What changes when a key file or `current` is added, replaced or removed, or the folder is
    swapped (a restore): the folder's identity and mtime, its file names (an mtime alone has the
    coarse resolution of the kernel's clock, a few milliseconds), and the `current` file's inode and
    mtime (it is replaced by a rename, or edited in place by hand)."""
    folder = os.stat(directory)
    names = tuple(sorted(name for name in os.listdir(directory) if name.endswith(_PRIVATE_SUFFIX)))
    try:
        current = os.stat(directory / _CURRENT_FILE)
        current_stamp = (current.st_mtime_ns, current.st_ino, current.st_size)
    except FileNotFoundError:
        current_stamp = None
    return folder.st_dev, folder.st_ino, folder.st_mtime_ns, names, current_stamp


def verify_with_key_set(token: object, key_set: Mapping) -> TokenClaims | None:
    """Verify with nothing but a published key set (an offline checker, `flask permits verify`).

    None for any bad token; ValueError only if the key set itself is malformed.
    """
    return KeyRing.from_key_set(key_set).verify(token)


def ensure_key(directory: str | os.PathLike) -> str:
    """The current key id of `directory`, making the first key if it holds none.

    Safe when several servers (or workers) sharing the folder issue their first permit at once:
    the check and the creation happen under the folder's exclusive lock, so exactly one key is made
    and every caller gets its id.
    """
    directory = Path(directory)
    with _locked(directory):
        if not _has_keys(directory):
            return _generate_key_locked(directory)
    return KeyRing.from_directory(directory).current_key_id


def generate_key(directory: str | os.PathLike) -> str:
    """Create a new private key in `directory` (mode 0600) and make it current; returns its key id.

    Older keys stay where they are and keep verifying the tokens they signed. Made under the
    folder's lock (see ensure_key), so two rotations at once leave `current` naming one of the two
    new keys, each complete on disk.
    """
    directory = Path(directory)
    with _locked(directory):
        return _generate_key_locked(directory)


def _has_keys(directory: Path) -> bool:
    return any(path.name.endswith(_PRIVATE_SUFFIX) for path in directory.iterdir())


@contextlib.contextmanager
def _locked(directory: Path):
    """An exclusive flock on `<directory>/.key-lock`, held while a key is made.

    flock() is honoured between processes on one host and, on Linux, on NFS (the kernel maps it
    to an NFS byte-range lock): what a key folder shared by several servers needs. The file stays
    (removing it would let a third process lock a new file while the second holds the old one).
    """
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = os.open(directory / _LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def _generate_key_locked(directory: Path) -> str:
    while True:
        private_key = Ed25519PrivateKey.generate()
        kid = key_id_for(private_key.public_key())
        if not (directory / f"{kid}{_PRIVATE_SUFFIX}").exists() and not (directory / f"{kid}{_PUBLIC_SUFFIX}").exists():
            break  # 24-bit key ids: a clash with an existing key is rare, but then draw again
    pem = private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    _write_private(directory / f"{kid}{_PRIVATE_SUFFIX}", pem)
    _replace_text(directory / _CURRENT_FILE, kid + "\n")
    return kid


def key_id_for(public_key: Ed25519PublicKey) -> str:
    """A short, stable name for a key: base64url of the first 3 bytes of SHA-256 of its raw bytes."""
    return _b64encode(hashlib.sha256(_raw_public(public_key)).digest()[:3])


# --- helpers -----------------------------------------------------------------

def _days(day: date) -> int:
    if not isinstance(day, date) or not EPOCH <= day <= LAST_DATE:
        raise ValueError(f"dates must lie between {EPOCH} and {LAST_DATE}")
    return (day - EPOCH).days


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode_canonical(text: str) -> bytes | None:
    """Decode unpadded base64url; None unless `text` is the one canonical spelling of the bytes."""
    if not text.isascii():
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
    return raw if _b64encode(raw) == text else None


def _raw_public(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _load_private(pem: bytes, path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    _check_file_name(path, _PRIVATE_SUFFIX)
    if path.stat().st_mode & 0o077:
        raise ValueError(f"{path} is readable by other users: chmod 600 it (or generate a new key)")
    return key


def _load_public(pem: bytes, path: Path) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{path} is not an Ed25519 public key")
    _check_file_name(path, _PUBLIC_SUFFIX)
    return key


def _check_file_name(path: Path, suffix: str) -> None:
    kid = path.name[: -len(suffix)]
    if not _KEY_ID.fullmatch(kid):
        raise ValueError(f"{path}: a key file is named <key id>{suffix}, the key id {KEY_ID_LENGTH} "
                         "characters of A-Z a-z 0-9 _ -")


def _write_private(path: Path, data: bytes) -> None:
    """Create `path` with `data`, mode 0600, all at once: a reader never sees half a key.

    Written to a temporary file first (0600 from its creation, whatever the umask), then linked
    to its name, which fails rather than overwrite an existing key.
    """
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".key-", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.link(temporary, path)
    finally:
        os.unlink(temporary)


def _replace_text(path: Path, text: str) -> None:
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".current-")
    try:
        with os.fdopen(fd, "w", encoding="ascii") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
