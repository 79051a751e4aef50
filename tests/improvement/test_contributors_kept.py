"""The project page's count of contributors is kept (counted once per revision of the
community's contributions and of who has left) and never shown stale: every kind of input
that makes someone a contributor shows on the next view, and so does someone leaving."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from engagement import services as engagement
from engagement.models import Registration
from improvement import loop, services
from improvement.models import Idea
from members import revisions
from members.models import User
from members.services import erase_person
from tests.conftest import make_person
from tests.improvement.factories import (
    adopted_idea,
    join,
    letters_project,
    make_idea,
    past_session,
    survey_answer,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def idea(community, member, coordinator):
    return adopted_idea(community, by=member, decided_by=coordinator)


@pytest.fixture
def project(community, coordinator, idea):
    return letters_project(community, by=coordinator, ideas=[idea])


def shown(client, project) -> int:
    response = client.get(project.get_absolute_url())
    assert response.status_code == 200
    return response.context["contributor_count"]


@pytest.fixture
def seen(client, coordinator, project):
    """The count on the page, viewed as the coordinator, once already to keep it."""
    client.force_login(coordinator)
    assert shown(client, project) == 1  # the idea's author
    return lambda: shown(client, project)


def test_a_supporter_and_a_commenter_count_at_once(community, idea, seen):
    supporter = join(community, make_person("sam@example.org"))
    services.support_idea(idea=idea, user=supporter)
    assert seen() == 2
    commenter = join(community, make_person("cai@example.org"))
    services.add_comment(idea=idea, user=commenter, text="Yes, and by text too.")
    assert seen() == 3


def test_coming_to_the_session_an_idea_came_from_counts_when_recorded(community, idea, seen):
    session = past_session(community, status="published")
    Idea.objects.filter(pk=idea.pk).update(session=session)  # made there; no signal…
    loop.changed(community)  # …so the writer raises the revisions itself
    visitor = join(community, make_person("val@example.org"))
    registration = Registration.objects.create(
        session=session, user=visitor, status=Registration.Status.REGISTERED
    )
    assert seen() == 1  # signed up, not yet come
    engagement.record_attendance(
        session=session,
        came=[registration.pk],
        walk_in_count=0,
        walk_in_perspectives=[],
        attendance_notes="",
        completed=True,
    )
    assert seen() == 2


def test_a_survey_answer_an_idea_was_made_from_counts(community, idea, seen):
    answer = survey_answer(community, user=join(community, make_person("ash@example.org")))
    idea.survey_response = answer.response
    idea.save()
    assert seen() == 2


def test_an_idea_taken_up_by_the_project_brings_its_contributors(
    community, coordinator, project, seen
):
    other = make_idea(community, author=join(community, make_person("oli@example.org")))
    project.ideas.add(other)
    assert seen() == 2
    project.ideas.remove(other)
    assert seen() == 1


def test_someone_erased_or_deactivated_is_no_longer_counted(community, member, idea, seen):
    supporter = join(community, make_person("sam@example.org"))
    services.support_idea(idea=idea, user=supporter)
    assert seen() == 2
    erase_person(user=supporter)
    assert seen() == 1
    # Deactivated in the admin: a save of the whole person.
    member.is_active = False
    member.save()
    assert seen() == 0


def test_a_view_with_nothing_changed_counts_nobody_again(client, project, seen):
    with CaptureQueriesContext(connection) as queries:
        assert seen() == 1
    assert not [q for q in queries if "improvement_support" in q["sql"]]


def test_signing_in_or_editing_a_profile_leaves_the_people_revision(client, member):
    (before,) = revisions.read(revisions.PEOPLE)
    client.force_login(member)  # writes last_login only
    person = User.objects.get(pk=member.pk)
    person.pronouns = "they/them"
    person.save()
    assert revisions.read(revisions.PEOPLE) == (before,)
    # A new name is shown wherever people are named: it raises the revision, once.
    person.name = "Another name"
    person.save()
    assert revisions.read(revisions.PEOPLE) == (before + 1,)
    person.is_active = False
    person.save()
    assert revisions.read(revisions.PEOPLE) == (before + 2,)
