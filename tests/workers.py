"""Start and stop real Celery processes for integration tests."""

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.subprocesses import ROOT

CELERY = str(Path(sys.executable).parent / "celery")


def worker_command(*extra: str) -> list[str]:
    return [
        CELERY,
        "-A",
        "config",
        "worker",
        "--loglevel=INFO",
        "--without-mingle",
        "--without-gossip",
        *extra,
    ]


class Processes:
    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.procs: list[tuple[subprocess.Popen, object, Path]] = []

    def start(self, command: list[str], *, env: dict[str, str]) -> subprocess.Popen:
        path = self.log_dir / f"process-{len(self.procs)}.log"
        log = open(path, "w")  # noqa: SIM115 - closed in stop_all
        # A session of its own, so that the process and its pool children stop together.
        proc = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True
        )
        self.procs.append((proc, log, path))
        return proc

    def kill(self, proc: subprocess.Popen) -> None:
        """SIGKILL the process and its children: no clean shutdown, as when a machine dies."""
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    def logs(self) -> str:
        return "\n".join(path.read_text() for _proc, _log, path in self.procs)

    def stop_all(self) -> None:
        for proc, _log, _path in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc, log, _path in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            log.close()


@contextmanager
def processes(log_dir: Path):
    group = Processes(log_dir)
    try:
        yield group
    finally:
        group.stop_all()


def wait_until(condition, *, seconds: float, logs, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    pytest.fail(f"{what}: not after {seconds}s. Process output:\n{logs()[-6000:]}")
