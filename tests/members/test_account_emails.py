"""The accounts pages' emails, in Convene's words: the site named, the person greeted by
name when known, the link there, and nothing of allauth's stock text ("Hello from !")."""

import re
from pathlib import Path

import allauth
import pytest
from django.urls import reverse

from members import account_emails
from tests.conftest import PASSWORD, make_person

pytestmark = pytest.mark.django_db

STOCK = ("Hello from", "Thank you for using", "user ", "You're receiving this", "example.com")


def sent(mailoutbox, django_capture_on_commit_callbacks, action):
    with django_capture_on_commit_callbacks(execute=True):
        action()
    [email] = mailoutbox
    [html] = [body for body, kind in email.alternatives if kind == "text/html"]
    return email, html


def no_stock_words(*texts):
    for text in texts:
        for stock in STOCK:
            assert stock not in text, stock


def test_every_kind_of_email_allauth_sends_is_written_in_our_words():
    source = Path(allauth.__file__).parent
    kinds = set()
    for path in source.rglob("*.py"):
        kinds |= set(re.findall(r'"account/email/([a-z_]+)"', path.read_text()))
    assert kinds and kinds <= set(account_emails.KINDS)


def test_the_sign_up_email_names_the_site_and_holds_the_link(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    email, html = sent(
        mailoutbox,
        django_capture_on_commit_callbacks,
        lambda: client.post(
            reverse("account_signup"),
            {"email": "new@example.org", "password1": PASSWORD, "password2": PASSWORD},
        ),
    )
    assert email.subject == "Confirm your email address for Convene"
    assert email.body.startswith("Hello,\n")  # no name given yet
    assert "Thank you for joining Convene." in email.body
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", email.body).group(0)
    assert f'href="{link}"' in html and ">Confirm my email address</a>" in html
    assert "Convene: learning communities in health and care" in email.body
    no_stock_words(email.body, html, email.subject)


def test_the_new_password_email_greets_the_person_by_name(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    person = make_person("nia@example.org", name="Nia Okafor")
    email, html = sent(
        mailoutbox,
        django_capture_on_commit_callbacks,
        lambda: client.post(reverse("account_reset_password"), {"email": person.email}),
    )
    assert email.subject == "Choose a new password for Convene"
    assert email.body.startswith("Hello Nia Okafor,\n")
    assert "<p>Hello Nia Okafor,</p>" in html
    assert re.search(r"https?://\S+/accounts/password/reset/key/\S+", email.body)
    assert "your password stays as it is" in email.body
    no_stock_words(email.body, html)


def test_a_changed_password_is_told_with_where_it_came_from(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    person = make_person("nia@example.org", name="Nia Okafor")
    client.force_login(person)
    new = "a-different-long-password-2027"
    email, html = sent(
        mailoutbox,
        django_capture_on_commit_callbacks,
        lambda: client.post(
            reverse("account_change_password"),
            {"oldpassword": PASSWORD, "password1": new, "password2": new},
        ),
    )
    assert email.subject == "Your Convene password was changed"
    assert email.body.startswith("Hello Nia Okafor,\n")
    assert "If you did not make this change, choose a new password straight away" in email.body
    assert "It was made from 127.0.0.1, on " in email.body
    no_stock_words(email.body, html)


def test_a_reset_asked_for_an_unknown_address_says_so_plainly(
    client, mailoutbox, django_capture_on_commit_callbacks, settings
):
    settings.ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = True
    email, html = sent(
        mailoutbox,
        django_capture_on_commit_callbacks,
        lambda: client.post(reverse("account_reset_password"), {"email": "nobody@example.org"}),
    )
    assert email.subject == "No Convene account uses this email address"
    assert re.search(r"https?://\S+/accounts/signup/", email.body)
    no_stock_words(email.body, html)
