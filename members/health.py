"""Checks of the parts Convene needs: the database, the Celery broker and the scheduler.

Used by /healthz and by `manage.py healthcheck` (the containers' health checks).
"""

import os
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone

from members.models import Heartbeat

# Bounded whatever the configured options say: a hung broker must not hang a health check.
BROKER_TIMEOUTS = {"socket_timeout": 2, "socket_connect_timeout": 2}


def check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        return {"ok": False, "error": exc.__class__.__name__}
    return {"ok": True}


def check_broker() -> dict:
    conn = current_app.connection_for_write(
        transport_options={**current_app.conf.broker_transport_options, **BROKER_TIMEOUTS}
    )
    try:
        if conn.transport.driver_type == "redis":
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
            conn.default_channel.client.ping()
        else:
            folder = conn.transport_options.get("data_folder_out", "")
            if not os.access(folder, os.W_OK):
                return {"ok": False, "error": "broker folder is missing or not writable"}
    except Exception as exc:  # noqa: BLE001 - any failure to reach the broker is "unhealthy"
        return {"ok": False, "error": exc.__class__.__name__}
    finally:
        conn.release()
    return {"ok": True, "transport": conn.transport.driver_type}


def check_scheduler() -> dict:
    try:
        heartbeat = Heartbeat.objects.filter(name="scheduler").first()
    except DatabaseError:
        return {"ok": False, "error": "database unavailable"}
    if heartbeat is None:
        return {"ok": False, "error": "no heartbeat yet"}
    age = timezone.now() - heartbeat.beat_at
    return {
        "ok": age <= timedelta(seconds=settings.HEARTBEAT_MAX_AGE_SECONDS),
        "last_heartbeat": heartbeat.beat_at.isoformat(),
        "age_seconds": int(age.total_seconds()),
    }


def report() -> dict:
    """Every check by name, with `status` and the list of `failing` parts."""
    checks = {
        "database": check_database(),
        "broker": check_broker(),
        "scheduler": check_scheduler(),
    }
    failing = [name for name, check in checks.items() if not check["ok"]]
    return {"status": "unhealthy" if failing else "ok", "failing": failing, **checks}
