import re

import pytest
from playwright.sync_api import expect

from tests.e2e.keyboard import tab_to, type_into

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "hedgerows-and-tea-2026"


def test_visitor_signs_up_confirms_email_logs_in_and_out(
    page, live_server, mailoutbox, assert_accessible, community
):
    page.goto(live_server.url)
    expect(page.get_by_role("heading", name="Learning communities")).to_be_visible()
    assert_accessible(page)

    tab_to(page, "nav >> text=Sign up")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Create an account")).to_be_visible()
    assert_accessible(page)

    # A password that is too short is refused next to the field; the email stays typed.
    type_into(page, "#id_email", "Nia.Visitor@Example.org")
    type_into(page, "#id_password1", "short")
    type_into(page, "#id_password2", "short")
    page.keyboard.press("Enter")
    expect(page.locator("#id_password1_error")).to_contain_text("at least 12 characters")
    expect(page.locator("#id_email")).to_have_value("Nia.Visitor@Example.org")
    assert_accessible(page)

    type_into(page, "#id_password1", PASSWORD)
    type_into(page, "#id_password2", PASSWORD)
    tab_to(page, "form.account-form button[type=submit]")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    assert_accessible(page)

    assert len(mailoutbox) == 1
    email = mailoutbox[0]
    assert email.to == ["nia.visitor@example.org"]
    # In Convene's words: the site named, no stock text from the accounts library.
    assert email.subject == "Confirm your email address for Convene"
    assert "Thank you for joining Convene." in email.body
    assert "Hello from" not in email.body and "user " not in email.body
    # Read as a mail program shows it: its HTML, with a link in words.
    [html] = [body for body, kind in email.alternatives if kind == "text/html"]
    reader = page.context.new_page()
    reader.set_content(html)
    expect(reader.get_by_text("Thank you for joining Convene.")).to_be_visible()
    expect(reader.get_by_role("link", name="Confirm my email address")).to_be_visible()
    assert_accessible(reader)
    reader.close()
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", email.body).group(0)

    page.goto(link)
    expect(page.get_by_role("heading", name="Confirm your email address")).to_be_visible()
    assert_accessible(page)
    tab_to(page, "form.account-form button[type=submit]")
    page.keyboard.press("Space")

    # Confirming in the same browser signs the person in.
    expect(page.get_by_role("status").first).to_contain_text("You have confirmed")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert_accessible(page)
    tab_to(page, "nav >> text=Sign out")
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()

    # Later, they sign in with their password.
    tab_to(page, "nav >> text=Sign in")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert_accessible(page)
    type_into(page, "#id_login", "nia.visitor@example.org")
    type_into(page, "#id_password", PASSWORD)
    page.keyboard.press("Enter")

    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(page.get_by_role("link", name=community.name)).to_be_visible()
    assert_accessible(page)

    tab_to(page, "nav >> text=Sign out")
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("signed out")
    assert_accessible(page)


def test_skip_link_is_first_and_moves_focus_to_the_main_content(page, live_server):
    page.goto(live_server.url)
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()


@pytest.mark.parametrize(
    "path", ["/", "/c/bowel-care/", "/accounts/login/", "/accounts/password/reset/", "/nowhere/"]
)
def test_public_pages_are_accessible_at_phone_width(
    page, live_server, assert_accessible, community, path
):
    page.goto(live_server.url + path)
    expect(page.locator("h1")).to_be_visible()
    assert_accessible(page)


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("/accounts/email/", "Email Addresses"),
        ("/accounts/password/change/", "Change Password"),
    ],
)
def test_account_pages_are_accessible_at_phone_width(
    page, live_server, assert_accessible, log_in, member, path, heading
):
    log_in(page, member)
    page.goto(live_server.url + path)
    expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert_accessible(page)
