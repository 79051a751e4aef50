"""The ideas demo loads (twice), with its improvement projects, and site staff can use the
ideas admin."""

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from communities.models import Community, Membership, MembershipPerspective
from improvement import charts, loop, spc
from improvement.models import (
    Comment,
    Cycle,
    DataPoint,
    Decision,
    Idea,
    IdeaEvent,
    Measure,
    PrioritisationRound,
    Project,
    Score,
    Scorer,
    Support,
    TeamMember,
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
        "projects": sorted(
            Project.objects.values_list(
                "title", "status", "starts_on", "ends_on", "result_published_at"
            )
        ),
        "project_ideas": Project.ideas.through.objects.count(),
        "project_updates": Update.objects.filter(project__isnull=False).count(),
        "team": TeamMember.objects.count(),
        "cycles": Cycle.objects.count(),
        "measures": Measure.objects.count(),
        "points": sorted(DataPoint.objects.values_list("measure__name", "when", "value")),
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


def points_of(measure):
    return [spc.Point(p.when, p.value) for p in measure.points.all()]


def test_demo_project_shows_a_shift_after_the_change_its_cycles_tested(demo, client):
    community = Community.objects.get(slug="ibd-together")
    project = Project.objects.current().get(community=community)
    # Planned, then started testing changes a few months back, with an aim: what, how
    # much, by when.
    assert project.created_at.date() < project.starts_on
    assert (timezone.localdate() - project.starts_on).days >= 60
    assert project.aim_what and "90%" in project.aim_how_much
    assert project.aim_by_when > project.starts_on
    assert project.ideas.filter(title="Write clinic letters in plain English").exists()

    # Led by a patient, with a clinician and a coordinator on the team.
    team = {m.user_id: m.role for m in project.team.all()}
    memberships = Membership.objects.filter(community=community, user__in=team)
    perspectives = MembershipPerspective.objects.filter(membership__in=memberships)
    lead = project.team.get(role=TeamMember.Role.LEAD).user
    assert perspectives.filter(membership__user=lead, perspective="patient").exists()
    assert perspectives.filter(perspective="clinician").exists()
    assert memberships.filter(role=Membership.Role.COORDINATOR).exists()

    # A driver diagram of two or three primary drivers, each with secondary drivers and
    # change ideas.
    roots = charts.parse_drivers(project.driver_diagram)
    assert 2 <= len(roots) <= 3
    assert all(root.children and all(s.children for s in root.children) for root in roots)

    outcome = project.measures.get(kind=Measure.Kind.OUTCOME)
    process = project.measures.get(kind=Measure.Kind.PROCESS)
    balancing = project.measures.get(kind=Measure.Kind.BALANCING)
    points = points_of(outcome)
    assert len(points) >= 24
    assert outcome.target is not None and outcome.higher_is_better
    assert outcome.chart == Measure.Chart.RUN and outcome.baseline_until
    # Weekly points.
    assert {(b.when - a.when).days for a, b in zip(points, points[1:], strict=False)} == {7}

    # Two cycles inside the data: the second adopts what the first adapted.
    first, second = project.cycles.all()
    assert (first.act, second.act) == (Cycle.Act.ADAPT, Cycle.Act.ADOPT)
    for cycle in (first, second):
        assert all([cycle.prediction, cycle.measuring, cycle.do, cycle.study, cycle.act_notes])
        assert points[0].when < cycle.starts_on <= cycle.ends_on <= points[-1].when
    assert outcome.baseline_until < first.starts_on

    # The run chart finds a shift above the baseline median, after the change.
    chart = spc.run_chart(points, baseline_until=outcome.baseline_until)
    assert chart.baseline_size >= 10
    shifts = [s for s in chart.signals if s.rule == "shift"]
    assert shifts and all(s.direction == "up" for s in shifts)
    assert all(points[i].when >= first.starts_on for s in shifts for i in s.indexes)
    assert all(points[i].value > chart.centre for s in shifts for i in s.indexes)
    assert not [s for s in chart.signals if s.indexes and max(s.indexes) < chart.baseline_size]

    # The process measure on an XmR chart, with new limits from the change; the balancing
    # measure with a few points.
    assert process.chart == Measure.Chart.XMR and not process.higher_is_better
    xmr = spc.xmr_chart(
        points_of(process),
        rebase_from=[process.rebase_from],
        higher_is_better=False,
        target=process.target,
    )
    assert len(xmr.segments) == 2 and xmr.segments[1].mean < xmr.segments[0].mean
    assert first.starts_on <= process.rebase_from <= points[-1].when
    assert 3 <= balancing.points.count() < 12

    page = client.get(project.get_absolute_url())
    assert page.status_code == 200
    assert "A shift: 14 points in a row above the median" in page.text
    listing = client.get(reverse("improvement:projects", args=[community.slug]))
    assert listing.status_code == 200
    assert project.title in listing.text


def test_demo_finished_project_tells_its_result_once_and_nobody_by_email(demo, client):
    community = Community.objects.get(slug="ibd-together")
    project = Project.objects.get(community=community, status=Project.Status.COMPLETED)
    assert project.result and project.result_published_at
    assert project.starts_on <= project.ends_on
    assert {i.status for i in project.ideas.all()} == {Idea.Status.DONE}
    update = project.updates.get()
    assert update.status == Update.Status.PUBLISHED
    assert update.published_at == project.result_published_at
    assert set(update.ideas.all()) == set(project.ideas.all())
    assert project.cycles.count() >= 1 and project.measures.exists()
    assert not Notification.objects.exists()
    page = client.get(project.get_absolute_url())
    assert page.status_code == 200
    assert update.title in page.text


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
