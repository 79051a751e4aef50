"""Measure publishing one "you said, we did" update to many contributors: the coordinator's
request, the worker writing everyone's outbox rows (the fan-out), and delivery to a local SMTP
server. Runs in a throwaway database, created and removed by the command.

    make bench-publish                           # 10,000 contributors
    python manage.py bench_publish --contributors 2000
"""

import os
import signal
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse

from communities.management.commands.bench_notify import (
    _group_pids,
    _rss_kib,
    start_worker,
    worker_environment,
)

ROOT = Path(settings.BASE_DIR)


class Command(BaseCommand):
    help = "Benchmark publishing an update to many contributors, with a real worker and SMTP."

    def add_arguments(self, parser):
        parser.add_argument("--contributors", type=int, default=10_000)
        parser.add_argument("--concurrency", type=int, default=os.cpu_count() or 2)
        parser.add_argument("--timeout", type=int, default=900)

    def handle(self, *args, contributors, concurrency, timeout, **options):
        from tests.smtp import SMTPSink  # the dev extra's aiosmtpd

        old_name = connection.settings_dict["NAME"]
        self.stdout.write("Creating a throwaway database…")
        connection.creation.create_test_db(verbosity=0, autoclobber=True)
        try:
            with SMTPSink() as sink, override_settings(ALLOWED_HOSTS=["*"]):
                self._run(sink, size=contributors, concurrency=concurrency, timeout=timeout)
        finally:
            connection.creation.destroy_test_db(old_name, verbosity=0)

    def _community(self, size: int):
        """A community with three ideas: a third of the people wrote or backed each, some
        discussed them, so the audience comes from several sources and overlaps."""
        from communities.models import Community, Membership
        from improvement.models import Comment, Idea, Support, Update
        from members.models import User

        community = Community.objects.create(slug="bench", name="Benchmark", purpose="Measuring.")
        coordinator = User.objects.create(email="coordinator@example.org", name="Cory")
        Membership.objects.create(
            community=community, user=coordinator, status="active", role="coordinator"
        )
        User.objects.bulk_create(
            (User(email=f"bench{i}@example.org", name=f"Person {i}") for i in range(size)),
            batch_size=5000,
        )
        people = list(User.objects.filter(email__startswith="bench").order_by("pk"))
        ideas = [
            Idea.objects.create(community=community, author=people[i], title=f"Idea {i}")
            for i in range(3)
        ]
        Support.objects.bulk_create(
            (Support(idea=ideas[i % 3], user=person) for i, person in enumerate(people)),
            batch_size=5000,
        )
        Comment.objects.bulk_create(
            (Comment(idea=ideas[0], author=person, text="Yes.") for person in people[::10]),
            batch_size=5000,
        )
        update = Update.objects.create(
            community=community,
            created_by=coordinator,
            title="What we did",
            what_we_heard="What people told us.",
            what_we_did="What we changed.",
        )
        update.ideas.set(ideas)
        return community, coordinator, update

    def _run(self, sink, *, size, concurrency, timeout):
        from members.models import FanOut

        community, coordinator, update = self._community(size)
        env = worker_environment(sink)
        worker, log = start_worker(
            env, concurrency=concurrency, log_name="bench-publish-worker.log"
        )
        client = Client()
        client.force_login(coordinator)
        url = reverse("improvement:manage_update_publish", args=[community.slug, update.pk])
        # Warm up this process (URLs, templates, the session) as a running server would be.
        client.get(reverse("improvement:manage_update", args=[community.slug, update.pk]))
        try:
            time.sleep(4)  # let the worker connect before the clock starts
            started, cpu = time.monotonic(), time.process_time()
            with CaptureQueriesContext(connection) as queries:
                response = client.post(url)
            request_cpu = time.process_time() - cpu
            request_wall = time.monotonic() - started
            assert response.status_code == 302, response.status_code
            written_at = None
            peak_kib = 0
            deadline = started + timeout
            while time.monotonic() < deadline:
                if written_at is None and FanOut.objects.filter(state="done").exists():
                    written_at = time.monotonic() - started
                if written_at is not None and sink.counts().total() >= size:
                    break
                peak_kib = max(peak_kib, sum(_rss_kib(p) for p in _group_pids(worker.pid)))
                time.sleep(0.1)
            last = time.monotonic() - started
            received = sink.received
        finally:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=30)
            log.close()

        fan_out = FanOut.objects.get()
        self.stdout.write(
            "\n".join(
                [
                    f"database / broker:   {connection.vendor} / "
                    f"{'redis' if env.get('REDIS_URL') else 'embedded'}",
                    f"contributors:        {fan_out.total} (worker concurrency {concurrency})",
                    f"publish request:     {request_wall * 1000:.0f} ms wall, "
                    f"{request_cpu * 1000:.0f} ms CPU, {len(queries)} SQL queries",
                    f"everyone written to: {written_at or float('nan'):.1f} s after the click "
                    f"({fan_out.done_count} people)",
                    f"emails accepted:     {len({r.to for r in received})} of {size}, "
                    f"{len(received)} in all, the last after {last:.1f} s",
                    f"throughput:          {len(received) / last:.0f} emails per second",
                    f"worker peak memory:  {peak_kib / 1024:.0f} MiB (all worker processes)",
                ]
            )
        )
