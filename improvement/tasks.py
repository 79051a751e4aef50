from celery import shared_task

from improvement import services


@shared_task(ignore_result=True)
def send_overdue_reminders() -> None:
    """Write this week's "input waiting too long" emails to coordinators. Idempotent: one row
    per coordinator per community per week."""
    services.send_overdue_reminders()
