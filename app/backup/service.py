"""Backups: one archive with the database, the uploads (issued documents included) and the permit keys.

Layout of the archive (a gzipped tar, every member a regular file, mode 0600):

    database/pressdesk.sqlite3    SQLite: a copy made with SQLite's online backup API
    database/pressdesk.pgdump     PostgreSQL: `pg_dump --format=custom` of the configured database
    uploads/<stored name>         UPLOAD_FOLDER: uploaded files and issued documents
    permit-keys/<file>            PERMIT_KEYS_DIR: the Ed25519 keys that sign the permits' QR codes
    manifest.json                 what the archive is, and the SHA-256 and size of every other member

The data key file (DATA_KEY_FILE, app/privacy/crypto.py) is never in the archive: it is what keeps
the passport numbers and dates of birth in the dump unreadable, so it is kept, and backed up,
apart. A restore says which data keys the restored rows need and the key file lacks.

A restore checks every member (no absolute path, no "..", no link or device, nothing the
manifest does not list) and every checksum by unpacking into a private staging folder first;
only then does it touch the database and the folders. The database is snapshotted before the
files are read, so every file a saved row names is already on disk (files are written before
their row is committed); a file removed in between is the only thing a backup taken under load
can miss.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import IO, Iterator

import sqlalchemy as sa
from flask import current_app

from app.clock import utcnow
from app.database import reading
from app.extensions import db

FORMAT = "pressdesk-backup"
FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
DATABASE_MEMBER = {"sqlite": "database/pressdesk.sqlite3", "postgresql": "database/pressdesk.pgdump"}
UPLOADS_PREFIX = "uploads"
KEYS_PREFIX = "permit-keys"
FILE_MODE = 0o600
FOLDER_MODE = 0o700
CHUNK_BYTES = 1024 * 1024
# Files being written at this moment (app/uploads.py, app/verification/tokens.py): not yet a file.
IN_PROGRESS_PREFIXES = (".upload-", ".key-", ".current-")
# A manifest is a few hundred bytes per file; a larger one is not ours.
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
# libpq settings a database URL may carry in its query string, and their environment variables.
LIBPQ_QUERY_ENVIRONMENT = {
    "host": "PGHOST", "port": "PGPORT", "sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT", "sslkey": "PGSSLKEY", "sslpassword": None, "connect_timeout": "PGCONNECT_TIMEOUT",
    "application_name": "PGAPPNAME", "options": "PGOPTIONS", "target_session_attrs": "PGTARGETSESSIONATTRS",
    "gssencmode": "PGGSSENCMODE", "channel_binding": "PGCHANNELBINDING",
}


class BackupError(Exception):
    """A backup that cannot be made, or an archive that is refused; `str()` says why."""


@dataclass
class Manifest:
    schema_revision: str | None
    created_at: str
    database: str  # "sqlite" or "postgresql"
    files: dict[str, dict] = field(default_factory=dict)  # member name -> {"sha256", "size"}

    def to_json(self) -> bytes:
        return json.dumps({
            "format": FORMAT, "format_version": FORMAT_VERSION, "schema_revision": self.schema_revision,
            "created_at": self.created_at, "database": self.database,
            "files": [{"path": name, **self.files[name]} for name in sorted(self.files)],
        }, indent=2, ensure_ascii=False).encode("utf-8")

    @classmethod
    def from_json(cls, raw: bytes) -> "Manifest":
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as error:
            raise BackupError(f"the manifest is not JSON: {error}") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise BackupError("this is not a PressDesk backup (the manifest does not say so)")
        if data.get("format_version") != FORMAT_VERSION:
            raise BackupError(f"backup format version {data.get('format_version')!r} is not supported "
                              f"(this PressDesk reads version {FORMAT_VERSION})")
        if data.get("database") not in DATABASE_MEMBER:
            raise BackupError(f"unknown database kind {data.get('database')!r} in the manifest")
        files: dict[str, dict] = {}
        entries = data.get("files")
        if not isinstance(entries, list):
            raise BackupError("the manifest has no list of files")
        for entry in entries:
            if not isinstance(entry, dict):
                raise BackupError("a file entry of the manifest is not an object")
            name, digest, size = entry.get("path"), entry.get("sha256"), entry.get("size")
            check_member_name(name)
            if not (isinstance(digest, str) and len(digest) == 64 and all(c in "0123456789abcdef" for c in digest)):
                raise BackupError(f"the manifest has no valid SHA-256 for {name}")
            if isinstance(size, bool) or not isinstance(size, int) or size < 0:
                raise BackupError(f"the manifest has no valid size for {name}")
            if name in files:
                raise BackupError(f"the manifest lists {name} twice")
            files[name] = {"sha256": digest, "size": size}
        revision = data.get("schema_revision")
        if revision is not None and not isinstance(revision, str):
            raise BackupError("the manifest's schema revision is not text")
        return cls(schema_revision=revision, created_at=str(data.get("created_at")), database=data["database"],
                   files=files)


@dataclass(frozen=True)
class BackupResult:
    path: Path
    manifest: Manifest

    @property
    def total_bytes(self) -> int:
        return sum(entry["size"] for entry in self.manifest.files.values())


@dataclass(frozen=True)
class RestoreResult:
    manifest: Manifest
    uploads: int  # files restored into UPLOAD_FOLDER
    keys: int  # files restored into PERMIT_KEYS_DIR
    moved_aside: list[Path]  # folders that were not empty, kept under a new name (--force)
    current_revision: str | None  # the newest migration this code knows
    missing_data_keys: list[str] = field(default_factory=list)  # used by restored values, not in the key file


# --- where things are ---------------------------------------------------------------------

def database_kind() -> str:
    name = db.engine.dialect.name
    if name not in DATABASE_MEMBER:
        raise BackupError(f"backups support SQLite and PostgreSQL, not {name}")
    return name


def uploads_folder() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"])


def keys_folder() -> Path:
    from app.verification.service import keys_directory

    return keys_directory()


def default_backup_path(created: datetime) -> Path:
    folder = current_app.config.get("BACKUP_FOLDER") or os.path.join(current_app.instance_path, "backups")
    return Path(folder) / f"pressdesk-backup-{created:%Y%m%dT%H%M%SZ}.tar.gz"


def schema_revision() -> str | None:
    """The Alembic revision the database is at; None for a database made without migrations."""
    with db.engine.connect() as connection:
        if not sa.inspect(connection).has_table("alembic_version"):
            return None
        revisions = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalars().all()
    return ",".join(sorted(revisions)) or None


def code_revision() -> str | None:
    """The newest migration of this code (what `flask db upgrade` brings a database to)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    directory = Path(current_app.root_path).parent / "migrations"
    config = Config()
    config.set_main_option("script_location", str(directory))
    heads = ScriptDirectory.from_config(config).get_heads()
    return ",".join(sorted(heads)) or None


# --- creating -----------------------------------------------------------------------------

def create_backup(output: str | os.PathLike | None = None) -> BackupResult:
    """Write a backup archive (mode 0600: it holds the permit signing keys) and return where."""
    created = utcnow()
    kind = database_kind()
    path = Path(output) if output else default_backup_path(created)
    if path.exists() and path.is_dir():
        path = path / default_backup_path(created).name
    path.parent.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    with reading():  # a backup only reads: it never waits for, or holds, SQLite's write lock
        revision = schema_revision()
    manifest = Manifest(schema_revision=revision, created_at=created.isoformat(), database=kind)
    with tempfile.TemporaryDirectory(prefix="pressdesk-backup-") as scratch:
        dump = Path(scratch) / "database"
        if kind == "sqlite":
            _sqlite_snapshot(dump)
        else:
            _pg_dump(dump)
        descriptor, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
        try:
            os.fchmod(descriptor, FILE_MODE)
            with os.fdopen(descriptor, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as archive:
                mtime = int(created.timestamp())
                _add_file(archive, manifest, DATABASE_MEMBER[kind], dump, mtime)
                for prefix, folder in ((UPLOADS_PREFIX, uploads_folder()), (KEYS_PREFIX, keys_folder())):
                    for source, relative in _files_under(folder):
                        with contextlib.suppress(FileNotFoundError):  # removed since the walk listed it
                            _add_file(archive, manifest, f"{prefix}/{relative}", source, mtime)
                _add_bytes(archive, MANIFEST_NAME, manifest.to_json(), mtime)
                archive.close()
                raw.flush()
                os.fsync(raw.fileno())
            os.replace(partial, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(partial)
            raise
    return BackupResult(path=path, manifest=manifest)


def _sqlite_snapshot(target: Path) -> None:
    """A consistent copy of the live database through SQLite's online backup API (never a file copy:
    a copy taken while a writer is busy, or without the WAL file, is a damaged database)."""
    source_path = db.engine.url.database
    if not source_path or source_path == ":memory:" or not Path(source_path).exists():
        raise BackupError(f"no SQLite database file to back up ({source_path!r})")
    source = sqlite3.connect(f"file:{Path(source_path).resolve()}?mode=ro", uri=True, timeout=_busy_seconds())
    try:
        _copy_through_sqlite(source, target)
    finally:
        source.close()


def _busy_seconds() -> float:
    return current_app.config.get("SQLITE_BUSY_TIMEOUT_MS", 15000) / 1000


def _copy_through_sqlite(source: sqlite3.Connection, target: Path) -> None:
    """Copy the open database `source` into the file `target` with SQLite's backup API."""
    destination = sqlite3.connect(target, timeout=_busy_seconds())
    try:
        source.backup(destination)
    finally:
        destination.close()


def postgres_environment(url: sa.engine.URL | None = None) -> dict[str, str]:
    """libpq environment variables for the configured URL: the password never reaches a command line
    (where `ps` would show it to every user of the machine)."""
    url = url if url is not None else db.engine.url
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    for key, value in (("PGHOST", url.host), ("PGPORT", url.port), ("PGUSER", url.username),
                       ("PGPASSWORD", url.password), ("PGDATABASE", url.database)):
        if value is not None:
            environment[key] = str(value)
    for key, value in url.query.items():
        variable = LIBPQ_QUERY_ENVIRONMENT.get(key, "")
        if variable == "":
            raise BackupError(f"the database URL's setting {key}= is not one pg_dump can be given")
        if variable is None:
            continue
        environment[variable] = value if isinstance(value, str) else value[-1]
    return environment


def _run_postgres_tool(setting: str, arguments: list[str]) -> None:
    program = current_app.config[setting]
    try:
        completed = subprocess.run([program, *arguments], env=postgres_environment(), capture_output=True,
                                   stdin=subprocess.DEVNULL, check=False)
    except FileNotFoundError:
        raise BackupError(f"{program} was not found: install the PostgreSQL client of the server's version, "
                          f"or set PRESSDESK_{setting}") from None
    if completed.returncode != 0:
        message = completed.stderr.decode("utf-8", "replace").strip()
        raise BackupError(f"{Path(program).name} failed (exit {completed.returncode}): {message}")


def _pg_dump(target: Path) -> None:
    _run_postgres_tool("BACKUP_PG_DUMP", ["--format=custom", "--no-password", f"--file={target}"])


def _files_under(folder: Path) -> Iterator[tuple[Path, str]]:
    """Regular files under `folder` (links are not followed), with their path relative to it."""
    if not folder.is_dir():
        return
    for root, directories, files in os.walk(folder, followlinks=False):
        directories.sort()
        for name in sorted(files):
            source = Path(root, name)
            if name.startswith(IN_PROGRESS_PREFIXES) or source.is_symlink() or not source.is_file():
                continue
            yield source, source.relative_to(folder).as_posix()


class _HashingReader:
    """Hands tarfile the bytes of a file while counting them into a SHA-256."""

    def __init__(self, stream: IO[bytes]):
        self.stream, self.digest, self.size = stream, hashlib.sha256(), 0

    def read(self, size: int = -1) -> bytes:
        chunk = self.stream.read(size)
        self.digest.update(chunk)
        self.size += len(chunk)
        return chunk


def _member(name: str, size: int, mtime: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode, info.type = size, mtime, FILE_MODE, tarfile.REGTYPE
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def _add_file(archive: tarfile.TarFile, manifest: Manifest, name: str, source: Path, mtime: int) -> None:
    with source.open("rb") as stream:
        size = os.fstat(stream.fileno()).st_size
        reader = _HashingReader(stream)
        archive.addfile(_member(name, size, mtime), reader)  # raises if the file shrank meanwhile
    manifest.files[name] = {"sha256": reader.digest.hexdigest(), "size": size}


def _add_bytes(archive: tarfile.TarFile, name: str, content: bytes, mtime: int) -> None:
    archive.addfile(_member(name, len(content), mtime), io.BytesIO(content))


# --- restoring ----------------------------------------------------------------------------

def check_member_name(name: object) -> PurePosixPath:
    """A member name that stays inside the instance, under one of the archive's folders."""
    if not isinstance(name, str) or not name or "\\" in name or "\x00" in name:
        raise BackupError(f"refused: unsafe name {name!r} in the archive")
    path = PurePosixPath(name)
    if path.is_absolute() or name.startswith("/"):
        raise BackupError(f"refused: absolute path {name!r} in the archive")
    if any(part in ("", ".", "..") for part in name.split("/")):
        raise BackupError(f"refused: path {name!r} in the archive leaves its folder")
    if name == MANIFEST_NAME or name in DATABASE_MEMBER.values():
        return path
    if path.parts[0] in (UPLOADS_PREFIX, KEYS_PREFIX) and len(path.parts) > 1:
        if path.parts[0] == KEYS_PREFIX and len(path.parts) != 2:
            raise BackupError(f"refused: {name!r}: permit keys are not kept in subfolders")
        return path
    raise BackupError(f"refused: {name!r} is not part of a PressDesk backup")


def _unpack(archive_path: Path, staging: Path) -> Manifest:
    """Check every member's name and type and the manifest's list and sizes, then unpack into
    `staging`, checking each member's SHA-256. Nothing outside `staging` is written, and no byte
    is written before the whole archive has been read once (so a member the manifest does not
    declare, or one larger than declared, is refused before it can fill the disk)."""
    try:
        with tarfile.open(archive_path, mode="r:*") as archive:
            members = archive.getmembers()
            seen = set()
            for member in members:
                check_member_name(member.name)
                if not member.isreg():
                    kind = "link" if member.issym() or member.islnk() else "directory" if member.isdir() \
                        else "special file"
                    raise BackupError(f"refused: {member.name!r} is a {kind}; a backup holds regular files only")
                if member.name in seen:
                    raise BackupError(f"refused: {member.name!r} appears twice in the archive")
                seen.add(member.name)
            manifest_member = next((member for member in members if member.name == MANIFEST_NAME), None)
            if manifest_member is None:
                raise BackupError("refused: the archive has no manifest.json")
            if manifest_member.size > MAX_MANIFEST_BYTES:
                raise BackupError("refused: the manifest is implausibly large")
            manifest = Manifest.from_json(archive.extractfile(manifest_member).read())
            contents = [member for member in members if member.name != MANIFEST_NAME]
            missing = sorted(set(manifest.files) - {member.name for member in contents})
            extra = sorted({member.name for member in contents} - set(manifest.files))
            if missing:
                raise BackupError(f"refused: the manifest lists {missing[0]}, which is not in the archive")
            if extra:
                raise BackupError(f"refused: {extra[0]} is in the archive but not in the manifest")
            if DATABASE_MEMBER[manifest.database] not in manifest.files:
                raise BackupError("refused: the archive holds no database")
            for member in contents:
                if member.size != manifest.files[member.name]["size"]:
                    raise BackupError(f"refused: {member.name} does not have the size the manifest gives (the "
                                      "archive is damaged or was changed)")
            for member in contents:
                _unpack_member(archive, member, staging, manifest.files[member.name]["sha256"])
    except (tarfile.TarError, EOFError, OSError, zlib.error) as error:  # damaged gzip or tar
        raise BackupError(f"refused: the archive cannot be read ({error})") from None
    return manifest


def _unpack_member(archive: tarfile.TarFile, member: tarfile.TarInfo, staging: Path, expected_sha256: str) -> None:
    stream = archive.extractfile(member)
    target = staging.joinpath(*PurePosixPath(member.name).parts)
    target.parent.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with open(target, "xb") as output:
        os.fchmod(output.fileno(), FILE_MODE)
        while chunk := stream.read(CHUNK_BYTES):
            digest.update(chunk)
            output.write(chunk)
    if digest.hexdigest() != expected_sha256:
        raise BackupError(f"refused: {member.name} does not match its checksum in the manifest (the archive "
                          "is damaged or was changed)")


def database_is_empty() -> bool:
    """True when none of PressDesk's tables holds a row (a new database, or one just migrated)."""
    if db.engine.dialect.name == "sqlite":
        path = db.engine.url.database
        if path and path != ":memory:" and not Path(path).exists():
            return True  # not made yet: connecting would create the file (or fail for want of its folder)
    with db.engine.connect() as connection:
        existing = set(sa.inspect(connection).get_table_names())
        for table in db.metadata.sorted_tables:
            if table.name in existing and connection.execute(sa.select(sa.literal(1)).select_from(table)
                                                             .limit(1)).first():
                return False
    return True


def _folder_is_empty(folder: Path) -> bool:
    return not folder.exists() or not any(source for source, _ in _files_under(folder))


def restore_backup(archive_path: str | os.PathLike, *, force: bool = False) -> RestoreResult:
    """Rebuild this instance (database, uploads, permit keys) from an archive made by create_backup.

    Refuses a database that holds data, or folders that hold files, unless `force`; with `force`
    the database is overwritten and non-empty folders are kept aside under a new name.
    """
    archive_path = Path(archive_path)
    if not archive_path.is_file():
        raise BackupError(f"{archive_path} is not a file")
    kind = database_kind()
    uploads, keys = uploads_folder(), keys_folder()
    staging_root = Path(tempfile.mkdtemp(prefix="pressdesk-restore-"))
    try:
        staging = staging_root / "unpacked"
        staging.mkdir(mode=FOLDER_MODE)
        manifest = _unpack(archive_path, staging)
        if manifest.database != kind:
            raise BackupError(f"refused: this backup holds a {manifest.database} database and this instance "
                              f"uses {kind}")
        if not force:
            if not database_is_empty():
                raise BackupError("refused: the database already holds data; restore into an empty database, "
                                  "or give --force to overwrite it")
            for folder in (uploads, keys):
                if not _folder_is_empty(folder):
                    raise BackupError(f"refused: {folder} already holds files; give --force to set them aside")
        database_file = staging.joinpath(*PurePosixPath(DATABASE_MEMBER[kind]).parts)
        db.session.remove()
        if kind == "sqlite":
            _sqlite_restore(database_file)
        else:
            _run_postgres_tool("BACKUP_PG_RESTORE", ["--clean", "--if-exists", "--no-owner", "--no-privileges",
                                                     "--single-transaction", "--exit-on-error", "--no-password",
                                                     f"--dbname={db.engine.url.database}", str(database_file)])
        db.engine.dispose()  # no pooled connection keeps a view of the database before the restore
        moved_aside = []
        counts = {}
        created = utcnow()
        for prefix, folder in ((UPLOADS_PREFIX, uploads), (KEYS_PREFIX, keys)):
            aside = _install_folder(staging / prefix, folder, created)
            if aside is not None:
                moved_aside.append(aside)
            counts[prefix] = sum(1 for name in manifest.files if name.startswith(prefix + "/"))
        from app.verification.service import reload_key_ring

        reload_key_ring()
        return RestoreResult(manifest=manifest, uploads=counts[UPLOADS_PREFIX], keys=counts[KEYS_PREFIX],
                             moved_aside=moved_aside, current_revision=code_revision(),
                             missing_data_keys=missing_data_keys())
    finally:
        shutil.rmtree(staging_root, ignore_errors=True)


def missing_data_keys() -> list[str]:
    """The data key ids that stored values name and the key file does not hold (readable: none)."""
    from app.privacy.crypto import data_keys, key_id_of
    from app.privacy.keys import encrypted_columns

    known = set(data_keys(reload=True).keys)
    used: set[str] = set()
    with reading():
        for column in encrypted_columns():
            # The key id is the second field of "pd1:<key id>:<sealed>", within the first 40 characters.
            # Read as plain text (not through the column's type, which would decrypt).
            plain = sa.column(column.name, sa.String)
            prefix = sa.func.substr(plain, 1, 40)
            rows = db.session.execute(sa.select(prefix).select_from(sa.table(column.table.name))
                                      .where(plain.is_not(None)),
                                      execution_options={"yield_per": 5000})
            used.update(key_id for (value,) in rows if (key_id := key_id_of(value)) is not None)
    return sorted(used - known)


def _sqlite_restore(source_file: Path) -> None:
    """Write the database file through SQLite itself (the backup API in reverse), so the target's
    WAL and locks are handled by SQLite and not left describing the old database."""
    target = db.engine.url.database
    if not target or target == ":memory:":
        raise BackupError("the configured SQLite database is not a file")
    target_path = Path(target)
    target_path.parent.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{source_file}?mode=ro", uri=True)
    try:
        problems = source.execute("PRAGMA quick_check").fetchall()
        if problems != [("ok",)]:
            raise BackupError(f"refused: the database in the archive is damaged ({problems[0][0]})")
        descriptor = os.open(target_path, os.O_CREAT | os.O_RDWR, FILE_MODE)
        os.close(descriptor)
        _copy_through_sqlite(source, target_path)
    finally:
        source.close()
    for path in (target_path, Path(f"{target_path}-wal"), Path(f"{target_path}-shm")):
        if path.exists():
            path.chmod(FILE_MODE)


def _install_folder(staged: Path, folder: Path, created: datetime) -> Path | None:
    """Put the staged files at `folder` (files 0600, folders 0700); a non-empty folder is renamed aside."""
    aside = None
    if folder.exists() and not _folder_is_empty(folder):
        aside = folder.with_name(f"{folder.name}.before-restore-{created:%Y%m%dT%H%M%SZ}")
        os.replace(folder, aside)
    folder.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    folder.chmod(FOLDER_MODE)
    if not staged.is_dir():
        return aside
    for root, directories, files in os.walk(staged):
        relative = Path(root).relative_to(staged)
        for name in directories:
            target = folder / relative / name
            target.mkdir(mode=FOLDER_MODE, exist_ok=True)
            target.chmod(FOLDER_MODE)
        for name in files:
            target = folder / relative / name
            partial = target.with_name(f".restore-{name}.part")
            shutil.copyfile(Path(root, name), partial)
            partial.chmod(FILE_MODE)
            os.replace(partial, target)
    return aside
