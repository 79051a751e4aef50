"""Defects a review of the outbox found, each kept fixed by a test."""

import time
from datetime import timedelta

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.urls import reverse

from communities.models import Membership
from members import outbox, services
from members.models import Notification
from tests.conftest import make_person
from tests.members.test_outbox import notify

pytestmark = pytest.mark.django_db

State = Notification.State


@pytest.fixture
def people(community):
    return [make_person(f"g{i}@example.org", name=f"G{i}") for i in range(3)]


def ids():
    return list(Notification.objects.order_by("pk").values_list("pk", flat=True))


def test_choices_changed_on_the_profile_reach_rows_already_waiting(client, people, community):
    person = people[0]
    person.alerts_delivery = "daily"
    person.save()
    notify(people, community)
    client.force_login(person)
    data = {
        "name": "G0",
        "language": "en-gb",
        "reminders_delivery": "immediately",
        "updates_delivery": "immediately",
        "news_delivery": "weekly",
        "alerts_delivery": "never",
    }
    client.post("/me/", data)
    assert Notification.objects.get(recipient=person).state == State.SKIPPED


def test_a_person_erased_while_their_email_is_being_sent_is_not_brought_back(
    people, community, sink
):
    notify(people[:1], community)
    [row] = outbox.claim(ids())
    services.erase_person(user=people[0])
    outbox._mark_failed_try(row, OSError("connection reset"))
    assert Notification.objects.get().state == State.SKIPPED
    assert outbox.sweep() == 0 and sink.counts().total() == 0


def test_retrying_failed_rows_never_emails_someone_who_left_or_opted_out(people, community, sink):
    notify(people, community)
    Notification.objects.update(state=State.FAILED)
    services.erase_person(user=people[0])
    people[1].alerts_delivery = "never"
    people[1].save()
    outbox.retry_failed(rows=Notification.objects.all())
    outbox.sweep()
    assert sorted(sink.counts()) == [people[2].email]
    assert Notification.objects.filter(state=State.SKIPPED).count() == 2


def test_mail_goes_to_the_address_the_person_has_now(people, community, sink):
    notify(people[:1], community)
    people[0].email = "new-address@example.org"
    people[0].save()
    outbox.sweep()
    assert list(sink.counts()) == ["new-address@example.org"]
    assert Notification.objects.get().email == "new-address@example.org"


def test_a_slow_worker_whose_rows_were_handed_on_does_not_send_them_again(
    people, community, sink, settings
):
    # The sweep hands rows on once they have been "sending" for OUTBOX_STUCK_SECONDS: here
    # at once, so a worker may not trust its claim for any time without asking again.
    settings.OUTBOX_STUCK_SECONDS = 0
    notify(people, community)
    stale = outbox.claim(ids())  # worker A claims, then stalls
    outbox.requeue_stuck(older_than=timedelta(0))  # the sweep thinks A died
    assert outbox.deliver(ids=ids()) == 3  # worker B sends them
    connection = outbox.get_connection()
    connection.open()
    assert outbox._send_claimed(stale, connection=connection) == 0  # A wakes up
    connection.close()
    assert set(sink.counts().values()) == {1}


def test_a_row_of_an_unknown_kind_does_not_hold_up_the_rest(people, community, sink):
    notify(people, community)
    Notification.objects.filter(recipient=people[0]).update(kind="removed_in_a_later_release")
    assert outbox.sweep() == 2
    odd = Notification.objects.get(recipient=people[0])
    assert odd.state == State.SKIPPED and "No notification kind" in odd.last_error


def test_celerys_soft_time_limit_is_not_mistaken_for_a_failed_email(
    people, community, monkeypatch, sink
):
    notify(people, community)
    send = outbox._Composer.send

    def out_of_time_at_the_second(composer, row, **kwargs):
        if sink.counts().total() == 1:
            raise SoftTimeLimitExceeded()
        return send(composer, row, **kwargs)

    monkeypatch.setattr(outbox._Composer, "send", out_of_time_at_the_second)
    with pytest.raises(SoftTimeLimitExceeded):
        outbox.deliver(ids=ids())
    # The email the server accepted is recorded; the one being sent when time ran out waits
    # for the sweep, not marked failed; the one not reached goes back at once.
    rows = Notification.objects.order_by("pk").values_list("state", "last_error", "attempts")
    assert list(rows) == [(State.SENT, "", 1), (State.SENDING, "", 1), (State.PENDING, "", 0)]


def test_a_sweep_stops_taking_rows_when_its_time_is_up(people, community, sink):
    notify(people, community)
    assert outbox.sweep(budget_seconds=0) == 0
    assert set(Notification.objects.values_list("state", flat=True)) == {State.PENDING}
    assert outbox.sweep() == 3


def test_digests_stop_when_their_time_is_up_and_say_there_is_more(people, community, sink):
    for person in people:
        person.alerts_delivery = "weekly"
        person.save()
    notify(people, community)
    assert outbox.send_digests(delivery="weekly", budget_seconds=0) == 0
    assert outbox.digests_waiting(delivery="weekly")
    assert outbox.send_digests(delivery="weekly") == 3
    assert not outbox.digests_waiting(delivery="weekly")


def test_after_the_broker_fails_requests_stop_waiting_for_it(monkeypatch):
    from members import tasks

    calls = []

    def broken(*args, **kwargs):
        calls.append(1)
        time.sleep(0.2)
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.deliver_notifications, "apply_async", broken)
    monkeypatch.setattr(outbox, "_broker_failed_at", None)
    outbox.enqueue_delivery([1, 2])
    started = time.monotonic()
    outbox.enqueue_delivery([3])
    assert len(calls) == 1 and time.monotonic() - started < 0.1


def test_the_one_click_address_opened_in_a_browser_shows_the_page(client, coordinator):
    token = outbox.unsubscribe_token(user=coordinator, group="alerts")
    url = reverse("members:unsubscribe_one_click", args=[token])
    assert "Stop “Coordinator alerts” emails?" in client.get(url).content.decode()
    assert client.post(url).status_code == 400  # not the RFC 8058 body
    coordinator.refresh_from_db()
    assert coordinator.alerts_delivery == "immediately"


def test_turning_emails_on_again_restores_the_earlier_choice(client, coordinator):
    coordinator.news_delivery = "weekly"
    coordinator.save()
    token = outbox.unsubscribe_token(user=coordinator, group="news")
    page = client.post(reverse("members:unsubscribe", args=[token])).content.decode()
    assert 'name="restore" value="weekly"' in page
    client.post(reverse("members:unsubscribe", args=[token]), {"restore": "weekly"})
    coordinator.refresh_from_db()
    assert coordinator.news_delivery == "weekly"


def test_erasure_removes_the_address_and_words_from_the_outbox(
    client, community, coordinator, outsider
):
    from communities import services as community_services
    from communities.models import Community

    community.join_policy = Community.JoinPolicy.APPROVAL
    community.save()
    outsider.name = "Priya Secret"
    outsider.save()
    membership = community_services.join_community(
        community=community, user=outsider, perspectives=["carer"], involvement=[]
    )
    outbox.notify(
        recipients=[outsider], kind="request_approved", about=membership, community=community
    )
    services.erase_person(user=outsider)
    own = Notification.objects.get(kind="request_approved")
    alert = Notification.objects.get(kind="join_request")
    assert own.email == "" and own.context == {}
    assert "Priya" not in str(alert.context)
    assert Membership.objects.get(pk=membership.pk).status == "left"


def test_people_with_no_usable_address_are_listed_for_coordinators(client, community, coordinator):
    person = make_person("gone@example.org", name="Nobody Reachable")
    person.is_active = False
    person.save()
    membership = Membership.objects.create(community=community, user=person, status="requested")
    outbox.notify(
        recipients=[person], kind="request_approved", about=membership, community=community
    )
    assert Notification.objects.get().state == State.SKIPPED
    client.force_login(coordinator)
    page = client.get(f"/c/{community.slug}/manage/contact/").content.decode()
    assert "People we could not email" in page and "Nobody Reachable" in page
