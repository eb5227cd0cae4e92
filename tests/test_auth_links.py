"""Account links and passwords (issue "Personal data and strong sign-in", the sign-in part done so far):
setting a password by any route, deactivation and a role change end every unused link of the user;
one maximum password length on every form; sign-up hashes on both paths."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.auth import service
from app.auth.models import AccountToken, Role, TokenPurpose, User
from app.auth.passwords import PASSWORD_MAX_LENGTH
from app.extensions import db as app_db
from tests.conftest import TEST_PASSWORD
from tests.support import login, logout, post_form

NEW_PASSWORD = "mekong delta at dawn"


def _links(app, user_id: int) -> dict[TokenPurpose, str]:
    """A live link of each purpose for this user, as mailed."""
    with app.test_request_context():
        user = app_db.session.get(User, user_id)
        links = {purpose: service.issue_token(user, purpose) for purpose in TokenPurpose}
        app_db.session.commit()
        app_db.session.remove()
    return links


def _live(db, user_id: int) -> set[TokenPurpose]:
    return set(db.session.scalars(sa.select(AccountToken.purpose).where(
        AccountToken.user_id == user_id, AccountToken.used_at.is_(None))))


def test_changing_the_password_ends_every_unused_link(app, client, db, make_user):
    user = make_user(Role.officer)
    links = _links(app, user.id)
    assert _live(db, user.id) == set(TokenPurpose)
    login(client, user.email)
    response = post_form(client, "/account", {"current_password": TEST_PASSWORD, "password": NEW_PASSWORD,
                                              "password_again": NEW_PASSWORD})
    assert response.status_code == 302
    assert _live(db, user.id) == set()
    logout(client)
    # The old onboarding mail cannot set a password any more.
    assert client.get(f"/invitation/{links[TokenPurpose.invitation]}").status_code == 400


def test_a_reset_ends_the_invitation_too(app, client, db, make_user):
    user = make_user(Role.officer)
    links = _links(app, user.id)
    response = post_form(client, f"/reset-password/{links[TokenPurpose.reset_password]}",
                         {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
    assert response.status_code == 302
    assert _live(db, user.id) == set()
    assert client.get(f"/invitation/{links[TokenPurpose.invitation]}").status_code == 400


@pytest.mark.parametrize("change", ["deactivate", "role"])
def test_deactivation_and_a_role_change_end_every_unused_link(app, db, make_user, change):
    admin, user = make_user(Role.admin), make_user(Role.officer)
    _links(app, user.id)
    with app.test_request_context():
        acting, account = app_db.session.get(User, admin.id), app_db.session.get(User, user.id)
        if change == "deactivate":
            service.set_active(admin=acting, user=account, active=False)
        else:
            service.change_role(admin=acting, user=account, role=Role.leader)
        app_db.session.commit()
    assert _live(db, user.id) == set()


def test_one_maximum_password_length_on_every_form(client, db, make_user):
    """A password the account page accepts can be typed at the login form; a longer one is refused
    with a message, not saved and not a 500."""
    user = make_user()
    login(client, user.email)
    longest, too_long = "x y z " * (PASSWORD_MAX_LENGTH // 6) + "abcd", "w" * (PASSWORD_MAX_LENGTH + 1)
    assert len(longest) == PASSWORD_MAX_LENGTH
    response = post_form(client, "/account", {"current_password": TEST_PASSWORD, "password": too_long,
                                              "password_again": too_long})
    assert response.status_code in (200, 422)
    assert f"Use at most {PASSWORD_MAX_LENGTH} characters." in response.get_data(as_text=True)
    response = post_form(client, "/account", {"current_password": TEST_PASSWORD, "password": longest,
                                              "password_again": longest})
    assert response.status_code == 302
    logout(client)
    assert login(client, user.email, longest).status_code == 302


def test_sign_up_hashes_the_password_for_a_new_and_for_an_existing_address(app, monkeypatch, make_user):
    """The two answers take the same time because both do the costly part (bench/ measures it)."""
    calls = []
    real = service.hash_password
    monkeypatch.setattr(service, "hash_password", lambda password: calls.append(password) or real(password))
    existing = make_user()
    with app.test_request_context():
        assert service.register_correspondent(email=existing.email, full_name="X", password=NEW_PASSWORD,
                                              locale="en", privacy_consent=True) is None
        assert service.register_correspondent(email="new@example.org", full_name="Y", password=NEW_PASSWORD,
                                              locale="en", privacy_consent=True) is not None
        app_db.session.rollback()
    assert calls == [NEW_PASSWORD, NEW_PASSWORD]
