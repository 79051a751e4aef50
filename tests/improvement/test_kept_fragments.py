"""Parts of pages kept rendered under the values they show: once a page has been drawn and
kept, a change to anything it shows is on the next view, and what one person may see never
reaches another."""

from datetime import timedelta

import pytest
from django.template.defaultfilters import date
from django.urls import reverse
from django.utils import timezone

from communities.models import Community
from improvement.models import Cycle, Idea, Support, Update
from tests.conftest import make_person
from tests.improvement.factories import make_idea

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


def publish(community, title, *, ideas=(), when=None):
    update = Update.objects.create(
        community=community,
        title=title,
        what_we_heard="h",
        what_we_did="We changed the booking system.",
        status=Update.Status.PUBLISHED,
        published_at=when or timezone.now(),
    )
    update.ideas.set(ideas)
    return update


# --- What happened to my input ---------------------------------------------------------------


def test_my_input_shows_each_change_since_it_was_last_drawn(client, community, member):
    idea = make_idea(community, author=member, title="Earlier letters")
    client.force_login(member)

    def page():
        return client.get(reverse("improvement:my_input")).content.decode()

    assert "Earlier letters" in page()
    Idea.objects.filter(pk=idea.pk).update(status=Idea.Status.CONSIDERING)
    assert "Now: Under consideration" in page()
    Idea.objects.filter(pk=idea.pk).update(title="Letters a week sooner")
    assert "Earlier letters" not in page() and "Letters a week sooner" in page()
    Community.objects.filter(pk=community.pk).update(name="Renamed community")
    assert "Renamed community" in page()
    assert "No update yet." in page()
    update = publish(community, "We print them on booking", ideas=[idea])
    assert "We print them on booking" in page() and "No update yet." not in page()
    Update.objects.filter(pk=update.pk).update(title="Printed on booking")
    assert "Printed on booking" in page()


def test_my_input_shows_a_merge_made_after_it_was_drawn(client, community, coordinator, member):
    from improvement import services

    mine = make_idea(community, author=member, title="My duplicate")
    kept = make_idea(community, title="Kept idea")
    publish(community, "On the kept idea", ideas=[kept], when=timezone.now() - DAY)
    client.force_login(member)
    assert "On the kept idea" not in client.get(reverse("improvement:my_input")).content.decode()

    services.merge_ideas(source=mine, target=kept, by=coordinator, note="The same")
    page = client.get(reverse("improvement:my_input")).content.decode()
    assert "Merged into “Kept idea”: New" in page
    assert kept.get_absolute_url() in page and "On the kept idea" in page


def test_two_people_see_their_own_input_about_the_same_idea(client, community, member):
    other = make_person("other@example.org", name="Other")
    idea = make_idea(community, author=other, title="Earlier letters")
    Support.objects.create(idea=idea, user=member)
    client.force_login(member)
    assert "You supported" in client.get(reverse("improvement:my_input")).content.decode()
    client.force_login(other)
    page = client.get(reverse("improvement:my_input")).content.decode()
    assert "Your idea" in page and "You supported" not in page


# --- The board -----------------------------------------------------------------------------


def test_the_board_shows_each_change_since_it_was_last_drawn(client, community):
    from improvement.models import Theme

    url = reverse("improvement:updates", args=[community.slug])
    idea = make_idea(community, title="Earlier letters")
    update = publish(community, "Letters come sooner", ideas=[idea])
    access = Theme.objects.create(community=community, name="Access")

    def page(**query):
        return client.get(url, query).content.decode()

    first = page()
    assert "Earlier letters" in first and "Letters come sooner" in first
    assert f'<option value="{access.pk}">Access</option>' in first
    Idea.objects.filter(pk=idea.pk).update(title="Letters a week sooner")
    assert "Letters a week sooner" in page()
    Update.objects.filter(pk=update.pk).update(what_we_did="We print them on booking.")
    assert "We print them on booking." in page()
    Update.objects.filter(pk=update.pk).update(title="Printed on booking")
    assert "Printed on booking" in page()
    long_ago = timezone.now() - 400 * DAY
    Update.objects.filter(pk=update.pk).update(published_at=long_ago)
    assert date(timezone.localtime(long_ago), "j F Y") in page()
    # The filter form: a theme renamed or added is a choice; what was asked stays chosen.
    Theme.objects.filter(pk=access.pk).update(name="Getting there")
    letters = Theme.objects.create(community=community, name="Letters")
    form = page()
    assert "Getting there" in form and "Letters</option>" in form
    chosen = page(theme=letters.pk)
    assert f'<option value="{letters.pk}" selected>Letters</option>' in chosen
    # A theme that is no choice here is an error next to the field, and only for that ask.
    assert "Select a valid choice" in page(theme=999999)
    assert "Select a valid choice" not in page(theme=letters.pk)


def test_the_board_lists_an_update_published_since_it_was_last_drawn(client, community):
    url = reverse("improvement:updates", args=[community.slug])
    publish(community, "Letters come sooner", when=timezone.now() - DAY)
    assert "1 update" in client.get(url).content.decode()
    publish(community, "Parking is free on Tuesdays")
    page = client.get(url).content.decode()
    assert "2 updates" in page and "Parking is free on Tuesdays" in page


# --- The project page --------------------------------------------------------------------------


@pytest.fixture
def project(community, coordinator, member):
    from datetime import date

    from improvement import services

    idea = services.add_idea(
        community=community, by=member, title="Letters sooner", description="Please."
    )
    services.decide(idea=idea, outcome="adopt", reason="Yes.", by=coordinator)
    idea.refresh_from_db()
    project = services.create_project(
        community=community,
        by=coordinator,
        ideas=[idea],
        title="Letters on time",
        aim_what="Letters arrive before the appointment",
        aim_how_much="from 40% to 90%",
        aim_by_when=date(2027, 3, 31),
        driver_diagram="Booking\n  Print on booking",
    )
    Cycle.objects.create(
        project=project,
        change="Print on booking",
        prediction="Sooner.",
        measuring="Days",
        starts_on=date(2026, 2, 2),
    )
    return project


def test_the_project_page_shows_each_change_since_it_was_last_drawn(
    client, community, coordinator, member, project
):
    from improvement.models import Project, TeamMember

    client.force_login(coordinator)
    url = project.get_absolute_url()

    def page():
        return client.get(url).content.decode()

    first = page()
    assert "Print on booking" in first and "Letters sooner" in first
    assert "1 person gave, supported or discussed these ideas" in first
    # Written as the services and the admin write them (saved, so the revisions the page
    # keeps its parts under are raised); the project's own fields are read every time.
    cycle = project.cycles.get()
    cycle.study = "Letters came two days sooner."
    cycle.save()
    assert "Letters came two days sooner." in page()
    idea = project.ideas.get()
    idea.title = "Letters a week sooner"
    idea.save()
    assert "Letters a week sooner" in page()
    idea.set_status(Idea.Status.IN_PROGRESS, by=coordinator)
    assert "(In progress)" in page()
    Support.objects.create(idea=idea, user=make_person("fan@example.org"))
    assert "2 people gave, supported or discussed these ideas" in page()
    Project.objects.filter(pk=project.pk).update(aim_what="Every letter arrives in time")
    text = page()
    assert "Letters arrive before the appointment" not in text
    assert text.count("Every letter arrives in time") >= 2  # the aim, and in the diagram
    Project.objects.filter(pk=project.pk).update(driver_diagram="Staff time")
    assert "Primary driver: Staff time" in page()
    TeamMember.objects.create(project=project, user=member, role=TeamMember.Role.MEMBER)
    assert f"{member.public_name} (Team member)" in page()
    Project.objects.filter(pk=project.pk).update(status=Project.Status.TESTING)
    text = page()
    assert "Testing changes" in text and '<option value="sustaining">' in text


def test_a_coordinators_controls_never_reach_a_member_or_a_visitor(
    client, coordinator, member, project
):
    url = project.get_absolute_url()
    controls = ["Log a PDSA cycle", "Change the status", "Change the aim, ideas or drivers",
                reverse("improvement:project_cycle", args=[project.community.slug, project.pk,
                                                project.cycles.get().pk])]  # fmt: skip
    client.force_login(coordinator)
    text = client.get(url).content.decode()
    assert all(control in text for control in controls)
    client.force_login(member)
    text = client.get(url).content.decode()
    assert "Print on booking" in text
    assert not any(control in text for control in controls)
    client.logout()
    text = client.get(url).content.decode()
    assert "Print on booking" in text
    assert not any(control in text for control in controls)
