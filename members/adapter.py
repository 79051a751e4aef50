import uuid

from allauth.account.adapter import DefaultAccountAdapter

from members import account_emails
from members.network import client_address
from members.outbox import notify_address


class AccountAdapter(DefaultAccountAdapter):
    """allauth's emails (confirm your address, reset your password) are Convene's own
    (members.account_emails) and go through the outbox, so no request waits for the mail
    server and a mail outage loses nothing. Its limits
    count per person's address as Convene finds it everywhere (`client_address`)."""

    def get_client_ip(self, request) -> str:
        return client_address(request) or super().get_client_ip(request)

    def send_mail(self, template_prefix, email, context):
        # Every kind allauth sends is written in Convene's words (a test keeps it so).
        subject, text, html = account_emails.render(template_prefix, context)
        notify_address(
            email=email,
            kind="account",
            about=None,
            context={"prerendered": {"subject": subject, "text": text, "html": html}},
            # Every account email is its own message: two reset requests send two emails.
            key=uuid.uuid4().hex,
        )

    def send_notification_mail(self, template_prefix, user, context=None, email=None):
        """allauth's notices about an account's changes, told who the account is, so the
        email greets the person by name."""
        return super().send_notification_mail(
            template_prefix, user, {"user": user, **(context or {})}, email
        )
