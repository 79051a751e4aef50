"""Publishing to a big audience: the request returns at once, the worker tells everyone in
batches, and a worker killed mid-way is carried on by another without doubling or missing
anyone. Real broker, real Celery worker processes and a real SMTP server."""

import time
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from improvement import services
from improvement.models import Support, Update
from members import fanout, outbox
from members.models import FanOut, Notification, User
from members.tasks import resume_fan_outs, sweep_outbox
from tests.conftest import make_community
from tests.improvement.factories import join, make_idea
from tests.subprocesses import child_env
from tests.workers import processes, wait_until, worker_command

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SUPPORTERS = 1200


def supporters_of(idea, count: int) -> list[User]:
    User.objects.bulk_create(
        User(email=f"supporter{i}@example.org", name=f"Supporter {i}") for i in range(count)
    )
    people = list(User.objects.filter(email__startswith="supporter").order_by("pk"))
    Support.objects.bulk_create(Support(idea=idea, user=person) for person in people)
    return people


def carry_on_until_done(group, *, seconds=240):
    """Ask the worker to resume fan-outs and sweep the outbox every second, as beat does every
    minute, until nobody is left to write to and no email waits."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        writing = FanOut.objects.filter(state=FanOut.State.WRITING).exists()
        waiting = Notification.objects.filter(state__in=["pending", "sending"]).exists()
        if not writing and not waiting:
            return
        resume_fan_outs.delay()
        sweep_outbox.delay()
        time.sleep(1)
    pytest.fail(f"Still telling people after {seconds}s:\n{group.logs()[-4000:]}")


def test_a_worker_killed_mid_fan_out_is_carried_on_and_everyone_is_told_once(
    client, broker_env, sink, coordinator, tmp_path
):
    community = make_community("big-panel")
    join(community, coordinator, role="coordinator")
    idea = make_idea(community, title="Open the clinic on Saturdays")
    people = supporters_of(idea, SUPPORTERS)
    update = Update.objects.create(
        community=community,
        created_by=coordinator,
        title="Saturday clinics start in May",
        what_we_heard="Weekday clinics are hard to reach for people at work.",
        what_we_did="The clinic opens on Saturday mornings from May.",
    )
    update.ideas.set([idea])
    # Small batches, so that the fan-out is many transactions long and the kill lands inside.
    env = child_env(**broker_env, **sink.env(), FANOUT_BATCH_SIZE="10")
    client.force_login(coordinator)
    with processes(tmp_path) as group:
        first = group.start(worker_command("--concurrency=1"), env=env)
        with CaptureQueriesContext(connection) as request_queries:
            response = client.post(
                reverse("improvement:manage_update_publish", args=[community.slug, update.pk])
            )
        assert response.status_code == 302
        # The request records the promise; it writes nobody's row and never counts the
        # audience, so its work does not grow with the audience.
        sql = [q["sql"] for q in request_queries.captured_queries]
        assert not [q for q in sql if "members_notification" in q], sql
        assert len(sql) < 25, sql
        fan_out = FanOut.objects.get(kind="update_published")
        wait_until(
            lambda: FanOut.objects.get(pk=fan_out.pk).done_count >= 200,
            seconds=60,
            logs=group.logs,
            what="the worker to be mid-way through the fan-out",
        )
        group.kill(first)
        fan_out.refresh_from_db()
        assert fan_out.state == FanOut.State.WRITING, "the fan-out finished before the kill"
        assert 200 <= fan_out.done_count < SUPPORTERS
        written = Notification.objects.filter(kind="update_published").count()
        assert written == fan_out.done_count, "rows and the cursor commit together"
        # Time passes: the dead worker's hold on the fan-out and its rows runs out.
        FanOut.objects.update(
            claimed_at=timezone.now() - timedelta(seconds=fanout.LEASE_SECONDS + 1)
        )
        outbox.requeue_stuck(older_than=timedelta(0))
        group.start(worker_command("--concurrency=2"), env=env)
        carry_on_until_done(group)
        wait_until(
            lambda: len(sink.received) >= SUPPORTERS,
            seconds=120,
            logs=group.logs,
            what=f"{SUPPORTERS} emails received",
        )
        time.sleep(1.5)  # anything sent twice would arrive now
    rows = Notification.objects.filter(kind="update_published")
    assert Counter(rows.values_list("recipient", flat=True)) == Counter(
        {p.pk: 1 for p in people}
    ), "every supporter has exactly one row"
    # The kill landed while the worker was writing rows, not sending: nobody's email was in
    # flight, so nobody hears twice.
    assert sink.counts() == Counter({p.email: 1 for p in people})
    update.refresh_from_db()
    assert update.told_count == SUPPORTERS
    progress = services.publishing_progress(update)
    assert progress.finished and progress.sent == SUPPORTERS and progress.done == SUPPORTERS
