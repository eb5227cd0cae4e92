"""Development mail: the catcher of `make run` keeps each message as .eml, /dev/mail shows them
(development only), and the LAN address for `make run HOST=0.0.0.0`."""
from __future__ import annotations

import smtplib
from email.message import EmailMessage

import pytest

from tests.support import link_in, post_form

PASSWORD = "mekong delta at dawn"


@pytest.fixture
def app_config(app_config, tmp_path):
    app_config.update(ENV_NAME="development", DEV_MAIL_DIR=str(tmp_path / "dev-mail"))
    return app_config


@pytest.fixture
def catcher(app, tmp_path):
    """The real catcher (`flask devmail serve`'s handler) on a loopback port, as the app's SMTP server."""
    from aiosmtpd.controller import Controller

    from app.devmail.store import Catcher
    from tests.conftest import free_port

    port = free_port()
    controller = Controller(Catcher(tmp_path / "dev-mail"), hostname="127.0.0.1", port=port)
    (tmp_path / "dev-mail").mkdir(exist_ok=True)
    controller.start()
    yield port
    controller.stop()


def test_a_newcomer_reads_the_confirmation_mail_on_the_dev_mail_page(make_app, tmp_path, catcher):
    app = make_app(ENV_NAME="development", DEV_MAIL_DIR=str(tmp_path / "dev-mail"), MAIL_PORT=catcher)
    browser = app.test_client()
    response = post_form(browser, "/signup", {"full_name": "Jane Reporter", "email": "jane@example.com",
                                              "password": PASSWORD, "password_again": PASSWORD, "locale": "en",
                                              "privacy_consent": "y"})
    page = response.get_data(as_text=True)
    assert "We are sending a message to jane@example.com." in page
    assert "spam" in page and 'href="/confirm/resend"' in page
    listing = browser.get("/dev/mail/").get_data(as_text=True)
    assert "jane@example.com" in listing and "Confirm your email address" in listing
    assert 'href="/dev/mail/"' in browser.get("/").get_data(as_text=True)  # the footer link
    [name] = [path.name for path in (tmp_path / "dev-mail").iterdir()]
    shown = browser.get(f"/dev/mail/{name}").get_data(as_text=True)
    confirm_path = link_in(shown, "/confirm/")
    assert f'<a href="http://localhost{confirm_path}">' in shown
    assert post_form(browser, confirm_path).status_code == 302


def test_the_list_is_newest_first_and_escapes_what_it_shows(app, client, tmp_path, catcher):
    for number, subject in enumerate(["subject-one", "<script>alert(1)</script>", "subject-three"]):
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "a@example.org", f"r{number}@example.org", subject
        message.set_content("Open https://example.org/x?a=1&b=<2> now")
        with smtplib.SMTP("127.0.0.1", catcher, timeout=5) as smtp:
            smtp.send_message(message)
    listing = client.get("/dev/mail/").get_data(as_text=True)
    assert listing.index("subject-three") < listing.index("subject-one")
    assert "<script>alert(1)</script>" not in listing and "&lt;script&gt;" in listing
    name = sorted(path.name for path in (tmp_path / "dev-mail").iterdir())[0]
    shown = client.get(f"/dev/mail/{name}").get_data(as_text=True)
    assert '<a href="https://example.org/x?a=1&amp;b=">' in shown


def test_unknown_or_odd_names_are_404(client):
    for name in ("nope.eml", "..%2Fconfig.py", "20260101T000000000000-zzzzzzzz.eml"):
        assert client.get(f"/dev/mail/{name}").status_code == 404


def test_dev_mail_is_404_outside_development(app, make_app, tmp_path):
    app = make_app(ENV_NAME="production", DEV_MAIL_DIR=str(tmp_path / "dev-mail"))
    browser = app.test_client()
    assert browser.get("/dev/mail/").status_code == 404
    assert 'href="/dev/mail/"' not in browser.get("/").get_data(as_text=True)


def test_the_catcher_refuses_to_serve_outside_development(app, make_app, tmp_path):
    app = make_app(ENV_NAME="production")
    result = app.test_cli_runner().invoke(args=["devmail", "serve", "--port", "1"])
    assert result.exit_code != 0 and "development" in result.output


def test_the_lan_address_is_read_from_the_interfaces_and_is_not_loopback():
    import ipaddress

    from app.devmail.network import _from_interfaces

    address = _from_interfaces()
    if address is not None:
        ip = ipaddress.IPv4Address(address)
        assert not ip.is_loopback and not ip.is_link_local
