import uuid

from allauth.account.adapter import DefaultAccountAdapter

from members.network import client_address
from members.outbox import notify_address


class AccountAdapter(DefaultAccountAdapter):
    """allauth's emails (confirm your address, reset your password) go through the outbox,
    so no request waits for the mail server and a mail outage loses nothing. Its limits
    count per person's address as Convene finds it everywhere (`client_address`)."""

    def get_client_ip(self, request) -> str:
        return client_address(request) or super().get_client_ip(request)

    def send_mail(self, template_prefix, email, context):
        message = self.render_mail(template_prefix, email, context)
        html = next(
            (body for body, kind in getattr(message, "alternatives", []) if kind == "text/html"),
            "",
        )
        notify_address(
            email=email,
            kind="account",
            about=None,
            context={
                "prerendered": {"subject": message.subject, "text": message.body, "html": html}
            },
            # Every account email is its own message: two reset requests send two emails.
            key=uuid.uuid4().hex,
        )
