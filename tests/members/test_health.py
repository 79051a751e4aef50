import socket
import threading
import time
from datetime import timedelta

import pytest
from celery import current_app
from django.utils import timezone

from members.models import Heartbeat
from members.services import record_heartbeat

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker_url():
    """Point the Celery app at another broker for one test, then put it back."""
    original = current_app.conf.broker_url

    def use(url):
        current_app.conf.broker_url = url

    yield use
    current_app.conf.broker_url = original


@pytest.fixture
def silent_server():
    """A TCP server that accepts connections and never answers: a hung Redis."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    accepted = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    server.close()


def test_healthy_when_database_broker_and_scheduler_are_up(client):
    record_heartbeat(name="scheduler")
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert body["failing"] == []
    assert body["database"]["ok"] and body["broker"]["ok"] and body["scheduler"]["ok"]
    assert response["Cache-Control"].startswith("max-age=0")


def test_scheduler_without_any_heartbeat_is_unhealthy(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["scheduler"]
    assert response.json()["scheduler"]["error"] == "no heartbeat yet"


def test_stale_heartbeat_is_unhealthy(client, settings):
    Heartbeat.objects.create(
        name="scheduler",
        beat_at=timezone.now() - timedelta(seconds=settings.HEARTBEAT_MAX_AGE_SECONDS + 5),
    )
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["scheduler"]
    assert response.json()["scheduler"]["age_seconds"] > settings.HEARTBEAT_MAX_AGE_SECONDS


def test_refused_broker_is_reported_quickly(client, broker_url):
    record_heartbeat(name="scheduler")
    broker_url("redis://127.0.0.1:1/0")
    started = time.monotonic()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["broker"]
    # A refused connection must not make the health check itself hang.
    assert time.monotonic() - started < 3


def test_hung_broker_is_reported_within_the_socket_timeout(client, broker_url, silent_server):
    record_heartbeat(name="scheduler")
    broker_url(silent_server)
    started = time.monotonic()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["broker"]
    # Sockets give up after about 2 s; the request must come back well before a user gives up.
    assert time.monotonic() - started < 5


def test_healthz_answers_only_get(client):
    assert client.post("/healthz").status_code == 405


def test_healthcheck_command_exits_non_zero_when_unhealthy():
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="Unhealthy: scheduler"):
        call_command("healthcheck")
    record_heartbeat(name="scheduler")
    call_command("healthcheck")
