"""Account journeys in a real browser: what a correspondent and an administrator do and see."""
from __future__ import annotations

from playwright.sync_api import expect

from app.auth.models import Role
from tests.conftest import TEST_PASSWORD
from tests.e2e.conftest import wait_for_mail
from tests.support import link_in

NEW_PASSWORD = "mekong delta at dawn"


def log_in(page, base_url: str, email: str, password: str) -> None:
    page.goto(base_url + "/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in").click()


def test_correspondent_signs_up_confirms_logs_in_and_switches_to_vietnamese(page, live_server, mailbox):
    page.goto(live_server.url + "/signup")
    page.get_by_label("Full name").fill("Jane Reporter")
    page.get_by_label("Email address").fill("jane@example.com")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    page.get_by_label("Language for emails and pages").select_option(label="English")
    page.get_by_label("I have read the privacy notice").check()
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    expect(page.get_by_text("We are sending a message to jane@example.com.")).to_be_visible()

    [message] = wait_for_mail(mailbox, "jane@example.com")
    assert message["Subject"] == "Confirm your email address for PressDesk"
    path = link_in(mailbox.text(message), "/confirm/")
    page.goto(live_server.url + path)
    page.get_by_role("button", name="Confirm my email address").click()
    expect(page.get_by_role("status")).to_have_text("Thank you: your email address is confirmed. You can log in now.")
    expect(page).to_have_url(live_server.url + "/login")

    page.get_by_label("Email address").fill("jane@example.com")
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("You are logged in as Jane Reporter (jane@example.com).")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")

    page.get_by_role("button", name="Tiếng Việt").click()
    expect(page.get_by_text("Bạn đang đăng nhập với tên Jane Reporter (jane@example.com).")).to_be_visible()
    expect(page.get_by_role("button", name="Đăng xuất")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "vi")

    # The choice is remembered: the next page is still in Vietnamese.
    page.reload()
    expect(page.get_by_text("Bạn đang đăng nhập với tên Jane Reporter")).to_be_visible()
    expect(page.get_by_role("button", name="Đăng xuất")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.get_by_role("button", name="Tiếng Việt")).to_have_attribute("aria-current", "true")


def test_admin_invites_an_officer_who_chooses_a_password_and_logs_in(new_page, live_server, mailbox, make_user):
    admin = make_user(Role.admin, locale="en", full_name="Thu Admin")
    page = new_page()
    log_in(page, live_server.url, admin.email, TEST_PASSWORD)
    expect(page.get_by_text("You are logged in as Thu Admin")).to_be_visible()

    page.get_by_role("link", name="Accounts", exact=True).click()
    expect(page.get_by_role("heading", name="Accounts")).to_be_visible()
    page.get_by_role("link", name="New staff account").click()
    form = page.get_by_role("main")
    form.get_by_label("Full name").fill("Lan Officer")
    form.get_by_label("Email address").fill("lan.officer@example.org")
    form.get_by_label("Role").select_option(label="Officer")
    # The navigation's language switcher is also labelled "Language": look inside the page's main part.
    form.get_by_label("Language").select_option(label="English")
    form.get_by_role("button", name="Create account and send invitation").click()
    expect(page.get_by_role("status")).to_have_text(
        "Account created. An invitation to choose a password was sent to lan.officer@example.org.")

    page.get_by_role("link", name="Accounts", exact=True).click()
    row = page.get_by_role("row").filter(has_text="lan.officer@example.org")
    expect(row).to_have_count(1)
    expect(row.get_by_role("cell")).to_have_text(["Lan Officer", "lan.officer@example.org", "Officer",
                                                  "Invitation sent"])

    [message] = wait_for_mail(mailbox, "lan.officer@example.org")
    path = link_in(mailbox.text(message), "/invitation/")

    # The officer, in their own browser.
    officer = new_page()
    officer.goto(live_server.url + path)
    expect(officer.get_by_role("heading", name="Welcome to PressDesk: choose your password")).to_be_visible()
    expect(officer.get_by_text("Account: lan.officer@example.org")).to_be_visible()
    officer.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    officer.get_by_label("New password again").fill(NEW_PASSWORD)
    officer.get_by_role("button", name="Save the password").click()
    expect(officer.get_by_role("status")).to_have_text("Your password is saved. Log in with it now.")

    officer.get_by_label("Email address").fill("lan.officer@example.org")
    officer.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    officer.get_by_role("button", name="Log in").click()
    expect(officer.get_by_text("You are logged in as Lan Officer (lan.officer@example.org).")).to_be_visible()
    expect(officer.get_by_role("link", name="Accounts", exact=True)).to_have_count(0)

    # Back in the admin's browser: the officer is listed as an active officer.
    page.reload()
    expect(page.get_by_role("row").filter(has_text="lan.officer@example.org").get_by_role("cell")).to_have_text(
        ["Lan Officer", "lan.officer@example.org", "Officer", "Active"])
