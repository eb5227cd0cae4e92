"""/healthz and /readyz: for a load balancer and monitoring; no login, no cookie, no limit."""
from __future__ import annotations

from datetime import timedelta


def test_healthz_answers_ok_without_the_database(app, client, monkeypatch):
    from app.extensions import db

    def no_database(*args, **kwargs):
        raise AssertionError("healthz must not touch the database")

    monkeypatch.setattr(db.session, "execute", no_database)
    client.deliver_mail = False  # the test client's outbox pass would query the database
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_data(as_text=True) == "ok"
    assert "Set-Cookie" not in response.headers and response.headers["Cache-Control"] == "no-store"


def test_readyz_reports_database_and_outbox(app, client, db):
    from app.clock import utcnow
    from app.outbox.models import OutboxMessage

    response = client.get("/readyz")
    assert response.status_code == 200 and response.is_json
    assert response.json["status"] == "ready" and response.json["failing"] == []
    assert response.json["checks"]["database"] == {"ok": True}
    assert response.json["checks"]["outbox"] == {"ok": True, "backlog": 0, "oldest_unsent_age_seconds": None}
    assert "rate_limit_storage" not in response.json["checks"]  # memory://: nothing to check
    assert "Set-Cookie" not in response.headers

    now = utcnow()
    for minutes, sent in ((90, False), (5, False), (200, True)):
        db.session.add(OutboxMessage(recipient="someone@example.org", subject="s", body_text="b", template="t",
                                     locale="en", created_at=now - timedelta(minutes=minutes),
                                     next_attempt_at=now, sent_at=now if sent else None))
    db.session.commit()
    outbox = client.get("/readyz").json["checks"]["outbox"]
    assert outbox["backlog"] == 2 and 90 * 60 <= outbox["oldest_unsent_age_seconds"] < 91 * 60
    assert "someone@example.org" not in client.get("/readyz").get_data(as_text=True)


def test_readyz_names_the_failing_database(app, client, monkeypatch):
    from app.extensions import db

    def broken(*args, **kwargs):
        raise ConnectionError("database down")

    monkeypatch.setattr(db.session, "execute", broken)
    client.deliver_mail = False  # the test client's outbox pass would query the database
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["status"] == "not ready" and response.json["failing"] == ["database"]
    assert "database down" not in response.get_data(as_text=True)


def test_health_checks_are_exempt_from_rate_limits(app, client, monkeypatch):
    """Under an application-wide limit of 2 a minute, the login page is limited; the checks are not."""
    from flask_limiter import ApplicationLimit

    from app.extensions import limiter

    # Restored by monkeypatch: the limiter is one object for the whole test process.
    monkeypatch.setattr(limiter.limit_manager, "_application_limits",
                        [ApplicationLimit("2 per minute").bind(limiter)])
    assert [client.get("/login").status_code for _ in range(3)] == [200, 200, 429]
    for path in ("/healthz", "/readyz"):
        assert {client.get(path).status_code for _ in range(5)} == {200}, path
