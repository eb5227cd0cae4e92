"""Configuration layers, the production guard, the authority profile."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from app import create_app, normalise_database_url
from app.authority import AuthorityProfileError, authority_profile

PUBLIC = "https://pressdesk.example.gov.vn"  # production refuses a loopback or http BASE_URL


def test_production_refuses_to_start_without_a_secret_key(monkeypatch, tmp_path):
    monkeypatch.delenv("PRESSDESK_SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="PRESSDESK_SECRET_KEY is not set"):
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"})


def test_development_makes_and_keeps_a_secret_key(tmp_path, monkeypatch):
    monkeypatch.delenv("PRESSDESK_SECRET_KEY", raising=False)
    config = {"ENV_NAME": "development", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"}
    first = create_app(config)
    second = create_app(config)
    assert first.config["SECRET_KEY"] and first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert first.config["SESSION_COOKIE_SECURE"] is False and first.config["HSTS_ENABLED"] is False


def test_environment_variables_override_defaults(monkeypatch, tmp_path):
    monkeypatch.setenv("PRESSDESK_SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("PRESSDESK_MAIL_PORT", "2525")
    monkeypatch.setenv("PRESSDESK_BASE_URL", "https://pressdesk.example.gov.vn")
    monkeypatch.setenv("PRESSDESK_SQLALCHEMY_DATABASE_URI", "postgresql://pressdesk@db.internal/pressdesk")
    app = create_app()
    assert app.config["SECRET_KEY"] == "from-the-environment"
    assert app.config["MAIL_PORT"] == 2525
    assert app.config["BASE_URL"] == "https://pressdesk.example.gov.vn"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://pressdesk@db.internal/pressdesk"
    assert app.config["SESSION_COOKIE_SECURE"] is True and app.config["HSTS_ENABLED"] is True


def test_default_database_is_sqlite_in_the_instance_folder(monkeypatch):
    monkeypatch.setenv("PRESSDESK_SECRET_KEY", "x")
    monkeypatch.delenv("PRESSDESK_SQLALCHEMY_DATABASE_URI", raising=False)
    monkeypatch.setenv("PRESSDESK_BASE_URL", PUBLIC)
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{app.instance_path}/pressdesk.db"


@pytest.mark.parametrize("given, expected", [
    ("postgresql://u@h/d", "postgresql+psycopg://u@h/d"),
    ("postgres://u@h/d", "postgresql+psycopg://u@h/d"),
    ("postgresql+psycopg://u@h/d", "postgresql+psycopg://u@h/d"),
    ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
])
def test_database_urls_use_psycopg_3(given, expected):
    assert normalise_database_url(given) == expected


def test_demo_authority_profile_says_demo(app):
    with app.app_context():
        profile = authority_profile()
    assert profile.is_demo and "DEMO" in profile.province_name_vi and "DEMO" in profile.province_name_en
    assert profile.reply_deadline_working_days == 5
    assert profile.document_symbols["approval_letter"] == "UBND-NgV"


def test_authority_profile_from_a_file(tmp_path, monkeypatch):
    from app.authority import DEMO_PROFILE

    data = json.loads(DEMO_PROFILE.read_text(encoding="utf-8"))
    data.update(is_demo=False, province_name_vi="Tỉnh Đồng Nai", province_name_en="Dong Nai Province",
                reply_deadline_working_days=3)
    path = tmp_path / "authority.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    app = create_app({"SECRET_KEY": "x", "AUTHORITY_PROFILE_FILE": str(path), "BASE_URL": PUBLIC,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"})
    with app.app_context():
        profile = authority_profile()
    assert profile.province_name_vi == "Tỉnh Đồng Nai" and profile.reply_deadline_working_days == 3


@pytest.mark.parametrize("change, message", [
    ({"reply_deadline_working_days": 0}, "from 1 to 60"),
    ({"reply_deadline_working_days": "five"}, "from 1 to 60"),
    ({"unexpected": 1}, "unknown keys"),
])
def test_a_wrong_authority_profile_stops_the_start(tmp_path, change, message):
    from app.authority import DEMO_PROFILE

    data = json.loads(DEMO_PROFILE.read_text(encoding="utf-8"))
    data.update(change)
    path = tmp_path / "authority.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(AuthorityProfileError, match=message):
        create_app({"SECRET_KEY": "x", "AUTHORITY_PROFILE_FILE": str(path), "BASE_URL": PUBLIC,
                    "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"})


def test_missing_authority_profile_keys_stop_the_start(tmp_path):
    path = tmp_path / "authority.json"
    path.write_text(json.dumps({"province_name_vi": "X"}), encoding="utf-8")
    with pytest.raises(AuthorityProfileError, match="missing"):
        create_app({"SECRET_KEY": "x", "AUTHORITY_PROFILE_FILE": str(path), "BASE_URL": PUBLIC,
                    "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"})


# --- the public address (BASE_URL) --------------------------------------------------

@pytest.mark.parametrize("base_url", ["http://127.0.0.1:5000", "https://localhost", "https://127.0.0.2",
                                      "https://[::1]:8443", "http://pressdesk.example.gov.vn",
                                      "https://0.0.0.0", "pressdesk.example.gov.vn", "https://app.localhost"])
def test_production_refuses_to_start_on_a_loopback_or_plain_http_address(tmp_path, base_url):
    with pytest.raises(RuntimeError, match="PRESSDESK_ALLOW_INSECURE_BASE_URL=true"):
        create_app({"SECRET_KEY": "x", "BASE_URL": base_url, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"})


def test_production_starts_on_https_or_when_told_explicitly(tmp_path, monkeypatch):
    database = f"sqlite:///{tmp_path}/x.db"
    assert create_app({"SECRET_KEY": "x", "BASE_URL": "https://pressdesk.example.gov.vn",
                       "SQLALCHEMY_DATABASE_URI": database})
    assert create_app({"SECRET_KEY": "x", "BASE_URL": "https://10.20.0.5", "SQLALCHEMY_DATABASE_URI": database})
    monkeypatch.setenv("PRESSDESK_ALLOW_INSECURE_BASE_URL", "true")
    assert create_app({"SECRET_KEY": "x", "BASE_URL": "http://127.0.0.1:5000", "SQLALCHEMY_DATABASE_URI": database})


def test_development_and_tests_may_use_a_local_address_unless_told_otherwise(tmp_path):
    database = f"sqlite:///{tmp_path}/x.db"
    assert create_app({"ENV_NAME": "development", "SQLALCHEMY_DATABASE_URI": database})
    assert create_app({"TESTING": True, "SECRET_KEY": "x", "BASE_URL": "http://localhost",
                       "SQLALCHEMY_DATABASE_URI": database})
    with pytest.raises(RuntimeError, match="not https"):
        create_app({"TESTING": True, "SECRET_KEY": "x", "BASE_URL": "http://pressdesk.example.gov.vn",
                    "ALLOW_INSECURE_BASE_URL": False, "SQLALCHEMY_DATABASE_URI": database})


@pytest.fixture
def production_address_rule(app_config):
    """The rule as in production (ALLOW_INSECURE_BASE_URL false), on a public https address."""
    app_config.update(ALLOW_INSECURE_BASE_URL=False, BASE_URL="https://pressdesk.example.gov.vn")


def test_no_permit_is_issued_for_a_local_address_and_nothing_is_half_saved(
        production_address_rule, app, client, db, make_registration, make_user):
    from app.audit.models import AuditEvent
    from app.auth.models import Role
    from app.documents.models import DocumentCounter, IssuedDocument
    from app.outbox.models import OutboxMessage
    from app.registrations.models import Registration, Status
    from app.auth.models import User
    from app.extensions import db as app_db
    from tests.support import login, post_form, propose

    registration, _ = make_registration(Status.in_review)
    leader, officer = make_user(Role.leader, locale="en"), make_user(Role.officer)
    with app.test_request_context():
        propose(app_db.session.get(Registration, registration.id), app_db.session.get(User, officer.id))
        app_db.session.commit()
        app_db.session.remove()
    registration = db.session.get(Registration, registration.id)
    login(client, leader.email)
    # The address changed after the start (instance/config.py edited, a process not restarted...).
    app.config["BASE_URL"] = "http://127.0.0.1:5000"
    uploads = sorted(path.name for path in __import__("pathlib").Path(app.config["UPLOAD_FOLDER"]).rglob("*"))
    events = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    mails = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))
    detail = f"/registrations/{registration.id}"
    response = post_form(client, f"{detail}/approve", {"version": registration.version}, page=detail)
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert "No permit issued" in body and "PRESSDESK_BASE_URL" in body and "http://127.0.0.1:5000" in body
    assert "Reference: " + response.headers["X-Request-ID"] in body
    stored = db.session.get(Registration, registration.id)
    assert stored.status is Status.in_review and stored.version == registration.version
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IssuedDocument)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DocumentCounter)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == events
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == mails
    assert sorted(path.name for path in __import__("pathlib").Path(app.config["UPLOAD_FOLDER"]).rglob("*")) == uploads

    # In Vietnamese too.
    vietnamese = post_form(client, f"{detail}/approve", {"version": registration.version}, page=detail,
                           headers={"Accept-Language": "vi"})
    assert vietnamese.status_code == 409

    # Back on the public address, the same decision goes through.
    app.config["BASE_URL"] = "https://pressdesk.example.gov.vn"
    response = post_form(client, f"{detail}/approve", {"version": registration.version}, page=detail)
    assert response.status_code == 302
    assert db.session.get(Registration, registration.id).status is Status.approved


def test_permit_url_refuses_a_local_address_outside_development(production_address_rule, app):
    from app.ops.addresses import UnsafePublicAddress, require_permit_address

    with app.test_request_context():
        assert require_permit_address() == "https://pressdesk.example.gov.vn"
        app.config["BASE_URL"] = "https://localhost:8443"
        with pytest.raises(UnsafePublicAddress):
            require_permit_address()
        app.config["ALLOW_INSECURE_BASE_URL"] = True
        assert require_permit_address() == "https://localhost:8443"
