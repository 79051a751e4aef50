import pytest
from django.core import signing
from django.urls import reverse

from communities.models import Membership
from members import outbox
from members.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(coordinator):
    return outbox.unsubscribe_token(user=coordinator, group="alerts")


def test_the_link_asks_first_then_turns_the_group_off_without_signing_in(
    client, coordinator, token
):
    page = client.get(reverse("members:unsubscribe", args=[token]))
    assert page.status_code == 200 and "Stop “Coordinator alerts” emails?" in page.content.decode()
    coordinator.refresh_from_db()
    assert coordinator.alerts_delivery == "immediately"  # opening the link changes nothing
    done = client.post(reverse("members:unsubscribe", args=[token])).content.decode()
    assert "emails are turned off" in done and "Turn them on again" in done
    coordinator.refresh_from_db()
    assert coordinator.alerts_delivery == "never"
    assert coordinator.reminders_delivery == "immediately"
    client.post(reverse("members:unsubscribe", args=[token]), {"restore": "immediately"})
    coordinator.refresh_from_db()
    assert coordinator.alerts_delivery == "immediately"


def test_one_click_unsubscribe_works_for_a_mail_provider_without_a_cookie(coordinator, token):
    from django.test import Client

    provider = Client(enforce_csrf_checks=True)
    response = provider.post(
        reverse("members:unsubscribe_one_click", args=[token]),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    coordinator.refresh_from_db()
    assert coordinator.alerts_delivery == "never"


@pytest.mark.parametrize("how", ["altered", "other group", "garbage"])
def test_a_forged_or_altered_token_is_refused_and_changes_nothing(client, coordinator, token, how):
    if how == "altered":
        bad = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    elif how == "other group":
        bad = signing.dumps({"u": coordinator.pk, "g": "everything"}, salt=outbox.UNSUBSCRIBE_SALT)
    else:
        bad = "not-a-token"
    for name in ("members:unsubscribe", "members:unsubscribe_one_click"):
        assert client.post(reverse(name, args=[bad])).status_code == 400
    assert (
        "does not work" in client.get(reverse("members:unsubscribe", args=[bad])).content.decode()
    )
    coordinator.refresh_from_db()
    assert coordinator.alerts_delivery == "immediately"


def test_a_token_signed_for_something_else_is_refused(coordinator):
    other = signing.dumps({"u": coordinator.pk, "g": "alerts"}, salt="some.other.purpose")
    with pytest.raises(signing.BadSignature):
        outbox.read_unsubscribe_token(other)


def test_turning_a_group_off_skips_what_was_waiting_for_it(
    client, community, coordinator, member, token
):
    membership = Membership.objects.get(user=member)
    outbox.notify(
        recipients=[coordinator], kind="join_request", about=membership, community=community
    )
    Notification.objects.update(state="pending")
    client.post(reverse("members:unsubscribe", args=[token]))
    assert Notification.objects.get().state == "skipped"


def test_account_emails_and_answers_have_no_unsubscribe(member, community):
    membership = Membership.objects.get(user=member)
    outbox.notify(
        recipients=[member], kind="request_approved", about=membership, community=community
    )
    message = outbox.build_message(Notification.objects.get())
    assert "List-Unsubscribe" not in message.extra_headers
    assert "Stop these emails" not in message.body
