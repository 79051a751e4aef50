"""The emails the accounts pages send (confirm your address, choose a new password, your
password changed…), in Convene's own words, in place of allauth's stock ones.

Each kind is a subject and a few paragraphs, written once here and rendered both as plain
text and as HTML (`render`), so the two never say different things. A paragraph may hold a
link (`Link`): in the text its address stands on a line of its own, in the HTML it is a
link with words. The person is greeted by name when Convene knows it. None of these
carries an unsubscribe link: each is something the person asked for or needs to know about
their own account.
"""

from dataclasses import dataclass

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

SITE_NAME = "Convene"


@dataclass(frozen=True)
class Link:
    """A link to the address in the context under `key`, shown with `words` in HTML."""

    key: str
    words: str


@dataclass(frozen=True)
class Shown:
    """The value in the context under `key` (a code to type), on a line of its own."""

    key: str


def _if_not_you():
    return gettext_lazy(
        "If this was not you, you can ignore this email: nothing changes until the link is opened."
    )


def _not_you_changed():
    return gettext_lazy(
        "If you did not make this change, choose a new password straight away and tell the "
        "coordinators of your community. It was made from %(ip)s, on %(when)s."
    )


# Each kind: its subject and its paragraphs (text with %(name)s placeholders filled from the
# context, or a Link).
KINDS: dict[str, tuple] = {
    "email_confirmation_signup": (
        gettext_lazy("Confirm your email address for Convene"),
        [
            gettext_lazy("Thank you for joining Convene."),
            gettext_lazy("To confirm that this is your email address, open this link:"),
            Link("activate_url", gettext_lazy("Confirm my email address")),
            _if_not_you(),
        ],
    ),
    "email_confirmation": (
        gettext_lazy("Confirm your email address for Convene"),
        [
            gettext_lazy("You asked to use this email address for your Convene account."),
            gettext_lazy("To confirm that it is yours, open this link:"),
            Link("activate_url", gettext_lazy("Confirm my email address")),
            _if_not_you(),
        ],
    ),
    "password_reset_key": (
        gettext_lazy("Choose a new password for Convene"),
        [
            gettext_lazy("Someone, probably you, asked to choose a new password for your "
                         "Convene account."),
            gettext_lazy("To choose one, open this link. It works once, for the next few days:"),
            Link("password_reset_url", gettext_lazy("Choose a new password")),
            gettext_lazy("If this was not you, you can ignore this email: your password stays "
                         "as it is."),
        ],
    ),
    "password_reset_code": (
        gettext_lazy("Your code to choose a new password for Convene"),
        [
            gettext_lazy("Someone, probably you, asked to choose a new password for your "
                         "Convene account. Type this code where you asked:"),
            Shown("code"),
            gettext_lazy("If this was not you, you can ignore this email: your password stays "
                         "as it is."),
        ],
    ),
    "login_code": (
        gettext_lazy("Your code to sign in to Convene"),
        [
            gettext_lazy("Type this code where you asked to sign in:"),
            Shown("code"),
            gettext_lazy("If this was not you, you can ignore this email: nobody can sign in "
                         "without the code."),
        ],
    ),
    "unknown_account": (
        gettext_lazy("No Convene account uses this email address"),
        [
            gettext_lazy("Someone, probably you, asked for a new password for Convene with "
                         "this email address, but no account uses it."),
            gettext_lazy("To make an account with it, open this link:"),
            Link("signup_url", gettext_lazy("Make an account")),
            gettext_lazy("If this was not you, you can ignore this email."),
        ],
    ),
    "account_already_exists": (
        gettext_lazy("You already have a Convene account"),
        [
            gettext_lazy("Someone, probably you, tried to make a Convene account with this "
                         "email address, but you already have one."),
            gettext_lazy("If you have forgotten your password, choose a new one here:"),
            Link("password_reset_url", gettext_lazy("Choose a new password")),
            gettext_lazy("If this was not you, you can ignore this email."),
        ],
    ),
    "password_changed": (
        gettext_lazy("Your Convene password was changed"),
        [gettext_lazy("The password of your Convene account was changed."), _not_you_changed()],
    ),
    "password_set": (
        gettext_lazy("Your Convene account has a password"),
        [gettext_lazy("A password was set for your Convene account."), _not_you_changed()],
    ),
    "password_reset": (
        gettext_lazy("Your Convene password was changed"),
        [
            gettext_lazy("A new password was chosen for your Convene account, from a link we "
                         "sent you."),
            _not_you_changed(),
        ],
    ),
    "email_changed": (
        gettext_lazy("Your Convene email address was changed"),
        [
            gettext_lazy("Convene now writes to your account at %(to_email)s instead of "
                         "%(from_email)s."),
            _not_you_changed(),
        ],
    ),
    "email_deleted": (
        gettext_lazy("An email address was taken off your Convene account"),
        [
            gettext_lazy("%(deleted_email)s is no longer one of your account's email "
                         "addresses."),
            _not_you_changed(),
        ],
    ),
}  # fmt: skip


def kind_of(template_prefix: str) -> str:
    """allauth names each email by a template prefix, "account/email/<kind>"."""
    return template_prefix.rsplit("/", 1)[-1]


def _values(context: dict) -> dict:
    when = context.get("timestamp")
    return {
        **{k: v for k, v in context.items() if isinstance(v, str)},
        "ip": context.get("ip") or _("an unknown address"),
        "when": date_format(timezone.localtime(when), "j F Y, H:i") if when else "",
    }


def _person_name(context: dict) -> str:
    user = context.get("user")
    name = getattr(user, "name", "") if user is not None else ""
    return name.strip()


def render(template_prefix: str, context: dict) -> tuple[str, str, str]:
    """(subject, text, HTML) of an account email, or a KeyError for a kind Convene has not
    written."""
    subject, paragraphs = KINDS[kind_of(template_prefix)]
    values = _values(context)
    text, html = [], []
    for paragraph in paragraphs:
        if isinstance(paragraph, Link):
            url = context[paragraph.key]
            text.append(url)
            html.append(f'<p><a href="{escape(url)}">{escape(str(paragraph.words))}</a></p>')
        elif isinstance(paragraph, Shown):
            value = str(context[paragraph.key])
            text.append(value)
            html.append(f"<p><strong>{escape(value)}</strong></p>")
        else:
            words = str(paragraph) % values
            text.append(words)
            html.append(f"<p>{escape(words)}</p>")
    shared = {
        "name": _person_name(context),
        "subject": str(subject),
        "site_name": SITE_NAME,
        "site_url": settings.SITE_URL,
    }
    return (
        str(subject),
        render_to_string(
            "account/email/convene_message.txt", {**shared, "paragraphs": text}
        ).strip()
        + "\n",
        render_to_string(
            "account/email/convene_message.html",
            {**shared, "paragraphs": mark_safe("\n".join(html))},  # noqa: S308 escaped above
        ),
    )
