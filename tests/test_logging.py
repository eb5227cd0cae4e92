"""Structured logs, request ids, and secret links kept out of the logs."""
from __future__ import annotations

import json
import logging
import re

import pytest

from app.ops.logs import redact


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_a_json_log_line_carries_the_request_id_of_the_response(make_app, app, capsys):
    application = make_app(LOG_FORMAT="json")
    capsys.readouterr()
    response = application.test_client().get("/login", environ_base={"REMOTE_ADDR": "198.51.100.3"})
    request_id = response.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    [line] = [entry for entry in json_lines(capsys.readouterr().err) if entry.get("path") == "/login"]
    assert line["request_id"] == request_id
    assert line["method"] == "GET" and line["status"] == 200 and line["remote_addr"] == "198.51.100.3"
    assert line["level"] == "INFO" and line["logger"] == "app.request" and isinstance(line["duration_ms"], float)
    assert line["time"].endswith("+00:00") and line["message"] == "GET /login 200"


def test_every_line_is_one_json_object(make_app, app, capsys):
    application = make_app(LOG_FORMAT="json")

    @application.route("/_log")
    def write_a_line():
        application.logger.warning("multi\nline %s", "message")
        try:
            raise ValueError("boom")
        except ValueError:
            application.logger.exception("it failed")
        return "ok"

    capsys.readouterr()
    response = application.test_client().get("/_log")
    lines = capsys.readouterr().err.splitlines()
    entries = [json.loads(line) for line in lines if line.strip()]
    warning = next(entry for entry in entries if entry["level"] == "WARNING")
    assert warning["message"] == "multi\nline message" and warning["request_id"] == response.headers["X-Request-ID"]
    error = next(entry for entry in entries if entry["level"] == "ERROR")
    assert "ValueError: boom" in error["exception"]


def test_the_reset_link_is_logged_redacted(make_app, app, capsys):
    application = make_app(LOG_FORMAT="json")
    capsys.readouterr()
    application.test_client().get("/reset-password/Sup3rSecretT0ken-abc")
    application.test_client().get("/calendar/AnotherSecret.ics")
    application.test_client().get("/confirm/resend")
    err = capsys.readouterr().err
    assert "Sup3rSecretT0ken" not in err and "AnotherSecret" not in err
    paths = [entry.get("path") for entry in json_lines(err)]
    assert "/reset-password/[redacted]" in paths and "/calendar/[redacted].ics" in paths
    assert "/confirm/resend" in paths


@pytest.mark.parametrize("path, logged", [
    ("/reset-password/abc", "/reset-password/[redacted]"),
    ("/invitation/abc?x=1", "/invitation/[redacted]?x=1"),
    ("/confirm/abc", "/confirm/[redacted]"),
    ("/confirm/resend", "/confirm/resend"),
    ("/confirm/resendXYZ", "/confirm/[redacted]"),
    ("/calendar/abc.ics", "/calendar/[redacted].ics"),
    ("/calendar", "/calendar"),
    ("/v/eyJhbGciOi.long.token", "/v/[redacted]"),
    ("/v/eyJhbGciOi/photo", "/v/[redacted]/photo"),
    ('"GET /reset-password/abc HTTP/1.1" 200 -', '"GET /reset-password/[redacted] HTTP/1.1" 200 -'),
    ("/registrations/12", "/registrations/12"),
])
def test_redaction(path, logged):
    assert redact(path) == logged


def test_every_route_with_a_token_in_its_path_is_redacted(app):
    for rule in app.url_map.iter_rules():
        if "token" in rule.arguments:
            example = rule.rule.replace("<token>", "s3cr3t-value")
            assert "s3cr3t-value" not in redact(example), rule.rule


def test_werkzeug_request_lines_are_redacted(app, capsys):
    logging.getLogger("werkzeug").info('%s - - [%s] %s', "127.0.0.1", "14/Oct/2026 20:00:00",
                                       '"GET /invitation/TopSecret HTTP/1.1" 200 -')
    err = capsys.readouterr().err
    assert "TopSecret" not in err and "/invitation/[redacted]" in err


def test_text_is_the_default_and_has_no_request_lines(client, capsys):
    capsys.readouterr()
    client.get("/login")
    assert not json_lines(capsys.readouterr().err)


def test_a_request_id_from_a_trusted_proxy_is_kept(make_app, app):
    behind_nginx = make_app(TRUSTED_PROXY_HOPS=1)
    response = behind_nginx.test_client().get("/login", headers={"X-Request-ID": "nginx-4f1c2b"})
    assert response.headers["X-Request-ID"] == "nginx-4f1c2b"
    odd = behind_nginx.test_client().get("/login", headers={"X-Request-ID": "<script>" + "x" * 80})
    assert re.fullmatch(r"[0-9a-f]{32}", odd.headers["X-Request-ID"])


def test_a_request_id_from_an_untrusted_client_is_replaced(client):
    response = client.get("/login", headers={"X-Request-ID": "chosen-by-the-client"})
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])


def test_error_pages_show_the_reference(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert f"Reference: {response.headers['X-Request-ID']}" in response.get_data(as_text=True)
    vietnamese = client.get("/no-such-page", headers={"Accept-Language": "vi"})
    assert vietnamese.headers["X-Request-ID"] in vietnamese.get_data(as_text=True)


def test_the_500_page_shows_the_reference_that_the_log_line_has(make_app, app, capsys):
    application = make_app(LOG_FORMAT="json", PROPAGATE_EXCEPTIONS=False)
    application.testing = False

    @application.route("/_boom")
    def boom():
        raise RuntimeError("boom")

    capsys.readouterr()
    response = application.test_client().get("/_boom")
    assert response.status_code == 500
    reference = response.headers["X-Request-ID"]
    assert f"Reference: {reference}" in response.get_data(as_text=True)
    errors = [entry for entry in json_lines(capsys.readouterr().err) if entry["level"] == "ERROR"]
    assert errors and errors[0]["request_id"] == reference and "RuntimeError: boom" in errors[0]["exception"]
