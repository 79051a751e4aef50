"""The notification outbox: how Convene tells people things, losing nothing and sending
nothing twice.

Features call `notify()` inside the transaction that makes the change. It writes one row per
recipient (unique per person, kind, object and key), so the promise to tell someone is
committed with the change itself, or not at all. After commit a Celery task delivers the new
rows; a sweep scheduled every minute delivers anything the task missed (a broker outage, a
killed worker). Rows are claimed with a conditional UPDATE, so no two workers send one row.
"""

import hashlib
import logging
import random
import smtplib
import socket
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import DatabaseError, models, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from members.models import NO_USABLE_ADDRESS, Delivery, Notification, NotificationGroup, User

logger = logging.getLogger(__name__)

State = Notification.State
MAX_ATTEMPTS = 6
BATCH_SIZE = 100
# A sweep or digest run stops taking new work after this long: well inside Celery's soft
# time limit (settings.CELERY_TASK_SOFT_TIME_LIMIT), so no run is cut off mid-email.
SWEEP_BUDGET_SECONDS = 150
UNSUBSCRIBE_SALT = "convene.unsubscribe"


# --- Kinds ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """A kind of notification. `group` decides whether a person may turn it off (None: an
    account or invitation email, always sent at once). Templates live in
    templates/notifications/<name>_subject.txt, <name>.txt and <name>.html, and get the row's
    context plus `recipient`, `community`, `about`, `link` and `site_url`."""

    name: str
    group: str | None
    # The path of the thing itself, given the object the notification is about.
    link: Callable[[models.Model], str] | None = None
    # Relations of that object the link and templates use, loaded with it in one query.
    about_related: tuple[str, ...] = ()
    # Files to attach, given the object: [(filename, content, mimetype)], e.g. a calendar file.
    attach: Callable[[models.Model], list[tuple[str, bytes, str]]] | None = None


_kinds: dict[str, Kind] = {}


def register_kind(kind: Kind) -> Kind:
    _kinds[kind.name] = kind
    return kind


def get_kind(name: str) -> Kind:
    try:
        return _kinds[name]
    except KeyError:
        raise LookupError(f"No notification kind named {name!r} is registered.") from None


# --- Writing rows ---------------------------------------------------------------------------


def _about_key(about: models.Model | None) -> dict:
    if about is None:
        return {"about_type": None, "about_id": ""}
    return {
        "about_type": ContentType.objects.get_for_model(about, for_concrete_model=False),
        "about_id": str(about.pk),
    }


def _row_for_person(person: User, kind: Kind) -> dict:
    if not person.has_usable_email and person.contact_channel == User.ContactChannel.EMAIL:
        return {"state": State.SKIPPED, "last_error": NO_USABLE_ADDRESS}
    delivery = person.delivery_for(kind.group) if kind.group else Delivery.IMMEDIATELY
    if delivery == Delivery.NEVER:
        return {
            "state": State.SKIPPED,
            "delivery": delivery,
            "last_error": "Turned off by the person.",
        }
    return {"delivery": delivery, "channel": person.contact_channel}


def notify(
    *,
    recipients: Iterable[User],
    kind: str,
    about: models.Model,
    context: dict | None = None,
    community=None,
    key: str = "",
) -> int:
    """Promise to tell each recipient about `about`, once. Call it inside the transaction
    that makes the change. Rows the person turned off are kept as skipped. Returns how many
    new rows were written (a person told before about the same thing is not told again)."""
    spec = get_kind(kind)
    common = {
        "kind": kind,
        "group": spec.group or "",
        "community": community,
        "context": context or {},
        "key": key,
        **_about_key(about),
    }
    rows = [
        Notification(
            recipient=person, email=person.email, **common, **_row_for_person(person, spec)
        )
        for person in recipients
    ]
    return _write(rows)


def notify_address(
    *,
    email: str,
    kind: str,
    about: models.Model | None,
    context: dict | None = None,
    community=None,
    key: str = "",
) -> int:
    """Like notify(), for an address with no account behind it yet (an invitation)."""
    spec = get_kind(kind)
    row = Notification(
        email=email,
        kind=kind,
        group=spec.group or "",
        community=community,
        context=context or {},
        key=key,
        **_about_key(about),
    )
    return _write([row])


def notify_contact(
    *,
    name: str,
    channel: str,
    details: str,
    kind: str,
    about: models.Model,
    context: dict | None = None,
    community=None,
) -> int:
    """Like notify(), for someone with no account who asked for a letter or a call (their
    input was typed in from paper). The row waits on the community's letters-and-calls list
    until a coordinator marks it done; the same person about the same thing is listed once."""
    spec = get_kind(kind)
    who = " ".join(details.split()).lower()
    row = Notification(
        email="",
        kind=kind,
        group=spec.group or "",
        channel=channel,
        community=community,
        context={**(context or {}), "name": name, "contact_details": details},
        key=hashlib.sha256(f"{channel}:{who}".encode()).hexdigest()[:40],
        **_about_key(about),
    )
    return _write([row])


def _write(rows: list[Notification]) -> int:
    if not rows:
        return 0
    batch = uuid.uuid4().hex
    for row in rows:
        row.claim = f"new-{batch}"
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    written = Notification.objects.filter(claim=f"new-{batch}")
    ids = list(written.filter(state=State.PENDING).values_list("pk", flat=True))
    count = written.update(claim="")
    if ids:
        transaction.on_commit(partial(enqueue_delivery, ids), robust=True)
    return count


# After the broker fails, this process leaves enqueueing to the sweep for a while, so a
# request that commits several times waits for a dead broker once, not once per commit.
BROKER_REST_SECONDS = 30
_broker_failed_at = None


def send_task(task, *args) -> bool:
    """Hand a task to the broker without waiting on a broker that is down or hung for more
    than the socket timeout, and then not again for a while. False when it was not handed
    over; the minute-by-minute sweep picks the work up instead."""
    global _broker_failed_at
    if _broker_failed_at is not None and time.monotonic() - _broker_failed_at < BROKER_REST_SECONDS:
        return False
    try:
        task.apply_async(args=list(args), retry=False)
    except Exception:  # noqa: BLE001 - any broker failure: the sweep does it later
        _broker_failed_at = time.monotonic()
        logger.warning("Broker unavailable; %s waits for the sweep", task.name)
        return False
    _broker_failed_at = None
    return True


def enqueue_delivery(ids: list[int]) -> None:
    """Hand rows to a worker. A broker that is down or hung costs a request at most the
    socket timeout, once; the rows wait for the sweep."""
    from members.tasks import deliver_notifications

    for start in range(0, len(ids), BATCH_SIZE):
        if not send_task(deliver_notifications, ids[start : start + BATCH_SIZE]):
            return


# --- Delivering -----------------------------------------------------------------------------


def claim(ids: Iterable[int]) -> list[Notification]:
    """Take pending, due email rows for this worker with one conditional UPDATE. A row
    another worker took first (or that is no longer due) is left alone."""
    token = uuid.uuid4().hex
    now = timezone.now()
    Notification.objects.due(now).filter(pk__in=list(ids)).update(
        state=State.SENDING, claim=token, claimed_at=now, attempts=F("attempts") + 1
    )
    return list(
        Notification.objects.filter(claim=token)
        .select_related("recipient", "community", "about_type")
        .order_by("pk")
    )


def _classify(error: Exception) -> bool:
    """True if trying again later may work."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code < 500 for code, _msg in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code < 500
    return isinstance(error, (smtplib.SMTPException, OSError, socket.timeout))


def backoff(attempts: int) -> timedelta:
    """Exponential back-off with jitter: about 1, 2, 4, 8… minutes, capped at an hour."""
    base = min(60 * 2 ** max(attempts - 1, 0), 3600)
    return timedelta(seconds=base * random.uniform(0.5, 1.5))


def _mark_sent(row: Notification) -> bool:
    """Record the send, if this worker still holds the row. Retried a few times: a row the
    server accepted must not be left looking unsent (it would be sent again)."""
    done = {
        "state": State.SENT,
        "sent_at": timezone.now(),
        "last_error": "",
        "claim": "",
        "email": row.email,  # the address it actually went to
    }
    if "prerendered" in row.context:
        # Account emails carry secret links; once sent, the outbox forgets them.
        done["context"] = {}
    for attempt in range(3):
        try:
            mine = Notification.objects.filter(pk=row.pk, claim=row.claim, state=State.SENDING)
            return mine.update(**done) == 1
        except DatabaseError:
            if attempt == 2:
                raise
            time.sleep(0.2 * (attempt + 1))
    return False


def _mark_failed_try(row: Notification, error: Exception) -> None:
    retry = _classify(error) and row.attempts < MAX_ATTEMPTS
    Notification.objects.filter(pk=row.pk, claim=row.claim, state=State.SENDING).update(
        state=State.PENDING if retry else State.FAILED,
        next_attempt_at=timezone.now() + backoff(row.attempts),
        last_error=f"{error.__class__.__name__}: {error}"[:1000],
        claim="",
    )


def _skip(row: Notification, reason: str) -> None:
    Notification.objects.filter(pk=row.pk, claim=row.claim, state=State.SENDING).update(
        state=State.SKIPPED, last_error=reason, claim=""
    )


def _still_mine(row: Notification) -> bool:
    """Renew this worker's claim just before sending. A row the sweep handed to another
    worker (because this one seemed dead) is left to that worker."""
    return (
        Notification.objects.filter(pk=row.pk, claim=row.claim, state=State.SENDING).update(
            claimed_at=timezone.now()
        )
        == 1
    )


def _why_not_send(row: Notification) -> str:
    """A reason not to send this row now, checked against the person as they are at the
    moment of sending: they may have turned the group off or deleted their account since
    the row was written. Empty when it should go."""
    if row.kind not in _kinds:
        return f"No notification kind named {row.kind!r} is registered."
    person = row.recipient
    if person is None:
        return ""
    if not person.has_usable_email:
        return NO_USABLE_ADDRESS
    if row.group and person.delivery_for(row.group) == Delivery.NEVER:
        return "Turned off by the person."
    return ""


def _send_one(row: Notification, *, connection, about) -> bool:
    """Send one claimed row, checking first that it should still go and is still ours."""
    reason = _why_not_send(row)
    if reason:
        _skip(row, reason)
        return False
    if not _still_mine(row):
        return False
    if row.recipient is not None:
        row.email = row.recipient.email
    try:
        count = build_message(row, connection=connection, about=about).send()
    except SoftTimeLimitExceeded:
        raise  # the row stays "sending"; the sweep gives it back after the timeout
    except Exception as error:  # noqa: BLE001 - recorded on the row, retried or failed
        logger.warning("Notification %s not sent: %s", row.pk, error)
        _mark_failed_try(row, error)
        # After any error the conversation with the server is in an unknown state.
        _reopen(connection)
        return False
    if count != 1:
        _mark_failed_try(row, smtplib.SMTPException("The message had no recipient."))
        return False
    return _mark_sent(row)


def deliver(*, ids: Iterable[int], deadline: float | None = None) -> int:
    """Send the given rows that are still due, over one SMTP connection. Idempotent: rows
    already sent, or taken by another worker, are skipped. Each person is checked again at
    sending (their address and their choices as they are now). Stops taking new rows after
    `deadline` (a time.monotonic() value), leaving them for the sweep. Returns how many
    were sent."""
    rows = claim(ids)
    if not rows:
        return 0
    loaded = load_abouts([row for row in rows if row.kind in _kinds])
    connection = get_connection(fail_silently=False)
    try:
        connection.open()
    except Exception as error:  # noqa: BLE001 - cannot reach the server: all rows retry
        for row in rows:
            _mark_failed_try(row, error)
        return 0
    sent = 0
    try:
        for index, row in enumerate(rows):
            if deadline is not None and time.monotonic() > deadline:
                _release(rows[index:])
                break
            sent += _send_one(row, connection=connection, about=_about(row, loaded))
    finally:
        try:
            connection.close()
        except Exception:  # noqa: BLE001 - closing a broken connection
            pass
    return sent


def _reopen(connection) -> None:
    try:
        connection.close()
    except Exception:  # noqa: BLE001
        pass
    connection.connection = None
    try:
        connection.open()
    except Exception:  # noqa: BLE001 - the next send fails and is recorded
        pass


def _release(rows: list[Notification]) -> None:
    """Give back rows this worker claimed but will not reach, for the next sweep."""
    for row in rows:
        Notification.objects.filter(pk=row.pk, claim=row.claim, state=State.SENDING).update(
            state=State.PENDING, claim="", attempts=F("attempts") - 1
        )


def requeue_stuck(*, older_than: timedelta | None = None) -> int:
    """Rows left 'sending' by a worker that died go back to pending."""
    limit = (
        older_than if older_than is not None else timedelta(seconds=settings.OUTBOX_STUCK_SECONDS)
    )
    return Notification.objects.filter(
        state=State.SENDING, claimed_at__lt=timezone.now() - limit
    ).update(state=State.PENDING, claim="", next_attempt_at=timezone.now())


def sweep(*, budget_seconds: float = SWEEP_BUDGET_SECONDS) -> int:
    """Deliver what is due, batch by batch, and requeue rows stuck with a dead worker. Safe
    to run in several places at once: every row is claimed before it is sent. Stops within
    `budget_seconds`, well inside Celery's time limit; the next sweep carries on."""
    deadline = time.monotonic() + budget_seconds
    requeue_stuck()
    sent, after = 0, 0
    while time.monotonic() < deadline:
        due = Notification.objects.due().filter(pk__gt=after).order_by("pk")
        ids = list(due.values_list("pk", flat=True)[:BATCH_SIZE])
        if not ids:
            break
        sent += deliver(ids=ids, deadline=deadline)
        after = ids[-1]
    return sent


# --- Digests --------------------------------------------------------------------------------


def send_digests(*, delivery: str, budget_seconds: float = SWEEP_BUDGET_SECONDS) -> int:
    """One email per person and group gathering their rows held for this digest, over one
    SMTP connection. Stops taking new people after `budget_seconds` (well inside Celery's
    time limit); `digests_waiting()` then says to run again. Returns how many were sent."""
    deadline = time.monotonic() + budget_seconds
    held = Notification.objects.filter(
        state=State.PENDING, channel=Notification.Channel.EMAIL, delivery=delivery
    )
    pairs = held.values_list("recipient_id", "group").distinct().order_by("recipient_id", "group")
    count = 0
    connection = get_connection(fail_silently=False)
    for recipient_id, group in pairs.iterator():
        if time.monotonic() > deadline:
            break
        token = uuid.uuid4().hex
        held.filter(recipient_id=recipient_id, group=group).update(
            state=State.SENDING, claim=token, claimed_at=timezone.now(), attempts=F("attempts") + 1
        )
        rows = list(
            Notification.objects.filter(claim=token)
            .select_related("recipient", "community", "about_type")
            .order_by("created_at")
        )
        if not rows:
            continue
        reason = _why_not_send(rows[0])
        if reason:
            for row in rows:
                _skip(row, reason)
            continue
        rows[0].email = rows[0].recipient.email
        try:
            build_digest(rows, delivery=delivery, connection=connection).send()
        except SoftTimeLimitExceeded:
            raise
        except Exception as error:  # noqa: BLE001 - each row records the failure
            for row in rows:
                _mark_failed_try(row, error)
            _reopen(connection)
            continue
        Notification.objects.filter(claim=token, state=State.SENDING).update(
            state=State.SENT, sent_at=timezone.now(), last_error="", claim=""
        )
        count += 1
    try:
        connection.close()
    except Exception:  # noqa: BLE001 - closing a broken connection
        pass
    return count


def digests_waiting(*, delivery: str) -> bool:
    return Notification.objects.filter(
        state=State.PENDING, channel=Notification.Channel.EMAIL, delivery=delivery
    ).exists()


# --- Messages -------------------------------------------------------------------------------


def unsubscribe_token(*, user: User, group: str) -> str:
    return signing.dumps({"u": user.pk, "g": group}, salt=UNSUBSCRIBE_SALT, compress=True)


def read_unsubscribe_token(token: str) -> tuple[int, str]:
    """The person and group a token names. Raises signing.BadSignature if it was altered."""
    data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    if data.get("g") not in NotificationGroup.values:
        raise signing.BadSignature("Unknown group")
    return data["u"], data["g"]


def _absolute(path: str) -> str:
    return settings.SITE_URL + path


_UNLOADED = object()


def _render_context(row: Notification, about=_UNLOADED) -> dict:
    spec = get_kind(row.kind)
    if about is _UNLOADED:
        model = row.about_type.model_class() if row.about_type else None
        about = model._default_manager.filter(pk=row.about_id).first() if model else None
    return {
        **row.context,
        "recipient": row.recipient,
        "community": row.community,
        "about": about,
        "link": _absolute(spec.link(about)) if spec.link and about else "",
        "site_url": settings.SITE_URL,
    }


def _unsubscribe(row_user: User | None, group: str) -> dict:
    if not (row_user and group):
        return {}
    token = unsubscribe_token(user=row_user, group=group)
    return {
        "unsubscribe_url": _absolute(reverse("members:unsubscribe", args=[token])),
        "one_click_url": _absolute(reverse("members:unsubscribe_one_click", args=[token])),
        "group_label": NotificationGroup(group).label,
    }


def _message(
    *,
    to: str,
    subject: str,
    text: str,
    html: str,
    unsubscribe: dict,
    connection=None,
    message_id: str,
):
    headers = {"Message-ID": message_id}
    if unsubscribe:
        headers["List-Unsubscribe"] = f"<{unsubscribe['one_click_url']}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=text,
        to=[to],
        headers=headers,
        connection=connection,
    )
    if html.strip():
        message.attach_alternative(html, "text/html")
    return message


def build_message(row: Notification, *, connection=None, about=_UNLOADED) -> EmailMultiAlternatives:
    """The email for one row: plain text and HTML from the kind's templates."""
    unsubscribe = _unsubscribe(row.recipient, row.group)
    with translation.override(getattr(row.recipient, "language", None) or settings.LANGUAGE_CODE):
        context = {**_render_context(row, about), **unsubscribe}
        if "prerendered" in row.context:
            subject, text, html = (
                row.context["prerendered"][k] for k in ("subject", "text", "html")
            )
        else:
            subject = render_to_string(f"notifications/{row.kind}_subject.txt", context)
            text = render_to_string(f"notifications/{row.kind}.txt", context)
            html = render_to_string(f"notifications/{row.kind}.html", context)
        text += render_to_string("notifications/footer.txt", context)
    message = _message(
        to=row.email,
        subject=subject,
        text=text,
        html=html,
        unsubscribe=unsubscribe,
        connection=connection,
        message_id=row.message_id,
    )
    spec = get_kind(row.kind)
    if spec.attach and context.get("about") is not None:
        for filename, content, mimetype in spec.attach(context["about"]):
            message.attach(filename, content, mimetype)
    return message


def build_digest(
    rows: list[Notification], *, delivery: str, connection=None
) -> EmailMultiAlternatives:
    first = rows[0]
    items = []
    loaded = load_abouts(rows)
    for row in rows:
        context = _render_context(row, _about(row, loaded))
        items.append(
            {
                "subject": " ".join(
                    render_to_string(f"notifications/{row.kind}_subject.txt", context).split()
                ),
                "community": row.community,
                "link": context["link"],
            }
        )
    unsubscribe = _unsubscribe(first.recipient, first.group)
    context = {
        "items": items,
        "recipient": first.recipient,
        "group_label": NotificationGroup(first.group).label,
        "daily": delivery == Delivery.DAILY,
        "site_url": settings.SITE_URL,
        **unsubscribe,
    }
    subject = render_to_string("notifications/digest_subject.txt", context)
    text = render_to_string("notifications/digest.txt", context)
    text += render_to_string("notifications/footer.txt", context)
    html = render_to_string("notifications/digest.html", context)
    return _message(
        to=first.email,
        subject=subject,
        text=text,
        html=html,
        unsubscribe=unsubscribe,
        connection=connection,
        message_id=first.message_id.replace("notification-", f"digest-{len(rows)}-"),
    )


def retry_failed(*, rows) -> int:
    """Put failed rows back in the queue (an admin action)."""
    ids = list(rows.filter(state=State.FAILED).values_list("pk", flat=True))
    Notification.objects.filter(pk__in=ids).update(
        state=State.PENDING, attempts=0, next_attempt_at=timezone.now(), last_error=""
    )
    if ids:
        transaction.on_commit(partial(enqueue_delivery, ids), robust=True)
    return len(ids)


def mark_contacted(*, row: Notification) -> None:
    """A coordinator wrote or phoned the person: the row is done."""
    Notification.objects.filter(pk=row.pk, state=State.PENDING).update(
        state=State.SENT, sent_at=timezone.now()
    )


def load_abouts(rows: list[Notification]) -> dict:
    """The objects these rows are about, with what their kinds' links use: one query per kind
    of object and set of relations, however many rows."""
    wanted: dict = {}
    for row in rows:
        if row.about_type_id:
            related = get_kind(row.kind).about_related
            wanted.setdefault((row.about_type, related), set()).add(row.about_id)
    loaded = {}
    for (content_type, related), ids in wanted.items():
        model = content_type.model_class()
        if model is None:
            continue
        for obj in model._default_manager.select_related(*related).filter(pk__in=ids):
            loaded[(content_type.pk, str(obj.pk))] = obj
    return loaded


def _about(row: Notification, loaded: dict):
    return loaded.get((row.about_type_id, row.about_id))


def describe_all(rows: list[Notification]) -> None:
    """Give each row a `summary`: a short line saying what it is about, for the
    call-and-letter list."""
    loaded = load_abouts(rows)
    for row in rows:
        context = _render_context(row, about=_about(row, loaded))
        subject = render_to_string(f"notifications/{row.kind}_subject.txt", context)
        row.summary = " ".join(subject.split())
