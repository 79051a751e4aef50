from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from engagement import services
from engagement.models import Registration, Session, Venue
from tests.conftest import PERSONAS, client_as
from tests.engagement.test_sessions import make_session, members_of, session_at_two_in_three_days

pytestmark = pytest.mark.django_db

EXPECTED = {"anonymous": 302, "outsider": 403, "member": 403, "partner": 200, "coordinator": 200,
            "other_coordinator": 403, "staff": 200}  # fmt: skip


def url(name, community, *args):
    return reverse(f"engagement:{name}", args=[community.slug, *args])


@pytest.mark.parametrize("persona", PERSONAS)
def test_who_may_run_sessions(client, request, everyone, community, persona):
    session = make_session(community)
    client_as(client, request, persona)
    addresses = [
        url("manage_sessions", community),
        url("manage_session_new", community),
        url("manage_session", community, session.pk),
        url("manage_session_edit", community, session.pk),
    ]
    for address in addresses:
        expected = EXPECTED[persona]
        if persona == "partner" and str(session.pk) in address:
            expected = 404  # partners run only the sessions they facilitate
        assert client.get(address).status_code == expected, address
    response = client.post(url("manage_session_cancel", community, session.pk))
    session.refresh_from_db()
    assert (session.status == "cancelled") == (persona in ("coordinator", "staff"))
    if persona not in ("coordinator", "staff"):
        assert response.status_code == {"partner": 404}.get(persona, EXPECTED[persona])


def test_a_partner_runs_the_sessions_they_facilitate(client, community, partner):
    theirs = make_session(community, title="Theirs")
    theirs.facilitators.add(partner)
    other = make_session(community, title="Someone else's")
    client.force_login(partner)
    listing = client.get(url("manage_sessions", community)).content.decode()
    assert "Theirs" in listing and "Someone else" not in listing
    assert client.get(url("manage_session", community, theirs.pk)).status_code == 200
    assert client.get(url("manage_session", community, other.pk)).status_code == 404
    # What they plan, they run.
    venue = Venue.objects.create(community=community, name="Hall", kind="other")
    client.post(
        url("manage_session_new", community), form_data(venue, title="Planned by a partner")
    )
    assert (
        Session.objects.get(title="Planned by a partner")
        .facilitators.filter(pk=partner.pk)
        .exists()
    )


def test_a_session_from_another_community_is_not_found(
    client, community, other_community, coordinator
):
    theirs = make_session(other_community)
    client.force_login(coordinator)
    for name in ("manage_session", "manage_session_edit"):
        assert client.get(url(name, community, theirs.pk)).status_code == 404
    for name in ("manage_session_publish", "manage_session_cancel", "manage_session_copy"):
        assert client.post(url(name, community, theirs.pk)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == "published"


def form_data(venue, **extra):
    return {
        "title": "Appointments drop-in",
        "kind": "drop_in",
        "starts_at": "2027-03-28T10:00",
        "ends_at": "2027-03-28T12:00",
        "venue": venue.pk,
        "capacity": "",
        "languages": "English",
        "registration_required": "on",
        "offers_refreshments": "on",
        **extra,
    }


@pytest.fixture
def venue(community):
    return Venue.objects.create(community=community, name="Library", kind="library")


def test_a_coordinator_plans_a_session_in_the_communitys_time_zone(
    client, community, coordinator, venue
):
    client.force_login(coordinator)
    # 28 March 2027 is after the clocks go forward in the UK: 10:00 there is 09:00 UTC.
    response = client.post(url("manage_session_new", community), form_data(venue))
    session = Session.objects.get()
    assert response.status_code == 302 and session.status == "draft"
    assert session.starts_at.isoformat() == "2027-03-28T09:00:00+00:00"
    page = client.get(url("manage_session_edit", community, session.pk)).content.decode()
    assert 'value="2027-03-28T10:00"' in page


def test_bad_input_is_refused_next_to_the_field_and_kept(client, community, coordinator, venue):
    session = make_session(community, capacity=5)
    for person in members_of(community, 3):
        services.register(session=session, user=person)
    client.force_login(coordinator)
    data = form_data(venue, title="Typed title", ends_at="2027-03-28T09:00", capacity="2")
    response = client.post(url("manage_session_edit", community, session.pk), data)
    page = response.content.decode()
    assert response.status_code == 200
    assert "The end must be after the start." in page
    assert "3 people already have a place" in page
    assert 'value="Typed title"' in page
    # A venue that is not this community's (a tampered form) is not a choice.
    tampered = client.post(
        url("manage_session_new", community), {**form_data(venue), "venue": 99999}
    )
    assert "Select a valid choice" in tampered.content.decode()


def test_changing_the_time_tells_everyone_registered_or_waiting(
    client, community, coordinator, venue, django_capture_on_commit_callbacks
):
    session = make_session(community, capacity=1, venue=venue)
    first, second = members_of(community, 2)
    services.register(session=session, user=first)
    services.register(session=session, user=second)
    mail.outbox.clear()
    client.force_login(coordinator)
    local = session.starts_at.astimezone(session.zone)
    later = local + timedelta(days=1)
    data = form_data(
        venue,
        title=session.title,
        kind=session.kind,
        capacity="1",
        starts_at=later.strftime("%Y-%m-%dT%H:%M"),
        ends_at=(later + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
    )
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("manage_session_edit", community, session.pk), data)
    assert sorted(m.to[0] for m in mail.outbox) == sorted([first.email, second.email])
    assert all(m.subject.startswith("Changed:") for m in mail.outbox)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            url("manage_session_edit", community, session.pk), {**data, "description": "Words only"}
        )
    assert mail.outbox == []  # a change of wording tells nobody


def test_cancelling_tells_everyone_and_copying_makes_a_draft(
    client, community, coordinator, django_capture_on_commit_callbacks
):
    session = make_session(community)
    [person] = members_of(community, 1)
    services.register(session=session, user=person)
    mail.outbox.clear()
    client.force_login(coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("manage_session_cancel", community, session.pk))
    assert [m.subject for m in mail.outbox] == [f"Cancelled: {session.title}"]
    # The session's page says how it went: the worker (eager here) has written to everyone.
    page = client.get(url("manage_session", community, session.pk)).content.decode()
    assert "Telling everyone registered or waiting that it is cancelled" in page
    assert "Done: 1 person will hear. Emails sent so far: 1." in page
    response = client.post(url("manage_session_copy", community, session.pk), follow=True)
    copy = Session.objects.exclude(pk=session.pk).get()
    assert copy.status == "draft" and copy.title.endswith("(copy)")
    assert "A copy was made" in response.content.decode()
    again = client.post(url("manage_session_publish", community, session.pk), follow=True)
    assert "cannot become" in again.content.decode()


def test_the_session_page_shows_the_latest_change_or_cancellation_never_a_reminder(
    client, community, coordinator, django_capture_on_commit_callbacks
):
    """Reminders are fan-outs too, about the same session; the coordinator's page shows how
    telling people of a change or a cancellation went, which reminders would hide."""
    session, local_start = session_at_two_in_three_days(community)
    [person] = members_of(community, 1)
    services.register(session=session, user=person)
    client.force_login(coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.send_session_reminders(now=local_start - timedelta(hours=20)) == 1
    page = client.get(url("manage_session", community, session.pk)).content.decode()
    assert "Telling everyone" not in page, "a reminder is not a notice"
    with django_capture_on_commit_callbacks(execute=True):
        session.online_link = "https://meet.example.org/clinic-letters"
        services.save_session(session=session, changed=["online_link"])
    # The morning reminder starts after the change, so it is the newest fan-out.
    with django_capture_on_commit_callbacks(execute=True):
        assert services.send_session_reminders(now=local_start.replace(hour=8)) == 1
    page = client.get(url("manage_session", community, session.pk)).content.decode()
    assert "Telling everyone registered or waiting about the change" in page
    assert "Done: 1 person will hear." in page


def test_attendance_and_walk_ins_are_recorded(client, community, coordinator):
    start = timezone.now() - timedelta(days=1)
    session = make_session(community, days=3)
    came, stayed_away = members_of(community, 2)
    a = services.register(session=session, user=came)
    services.register(session=session, user=stayed_away)
    Session.objects.filter(pk=session.pk).update(
        starts_at=start, ends_at=start + timedelta(hours=2)
    )
    client.force_login(coordinator)
    client.post(
        url("manage_session", community, session.pk),
        {
            "came": [a.pk],
            "walk_in_count": 4,
            "walk_in_perspectives": ["carer", "patient"],
            "attendance_notes": "Two came with interpreters.",
            "completed": "on",
        },
    )
    session.refresh_from_db()
    assert session.status == "completed" and session.walk_in_count == 4
    assert session.walk_in_perspectives == ["carer", "patient"]
    attended = dict(Registration.objects.values_list("user__email", "attended"))
    assert attended == {came.email: True, stayed_away.email: False}
    bad = client.post(url("manage_session", community, session.pk), {"walk_in_count": -1})
    assert "Use 0 or a higher number." in bad.content.decode()


def test_access_requirements_show_to_those_running_the_session(client, community, coordinator):
    session = make_session(community)
    [person] = members_of(community, 1)
    services.register(
        session=session, user=person, access_requirements=["bsl"], access_details="Two BSL users"
    )
    client.force_login(coordinator)
    response = client.get(url("manage_session", community, session.pk))
    page = response.content.decode()
    assert "A British Sign Language interpreter" in page and "Two BSL users" in page
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("count", [3, 30])
def test_running_pages_do_not_grow_with_the_data(
    client, community, coordinator, count, django_assert_num_queries
):
    for i in range(count):
        make_session(community, title=f"S{i}", days=i + 1)
    session = make_session(community, capacity=100)
    for person in members_of(community, count, prefix=f"r{count}-"):
        services.register(session=session, user=person, access_requirements=["dietary"])
    client.force_login(coordinator)
    # session, user, community, may they run sessions, count, page of sessions with counts.
    with django_assert_num_queries(6):
        assert client.get(url("manage_sessions", community)).status_code == 200
    # session, user, community, may they run sessions, the session, its registrations, its
    # key points, the latest notice's fan-out (none here).
    with django_assert_num_queries(8):
        assert client.get(url("manage_session", community, session.pk)).status_code == 200


def test_key_points_are_written_and_removed(client, community, coordinator, member):
    from engagement.models import KeyPoint

    session = make_session(community)
    client.force_login(coordinator)
    client.post(
        url("manage_key_point_add", community, session.pk), {"text": "Letters use too much jargon."}
    )
    empty = client.post(
        url("manage_key_point_add", community, session.pk), {"text": ""}, follow=True
    )
    assert "Write the key point first." in empty.content.decode()
    point = KeyPoint.objects.get()
    assert point.text == "Letters use too much jargon." and point.created_by == coordinator
    page = client.get(url("manage_session", community, session.pk)).content.decode()
    assert "Letters use too much jargon." in page
    client.force_login(member)
    assert (
        client.post(url("manage_key_point_remove", community, session.pk, point.pk)).status_code
        == 403
    )
    client.force_login(coordinator)
    client.post(url("manage_key_point_remove", community, session.pk, point.pk))
    assert not KeyPoint.objects.exists()


def test_a_printable_poster_with_a_qr_code_for_the_session(client, community):
    import segno  # noqa: F401 - the QR code library the poster uses

    session = make_session(community, title="Clinic letters")
    page = client.get(
        reverse("engagement:session_poster", args=[community.slug, session.pk])
    ).content.decode()
    assert "Clinic letters" in page and session.get_absolute_url() in page
    assert 'alt="A QR code' in page
    qr = client.get(reverse("engagement:session_poster_qr", args=[community.slug, session.pk]))
    assert qr["Content-Type"] == "image/svg+xml" and qr.content.startswith(b"<?xml")
    draft = make_session(community, status="draft")
    assert (
        client.get(
            reverse("engagement:session_poster", args=[community.slug, draft.pk])
        ).status_code
        == 404
    )


def test_more_places_move_the_waiting_list_up_in_order(client, community, coordinator, venue):
    session = make_session(community, capacity=1, venue=venue)
    first, second, third, newcomer = members_of(community, 4)
    for person in (first, second, third):
        services.register(session=session, user=person)
    session.capacity = 2
    services.save_session(session=session, changed=["capacity"])
    statuses = dict(Registration.objects.values_list("user__email", "status"))
    assert statuses == {
        first.email: "registered",
        second.email: "registered",
        third.email: "waiting",
    }
    session.capacity = None
    services.save_session(session=session, changed=["capacity"])
    assert Registration.objects.get(user=third).status == "registered"
    assert services.register(session=session, user=newcomer).status == "registered"


def test_nobody_jumps_the_waiting_list(community):
    session = make_session(community, capacity=1)
    first, second, third = members_of(community, 3)
    a = services.register(session=session, user=first)
    services.register(session=session, user=second)
    Registration.objects.filter(pk=a.pk).update(status="cancelled")  # a place is free…
    # …but someone was waiting first, so a newcomer waits too.
    assert services.register(session=session, user=third).status == "waiting"


def test_a_cancelled_session_promotes_nobody_and_offers_no_cancel_button(
    client, community, coordinator
):
    session = make_session(community, capacity=1)
    first, second = members_of(community, 2)
    a = services.register(session=session, user=first)
    services.register(session=session, user=second)
    services.cancel_session(session=session)
    services.cancel_registration(registration=a)
    assert Registration.objects.get(user=second).status == "waiting"
    client.force_login(first)
    page = client.get(session.get_absolute_url()).content.decode()
    assert "Cancel my place" not in page and "cancelled" in page


def test_places_cannot_be_cancelled_and_attendance_recorded_at_the_wrong_time(
    client, community, coordinator
):
    session = make_session(community)
    [person] = members_of(community, 1)
    registration = services.register(session=session, user=person)
    client.force_login(coordinator)
    response = client.post(
        url("manage_session", community, session.pk),
        {"walk_in_count": 0, "completed": "on"},
        follow=True,
    )
    assert "once the session has started" in response.content.decode()
    session.refresh_from_db()
    assert session.status == "published"
    past = timezone.now() - timedelta(hours=1)
    Session.objects.filter(pk=session.pk).update(starts_at=past, ends_at=past + timedelta(hours=2))
    client.force_login(person)
    response = client.post(
        reverse("engagement:session_cancel", args=[community.slug, session.pk]), follow=True
    )
    assert "can no longer be cancelled" in response.content.decode()
    registration.refresh_from_db()
    assert registration.status == "registered"


def test_a_cancelled_session_cannot_be_edited(client, community, coordinator):
    session = make_session(community, status="cancelled")
    client.force_login(coordinator)
    response = client.get(url("manage_session_edit", community, session.pk), follow=True)
    assert "cannot be changed" in response.content.decode()


def test_editing_only_the_title_tells_nobody_in_any_time_zone(
    client, community, coordinator, venue, django_capture_on_commit_callbacks
):
    community.time_zone = "America/New_York"
    community.save()
    session = make_session(community, venue=venue)
    [person] = members_of(community, 1)
    services.register(session=session, user=person)
    mail.outbox.clear()
    client.force_login(coordinator)
    local = session.starts_at.astimezone(session.zone)
    data = form_data(
        venue,
        title="A new title",
        kind=session.kind,
        starts_at=local.strftime("%Y-%m-%dT%H:%M"),
        ends_at=session.ends_at.astimezone(session.zone).strftime("%Y-%m-%dT%H:%M"),
    )
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("manage_session_edit", community, session.pk), data)
    session.refresh_from_db()
    assert session.title == "A new title"
    assert mail.outbox == []


@pytest.mark.parametrize("count", [3, 25])
def test_the_calendar_feed_does_not_grow_with_the_data(
    client, community, count, django_assert_num_queries
):
    for i in range(count):
        make_session(community, title=f"F{i}", days=i + 1)
    # the community, the revision of its sessions and venues, and the first time only the
    # sessions with their venues (the feed is then kept under that revision).
    with django_assert_num_queries(3):
        assert (
            client.get(reverse("engagement:sessions_feed", args=[community.slug])).status_code
            == 200
        )
    with django_assert_num_queries(2):
        assert (
            client.get(reverse("engagement:sessions_feed", args=[community.slug])).status_code
            == 200
        )


def test_times_in_the_hour_the_clocks_skip_are_explained(client, community, coordinator, venue):
    client.force_login(coordinator)
    # In the UK the clocks jump from 01:00 to 02:00 on 28 March 2027.
    response = client.post(
        url("manage_session_new", community),
        form_data(venue, starts_at="2027-03-28T01:30", ends_at="2027-03-28T03:00"),
    )
    assert "That time does not exist here: the clocks go forward then." in response.content.decode()
    assert not Session.objects.exists()


def test_a_community_in_another_zone_plans_in_its_own_time(client, community, coordinator, venue):
    community.time_zone = "America/New_York"
    community.save()
    client.force_login(coordinator)
    client.post(
        url("manage_session_new", community),
        form_data(venue, starts_at="2027-01-15T10:00", ends_at="2027-01-15T11:00"),
    )
    assert Session.objects.get().starts_at.isoformat() == "2027-01-15T15:00:00+00:00"


def test_coordinators_add_and_change_the_places_they_meet(
    client, community, other_community, coordinator, member
):
    client.force_login(coordinator)
    data = {"name": "Sikh Gurdwara", "kind": "faith", "step_free": "on",
            "map_link": "maps.example.org/gurdwara"}  # fmt: skip
    client.post(url("manage_venues", community), data)
    venue = Venue.objects.get(name="Sikh Gurdwara")
    assert venue.community == community and venue.step_free
    assert venue.map_link == "https://maps.example.org/gurdwara"
    bad = client.post(url("manage_venues", community), {"name": "", "kind": "castle"})
    assert "This field is required." in bad.content.decode()
    assert "Select a valid choice" in bad.content.decode()
    theirs = Venue.objects.create(community=other_community, name="Elsewhere", kind="other")
    assert client.get(url("manage_venue", community, theirs.pk)).status_code == 404
    client.force_login(member)
    assert client.get(url("manage_venues", community)).status_code == 403


def test_facilitators_are_chosen_from_coordinators_and_partners(
    client, community, coordinator, partner, member, venue
):
    client.force_login(coordinator)
    form = client.get(url("manage_session_new", community)).context["form"]
    choices = set(form.fields["facilitators"].queryset)
    assert choices == {coordinator, partner}
    client.post(
        url("manage_session_new", community), {**form_data(venue), "facilitators": [partner.pk]}
    )
    assert list(Session.objects.get().facilitators.all()) == [partner]
    bad = client.post(
        url("manage_session_new", community), {**form_data(venue), "facilitators": [member.pk]}
    )
    assert "Select a valid choice" in bad.content.decode()


def test_an_open_online_drop_in_shows_its_link_to_everyone(client, community):
    session = make_session(
        community, registration_required=False, online_link="https://meet.example.org/open"
    )
    assert "meet.example.org/open" in client.get(session.get_absolute_url()).content.decode()


@pytest.mark.parametrize("places", [2, 30])
def test_the_places_page_costs_the_same_however_many_places(
    client, community, coordinator, places, django_assert_num_queries
):
    for i in range(places):
        Venue.objects.create(community=community, name=f"Hall {i}", kind="other")
    client.force_login(coordinator)
    first = Venue.objects.filter(community=community).first()
    # session, user, community, the coordinator's membership; the places (each knows its
    # community without a query of its own).
    with django_assert_num_queries(5):
        page = client.get(reverse("engagement:manage_venues", args=[community.slug]))
    assert page.content.decode().count("Hall ") == places
    # One place to change: found among those read, and read once more for the form to
    # change (the list keeps showing it as stored until it is saved).
    with django_assert_num_queries(6):
        one = client.get(reverse("engagement:manage_venue", args=[community.slug, first.pk]))
    assert one.context["form"].instance.pk == first.pk
    missing = reverse("engagement:manage_venue", args=[community.slug, first.pk + 1000])
    assert client.get(missing).status_code == 404
