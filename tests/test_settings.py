"""Settings come from the environment and fail loudly on a value they cannot understand."""

import json

import pytest

from tests.subprocesses import PRODUCTION, child_env, manage

SHOW = (
    "from django.conf import settings as s; import json; "
    "print(json.dumps({k: str(getattr(s, k, None)) for k in %r}))"
)


def read_settings(names, **env):
    result = manage("shell", "-c", SHOW % (names,), env=child_env(**env))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_nothing_set_runs_on_sqlite_an_embedded_broker_and_console_email():
    values = read_settings(
        ["DATABASES", "CELERY_BROKER_URL", "EMAIL_BACKEND", "TIME_ZONE", "DEBUG"]
    )
    assert "sqlite3" in values["DATABASES"]
    assert values["CELERY_BROKER_URL"] == "filesystem://"
    assert values["EMAIL_BACKEND"].endswith("console.EmailBackend")
    assert values["TIME_ZONE"] == "Europe/London"


def test_services_come_from_urls():
    values = read_settings(
        ["DATABASES", "CELERY_BROKER_URL", "CACHES", "EMAIL_HOST", "EMAIL_PORT", "EMAIL_USE_TLS"],
        DATABASE_URL="postgres://convene:pw@db.internal:5432/convene",
        REDIS_URL="redis://broker.internal:6379/2",
        EMAIL_URL="smtp+tls://mailer:pw@smtp.internal:587",
    )
    assert "postgresql" in values["DATABASES"] and "db.internal" in values["DATABASES"]
    assert values["CELERY_BROKER_URL"] == "redis://broker.internal:6379/2"
    assert "DatabaseCache" in values["CACHES"]
    assert values["EMAIL_HOST"] == "smtp.internal"
    assert values["EMAIL_PORT"] == "587"
    assert values["EMAIL_USE_TLS"] == "True"


def test_email_from_host_and_port():
    values = read_settings(
        ["EMAIL_BACKEND", "EMAIL_HOST", "EMAIL_PORT", "EMAIL_HOST_USER", "EMAIL_USE_SSL"],
        EMAIL_HOST="smtp.internal",
        EMAIL_PORT="465",
        EMAIL_HOST_USER="mailer",
        EMAIL_HOST_PASSWORD="pw",
    )
    assert values["EMAIL_BACKEND"].endswith("smtp.EmailBackend")
    assert values["EMAIL_PORT"] == "465"
    assert values["EMAIL_USE_SSL"] == "True"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DEBUG", "maybe", "DEBUG must be true or false"),
        ("PORT", "eighty", "PORT must be a whole number"),
        ("PORT", "70000", "PORT must be between"),
        ("TIME_ZONE", "Mars/Olympus_Mons", "is not a known time zone"),
        ("DATABASE_URL", "mysql://root@localhost/convene", "DATABASE_URL must be a URL"),
        ("REDIS_URL", "127.0.0.1:6379", "REDIS_URL must be a URL"),
        ("EMAIL_URL", "carrier-pigeon://loft", "Invalid email schema"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL must be"),
        ("SITE_URL", "convene.example.org", "SITE_URL must be a URL"),
    ],
)
def test_a_bad_value_stops_start_up_naming_the_variable(variable, value, message):
    result = manage("check", env=child_env(**{variable: value}))
    assert result.returncode != 0
    assert message in result.stderr


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS"])
def test_production_refuses_to_start_without_its_variables(missing):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = manage("check", env=child_env(**env))
    assert result.returncode != 0
    assert f"{missing} must be set when DEBUG is false" in result.stderr


def test_production_needs_an_https_site_url():
    result = manage("check", env=child_env(**{**PRODUCTION, "SITE_URL": "http://example.org"}))
    assert result.returncode != 0
    assert "SITE_URL must start with https://" in result.stderr


def test_production_settings_pass_the_deployment_checklist():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=child_env(**PRODUCTION))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_sessions_are_kept_in_the_database():
    values = read_settings(["SESSION_ENGINE"], REDIS_URL="redis://127.0.0.1:6379/0")
    assert values["SESSION_ENGINE"] == "django.contrib.sessions.backends.db"


def test_a_stuck_timeout_shorter_than_a_task_is_refused():
    # A live worker's batch would look stuck and be handed to a second worker: sent twice.
    result = manage("check", env=child_env(OUTBOX_STUCK_SECONDS="120"))
    assert result.returncode != 0
    assert "OUTBOX_STUCK_SECONDS must be more than 330" in result.stderr


def test_a_fan_out_batch_of_no_one_is_refused():
    result = manage("check", env=child_env(FANOUT_BATCH_SIZE="0"))
    assert result.returncode != 0
    assert "FANOUT_BATCH_SIZE must be at least 1, not 0" in result.stderr
