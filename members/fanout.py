"""Telling a whole audience, outside the request.

Some changes tell many people: an update tells everyone whose input it answers (ten thousand
people in a large community), a cancelled session tells everyone registered or waiting. The
request must not write ten thousand outbox rows, so it only records the promise: `start()`
writes one `FanOut` row in the change's own transaction. After commit the worker keeps the
audience as it stands then (one INSERT ... SELECT of its people into `FanOutPerson`, with
the count and the contacts without an account, in one transaction), and then writes the
outbox rows in batches (`advance()`), each batch in a transaction of its own that also moves
the fan-out's cursor past the last person written. So:

- nothing is lost: the promise commits with the change, and a fan-out a worker left half done
  (killed, or the broker down) is picked up by the minute-by-minute sweep (`resume_stalled`);
- nobody is written twice: a batch and the cursor commit together, and the outbox's unique key
  (person, kind, object, key) turns any repeat into nothing;
- the page can say how far it has got (`progress`), from two small indexed queries;
- a batch costs the same whatever the audience: it reads the next people from the kept list
  by index, and never works the audience out again (an update's audience is a UNION over
  the whole community's input).

The audience is the one the worker found when it started: someone who joins it later (who
registers, or supports the idea, after that moment) is not told by this fan-out, and someone
who leaves it later still is.

Who is in an audience is decided by the app that knows (a lower app cannot import a higher
one): it registers a function with `register_audience` from its `ready()`.
"""

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import EmptyResultSet, ValidationError
from django.core.validators import validate_email
from django.db import connections, models, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Value
from django.utils import timezone

from members import outbox
from members.models import FanOut, FanOutPerson, Notification, User, normalise_email

logger = logging.getLogger(__name__)

# A worker that has not moved its fan-out for this long is taken to be dead.
LEASE_SECONDS = 120
# A run stops taking new batches after this long (inside Celery's soft time limit); the
# task then carries on in a new run.
RUN_BUDGET_SECONDS = 120


# --- Audiences ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Contact:
    """Someone with no account who agreed to be told (their input was typed in from paper):
    by email, or by a letter or call from a coordinator."""

    name: str
    channel: str  # "email", "post" or "phone"
    details: str

    @property
    def key(self) -> tuple[str, str]:
        """The same person, however their details were spaced or capitalised."""
        return (self.channel, " ".join(self.details.split()).lower())

    @property
    def email(self) -> str:
        """The address to email, or "" when this contact is written to or phoned instead (an
        address that does not work as one goes on the letters-and-calls list)."""
        if self.channel != "email":
            return ""
        try:
            validate_email(self.details)
        except ValidationError:
            return ""
        return normalise_email(self.details)


@dataclass
class Audience:
    """Who hears: people with accounts (a queryset of users, in any order, that the worker
    copies once into the fan-out's list) and contacts without one."""

    people: models.QuerySet
    contacts: list[Contact] = field(default_factory=list)


@dataclass(frozen=True)
class AudienceSpec:
    name: str
    # The audience, given the object the fan-out is about.
    find: Callable[[models.Model], Audience]
    # Called in the transaction that finishes the fan-out, with the fan-out and the object.
    on_done: Callable[[FanOut, models.Model], None] | None = None


_audiences: dict[str, AudienceSpec] = {}


def register_audience(
    name: str,
    find: Callable[[models.Model], Audience],
    *,
    on_done: Callable[[FanOut, models.Model], None] | None = None,
) -> None:
    _audiences[name] = AudienceSpec(name, find, on_done)


def get_audience(name: str) -> AudienceSpec:
    try:
        return _audiences[name]
    except KeyError:
        raise LookupError(f"No audience named {name!r} is registered.") from None


# --- The request's part ---------------------------------------------------------------------


def start(
    *,
    kind: str,
    audience: str,
    about: models.Model,
    community=None,
    key: str = "",
    context: dict | None = None,
    by: User | None = None,
) -> FanOut:
    """Promise to tell `audience` about `about`. Call it inside the transaction that makes
    the change: the promise commits with it, and the worker starts after commit. Starting
    the same fan-out again (same kind, object and key) returns the first one and tells
    nobody twice; `just_started` on the result says whether this call recorded it."""
    outbox.get_kind(kind)  # refuse an unknown kind here, not later in the worker
    get_audience(audience)
    fan_out, created = FanOut.objects.get_or_create(
        kind=kind,
        about_type=ContentType.objects.get_for_model(about, for_concrete_model=False),
        about_id=str(about.pk),
        key=key,
        defaults={
            "audience": audience,
            "community": community,
            "context": context or {},
            "requested_by": by,
        },
    )
    if created:
        transaction.on_commit(partial(enqueue, fan_out.pk), robust=True)
    fan_out.just_started = created
    return fan_out


def enqueue(pk: int) -> None:
    """Hand a fan-out to a worker. A broker that is down costs the request at most its
    socket timeout, once; the sweep starts the fan-out when the broker is back."""
    from members.tasks import run_fan_out

    outbox.send_task(run_fan_out, pk)


# --- The worker's part ----------------------------------------------------------------------


def _take(pk: int, token: str) -> bool:
    """Hold the fan-out for this worker: one conditional UPDATE, so two workers never write
    the same fan-out at once. A holder silent for longer than the lease is taken over."""
    now = timezone.now()
    stale = now - timedelta(seconds=LEASE_SECONDS)
    return bool(
        FanOut.objects.filter(pk=pk, state=FanOut.State.WRITING)
        .filter(Q(claim="") | Q(claimed_at__lt=stale) | Q(claimed_at__isnull=True))
        .update(claim=token, claimed_at=now)
    )


class LostHold(Exception):
    """Another worker took the fan-out over (this one seemed dead): stop, writing nothing
    more."""


def _moved(fan_out: FanOut, token: str, **changes) -> bool:
    """Record progress if this worker still holds the fan-out (and renew the lease)."""
    return bool(
        FanOut.objects.filter(pk=fan_out.pk, claim=token).update(
            claimed_at=timezone.now(), **changes
        )
    )


def _keep_audience(fan_out: FanOut, audience: Audience, token: str) -> None:
    """Keep the audience as it stands now, in one transaction with the count that says it
    is kept (`total`): the people in one INSERT ... SELECT (their ids go from the audience's
    query straight into the list, none through the worker) and the contacts without an
    account, in a stable order. A worker killed before the commit leaves nothing kept, and
    the next run keeps it afresh. Raises LostHold (keeping nothing) if another worker has
    taken the fan-out over meanwhile."""
    contacts = sorted(audience.contacts, key=lambda c: (c.key, c.name))
    with transaction.atomic():
        people = _insert_people(fan_out, audience.people)
        fan_out.contacts = [[c.name, c.channel, c.details] for c in contacts]
        fan_out.total = people + len(contacts)
        if not _moved(fan_out, token, total=fan_out.total, contacts=fan_out.contacts):
            raise LostHold


def _insert_people(fan_out: FanOut, people: models.QuerySet) -> int:
    """Copy the ids of `people` into the fan-out's list; returns how many. The SELECT is the
    audience's own query, compiled by the ORM, so it is the same SQL on SQLite and on
    PostgreSQL; Django has no INSERT ... SELECT, so the INSERT around it is written here."""
    rows = (
        people.order_by()
        .annotate(kept_for=Value(fan_out.pk, output_field=models.BigIntegerField()))
        .values_list("kept_for", "pk")
        .distinct()  # an audience joined through a relation may name a person twice
    )
    try:
        select, params = rows.query.get_compiler(using=rows.db).as_sql()
    except EmptyResultSet:
        return 0  # an audience that is empty by definition (`none()`, `pk__in=[]`)
    connection = connections[rows.db]
    quote = connection.ops.quote_name
    meta = FanOutPerson._meta
    columns = ", ".join(quote(meta.get_field(name).column) for name in ("fan_out", "user"))
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {quote(meta.db_table)} ({columns}) {select}", params)
        return cursor.rowcount


def _write_people(fan_out: FanOut, about, token: str, size: int) -> bool:
    """Write the next batch of people from the kept list, and drop them from it; False when
    there are none left. The batch, its removal from the list and the cursor commit
    together. Raises LostHold (with the batch rolled back) if another worker has taken the
    fan-out over."""
    with transaction.atomic():
        ids = list(
            FanOutPerson.objects.filter(fan_out=fan_out.pk, user_id__gt=fan_out.cursor)
            .order_by("user_id")
            .values_list("user_id", flat=True)[:size]
        )
        if not ids:
            return False
        outbox.notify(
            recipients=User.objects.filter(pk__in=ids).order_by("pk"),
            kind=fan_out.kind,
            about=about,
            community=fan_out.community,
            context=fan_out.context,
            key=fan_out.key,
        )
        FanOutPerson.objects.filter(fan_out=fan_out.pk, user_id__lte=ids[-1]).delete()
        if not _moved(fan_out, token, cursor=ids[-1], done_count=F("done_count") + len(ids)):
            raise LostHold
    fan_out.cursor = ids[-1]
    return True


def _write_contacts(fan_out: FanOut, about, token: str, size: int) -> bool:
    """Write the next batch of contacts without an account, from the list kept when the
    fan-out started (so a contact added or removed since cannot shift the position a resumed
    run carries on from). Someone entered from paper whose email is the address of a person
    in the audience hears once, as that person: contacts are written before the people, so
    that the kept list of people still holds everyone to compare with."""
    contacts = [Contact(*fields) for fields in fan_out.contacts]
    batch = contacts[fan_out.contacts_done : fan_out.contacts_done + size]
    if not batch:
        return False
    with transaction.atomic():
        addresses = {c.email for c in batch if c.email}
        kept = FanOutPerson.objects.filter(fan_out=fan_out.pk, user=OuterRef("pk"))
        members = set(
            User.objects.filter(Exists(kept), email__in=addresses).values_list("email", flat=True)
        )
        common = {
            "kind": fan_out.kind,
            "about": about,
            "community": fan_out.community,
            "context": fan_out.context,
        }
        for contact in batch:
            if contact.email in members:
                continue
            if contact.email:
                outbox.notify_address(
                    email=contact.email,
                    key=fan_out.key,
                    **{**common, "context": {**fan_out.context, "name": contact.name}},
                )
            else:
                outbox.notify_contact(
                    name=contact.name,
                    channel="phone" if contact.channel == "phone" else "post",
                    details=contact.details,
                    **common,
                )
        moved = _moved(
            fan_out,
            token,
            contacts_done=F("contacts_done") + len(batch),
            done_count=F("done_count") + len(batch),
        )
        if not moved:
            raise LostHold
    fan_out.contacts_done += len(batch)
    return True


def _about(fan_out: FanOut):
    model = fan_out.about_type.model_class()
    if model is None:
        return None
    return model._default_manager.filter(pk=fan_out.about_id).first()


def advance(
    pk: int, *, batch_size: int | None = None, budget_seconds: float = RUN_BUDGET_SECONDS
) -> bool:
    """Carry a fan-out on from where it stopped, batch by batch, for at most
    `budget_seconds`. The first run keeps the audience (see `_keep_audience`); every batch
    then reads from what was kept. Idempotent and resumable: each batch commits with the
    cursor that says it is done, and the outbox writes each person once whatever happens.
    A fan-out whose object has gone tells nobody more, and finishes. Returns True when the
    fan-out has more to do (the caller runs it again), False when it is finished or another
    worker holds it."""
    batch_size = batch_size or settings.FANOUT_BATCH_SIZE
    token = uuid.uuid4().hex
    if not _take(pk, token):
        return False
    fan_out = FanOut.objects.select_related("about_type", "community").get(pk=pk)
    spec = get_audience(fan_out.audience)
    about = _about(fan_out)
    deadline = time.monotonic() + budget_seconds
    try:
        if fan_out.total is None:
            found = spec.find(about) if about is not None else Audience(User.objects.none())
            _keep_audience(fan_out, found, token)
        for write in (_write_contacts, _write_people):
            while about is not None and write(fan_out, about, token, batch_size):
                if time.monotonic() > deadline:
                    return _let_go(fan_out, token)
    except LostHold:
        return False
    with transaction.atomic():
        finished = _moved(fan_out, token, state=FanOut.State.DONE, finished_at=timezone.now())
        if finished:
            # Nothing is left unless the object went; then nobody more is told.
            FanOutPerson.objects.filter(fan_out=fan_out.pk).delete()
        if finished and spec.on_done and about is not None:
            fan_out.refresh_from_db()
            spec.on_done(fan_out, about)
    return False


def _let_go(fan_out: FanOut, token: str) -> bool:
    """Out of time: give the fan-out back, so the next run may take it at once."""
    FanOut.objects.filter(pk=fan_out.pk, claim=token).update(claim="")
    return True


def resume_stalled() -> int:
    """Hand to a worker every fan-out not finished and not moving: never started (the
    broker was down after the request) or left by a worker that died. Returns how many."""
    stale = timezone.now() - timedelta(seconds=LEASE_SECONDS)
    ids = list(
        FanOut.objects.filter(state=FanOut.State.WRITING)
        .filter(Q(claim="") | Q(claimed_at__lt=stale) | Q(claimed_at__isnull=True))
        .values_list("pk", flat=True)
    )
    for pk in ids:
        enqueue(pk)
    return len(ids)


# --- How far it has got ---------------------------------------------------------------------


@dataclass
class Progress:
    """How far telling people about one thing has got, for the page that shows it."""

    finished: bool
    total: int | None
    done: int
    kind: str = ""
    sent: int = 0
    waiting: int = 0
    to_contact: int = 0
    not_sent: int = 0
    failed: int = 0

    @property
    def told(self) -> int:
        """People set to hear: those who turned these messages off, or have no address we
        can use, are not counted."""
        return self.sent + self.waiting + self.to_contact + self.failed

    @property
    def percent(self) -> int:
        if not self.total:
            return 100 if self.finished else 0
        return min(100, 100 * self.done // self.total)


def progress(*, kind: str, about: models.Model, key: str = "") -> Progress | None:
    """How far the fan-out of `kind` about `about` has got, in two indexed queries; None if
    there is none."""
    return _progress(_fan_outs_about(about).filter(kind=kind, key=key).first(), about)


def latest_progress(*, kinds: list[str], about: models.Model) -> Progress | None:
    """How far the newest fan-out of any of these kinds about `about` has got (a session's
    latest change or its cancellation, say); None if there is none."""
    fan_out = _fan_outs_about(about).filter(kind__in=kinds).order_by("-requested_at").first()
    return _progress(fan_out, about)


def _fan_outs_about(about: models.Model):
    about_type = ContentType.objects.get_for_model(about, for_concrete_model=False)
    return FanOut.objects.filter(about_type=about_type, about_id=str(about.pk))


def _progress(fan_out: FanOut | None, about: models.Model) -> Progress | None:
    if fan_out is None:
        return None
    result = Progress(
        finished=fan_out.is_done,
        total=fan_out.total,
        done=fan_out.done_count,
        kind=fan_out.kind,
    )
    rows = Notification.objects.filter(
        kind=fan_out.kind, about_type_id=fan_out.about_type_id, about_id=fan_out.about_id
    )
    if fan_out.key:
        # One of several fan-outs about the same thing (each change to a session, say).
        # Letters and calls carry a key of their own, so a fan-out with a key has none.
        rows = rows.filter(key=fan_out.key)
    rows = rows.values("state", "channel").annotate(n=Count("pk")).order_by()
    State, Channel = Notification.State, Notification.Channel
    for row in rows:
        state, n = row["state"], row["n"]
        if state == State.SKIPPED:
            result.not_sent += n
        elif state == State.FAILED:
            result.failed += n
        elif row["channel"] != Channel.EMAIL:
            result.to_contact += n  # letters and calls, pending or done
        elif state == State.SENT:
            result.sent += n
        else:
            result.waiting += n
    return result
