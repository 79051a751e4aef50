"""Telling people about an update, end to end: the real broker, real Celery worker processes
and a real SMTP server (aiosmtpd), counting the emails each person receives. Also publishing
twice, publishing with the broker down, and the weekly "input waiting too long" email."""

import socket
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connections
from django.urls import reverse
from django.utils import timezone

from communities.models import Community, Membership
from engagement.models import Participation, Response, Session, Survey
from improvement import services, tasks
from improvement.models import Update
from members import outbox
from members.models import FanOut, Notification
from members.services import erase_person
from members.tasks import resume_fan_outs, run_fan_out, sweep_outbox
from tests.conftest import make_community, reset_broker_connections
from tests.improvement.factories import came, make_idea, new_member, past_session
from tests.subprocesses import child_env
from tests.workers import processes, wait_until, worker_command

pytestmark = pytest.mark.django_db

# The site address the worker processes run with: every link in their emails starts here.
SITE = "http://convene.test:8000"
HEADLINE = "Clinic letters will come a week sooner"
State = Notification.State


def plain_text(message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
    raise AssertionError("The email has no plain-text part")


def html(message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/html":
            return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
    raise AssertionError("The email has no HTML part")


def worker_env(broker_env, sink):
    return child_env(**broker_env, **sink.env(), SITE_URL=SITE)


def settle(sink, expected: int, group, seconds=60):
    wait_until(
        lambda: len(sink.received) >= expected,
        seconds=seconds,
        logs=group.logs,
        what=f"{expected} emails received",
    )
    time.sleep(1.5)  # anything sent twice would arrive now


def sweep_until_done(group, *, seconds=60):
    """Ask a worker to carry on fan-outs and sweep the outbox every second, as beat does every
    minute, until nobody is left to write to and no email waits."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        waiting = Notification.objects.filter(
            channel=Notification.Channel.EMAIL, state__in=[State.PENDING, State.SENDING]
        )
        writing = FanOut.objects.filter(state=FanOut.State.WRITING)
        if not waiting.exists() and not writing.exists():
            return
        resume_fan_outs.delay()
        sweep_outbox.delay()
        time.sleep(1)
    pytest.fail(f"Emails still waiting after {seconds}s:\n{group.logs()[-4000:]}")


def draft(community, by, *, ideas=(), sessions=(), surveys=(), title=HEADLINE) -> Update:
    update = Update.objects.create(
        community=community,
        created_by=by,
        title=title,
        what_we_heard="Letters arrive after the appointment.",
        what_we_did="The clinic now posts letters three weeks before, not two.",
    )
    update.ideas.set(ideas)
    update.sessions.set(sessions)
    update.surveys.set(surveys)
    return update


@pytest.fixture
def cast(community, coordinator, member):
    """One update about four ideas, a session and a survey, and the people behind them.

    Michael (`member`) wrote the first idea, supports the second, commented on the third,
    supported a duplicate later merged into the first, and came to the session: he is told
    once. Everyone else who gave input is told once too; people who did not, or who cannot
    or asked not to be told, are not emailed."""
    sam = new_member(community, "sam@example.org", name="Sam")
    cal = new_member(community, "cal@example.org", name="Cal")
    dee = new_member(community, "dee@example.org", name="Dee")
    ada = new_member(community, "ada@example.org", name="Ada")
    ann = new_member(community, "ann@example.org", name="Ann")
    abe = new_member(community, "abe@example.org", name="Abe")
    eve = new_member(community, "eve@example.org", name="Eve")
    nia = new_member(community, "nia@example.org", name="Nia")
    nia.updates_delivery = "never"
    nia.save()

    first = services.add_idea(
        community=community, by=member, title="Earlier letters", description="Post them sooner."
    )
    second = services.add_idea(
        community=community, by=sam, title="Text reminders", description="A text the day before."
    )
    third = services.add_idea(
        community=community, by=cal, title="Bigger print", description="Large print letters."
    )
    duplicate = services.add_idea(
        community=community, by=dee, title="Letters sooner", description="Same as the first."
    )
    paper = services.add_idea(
        community=community,
        by=coordinator,
        title="Letters by email",
        description="d",
        on_behalf={
            "on_behalf_of": "Mrs Khan",
            "contact_by": "email",
            "contact_details": "khan@example.org",
        },
    )
    letter = services.add_idea(
        community=community,
        by=coordinator,
        title="Phone first",
        description="d",
        on_behalf={
            "on_behalf_of": "Mr Post",
            "contact_by": "post",
            "contact_details": "1 High Street, Sheffield",
        },
    )
    services.support_idea(idea=second, user=member)
    services.add_comment(idea=third, user=member, text="Yes please, and in colour.")
    services.add_comment(idea=first, user=sam, text="Me too.")
    services.support_idea(idea=duplicate, user=member)
    services.support_idea(idea=second, user=eve)
    services.support_idea(idea=second, user=nia)
    services.merge_ideas(source=duplicate, target=first, by=coordinator, note="The same")

    session = past_session(community)
    came(session, member)
    came(session, ada)
    came(session, abe, attended=False)

    survey = Survey.objects.create(community=community, title="Letters", published=True)
    Response.objects.create(survey=survey)  # Ann answered without her name
    Participation.objects.create(survey=survey, user=ann)
    Response.objects.create(  # Mrs Khan again, from paper, her address typed differently
        survey=survey,
        on_behalf_of="Mrs Khan",
        contact_by="email",
        contact_details="  KHAN@example.org ",
    )

    erase_person(user=eve)
    update = draft(
        community,
        coordinator,
        ideas=[first, second, third, paper, letter],
        sessions=[session],
        surveys=[survey],
    )
    emailed = [member, sam, cal, dee, ada, ann]
    return {
        "update": update,
        "emailed": [p.email for p in emailed] + ["khan@example.org"],
        "not_emailed": [abe.email, nia.email, "eve@example.org"],
        "rows": [*emailed, nia],
    }


def assert_each_told_once(update, cast):
    rows = Notification.objects.filter(kind="update_published")
    per_person = Counter(rows.exclude(recipient=None).values_list("recipient", flat=True))
    assert per_person == Counter({p.pk: 1 for p in cast["rows"]})
    assert list(rows.filter(recipient=None, channel="email").values_list("email", flat=True)) == [
        "khan@example.org"
    ]
    assert rows.filter(channel="post").count() == 1  # Mr Post, on the letters list
    update.refresh_from_db()
    # Six members and Mrs Khan by email, Mr Post by letter; Nia's row is kept, skipped, and
    # she is not counted as told.
    assert update.told_count == 8


def assert_the_emails(sink, update, cast):
    assert sink.counts() == Counter({address: 1 for address in cast["emailed"]})
    link = f"{SITE}{reverse('improvement:update', args=[update.community.slug, update.pk])}"
    for received in sink.received:
        assert received.subject == f"What we did with your input: {HEADLINE}"
        text = plain_text(received.message)
        assert link in text.splitlines(), text
        assert f'href="{link}"' in html(received.message)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_each_contributor_gets_one_email_through_the_real_worker(
    client, broker_env, sink, community, coordinator, cast, tmp_path
):
    update = cast["update"]
    client.force_login(coordinator)
    with processes(tmp_path) as group:
        group.start(worker_command("--concurrency=2"), env=worker_env(broker_env, sink))
        response = client.post(
            reverse("improvement:manage_update_publish", args=[community.slug, update.pk]),
            follow=True,
        )
        assert "Published. Everyone whose input it answers is being told" in (
            response.content.decode()
        )
        settle(sink, len(cast["emailed"]), group)
    assert_each_told_once(update, cast)
    # The update's page tells the coordinator how it went.
    page = client.get(update.get_absolute_url()).content.decode()
    assert "8 people will hear, each once" in page
    assert f"Emails sent: {len(cast['emailed'])}" in page
    assert "Letters and calls on the list: 1" in page
    assert "Not told, because they turned these updates off" in page  # Nia
    assert_the_emails(sink, update, cast)
    sent = Notification.objects.filter(kind="update_published", channel="email")
    assert Counter(sent.values_list("state", flat=True)) == Counter(
        {State.SENT: len(cast["emailed"]), State.SKIPPED: 1}  # Nia turned updates off
    )


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_publishing_again_tells_nobody_twice(
    client, broker_env, sink, community, coordinator, cast, tmp_path
):
    update = cast["update"]
    client.force_login(coordinator)
    with processes(tmp_path) as group:
        group.start(worker_command("--concurrency=2"), env=worker_env(broker_env, sink))
        first = services.publish_update(update=update, by=coordinator)
        again = services.publish_update(update=Update.objects.get(pk=update.pk), by=coordinator)
        response = client.post(
            reverse("improvement:manage_update_publish", args=[community.slug, update.pk]),
            follow=True,
        )
        settle(sink, len(cast["emailed"]), group)
    assert (first.published, again.published) == (True, False)
    assert "already published. Nobody was told twice" in response.content.decode()
    assert_each_told_once(update, cast)
    assert_the_emails(sink, update, cast)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_two_publishes_at_once_from_two_connections_tell_each_person_once(
    broker_env, sink, community, coordinator, cast, tmp_path, monkeypatch
):
    """The winner holds its claim on the update while it records the fan-out (made slow
    here); the other publish's conditional UPDATE waits on that row lock, then finds the
    update already published."""
    from improvement.services import updates as update_services

    update = cast["update"]
    start = update_services.start

    def slow_start(**kwargs):
        time.sleep(0.6)
        return start(**kwargs)

    monkeypatch.setattr(update_services, "start", slow_start)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def publish():
        try:
            mine = Update.objects.get(pk=update.pk)  # each thread its own connection
            barrier.wait()
            began = time.monotonic()
            result = services.publish_update(update=mine, by=coordinator)
            results.append((result, time.monotonic() - began))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    with processes(tmp_path) as group:
        group.start(worker_command("--concurrency=2"), env=worker_env(broker_env, sink))
        threads = [threading.Thread(target=publish) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert not errors, errors
        settle(sink, len(cast["emailed"]), group)
    outcomes = sorted(r.published for r, _took in results)
    assert outcomes == [False, True]
    [(_loser, waited)] = [(r, took) for r, took in results if not r.published]
    assert waited >= 0.4, "the two publishes did not overlap"
    assert_each_told_once(update, cast)
    assert_the_emails(sink, update, cast)


# --- Redis down while publishing ------------------------------------------------------------


class SilentServer:
    """Accepts connections and never answers: a hung Redis."""

    def __enter__(self):
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(16)
        self.accepted, self.stop = [], threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()
        return f"redis://127.0.0.1:{self.server.getsockname()[1]}/0"

    def _accept(self):
        self.server.settimeout(0.2)
        while not self.stop.is_set():
            try:
                self.accepted.append(self.server.accept()[0])
            except TimeoutError:
                continue

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        for conn in self.accepted:
            conn.close()
        self.server.close()


class BrokerSwitch:
    """Point this process's Celery app at a broken broker, with the socket timeouts a Redis
    broker runs with in production, and back again."""

    def __init__(self, settings):
        from celery import current_app

        self.app = current_app
        self.settings = settings
        self.original = None

    def break_it(self, url):
        conf = self.app.conf
        self.original = (conf.broker_url, conf.broker_transport_options, conf.task_always_eager)
        conf.broker_url, conf.task_always_eager = url, False
        conf.broker_transport_options = {
            "socket_timeout": self.settings.REDIS_SOCKET_TIMEOUT,
            "socket_connect_timeout": self.settings.REDIS_SOCKET_TIMEOUT,
        }
        reset_broker_connections()

    def mend(self):
        if self.original is not None:
            conf = self.app.conf
            conf.broker_url, conf.broker_transport_options, conf.task_always_eager = self.original
            self.original = None
            reset_broker_connections()


@pytest.fixture(params=["refused", "hung"])
def broken_broker(request, settings):
    """A function that breaks the broker the way the test is parametrised (refused, or
    accepting and never answering), put right after the test."""
    switch = BrokerSwitch(settings)
    with SilentServer() as silent_url:

        def break_it():
            switch.break_it("redis://127.0.0.1:1/0" if request.param == "refused" else silent_url)
            return switch

        yield break_it
        switch.mend()


def publish_by_post(client, community, update):
    url = reverse("improvement:manage_update_publish", args=[community.slug, update.pk])
    started = time.monotonic()
    response = client.post(url)
    return response, time.monotonic() - started


@pytest.mark.django_db(transaction=True)
def test_redis_down_while_publishing_the_page_answers_and_the_sweep_delivers_later(
    client, community, coordinator, cast, sink, broken_broker, settings
):
    update = cast["update"]
    client.force_login(coordinator)
    broken_broker()
    response, took = publish_by_post(client, community, update)
    assert took < 3, f"publishing took {took:.1f}s with the broker down"
    assert response.status_code == 302 and response["Location"] == update.get_absolute_url()
    update.refresh_from_db()
    assert update.is_published
    # The promise to tell everyone is kept, waiting for a worker: nobody's row is written yet.
    fan_out = FanOut.objects.get(kind="update_published")
    assert fan_out.state == FanOut.State.WRITING and fan_out.total is None
    assert not Notification.objects.filter(kind="update_published").exists()
    # Beat's minute-by-minute resume hands it to a worker, which writes everyone's row.
    run_fan_out(fan_out.pk)
    update.refresh_from_db()
    assert update.told_count == 8
    emails = Notification.objects.filter(kind="update_published", channel="email")
    assert Counter(emails.values_list("state", flat=True)) == Counter(
        {State.PENDING: len(cast["emailed"]), State.SKIPPED: 1}
    )
    assert sink.received == []
    # The sweep (beat runs it every minute) delivers what waited, once each.
    assert outbox.sweep() == len(cast["emailed"])
    assert outbox.sweep() == 0
    assert sink.counts() == Counter({address: 1 for address in cast["emailed"]})
    link = settings.SITE_URL + update.get_absolute_url()
    assert all(link in plain_text(r.message).splitlines() for r in sink.received)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("fault", ["refused", "hung"])
def test_redis_down_while_publishing_then_back_the_worker_delivers(
    client, broker_env, sink, community, coordinator, cast, tmp_path, settings, fault
):
    update = cast["update"]
    client.force_login(coordinator)
    switch = BrokerSwitch(settings)
    with SilentServer() as silent_url:
        switch.break_it("redis://127.0.0.1:1/0" if fault == "refused" else silent_url)
        try:
            response, took = publish_by_post(client, community, update)
        finally:
            switch.mend()
    assert took < 3, f"publishing took {took:.1f}s with the broker {fault}"
    assert response.status_code == 302
    assert FanOut.objects.get(kind="update_published").state == FanOut.State.WRITING
    assert not Notification.objects.filter(kind="update_published").exists()
    # Redis is back: a worker starts and beat's resume and sweep hand it what waited.
    with processes(tmp_path) as group:
        group.start(worker_command("--concurrency=2"), env=worker_env(broker_env, sink))
        sweep_until_done(group)
        settle(sink, len(cast["emailed"]), group)
    assert_each_told_once(update, cast)
    assert_the_emails(sink, update, cast)


# --- The weekly "input waiting too long" email ----------------------------------------------

MONDAY = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)  # ISO week 2026-W10
DAY = timedelta(days=1)


def overdue_idea(community, title="Waited", *, age=45 * DAY, now=MONDAY):
    return make_idea(community, title=title, created_at=now - age)


def reminders():
    rows = Notification.objects.filter(kind="overdue_inputs")
    return Counter(rows.values_list("recipient__email", "community__slug", "key"))


@pytest.fixture
def coordinators(community, coordinator, other_community, other_coordinator):
    """Cora runs both communities; Cole helps run the first. A member, a partner and a
    coordinator who has left are not told."""
    Membership.objects.create(community=other_community, user=coordinator, role="coordinator")
    new_member(community, "cole@example.org", name="Cole", role="coordinator")
    new_member(community, "left@example.org", role="coordinator", status="left")
    new_member(community, "mem@example.org")
    new_member(community, "par@example.org", role="partner")
    overdue_idea(community)
    overdue_idea(other_community)
    quiet = make_community("quiet-one", name="Quiet one")
    new_member(quiet, "quinn@example.org", role="coordinator")
    answered = overdue_idea(quiet, "Answered long ago", age=60 * DAY)
    update = draft(quiet, None, ideas=[answered])
    Update.objects.filter(pk=update.pk).update(status="published", published_at=MONDAY - 50 * DAY)
    overdue_idea(quiet, "Well inside the promise", age=10 * DAY)
    archived = make_community("archived-one", status=Community.Status.ARCHIVED)
    new_member(archived, "arch@example.org", role="coordinator")
    overdue_idea(archived)


def test_overdue_reminders_are_one_row_per_coordinator_per_community_per_week(coordinators):
    week_10 = {
        ("cora@example.org", "bowel-care", "2026-W10"): 1,
        ("cole@example.org", "bowel-care", "2026-W10"): 1,
        ("cora@example.org", "heart-health", "2026-W10"): 1,
        ("olu@example.org", "heart-health", "2026-W10"): 1,
    }
    assert services.send_overdue_reminders(now=MONDAY) == 4
    assert reminders() == Counter(week_10)
    # Again the same day, and at the last minute of the same ISO week: nothing more.
    assert services.send_overdue_reminders(now=MONDAY + timedelta(hours=3)) == 0
    sunday_night = MONDAY + 6 * DAY + timedelta(hours=16, minutes=29, seconds=59)
    assert sunday_night.isocalendar().week == 10
    assert services.send_overdue_reminders(now=sunday_night) == 0
    assert reminders() == Counter(week_10)
    # The next week writes again.
    assert services.send_overdue_reminders(now=MONDAY + 7 * DAY) == 4
    assert sum(reminders().values()) == 8
    assert {key for _who, _where, key in reminders()} == {"2026-W10", "2026-W11"}


def test_a_week_spanning_new_year_is_one_week(community, coordinator):
    # 2026 has 53 ISO weeks: Thursday 31 December 2026 and Friday 1 January 2027 are both in
    # 2026-W53; Monday 4 January 2027 starts 2027-W01.
    new_years_eve = datetime(2026, 12, 31, 12, tzinfo=UTC)
    overdue_idea(community, now=new_years_eve)
    assert services.send_overdue_reminders(now=new_years_eve) == 1
    assert services.send_overdue_reminders(now=new_years_eve + DAY) == 0
    assert services.send_overdue_reminders(now=datetime(2027, 1, 4, 7, 30, tzinfo=UTC)) == 1
    assert set(Notification.objects.values_list("key", flat=True)) == {"2026-W53", "2027-W01"}


def test_a_community_with_nothing_overdue_sends_nothing(community, coordinator):
    overdue_idea(community, "Thirty days exactly", age=30 * DAY)
    answered = overdue_idea(community, "Answered", age=90 * DAY)
    update = draft(community, coordinator, ideas=[answered])
    Update.objects.filter(pk=update.pk).update(status="published", published_at=MONDAY - 80 * DAY)
    assert services.send_overdue_reminders(now=MONDAY) == 0
    assert not Notification.objects.exists()


def test_the_weekly_task_writes_this_weeks_rows(community, coordinator):
    overdue_idea(community, now=timezone.now())
    tasks.send_overdue_reminders.delay()
    tasks.send_overdue_reminders.delay()
    [row] = Notification.objects.filter(kind="overdue_inputs")
    year, week, _day = timezone.now().isocalendar()
    assert row.recipient == coordinator and row.key == f"{year}-W{week:02d}"


def test_the_overdue_email_lists_items_oldest_first_with_links(
    community, coordinator, member, sink, settings
):
    idea = overdue_idea(community, "Clearer letters", age=45 * DAY)
    overdue_idea(community, "Not yet due", age=10 * DAY)
    start = MONDAY - 60 * DAY
    session = Session.objects.create(
        community=community,
        title="Library drop-in",
        kind=Session.Kind.DROP_IN,
        starts_at=start - timedelta(hours=2),
        ends_at=start,
        status=Session.Status.COMPLETED,
    )
    came(session, member)
    survey = Survey.objects.create(
        community=community,
        title="Parking survey",
        published=True,
        opens_at=MONDAY - 90 * DAY,
        closes_at=MONDAY - 33 * DAY - timedelta(hours=5),
    )
    Response.objects.create(survey=survey)
    assert services.send_overdue_reminders(now=MONDAY) == 1
    assert outbox.sweep() == 1
    [received] = sink.received
    assert received.to == coordinator.email
    assert received.subject == "3 inputs are waiting for an update in Bowel care together"
    new = f"{settings.SITE_URL}/c/{community.slug}/manage/updates/new/"
    text = plain_text(received.message)
    lines = [line.strip() for line in text.splitlines()]
    listed = [
        ("- Session: Library drop-in (60 days)", f"{new}?session={session.pk}"),
        ("- Idea: Clearer letters (45 days)", f"{new}?idea={idea.pk}"),
        ("- Survey: Parking survey (33 days)", f"{new}?survey={survey.pk}"),
    ]
    positions = []
    for item, link in listed:
        assert item in lines, text
        assert lines[lines.index(item) + 1] == link, text
        positions.append(lines.index(item))
    assert positions == sorted(positions), "oldest first"
    assert "Not yet due" not in text
    assert "promise of 30 days" in text
    assert f"{settings.SITE_URL}/c/{community.slug}/manage/" in lines
    page = html(received.message)
    hrefs = [page.index(f'href="{link}"') for _item, link in listed]
    assert hrefs == sorted(hrefs)


def test_the_overdue_email_lists_the_25_oldest_and_counts_them_all(community, coordinator, sink):
    for n in range(30):
        overdue_idea(community, f"Idea {n:02d}", age=(40 + n) * DAY)
    services.send_overdue_reminders(now=MONDAY)
    outbox.sweep()
    [received] = sink.received
    assert received.subject.startswith("30 inputs are waiting")
    text = plain_text(received.message)
    assert "Idea 29 (69 days)" in text and "Idea 05 (45 days)" in text
    assert "Idea 04" not in text
    assert text.index("Idea 29") < text.index("Idea 05")
