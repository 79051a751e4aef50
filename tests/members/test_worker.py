"""Celery really runs: a task crosses the configured broker (Redis in CI) to a worker process
that the test starts and stops, and beat schedules the heartbeat that /healthz reports."""

import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from uuid import uuid4

import pytest
import redis

from members.models import Heartbeat
from members.tasks import heartbeat
from tests.conftest import IN_CI
from tests.subprocesses import ROOT, child_env, test_database_url

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

CELERY = str(Path(sys.executable).parent / "celery")


@pytest.fixture(autouse=True)
def _through_the_broker(_tasks_run_in_process):
    from celery import current_app

    current_app.conf.task_always_eager = False


@pytest.fixture
def broker_env(settings):
    """The environment for child processes: this test's database and the suite's broker."""
    if IN_CI:
        assert settings.REDIS_URL.startswith("redis://"), "CI must run against a real Redis"
    env = {"DATABASE_URL": test_database_url()}
    if settings.REDIS_URL:
        env["REDIS_URL"] = settings.REDIS_URL
    return env


@contextmanager
def running(commands, *, env, log_dir):
    """Start processes, yield a function that reads their logs, and always stop them."""
    procs = []
    for i, command in enumerate(commands):
        log = open(log_dir / f"process-{i}.log", "w")  # noqa: SIM115 - closed below
        procs.append((subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log), log))

    def logs():
        return "\n".join((log_dir / f"process-{i}.log").read_text() for i in range(len(procs)))

    try:
        yield logs
    finally:
        for proc, _ in procs:
            proc.terminate()
        for proc, log in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()


def wait_for_heartbeat(logs, *, seconds=45):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if Heartbeat.objects.filter(name="scheduler").exists():
            return
        time.sleep(0.25)
    pytest.fail(f"No heartbeat after {seconds}s. Process output:\n{logs()}")


def test_a_task_sent_through_the_broker_runs_on_a_real_worker(broker_env, tmp_path):
    queue = f"convene-test-{uuid4().hex[:12]}"
    worker = [CELERY, "-A", "config", "worker", "-Q", queue, "-n", f"{queue}@%h", "-P", "solo"]
    worker += ["--without-mingle", "--without-gossip", "--loglevel=INFO"]
    with running([worker], env=child_env(**broker_env), log_dir=tmp_path) as logs:
        heartbeat.apply_async(queue=queue)
        wait_for_heartbeat(logs)
        assert "members.tasks.heartbeat" in logs()


def test_beat_schedules_the_heartbeat_and_a_worker_runs_it(broker_env, tmp_path):
    if "REDIS_URL" in broker_env:
        # A database of Redis's own, emptied first, so no other test's messages are in the way.
        broker_env["REDIS_URL"] = broker_env["REDIS_URL"].rsplit("/", 1)[0] + "/15"
        redis.Redis.from_url(broker_env["REDIS_URL"]).flushdb()
    # The same commands the Procfile runs for `make run`.
    worker = [CELERY, "-A", "config", "worker", "--concurrency=1", "--loglevel=INFO"]
    beat = [CELERY, "-A", "config", "beat", "--loglevel=INFO", "-s", str(tmp_path / "schedule")]
    with running([worker, beat], env=child_env(**broker_env), log_dir=tmp_path) as logs:
        wait_for_heartbeat(logs)
        assert "beat: Starting" in logs()
