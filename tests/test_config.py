"""Configuration layers, the production guard, the authority profile."""
from __future__ import annotations

import json

import pytest

from app import create_app, normalise_database_url
from app.authority import AuthorityProfileError, authority_profile


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
    app = create_app({"SECRET_KEY": "x", "AUTHORITY_PROFILE_FILE": str(path),
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
        create_app({"SECRET_KEY": "x", "AUTHORITY_PROFILE_FILE": str(path),
                    "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"})


def test_missing_authority_profile_keys_stop_the_start(tmp_path):
    path = tmp_path / "authority.json"
    path.write_text(json.dumps({"province_name_vi": "X"}), encoding="utf-8")
    with pytest.raises(AuthorityProfileError, match="missing"):
        create_app({"SECRET_KEY": "x", "AUTHORITY_PROFILE_FILE": str(path),
                    "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"})
