"""Fixtures for the whole suite: named personas, and the browser set-up for journeys.

Personas: `coordinator`, `partner` and `member` of `community`;
`other_coordinator` runs `other_community`; `outsider` belongs nowhere; `staff` is site staff.
`PERSONAS` names them all, with `anonymous` (nobody signed in) first, in the order role
matrices list them; a test that needs only some of them picks them from it. Role matrices
sign in with `client_as(client, request, persona)`, which fetches the persona's fixture by
name, so a file that adds a persona of its own (a team member, say) only adds a fixture.
The `everyone` fixture makes them all at once, for pages seen with the whole cast in place.
"""

import os
import shutil
from pathlib import Path
from uuid import uuid4

import pytest
from allauth.account.models import EmailAddress

from communities.models import Community, Membership
from members.models import User

# Playwright's sync API keeps an event loop running in the main thread; Django's guard
# against ORM calls from async code would otherwise refuse the test's own queries.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "a-long-test-password-2026"


@pytest.fixture(autouse=True)
def _test_settings(settings):
    # Fast hashing for the many logins in tests; plain static files for the live server.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _cache_of_its_own(settings):
    # allauth counts rate limits in the cache, so each test gets keys of its own. Clearing the
    # cache instead would empty a Redis database that other test processes and the Celery
    # broker share.
    settings.CACHES = {
        name: {**config, "KEY_PREFIX": f"test-{uuid4().hex}"}
        for name, config in settings.CACHES.items()
    }


@pytest.fixture(autouse=True)
def _tasks_run_in_process():
    """Celery tasks run in the test's own process (emails land in Django's test outbox).
    Tests about the broker and workers turn this off and start real worker processes."""
    from celery import current_app

    from members import outbox

    current_app.conf.task_always_eager = True
    current_app.conf.task_eager_propagates = True
    # A broker failure in one test must not make the next one skip enqueueing.
    outbox._broker_failed_at = None
    yield
    current_app.conf.task_always_eager = False
    current_app.conf.task_eager_propagates = False


def make_person(email: str, *, name: str = "", is_staff: bool = False) -> User:
    """A person with a verified email address, able to log in through allauth."""
    user = User.objects.create_user(
        email=email, password=PASSWORD, name=name, is_staff=is_staff, is_superuser=is_staff
    )
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def make_community(slug: str, **fields) -> Community:
    defaults = {"name": slug.replace("-", " ").title(), "purpose": f"The purpose of {slug}."}
    return Community.objects.create(slug=slug, **{**defaults, **fields})


@pytest.fixture
def community(db):
    return make_community("bowel-care", name="Bowel care together")


@pytest.fixture
def other_community(db):
    return make_community("heart-health", name="Heart health")


def _with_role(user, community, role):
    Membership.objects.create(user=user, community=community, role=role)
    return user


@pytest.fixture
def coordinator(community):
    return _with_role(make_person("cora@example.org", name="Cora"), community, "coordinator")


@pytest.fixture
def partner(community):
    return _with_role(make_person("parveen@example.org", name="Parveen"), community, "partner")


@pytest.fixture
def member(community):
    return _with_role(make_person("michael@example.org", name="Michael"), community, "member")


@pytest.fixture
def other_coordinator(other_community):
    return _with_role(make_person("olu@example.org", name="Olu"), other_community, "coordinator")


@pytest.fixture
def outsider(db):
    return make_person("otto@example.org", name="Otto")


@pytest.fixture
def staff(db):
    return make_person("ada@example.org", name="Ada", is_staff=True)


PERSONAS = (
    "anonymous",
    "outsider",
    "member",
    "partner",
    "coordinator",
    "other_coordinator",
    "staff",
)


@pytest.fixture
def everyone(request, outsider, member, partner, coordinator, other_coordinator, staff):
    """Every persona at once, by name, for role matrices whose pages should be seen with the
    whole cast in place (a coordinator to be told, a partner to be listed)."""
    return {
        persona: None if persona == "anonymous" else request.getfixturevalue(persona)
        for persona in PERSONAS
    }


def client_as(client, request, persona: str) -> User | None:
    """Sign `client` in as the fixture named `persona`, or sign it out for "anonymous", and
    return that person (None for "anonymous"). Signing out first lets one test walk through
    several personas with the same client."""
    client.logout()
    if persona == "anonymous":
        return None
    person = request.getfixturevalue(persona)
    client.force_login(person)
    return person


# --- Browser journeys -----------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium, never a downloaded browser. Missing it fails in CI."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: apt-get install -y chromium"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # Members mostly use phones: journeys run at the narrowest width WCAG reflow asks for.
    return {**browser_context_args, "viewport": {"width": 320, "height": 720}}


@pytest.fixture
def assert_accessible():
    """Check the page as it stands: axe-core finds no violations, and nothing scrolls sideways."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()

    def check(page):
        page.wait_for_load_state("load")
        results = axe.run(page)
        assert results.violations_count == 0, f"{page.url}\n{results.generate_report()}"
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px"

    return check


def pytest_configure(config):
    if IN_CI and shutil.which("chromium") is None and not CHROMIUM.exists():
        raise pytest.UsageError("CI needs Debian's Chromium: apt-get install -y chromium")


# --- Real workers ---------------------------------------------------------------------------


def reset_broker_connections() -> None:
    """Drop pooled broker connections, so the next publish uses the broker now configured."""
    from celery import current_app
    from kombu import pools

    # kombu keeps pools in a registry of its own, keyed by broker; empty it as well.
    pools.reset()
    current_app._pool = None
    current_app.amqp._producer_pool = None


@pytest.fixture
def broker_env(settings, _tasks_run_in_process, tmp_path, worker_id):
    """A broker of the test's own, for the test and the worker processes it starts: a Redis
    database emptied first (Redis is required in CI), or a fresh embedded broker folder."""
    from celery import current_app

    if IN_CI:
        assert settings.REDIS_URL.startswith("redis://"), "CI must run against a real Redis"
    from tests.subprocesses import test_database_url

    env = {"DATABASE_URL": test_database_url()}
    original = current_app.conf.broker_url, dict(current_app.conf.broker_transport_options)
    if settings.REDIS_URL:
        import redis

        # Each xdist process has a database of its own (15, 14, …): tests running side by
        # side must not empty or read each other's queues.
        number = 15 - (int(worker_id[2:]) if worker_id.startswith("gw") else 0)
        url = settings.REDIS_URL.rsplit("/", 1)[0] + f"/{number}"
        redis.Redis.from_url(url).flushdb()
        env["REDIS_URL"] = current_app.conf.broker_url = url
    else:
        folder = tmp_path / "broker"
        folder.mkdir()
        env["CELERY_BROKER_FOLDER"] = str(folder)
        current_app.conf.broker_transport_options = {
            **original[1],
            "data_folder_in": str(folder),
            "data_folder_out": str(folder),
        }
    current_app.conf.task_always_eager = False
    reset_broker_connections()
    yield env
    current_app.conf.broker_url, current_app.conf.broker_transport_options = original
    reset_broker_connections()


@pytest.fixture
def sink(settings):
    """A real SMTP server (aiosmtpd) that this process's emails go to."""
    from tests.smtp import SMTPSink

    with SMTPSink() as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_TIMEOUT = 2
        yield server
