"""The Celery app: configured from Django's settings (namespace CELERY), JSON only.

The beat schedule lives here and nowhere else.
"""

import os
from pathlib import Path

from celery import Celery
from celery.schedules import crontab
from celery.signals import beat_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("convene")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    "heartbeat": {"task": "members.tasks.heartbeat", "schedule": 60.0},
    # Anything the after-commit task missed (a broker outage, a killed worker).
    "sweep-outbox": {"task": "members.tasks.sweep_outbox", "schedule": 60.0},
    # Fan-outs the after-commit task missed, or a killed worker left half written.
    "resume-fan-outs": {"task": "members.tasks.resume_fan_outs", "schedule": 60.0},
    # Reminders are found by a query each time, never by far-ahead ETAs.
    "session-reminders": {"task": "engagement.tasks.send_session_reminders", "schedule": 600.0},
    "survey-closing-reminders": {
        "task": "engagement.tasks.send_survey_closing_reminders",
        "schedule": 3600.0,
    },
    "daily-digests": {
        "task": "members.tasks.send_digests",
        "schedule": crontab(hour=8, minute=0),
        "args": ["daily"],
    },
    "weekly-digests": {
        "task": "members.tasks.send_digests",
        "schedule": crontab(hour=8, minute=0, day_of_week="monday"),
        "args": ["weekly"],
    },
    # Input left unanswered past the community's promise: coordinators hear each week.
    "overdue-inputs": {
        "task": "improvement.tasks.send_overdue_reminders",
        "schedule": crontab(hour=7, minute=30, day_of_week="monday"),
    },
}


def ensure_embedded_broker_folder() -> None:
    """Create the embedded broker's folder, which kombu expects to exist."""
    from django.conf import settings

    folder = getattr(settings, "CELERY_BROKER_FOLDER", None)
    if folder is not None:
        Path(folder).mkdir(parents=True, exist_ok=True)


@app.on_after_configure.connect
def _prepare_broker(sender, **kwargs):
    ensure_embedded_broker_folder()


@beat_init.connect
def _first_heartbeat(sender, **kwargs):
    # Without this the first heartbeat would wait a whole interval after beat starts.
    sender.app.send_task("members.tasks.heartbeat")
