"""The checkpoint's rules: signed trust data, enrolment codes, devices, and the offline check log.

Trust data (DESIGN.md section 6) is signed with the permit key ring (`KeyRing.sign_envelope`):
the key set, which expires, so a phone left offline for weeks stops saying "valid"; the list of
revoked permits, fetched whole once and then incrementally with `since`; and, for an enrolled
device only, the permits in force in the next days with their holders as approved.

Enrolment codes and device tokens are bearer secrets: only their SHA-256 is stored (as for
login sessions and the calendar feed), a code is shown once and works once, a device token is
revocable. A revoked device is told to wipe what it cached the next time it calls.
"""
from __future__ import annotations

import base64
import functools
import io
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from PIL import Image, UnidentifiedImageError
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import selectinload

from app.audit.service import record_event
from app.auth.models import Role, User
from app.auth.service import token_digest  # the one hashing of bearer secrets
from app.authority import authority_profile
from app.checkpoint.models import CheckpointDevice, CheckpointEnrolment
from app.clock import local_today, utcnow
from app.countries import country_name
from app.documents.models import DocumentKind, IssuedDocument, PermitHolder, VerificationCheck
from app.extensions import db
from app.registrations.models import Registration, Status
from app.verification.service import key_ring
from app.verification.tokens import MAX_PERMIT_ID

# Who may enrol and revoke checkpoint devices and read the checks.
MANAGERS = (Role.officer, Role.leader, Role.admin)

# A revocation is stamped (utcnow) before its transaction commits; a list served in between does
# not hold it, yet the next one, asked `since` that list's issued_at, would skip it if it were
# stamped before. Asking back this far catches every transaction shorter than this.
SINCE_OVERLAP = timedelta(minutes=5)

# Enrolment codes: 16 characters of Crockford's base32 (80 bits), shown in groups of four so that
# they can be read out or typed; 0/O and 1/I/L are read as one.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 16
CODE_GROUP = 4
_CODE_READING = str.maketrans({"O": "0", "I": "1", "L": "1", "-": None, " ": None})
TOKEN_MAX_LENGTH = 100  # a token_urlsafe(32) is 43 characters

OFFLINE_OUTCOMES = ("valid", "not_yet_valid", "expired", "revoked", "unknown", "revocation_unknown")
MAX_CHECKS_PER_UPLOAD = 500
CLIENT_CHECK_ID_MAX = 64
KEY_ID_MAX = 16
MAX_INT4 = 2**31 - 1

PHOTO_SIZE = (150, 200)
PHOTO_QUALITY = 70

AUDIT_LABELS = {
    "checkpoint.enrolment_created": _l("Created a checkpoint enrolment code"),
    "checkpoint.device_enrolled": _l("Checkpoint device enrolled"),
    "checkpoint.device_revoked": _l("Revoked a checkpoint device"),
}


class CheckpointError(ValueError):
    """Refused: `str()` is the message for the user (translated); `status` the HTTP status."""

    def __init__(self, message, status: int = 400):
        super().__init__(str(message))
        self.status = status


def iso_utc(moment: datetime) -> str:
    """An instant as the trust data writes it: 2026-12-02T13:00:00Z (whole seconds, UTC)."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_utc(text: object) -> datetime | None:
    """An ISO 8601 instant with its offset (Z or +hh:mm), as aware UTC; None for anything else."""
    if not isinstance(text, str) or not 10 <= len(text) <= 40 or not text.isascii():
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    try:
        return moment.astimezone(timezone.utc)
    except (OverflowError, ValueError):
        return None


def _both_languages(function) -> dict[str, str]:
    return {"vi": function("vi"), "en": function("en")}


# --- signed trust data ----------------------------------------------------------

def signed_key_set() -> dict:
    """The key set as an envelope, with its expiry and who to call: every checkpoint starts here."""
    profile = authority_profile()
    issued_at = utcnow()
    document = {
        "type": "pressdesk-key-set",
        "issued_at": iso_utc(issued_at),
        "valid_until": iso_utc(issued_at + timedelta(days=current_app.config["CHECKPOINT_KEY_SET_DAYS"])),
        "max_data_age_hours": current_app.config["CHECKPOINT_MAX_DATA_AGE_HOURS"],
        "authority": _both_languages(profile.issuing_body),
        "department": _both_languages(profile.department),
        "hotline": profile.checkpoint_hotline,
        "keys": key_ring().public_key_set()["keys"],
    }
    return key_ring().sign_envelope(document)


def revocation_list(since: datetime | None = None) -> dict:
    """The revoked permits as an envelope: all of them, or those revoked since `since` (less the overlap).

    Revoking a registration stamps each of its permits (documents.service.revoke_documents), so the
    permit's own revoked_at is the list's source, read through an index on it. The full list (10,000
    entries is about 640 kB before gzip) is what every new phone fetches first: it is kept per process,
    made again as soon as a revocation changes the count or the latest time, and at least every minute.
    """
    revoked = sa.and_(IssuedDocument.kind == DocumentKind.permit, IssuedDocument.revoked_at.is_not(None))
    if since is not None:
        rows = db.session.execute(sa.select(IssuedDocument.id, IssuedDocument.revoked_at).where(
            revoked, IssuedDocument.revoked_at >= since - SINCE_OVERLAP).order_by(IssuedDocument.id))
        return _revocation_envelope(utcnow(), since, rows)
    state = db.session.execute(sa.select(sa.func.count(), sa.func.max(IssuedDocument.revoked_at))
                               .where(revoked)).one()
    key = (key_ring().current_key_id, *state)
    cache = current_app.extensions.setdefault("checkpoint_revocation_list", {})
    cached = cache.get("list")
    now = utcnow()
    if cached is None or cached[0] != key or now - cached[1] > FULL_LIST_CACHE_AGE:
        rows = db.session.execute(sa.select(IssuedDocument.id, IssuedDocument.revoked_at).where(revoked)
                                  .order_by(IssuedDocument.id))
        cached = cache["list"] = (key, now, _revocation_envelope(now, None, rows))
    return cached[2]


FULL_LIST_CACHE_AGE = timedelta(seconds=60)


def _revocation_envelope(issued_at: datetime, since: datetime | None, rows) -> dict:
    return key_ring().sign_envelope({
        "type": "pressdesk-revocations",
        "issued_at": iso_utc(issued_at),
        "since": iso_utc(since) if since is not None else None,
        "complete": since is None,
        "revoked": [{"id": document_id, "revoked_at": iso_utc(revoked_at)} for document_id, revoked_at in rows],
    })


def parse_since(text: str | None) -> datetime | None:
    """The ?since= of the revocation list; CheckpointError (400) if it is not an ISO UTC instant."""
    if text is None:
        return None
    since = parse_utc(text)
    if since is None or since.year < 2000:
        raise CheckpointError(_l("The since parameter must be an ISO 8601 time in UTC, such as "
                                 "2026-12-02T13:00:00Z."))
    return since


# --- enrolment ------------------------------------------------------------------

def _require_manager(user: User) -> None:
    if user is None or user.role not in MANAGERS:
        raise CheckpointError(_l("Your account may not manage checkpoint devices."), 403)


def new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[index:index + CODE_GROUP] for index in range(0, CODE_LENGTH, CODE_GROUP))


def normalise_code(code: object) -> str | None:
    """The code as stored (hashed): upper case, no separators, O read as 0 and I, L as 1."""
    if not isinstance(code, str) or len(code) > 40:
        return None
    normalised = code.strip().upper().translate(_CODE_READING)
    if len(normalised) != CODE_LENGTH or any(character not in CODE_ALPHABET for character in normalised):
        return None
    return normalised


def create_enrolment(user: User, checkpoint_name: str) -> tuple[CheckpointEnrolment, str]:
    """A single-use code for a phone to become a device of `checkpoint_name`; the code is returned only here."""
    _require_manager(user)
    name = " ".join((checkpoint_name or "").split())
    if not name or len(name) > 200:
        raise CheckpointError(_l("Give the checkpoint's name (at most 200 characters)."))
    code = new_code()
    now = utcnow()
    enrolment = CheckpointEnrolment(
        code_hash=token_digest(normalise_code(code)), checkpoint_name=name, created_by_id=user.id, created_at=now,
        expires_at=now + timedelta(minutes=current_app.config["CHECKPOINT_ENROLMENT_MINUTES"]))
    db.session.add(enrolment)
    db.session.flush()
    record_event("checkpoint.enrolment_created", actor=user, subject=enrolment,
                 after={"checkpoint_name": name, "expires_at": enrolment.expires_at.isoformat()})
    return enrolment, code


def enrolment_url(code: str) -> str:
    """Where the QR code of an enrolment leads: the code in the fragment never reaches a server log."""
    return current_app.config["BASE_URL"].rstrip("/") + "/check/enrol#" + code


def enrol_device(code: object, user_agent: str | None) -> tuple[CheckpointDevice, str]:
    """Use an enrolment code: a new device and its bearer token. CheckpointError 404 (unknown) or 410 (used, expired).

    The code is claimed by a conditional UPDATE before anything else is written: of two phones
    racing with one code, the second finds it used (PostgreSQL re-reads the row after the first
    commits; SQLite serialises the writers), and nothing of its attempt is kept.
    """
    normalised = normalise_code(code)
    enrolment = None
    if normalised is not None:
        enrolment = db.session.scalar(sa.select(CheckpointEnrolment).where(
            CheckpointEnrolment.code_hash == token_digest(normalised)))
    if enrolment is None:
        raise CheckpointError(_l("This enrolment code is not known. Check it, or ask for a new one."), 404)
    now = utcnow()
    if enrolment.used_at is not None:
        raise CheckpointError(_l("This enrolment code has already been used. Ask for a new one."), 410)
    if enrolment.expires_at <= now:
        raise CheckpointError(_l("This enrolment code has expired. Ask for a new one."), 410)
    claimed = db.session.execute(
        sa.update(CheckpointEnrolment)
        .where(CheckpointEnrolment.id == enrolment.id, CheckpointEnrolment.used_at.is_(None))
        .values(used_at=now).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        raise CheckpointError(_l("This enrolment code has already been used. Ask for a new one."), 410)
    token = secrets.token_urlsafe(32)
    device = CheckpointDevice(checkpoint_name=enrolment.checkpoint_name, token_hash=token_digest(token),
                              enrolled_at=now, enrolled_by_id=enrolment.created_by_id,
                              user_agent=(user_agent or "")[:300] or None)
    db.session.add(device)
    db.session.flush()
    db.session.execute(sa.update(CheckpointEnrolment).where(CheckpointEnrolment.id == enrolment.id)
                       .values(device_id=device.id).execution_options(synchronize_session=False))
    # No actor: the phone enrols itself, with the code a member of staff made (named in `after`).
    record_event("checkpoint.device_enrolled", subject=device,
                 after={"checkpoint_name": device.checkpoint_name, "enrolment": enrolment.id,
                        "code_created_by": enrolment.created_by.email if enrolment.created_by else None})
    return device, token


def device_for_token(token: object) -> CheckpointDevice | None:
    """The device a bearer token names, revoked or not; None for an unknown token."""
    if not isinstance(token, str) or not 0 < len(token) <= TOKEN_MAX_LENGTH:
        return None
    return db.session.scalar(sa.select(CheckpointDevice).where(CheckpointDevice.token_hash == token_digest(token)))


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header."""
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def revoke_device(user: User, device: CheckpointDevice) -> bool:
    """Stop a device: refused, and told to wipe its cache, at its next call. False if it was already revoked."""
    _require_manager(user)
    if device.revoked_at is not None:
        return False
    device.revoked_at, device.revoked_by_id = utcnow(), user.id
    db.session.flush()
    record_event("checkpoint.device_revoked", actor=user, subject=device,
                 after={"checkpoint_name": device.checkpoint_name})
    return True


# --- a device's permits -----------------------------------------------------------

def permits_in_force(today: date | None = None) -> list[IssuedDocument]:
    """Permits an enrolled device caches: in force on some day from today to CHECKPOINT_PERMIT_DAYS ahead,
    not revoked, with their holders as approved (a permit issued without a holder record is left out)."""
    today = today or local_today()
    last_day = today + timedelta(days=current_app.config["CHECKPOINT_PERMIT_DAYS"])
    return list(db.session.scalars(
        sa.select(IssuedDocument).join(IssuedDocument.registration)
        .join(PermitHolder, PermitHolder.document_id == IssuedDocument.id)
        .options(selectinload(IssuedDocument.holder))
        .where(IssuedDocument.kind == DocumentKind.permit, IssuedDocument.revoked_at.is_(None),
               Registration.status.not_in((Status.revoked, Status.superseded)),
               IssuedDocument.valid_until >= today, IssuedDocument.valid_from <= last_day)
        .order_by(IssuedDocument.id)))


def device_permits(device: CheckpointDevice) -> dict:
    """The signed permits document for a device (holders as approved, small photos)."""
    from app.registrations.labels import crew_role_names

    permits = []
    for document in permits_in_force():
        holder = document.holder
        permits.append({
            "id": document.id,
            "register_number": document.register_number,
            "valid_from": document.valid_from.isoformat(),
            "valid_until": document.valid_until.isoformat(),
            "holder": {"full_name": holder.full_name,
                       "nationality": {locale: country_name(holder.nationality, locale) for locale in ("vi", "en")},
                       "role": crew_role_names(holder.crew_role) if holder.crew_role else
                               {"vi": holder.role, "en": holder.role},
                       "outlet": holder.outlet_name},
            "photo": holder_photo(holder),
            "places": holder.places or [],
            "conditions": {locale: holder.conditions_in(locale) for locale in ("vi", "en")},
            "escort": {"name": holder.escort_name or "", "phone": holder.escort_phone or ""},
        })
    return key_ring().sign_envelope({
        "type": "pressdesk-permits",
        "issued_at": iso_utc(utcnow()),
        "device": {"id": device.id, "checkpoint_name": device.checkpoint_name},
        "days": current_app.config["CHECKPOINT_PERMIT_DAYS"],
        "permits": permits,
    })


def holder_photo(holder: PermitHolder) -> str | None:
    """The holder's photo as approved, small (about 150 x 200, JPEG), as a data: URL; None without one."""
    if not holder.photo_stored_name:
        return None
    from app.uploads import stored_path

    return _small_photo(str(stored_path(holder.photo_stored_name)), holder.photo_sha256 or "")


@functools.lru_cache(maxsize=1024)
def _small_photo(path: str, sha256: str) -> str | None:
    """Cached by file and hash: the copy made at issue never changes, and every sync asks again."""
    try:
        with Image.open(path) as image:
            image = image.convert("RGB")
            image.thumbnail(PHOTO_SIZE)
            buffer = io.BytesIO()
            image.save(buffer, "JPEG", quality=PHOTO_QUALITY, optimize=True)
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError):
        current_app.logger.warning("permit holder photo %s cannot be read", path.rsplit("/", 1)[-1])
        return None
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def note_sync(device: CheckpointDevice, user_agent: str | None) -> bool:
    """Stamp the device's last sync; False if it was revoked meanwhile (then nothing is written)."""
    stamped = db.session.execute(
        sa.update(CheckpointDevice)
        .where(CheckpointDevice.id == device.id, CheckpointDevice.revoked_at.is_(None))
        .values(last_sync_at=utcnow(), user_agent=(user_agent or "")[:300] or None)
        .execution_options(synchronize_session=False))
    return stamped.rowcount == 1


# --- the offline check log --------------------------------------------------------

@dataclass(frozen=True)
class OfflineCheck:
    client_check_id: str
    permit_id: int | None
    key_id: str | None
    outcome: str
    checked_at: datetime
    data_age_seconds: int | None


def _whole_number(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def parse_checks(body: object) -> list[OfflineCheck]:
    """The checks of an upload, all valid, or CheckpointError (400) naming the first problem."""
    def refuse(number: int, message) -> CheckpointError:
        return CheckpointError(_l("Check %(number)d: %(problem)s", number=number, problem=message))

    checks = body.get("checks") if isinstance(body, dict) else None
    if not isinstance(checks, list):
        raise CheckpointError(_l('Send a JSON object with a "checks" list.'))
    if len(checks) > MAX_CHECKS_PER_UPLOAD:
        raise CheckpointError(_l("Send at most %(max)d checks at a time.", max=MAX_CHECKS_PER_UPLOAD))
    parsed = []
    for number, check in enumerate(checks, start=1):
        if not isinstance(check, dict):
            raise refuse(number, _l("each check is a JSON object."))
        client_id, permit_id, key_id = check.get("id"), check.get("permit_id"), check.get("key_id")
        outcome, age = check.get("outcome"), check.get("data_age_seconds")
        if not isinstance(client_id, str) or not 0 < len(client_id) <= CLIENT_CHECK_ID_MAX:
            raise refuse(number, _l("its id must be text of 1 to %(max)d characters.", max=CLIENT_CHECK_ID_MAX))
        if permit_id is not None and not _whole_number(permit_id, 1, MAX_PERMIT_ID):
            raise refuse(number, _l("permit_id must be a permit number or null."))
        if key_id is not None and (not isinstance(key_id, str) or not 0 < len(key_id) <= KEY_ID_MAX):
            raise refuse(number, _l("key_id must be a key id or null."))
        if outcome not in OFFLINE_OUTCOMES:
            raise refuse(number, _l("outcome must be one of %(outcomes)s.", outcomes=", ".join(OFFLINE_OUTCOMES)))
        checked_at = parse_utc(check.get("checked_at"))
        if checked_at is None or checked_at.year < 2000:
            raise refuse(number, _l("checked_at must be an ISO 8601 time in UTC."))
        if age is not None and not _whole_number(age, 0, MAX_INT4):
            raise refuse(number, _l("data_age_seconds must be a whole number of seconds or null."))
        parsed.append(OfflineCheck(client_id, permit_id, key_id, outcome, checked_at, age))
    return parsed


def record_offline_checks(device: CheckpointDevice, checks: list[OfflineCheck]) -> tuple[int, int]:
    """Store a device's offline checks, each (device, id) once: (accepted, duplicates).

    INSERT ... ON CONFLICT DO NOTHING on the unique (device_id, client_check_id): a check sent
    twice, in one upload or in two, even two uploads at the same moment, is stored once and
    never raises. A permit id that is not a permit is kept as a check of no permit.
    """
    if not checks:
        return 0, 0
    wanted = {check.permit_id for check in checks if check.permit_id is not None and check.permit_id <= MAX_INT4}
    permits = set(db.session.scalars(sa.select(IssuedDocument.id).where(
        IssuedDocument.id.in_(wanted), IssuedDocument.kind == DocumentKind.permit))) if wanted else set()
    received_at = utcnow()
    rows = {}
    for check in checks:
        rows.setdefault(check.client_check_id, {
            "device_id": device.id, "client_check_id": check.client_check_id, "offline": True,
            "document_id": check.permit_id if check.permit_id in permits else None, "key_id": check.key_id,
            "outcome": check.outcome, "checked_at": check.checked_at, "received_at": received_at,
            "data_age_seconds": check.data_age_seconds})
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (dialect.insert(VerificationCheck).values(list(rows.values()))
                 .on_conflict_do_nothing(index_elements=["device_id", "client_check_id"])
                 .returning(VerificationCheck.id))
    accepted = len(db.session.execute(statement).all())
    return accepted, len(checks) - accepted


# --- what staff see ----------------------------------------------------------------

def devices_with_counts() -> list[tuple[CheckpointDevice, int]]:
    """Every device, the active first and the newest first, with its number of checks (two queries)."""
    devices = list(db.session.scalars(
        sa.select(CheckpointDevice).options(selectinload(CheckpointDevice.enrolled_by))
        .order_by(CheckpointDevice.revoked_at.is_not(None), CheckpointDevice.enrolled_at.desc(),
                  CheckpointDevice.id.desc())))
    counts = dict(db.session.execute(
        sa.select(VerificationCheck.device_id, sa.func.count()).where(VerificationCheck.device_id.is_not(None))
        .group_by(VerificationCheck.device_id)).all())
    return [(device, counts.get(device.id, 0)) for device in devices]


def checks_for_device(device: CheckpointDevice):
    """The query of a device's checks, newest first (paginate it)."""
    return (sa.select(VerificationCheck).where(VerificationCheck.device_id == device.id)
            .order_by(VerificationCheck.checked_at.desc(), VerificationCheck.id.desc()))


def checks_for_permit(document: IssuedDocument):
    """The query of a permit's checks, online and offline, newest first (paginate it)."""
    return (sa.select(VerificationCheck).where(VerificationCheck.document_id == document.id)
            .order_by(VerificationCheck.checked_at.desc(), VerificationCheck.id.desc()))


@dataclass
class CheckRow:
    check: VerificationCheck
    checkpoint_name: str | None  # None: scanned online, not by an enrolled device
    document: IssuedDocument | None


def check_rows(checks: list[VerificationCheck]) -> list[CheckRow]:
    """A page of checks with their checkpoint and permit (two queries whatever the page size)."""
    device_ids = {check.device_id for check in checks if check.device_id is not None}
    names = dict(db.session.execute(sa.select(CheckpointDevice.id, CheckpointDevice.checkpoint_name)
                                    .where(CheckpointDevice.id.in_(device_ids))).all()) if device_ids else {}
    document_ids = {check.document_id for check in checks if check.document_id is not None}
    documents = {document.id: document for document in db.session.scalars(
        sa.select(IssuedDocument).options(selectinload(IssuedDocument.holder))
        .where(IssuedDocument.id.in_(document_ids)))} if document_ids else {}
    return [CheckRow(check, names.get(check.device_id), documents.get(check.document_id)) for check in checks]
