import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connections
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from communities.models import Membership
from engagement import services
from engagement.models import Registration, Session, Venue
from members import fanout
from members.models import FanOut, Notification
from tests.conftest import PERSONAS, client_as, make_person

pytestmark = pytest.mark.django_db


def make_session(community, *, days=3, **fields):
    start = timezone.now() + timedelta(days=days)
    defaults = {
        "title": "Talking about clinic letters",
        "kind": Session.Kind.WORKSHOP,
        "starts_at": start,
        "ends_at": start + timedelta(hours=2),
        "status": Session.Status.PUBLISHED,
    }
    return Session.objects.create(community=community, **{**defaults, **fields})


def members_of(community, n, prefix="m"):
    people = [
        make_person(f"{prefix}{i}@example.org", name=f"{prefix.upper()}{i}") for i in range(n)
    ]
    for person in people:
        Membership.objects.create(community=community, user=person, status="active")
    return people


@pytest.fixture
def venue(community):
    return Venue.objects.create(
        community=community,
        name="Firth Park Community Centre",
        address="1 Firth Park Road\nSheffield",
        kind=Venue.Kind.COMMUNITY_CENTRE,
        step_free=True,
        hearing_loop=True,
    )


def test_a_full_session_takes_a_waiting_list_that_moves_up_on_a_cancellation(
    community, django_capture_on_commit_callbacks
):
    session = make_session(community, capacity=1)
    first, second, third = members_of(community, 3)
    with django_capture_on_commit_callbacks(execute=True):
        a = services.register(session=session, user=first, access_requirements=["wheelchair"])
        b = services.register(session=session, user=second)
        c = services.register(session=session, user=third)
    assert (a.status, b.status, c.status) == ("registered", "waiting", "waiting")
    assert [m.subject for m in mail.outbox] == [
        "You have a place: Talking about clinic letters",
        "You are on the waiting list: Talking about clinic letters",
        "You are on the waiting list: Talking about clinic letters",
    ]
    with django_capture_on_commit_callbacks(execute=True):
        promoted = services.cancel_registration(registration=a)
    assert promoted.user == second
    b.refresh_from_db()
    c.refresh_from_db()
    assert (b.status, c.status) == ("registered", "waiting")
    assert mail.outbox[-1].to == [second.email]
    assert "A place came free" in mail.outbox[-1].subject


def test_the_confirmation_carries_a_calendar_file_with_the_online_link(
    community, django_capture_on_commit_callbacks
):
    session = make_session(community, online_link="https://meet.example.org/abc")
    [person] = members_of(community, 1)
    with django_capture_on_commit_callbacks(execute=True):
        services.register(session=session, user=person)
    [(filename, content, mimetype)] = mail.outbox[0].attachments
    assert (filename, mimetype) == ("session.ics", "text/calendar")
    event = Calendar.from_ical(content).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == session.title
    assert event.decoded("DTSTART") == session.starts_at.replace(microsecond=0)
    assert "https://meet.example.org/abc" in str(event["DESCRIPTION"])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"status": Session.Status.CANCELLED}, "not taking registrations"),
        ({"days": -2}, "not taking registrations"),
        ({"registration_required": False}, "not taking registrations"),
    ],
)
def test_registration_is_refused_when_it_makes_no_sense(community, change, message):
    session = make_session(community, **change)
    [person] = members_of(community, 1)
    with pytest.raises(services.RegistrationError, match=message):
        services.register(session=session, user=person)


def test_registering_twice_or_without_joining_is_refused(community, outsider):
    session = make_session(community)
    [person] = members_of(community, 1)
    services.register(session=session, user=person)
    with pytest.raises(services.RegistrationError, match="already registered"):
        services.register(session=session, user=person)
    with pytest.raises(services.RegistrationError, match="Join the community first"):
        services.register(session=session, user=outsider)


@pytest.mark.django_db(transaction=True)
def test_two_people_taking_the_last_place_at_once_never_overbook(community, monkeypatch):
    from engagement import services as engagement_services

    monkeypatch.setattr(engagement_services, "notify", lambda **kwargs: 0)
    session = make_session(community, capacity=1)
    people = members_of(community, 2)
    barrier = threading.Barrier(2)
    errors = []

    def take(person):
        try:
            barrier.wait()
            services.register(session=session, user=person)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=take, args=(p,)) for p in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    statuses = sorted(Registration.objects.values_list("status", flat=True))
    assert statuses == ["registered", "waiting"]


def reminders_at(now, capture) -> int:
    """What beat does at `now`; the worker (eager here) writes each started reminder's rows
    after commit, as it does for every fan-out."""
    with capture(execute=True):
        return services.send_session_reminders(now=now)


def session_at_two_in_three_days(community):
    from zoneinfo import ZoneInfo

    london = ZoneInfo(community.time_zone)
    local_start = (
        (timezone.now() + timedelta(days=3))
        .astimezone(london)
        .replace(hour=14, minute=0, second=0, microsecond=0)
    )
    session = make_session(
        community, starts_at=local_start, ends_at=local_start + timedelta(hours=2)
    )
    return session, local_start


def test_reminders_are_written_once_a_day_before_and_on_the_morning(
    community, django_capture_on_commit_callbacks
):
    session, local_start = session_at_two_in_three_days(community)
    early, late, waiting = members_of(community, 3)
    services.register(session=session, user=early)
    late_registration = services.register(session=session, user=late)
    day_before = local_start - timedelta(hours=20)  # 6 p.m. the evening before
    Registration.objects.filter(pk=late_registration.pk).update(created_at=day_before)
    services.register(session=session, user=waiting)
    Registration.objects.filter(user=waiting).update(status=Registration.Status.WAITING)

    # A day before: only the early registrant (the late one just had a confirmation).
    capture = django_capture_on_commit_callbacks
    assert reminders_at(day_before, capture) == 1
    assert reminders_at(day_before, capture) == 0  # beat twice: nothing more
    # 6 a.m. on the day is too early for the morning reminder; 8 a.m. is not.
    assert reminders_at(local_start.replace(hour=6), capture) == 0
    assert reminders_at(local_start.replace(hour=8), capture) == 1
    assert reminders_at(local_start.replace(hour=9), capture) == 0
    rows = Notification.objects.filter(kind="session_reminder")
    assert sorted(rows.values_list("key", "recipient", "context")) == sorted(
        [
            ("day-before", early.pk, {"when": "tomorrow"}),
            ("morning", early.pk, {"when": "today"}),
            ("morning", late.pk, {"when": "today"}),
        ]
    )
    reminders = FanOut.objects.filter(kind="session_reminder")
    assert sorted(reminders.values_list("key", "state", "total")) == [
        ("day-before", "done", 1),
        ("morning", "done", 2),
    ]


def test_beat_run_twice_starts_one_reminder_per_session_and_moment(
    community, django_capture_on_commit_callbacks
):
    session, local_start = session_at_two_in_three_days(community)
    [person] = members_of(community, 1)
    services.register(session=session, user=person)
    morning = local_start.replace(hour=8)
    # The day-before reminder was missed (beat was down), so both start now, once each;
    # beat itself writes nobody's reminder: the worker does, after commit.
    with django_capture_on_commit_callbacks() as callbacks:
        assert services.send_session_reminders(now=morning) == 2
        assert services.send_session_reminders(now=morning) == 0
    assert not Notification.objects.filter(kind="session_reminder").exists()
    assert len(callbacks) == 2, "the worker is asked once per reminder"
    reminders = FanOut.objects.filter(kind="session_reminder", about_id=str(session.pk))
    assert sorted(reminders.values_list("key", "audience", "context")) == [
        ("day-before", services.DAY_BEFORE_AUDIENCE, {"when": "tomorrow"}),
        ("morning", services.MORNING_AUDIENCE, {"when": "today"}),
    ]


def test_a_session_cancelled_before_its_reminder_is_written_reminds_nobody(community):
    session, local_start = session_at_two_in_three_days(community)
    [person] = members_of(community, 1)
    services.register(session=session, user=person)
    # Beat starts the reminders; the session is cancelled before the worker gets to them.
    assert services.send_session_reminders(now=local_start.replace(hour=8)) == 2
    services.cancel_session(session=session)
    for fan_out in FanOut.objects.filter(kind="session_reminder"):
        fanout.advance(fan_out.pk)
    assert not Notification.objects.filter(kind="session_reminder").exists()
    assert set(FanOut.objects.filter(kind="session_reminder").values_list("state", "total")) == {
        ("done", 0)
    }


def test_session_pages_for_visitors_hide_drafts_and_other_communities(
    client, community, other_community, venue
):
    shown = make_session(community, venue=venue)
    draft = make_session(community, title="Not ready", status=Session.Status.DRAFT)
    theirs = make_session(other_community, title="Elsewhere")
    listing = client.get(reverse("engagement:sessions", args=[community.slug])).content.decode()
    assert shown.title in listing and "Not ready" not in listing and "Elsewhere" not in listing
    page = client.get(shown.get_absolute_url()).content.decode()
    assert "Firth Park Community Centre" in page and "step-free access, hearing loop" in page
    for session in (draft, theirs):
        url = reverse("engagement:session", args=[community.slug, session.pk])
        assert client.get(url).status_code == 404


def test_coordinators_see_drafts(client, community, coordinator):
    draft = make_session(community, title="Not ready", status=Session.Status.DRAFT)
    client.force_login(coordinator)
    assert client.get(draft.get_absolute_url()).status_code == 200


def test_the_online_link_shows_only_to_people_registered(client, community):
    session = make_session(community, online_link="https://meet.example.org/secret")
    [person] = members_of(community, 1)
    client.force_login(person)
    assert "meet.example.org/secret" not in client.get(session.get_absolute_url()).content.decode()
    ics = client.get(reverse("engagement:session_ics", args=[community.slug, session.pk])).content
    assert b"meet.example.org/secret" not in ics
    client.post(reverse("engagement:session_register", args=[community.slug, session.pk]))
    assert "meet.example.org/secret" in client.get(session.get_absolute_url()).content.decode()


def test_a_member_registers_and_cancels_through_the_pages(client, community):
    session = make_session(community, capacity=5)
    [person] = members_of(community, 1)
    client.force_login(person)
    response = client.post(
        reverse("engagement:session_register", args=[community.slug, session.pk]),
        {"access_requirements": ["bsl", "carer"], "access_details": "My carer is Sam."},
        follow=True,
    )
    assert "You have a place" in response.content.decode()
    registration = Registration.objects.get()
    assert registration.access_requirements == ["bsl", "carer"]
    client.post(reverse("engagement:session_cancel", args=[community.slug, session.pk]))
    registration.refresh_from_db()
    assert registration.status == "cancelled"


def test_a_choice_never_offered_is_refused_next_to_the_field(client, community):
    session = make_session(community)
    [person] = members_of(community, 1)
    client.force_login(person)
    response = client.post(
        reverse("engagement:session_register", args=[community.slug, session.pk]),
        {"access_requirements": ["teleporter"]},
    )
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not Registration.objects.exists()


def test_the_community_feed_parses_and_lists_published_sessions(client, community):
    make_session(community, title="One")
    make_session(community, title="Two", days=10)
    make_session(community, title="Hidden", status=Session.Status.DRAFT)
    response = client.get(reverse("engagement:sessions_feed", args=[community.slug]))
    assert response["Content-Type"] == "text/calendar"
    calendar = Calendar.from_ical(response.content)
    assert sorted(str(e["SUMMARY"]) for e in calendar.walk("VEVENT")) == ["One", "Two"]


@pytest.mark.parametrize("count", [3, 30])
def test_session_list_query_count_is_fixed(
    client, community, venue, count, django_assert_num_queries
):
    for i in range(count):
        make_session(community, title=f"Session {i}", venue=venue, days=i + 1)
    # community, the page of sessions with venue, host and counts, the paginator's count.
    with django_assert_num_queries(3):
        assert client.get(reverse("engagement:sessions", args=[community.slug])).status_code == 200


def test_the_end_must_come_after_the_start(community):
    from django.core.exceptions import ValidationError

    now = timezone.now()
    session = Session(
        community=community, title="x", kind="workshop", starts_at=now, ends_at=now - timedelta(1)
    )
    with pytest.raises(ValidationError, match="The end must be after the start"):
        session.full_clean()


@pytest.mark.parametrize("persona", PERSONAS)
def test_session_pages_for_every_persona(client, request, everyone, community, persona):
    session = make_session(community)
    draft = make_session(community, title="Draft", status=Session.Status.DRAFT)
    client_as(client, request, persona)
    slug = community.slug
    for url in (
        reverse("engagement:sessions", args=[slug]),
        session.get_absolute_url(),
        reverse("engagement:session_ics", args=[slug, session.pk]),
        reverse("engagement:sessions_feed", args=[slug]),
    ):
        assert client.get(url).status_code == 200, url
    sees_drafts = persona in ("coordinator", "staff")
    assert client.get(draft.get_absolute_url()).status_code == (200 if sees_drafts else 404)
    register = client.post(reverse("engagement:session_register", args=[slug, session.pk]))
    expected = {"anonymous": 302}.get(persona, 302)
    assert register.status_code == expected
    registered = Registration.objects.filter(session=session, status="registered").exists()
    assert registered == (persona in ("member", "partner", "coordinator"))
