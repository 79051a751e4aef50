"""Convene's settings, read from the environment.

With nothing set, Convene runs a first time with no services: SQLite in the project folder,
an embedded Celery broker in `.celery/`, and emails printed to the console. Production sets
`DEBUG=false` and the variables the README lists. A value that cannot be understood stops
start-up with a message naming the variable, rather than being quietly replaced by a default.
"""

import os
import zoneinfo
from pathlib import Path
from urllib.parse import urlsplit

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _str(name: str, default: str = "") -> str:
    return os.environ.get(name, "").strip() or default


def _bool(name: str, default: bool) -> bool:
    raw = _str(name)
    if not raw:
        return default
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}.")


def _int(name: str, default: int) -> int:
    raw = _str(name)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}.") from None


def _list(name: str, default: list[str]) -> list[str]:
    raw = _str(name)
    if not raw:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def _url(name: str, default: str, schemes: set[str]) -> str:
    raw = _str(name, default)
    if raw and urlsplit(raw).scheme not in schemes:
        allowed = ", ".join(sorted(schemes))
        raise ImproperlyConfigured(f"{name} must be a URL starting with one of: {allowed}.")
    return raw


# --- Core ------------------------------------------------------------------------------------

DEBUG = _bool("DEBUG", True)
PORT = _int("PORT", 8000)
if not 0 < PORT < 65536:
    raise ImproperlyConfigured(f"PORT must be between 1 and 65535, not {PORT}.")

_DEV_SECRET_KEY = "django-insecure-convene-development-only-never-use-this-in-production"
SECRET_KEY = _str("SECRET_KEY", _DEV_SECRET_KEY if DEBUG else "")
if not DEBUG and (not SECRET_KEY or SECRET_KEY == _DEV_SECRET_KEY):
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is false.")

ALLOWED_HOSTS = _list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is false.")

SITE_URL = _url("SITE_URL", f"http://127.0.0.1:{PORT}", {"http", "https"}).rstrip("/")
if not DEBUG and not SITE_URL.startswith("https://"):
    raise ImproperlyConfigured("SITE_URL must start with https:// when DEBUG is false.")
CSRF_TRUSTED_ORIGINS = [SITE_URL]

TIME_ZONE = _str("TIME_ZONE", "Europe/London")
try:
    zoneinfo.ZoneInfo(TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError):
    raise ImproperlyConfigured(f"TIME_ZONE {TIME_ZONE!r} is not a known time zone.") from None
USE_TZ = True

LANGUAGE_CODE = "en-gb"
LANGUAGES = [("en-gb", "English")]
USE_I18N = True
LOCALE_PATHS = [BASE_DIR / "locale"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "allauth",
    "allauth.account",
    "crispy_forms",
    "crispy_bootstrap5",
    "bootstrap",
    "django_htmx",
    "members",
    "communities",
    "engagement",
    "improvement",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                # LANGUAGE_CODE and TIME_ZONE: part of the key of every cached fragment.
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database --------------------------------------------------------------------------------

_DATABASE_URL = _url(
    "DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}", {"postgres", "postgresql", "sqlite"}
)
DATABASES = {"default": environ.Env.db_url_config(_DATABASE_URL)}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file, not memory, so that a worker process started by a test sees the test's data.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / ".test-db.sqlite3")}
    # Web, worker and beat write to one file at once: take the write lock at the start of a
    # transaction and wait for it, instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = _int("CONN_MAX_AGE", 60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and Celery broker ----------------------------------------------------------------

REDIS_URL = _url("REDIS_URL", "", {"redis", "rediss"})

# A refused or hung Redis must not stall a request: every socket gives up after about 2 s.
REDIS_SOCKET_TIMEOUT = 2

# The cache holds allauth's rate-limit counters, so it lives in the database: with Redis down
# (or hung) login still works and is still rate limited. allauth takes a lock in the cache
# before counting, and an unreachable cache would turn every login into "too many attempts".
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "convene_cache",
    },
    # Work that is costly to compute and depends only on the data (a project's charts, a
    # survey's results, a calendar feed, a rendered list row), kept in each process's memory
    # under a key that names the data's revision (members.revisions), or is made of the very
    # values the fragment shows. A new revision is a new key, so nothing here is ever stale
    # and nothing needs to expire by time; a different process just computes it once itself.
    # The least recently used go first when it is full (about 20 MB at most).
    "computed": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "convene-computed",
        "TIMEOUT": None,
        "OPTIONS": {"MAX_ENTRIES": 20000},
    },
}

if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "socket_timeout": REDIS_SOCKET_TIMEOUT,
        "socket_connect_timeout": REDIS_SOCKET_TIMEOUT,
        "visibility_timeout": 3600,
    }
else:
    # Kombu's filesystem transport: a real broker in a folder, so the worker and beat really
    # run on a machine with no Redis.
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_FOLDER = Path(_str("CELERY_BROKER_FOLDER", str(BASE_DIR / ".celery" / "broker")))
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_FOLDER),
        "data_folder_out": str(CELERY_BROKER_FOLDER),
        "control_folder": str(BASE_DIR / ".celery" / "control"),
        "store_processed": False,
    }

CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_SOCKET_TIMEOUT
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing from a request tries briefly, then gives up; the outbox sweep delivers later.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 0.5,
}
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
# Tasks are idempotent, so a task lost with its worker is safely run again.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(BASE_DIR / ".celery" / "beat-schedule")

# How long a notification may stay "being sent" before the sweep decides its worker died.
OUTBOX_STUCK_SECONDS = _int("OUTBOX_STUCK_SECONDS", 600)

if OUTBOX_STUCK_SECONDS <= CELERY_TASK_TIME_LIMIT + 30:
    # A live worker's batch must never look stuck: it would be handed to another worker.
    raise ImproperlyConfigured(
        f"OUTBOX_STUCK_SECONDS must be more than {CELERY_TASK_TIME_LIMIT + 30} (the task time "
        f"limit, {CELERY_TASK_TIME_LIMIT} s, and a margin), not {OUTBOX_STUCK_SECONDS}."
    )

# People a fan-out (an update telling everyone whose input it answers) writes to the outbox
# in one transaction. Bigger batches mean less bookkeeping; smaller ones, shorter locks.
FANOUT_BATCH_SIZE = _int("FANOUT_BATCH_SIZE", 1000)
if FANOUT_BATCH_SIZE < 1:
    raise ImproperlyConfigured(f"FANOUT_BATCH_SIZE must be at least 1, not {FANOUT_BATCH_SIZE}.")

# How long without a heartbeat before /healthz calls the scheduler unhealthy.
HEARTBEAT_MAX_AGE_SECONDS = _int("HEARTBEAT_MAX_AGE_SECONDS", 180)

# --- Email -----------------------------------------------------------------------------------

_EMAIL_URL = _str("EMAIL_URL")
if _EMAIL_URL:
    globals().update(environ.Env.email_url_config(_EMAIL_URL))
elif _str("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = _str("EMAIL_HOST")
    EMAIL_PORT = _int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = _str("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = _str("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = _bool("EMAIL_USE_TLS", EMAIL_PORT == 587)
    EMAIL_USE_SSL = _bool("EMAIL_USE_SSL", EMAIL_PORT == 465)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = _str("DEFAULT_FROM_EMAIL", "Convene <convene@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Accounts --------------------------------------------------------------------------------

AUTH_USER_MODEL = "members.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "communities:home"

ACCOUNT_ADAPTER = "members.adapter.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
# Confirming the address in the browser that signed up signs the person in and takes them
# back to where they were going (the join form, say).
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_EMAIL_NOTIFICATIONS = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Convene] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = urlsplit(SITE_URL).scheme
ACCOUNT_LOGOUT_REDIRECT_URL = "communities:home"
# allauth's default rate limits (failed logins, sign-ups, password resets, confirmation
# emails) stay on; they count in the cache, per person's address as
# members.network.client_address finds it (the adapter hands it to allauth).

SESSION_ENGINE = "django.contrib.sessions.backends.db"

# --- Static files and front end --------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = BASE_DIR / "media"
MEDIA_URL = "/media/"

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # Bootstrap draws form controls with inline SVG data URIs.
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

# --- Security --------------------------------------------------------------------------------

X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
# How many proxies in front of gunicorn each add the address they saw to X-Forwarded-For:
# the person's own address is that many entries from the end. Production runs behind one
# (the proxy that terminates TLS); with none, every address would be the proxy's and one
# person's limits would be everyone's.
TRUSTED_PROXY_COUNT = _int("TRUSTED_PROXY_COUNT", 0 if DEBUG else 1)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more.")
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT

SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = _bool("SECURE_SSL_REDIRECT", True)
    # Health checks come from inside the stack over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    # gunicorn sits behind a proxy that terminates TLS and sets this header.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = _int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# --- Logging ---------------------------------------------------------------------------------

LOG_LEVEL = _str("LOG_LEVEL", "INFO").upper()
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise ImproperlyConfigured(
        f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not {LOG_LEVEL!r}."
    )
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# --- Measuring speed (make bench) ------------------------------------------------------------

# On, a middleware reports each request's CPU time and SQL in response headers, and a bare
# view is served to compare pages with (members/bench.py). Off, none of it is loaded.
CONVENE_BENCH = _bool("CONVENE_BENCH", False)
if CONVENE_BENCH:
    MIDDLEWARE = ["members.bench.BenchMiddleware", *MIDDLEWARE]
