"""A checkpoint scans a printed permit: the QR code leads to a page saying valid, revoked, expired..."""
from __future__ import annotations

import json

import pypdfium2
import pytest
import sqlalchemy as sa
from markupsafe import escape

from app.auth.models import Role, User
from app.documents.models import DocumentKind, IssuedDocument, VerificationCheck
from app.extensions import db as app_db
from app.registrations import service
from app.registrations.models import Registration, Status
from tests.support import decide, escort_officer, qr_texts


@pytest.fixture
def approve(app, make_user):
    """Approve as the leader does, on an officer's complete draft (escort Trần Văn Hộ, +84 912 000 111)."""
    officer = make_user(Role.officer)

    def approve(registration_id, leader_id):
        with app.test_request_context():
            escort = escort_officer(phone="+84 912 000 111")
            decide(app_db.session.get(Registration, registration_id), app_db.session.get(User, officer.id),
                   app_db.session.get(User, leader_id), escort_officer_id=escort.id)
            app_db.session.commit()
            app_db.session.remove()

    return approve


def permit_of(db, registration_id) -> IssuedDocument:
    return db.session.scalar(sa.select(IssuedDocument).where(IssuedDocument.registration_id == registration_id,
                                                             IssuedDocument.kind == DocumentKind.permit))


def scanned_path(app, document) -> str:
    """Print the permit, photograph it, read the QR code: the path of the URL it holds."""
    from app.documents.service import document_bytes

    with app.app_context():
        pdf = pypdfium2.PdfDocument(document_bytes(document))
        image = pdf[0].render(scale=250 / 72).to_pil()
        pdf.close()
    [text] = qr_texts(image)
    assert text.startswith(app.config["BASE_URL"] + "/v/")
    return text[len(app.config["BASE_URL"]):]


def test_a_valid_permit_shows_what_a_checkpoint_needs_and_nothing_more(app, approve, client, db, make_registration,
                                                                      make_user):
    registration, _ = make_registration(Status.in_review, start_in_days=-1, days=3)
    approve(registration.id, make_user(Role.leader).id)
    document = permit_of(db, registration.id)
    path = scanned_path(app, document)
    response = client.get(path, headers={"Accept-Language": "en"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "VALID" in body and "NOT YET" not in body
    member = db.session.get(IssuedDocument, document.id).crew_member
    assert member.full_name in body and "Trần Văn Hộ" in body and "+84 912 000 111" in body
    assert member.passport_number not in body and member.press_card_number not in body
    assert "1985" not in body  # no date of birth
    vietnamese = client.get(path, headers={"Accept-Language": "vi"}).get_data(as_text=True)
    assert "CÒN HIỆU LỰC" in vietnamese
    checks = db.session.scalars(sa.select(VerificationCheck)).all()
    assert [check.outcome for check in checks] == ["valid", "valid"] and checks[0].document_id == document.id


def test_revocation_takes_effect_at_once(app, approve, client, db, make_registration, make_user):
    registration, _ = make_registration(Status.in_review, start_in_days=-1, days=3)
    leader = make_user(Role.leader)
    approve(registration.id, leader.id)
    path = scanned_path(app, permit_of(db, registration.id))
    assert "VALID" in client.get(path, headers={"Accept-Language": "en"}).get_data(as_text=True)
    with app.test_request_context():
        service.revoke(app_db.session.get(User, leader.id), app_db.session.get(Registration, registration.id),
                       reason="Filming outside the programme.", expected_version=None)
        app_db.session.commit()
    body = client.get(path, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "REVOKED" in body and "Trần Văn Hộ" not in body


def test_a_changed_character_is_unknown_or_forged(app, approve, client, db, make_registration, make_user):
    registration, _ = make_registration(Status.in_review, start_in_days=-1, days=3)
    approve(registration.id, make_user(Role.leader).id)
    path = scanned_path(app, permit_of(db, registration.id))
    position = len(path) - 10
    forged = path[:position] + ("A" if path[position] != "A" else "B") + path[position + 1:]
    response = client.get(forged, headers={"Accept-Language": "en"})
    assert response.status_code == 404 and "UNKNOWN OR FORGED" in response.get_data(as_text=True)
    assert client.get("/v/not-a-token", headers={"Accept-Language": "en"}).status_code == 404


def test_after_the_end_date_the_permit_is_expired_and_before_it_not_yet_valid(app, approve, client, db,
                                                                              make_registration, make_user):
    leader = make_user(Role.leader)
    ended, _ = make_registration(Status.in_review, start_in_days=-10, days=3)
    upcoming, _ = make_registration(Status.in_review, start_in_days=20, days=3)
    approve(ended.id, leader.id)
    approve(upcoming.id, leader.id)
    ended_page = client.get(scanned_path(app, permit_of(db, ended.id)), headers={"Accept-Language": "en"})
    assert "EXPIRED" in ended_page.get_data(as_text=True)
    upcoming_page = client.get(scanned_path(app, permit_of(db, upcoming.id)), headers={"Accept-Language": "en"})
    assert "NOT YET VALID" in upcoming_page.get_data(as_text=True)


def test_the_key_set_is_published_and_verifies_offline(app, approve, client, db, runner, make_registration, make_user,
                                                       tmp_path):
    registration, _ = make_registration(Status.in_review, start_in_days=-1, days=3)
    approve(registration.id, make_user(Role.leader).id)
    token = scanned_path(app, permit_of(db, registration.id)).rsplit("/", 1)[1]
    key_set = client.get("/.well-known/pressdesk-permit-keys.json").get_json()
    assert key_set["keys"][0]["crv"] == "Ed25519"
    path = tmp_path / "keys.json"
    path.write_text(json.dumps(key_set))
    result = runner.invoke(args=["permits", "verify", token, "--key-set", str(path)])
    assert result.exit_code == 0 and "signature valid" in result.output
    # One character well inside the signature changed (six bits that count, unlike the padding bits
    # of the last character; and never "changed" into itself, as a fixed "AA" ending once was).
    position = len(token) - 10
    forged = token[:position] + ("B" if token[position] == "A" else "A") + token[position + 1:]
    result = runner.invoke(args=["permits", "verify", forged, "--key-set", str(path)])
    assert result.exit_code != 0 and "unknown or forged" in result.output


def test_rotated_keys_keep_old_permits_verifiable(app, approve, client, db, runner, make_registration, make_user):
    leader = make_user(Role.leader)
    first, _ = make_registration(Status.in_review, start_in_days=-1, days=3)
    approve(first.id, leader.id)
    old_path = scanned_path(app, permit_of(db, first.id))
    assert "is now current" in runner.invoke(args=["permits", "rotate-key"]).output
    second, _ = make_registration(Status.in_review, start_in_days=-1, days=3)
    approve(second.id, leader.id)
    new_path = scanned_path(app, permit_of(db, second.id))
    for path in (old_path, new_path):
        assert "VALID" in client.get(path, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert len(client.get("/.well-known/pressdesk-permit-keys.json").get_json()["keys"]) == 2


def test_the_verification_page_is_rate_limited(app, client):
    app.config["RATELIMIT_VERIFY"] = "5 per minute"
    statuses = [client.get("/v/some-token").status_code for _ in range(6)]
    assert statuses == [404] * 5 + [429]


def _scan(client, path, locale="en"):
    response = client.get(path, headers={"Accept-Language": locale})
    return response, response.get_data(as_text=True)


def test_the_page_shows_the_holder_as_approved_not_as_edited_afterwards(app, approve, client, db, make_registration,
                                                                        make_user):
    from app.outlets.models import CrewMember
    from app.uploads import open_stored

    registration, _ = make_registration(Status.in_review, start_in_days=-1, days=3)
    approve(registration.id, make_user(Role.leader).id)
    document = permit_of(db, registration.id)
    path = scanned_path(app, document)
    # Someone edits the crew record after the approval: another name, another photo.
    with app.test_request_context():
        from app.uploads import store_bytes

        member = app_db.session.get(CrewMember, document.crew_member_id)
        approved_name = member.full_name
        with open_stored(member.photo_stored_name) as stored:
            approved_photo = stored.read()
        member.full_name = "Somebody Else"
        member.photo_stored_name = new_photo = store_bytes(_other_photo(), "other.png").stored_name
        app_db.session.commit()
    response, body = _scan(client, path)
    assert response.status_code == 200 and "VALID" in body
    assert approved_name in body and "Somebody Else" not in body
    photo = client.get(path + "/photo")
    assert photo.status_code == 200 and photo.data == approved_photo
    holder = db.session.get(IssuedDocument, document.id).holder
    import hashlib

    assert holder.photo_sha256 == hashlib.sha256(approved_photo).hexdigest()
    assert holder.photo_stored_name != new_photo


def _other_photo() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (360, 480), "navy").save(buffer, format="PNG")
    return buffer.getvalue()


def test_every_verdict_names_the_authority_the_time_the_hotline_and_what_to_do(app, approve, client, db,
                                                                               make_registration, make_user):
    from app.authority import authority_profile

    leader = make_user(Role.leader)
    valid, _ = make_registration(Status.in_review, start_in_days=-1, days=3)
    ended, _ = make_registration(Status.in_review, start_in_days=-10, days=3)
    upcoming, _ = make_registration(Status.in_review, start_in_days=20, days=3)
    revoked, _ = make_registration(Status.in_review, start_in_days=-1, days=3)
    for registration in (valid, ended, upcoming, revoked):
        approve(registration.id, leader.id)
    paths = {name: scanned_path(app, permit_of(db, registration.id))
             for name, registration in (("valid", valid), ("expired", ended), ("not_yet_valid", upcoming),
                                        ("revoked", revoked))}
    with app.test_request_context():
        service.revoke(app_db.session.get(User, leader.id), app_db.session.get(Registration, revoked.id),
                       reason="Filming outside the programme.", expected_version=None)
        app_db.session.commit()
        profile = authority_profile()
    forged = paths["valid"][:-12] + ("A" if paths["valid"][-12] != "A" else "B") + paths["valid"][-11:]
    paths["unknown"] = forged
    holder_name = permit_of(db, valid.id).holder.full_name
    for outcome, path in paths.items():
        response, body = _scan(client, path)
        assert escape(profile.issuing_body_en) in body and profile.department_en in body, outcome
        assert f'href="tel:{profile.hotline.replace(" ", "")}"' in body, outcome
        assert "Checked online at" in body and "What to do" in body, outcome
        assert "PressDesk</a>" not in body  # headed by the authority, not by the software
        assert 'href="/v/' in body and "?lang=vi" in body  # the language is one tap, no menu
        assert "set-cookie" not in {name.lower() for name in response.headers.keys()}, outcome
        assert response.headers["Cache-Control"] == "no-store"
        if outcome in ("valid", "expired", "not_yet_valid"):
            assert "Approved places" in body and "Outlet" in body and "Trần Văn Hộ" in body, outcome
            assert "Nationality" in body and "issued on" in body, outcome
        elif outcome == "revoked":
            assert "REVOKED" in body and "Revoked on" in body and "Keep the document" in body
            assert "Permit number" in body and "Approved places" not in body and "Trần Văn Hộ" not in body
        else:
            assert response.status_code == 404 and "Keep the document" in body
            assert holder_name not in body and "Approved places" not in body and "Outlet" not in body
    vietnamese = client.get(paths["revoked"] + "?lang=vi").get_data(as_text=True)
    assert "ĐÃ BỊ THU HỒI" in vietnamese and escape(profile.issuing_body_vi) in vietnamese


def test_a_scan_reads_the_permit_in_a_fixed_number_of_statements(app, approve, client, db, make_registration,
                                                                 make_user):
    registration, _ = make_registration(Status.in_review, start_in_days=-1, days=3)
    approve(registration.id, make_user(Role.leader).id)
    path = scanned_path(app, permit_of(db, registration.id))
    client.deliver_mail = False  # the test client plays the outbox worker after each request: not counted here
    statements = []
    import threading

    this_thread = threading.get_ident()  # not the outbox worker's statements

    def count(conn, cursor, statement, *args):
        if threading.get_ident() == this_thread and not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "PRAGMA", "BEGIN")):
            statements.append(statement)

    with app.app_context():
        engine = app_db.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        client.get(path)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    # One read of the permit with its holder and registration, one insert of the check.
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1, "\n".join(s[:150] for s in statements)
    assert len([s for s in statements if s.lstrip().upper().startswith("INSERT")]) == 1, statements


def test_the_command_line_checks_revocation_offline_with_a_saved_list(app, approve, client, db, runner,
                                                                       make_registration, make_user, tmp_path):
    registration, _ = make_registration(Status.in_review, start_in_days=-1, days=3)
    leader = make_user(Role.leader)
    approve(registration.id, leader.id)
    token = scanned_path(app, permit_of(db, registration.id)).rsplit("/", 1)[1]
    keys, before, after = tmp_path / "keys.json", tmp_path / "before.json", tmp_path / "after.json"
    keys.write_text(client.get("/.well-known/pressdesk-permit-keys.json").get_data(as_text=True))
    before.write_text(client.get("/check/trust/revocations.json").get_data(as_text=True))
    with app.test_request_context():
        service.revoke(app_db.session.get(User, leader.id), app_db.session.get(Registration, registration.id),
                       reason="Filming outside the programme.", expected_version=None)
        app_db.session.commit()
    after.write_text(client.get("/check/trust/revocations.json").get_data(as_text=True))
    arguments = ["permits", "verify", token, "--key-set", str(keys), "--revocations"]
    result = runner.invoke(args=arguments + [str(before)])
    assert result.exit_code == 0 and "not revoked as of" in result.output
    result = runner.invoke(args=arguments + [str(after)])
    assert result.exit_code != 0 and "REVOKED at" in result.output
    tampered = json.loads(after.read_text())
    tampered["payload"] = json.loads(before.read_text())["payload"]  # an old list under a new signature
    after.write_text(json.dumps(tampered))
    result = runner.invoke(args=arguments + [str(after)])
    assert result.exit_code != 0 and "not a revocation list signed" in result.output


# --- a scan near the server's limit (issue 15): one query, a kept page, a buffered log ------------

def _statements_of(app, client, path, headers=None) -> list[str]:
    """Every SQL statement one scan sends from this thread (transaction control left out)."""
    import threading

    client.deliver_mail = False  # the test client plays the outbox worker after each request: not counted
    this_thread, statements = threading.get_ident(), []

    def count(conn, cursor, statement, *args):
        if threading.get_ident() == this_thread and not statement.lstrip().upper().startswith(
                ("SAVEPOINT", "RELEASE", "PRAGMA", "BEGIN", "COMMIT", "ROLLBACK")):
            statements.append(statement)

    with app.app_context():
        engine = app_db.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get(path, headers=headers or {"Accept-Language": "en"}).status_code in (200, 404)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    return statements


@pytest.fixture
def every_verdict(app, approve, db, make_registration, make_user):
    """The scanned paths of a valid, an expired, a not yet valid and a revoked permit, and a forged one."""
    leader = make_user(Role.leader)
    made = {"valid": make_registration(Status.in_review, start_in_days=-1, days=3)[0],
            "expired": make_registration(Status.in_review, start_in_days=-10, days=3)[0],
            "not_yet_valid": make_registration(Status.in_review, start_in_days=20, days=3)[0],
            "revoked": make_registration(Status.in_review, start_in_days=-1, days=3)[0]}
    for registration in made.values():
        approve(registration.id, leader.id)
    paths = {outcome: scanned_path(app, permit_of(db, registration.id)) for outcome, registration in made.items()}
    with app.test_request_context():
        service.revoke(app_db.session.get(User, leader.id), app_db.session.get(Registration, made["revoked"].id),
                       reason="Filming outside the programme.", expected_version=None)
        app_db.session.commit()
    paths["unknown"] = paths["valid"][:-12] + ("A" if paths["valid"][-12] != "A" else "B") + paths["valid"][-11:]
    return paths


def test_every_verdict_is_one_select_and_one_insert_whether_its_page_is_kept_or_not(app, client, every_verdict):
    for outcome, path in every_verdict.items():
        for scan in ("first, rendered", "again, from the kept page", "in Vietnamese"):
            statements = _statements_of(app, client, path + ("?lang=vi" if scan == "in Vietnamese" else ""))
            kinds = sorted(statement.lstrip().split(None, 1)[0].upper() for statement in statements)
            # A forged signature is refused before any query: only its check is written.
            assert kinds == (["INSERT"] if outcome == "unknown" else ["INSERT", "SELECT"]), (outcome, scan, statements)


def test_a_buffered_log_leaves_a_scan_a_single_select(app, client, every_verdict):
    app.config["VERIFICATION_CHECK_FLUSH_SECONDS"] = 3600  # nothing written by the thread in this test
    try:
        for outcome, path in every_verdict.items():
            statements = _statements_of(app, client, path)
            expected = 0 if outcome == "unknown" else 1  # a forged signature is refused before any query
            assert len(statements) == expected and all(
                statement.lstrip().upper().startswith("SELECT") for statement in statements), (outcome, statements)
    finally:
        _stop_check_log(app)


def _stop_check_log(app):
    check_log = app.extensions.get("verification_check_log")
    if check_log is not None:
        check_log.stop()


def test_an_anonymous_scan_sets_no_cookie_whatever_the_language_or_verdict(client, every_verdict):
    for outcome, path in every_verdict.items():
        for query, headers in (("", {}), ("", {"Accept-Language": "en"}), ("?lang=vi", {}), ("?lang=en", {}),
                               ("?lang=xx", {"Accept-Language": "vi"})):
            response = client.get(path + query, headers=headers)
            assert response.status_code == (404 if outcome == "unknown" else 200)
            assert "Set-Cookie" not in response.headers, (outcome, query, response.headers.getlist("Set-Cookie"))
            assert response.headers["Cache-Control"] == "no-store"
            # The security headers of every page are still there.
            assert response.headers["X-Frame-Options"] == "DENY" and "Content-Security-Policy" in response.headers
    assert not client.get_cookie("session")


def test_a_revocation_shows_at_the_next_scan_although_the_valid_page_is_kept(app, approve, client, db,
                                                                             make_registration, make_user):
    from app.verification.service import page_cache

    registration, _ = make_registration(Status.in_review, start_in_days=-1, days=3)
    leader = make_user(Role.leader)
    approve(registration.id, leader.id)
    path = scanned_path(app, permit_of(db, registration.id))
    for _ in range(3):
        assert "This permit is valid today." in _scan(client, path)[1]
    with app.app_context():
        assert len(page_cache()) == 1  # the valid page is kept, and used again
    with app.test_request_context():
        service.revoke(app_db.session.get(User, leader.id), app_db.session.get(Registration, registration.id),
                       reason="Filming outside the programme.", expected_version=None)
        app_db.session.commit()
    response, body = _scan(client, path)
    assert "REVOKED" in body and "valid today" not in body and "Trần Văn Hộ" not in body
    # Revoking the permit alone (not the registration) shows at once too.
    other, _ = make_registration(Status.in_review, start_in_days=-1, days=3)
    approve(other.id, leader.id)
    other_path = scanned_path(app, permit_of(db, other.id))
    assert "This permit is valid today." in _scan(client, other_path)[1]
    with app.app_context():
        app_db.session.execute(sa.update(IssuedDocument).where(IssuedDocument.id == permit_of(db, other.id).id)
                               .values(revoked_at=sa.func.now()))
        app_db.session.commit()
    assert "REVOKED" in _scan(client, other_path)[1]


def test_a_kept_page_changes_with_the_photo_removed_and_the_day(app, approve, client, db, frozen_clock,
                                                                make_registration, make_user):
    from app.documents.models import PermitHolder

    registration, _ = make_registration(Status.in_review, start_in_days=1, days=3)
    approve(registration.id, make_user(Role.leader).id)
    document = permit_of(db, registration.id)
    path = scanned_path(app, document)
    assert "NOT YET VALID" in _scan(client, path)[1]
    frozen_clock.shift(2 * 86400)  # two days later, the visit is under way
    body = _scan(client, path)[1]
    assert "This permit is valid today." in body and "NOT YET VALID" not in body and "/photo" in body
    with app.app_context():  # the retention rules remove the photo copy
        app_db.session.execute(sa.update(PermitHolder).where(PermitHolder.document_id == document.id)
                               .values(photo_stored_name=None, photo_content_type=None))
        app_db.session.commit()
    body = _scan(client, path)[1]
    assert "The photo was removed under the retention rules" in body and "/photo" not in body


def test_a_kept_page_says_the_time_of_each_scan(app, approve, client, db, frozen_clock, make_registration,
                                               make_user):
    import re

    registration, _ = make_registration(Status.in_review, start_in_days=-1, days=3)
    approve(registration.id, make_user(Role.leader).id)
    path = scanned_path(app, permit_of(db, registration.id))

    def time_of_check(body):
        return re.search(r"Checked online at ([^(]+) \(Viet Nam time\)", body).group(1)

    first = _scan(client, path)[1]
    frozen_clock.shift(3600 + 120)
    second = _scan(client, path)[1]
    assert time_of_check(first) != time_of_check(second)
    assert first.replace(time_of_check(first), "") == second.replace(time_of_check(second), "")  # the rest is kept


def test_buffered_checks_are_all_written_by_the_thread_and_at_exit(app, approve, client, db, make_registration,
                                                                  make_user):
    import time

    from app.verification.service import check_log

    app.config.update(VERIFICATION_CHECK_FLUSH_SECONDS=3600, VERIFICATION_CHECK_BUFFER_ROWS=3)
    registration, _ = make_registration(Status.in_review, start_in_days=-1, days=3)
    approve(registration.id, make_user(Role.leader).id)
    document = permit_of(db, registration.id)
    path = scanned_path(app, document)
    try:
        for _ in range(2):
            assert client.get(path, environ_base={"REMOTE_ADDR": "203.0.113.7"}).status_code == 200
        assert client.get("/v/forged-token").status_code == 404
        # A full buffer (3 rows) wakes the thread, which writes them in one INSERT: wait for it.
        for _ in range(100):
            if db.session.scalar(sa.select(sa.func.count()).select_from(VerificationCheck)) == 3:
                break
            time.sleep(0.05)
        checks = db.session.scalars(sa.select(VerificationCheck).order_by(VerificationCheck.id)).all()
        assert [(check.outcome, check.document_id) for check in checks] == [
            ("valid", document.id), ("valid", document.id), ("unknown", None)]
        assert checks[0].ip_address == "203.0.113.7" and not checks[0].offline
        client.get(path)
        with app.app_context():
            assert check_log().pending() == 1  # under the size, the thread waits for its interval
    finally:
        _stop_check_log(app)  # what a worker's exit does (atexit)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(VerificationCheck)) == 4


def test_a_failed_flush_keeps_its_checks_for_the_next_one(app, monkeypatch):
    from app.verification.service import CheckLog

    check_log = CheckLog(app, flush_seconds=3600, max_rows=1000)
    row = dict(checked_at=None, document_id=None, key_id=None, outcome="unknown", offline=False, ip_address=None)
    with app.app_context():
        from app.clock import utcnow

        row["checked_at"] = utcnow()
    check_log._rows.append(row)  # as add() does, without starting the thread
    monkeypatch.setattr(app_db.session, "execute", lambda *args, **kwargs: (_ for _ in ()).throw(
        sa.exc.OperationalError("INSERT", {}, Exception("the database is away"))))
    assert check_log.flush() == 0 and check_log.pending() == 1
    monkeypatch.undo()
    assert check_log.flush() == 1 and check_log.pending() == 0
