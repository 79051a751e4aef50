"""An idea's page keeps the community's record about the idea (themes, decisions, updates,
projects, merged ideas, history) per revision of that record. After the page has been seen
once, every kind of change to the record, made through the services or straight on the
rows as the admin does, is on the next page."""

from datetime import date

import pytest

from improvement import services
from improvement.models import Idea, Theme, Update
from tests.improvement.factories import make_idea

pytestmark = pytest.mark.django_db


@pytest.fixture
def idea(community, member):
    return services.add_idea(
        community=community, by=member, title="Evening clinics", description="After work."
    )


@pytest.fixture
def page(client, coordinator):
    client.force_login(coordinator)  # a coordinator sees who decided

    def shown(idea) -> str:
        response = client.get(idea.get_absolute_url())
        assert response.status_code == 200
        return response.content.decode()

    return shown


def test_decisions_and_the_name_of_who_decided(page, idea, coordinator):
    assert "Decided by" not in page(idea)
    services.decide(idea=idea, outcome="adopt", reason="Most asked for it.", by=coordinator)
    text = page(idea)
    assert "Most asked for it." in text
    assert f"Decided by {coordinator.public_name}" in text
    coordinator.name = "Ngozi Adeyemi"
    coordinator.save()
    assert "Decided by Ngozi Adeyemi" in page(idea)


def test_themes_added_renamed_and_taken_away(page, idea, community):
    assert "Bus routes" not in page(idea)
    theme = Theme.objects.create(community=community, name="Bus routes")
    idea.themes.add(theme)
    assert "Bus routes" in page(idea)
    theme.name = "Getting there"
    theme.save()
    text = page(idea)
    assert "Getting there" in text and "Bus routes" not in text
    theme.ideas.remove(idea)  # from the theme's side
    assert "Getting there" not in page(idea)


def test_updates_published_changed_and_unlinked(page, idea, community, coordinator):
    update = Update.objects.create(
        community=community, title="Evening clinic trial", what_we_heard="h", what_we_did="d"
    )
    update.ideas.add(idea)
    assert "Evening clinic trial" not in page(idea)  # a draft is not shown
    services.publish_update(update=update, by=coordinator)
    assert "Evening clinic trial" in page(idea)
    update.title = "Evening clinics: the trial"
    update.save()
    assert "Evening clinics: the trial" in page(idea)
    update.ideas.remove(idea)
    assert "Evening clinics: the trial" not in page(idea)


def test_projects_that_take_it_up(page, idea, community, coordinator):
    services.decide(idea=idea, outcome="adopt", reason="Worth trying.", by=coordinator)
    idea.refresh_from_db()  # now prioritised, so a project may take it up
    assert "Improvement work on this idea" not in page(idea)
    project = services.create_project(
        community=community,
        by=coordinator,
        ideas=[idea],
        title="Open till eight",
        aim_what="Clinics open later",
        aim_how_much="two evenings a week",
        aim_by_when=date(2027, 3, 31),
    )
    assert list(project.ideas.all()) == [idea]
    assert "Open till eight" in page(idea)
    project.title = "Open till nine"
    project.save()
    text = page(idea)
    assert "Open till nine" in text and "Open till eight" not in text


def test_ideas_merged_into_it_with_their_decisions(page, idea, community, coordinator):
    other = make_idea(community, title="Late GP hours")
    services.decide(idea=other, outcome="not_now", reason="Waiting on funding.", by=coordinator)
    assert "Late GP hours" not in page(idea)
    services.merge_ideas(source=other, target=idea, by=coordinator, note="The same ask.")
    text = page(idea)
    assert "Ideas merged into this one" in text
    assert "Late GP hours" in text
    assert "Waiting on funding." in text
    assert "The same ask." in text  # in the history
    Idea.objects.get(pk=other.pk).save()  # an edit in the admin, say: nothing new, still right
    assert "Late GP hours" in page(idea)


def test_the_discussion_follows_new_changed_hidden_and_moved_comments(
    page, idea, community, member, coordinator
):
    comment = services.add_comment(idea=idea, user=member, text="Mornings are hard for me.")
    assert "Mornings are hard for me." in page(idea)
    services.edit_comment(comment=comment, user=member, text="Mornings are hard for carers.")
    assert "Mornings are hard for carers." in page(idea)
    member.name = "Michael Okafor"
    member.save()
    assert "Michael Okafor" in page(idea)
    services.hide_comment(comment=comment, by=coordinator, reason="Names a patient.")
    text = page(idea)
    assert "A coordinator hid this comment: Names a patient." in text
    # A comment on another idea moves here when that idea is merged into this one.
    other = make_idea(community, title="Late GP hours")
    services.add_comment(idea=other, user=member, text="Evenings suit me better.")
    assert "Evenings suit me better." not in page(idea)
    services.merge_ideas(source=other, target=idea, by=coordinator, note="The same ask.")
    assert "Evenings suit me better." in page(idea)


def test_a_second_page_of_comments_appears_when_the_first_is_full(page, client, idea, member):
    from improvement.models import Comment
    from improvement.views import COMMENTS_PER_PAGE

    for number in range(COMMENTS_PER_PAGE):  # saved one by one, as the admin would
        Comment.objects.create(idea=idea, author=member, text=f"Comment number {number}.")
    assert "Later comments" not in page(idea)
    Comment.objects.create(idea=idea, author=member, text="One more than a page.")
    assert "Later comments" in page(idea)
    second = client.get(idea.get_absolute_url(), {"comments": 2}).content.decode()
    assert "One more than a page." in second
    assert "Comment number 0." not in second
