"""Run Convene's own commands in child processes with a chosen environment."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Variables Convene's settings read; children start without the parent's values for these.
SETTINGS_VARIABLES = {
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "SITE_URL",
    "TIME_ZONE",
    "PORT",
    "DATABASE_URL",
    "REDIS_URL",
    "EMAIL_URL",
    "EMAIL_HOST",
    "EMAIL_PORT",
    "EMAIL_HOST_USER",
    "EMAIL_HOST_PASSWORD",
    "EMAIL_USE_TLS",
    "EMAIL_USE_SSL",
    "DEFAULT_FROM_EMAIL",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "TRUSTED_PROXY_COUNT",
    "CONN_MAX_AGE",
    "HEARTBEAT_MAX_AGE_SECONDS",
    "OUTBOX_STUCK_SECONDS",
    "FANOUT_BATCH_SIZE",
    "CELERY_BROKER_FOLDER",
    "LOG_LEVEL",
    "CONVENE_BENCH",
}

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "x7#Kq2!vR9pLm4$Tz8wYb1@Nc6^Hd3&Fg5*Js0(Ae)Uo-Wi_Qr=Xt+Ey%Ps~Lk",
    "ALLOWED_HOSTS": "convene.example.org",
    "SITE_URL": "https://convene.example.org",
    "DATABASE_URL": "postgres://convene:secret@db:5432/convene",
    "REDIS_URL": "redis://redis:6379/0",
    "EMAIL_URL": "smtp+tls://mailer:secret@smtp.example.org:587",
}


# Set by the test suite for Playwright; a deployment must never have it.
TEST_ONLY_VARIABLES = {"DJANGO_ALLOW_ASYNC_UNSAFE"}


def child_env(**overrides: str) -> dict[str, str]:
    dropped = SETTINGS_VARIABLES | TEST_ONLY_VARIABLES
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    env.update(overrides)
    return env


def manage(*args: str, env: dict[str, str], timeout: int = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_database_url() -> str:
    """A DATABASE_URL for the database the running test uses, for its child processes."""
    from urllib.parse import quote

    from django.db import connection

    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{s['NAME']}"
    credentials = quote(s["USER"] or "")
    if s["PASSWORD"]:
        credentials += ":" + quote(s["PASSWORD"])
    return f"postgres://{credentials}@{s['HOST'] or 'localhost'}:{s['PORT'] or 5432}/{s['NAME']}"


test_database_url.__test__ = False  # a helper, not a test
