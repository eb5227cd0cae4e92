"""Transactional outbox for mail."""
from functools import partial

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.outbox.service import COMMITTED_KEY, PENDING_KEY, send_due

outbox_cli = AppGroup("outbox", help="The mail outbox.")


@outbox_cli.command("send")
@click.option("--all", "ignore_backoff", is_flag=True, help="Also retry messages still waiting out their backoff.")
def send_command(ignore_backoff: bool) -> None:
    """Send the queued messages that are due (run it from cron every minute)."""
    sent, failed = send_due(ignore_backoff=ignore_backoff)
    click.echo(f"Sent {sent}, failed {failed}.")


def _after_commit(session: Session) -> None:
    pending = session.info.pop(PENDING_KEY, None)
    if pending:
        session.info.setdefault(COMMITTED_KEY, []).extend(pending)


def _after_soft_rollback(session: Session, previous_transaction) -> None:
    # A rolled-back savepoint inside a transaction that goes on does not discard the mail
    # queued before it; only the rollback of the whole transaction does.
    if not previous_transaction.nested:
        session.info.pop(PENDING_KEY, None)


def _deliver_after_response(app: Flask, message_ids: list[int]) -> None:
    """Runs when the response is closed: the user does not wait for SMTP."""
    with app.app_context():
        try:
            send_due(message_ids=message_ids)
        except Exception:  # the cron run retries; never let mail break a finished request
            app.logger.exception("outbox: delivery after the response failed")
        finally:
            from app.extensions import db

            db.session.remove()


def init_app(app: Flask) -> None:
    from app.extensions import db

    app.cli.add_command(outbox_cli)
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", _after_soft_rollback)

    @app.after_request
    def deliver_committed_mail(response):
        committed = db.session.info.pop(COMMITTED_KEY, None)
        if committed and current_app.config["OUTBOX_SEND_AFTER_REQUEST"]:
            response.call_on_close(partial(_deliver_after_response, current_app._get_current_object(), committed))
        return response
