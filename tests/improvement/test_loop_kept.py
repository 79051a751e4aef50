"""The loop's figures are kept (computed once per revision of what they count, and per hour)
and never shown stale: every kind of change that moves them shows on the next view of the
dashboard and the community page, and changes they do not count leave them kept."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from engagement import services as engagement
from engagement.models import Registration
from improvement import loop, services
from improvement.models import Update
from members import revisions
from tests.conftest import make_person
from tests.engagement.test_sessions import make_session
from tests.improvement.factories import join, make_idea, past_session, survey_answer

pytestmark = pytest.mark.django_db


def dashboard_figures(client, community):
    response = client.get(reverse("communities:manage_dashboard", args=[community.slug]))
    assert response.status_code == 200
    [panel] = [p for template, p in response.context["panels"] if "loop" in template]
    return panel["figures"], response.content.decode()


def public_figures(client, community):
    response = client.get(community.get_absolute_url())
    assert response.status_code == 200
    [panel] = [p for template, p in response.context["panels"] if "loop" in template]
    return panel["figures"]


def revision(kind, community):
    (number,) = revisions.read(revisions.key(kind, community.pk))
    return number


def test_a_new_idea_shows_at_once(client, community, coordinator, member):
    make_idea(community, title="First")
    client.force_login(coordinator)
    before, _html = dashboard_figures(client, community)
    services.add_idea(community=community, by=member, title="Second", description="More.")
    after, _html = dashboard_figures(client, community)
    assert (before.total, after.total) == (1, 2)


def test_publishing_an_update_answers_at_once_on_both_pages(client, community, coordinator, member):
    idea = make_idea(community, title="Letters", created_at=timezone.now() - timedelta(days=40))
    client.force_login(coordinator)
    before, html = dashboard_figures(client, community)
    assert (before.answered_count, before.overdue_count) == (0, 1)
    assert "Letters" in html  # listed as waiting longest
    public_before = public_figures(client, community)
    update = Update.objects.create(
        community=community,
        title="We changed the letters",
        what_we_heard="Late letters.",
        what_we_did="Sent earlier.",
    )
    update.ideas.add(idea)
    services.publish_update(update=update, by=coordinator)  # a QuerySet update: no signal
    after, html = dashboard_figures(client, community)
    assert (after.answered_count, after.overdue_count) == (1, 0)
    assert "Waiting longest" not in html
    assert (public_before.answered_count, public_figures(client, community).answered_count) == (
        0,
        1,
    )


def test_recording_attendance_makes_a_session_an_input(client, community, coordinator, member):
    session = past_session(community, status="published")
    registration = Registration.objects.create(
        session=session, user=member, status=Registration.Status.REGISTERED
    )
    client.force_login(coordinator)
    before, _html = dashboard_figures(client, community)
    engagement.record_attendance(
        session=session,
        came=[registration.pk],
        walk_in_count=0,
        walk_in_perspectives=[],
        attendance_notes="",
        completed=True,
    )
    after, _html = dashboard_figures(client, community)
    assert (before.total, after.total) == (0, 1)


def test_a_first_survey_answer_makes_a_survey_an_input(client, community, coordinator):
    client.force_login(coordinator)
    before, _html = dashboard_figures(client, community)
    survey_answer(community)  # a survey with no closing date counts from its first answer
    after, _html = dashboard_figures(client, community)
    assert (before.total, after.total) == (0, 1)


def test_the_promise_is_part_of_the_key(client, community, coordinator):
    make_idea(community, created_at=timezone.now() - timedelta(days=20))
    community.update_promise_days = 30
    community.save()
    client.force_login(coordinator)
    assert dashboard_figures(client, community)[0].overdue_count == 0
    community.update_promise_days = 14
    community.save()
    assert dashboard_figures(client, community)[0].overdue_count == 1


def test_time_moves_inputs_past_the_promise_within_an_hour(
    client, community, coordinator, monkeypatch
):
    now = timezone.now()
    promise = timedelta(days=community.update_promise_days)
    make_idea(community, created_at=now - promise + timedelta(minutes=30))
    client.force_login(coordinator)
    assert dashboard_figures(client, community)[0].overdue_count == 0
    # Nothing changed but the clock: the next hour's figures count it overdue.
    monkeypatch.setattr(loop.timezone, "now", lambda: now + timedelta(hours=1))
    assert dashboard_figures(client, community)[0].overdue_count == 1


def test_sign_ups_leave_the_public_figures_kept(client, community, coordinator):
    """Registering for a session changes the dashboard's revision (attendance lives there)
    but not the ideas-only figures of the public page, which many more people see."""
    session = make_session(community, days=3)
    person = make_person("newcomer@example.org")
    join(community, person)
    ideas_before = revision(loop.IDEAS_REVISION, community)
    loop_before = revision(loop.LOOP_REVISION, community)
    engagement.register(session=session, user=person)
    assert revision(loop.IDEAS_REVISION, community) == ideas_before
    assert revision(loop.LOOP_REVISION, community) > loop_before


def test_a_kept_dashboard_panel_is_drawn_for_its_own_community(
    client, community, other_community, coordinator, other_coordinator
):
    """Two communities with the same revision number and promise never share figures or
    their drawn panel."""
    make_idea(community, title="Only here", created_at=timezone.now() - timedelta(days=90))
    client.force_login(coordinator)
    _figures, html = dashboard_figures(client, community)
    assert "Only here" in html
    client.force_login(other_coordinator)
    figures, html = dashboard_figures(client, other_community)
    assert figures.total == 0
    assert "Only here" not in html
