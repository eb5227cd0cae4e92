"""PressDesk: foreign press registrations, letters, permits and promotional products."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask
from werkzeug.routing import IntegerConverter, ValidationError

from app import config as default_config


def create_app(test_config: dict | None = None) -> Flask:
    """Build the application: config layers, extensions, blueprints, CLI."""
    app = Flask(__name__, instance_path=_instance_path_from_environment(), instance_relative_config=True,
                template_folder="../templates")
    app.jinja_env.add_extension("jinja2.ext.do")
    app.url_map.converters["int"] = DatabaseIdConverter  # before any route is added
    app.config.from_object(default_config)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("PRESSDESK")
    if test_config is not None:
        app.config.from_mapping(test_config)
    _finish_config(app)

    from app.extensions import babel, bootstrap, csrf, db, limiter, login_manager, mail, migrate

    db.init_app(app)
    from app.db import render_migration_item

    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"),
                     render_as_batch=True, compare_type=True, render_item=render_migration_item)
    login_manager.init_app(app)
    mail.init_app(app)
    csrf.init_app(app)
    bootstrap.init_app(app)
    limiter.init_app(app)

    from app import i18n, ops, security, uploads
    from app.database import install_engine_events

    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)
    i18n.init_app(app)
    security.init_app(app)
    ops.init_app(app)  # logs and request ids, /healthz and /readyz
    install_engine_events(app)
    uploads.init_app(app)  # `flask uploads sweep`; files follow their transaction

    from app.authority import load_authority_profile

    app.extensions["authority_profile"] = load_authority_profile(app)

    from app import (admin, audit, auth, backup, checkpoint, demo, devmail, documents, errors, guide, indicators, main,
                     outbox, outlets, places, privacy, products, reference, registrations, verification, visits,
                     worklist)

    for area in (main, auth, admin, audit, outbox, devmail, places, reference, outlets, registrations, documents,
                 verification, privacy, checkpoint, guide, products, indicators, visits, worklist, demo, backup):
        area.init_app(app)
    errors.init_app(app)
    return app


class DatabaseIdConverter(IntegerConverter):
    """`<int:...>` in every route: a number an INTEGER column can hold (at most 2**31 - 1), so a
    longer id is a 404 instead of an overflow in the database (a 500 on PostgreSQL and SQLite)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)

    def to_python(self, value: str):
        if len(value) > 10:  # int() of thousands of digits is slow, then refused (ValueError)
            raise ValidationError()
        return super().to_python(value)


def _instance_path_from_environment() -> str | None:
    """PRESSDESK_INSTANCE_PATH: this host's instance folder (its config.py, and the database, keys and
    uploads unless they are named elsewhere); None: instance/ beside the code.

    Read from the environment before any config, since config.py is found in it. Several app servers
    each have their own (as separate hosts would); what they must share is named by its own setting
    (UPLOAD_FOLDER, PERMIT_KEYS_DIR, DATA_KEY_FILE). Flask wants an absolute path.
    """
    path = os.environ.get("PRESSDESK_INSTANCE_PATH")
    return os.path.abspath(path) if path else None


def _finish_config(app: Flask) -> None:
    """Derive settings that depend on others, and refuse unsafe production settings."""
    config = app.config
    development = config["ENV_NAME"] == "development"
    # Unset (None) means: secure everywhere except on a development laptop over http.
    for key in ("SESSION_COOKIE_SECURE", "HSTS_ENABLED"):
        if config.get(key) is None:
            config[key] = not development
    if not config.get("SECRET_KEY"):
        if not development and not config.get("TESTING"):
            raise RuntimeError(
                "PRESSDESK_SECRET_KEY is not set. Production refuses to start without a secret key; "
                "set it in the environment or in instance/config.py."
            )
        config["SECRET_KEY"] = _development_secret_key(app)
    if not config.get("SQLALCHEMY_DATABASE_URI"):
        _private_instance_folder(app)
        config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(app.instance_path, "pressdesk.db")
    config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(config["SQLALCHEMY_DATABASE_URI"])
    if config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # SQLite does not pool like a server; pre-ping is only noise there.
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {}
    if not config.get("UPLOAD_FOLDER"):
        _private_instance_folder(app)
        config["UPLOAD_FOLDER"] = os.path.join(app.instance_path, "uploads")
    if config.get("TWO_FACTOR_REQUIRED_ROLES") is None:
        config["TWO_FACTOR_REQUIRED_ROLES"] = "" if development else "leader,admin"
    from app.ops import finish_config as finish_ops_config

    finish_ops_config(config)  # the public address rule, Redis timeouts


def normalise_database_url(url: str) -> str:
    """Serve postgresql:// and postgres:// URLs with psycopg 3."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _development_secret_key(app: Flask) -> str:
    """A random key kept in instance/ so that `make run` sessions survive a restart."""
    _private_instance_folder(app)
    path = Path(app.instance_path) / "development-secret-key"
    if not path.exists():
        # Created 0600 from the start: no moment when another user could read it.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as key_file:
            key_file.write(secrets.token_urlsafe(48))
    elif path.stat().st_mode & 0o077 and path.stat().st_uid == os.getuid():
        path.chmod(0o600)
    return path.read_text().strip()


def _private_instance_folder(app: Flask) -> None:
    """instance/ (database, keys, uploads) is readable by the service user only: mode 0700."""
    os.makedirs(app.instance_path, mode=0o700, exist_ok=True)
    folder = Path(app.instance_path)
    if folder.stat().st_uid == os.getuid() and folder.stat().st_mode & 0o077:
        folder.chmod(0o700)
