import pytest
from django.core.management import CommandError, call_command

from communities.demo import DEMO_CROWD
from communities.models import Community, Membership, MembershipPerspective
from members.demo import DEMO_PASSWORD
from members.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _development(settings):
    # pytest-django runs tests with DEBUG off; the demo is for development sites.
    settings.DEBUG = True


def test_demo_loads_people_and_communities_and_can_run_again():
    call_command("demo")
    call_command("demo")
    emails = set(User.objects.values_list("email", flat=True))
    assert {
        "coordinator@example.org",
        "partner@example.org",
        "member@example.org",
        "admin@example.org",
    } <= emails
    assert len(emails) == 4 + len(DEMO_CROWD)
    assert Community.objects.count() == 2
    assert Membership.objects.filter(role="coordinator").count() == 2
    assert Membership.objects.count() == 2 * (3 + len(DEMO_CROWD))
    perspectives = set(MembershipPerspective.objects.values_list("perspective", flat=True))
    assert len(perspectives) >= 8


def test_demo_people_can_log_in_with_the_published_password(client):
    call_command("demo")
    response = client.post(
        "/accounts/login/", {"login": "member@example.org", "password": DEMO_PASSWORD}
    )
    assert response.status_code == 302
    assert client.session["_auth_user_id"]


def test_demo_refuses_to_load_with_debug_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="published password"):
        call_command("demo")
    assert not User.objects.exists()
