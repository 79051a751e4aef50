"""The outbox: rows written with the change, delivered once, retried, and respected choices."""

import socket
import threading
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connections, transaction
from django.utils import timezone

from communities.models import Community, Membership
from members import outbox, services
from members.models import Notification
from tests.conftest import make_person, reset_broker_connections

pytestmark = pytest.mark.django_db

State = Notification.State


@pytest.fixture
def people(community):
    return [make_person(f"p{i}@example.org", name=f"P{i}") for i in range(3)]


def notify(people, community, **extra):
    membership = Membership.objects.create(community=community, user=people[0], status="requested")
    return membership, outbox.notify(
        recipients=people,
        kind="join_request",
        about=membership,
        community=community,
        context={"person_name": "Ama"},
        **extra,
    )


def test_rows_are_written_with_the_change_and_vanish_with_a_rollback(people, community):
    with pytest.raises(RuntimeError), transaction.atomic():
        notify(people, community)
        assert Notification.objects.count() == 3
        raise RuntimeError("the change failed")
    assert Notification.objects.count() == 0


def test_a_person_is_told_once_per_thing_and_kind(people, community):
    membership, written = notify(people, community)
    again = outbox.notify(
        recipients=people, kind="join_request", about=membership, community=community
    )
    assert (written, again) == (3, 0)
    repeat = outbox.notify(
        recipients=people[:1],
        kind="join_request",
        about=membership,
        community=community,
        key="asked-again",
    )
    assert repeat == 1
    assert Notification.objects.count() == 4


def test_choices_are_respected_and_kept_for_the_record(people, community):
    never, daily, gone = people
    never.alerts_delivery = "never"
    daily.alerts_delivery = "daily"
    gone.is_active = False
    for person in people:
        person.save()
    notify(people, community)
    rows = {row.recipient: row for row in Notification.objects.all()}
    assert rows[never].state == State.SKIPPED and "Turned off" in rows[never].last_error
    assert rows[daily].state == State.PENDING and rows[daily].delivery == "daily"
    assert rows[gone].state == State.SKIPPED and "No usable email" in rows[gone].last_error
    assert list(Notification.objects.due()) == []


def test_delivery_sends_each_row_once_with_both_parts_and_unsubscribe_headers(
    people, community, sink
):
    notify(people, community)
    ids = list(Notification.objects.order_by("pk").values_list("pk", flat=True))
    assert outbox.deliver(ids=ids) == 3
    assert outbox.deliver(ids=ids) == 0  # idempotent: nothing is sent twice
    assert sorted(sink.counts().items()) == [(p.email, 1) for p in people]
    message = sink.received[0].message
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/me/unsubscribe/" in message["List-Unsubscribe"]
    assert message["Message-ID"] == f"<notification-{ids[0]}@127.0.0.1>"
    parts = {
        part.get_content_type(): part.get_payload(decode=True).decode()
        for part in message.walk()
        if not part.is_multipart()
    }  # noqa: E501
    assert "Ama asked to join" in parts["text/plain"]
    assert "Ama asked to join" in parts["text/html"]
    assert community.name in parts["text/html"]
    assert "/c/bowel-care/manage/requests/" in parts["text/plain"]
    assert set(Notification.objects.values_list("state", flat=True)) == {State.SENT}


def test_one_smtp_connection_serves_a_batch(people, community, sink, monkeypatch):
    opened = []
    real = outbox.get_connection

    def counting(*args, **kwargs):
        connection = real(*args, **kwargs)
        opened.append(connection)
        return connection

    monkeypatch.setattr(outbox, "get_connection", counting)
    notify(people, community)
    outbox.deliver(ids=Notification.objects.values_list("pk", flat=True))
    assert len(opened) == 1 and sink.counts().total() == 3


def test_a_row_claimed_by_one_worker_is_not_taken_by_another(people, community):
    notify(people, community)
    ids = list(Notification.objects.values_list("pk", flat=True))
    first = outbox.claim(ids)
    second = outbox.claim(ids)
    assert len(first) == 3 and second == []


def test_a_temporary_failure_is_retried_later_then_fails_visibly(people, community, sink):
    notify(people[:1], community)
    row = Notification.objects.get()
    for attempt in range(1, outbox.MAX_ATTEMPTS + 1):
        sink.handler.fail_next = 1
        Notification.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
        outbox.deliver(ids=[row.pk])
        row.refresh_from_db()
        assert row.attempts == attempt and "451" in row.last_error
        if attempt < outbox.MAX_ATTEMPTS:
            assert row.state == State.PENDING and row.next_attempt_at > timezone.now()
            assert outbox.deliver(ids=[row.pk]) == 0  # not due yet: backing off
    assert row.state == State.FAILED
    assert sink.counts().total() == 0


def test_a_refused_address_fails_at_once(people, community, sink):
    sink.handler.refuse.add(people[0].email)
    notify(people, community)
    outbox.deliver(ids=Notification.objects.values_list("pk", flat=True))
    refused = Notification.objects.get(recipient=people[0])
    assert refused.state == State.FAILED and refused.attempts == 1 and "550" in refused.last_error
    assert sink.counts().total() == 2


def test_an_smtp_server_that_is_down_leaves_rows_to_retry(people, community, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2
    notify(people, community)
    assert outbox.deliver(ids=Notification.objects.values_list("pk", flat=True)) == 0
    assert set(Notification.objects.values_list("state", "attempts")) == {(State.PENDING, 1)}


def test_an_smtp_server_that_never_answers_times_out_and_retries(people, community, settings):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(4)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", silent.getsockname()[1]
    settings.EMAIL_TIMEOUT = 1
    notify(people, community)
    started = time.monotonic()
    try:
        outbox.deliver(ids=Notification.objects.values_list("pk", flat=True))
    finally:
        silent.close()
    assert time.monotonic() - started < 5
    row = Notification.objects.first()
    assert row.state == State.PENDING and "timed out" in row.last_error.lower()


def test_backoff_grows_with_jitter_and_is_capped():
    for attempts, base in [(1, 60), (2, 120), (3, 240), (10, 3600)]:
        delays = {outbox.backoff(attempts).total_seconds() for _ in range(20)}
        assert all(base * 0.5 <= d <= base * 1.5 for d in delays)
        assert len(delays) > 1


def test_rows_left_sending_by_a_dead_worker_go_back_to_pending(people, community):
    notify(people, community)
    outbox.claim(Notification.objects.values_list("pk", flat=True))
    Notification.objects.update(claimed_at=timezone.now() - timedelta(hours=1))
    assert outbox.requeue_stuck() == 3
    assert set(Notification.objects.values_list("state", flat=True)) == {State.PENDING}


@pytest.mark.django_db(transaction=True)
def test_the_sweep_delivers_everything_due_even_when_two_run_at_once(community, sink, monkeypatch):
    # As if the broker lost the delivery tasks: only the sweeps can send these.
    monkeypatch.setattr(outbox, "enqueue_delivery", lambda ids: None)
    people = [make_person(f"s{i}@example.org") for i in range(30)]
    notify(people, community)
    results = []

    def sweep():
        results.append(outbox.sweep())
        connections.close_all()  # this thread's own connection

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(results) == 30
    assert set(sink.counts().values()) == {1} and len(sink.counts()) == 30


def test_digests_gather_held_rows_into_one_email_per_group(community, sink):
    person = make_person("digest@example.org")
    person.alerts_delivery = "daily"
    person.save()
    for i in range(3):
        other = make_person(f"asker{i}@example.org", name=f"Asker {i}")
        membership = Membership.objects.create(community=community, user=other, status="requested")
        outbox.notify(
            recipients=[person],
            kind="join_request",
            about=membership,
            community=community,
            context={"person_name": other.name},
        )
    assert outbox.sweep() == 0  # held for the digest
    assert outbox.send_digests(delivery="weekly") == 0
    assert outbox.send_digests(delivery="daily") == 1
    [received] = sink.received
    assert "daily digest" in received.subject.lower()
    body = received.message.get_payload()[0].get_payload(decode=True).decode()
    assert body.count("asked to join") == 3
    assert "/me/unsubscribe/" in received.message["List-Unsubscribe"]
    assert set(Notification.objects.values_list("state", flat=True)) == {State.SENT}
    assert outbox.send_digests(delivery="daily") == 0


def test_people_who_want_a_letter_or_a_call_go_on_the_list_not_in_the_post(
    client, community, coordinator, django_capture_on_commit_callbacks
):
    paper = make_person("paper@example.org", name="Mrs Paper")
    paper.contact_channel = "post"
    paper.postal_address = "1 High Street\nSheffield S10 1AA"
    paper.save()
    membership = Membership.objects.create(community=community, user=paper, status="requested")
    with django_capture_on_commit_callbacks(execute=True):
        outbox.notify(
            recipients=[paper], kind="request_approved", about=membership, community=community
        )
    assert len(mail.outbox) == 0
    row = Notification.objects.get()
    assert row.channel == "post" and row.state == State.PENDING
    client.force_login(coordinator)
    page = client.get(f"/c/{community.slug}/manage/contact/").content.decode()
    assert "Mrs Paper" in page and "1 High Street" in page and "Welcome to" in page
    client.post(f"/c/{community.slug}/manage/contact/{row.pk}/done/")
    row.refresh_from_db()
    assert row.state == State.SENT
    assert (
        "Nobody is waiting" in client.get(f"/c/{community.slug}/manage/contact/").content.decode()
    )


def test_coordinators_see_how_many_emails_failed(client, community, coordinator, people):
    notify(people, community)
    Notification.objects.update(state=State.FAILED)
    client.force_login(coordinator)
    assert client.get(f"/c/{community.slug}/manage/").context["counts"]["failed_deliveries"] == 3


def test_admin_retries_failed_rows(
    client, staff, community, people, django_capture_on_commit_callbacks
):
    notify(people, community)
    Notification.objects.update(state=State.FAILED, attempts=6)
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        ids = list(Notification.objects.values_list("pk", flat=True))
        client.post("/admin/members/notification/", {"action": "retry", "_selected_action": ids})
    assert set(Notification.objects.values_list("state", flat=True)) == {State.SENT}
    assert len(mail.outbox) == 3


def test_a_broker_that_refuses_never_breaks_the_request_and_the_sweep_delivers_later(
    client, community, coordinator, outsider, broker_down
):
    community.join_policy = Community.JoinPolicy.APPROVAL
    community.save()
    community.ensure_default_involvement_options()
    client.force_login(outsider)
    started = time.monotonic()
    option = community.involvement_options.first()
    data = {"perspectives": ["carer"], "involvement": [option.pk], "agree": "on"}
    response = client.post(f"/c/{community.slug}/join/", data)
    assert response.status_code == 302
    assert time.monotonic() - started < 3
    row = Notification.objects.get(recipient=coordinator)
    assert row.state == State.PENDING
    assert len(mail.outbox) == 0
    assert outbox.sweep() == 1
    assert [m.to for m in mail.outbox] == [[coordinator.email]]


@pytest.fixture(params=["refused", "hung"])
def broker_down(request, transactional_db, settings):
    """The broker refuses connections, or accepts them and never answers."""
    from celery import current_app

    silent = None
    if request.param == "refused":
        url = "redis://127.0.0.1:1/0"
    else:
        silent = socket.socket()
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"redis://127.0.0.1:{silent.getsockname()[1]}/0"
    original = (
        current_app.conf.broker_url,
        current_app.conf.task_always_eager,
        current_app.conf.broker_transport_options,
    )
    current_app.conf.broker_url, current_app.conf.task_always_eager = url, False
    # The options a Redis broker runs with (settings.py), even where the suite uses the
    # embedded broker.
    current_app.conf.broker_transport_options = {
        "socket_timeout": settings.REDIS_SOCKET_TIMEOUT,
        "socket_connect_timeout": settings.REDIS_SOCKET_TIMEOUT,
    }
    reset_broker_connections()
    yield
    (
        current_app.conf.broker_url,
        current_app.conf.task_always_eager,
        current_app.conf.broker_transport_options,
    ) = original
    reset_broker_connections()
    if silent:
        silent.close()


def test_services_set_delivery_skips_what_was_waiting(people, community):
    notify(people, community)
    services.set_delivery(user=people[0], group="alerts", delivery="never")
    row = Notification.objects.get(recipient=people[0])
    assert row.state == State.SKIPPED


@pytest.mark.parametrize("size", [3, 30])
def test_delivery_costs_a_fixed_few_queries_per_batch_and_one_per_email(
    community, sink, size, django_assert_num_queries
):
    people = [make_person(f"q{size}-{i}@example.org") for i in range(size)]
    notify(people, community)
    ids = list(Notification.objects.values_list("pk", flat=True))
    # claim (UPDATE), the claimed rows with recipient, community and kind of object, the
    # objects they are about with their community; then one UPDATE per email recording that
    # the server accepted it, before the next is sent (it was two per email before).
    with django_assert_num_queries(3 + size):
        assert outbox.deliver(ids=ids) == size
