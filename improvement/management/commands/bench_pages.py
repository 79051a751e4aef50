"""Measure the pages that matter on the large community, served as in production.

    python manage.py scale_data               # once: the large community
    python manage.py bench_pages              # or `make bench`, which also runs bench_notify

Starts gunicorn (one sync worker, DEBUG off, static files from WhiteNoise) with
CONVENE_BENCH=1, signs in as the coordinator and the busy member, and requests each page a
few times to warm up and then a number of timed times. The worker reports its own CPU time
and SQL for each request (members/bench.py). Prints a table, and writes it to a file too.
"""

import http.client
import json
import os
import platform
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.models import Count

from communities.management.commands.bench_notify import _database_url
from communities.models import Community
from engagement.models import Survey
from improvement.models import Idea, Project
from improvement.scale.base import (
    SCALE_PASSWORD,
    busy_email,
    coordinator_email,
)

ROOT = Path(settings.BASE_DIR)
# Far past any page's last page: the paginator then shows the last one.
LAST_PAGE = "99999"


@dataclass
class Page:
    name: str
    path: str
    persona: str  # "coordinator", "busy" or "" for nobody signed in
    samples: list[dict] = field(default_factory=list)
    status: int = 0
    size: int = 0
    streamed: bool = False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


class Client:
    """Just enough HTTP for the benchmark: one request per connection (gunicorn's sync
    worker closes each), cookies kept per persona, the proxy's HTTPS header sent."""

    def __init__(self, port: int):
        self.port = port
        self.origin = f"https://127.0.0.1:{port}"
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: dict | None = None, headers=None):
        connection_ = http.client.HTTPConnection("127.0.0.1", self.port, timeout=900)
        sent = {
            "Host": f"127.0.0.1:{self.port}",
            "X-Forwarded-Proto": "https",
            **(headers or {}),
        }
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if body is not None:
            data = urlencode(body)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        connection_.request(method, path, body=data, headers=sent)
        response = connection_.getresponse()
        content = response.read()
        wall_ms = (time.perf_counter() - started) * 1000
        connection_.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie(header)
            for key, morsel in cookie.items():
                self.cookies[key] = morsel.value
        return response, content, wall_ms

    def sign_in(self, email: str, password: str) -> None:
        self.request("GET", "/accounts/login/")
        token = self.cookies.get("csrftoken", "")
        response, _content, _wall = self.request(
            "POST",
            "/accounts/login/",
            {"login": email, "password": password, "csrfmiddlewaretoken": token},
            headers={"Origin": self.origin, "Referer": f"{self.origin}/accounts/login/"},
        )
        if response.status != 302 or "sessionid" not in self.cookies:
            raise CommandError(f"Could not sign in as {email} (HTTP {response.status}).")


class Command(BaseCommand):
    help = "Serve the pages with gunicorn and measure each one's server CPU and SQL."

    def add_arguments(self, parser):
        parser.add_argument("--slug", default="scale")
        parser.add_argument("--repeat", type=int, default=20, help="Timed requests per page.")
        parser.add_argument("--warmup", type=int, default=2, help="Untimed requests first.")
        parser.add_argument(
            "--budget",
            type=float,
            default=60.0,
            help="Seconds of timed requests per page at most: slow pages are requested "
            "fewer times (never fewer than 3).",
        )
        parser.add_argument(
            "--only",
            default="",
            help="Measure only the pages whose name contains this text (and the bare view).",
        )
        parser.add_argument("--output", default=str(ROOT / "bench-results.txt"))
        parser.add_argument(
            "--generate",
            action="store_true",
            help="Run scale_data first if the community is not there.",
        )

    def handle(self, *args, slug, repeat, warmup, budget, only, output, generate, **options):
        community = Community.objects.filter(slug=slug).first()
        if community is None:
            if not generate:
                raise CommandError(
                    f"There is no {slug!r} community: run `manage.py scale_data` first."
                )
            call_command("scale_data", slug=slug, stdout=self.stdout)
            community = Community.objects.get(slug=slug)
        pages = [page for page in self._pages(community) if only in page.name]
        port = _free_port()
        env = self._environment(port)
        self.stdout.write("Collecting static files…")
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=ROOT,
            env=env,
            check=True,
        )
        server = self._serve(port, env)
        try:
            clients = {"": Client(port)}
            clients["coordinator"] = Client(port)
            clients["coordinator"].sign_in(coordinator_email(slug), SCALE_PASSWORD)
            clients["busy"] = Client(port)
            clients["busy"].sign_in(busy_email(slug), SCALE_PASSWORD)
            bare = Page("bare Django view", "/_bench/bare/", "")
            self._measure(clients[""], bare, warmup=warmup, repeat=max(repeat, 20), budget=budget)
            for page in pages:
                self.stdout.write(f"  {page.name}…")
                self._measure(
                    clients[page.persona], page, warmup=warmup, repeat=repeat, budget=budget
                )
            # The bare view again at the end: the same worker, as warm as it will get.
            self._measure(clients[""], bare, warmup=0, repeat=max(repeat, 20), budget=budget)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        table = self._table(community, bare, pages)
        self.stdout.write(table)
        Path(output).write_text(table + "\n")
        self.stdout.write(f"Written to {output}")

    def _pages(self, community) -> list[Page]:
        slug = community.slug
        project = (
            Project.objects.filter(community=community)
            .annotate(n=Count("measures__points"))
            .order_by("-n", "pk")
            .first()
        )
        survey = (
            Survey.objects.filter(community=community)
            .annotate(n=Count("responses"))
            .order_by("-n", "pk")
            .first()
        )
        idea = (
            Idea.objects.filter(community=community)
            .listed()
            .annotate(n=Count("supports"))
            .order_by("-n", "pk")
            .first()
        )
        if not (project and survey and idea):
            raise CommandError(f"The {slug!r} community has no project, survey or idea.")
        base = f"/c/{slug}"
        return [
            Page("coordinator dashboard", f"{base}/manage/", "coordinator"),
            Page("/me/input/ first page", "/me/input/", "busy"),
            Page("/me/input/ last page", f"/me/input/?page={LAST_PAGE}", "busy"),
            Page("project page with charts", f"{base}/projects/{project.pk}/", "coordinator"),
            Page("community page", f"{base}/", "busy"),
            Page("survey results", f"{base}/manage/surveys/{survey.pk}/results/", "coordinator"),
            Page("calendar feed", f"{base}/sessions/calendar.ics", ""),
            Page("idea page (most supported)", f"{base}/ideas/{idea.pk}/", "busy"),
            Page("ideas list, first page", f"{base}/ideas/", "busy"),
            Page("ideas list, last page", f"{base}/ideas/?page={LAST_PAGE}", "busy"),
            Page("ideas list, most supported", f"{base}/ideas/?sort=supported", "busy"),
            Page("updates board", f"{base}/updates/", "busy"),
            Page("members CSV", f"{base}/manage/members.csv", "coordinator"),
            Page("finance CSV", f"{base}/manage/payments/payments.csv", "coordinator"),
            Page("survey CSV", f"{base}/manage/surveys/{survey.pk}/results.csv", "coordinator"),
            Page("/healthz", "/healthz", ""),
        ]

    def _environment(self, port: int) -> dict:
        env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
        env.update(
            {
                # Production settings, with throwaway values for what a real site would set.
                "DEBUG": "false",
                "SECRET_KEY": secrets.token_urlsafe(50),
                "ALLOWED_HOSTS": "127.0.0.1,localhost",
                "SITE_URL": f"https://127.0.0.1:{port}",
                "LOG_LEVEL": "WARNING",
                "CONVENE_BENCH": "1",
                "PORT": str(port),
                "DATABASE_URL": _database_url(connection.settings_dict),
            }
        )
        return env

    def _serve(self, port: int, env: dict) -> subprocess.Popen:
        log = open(ROOT / ".bench-gunicorn.log", "w")  # noqa: SIM115
        server = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "config.wsgi:application",
                "--workers",
                "1",
                "--worker-class",
                "sync",
                "--bind",
                f"127.0.0.1:{port}",
                # The slowest pages take longer than gunicorn's usual 30 s: measure them anyway.
                "--timeout",
                "900",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                response, _content, _wall = Client(port).request("GET", "/_bench/bare/")
                if response.status == 200:
                    return server
            except OSError:
                pass
            if server.poll() is not None:
                break
            time.sleep(0.3)
        os.killpg(server.pid, signal.SIGTERM)
        raise CommandError("gunicorn did not start: see .bench-gunicorn.log")

    def _measure(self, client: Client, page: Page, *, warmup: int, repeat: int, budget: float):
        spent = 0.0
        for n in range(warmup + repeat):
            sample = self._request(client, page)
            if n < warmup:
                if sample["wall_ms"] > 5000:
                    warmup = n + 1  # a slow page: one warm-up is enough
                continue
            page.samples.append(sample)
            spent += sample["wall_ms"] / 1000
            if len(page.samples) >= 3 and spent > budget:
                break

    def _request(self, client: Client, page: Page) -> dict:
        response, content, wall_ms = client.request("GET", page.path)
        page.status, page.size = response.status, len(content)
        if response.getheader("X-Bench-Streamed"):
            # The headers left before the body was made: ask for the whole download's totals.
            page.streamed = True
            _r, body, _w = client.request("GET", "/_bench/last/")
            totals = json.loads(body)
            return {**totals, "wall_ms": wall_ms}
        return {
            "cpu_ms": float(response.getheader("X-Bench-CPU-ms") or "nan"),
            "sql": int(response.getheader("X-Bench-SQL") or -1),
            "sql_ms": float(response.getheader("X-Bench-SQL-ms") or "nan"),
            "wall_ms": wall_ms,
        }

    def _table(self, community, bare: Page, pages: list[Page]) -> str:
        bare_cpu = statistics.median(s["cpu_ms"] for s in bare.samples)
        lines = [
            f"Convene page benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
            f"machine: {os.cpu_count()} cores, {_cpu_model()}, Python "
            f"{platform.python_version()}; database: {connection.vendor}",
            f"community {community.slug!r}: {_sizes(community)}",
            "server: gunicorn, one sync worker, DEBUG off; CPU = the worker's own CPU time",
            "",
            f"{'page':<30} {'status':>6} {'n':>3} {'CPU ms':>9} {'p90 CPU':>9} {'SQL':>6} "
            f"{'SQL ms':>9} {'wall ms':>9} {'x bare':>8}",
        ]
        for page in [bare, *pages]:
            cpu = [s["cpu_ms"] for s in page.samples]
            sql = statistics.median(s["sql"] for s in page.samples)
            lines.append(
                f"{page.name + (' *' if page.streamed else ''):<30} {page.status:>6} "
                f"{len(cpu):>3} {statistics.median(cpu):>9.1f} {_percentile(cpu, 0.9):>9.1f} "
                f"{sql:>6.0f} {statistics.median(s['sql_ms'] for s in page.samples):>9.1f} "
                f"{statistics.median(s['wall_ms'] for s in page.samples):>9.1f} "
                f"{statistics.median(cpu) / bare_cpu if bare_cpu else float('nan'):>8.1f}"
            )
        lines += [
            "",
            "CPU ms: median of the worker's CPU per request; p90 CPU: its 90th percentile;",
            "SQL: statements per request; SQL ms: median time waiting for the database;",
            "wall ms: median time to the last byte, seen by the client; x bare: median CPU",
            "over the bare view's. * streamed: totals for the whole download. n: timed",
            f"requests (after warm-up). The bare view's median CPU: {bare_cpu:.2f} ms.",
            "/healthz answers 503 when no worker or scheduler runs; it is measured the same.",
        ]
        return "\n".join(lines)


def _sizes(community) -> str:
    from communities.models import Membership
    from engagement.models import Claim, Registration, Response, Session
    from improvement.models import Comment, Support, Update

    counts = {
        "members": Membership.objects.filter(community=community).count(),
        "ideas": Idea.objects.filter(community=community).count(),
        "supports": Support.objects.filter(idea__community=community).count(),
        "comments": Comment.objects.filter(idea__community=community).count(),
        "sessions": Session.objects.filter(community=community).count(),
        "registrations": Registration.objects.filter(session__community=community).count(),
        "responses": Response.objects.filter(survey__community=community).count(),
        "updates": Update.objects.filter(community=community).count(),
        "claims": Claim.objects.filter(community=community).count(),
    }
    return ", ".join(f"{n:,} {name}" for name, n in counts.items())


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"
