"""Celery really runs: a task crosses the configured broker (Redis in CI) to a worker process
that the test starts and stops, and beat schedules the heartbeat that /healthz reports."""

from uuid import uuid4

import pytest

from members.models import Heartbeat
from members.tasks import heartbeat
from tests.subprocesses import child_env
from tests.workers import CELERY, processes, wait_until, worker_command

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def has_heartbeat() -> bool:
    return Heartbeat.objects.filter(name="scheduler").exists()


def test_a_task_sent_through_the_broker_runs_on_a_real_worker(broker_env, tmp_path):
    queue = f"convene-test-{uuid4().hex[:12]}"
    with processes(tmp_path) as group:
        group.start(
            worker_command("-Q", queue, "-n", f"{queue}@%h", "-P", "solo"),
            env=child_env(**broker_env),
        )
        heartbeat.apply_async(queue=queue)
        wait_until(has_heartbeat, seconds=45, logs=group.logs, what="heartbeat")
        assert "members.tasks.heartbeat" in group.logs()


def test_beat_schedules_the_heartbeat_and_a_worker_runs_it(broker_env, tmp_path):
    # The same commands the Procfile runs for `make run`.
    beat = [CELERY, "-A", "config", "beat", "--loglevel=INFO", "-s", str(tmp_path / "schedule")]
    with processes(tmp_path) as group:
        group.start(worker_command("--concurrency=1"), env=child_env(**broker_env))
        group.start(beat, env=child_env(**broker_env))
        wait_until(has_heartbeat, seconds=45, logs=group.logs, what="heartbeat")
        assert "beat: Starting" in group.logs()
