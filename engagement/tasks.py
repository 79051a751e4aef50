from celery import shared_task

from engagement import services


@shared_task(ignore_result=True)
def send_session_reminders() -> None:
    """Write this moment's session reminders to the outbox. Idempotent: unique rows."""
    services.send_session_reminders()


@shared_task(ignore_result=True)
def send_survey_closing_reminders() -> None:
    """Write "closes in 2 days" reminders to the outbox. Idempotent: unique rows."""
    services.send_survey_closing_reminders()
