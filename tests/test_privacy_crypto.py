"""Passport numbers, dates of birth and two-factor secrets encrypted at rest (app/privacy/crypto.py):
the raw rows hold neither; `flask privacy rotate-key` re-encrypts every value under a new key that
another process reads too; `--retire` removes the unused keys and refuses while one is used; the
staff queue still finds a registration by a crew member's passport number (its keyed hash)."""
from __future__ import annotations

import json
from datetime import date

import pytest
import sqlalchemy as sa
from cryptography.exceptions import InvalidTag

from app.auth.models import Role, User
from app.extensions import db as app_db
from app.outlets.models import CrewMember
from app.privacy import crypto
from app.privacy.crypto import passport_search_hash
from app.registrations.models import Status
from tests.support import login

QUEUE = "/staff/registrations"
ENCRYPTED = (("crew_members", "passport_number"), ("crew_members", "date_of_birth"), ("users", "two_factor_secret"))


@pytest.fixture
def key_file(tmp_path, app_config):
    """This test's own data key file: rotation must not change the one the other tests share
    (name it before `app` in the test's arguments)."""
    path = tmp_path / "keys" / "data-key.json"
    app_config["DATA_KEY_FILE"] = str(path)
    return path


def raw_values(app, table: str, column: str) -> list[tuple[int, str | None]]:
    with app.app_context():
        return [tuple(row) for row in app_db.session.execute(sa.text(f"SELECT id, {column} FROM {table} ORDER BY id"))]


def all_raw_values(app) -> list[str]:
    return [value for table, column in ENCRYPTED for _id, value in raw_values(app, table, column) if value]


def file_of(path) -> dict:
    return json.loads(path.read_text())


def crew(make_outlet, make_crew_member, count: int):
    outlet = make_outlet()
    return [make_crew_member(outlet, full_name=f"Member {number}") for number in range(count)]


def give_two_factor_secret(app, user, secret: str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP") -> None:
    with app.app_context():
        app_db.session.get(User, user.id).two_factor_secret = secret
        app_db.session.commit()


def readable(app, member_ids) -> dict[int, tuple[str, date]]:
    """What the models read, in a fresh session of this application."""
    with app.app_context():
        members = app_db.session.scalars(sa.select(CrewMember).where(CrewMember.id.in_(member_ids))).all()
        values = {member.id: (member.passport_number, member.date_of_birth) for member in members}
        app_db.session.remove()
        return values


# --- at rest ---------------------------------------------------------------------------------

def test_the_raw_row_holds_neither_the_passport_number_nor_the_date_of_birth(app, db, make_outlet,
                                                                             make_crew_member, make_user):
    member = make_crew_member(make_outlet())
    user = make_user(Role.leader)
    give_two_factor_secret(app, user)
    with app.app_context():
        current = crypto.data_keys().current
        row = app_db.session.execute(sa.text(
            "SELECT passport_number, date_of_birth, passport_number_hash FROM crew_members WHERE id = :id"),
            {"id": member.id}).one()
        secret = app_db.session.execute(sa.text("SELECT two_factor_secret FROM users WHERE id = :id"),
                                        {"id": user.id}).scalar_one()
    everything = " ".join(str(value) for value in (*row, secret))
    for plain in (member.passport_number, "1985-04-12", "1985", "JBSWY3DP"):
        assert plain not in everything
    # The key id beside each value; the search column is a keyed hash, not a plain digest.
    assert row.passport_number.startswith(f"pd1:{current}:") and row.date_of_birth.startswith(f"pd1:{current}:")
    assert secret.startswith(f"pd1:{current}:")
    assert row.passport_number_hash == passport_search_hash(member.passport_number)
    import hashlib
    assert row.passport_number_hash != hashlib.sha256(member.passport_number.encode()).hexdigest()
    # Two members with the same data get different ciphertexts (a fresh nonce each time).
    with app.app_context():
        twin = CrewMember(outlet_id=member.outlet_id, full_name="Twin", nationality="NO",
                          date_of_birth=date(1985, 4, 12), passport_number=member.passport_number,
                          passport_expiry=date(2030, 1, 1), role=member.role)
        app_db.session.add(twin)
        app_db.session.commit()
        twin_id = twin.id
    assert raw_values(app, "crew_members", "passport_number")[-1][1] != row.passport_number
    # The models read the values back.
    stored = db.session.get(CrewMember, member.id)
    assert (stored.passport_number, stored.date_of_birth) == (member.passport_number, date(1985, 4, 12))
    assert db.session.get(User, user.id).two_factor_secret == "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    assert db.session.get(CrewMember, twin_id).passport_number == member.passport_number


def test_a_value_moved_to_another_column_does_not_open(app, make_outlet, make_crew_member):
    member = make_crew_member(make_outlet())
    with app.app_context():
        app_db.session.execute(sa.text("UPDATE crew_members SET passport_number = date_of_birth WHERE id = :id"),
                               {"id": member.id})
        app_db.session.commit()
        app_db.session.remove()
    with app.app_context(), pytest.raises(InvalidTag):
        app_db.session.get(CrewMember, member.id).passport_number  # noqa: B018  (the column is the AAD)


# --- rotation --------------------------------------------------------------------------------

def test_rotation_re_encrypts_every_value_under_a_new_key_that_a_new_process_reads(
        key_file, app, make_app, make_outlet, make_crew_member, make_user):
    members = crew(make_outlet, make_crew_member, 5)
    user = make_user(Role.admin)
    give_two_factor_secret(app, user)
    before = readable(app, [member.id for member in members])
    old_key = file_of(key_file)["current"]
    assert {value.split(":")[1] for value in all_raw_values(app)} == {old_key}
    old_raw = set(all_raw_values(app))

    result = app.test_cli_runner().invoke(args=["privacy", "rotate-key", "--batch-size", "2"])
    assert result.exit_code == 0, result.output

    written = file_of(key_file)
    new_key = written["current"]
    assert new_key != old_key and set(written["keys"]) == {old_key, new_key}  # the old key is kept
    assert f"New current data key {new_key}" in result.output
    assert "crew_members.passport_number: 5 values re-encrypted" in result.output
    assert "users.two_factor_secret: 1 values re-encrypted" in result.output
    values = all_raw_values(app)
    assert len(values) == 11 and {value.split(":")[1] for value in values} == {new_key}
    assert not old_raw & set(values)
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    # The same values, in this process and in a new application that reads the file afresh.
    assert readable(app, before) == before
    other = make_app(DATA_KEY_FILE=str(key_file))
    assert readable(other, before) == before
    with other.app_context():
        assert app_db.session.get(User, user.id).two_factor_secret == "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
        app_db.session.remove()
    # The search hashes did not change: the search key is kept.
    with app.app_context():
        hashes = dict(app_db.session.execute(sa.text("SELECT id, passport_number_hash FROM crew_members")).all())
        assert all(hashes[member.id] == passport_search_hash(member.passport_number) for member in members)


def test_a_process_that_read_the_old_file_seals_under_the_new_key_and_reads_the_new_values(
        key_file, app, make_app, make_outlet, make_crew_member):
    first, second = crew(make_outlet, make_crew_member, 2)
    assert readable(app, [first.id])  # this application has the keys in memory now
    rotator = make_app(DATA_KEY_FILE=str(key_file))
    assert rotator.test_cli_runner().invoke(args=["privacy", "rotate-key"]).exit_code == 0
    new_key = file_of(key_file)["current"]

    # It seals what it writes under the new current key, not the one it had loaded (written
    # without reading a value first: reading one sealed under an unknown key also reloads the file).
    with app.app_context():
        app_db.session.execute(sa.update(CrewMember).where(CrewMember.id == first.id)
                               .values(passport_number="NEW12345"))
        app_db.session.commit()
    assert dict(raw_values(app, "crew_members", "passport_number"))[first.id].startswith(f"pd1:{new_key}:")
    # And it reads the values sealed under the key it did not know.
    assert readable(app, [first.id, second.id]) == {first.id: ("NEW12345", date(1985, 4, 12)),
                                                    second.id: (second.passport_number, date(1985, 4, 12))}


def test_retire_removes_the_keys_no_value_uses_and_refuses_while_one_does(key_file, app, make_outlet,
                                                                         make_crew_member):
    members = crew(make_outlet, make_crew_member, 3)
    runner = app.test_cli_runner()
    first_key = file_of(key_file)["current"]
    assert runner.invoke(args=["privacy", "rotate-key"]).exit_code == 0
    second_key = file_of(key_file)["current"]
    # A process that wrote during the rotation with the key it had read: one value under the old key.
    with app.app_context():
        old = crypto.read_key_file(key_file)
        old.current = first_key
        straggler = crypto.encrypt(members[1].passport_number, "crew_members.passport_number", old)
        app_db.session.execute(sa.text("UPDATE crew_members SET passport_number = :value WHERE id = :id"),
                               {"value": straggler, "id": members[1].id})
        app_db.session.commit()

    status = runner.invoke(args=["privacy", "key-status"])
    assert status.exit_code == 0, status.output
    assert f"{first_key}: 1 in crew_members.passport_number" in status.output
    assert f"{second_key} (current): 3 in crew_members.date_of_birth, 2 in crew_members.passport_number" \
        in status.output

    refused = runner.invoke(args=["privacy", "rotate-key", "--retire"])
    assert refused.exit_code == 1
    assert f"Not retired: stored values still use older keys ({first_key}: 1 in crew_members.passport_number)" \
        in refused.output
    assert set(file_of(key_file)["keys"]) == {first_key, second_key}  # nothing removed

    # Rotating again takes the straggler along; then both older keys go.
    assert runner.invoke(args=["privacy", "rotate-key"]).exit_code == 0
    third_key = file_of(key_file)["current"]
    retired = runner.invoke(args=["privacy", "rotate-key", "--retire"])
    assert retired.exit_code == 0, retired.output
    assert f"Retired from {key_file}: {', '.join(sorted([first_key, second_key]))}" in retired.output
    written = file_of(key_file)
    assert written["current"] == third_key and set(written["keys"]) == {third_key}
    assert {value.split(":")[1] for value in all_raw_values(app)} == {third_key}
    assert readable(app, [member.id for member in members]) == {
        member.id: (member.passport_number, date(1985, 4, 12)) for member in members}
    again = runner.invoke(args=["privacy", "rotate-key", "--retire"])
    assert again.exit_code == 0 and "nothing to retire" in again.output


def test_a_value_no_key_opens_stops_the_rotation_with_its_row(key_file, app, make_outlet, make_crew_member):
    first, second = crew(make_outlet, make_crew_member, 2)
    with app.app_context():
        app_db.session.execute(sa.text("UPDATE crew_members SET date_of_birth = :value WHERE id = :id"),
                               {"value": "pd1:k20200101-dead:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "id": second.id})
        app_db.session.commit()
    result = app.test_cli_runner().invoke(args=["privacy", "rotate-key"])
    assert result.exit_code == 1
    assert f"crew_members.date_of_birth of row {second.id} cannot be decrypted" in result.output
    status = app.test_cli_runner().invoke(args=["privacy", "key-status"])
    assert status.exit_code == 1 and "k20200101-dead NOT IN THE FILE: 1 in crew_members.date_of_birth" in status.output
    # What was done stays done and readable; the key file still holds both keys.
    assert len(file_of(key_file)["keys"]) == 2
    assert readable(app, [first.id])[first.id] == (first.passport_number, date(1985, 4, 12))


# --- search by passport number ---------------------------------------------------------------

def _spelled_loosely(number: str) -> str:
    """The number as someone types it from a passport: lower case, with spaces and a dash."""
    lower = number.lower()
    return f" {lower[:2]} {lower[2:4]}-{lower[4:]} "


def test_the_queue_finds_a_registration_by_a_crew_members_passport_number(app, client, db, make_user,
                                                                          make_registration):
    wanted, _ = make_registration(Status.in_review)
    other, _ = make_registration(Status.in_review)
    number = db.session.get(type(wanted), wanted.id).crew_members[0].passport_number
    login(client, make_user(Role.officer, locale="en").email)

    for term in (number, _spelled_loosely(number)):
        page = client.get(QUEUE, query_string={"q": term}).get_data(as_text=True)
        assert wanted.reference in page and other.reference not in page, term
        rows = page[page.index("<tbody>"):page.index("</tbody>")]
        assert number not in rows  # the list does not print passport numbers
    # An exact number only: a part of it finds nothing.
    page = client.get(QUEUE, query_string={"q": number[:-1]}).get_data(as_text=True)
    assert wanted.reference not in page
    # Names and references are still searched as before.
    page = client.get(QUEUE, query_string={"q": other.reference}).get_data(as_text=True)
    assert other.reference in page and wanted.reference not in page
    assert "name, place or passport number" in page  # the search field's hint names what it covers


def test_the_search_by_number_still_works_after_a_rotation(key_file, app, client, db, make_user, make_registration):
    wanted, _ = make_registration(Status.submitted)
    number = db.session.get(type(wanted), wanted.id).crew_members[0].passport_number
    assert app.test_cli_runner().invoke(args=["privacy", "rotate-key"]).exit_code == 0
    login(client, make_user(Role.leader).email)
    page = client.get(QUEUE, query_string={"q": _spelled_loosely(number)}).get_data(as_text=True)
    assert wanted.reference in page
