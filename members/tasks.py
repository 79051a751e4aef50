from celery import shared_task

from members import services


@shared_task(ignore_result=True)
def heartbeat() -> None:
    """Record that the scheduler and a worker are alive. Idempotent: it only moves a time."""
    services.record_heartbeat(name="scheduler")
