"""The ideas demo loads (twice), and site staff can use the ideas admin."""

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

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
)
from improvement.prioritisation import round_results
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
    call_command("demo")
    assert demo_facts() == before


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
