"""Two people sending the same thing at once: one wins, the other gets a message, never a 500."""
from __future__ import annotations

import threading
import time

import sqlalchemy as sa

from app.auth.models import Role, User
from app.extensions import db as app_db
from app.products import service as product_service
from app.products.models import Product
from app.products.models import Channel, ProductType
from app.registrations import service
from app.registrations.models import Registration, Status
from tests.test_registrations_concurrency import ON_POSTGRESQL, run_together


def _product_data(outlet_id: int, url: str) -> product_service.ProductData:
    return product_service.ProductData(title="Rice farmers", outlet_id=outlet_id, type=ProductType.article,
                                       channel=Channel.website, url=url)


@ON_POSTGRESQL
def test_two_reports_of_the_same_url_at_once_give_one_product_and_one_message(app, db, make_user, make_outlet):
    """The second INSERT waits on the unique key until the first commits, then fails: the savepoint
    must already be open (before the add) for the message to be found and the transaction to survive."""
    officers = [make_user(Role.officer), make_user(Role.officer)]
    outlet = make_outlet()
    first_flushed, second_started = threading.Event(), threading.Event()

    def first():
        with app.test_request_context(method="POST"):
            try:
                product_service.create_product(app_db.session.get(User, officers[0].id),
                                               _product_data(outlet.id, "https://nrk.example/rice"))
                first_flushed.set()
                second_started.wait(10)
                time.sleep(0.5)  # the second is now blocked on the unique key
                app_db.session.commit()
                return "created"
            finally:
                first_flushed.set()
                app_db.session.remove()

    def second():
        with app.test_request_context(method="POST"):
            try:
                first_flushed.wait(10)
                second_started.set()
                product_service.create_product(app_db.session.get(User, officers[1].id),
                                               _product_data(outlet.id, "https://www.nrk.example/rice/"))
                app_db.session.commit()
                return "created"
            except product_service.DuplicateUrl as error:
                title = error.existing.title  # the transaction is still usable
                app_db.session.rollback()
                return f"duplicate of {title}"
            finally:
                app_db.session.remove()

    results = run_together([first, second])
    assert results == ["created", "duplicate of Rice farmers"], results
    assert db.session.scalar(sa.select(sa.func.count(Product.id))) == 1


@ON_POSTGRESQL
def test_two_amendments_asked_at_once_give_one_revision(app, db, make_registration):
    registration, correspondent = make_registration(Status.approved)
    loaded = threading.Barrier(2, timeout=30)

    def ask():
        with app.test_request_context(method="POST"):
            try:
                actor = app_db.session.get(User, correspondent.id)
                current = app_db.session.get(Registration, registration.id)
                loaded.wait()
                revision = service.amend(actor, current, current.version)
                app_db.session.commit()
                return revision.reference
            except service.RegistrationError as error:
                app_db.session.rollback()
                return f"refused: {error}"
            finally:
                app_db.session.remove()

    results = run_together([ask, ask])
    references = [result for result in results if not result.startswith("refused")]
    assert references == [registration.reference + "-R2"], results
    assert any("already under way" in result for result in results), results
    assert db.session.scalar(sa.select(sa.func.count(Registration.id)).where(
        Registration.amends_id == registration.id)) == 1


def test_a_withdrawn_amendments_reference_is_not_reused(app, db, make_registration):
    registration, correspondent = make_registration(Status.approved)

    def amend():
        with app.test_request_context(method="POST"):
            try:
                actor = app_db.session.get(User, correspondent.id)
                revision = service.amend(actor, app_db.session.get(Registration, registration.id), None)
                app_db.session.commit()
                return revision.id, revision.reference
            finally:
                app_db.session.remove()

    first_id, first_reference = amend()
    with app.test_request_context(method="POST"):
        service.withdraw(app_db.session.get(User, correspondent.id), app_db.session.get(Registration, first_id), None)
        app_db.session.commit()
        app_db.session.remove()
    second_id, second_reference = amend()
    assert (first_reference, second_reference) == (registration.reference + "-R2", registration.reference + "-R3")
