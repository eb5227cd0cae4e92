"""An SMTP connection with a timeout (Flask-Mail 0.10 sets none, so a silent server hangs for ever).

Flask-Mail still builds the message and its envelope; only the connection is opened here, with
`MAIL_TIMEOUT` seconds for the connection and for every reply the server owes us.
"""
from __future__ import annotations

import smtplib
import ssl

from flask import current_app
from flask_mail import Connection, Message


class TimedConnection(Connection):
    """Flask-Mail's connection, opened lazily with a timeout, and closed for certain after an error."""

    def __init__(self, mail_state) -> None:
        super().__init__(mail_state)
        self.opened = False

    def configure_host(self) -> smtplib.SMTP | smtplib.SMTP_SSL:
        timeout = float(current_app.config["MAIL_TIMEOUT"])
        mail = self.mail
        host = (smtplib.SMTP_SSL(timeout=timeout, context=ssl.create_default_context()) if mail.use_ssl
                else smtplib.SMTP(timeout=timeout))
        try:
            # connect() separately from the constructor: a timeout in the constructor leaves the
            # socket open until the garbage collector finds it.
            host.connect(mail.server, mail.port)
            if mail.use_tls:
                host.starttls(context=ssl.create_default_context())
            if mail.username and mail.password:
                host.login(mail.username, mail.password)
        except BaseException:
            host.close()
            raise
        return host

    def deliver(self, message: Message) -> None:
        """Send one message, connecting first if needed."""
        if not self.opened:
            self.__enter__()
            self.opened = True
        self.send(message)

    def close(self, *, polite: bool = True) -> None:
        """QUIT when the conversation went well, else just drop the socket."""
        if self.host is not None:
            try:
                if polite:
                    self.host.quit()
            except (smtplib.SMTPException, OSError):
                pass
            finally:
                self.host.close()
        self.host = None
        self.opened = False


def open_connection() -> TimedConnection:
    return TimedConnection(current_app.extensions["mail"])
