from celery import shared_task

from engagement import services


@shared_task(ignore_result=True)
def send_session_reminders() -> None:
    """Start this moment's session reminders (the worker writes them to the outbox).
    Idempotent: one fan-out per session and moment."""
    services.send_session_reminders()


@shared_task(ignore_result=True)
def send_survey_closing_reminders() -> None:
    """Start "closes in 2 days" reminders (the worker writes them to the outbox).
    Idempotent: one fan-out per survey."""
    services.send_survey_closing_reminders()
