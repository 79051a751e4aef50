"""A project's page keeps its cycles, ideas, team and updates per revision of its charts, of
the community's record and of people's names: after the page has been seen once, each kind
of change to them is on the next page."""

from datetime import date

import pytest

from improvement import services
from improvement.models import Cycle, Update
from tests.improvement.factories import adopted_idea, letters_project, new_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def idea(community, member, coordinator):
    return adopted_idea(community, by=member, decided_by=coordinator)


@pytest.fixture
def project(community, coordinator, idea):
    return letters_project(community, by=coordinator, ideas=[idea])


@pytest.fixture
def page(client, coordinator):
    client.force_login(coordinator)

    def shown(project) -> str:
        response = client.get(project.get_absolute_url())
        assert response.status_code == 200
        return response.content.decode()

    return shown


def test_its_team_joins_and_is_renamed(page, project, community):
    assert "Priya" not in page(project)
    priya = new_member(community, "priya@example.org", name="Priya")
    services.set_team_member(project=project, user=priya, role="member")
    assert "Priya" in page(project)
    priya.name = "Priya Shah"
    priya.save()
    assert "Priya Shah" in page(project)
    services.set_team_member(project=project, user=priya, role=None)
    assert "Priya Shah" not in page(project)


def test_its_ideas_are_renamed_and_unlinked(page, project, idea):
    assert "Letters sooner" in page(project)
    idea.title = "Letters a week sooner"
    idea.save()
    assert "Letters a week sooner" in page(project)
    project.ideas.remove(idea)
    assert "Letters a week sooner" not in page(project)


def test_its_cycles_and_updates(page, project, community, coordinator, idea):
    assert "Print on booking" not in page(project)
    Cycle.objects.create(
        project=project,
        change="Print on booking",
        prediction="p",
        measuring="m",
        starts_on=date(2026, 2, 2),
    )
    assert "Print on booking" in page(project)
    update = Update.objects.create(
        community=community,
        project=project,
        title="Letters now go out on booking",
        what_we_heard="h",
        what_we_did="d",
    )
    update.ideas.add(idea)
    assert "Letters now go out on booking" not in page(project)  # a draft
    services.publish_update(update=update, by=coordinator)
    assert "Letters now go out on booking" in page(project)
