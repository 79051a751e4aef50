"""Delivery end to end: the real broker (Redis in CI), real worker processes and a real SMTP
server, counting the emails each person receives."""

import time
from collections import Counter
from datetime import timedelta

import pytest
from django.db import transaction

from communities.models import Membership
from members import outbox
from members.models import Notification
from members.tasks import sweep_outbox
from tests.conftest import make_person
from tests.smtp import SMTPSink
from tests.subprocesses import child_env
from tests.workers import processes, wait_until, worker_command

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def sink():
    with SMTPSink() as server:
        yield server


def crowd(community, count):
    from members.models import User

    User.objects.bulk_create(
        User(email=f"person{i}@example.org", name=f"Person {i}") for i in range(count)
    )
    return list(User.objects.filter(email__startswith="person").order_by("pk"))


def tell(people, community) -> None:
    """One change that tells everyone, committed as a feature would commit it."""
    asker = make_person("asker@example.org")
    with transaction.atomic():
        membership = Membership.objects.create(community=community, user=asker, status="requested")
        outbox.notify(
            recipients=people,
            kind="join_request",
            about=membership,
            community=community,
            context={"person_name": "Ama"},
        )


def settle(sink, expected: int, group, seconds=90):
    wait_until(
        lambda: len(sink.counts()) >= expected,
        seconds=seconds,
        logs=group.logs,
        what=f"{expected} people emailed",
    )
    time.sleep(1.5)  # anything sent twice would arrive now


def sweep_until_done(group, *, seconds=60):
    """Ask a worker to sweep every second, as beat would every minute, until nothing waits."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        waiting = Notification.objects.exclude(state__in=["sent", "failed", "skipped"]).count()
        if not waiting:
            return
        sweep_outbox.delay()
        time.sleep(1)
    pytest.fail(f"Rows still waiting after {seconds}s:\n{group.logs()[-4000:]}")


def worker_env(broker_env, sink, **extra):
    return child_env(**broker_env, **sink.env(), **extra)


def test_everyone_is_emailed_exactly_once_by_a_real_worker(broker_env, sink, community, tmp_path):
    people = crowd(community, 200)
    with processes(tmp_path) as group:
        group.start(worker_command("--concurrency=2"), env=worker_env(broker_env, sink))
        tell(people, community)
        settle(sink, 200, group)
    assert sink.counts() == Counter({p.email: 1 for p in people})
    assert set(Notification.objects.values_list("state", flat=True)) == {"sent"}


def test_rows_written_while_the_broker_is_down_are_delivered_once_it_is_back(
    broker_env, sink, community, tmp_path
):
    from celery import current_app

    from tests.conftest import reset_broker_connections

    people = crowd(community, 40)
    working_broker = current_app.conf.broker_url
    current_app.conf.broker_url = "redis://127.0.0.1:1/0"
    reset_broker_connections()
    tell(people, community)  # the after-commit enqueue fails; the rows are safe
    assert Notification.objects.filter(state="pending").count() == 40
    current_app.conf.broker_url = working_broker
    reset_broker_connections()
    with processes(tmp_path) as group:
        group.start(worker_command("--concurrency=2"), env=worker_env(broker_env, sink))
        sweep_until_done(group)
        settle(sink, 40, group)
    assert sink.counts() == Counter({p.email: 1 for p in people})


def test_overlapping_sweeps_send_nothing_twice(broker_env, sink, community, tmp_path, monkeypatch):
    # As if two beats ran at once: four sweeps race over the same rows on two workers.
    monkeypatch.setattr(outbox, "enqueue_delivery", lambda ids: None)
    people = crowd(community, 300)
    tell(people, community)
    with processes(tmp_path) as group:
        for _ in range(2):
            group.start(worker_command("--concurrency=2"), env=worker_env(broker_env, sink))
        for _ in range(4):
            sweep_outbox.delay()
        settle(sink, 300, group)
    assert sink.counts() == Counter({p.email: 1 for p in people})


def test_a_worker_killed_mid_batch_loses_nobody_and_repeats_at_most_the_email_in_flight(
    broker_env, sink, community, tmp_path
):
    """SIGKILL between the mail server's "250 OK" and the database recording it leaves a row
    that may or may not have gone. SMTP cannot make those two one step (RFC 1047), so the
    outbox sends it again rather than risk losing it: that one email, and only that one, can
    arrive twice, with the same Message-ID so mail systems can fold it. Nobody is missed."""
    people = crowd(community, 500)
    env = worker_env(broker_env, sink)
    with processes(tmp_path) as group:
        first = group.start(worker_command("--concurrency=1"), env=env)
        tell(people, community)
        wait_until(
            lambda: len(sink.received) >= 150,
            seconds=60,
            logs=group.logs,
            what="the first worker to be mid-batch",
        )
        group.kill(first)
        killed_at = len(sink.received)
        assert killed_at < 500, "the worker finished before it could be killed"
        # Time passes: the rows the dead worker held are now past OUTBOX_STUCK_SECONDS.
        outbox.requeue_stuck(older_than=timedelta(0))
        group.start(worker_command("--concurrency=1"), env=env)
        sweep_until_done(group)
        settle(sink, 500, group)
    counts = sink.counts()
    assert set(counts) == {p.email for p in people}, "somebody was missed"
    repeated = [to for to, n in counts.items() if n > 1]
    assert len(repeated) <= 1 and all(counts[to] == 2 for to in repeated), repeated
    for to in repeated:
        ids = {r.message_id for r in sink.received if r.to == to}
        assert len(ids) == 1, "a repeat must carry the original Message-ID"
