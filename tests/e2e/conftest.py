import pytest
from django.conf import settings
from django.test import Client


@pytest.fixture
def log_in(live_server):
    """Log a person in to the browser page without the login form (the sign-up journey tests
    that form); journeys about other things start from here."""

    def log_in(page, user):
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        page.context.add_cookies(
            [{"name": cookie.key, "value": cookie.value, "url": live_server.url}]
        )

    return log_in
