"""The notification outbox: how Convene tells people things, losing nothing and sending
nothing twice.

Features call `notify()` inside the transaction that makes the change. It writes one row per
recipient (unique per person, kind, object and key), so the promise to tell someone is
committed with the change itself, or not at all. After commit a Celery task delivers the new
rows; a sweep scheduled every minute delivers anything the task missed (a broker outage, a
killed worker). Rows are claimed with a conditional UPDATE, so no two workers send one row.
"""

import hashlib
import json
import logging
import random
import re
import smtplib
import socket
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from email.utils import formatdate
from functools import partial

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.db import DatabaseError, models, transaction
from django.db.models import Case, F, Value, When
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from members import mime
from members.models import NO_USABLE_ADDRESS, Delivery, Notification, NotificationGroup, User

logger = logging.getLogger(__name__)

State = Notification.State
MAX_ATTEMPTS = 6
BATCH_SIZE = 500
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

# Each email the server accepted is recorded as sent in one UPDATE before the next is sent.
# SMTP cannot make "the server accepted it" and "the database says so" one step, so a worker
# killed in between leaves that one row looking unsent: the sweep sends it again, with the
# same Message-ID, so that mail systems can fold the repeat. At most one email per killed
# worker, never a lost one: the chosen trade-off. (Everything else about a batch, the claim
# and its renewal, is one UPDATE for the whole batch.)


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


class _Batch:
    """The bookkeeping of one batch of rows claimed together (one claim token): which the
    server accepted, each recorded as sent at once, and whether the claim still holds."""

    def __init__(self, rows: list[Notification]):
        self.token = rows[0].claim
        self.claimed_at = rows[0].claimed_at
        self.addresses = {row.pk: row.email for row in rows}  # as written, to see changes
        self.accepted: list[Notification] = []
        self.sent = 0
        self.lost: set[int] = set()

    def holds(self, remaining: list[Notification]) -> bool:
        """Whether this worker still holds the next row, remaining[0].

        The sweep hands a row to another worker only once it has been "sending" for
        OUTBOX_STUCK_SECONDS (600 s by default; settings.py keeps it above Celery's hard
        time limit, so a live task is never taken for dead). A batch takes a second or so,
        and a task is stopped well inside its time limit (see deliver_notifications), so in
        normal operation the claim just taken holds for the whole batch and no query is
        needed. Only a worker that stalled (a paused machine, a debugger, a pool without
        time limits) could reach the sweep's limit: after a tenth of it (a margin for the
        clocks of two machines), the rows still held are renewed in one UPDATE before the
        next send, and rows another worker took over are left to it."""
        trusted = timedelta(seconds=settings.OUTBOX_STUCK_SECONDS / 10)
        if timezone.now() - self.claimed_at >= trusted:
            self.record()
            now = timezone.now()
            pks = [row.pk for row in remaining if row.pk not in self.lost]
            mine = Notification.objects.filter(pk__in=pks, claim=self.token, state=State.SENDING)
            if mine.update(claimed_at=now) < len(pks):
                held = set(mine.values_list("pk", flat=True))
                self.lost.update(pk for pk in pks if pk not in held)
            self.claimed_at = now
        return remaining[0].pk not in self.lost

    def accept(self, row: Notification) -> None:
        """The server accepted this row's email: record it before sending the next."""
        self.accepted.append(row)
        self.record()

    def record(self) -> None:
        """Mark the accepted rows sent in one UPDATE, where this worker still holds them (a
        row the sweep handed to another worker is left to that worker's record). Retried a
        few times: a row the server accepted must not be left looking unsent."""
        rows = self.accepted
        if not rows:
            return
        done = {"state": State.SENT, "sent_at": timezone.now(), "last_error": "", "claim": ""}
        moved = [row for row in rows if row.email != self.addresses[row.pk]]
        if moved:  # the address it actually went to
            done["email"] = Case(
                *(When(pk=row.pk, then=Value(row.email)) for row in moved),
                default=F("email"),
                output_field=models.EmailField(),
            )
        secret = [row.pk for row in rows if "prerendered" in row.context]
        if secret:  # account emails carry secret links; once sent, the outbox forgets them
            done["context"] = Case(
                When(pk__in=secret, then=Value({}, output_field=models.JSONField())),
                default=F("context"),
            )
        mine = Notification.objects.filter(
            pk__in=[row.pk for row in rows], claim=self.token, state=State.SENDING
        )
        for attempt in range(3):
            try:
                self.sent += mine.update(**done)
                # Only now: if Celery's time limit interrupts the UPDATE, the rows are still
                # here for the next try.
                self.accepted = []
                return
            except DatabaseError:
                if attempt == 2:
                    raise
                time.sleep(0.2 * (attempt + 1))


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


def _send_row(row: Notification, *, composer: "_Composer", batch: _Batch, about) -> None:
    """Send one claimed row, checking first that it should still go."""
    reason = _why_not_send(row)
    if reason:
        _skip(row, reason)
        return
    if row.recipient is not None:
        row.email = row.recipient.email
    if not row.email:
        _mark_failed_try(row, smtplib.SMTPException("The message had no recipient."))
        return
    try:
        composer.send(row, about=about)
    except SoftTimeLimitExceeded:
        raise  # the row stays "sending"; the sweep gives it back after the timeout
    except Exception as error:  # noqa: BLE001 - recorded on the row, retried or failed
        logger.warning("Notification %s not sent: %s", row.pk, error)
        _mark_failed_try(row, error)
        # After any error the conversation with the server is in an unknown state.
        _reopen(composer.connection)
        return
    batch.accept(row)


def _send_claimed(rows: list[Notification], *, connection, deadline: float | None = None) -> int:
    """Send rows claimed together, over an open connection, rendering what their recipients
    share once (see _Composer), and record them as sent in batches (see _Batch). Returns
    how many this worker recorded as sent."""
    loaded = load_abouts([row for row in rows if row.kind in _kinds])
    composer = _Composer(connection)
    batch = _Batch(rows)
    index = 0
    try:
        for index, row in enumerate(rows):
            if deadline is not None and time.monotonic() > deadline:
                _release(rows[index:])
                break
            if batch.holds(rows[index:]):
                _send_row(row, composer=composer, batch=batch, about=_about(row, loaded))
    except SoftTimeLimitExceeded:
        # The email being sent may or may not have gone: it stays "sending" until the sweep
        # gives it back. The rows not reached go back now.
        batch.record()
        if rows[index + 1 :]:
            _release(rows[index + 1 :])
        raise
    finally:
        # Whatever stops the batch (its end, an error), what the server accepted is recorded.
        batch.record()
    return batch.sent


def deliver(*, ids: Iterable[int], deadline: float | None = None) -> int:
    """Send the given rows that are still due, over one SMTP connection. Idempotent: rows
    already sent, or taken by another worker, are skipped. Each person is checked again at
    sending (their address and their choices as they are now). Stops taking new rows after
    `deadline` (a time.monotonic() value), leaving them for the sweep. Returns how many
    were sent.

    At least once: the claim, then for each email the send and one UPDATE marking it sent.
    A worker killed between the server's acceptance and that UPDATE leaves that one row to
    be sent again by the sweep, with the same Message-ID. Failures and skips are recorded row
    by row, as they happen."""
    rows = claim(ids)
    if not rows:
        return 0
    connection = get_connection(fail_silently=False)
    try:
        connection.open()
    except Exception as error:  # noqa: BLE001 - cannot reach the server: all rows retry
        for row in rows:
            _mark_failed_try(row, error)
        return 0
    try:
        return _send_claimed(rows, connection=connection, deadline=deadline)
    finally:
        try:
            connection.close()
        except Exception:  # noqa: BLE001 - closing a broken connection
            pass


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
    """Give back rows this worker claimed (together) but will not reach, for the next
    sweep."""
    Notification.objects.filter(
        pk__in=[row.pk for row in rows], claim=rows[0].claim, state=State.SENDING
    ).update(state=State.PENDING, claim="", attempts=F("attempts") - 1)


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


def _language(row: Notification) -> str:
    return getattr(row.recipient, "language", None) or settings.LANGUAGE_CODE


def _render_parts(row: Notification, context: dict) -> tuple[str, str, str]:
    """Subject, text and HTML from the kind's templates (or as an account email brought
    them), the text with the footer."""
    if "prerendered" in row.context:
        subject, text, html = (row.context["prerendered"][k] for k in ("subject", "text", "html"))
    else:
        subject = render_to_string(f"notifications/{row.kind}_subject.txt", context)
        text = render_to_string(f"notifications/{row.kind}.txt", context)
        html = render_to_string(f"notifications/{row.kind}.html", context)
    text += render_to_string("notifications/footer.txt", context)
    return subject, text, html


def _headers(*, message_id: str, unsubscribe: dict) -> dict:
    """The headers Convene adds; Django adds From, To, Date and the MIME headers."""
    headers = {"Message-ID": message_id}
    if unsubscribe:
        headers["List-Unsubscribe"] = f"<{unsubscribe['one_click_url']}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return headers


def _message(
    *,
    to: str,
    subject: str,
    text: str,
    html: str,
    headers: dict,
    attachments: Iterable[tuple[str, bytes, str]] = (),
    connection=None,
) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=text,
        to=[to],
        headers=headers,
        connection=connection,
    )
    if html.strip():
        message.attach_alternative(html, "text/html")
    for filename, content, mimetype in attachments:
        message.attach(filename, content, mimetype)
    return message


def build_message(row: Notification, *, connection=None, about=_UNLOADED) -> EmailMultiAlternatives:
    """The email for one row: plain text and HTML from the kind's templates."""
    unsubscribe = _unsubscribe(row.recipient, row.group)
    with translation.override(_language(row)):
        context = {**_render_context(row, about), **unsubscribe}
        subject, text, html = _render_parts(row, context)
    spec = get_kind(row.kind)
    attachments = []
    if spec.attach and context.get("about") is not None:
        attachments = spec.attach(context["about"])
    return _message(
        to=row.email,
        subject=subject,
        text=text,
        html=html,
        headers=_headers(message_id=row.message_id, unsubscribe=unsubscribe),
        attachments=attachments,
        connection=connection,
    )


# Stand-ins for a person's own unsubscribe links in the parts everyone shares (see _Composer).
_UNSUBSCRIBE_URL = mime.placeholder("unsubscribe")
_ONE_CLICK_URL = mime.placeholder("oneclick")
# What signing.dumps() makes, which reverse() puts in a path as it is.
_TOKEN = re.compile(r"[A-Za-z0-9_.:-]+")
# A link that reads the same whether a template escapes it for HTML or not.
_PLAIN_LINK = re.compile(r"[^&<>\"'\s]+")


class _Unseen:
    """Stands in for the recipient while the parts everyone shares are rendered. A template
    that looks at the recipient at all marks it seen; that email is then rendered person by
    person."""

    seen = False

    def _look(self) -> None:
        self.seen = True

    def __getattr__(self, name):
        self._look()
        raise AttributeError(name)

    def __getitem__(self, key):
        self._look()
        raise KeyError(key)

    def __bool__(self) -> bool:
        self._look()
        return True

    def __str__(self) -> str:
        self._look()
        return ""

    def __len__(self) -> int:
        self._look()
        return 0

    def __iter__(self):
        self._look()
        return iter(())

    def __eq__(self, other) -> bool:
        self._look()
        return False

    __hash__ = object.__hash__


@dataclass
class _Shared:
    """What everyone told about one thing, in one language, is sent alike."""

    subject: str
    text: str
    html: str
    attachments: list
    prototype: mime.Prototype | None = None
    copyable: bool = True


def _render_shared(row: Notification, about) -> _Shared | None:
    """Render the row's email with stand-ins for the person: None if the templates looked at
    the recipient, so the email must be rendered for each person."""
    watch = _Unseen() if row.recipient is not None else None
    with translation.override(_language(row)):
        context = {**_render_context(row, about), "recipient": watch}
        if row.recipient and row.group:
            context["unsubscribe_url"] = _UNSUBSCRIBE_URL
            context["one_click_url"] = _ONE_CLICK_URL
            context["group_label"] = NotificationGroup(row.group).label
        subject, text, html = _render_parts(row, context)
    if (
        (watch is not None and watch.seen)
        or _UNSUBSCRIBE_URL in subject
        or _ONE_CLICK_URL in subject
    ):
        return None
    spec = get_kind(row.kind)
    attachments = spec.attach(about) if spec.attach and about is not None else []
    return _Shared(subject, text, html, attachments)


class _Composer:
    """Builds and sends the emails of one batch over one connection.

    Most of an email is the same for everyone told about one thing: its subject, text, HTML
    and attachments are rendered once per kind, object, community, context, group and
    language (within the batch), with stand-ins for the person's own unsubscribe links, and
    each email swaps in that person's links. Through Django's SMTP backend the encoded message
    is copied as well (members.mime); other backends (the console in development, memory in
    tests) are given an EmailMessage. Either way each person gets the email build_message()
    makes for their row, byte for byte but for the MIME boundary and the Date; where that
    cannot be promised (a template that looks at `recipient`, a link that would need
    escaping) the row's email is built by build_message() itself."""

    def __init__(self, connection):
        self.connection = connection
        self.copies = type(connection) is SMTPBackend
        self.shared: dict[tuple, _Shared | None] = {}
        self.link_shapes: list[list[str]] | None = None

    def send(self, row: Notification, *, about) -> None:
        """Send the row's email to row.email, raising what the backend raises."""
        shared = self._shared(row, about)
        links = self._links(row) if shared is not None else {}
        if shared is None or not all(_PLAIN_LINK.fullmatch(url) for url in links.values()):
            message = build_message(row, connection=self.connection, about=about)
        else:
            headers = _headers(message_id=row.message_id, unsubscribe=links)
            data = self._copy(shared, row, headers, links) if self.copies else None
            if data is not None:
                if self.connection.connection is None:  # a reopen after an error failed
                    self.connection.open()
                self.connection.connection.sendmail(
                    shared.prototype.from_email, [mime.envelope_address(row.email)], data
                )
                return
            message = _message(
                to=row.email,
                subject=shared.subject,
                text=_fill(shared.text, links),
                html=_fill(shared.html, links),
                headers=headers,
                attachments=shared.attachments,
                connection=self.connection,
            )
        if message.send() != 1:
            raise smtplib.SMTPException("The message had no recipient.")

    def _shared(self, row: Notification, about) -> _Shared | None:
        key = (
            row.kind,
            _language(row),
            row.about_type_id,
            row.about_id,
            row.community_id,
            row.group,
            row.recipient is not None,
            json.dumps(row.context, sort_keys=True),
        )
        if key not in self.shared:
            self.shared[key] = _render_shared(row, about)
        return self.shared[key]

    def _links(self, row: Notification) -> dict:
        """The person's unsubscribe links, as _unsubscribe() makes them, without reversing
        two URLs for each person."""
        if not (row.recipient and row.group):
            return {}
        if self.link_shapes is None:
            stand_in = mime.placeholder("token")
            self.link_shapes = [
                _absolute(reverse(name, args=[stand_in])).split(stand_in)
                for name in ("members:unsubscribe", "members:unsubscribe_one_click")
            ]
        token = unsubscribe_token(user=row.recipient, group=row.group)
        if not _TOKEN.fullmatch(token) or any(len(shape) != 2 for shape in self.link_shapes):
            links = _unsubscribe(row.recipient, row.group)
            return {name: links[name] for name in ("unsubscribe_url", "one_click_url")}
        (page_start, page_end), (click_start, click_end) = self.link_shapes
        return {
            "unsubscribe_url": page_start + token + page_end,
            "one_click_url": click_start + token + click_end,
        }

    def _copy(self, shared: _Shared, row: Notification, headers: dict, links: dict):
        """The encoded email for this row, copied from the shared one; None where it cannot
        be copied."""
        if shared.prototype is None and shared.copyable:
            stand_ins = {name: mime.placeholder(name) for name in ("To", "Date", *headers)}
            message = _message(
                to=stand_ins["To"],
                subject=shared.subject,
                text=shared.text,
                html=shared.html,
                # Django writes Date, then the headers given, in this order, as it does when
                # it adds the Date itself.
                headers={name: stand_ins[name] for name in ("Date", *headers)},
                attachments=shared.attachments,
            )
            body = {"unsubscribe_url": _UNSUBSCRIBE_URL, "one_click_url": _ONE_CLICK_URL}
            try:
                shared.prototype = mime.Prototype(message, headers=stand_ins, body=body)
            except mime.CannotCopy:
                shared.copyable = False
        if shared.prototype is None:
            return None
        date = formatdate(localtime=settings.EMAIL_USE_LOCALTIME)
        return shared.prototype.copy(headers={"To": row.email, "Date": date, **headers}, body=links)


def _fill(text: str, links: dict) -> str:
    if not links:
        return text
    text = text.replace(_UNSUBSCRIBE_URL, links["unsubscribe_url"])
    return text.replace(_ONE_CLICK_URL, links["one_click_url"])


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
        headers=_headers(
            message_id=first.message_id.replace("notification-", f"digest-{len(rows)}-"),
            unsubscribe=unsubscribe,
        ),
        connection=connection,
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
