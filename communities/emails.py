"""Emails about joining a community.

Until the notification outbox exists these are sent straight after the transaction that
causes them commits; a failure to send is logged and never undoes the change. The outbox
will take over delivery (with retries and preferences) and these calls move onto it.
"""

import logging
from functools import partial

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)


def _send(*, to: str, subject: str, body: str) -> None:
    try:
        send_mail(subject, body, None, [to])
    except Exception:  # noqa: BLE001 - a mail failure must not break the request
        logger.exception("Could not send %r", subject)


def email_person(*, to: str, template: str, context: dict) -> None:
    """Render templates/communities/email/<template>_subject.txt and _body.txt, and send
    them to one address once the current transaction commits."""
    context = {**context, "site_url": settings.SITE_URL}
    subject = render_to_string(f"communities/email/{template}_subject.txt", context)
    body = render_to_string(f"communities/email/{template}_body.txt", context)
    subject = " ".join(subject.split())
    transaction.on_commit(partial(_send, to=to, subject=subject, body=body))
