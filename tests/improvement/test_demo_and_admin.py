"""The ideas demo loads (twice), and site staff can use the ideas admin."""

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from communities.models import Community
from improvement import loop
from improvement.models import (
    Comment,
    Decision,
    Idea,
    IdeaEvent,
    PrioritisationRound,
    Score,
    Scorer,
    Support,
    Theme,
    Update,
)
from improvement.prioritisation import round_results
from members.models import Notification
from tests.conftest import make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings):
    # pytest-django runs tests with DEBUG off; the demo is for development sites.
    settings.DEBUG = True
    call_command("demo")


def demo_facts():
    return {
        "ideas": Idea.objects.count(),
        "themes": Theme.objects.count(),
        "events": IdeaEvent.objects.count(),
        "supports": Support.objects.count(),
        "comments": Comment.objects.count(),
        "decisions": Decision.objects.count(),
        "rounds": PrioritisationRound.objects.count(),
        "scores": Score.objects.count(),
        "statuses": sorted(Idea.objects.values_list("status", flat=True)),
        "updates": sorted(Update.objects.values_list("title", "status", "published_at")),
        "update_links": Update.ideas.through.objects.count()
        + Update.sessions.through.objects.count(),
    }


def test_demo_has_ideas_from_everywhere_a_round_and_decisions(demo):
    ideas = Idea.objects.filter(community__slug="ibd-together")
    assert ideas.count() >= 25
    assert {"Access", "Communication", "Patient-centred care"} <= set(
        Theme.objects.filter(community__slug="ibd-together").values_list("name", flat=True)
    )
    assert set(ideas.values_list("source", flat=True)) >= {"session", "online", "paper"}
    assert ideas.filter(key_point__isnull=False).count() >= 2
    assert ideas.filter(source="paper").exclude(contact_by="").count() >= 2
    # Every idea's history starts when it was added.
    assert not ideas.exclude(events__kind=IdeaEvent.Kind.CREATED).exists()
    assert Support.objects.filter(idea__in=ideas).exists()
    assert Comment.objects.filter(idea__in=ideas).exists()

    merged = ideas.get(status=Idea.Status.MERGED)
    assert merged.merged_into.status != Idea.Status.MERGED
    assert merged.events.filter(kind=IdeaEvent.Kind.MERGED_INTO).exists()

    round_ = PrioritisationRound.objects.get(community__slug="ibd-together")
    assert round_.status == PrioritisationRound.Status.CLOSED
    assert round_.criteria.count() == 3
    groups = set(round_.scorers.values_list("group", flat=True))
    assert groups == {Scorer.Group.COMMUNITY, Scorer.Group.PROFESSIONAL}
    expected = round_.scorers.count() * round_.ideas.count() * round_.criteria.count()
    assert Score.objects.filter(scorer__round=round_).count() == expected
    assert ideas.filter(events__kind=IdeaEvent.Kind.PRIORITISED).count() == 3

    decisions = Decision.objects.filter(idea__in=ideas)
    assert decisions.count() >= 4
    assert set(decisions.values_list("outcome", flat=True)) == set(Decision.Outcome.values)
    assert not decisions.filter(reason="").exists()
    assert ideas.get(decisions__outcome="not_taken_forward").status == "not_taken_forward"


def test_demo_scores_show_disagreement_and_the_top_ideas_are_prioritised(demo):
    round_ = PrioritisationRound.objects.get(community__slug="ibd-together")
    results = round_results(round_)
    assert all(r.community_scorers and r.professional_scorers for r in results)
    assert any(r.disagree and r.higher_view == "community" for r in results)
    assert any(r.disagree and r.higher_view == "professional" for r in results)
    assert any(not r.disagree for r in results)
    prioritised = {
        idea.pk
        for idea in round_.ideas.all()
        if idea.events.filter(kind=IdeaEvent.Kind.PRIORITISED).exists()
    }
    assert prioritised == {r.idea.pk for r in results[:3]}


def test_demo_runs_again_without_copies(demo):
    before = demo_facts()
    community = Community.objects.get(slug="ibd-together")
    figures = loop.figures(community)
    call_command("demo")
    assert demo_facts() == before
    again = loop.figures(community)
    assert (again.total, again.share, again.median_days) == (
        figures.total,
        figures.share,
        figures.median_days,
    )
    assert [i.pk for i in again.overdue] == [i.pk for i in figures.overdue]


def test_demo_closes_the_loop_on_some_input_and_leaves_some_overdue(demo):
    community = Community.objects.get(slug="ibd-together")
    updates = Update.objects.filter(community=community)
    published = updates.published()
    assert published.count() >= 3
    assert updates.filter(status=Update.Status.DRAFT).count() == 1
    assert not updates.filter(status=Update.Status.DRAFT, published_at__isnull=False).exists()
    # Decided ideas of each kind are answered: adopted, adapted and not taken forward.
    for outcome in ["adopt", "adapt", "not_taken_forward"]:
        assert published.filter(ideas__decisions__outcome=outcome).exists(), outcome
    # And the listening session, which people came to.
    assert published.filter(sessions__title="First listening session").exists()
    # Each idea an update answers has it in its history, dated when it was published.
    for update in published:
        for idea in update.ideas.all():
            assert idea.events.filter(
                kind=IdeaEvent.Kind.UPDATED, at=update.published_at, note=update.title
            ).exists(), (update.title, idea.title)
    assert published.filter(told_count__gt=0).exists()
    # Like the rest of the demo, publishing told nobody: no demo emails, letters or calls.
    assert not Notification.objects.filter(kind="update_published").exists()

    figures = loop.figures(community)
    assert figures.share is not None and 1 <= figures.share <= 99
    assert figures.median_days is not None
    assert 5 <= figures.median_days <= 25
    assert figures.p90_days > community.update_promise_days  # a few were answered late
    assert figures.overdue
    public = loop.figures(community, ideas_only=True)
    assert 1 <= public.share <= 99


def test_every_improvement_admin_page_opens_on_the_demo(demo, client):
    client.force_login(make_person("staff@example.org", is_staff=True))
    for model in apps.get_app_config("improvement").get_models():
        opts = model._meta
        changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        assert client.get(changelist).status_code == 200, changelist
        assert client.get(changelist, {"q": "clinic"}).status_code == 200, changelist
        for obj in model.objects.all()[:3]:
            change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
            assert client.get(change).status_code == 200, change


# --- The ideas admin ---------------------------------------------------------------------------


def paper_idea(community, **fields):
    return Idea.objects.create(
        community=community,
        title="Letters in large print",
        description="I cannot read the small print.",
        source=Idea.Source.PAPER,
        on_behalf_of="Mrs K.",
        contact_by="post",
        contact_details="14 Example Road, Sheffield",
        **fields,
    )


def test_idea_change_page_shows_contact_details_but_the_list_does_not(client, staff, community):
    idea = paper_idea(community)
    client.force_login(staff)
    page = client.get(reverse("admin:improvement_idea_change", args=[idea.pk]))
    assert page.status_code == 200
    assert "14 Example Road" in page.text
    listing = client.get(reverse("admin:improvement_idea_changelist"))
    assert "Letters in large print" in listing.text
    assert "14 Example Road" not in listing.text
    assert "Mrs K." not in listing.text
    found = client.get(reverse("admin:improvement_idea_changelist"), {"q": "Example Road"})
    assert "Letters in large print" in found.text


def test_idea_status_cannot_be_changed_in_the_admin(client, staff, community):
    idea = paper_idea(community)
    client.force_login(staff)
    url = reverse("admin:improvement_idea_change", args=[idea.pk])
    page = client.get(url)
    assert 'name="status"' not in page.text
    assert 'name="merged_into"' not in page.text
    assert 'name="decided_at"' not in page.text
    form = page.context["adminform"].form
    data = {
        **{name: form[name].value() or "" for name in form.fields},
        "status": Idea.Status.DONE,
        "themes": [],
        "title": "Letters in large print, please",
        "decisions-TOTAL_FORMS": "0",
        "decisions-INITIAL_FORMS": "0",
        "events-TOTAL_FORMS": "0",
        "events-INITIAL_FORMS": "0",
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    idea.refresh_from_db()
    assert idea.title == "Letters in large print, please"
    assert idea.status == Idea.Status.NEW
    # Ideas are added on the community's pages, where their history starts.
    assert client.get(reverse("admin:improvement_idea_add")).status_code == 403


def fill(community, n):
    theme = Theme.objects.get_or_create(community=community, name="Access")[0]
    for i in range(n):
        author = make_person(f"author{n}-{i}@example.org", name=f"Author {i}")
        idea = Idea.objects.create(
            community=community,
            title=f"Idea {n}-{i}",
            description="Something we could do.",
            author=author,
        )
        idea.themes.add(theme)
        Support.objects.create(idea=idea, user=author)
        Comment.objects.create(idea=idea, author=author, text="Yes please.")
        paper_idea(community)


def count(client, path):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(queries)


def test_ideas_changelist_does_not_grow_with_the_ideas(client, staff, community):
    client.force_login(staff)
    path = reverse("admin:improvement_idea_changelist")
    fill(community, 3)
    few = count(client, path)
    fill(community, 27)
    assert count(client, path) == few
