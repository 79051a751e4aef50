"""A person's address behind the proxy: one function finds it, and every limit counted per
address (allauth's sign-in limits, public survey answers) counts each person apart, so
strangers behind the same proxy never lock each other out."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from engagement import survey_views
from engagement.models import Response, Survey
from members.network import client_address
from tests.conftest import PASSWORD
from tests.engagement.test_surveys import make_survey

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.1"  # the proxy that terminates TLS, as gunicorn sees it


def through_proxy(address: str, *, sent: str = "") -> dict:
    """A request's headers as the proxy passes it on: it adds the address it saw to
    whatever X-Forwarded-For the person sent (`sent`, which they could have made up)."""
    forwarded = f"{sent}, {address}" if sent else address
    return {"HTTP_X_FORWARDED_FOR": forwarded, "REMOTE_ADDR": PROXY}


@pytest.fixture(autouse=True)
def behind_one_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    cache.clear()  # the limits count in the default cache
    yield
    cache.clear()


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "6.6.6.6, 203.0.113.9", "203.0.113.9"),  # what the proxy saw, not what was sent
        (2, "6.6.6.6, 203.0.113.9, 192.0.2.4", "203.0.113.9"),  # two proxies: two back
        (2, "203.0.113.9", PROXY),  # fewer entries than proxies: the nearest proxy's
        (1, "", PROXY),  # a request that came round the proxy
        (0, "6.6.6.6", PROXY),  # no proxy: the connection's own address, the header ignored
    ],
)
def test_the_persons_address_is_found_from_the_end(rf, settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = rf.get("/", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR=PROXY)
    assert client_address(request) == expected


def sign_in(client, email, password, address, **sent):
    return client.post(
        reverse("account_login"),
        {"login": email, "password": password},
        **through_proxy(address, **sent),
    )


def test_many_strangers_behind_the_proxy_each_failing_once_never_block_sign_in(client, member):
    for i in range(30):  # three times the limit for one address, each from their own
        response = sign_in(client, f"stranger{i}@example.org", "wrong", f"203.0.113.{i}")
        assert response.status_code == 200, i
        assert "Too many failed login attempts" not in response.content.decode(), i
    response = sign_in(client, member.email, PASSWORD, "198.51.100.7")
    assert response.status_code == 302  # signed in


def test_one_person_over_the_limit_is_blocked_whatever_address_they_claim(client, member):
    said = [
        sign_in(
            client, f"guess{i}@example.org", "wrong", "203.0.113.50", sent=f"6.6.6.{i}"
        ).content.decode()
        for i in range(12)
    ]
    blocked = ["Too many failed login attempts" in page for page in said]
    assert blocked[:10] == [False] * 10
    assert blocked[-1]  # the same person, however they vary the header they send
    # Someone else behind the same proxy still signs in.
    assert sign_in(client, member.email, PASSWORD, "198.51.100.7").status_code == 302


def test_public_survey_answers_are_limited_per_person_not_per_proxy(client, community, monkeypatch):
    monkeypatch.setattr(survey_views, "PUBLIC_ANSWERS_PER_HOUR", 2)
    survey, clear, *_ = make_survey(community, audience=Survey.Audience.ANYONE)

    def answer(address):
        return client.post(
            survey.get_absolute_url(),
            {f"q{clear.pk}": "yes"},
            follow=True,
            **through_proxy(address),
        ).content.decode()

    for i in range(6):  # six people behind the proxy, each answering once
        assert "Too many answers from here" not in answer(f"203.0.113.{i}")
    assert Response.objects.count() == 6
    answer("203.0.113.99")
    answer("203.0.113.99")
    assert "Too many answers from here" in answer("203.0.113.99")
    assert Response.objects.count() == 8
