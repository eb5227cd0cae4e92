"""`flask backup create` / `restore`: a backup rebuilds an empty instance whose documents and permits
are the same; a damaged, changed or malicious archive is refused before anything is touched."""
from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import os
import stat
import tarfile
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from app.auth.models import Role, User
from app.backup import service as backup
from app.documents.models import DocumentKind, IssuedDocument
from app.extensions import db as app_db
from app.registrations.models import Registration, Status
from tests.conftest import throwaway_postgres_database
from tests.support import decide, login


def approve(app, registration_id, officer_id, leader_id):
    """The officer proposes a complete draft and the leader approves it: the documents are issued."""
    with app.test_request_context():
        decide(app_db.session.get(Registration, registration_id), app_db.session.get(User, officer_id),
               app_db.session.get(User, leader_id))
        app_db.session.commit()
        app_db.session.remove()


@pytest.fixture
def issued(app, db, make_registration, make_user):
    """An approved registration with its letters and permits, its correspondent, and a permit's /v/ path."""
    registration, correspondent = make_registration(Status.in_review, start_in_days=-1, days=3)
    approve(app, registration.id, make_user(Role.officer).id, make_user(Role.leader).id)
    documents = db.session.scalars(sa.select(IssuedDocument).where(
        IssuedDocument.registration_id == registration.id).order_by(IssuedDocument.id)).all()
    permit = next(document for document in documents if document.kind is DocumentKind.permit)
    from app.verification.service import permit_url

    with app.app_context():
        path = permit_url(app_db.session.get(IssuedDocument, permit.id))[len(app.config["BASE_URL"]):]
    return registration, correspondent, documents, path


@pytest.fixture
def fresh_database_url(database_url, tmp_path):
    """The URL of a new, empty database of the kind the suite runs on."""
    with contextlib.ExitStack() as stack:
        if database_url.startswith("sqlite"):
            yield f"sqlite:///{tmp_path / 'restored' / 'pressdesk.db'}"
        else:
            yield stack.enter_context(throwaway_postgres_database("pressdesk_restore"))


@pytest.fixture
def fresh_instance(make_app, fresh_database_url, tmp_path):
    """A second PressDesk: an empty database and folders that do not exist yet."""
    return make_app(SQLALCHEMY_DATABASE_URI=fresh_database_url, UPLOAD_FOLDER=str(tmp_path / "restored" / "uploads"),
                    PERMIT_KEYS_DIR=str(tmp_path / "restored" / "permit-keys"))


def create(app, output) -> str:
    result = app.test_cli_runner().invoke(args=["backup", "create", "--output", str(output)])
    assert result.exit_code == 0, result.output
    return result.output


def restore(app, archive, *options):
    return app.test_cli_runner().invoke(args=["backup", "restore", str(archive), *options])


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def download(client, registration_id, document_id) -> bytes:
    response = client.get(f"/registrations/{registration_id}/documents/{document_id}")
    assert response.status_code == 200
    return response.data


def members(archive) -> dict[str, bytes]:
    with tarfile.open(archive) as tar:
        return {member.name: tar.extractfile(member).read() for member in tar}


def rewrite(archive, target, change):
    """Copy an archive member by member through `change(name, data) -> data`."""
    with tarfile.open(archive) as source, tarfile.open(target, "w:gz") as output:
        for member in source:
            data = change(member.name, source.extractfile(member).read())
            member.size = len(data)
            output.addfile(member, io.BytesIO(data))


# --- the round trip ---------------------------------------------------------------------------

def test_a_restored_instance_serves_the_same_documents_and_its_permits_still_verify(
        app, client, issued, fresh_instance, tmp_path):
    registration, correspondent, documents, permit_path = issued
    login(client, correspondent.email)
    before = {document.id: download(client, registration.id, document.id) for document in documents}
    assert all(sha256(before[document.id]) == document.sha256 for document in documents)
    assert "VALID" in client.get(permit_path, headers={"Accept-Language": "en"}).get_data(as_text=True)

    archive = tmp_path / "backups" / "pressdesk.tar.gz"
    assert "backup written to" in create(app, archive)
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600  # it holds the signing keys

    result = restore(fresh_instance, archive)
    assert result.exit_code == 0, result.output
    assert "restored the" in result.output

    restored = fresh_instance.test_client()
    login(restored, correspondent.email)
    for document in documents:
        assert sha256(download(restored, registration.id, document.id)) == document.sha256
    page = restored.get(permit_path, headers={"Accept-Language": "en"})
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "VALID" in body and "NOT YET" not in body and "Trần Văn Hộ" in body

    # Only the service user can read what was restored.
    for folder in (fresh_instance.config["UPLOAD_FOLDER"], fresh_instance.config["PERMIT_KEYS_DIR"]):
        for root, directories, files in os.walk(folder):
            assert stat.S_IMODE(os.stat(root).st_mode) == 0o700
            for name in files:
                assert stat.S_IMODE(os.stat(os.path.join(root, name)).st_mode) == 0o600
    if fresh_instance.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        database_file = fresh_instance.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
        assert stat.S_IMODE(os.stat(database_file).st_mode) == 0o600


def test_the_manifest_names_the_schema_time_database_and_every_file(app, issued, tmp_path):
    archive = tmp_path / "backup.tar.gz"
    create(app, archive)
    contents = members(archive)
    manifest = json.loads(contents.pop("manifest.json"))
    assert manifest["format"] == "pressdesk-backup" and manifest["format_version"] == 1
    kind = "sqlite" if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite") else "postgresql"
    assert manifest["database"] == kind
    assert "schema_revision" in manifest  # None here: the test database is made without migrations
    created = datetime.fromisoformat(manifest["created_at"])
    assert created.tzinfo is not None and abs(created - datetime.now(timezone.utc)).total_seconds() < 120
    listed = {entry["path"]: entry for entry in manifest["files"]}
    assert set(listed) == set(contents)
    for name, data in contents.items():
        assert listed[name] == {"path": name, "sha256": sha256(data), "size": len(data)}
    _, _, documents, _ = issued
    assert {f"uploads/{document.stored_name}" for document in documents} <= set(contents)
    assert any(name.startswith("permit-keys/") and name.endswith(".pem") for name in contents)
    assert ("database/pressdesk.sqlite3" if kind == "sqlite" else "database/pressdesk.pgdump") in contents


def test_create_writes_a_dated_archive_in_the_backup_folder_by_default(app, issued, tmp_path):
    app.config["BACKUP_FOLDER"] = str(tmp_path / "kept")
    result = app.test_cli_runner().invoke(args=["backup", "create"])
    assert result.exit_code == 0, result.output
    [archive] = (tmp_path / "kept").iterdir()
    assert archive.name.startswith("pressdesk-backup-") and archive.name.endswith(".tar.gz")
    assert not [path for path in (tmp_path / "kept").iterdir() if path.name.endswith(".part")]


# --- refusals ---------------------------------------------------------------------------------

def test_a_database_that_holds_data_is_not_overwritten_without_force(app, db, issued, tmp_path):
    archive = tmp_path / "backup.tar.gz"
    create(app, archive)
    result = restore(app, archive)
    assert result.exit_code != 0 and "already holds data" in result.output and "--force" in result.output

    # With --force the backup replaces what is there; the folders' old files are kept aside.
    registration, _, documents, _ = issued
    with app.app_context():
        app_db.session.execute(sa.update(Registration).where(Registration.id == registration.id)
                               .values(purpose="Changed after the backup"))
        app_db.session.commit()
    db.session.rollback()  # a real restore runs with the site stopped; no transaction holds a table
    result = restore(app, archive, "--force")
    assert result.exit_code == 0, result.output
    assert "kept in" in result.output
    assert db.session.get(Registration, registration.id).purpose == "Report on rice farming in the Mekong"
    assert list(tmp_path.glob("uploads.before-restore-*"))


def changed_byte(name: str, data: bytes) -> bytes:
    if name.startswith("uploads/") and name.endswith(".pdf"):
        middle = len(data) // 2
        return data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1:]
    return data


def assert_untouched(instance):
    """The instance a refused restore was aimed at: still empty, its folders never made."""
    with instance.app_context():
        assert backup.database_is_empty()
        app_db.engine.dispose()
    assert not os.path.exists(instance.config["UPLOAD_FOLDER"])
    assert not os.path.exists(instance.config["PERMIT_KEYS_DIR"])


def test_an_archive_with_one_changed_byte_is_refused(app, issued, fresh_instance, tmp_path):
    archive, tampered = tmp_path / "backup.tar.gz", tmp_path / "tampered.tar.gz"
    create(app, archive)
    rewrite(archive, tampered, changed_byte)
    result = restore(fresh_instance, tampered)
    assert result.exit_code != 0
    assert "does not match its checksum" in result.output and "Traceback" not in result.output
    assert_untouched(fresh_instance)


def test_a_member_larger_than_the_manifest_says_is_refused_before_it_is_unpacked(app, issued, fresh_instance,
                                                                                  tmp_path):
    archive, grown = tmp_path / "backup.tar.gz", tmp_path / "grown.tar.gz"
    create(app, archive)
    rewrite(archive, grown, lambda name, data: data + b"\0" * 4096 if name.startswith("permit-keys/") else data)
    result = restore(fresh_instance, grown)
    assert result.exit_code != 0 and "does not have the size the manifest gives" in result.output
    assert_untouched(fresh_instance)


def test_a_damaged_archive_is_refused(app, issued, fresh_instance, tmp_path):
    archive = tmp_path / "backup.tar.gz"
    create(app, archive)
    raw = bytearray(archive.read_bytes())
    raw[len(raw) // 2] ^= 0x01  # one byte of the compressed stream
    archive.write_bytes(bytes(raw))
    result = restore(fresh_instance, archive)
    assert result.exit_code != 0 and "refused" in result.output and "Traceback" not in result.output
    assert_untouched(fresh_instance)


def test_a_member_missing_from_the_manifest_is_refused(app, issued, fresh_instance, tmp_path):
    archive, changed = tmp_path / "backup.tar.gz", tmp_path / "changed.tar.gz"
    create(app, archive)

    def drop_a_file(name, data):
        if name == "manifest.json":
            manifest = json.loads(data)
            manifest["files"] = [entry for entry in manifest["files"] if not entry["path"].startswith("uploads/")]
            return json.dumps(manifest).encode()
        return data

    rewrite(archive, changed, drop_a_file)
    result = restore(fresh_instance, changed)
    assert result.exit_code != 0 and "not in the manifest" in result.output
    assert_untouched(fresh_instance)


def malicious_archive(path, member: tarfile.TarInfo, data: bytes = b"x"):
    manifest = {"format": "pressdesk-backup", "format_version": 1, "schema_revision": None,
                "created_at": "2026-10-14T20:00:00+00:00", "database": "sqlite", "files": []}
    with tarfile.open(path, "w:gz") as tar:
        if member.isreg():
            member.size = len(data)
            tar.addfile(member, io.BytesIO(data))
        else:
            tar.addfile(member)
        body = json.dumps(manifest).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(body)
        tar.addfile(info, io.BytesIO(body))


def _link(name, target, kind):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info


@pytest.mark.parametrize("member, reason", [
    (tarfile.TarInfo("../escaped.txt"), "leaves its folder"),
    (tarfile.TarInfo("uploads/../../escaped.txt"), "leaves its folder"),
    (tarfile.TarInfo("/tmp/escaped.txt"), "absolute path"),
    (tarfile.TarInfo("uploads/2026/10/..\\..\\escaped.txt"), "unsafe name"),
    (tarfile.TarInfo("somewhere/else.txt"), "not part of a PressDesk backup"),
    (_link("uploads/2026/10/link.pdf", "/etc/passwd", tarfile.SYMTYPE), "is a link"),
    (_link("uploads/2026/10/hard.pdf", "manifest.json", tarfile.LNKTYPE), "is a link"),
    (_link("permit-keys/fifo", "", tarfile.FIFOTYPE), "special file"),
], ids=["dot-dot", "nested-dot-dot", "absolute", "backslash", "unknown-folder", "symlink", "hardlink", "fifo"])
def test_members_that_would_leave_the_instance_are_refused(fresh_instance, tmp_path, member, reason):
    archive = tmp_path / "evil.tar.gz"
    malicious_archive(archive, member)
    result = restore(fresh_instance, archive)
    assert result.exit_code != 0 and reason in result.output, result.output
    assert not (tmp_path / "escaped.txt").exists() and not (tmp_path.parent / "escaped.txt").exists()
    assert_untouched(fresh_instance)


def test_not_a_backup_is_refused(fresh_instance, tmp_path):
    archive = tmp_path / "not-a-backup.tar.gz"
    archive.write_bytes(gzip.compress(b"just some text"))
    result = restore(fresh_instance, archive)
    assert result.exit_code != 0 and "refused" in result.output and "Traceback" not in result.output


def test_the_database_password_goes_to_pg_dump_through_the_environment_only():
    url = sa.engine.make_url("postgresql+psycopg://pressdesk:s3cret-pass@db.internal:6543/pressdesk?sslmode=require")
    environment = backup.postgres_environment(url)
    assert environment["PGPASSWORD"] == "s3cret-pass" and environment["PGUSER"] == "pressdesk"
    assert (environment["PGHOST"], environment["PGPORT"], environment["PGDATABASE"]) == ("db.internal", "6543",
                                                                                         "pressdesk")
    assert environment["PGSSLMODE"] == "require"
    with pytest.raises(backup.BackupError, match="not one pg_dump can be given"):
        backup.postgres_environment(sa.engine.make_url("postgresql://u:p@h/d?unknown_thing=1"))


def test_the_data_key_stays_out_of_the_archive_and_a_restore_without_it_says_so(
        app, issued, make_app, fresh_database_url, tmp_path):
    archive = tmp_path / "backups" / "pressdesk.tar.gz"
    output = create(app, archive)
    assert "does not hold the data key file" in output
    key_file = app.config["DATA_KEY_FILE"]
    with open(key_file, "rb") as handle:
        key_bytes = handle.read()
    assert not any(key_bytes in data or b"search_key" in data for data in members(archive).values())

    # Another installation, with its own data key: the restored passport numbers cannot be read.
    elsewhere = make_app(SQLALCHEMY_DATABASE_URI=fresh_database_url, UPLOAD_FOLDER=str(tmp_path / "r" / "uploads"),
                         PERMIT_KEYS_DIR=str(tmp_path / "r" / "permit-keys"),
                         DATA_KEY_FILE=str(tmp_path / "r" / "data-key.json"))
    result = restore(elsewhere, archive)
    assert result.exit_code == 0, result.output
    assert "WARNING" in result.output and "put back the data key file" in result.output

    # With the key file of the backed-up installation, nothing is missing.
    same_key = make_app(SQLALCHEMY_DATABASE_URI=fresh_database_url, UPLOAD_FOLDER=str(tmp_path / "s" / "uploads"),
                        PERMIT_KEYS_DIR=str(tmp_path / "s" / "permit-keys"), DATA_KEY_FILE=key_file)
    result = restore(same_key, archive, "--force")
    assert result.exit_code == 0, result.output
    assert "WARNING" not in result.output
