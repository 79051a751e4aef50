"""Measure notification delivery: one change that tells N people, sent by a real worker to a
real (local) SMTP server. Runs in a throwaway database, created and removed by the command.

    make bench-notify                     # 10,000 people
    python manage.py bench_notify --recipients 2000
"""

import os
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection, transaction

ROOT = Path(settings.BASE_DIR)


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _group_pids(pgid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == pgid:
                    pids.append(int(entry.name))
            except (ProcessLookupError, PermissionError):
                continue
    return pids


def _cpu_ticks(stat: Path, *, reaped: bool = False) -> int:
    """User and system CPU time from a /proc stat file, in clock ticks; with `reaped`, also
    the time of children the process has already waited for."""
    try:
        # The command name may hold spaces; the fields after it are fixed.
        fields = stat.read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if reaped:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
    return ticks


def _cpu_seconds(pids: list[int], leader: int) -> float:
    """CPU time of these processes, plus that of children the leader has already reaped (a
    pool process replaced mid-run)."""
    ticks = sum(_cpu_ticks(Path(f"/proc/{pid}/stat"), reaped=pid == leader) for pid in pids)
    return ticks / os.sysconf("SC_CLK_TCK")


def _thread_cpu_seconds(thread) -> float:
    """CPU time of one thread of this process (the SMTP server's)."""
    stat = Path(f"/proc/self/task/{thread.native_id}/stat")
    return _cpu_ticks(stat) / os.sysconf("SC_CLK_TCK")


def _database_url(settings_dict) -> str:
    if settings_dict["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    user = settings_dict["USER"] or ""
    password = f":{settings_dict['PASSWORD']}" if settings_dict["PASSWORD"] else ""
    host = settings_dict["HOST"] or "localhost"
    port = settings_dict["PORT"] or 5432
    return f"postgres://{user}{password}@{host}:{port}/{settings_dict['NAME']}"


def start_worker(env: dict[str, str], *, concurrency: int, log_name: str):
    """A real Celery worker for a benchmark, in a process group of its own (so that it and
    its pool stop together), logging to .celery/<log_name>. Returns it and its open log."""
    (ROOT / ".celery").mkdir(exist_ok=True)
    log = open(ROOT / ".celery" / log_name, "w")  # noqa: SIM115 - closed by the caller
    worker = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "config",
            "worker",
            f"--concurrency={concurrency}",
            "--loglevel=WARNING",
            "--without-mingle",
            "--without-gossip",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    return worker, log


def worker_environment(sink) -> dict[str, str]:
    """The benchmark worker's environment: this database, the local SMTP server, and
    production settings (DEBUG off, which a real worker runs with: DEBUG keeps a log of
    every query), with throwaway values for what a real site would set."""
    import secrets

    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(sink.env())
    env.update(
        {
            "DATABASE_URL": _database_url(connection.settings_dict),
            "DEBUG": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1",
            "SITE_URL": env.get("SITE_URL", "").replace("http://", "https://")
            or "https://127.0.0.1",
            "LOG_LEVEL": "WARNING",
        }
    )
    return env


class Command(BaseCommand):
    help = "Benchmark the notification outbox with a real worker and a local SMTP server."

    def add_arguments(self, parser):
        parser.add_argument("--recipients", type=int, default=10_000)
        parser.add_argument("--concurrency", type=int, default=os.cpu_count() or 2)
        parser.add_argument(
            "--timeout", type=int, default=900, help="Give up after this many seconds."
        )

    def handle(self, *args, recipients, concurrency, timeout, **options):
        from tests.smtp import SMTPSink  # the dev extra's aiosmtpd

        old_name = connection.settings_dict["NAME"]
        self.stdout.write("Creating a throwaway database…")
        connection.creation.create_test_db(verbosity=0, autoclobber=True)
        try:
            # The server only counts what it accepts: parsing each message (as tests do)
            # would cost it more CPU than Convene spends sending, on the same two cores.
            with SMTPSink(keep_messages=False) as sink:
                self._run(sink, recipients=recipients, concurrency=concurrency, timeout=timeout)
        finally:
            connection.creation.destroy_test_db(old_name, verbosity=0)

    def _run(self, sink, *, recipients, concurrency, timeout):
        from communities.models import Community, Membership
        from members import outbox
        from members.models import User

        community = Community.objects.create(slug="bench", name="Benchmark", purpose="Measuring.")
        User.objects.bulk_create(
            (User(email=f"bench{i}@example.org", name=f"Person {i}") for i in range(recipients)),
            batch_size=2000,
        )
        people = list(User.objects.filter(email__startswith="bench"))
        asker = User.objects.create(email="asker@example.org", name="Ama")
        membership = Membership.objects.create(community=community, user=asker, status="requested")

        env = worker_environment(sink)
        worker, log = start_worker(env, concurrency=concurrency, log_name="bench-worker.log")
        try:
            time.sleep(4)  # let the worker connect before the clock starts
            cpu_before = _cpu_seconds(_group_pids(worker.pid), worker.pid)
            server_before = _thread_cpu_seconds(sink.controller._thread)
            started = time.monotonic()
            with transaction.atomic():
                outbox.notify(
                    recipients=people,
                    kind="join_request",
                    about=membership,
                    community=community,
                    context={"person_name": "Ama"},
                )
            written = time.monotonic() - started
            peak_kib = 0
            deadline = started + timeout
            while sink.counts().total() < recipients and time.monotonic() < deadline:
                peak_kib = max(peak_kib, sum(_rss_kib(p) for p in _group_pids(worker.pid)))
                time.sleep(0.2)
            received = sink.received
            last = time.monotonic() - started
            cpu = _cpu_seconds(_group_pids(worker.pid), worker.pid) - cpu_before
            server_cpu = _thread_cpu_seconds(sink.controller._thread) - server_before
        finally:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=30)
            log.close()

        delivered = len({r.to for r in received})
        cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
        models = [
            line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")
        ]
        processor = models[0] if models else platform.processor() or "unknown"
        self.stdout.write(
            "\n".join(
                [
                    f"machine:            {os.cpu_count()} cores, {processor}, "
                    f"Python {platform.python_version()}",
                    f"database / broker:  {connection.vendor} / "
                    f"{'redis' if env.get('REDIS_URL') else 'embedded'}",
                    f"worker concurrency: {concurrency}",
                    f"rows written:       {recipients} in {written:.2f} s (one transaction)",
                    f"emails accepted:    {delivered} of {recipients}, {len(received)} in all",
                    f"last accepted after {last:.1f} s",
                    f"throughput:         {len(received) / last:.0f} emails per second",
                    f"after the commit:   {len(received) / (last - written):.0f} emails per second "
                    f"(delivery alone)",
                    f"worker CPU:         {cpu:.1f} s in all, "
                    f"{1000 * cpu / max(len(received), 1):.2f} ms per email",
                    f"SMTP server CPU:    {server_cpu:.1f} s in all, "
                    f"{1000 * server_cpu / max(len(received), 1):.2f} ms per email "
                    f"(the local aiosmtpd server, one thread of this process)",
                    f"worker peak memory: {peak_kib / 1024:.0f} MiB (all worker processes)",
                ]
            )
        )
