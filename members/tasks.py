import time

from celery import shared_task

from members import outbox, services


@shared_task(ignore_result=True)
def heartbeat() -> None:
    """Record that the scheduler and a worker are alive. Idempotent: it only moves a time."""
    services.record_heartbeat(name="scheduler")


@shared_task(ignore_result=True)
def deliver_notifications(ids: list[int]) -> None:
    """Send these outbox rows. Idempotent: rows already sent or taken are skipped. Stops
    taking rows well inside Celery's time limit (a mail server that answers slowly), giving
    the rest back to the sweep."""
    outbox.deliver(ids=ids, deadline=time.monotonic() + outbox.SWEEP_BUDGET_SECONDS)


@shared_task(ignore_result=True)
def sweep_outbox() -> None:
    """Deliver whatever is due and requeue rows a dead worker left. Safe to overlap."""
    outbox.sweep()


@shared_task(ignore_result=True)
def send_digests(delivery: str) -> None:
    """Gather each person's held rows into one email per group. Safe to overlap: rows are
    claimed before they are sent."""
    outbox.send_digests(delivery=delivery)
    if outbox.digests_waiting(delivery=delivery):
        # More people than one run may take inside the time limit: carry on in a new task.
        send_digests.delay(delivery)


@shared_task(ignore_result=True)
def run_fan_out(pk: int) -> None:
    """Write a fan-out's outbox rows, batch by batch. Idempotent and resumable: a run that
    dies is carried on by the next, and nobody is written twice. A fan-out bigger than one
    run's time carries on in a new task."""
    from members import fanout

    if fanout.advance(pk):
        run_fan_out.delay(pk)


@shared_task(ignore_result=True)
def resume_fan_outs() -> None:
    """Start fan-outs the broker never got and carry on those a dead worker left."""
    from members import fanout

    fanout.resume_stalled()
