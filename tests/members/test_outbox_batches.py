"""Delivery in batches: the emails are the ones build_message() makes for each row, however
much of them is rendered once and copied; sends are recorded a batch at a time; and a worker
never records a row another worker took over."""

import re
from collections import Counter
from datetime import timedelta

import pytest
from django.core import mail, signing
from django.core.mail import get_connection
from django.core.mail.message import sanitize_address
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from communities.models import Membership
from engagement import services as engagement
from engagement.models import Session
from improvement.models import Update
from members import mime, outbox
from members.models import Notification
from tests.conftest import make_person
from tests.members.test_outbox import notify

pytestmark = pytest.mark.django_db

State = Notification.State


class Recorder:
    """Stands in for the conversation with the mail server, keeping what was sent."""

    def __init__(self):
        self.sent = []

    def sendmail(self, from_addr, to_addrs, msg):
        self.sent.append((from_addr, to_addrs, msg))
        return {}

    def quit(self):
        pass

    def close(self):
        pass


def normalized(raw: bytes) -> bytes:
    """The message without what differs between any two builds of it: the MIME boundaries
    (random) and the Date (the clock)."""
    for number, boundary in enumerate(re.findall(rb'boundary="([^"]+)"', raw)):
        raw = raw.replace(boundary, b"BOUNDARY-%d" % number)
    return re.sub(rb"^Date: [^\r]*\r\n", b"Date: DATE\r\n", raw, count=1, flags=re.M)


@pytest.fixture
def one_second(monkeypatch):
    """Every unsubscribe link made within one second, as a person's links are the same
    whenever in that second they are made."""
    monkeypatch.setattr(signing.TimestampSigner, "timestamp", lambda self: "1xZ3Ol")


@pytest.fixture
def rows(community, coordinator, member):
    """Rows of every shape: links to stop a group or none, an attachment, an account email,
    unusual addresses, text with other alphabets, and a line too long to copy."""
    plus = make_person("Ann.Lee+clinic@Example.ORG", name="Ann")
    idn = make_person("bea@exämple.org", name="Bea")
    long_name = make_person(f"{'c' * 70}@example.org", name="Cal")
    for person in (plus, idn, long_name):
        Membership.objects.create(community=community, user=person, status="active")
    asker = Membership.objects.create(
        community=community, user=make_person("dee@example.org"), status="requested"
    )
    outbox.notify(
        recipients=[coordinator, plus, idn, long_name],
        kind="join_request",
        about=asker,
        community=community,
        context={"person_name": "Zoë Ōkubo"},
    )
    update = Update.objects.create(
        community=community,
        title="Clinic letters — a week sooner",
        what_we_heard="Letters arrive after the appointment.",
        what_we_did="The clinic now posts letters three weeks before, not two.",
    )
    outbox.notify(
        recipients=[member, plus, long_name],
        kind="update_published",
        about=update,
        community=community,
    )
    wordy = Update.objects.create(
        community=community,
        title="A long answer",
        what_we_heard="Much.",
        what_we_did="word " * 300,  # one line of 1,500 characters: Django encodes it
    )
    outbox.notify(recipients=[member], kind="update_published", about=wordy, community=community)
    outbox.notify(recipients=[member], kind="request_approved", about=asker, community=community)
    start = timezone.now() + timedelta(days=3)
    session = Session.objects.create(
        community=community,
        title="Talking about clinic letters",
        kind=Session.Kind.WORKSHOP,
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        status=Session.Status.PUBLISHED,
    )
    engagement.register(session=session, user=member)
    outbox.notify_address(
        email="new@example.org",
        kind="account",
        about=None,
        context={
            "prerendered": {
                "subject": "Confirm your address",
                "text": "Follow this.",
                "html": "<p>Follow this.</p>",
            }
        },
        key="one",
    )
    claimed = outbox.claim(Notification.objects.values_list("pk", flat=True))
    for row in claimed:
        if row.recipient is not None:
            row.email = row.recipient.email  # as sending does
    assert {row.kind for row in claimed} == {
        "join_request",
        "update_published",
        "request_approved",
        "registration_confirmed",
        "account",
    }
    return claimed


def test_each_copied_email_is_the_one_build_message_makes_for_its_row(rows, one_second):
    loaded = outbox.load_abouts(rows)
    connection = get_connection("django.core.mail.backends.smtp.EmailBackend")
    connection.connection = server = Recorder()
    composer = outbox._Composer(connection)
    for row in rows:
        composer.send(row, about=outbox._about(row, loaded))
    assert len(server.sent) == len(rows)
    for row, (from_addr, to_addrs, data) in zip(rows, server.sent, strict=True):
        expected = outbox.build_message(row, about=outbox._about(row, loaded))
        assert from_addr == sanitize_address(expected.from_email, "utf-8")
        assert to_addrs == [sanitize_address(row.email, "utf-8")]
        assert normalized(data) == normalized(expected.message().as_bytes(linesep="\r\n"))
    # Rendered once for each kind and object, and encoded once but for the update with a
    # line too long to copy (Django encodes that one as quoted-printable, row by row).
    assert len(composer.shared) == 6
    assert sorted(shared.prototype is not None for shared in composer.shared.values()) == [
        False,
        True,
        True,
        True,
        True,
        True,
    ]
    # Each person's links are their own.
    assert len({data for _f, _t, data in server.sent}) == len(rows)


def test_other_backends_get_the_same_emails(rows, one_second, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    loaded = outbox.load_abouts(rows)
    composer = outbox._Composer(get_connection())
    for row in rows:
        composer.send(row, about=outbox._about(row, loaded))
    for row, sent in zip(rows, mail.outbox, strict=True):
        expected = outbox.build_message(row, about=outbox._about(row, loaded))
        assert sent.attachments == expected.attachments
        assert normalized(sent.message().as_bytes(linesep="\r\n")) == normalized(
            expected.message().as_bytes(linesep="\r\n")
        )


def test_a_template_that_greets_the_person_is_rendered_for_each_person(community, sink, settings):
    probe = {
        "notifications/greeting_subject.txt": "Hello",
        "notifications/greeting.txt": "Dear {{ recipient.name }},",
        "notifications/greeting.html": "<p>Dear {{ recipient.name }},</p>",
        "notifications/footer.txt": "",
    }
    settings.TEMPLATES = [
        {
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "OPTIONS": {"loaders": [("django.template.loaders.locmem.Loader", probe)]},
        }
    ]
    outbox.register_kind(outbox.Kind("greeting", None))
    people = [
        make_person("ann@example.org", name="Ann"),
        make_person("bob@example.org", name="Bob"),
    ]
    membership = Membership.objects.create(community=community, user=people[0])
    outbox.notify(recipients=people, kind="greeting", about=membership, community=community)
    try:
        assert outbox.deliver(ids=Notification.objects.values_list("pk", flat=True)) == 2
    finally:
        del outbox._kinds["greeting"]
    greetings = {
        r.to: r.message.get_payload()[0].get_payload(decode=True).decode() for r in sink.received
    }
    assert greetings == {"ann@example.org": "Dear Ann,", "bob@example.org": "Dear Bob,"}


def updates_while_delivering(community, size) -> list[str]:
    people = [make_person(f"b{size}-{i}@example.org") for i in range(size)]
    notify(people, community)
    ids = list(Notification.objects.values_list("pk", flat=True))
    with CaptureQueriesContext(db) as queries:
        assert outbox.deliver(ids=ids) == size
    return [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]


def test_each_send_is_recorded_before_the_next_and_the_claim_is_not_renewed_per_email(
    community, sink
):
    ten = updates_while_delivering(community, 10)
    # The claim, then one UPDATE marking each accepted email sent: no second UPDATE per email
    # to renew the claim, which holds for the whole batch.
    assert len(ten) == 11
    assert "'sending'" in ten[0] and all("'sent'" in sql for sql in ten[1:])
    assert Notification.objects.filter(state=State.SENT).count() == 10
    assert sink.counts().total() == 10


def test_at_most_the_email_in_flight_is_unrecorded(community, sink, monkeypatch):
    recorded = []
    record = outbox._Batch.record

    def counting(batch):
        recorded.append(len(batch.accepted))
        record(batch)

    monkeypatch.setattr(outbox._Batch, "record", counting)
    people = [make_person(f"e{i}@example.org") for i in range(10)]
    notify(people, community)
    assert outbox.deliver(ids=Notification.objects.values_list("pk", flat=True)) == 10
    assert [n for n in recorded if n] == [1] * 10


def take_over_after(count, *, sink, monkeypatch):
    """After the server accepts `count` emails, the sweep decides this worker is dead and
    another worker claims its rows. Returns that worker's rows (filled in when it happens)."""
    taken = []
    send = outbox._Composer.send

    def sending(composer, row, **kwargs):
        send(composer, row, **kwargs)
        if sink.counts().total() == count and not taken:
            outbox.requeue_stuck(older_than=timedelta(0))
            taken.extend(outbox.claim(Notification.objects.values_list("pk", flat=True)))

    monkeypatch.setattr(outbox._Composer, "send", sending)
    return taken


def test_a_row_taken_over_mid_batch_is_not_marked_sent_by_the_first_worker(
    community, sink, monkeypatch
):
    people = [make_person(f"t{i}@example.org") for i in range(10)]
    notify(people, community)
    taken = take_over_after(3, sink=sink, monkeypatch=monkeypatch)
    # Worker A recorded its first two sends; the third was accepted but not yet recorded when
    # the sweep handed the rest to worker B. A trusts its claim (the sweep should wait
    # OUTBOX_STUCK_SECONDS; here it did not) and carries on sending, but records nothing more:
    # those rows are B's now.
    assert outbox.deliver(ids=Notification.objects.values_list("pk", flat=True)) == 2
    assert len(taken) == 8
    assert Counter(Notification.objects.values_list("state", "claim")) == Counter(
        {(State.SENT, ""): 2, (State.SENDING, taken[0].claim): 8}
    )
    monkeypatch.undo()
    connection = get_connection()
    connection.open()
    assert outbox._send_claimed(taken, connection=connection) == 8  # B's record stands
    connection.close()
    assert set(Notification.objects.values_list("state", flat=True)) == {State.SENT}


def test_a_worker_that_notices_its_rows_were_taken_stops_sending_them(
    community, sink, monkeypatch, settings
):
    # The sweep hands rows on at once here, so the worker asks before every email.
    settings.OUTBOX_STUCK_SECONDS = 0
    people = [make_person(f"n{i}@example.org") for i in range(10)]
    notify(people, community)
    taken = take_over_after(3, sink=sink, monkeypatch=monkeypatch)
    # A recorded the first two before sending the third; the third was accepted just as B
    # took it over, so it is B's to record (and to send again: the at-least-once window).
    assert outbox.deliver(ids=Notification.objects.values_list("pk", flat=True)) == 2
    assert sink.counts().total() == 3
    assert [row.recipient for row in taken] == people[2:]
    states = Notification.objects.order_by("pk").values_list("state", flat=True)
    assert list(states) == [State.SENT] * 2 + [State.SENDING] * 8


def test_an_account_email_is_forgotten_once_sent(sink):
    outbox.notify_address(
        email="new@example.org",
        kind="account",
        about=None,
        context={"prerendered": {"subject": "Confirm", "text": "Secret link", "html": ""}},
        key="k",
    )
    assert outbox.deliver(ids=Notification.objects.values_list("pk", flat=True)) == 1
    row = Notification.objects.get()
    assert (row.state, row.context) == (State.SENT, {})
    assert "Secret link" in sink.received[0].message.get_payload(decode=True).decode()


@pytest.mark.parametrize(
    "value",
    ["prof9@example.org", "<notification-12@convene.example.org>", "a" * 200, "=?utf-8?q?x?="],
)
def test_header_lines_are_folded_as_the_email_package_folds_them(value):
    from email.policy import compat32

    policy = compat32.clone(linesep="\r\n")
    for name in ("To", "Message-ID", "List-Unsubscribe"):
        for length in range(1, len(value) + 1):
            assert mime.header_line(name, value[:length]) == policy.fold_binary(
                name, value[:length]
            )
    date = "Thu, 03 Dec 2026 09:46:44 -0000"
    assert mime.header_line("Date", date) == policy.fold_binary("Date", date)


@pytest.mark.parametrize(
    "address",
    [
        "ann@example.org",
        "Ann.Lee+clinic@Example.ORG",
        "o'brien@example.org",
        "bea@exämple.org",
        "zoë@example.org",
        "a..b@example.org",
        "x@localhost",
    ],
)
def test_envelope_addresses_are_the_ones_django_gives_the_server(address):
    assert mime.envelope_address(address) == sanitize_address(address, "utf-8")
