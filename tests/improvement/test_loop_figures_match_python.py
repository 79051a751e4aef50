"""The loop figures counted in the database equal the same figures worked out in Python, one
row at a time, over a randomly built (but seeded, so repeatable) community with merges,
decisions before and after updates, sessions with and without anyone there, and surveys
open, closed and unanswered. The Python below is the reference: plain loops over every row,
written to the rules in improvement/loop.py's docstring, kept here and nowhere else."""

import random
import statistics
from datetime import UTC, datetime, timedelta
from math import ceil

import pytest

from engagement.models import Registration, Response, Session, Survey
from improvement import loop
from improvement.models import Idea, Update
from tests.conftest import make_person

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 4, 9, 30, tzinfo=UTC)
DAY = timedelta(days=1)


# --- The reference: every row into Python ---------------------------------------------------


def published_links(community):
    links = {}
    for name, through in (
        ("idea", Update.ideas.through),
        ("session", Update.sessions.through),
        ("survey", Update.surveys.through),
    ):
        rows = through.objects.filter(
            update__community=community, update__status=Update.Status.PUBLISHED
        ).values_list(f"{name}_id", "update__published_at")
        links[name] = list(rows)
    return links


def reference_ideas(community, links):
    """(kind, pk, given, answered) for every idea, and the ideas decided but not yet told."""
    ideas = list(
        Idea.objects.filter(community=community).values_list(
            "pk", "status", "merged_into_id", "created_at", "decided_at"
        )
    )
    joined = {pk: into for pk, _s, into, _c, _d in ideas if into is not None}
    published_on = {}
    for pk, at in links:
        # An update on an idea that was later merged counts for the idea it joined.
        published_on.setdefault(joined.get(pk, pk), []).append(at)
    inputs, untold = [], 0
    for pk, status, _into, created, decided in ideas:
        if status == Idea.Status.MERGED:
            continue
        after = [at for at in published_on.get(pk, []) if decided is None or at >= decided]
        inputs.append(("idea", pk, created, min(after) if after else None))
        if decided is not None and not after:
            untold += 1
    return inputs, untold


def first_published(links):
    found = {}
    for pk, at in links:
        found[pk] = min(at, found.get(pk, at))
    return found


def reference_sessions_and_surveys(community, now, links):
    inputs = []
    first_on_session = first_published(links["session"])
    first_on_survey = first_published(links["survey"])
    for session in Session.objects.filter(community=community):
        came = any(r.attended is True for r in session.registrations.all())
        held = session.ends_at <= now and session.status not in ("draft", "cancelled")
        if held and (came or session.walk_in_count > 0):
            inputs.append(
                ("session", session.pk, session.ends_at, first_on_session.get(session.pk))
            )
    for survey in Survey.objects.filter(community=community):
        answers = sorted(r.created_at for r in survey.responses.all())
        closed = survey.closes_at is None or survey.closes_at <= now
        if survey.published and closed and answers:
            given = survey.closes_at or answers[0]
            inputs.append(("survey", survey.pk, given, first_on_survey.get(survey.pk)))
    return inputs


def reference(community, now, *, ideas_only=False):
    """(kind, pk, given, answered) for every input, and the ideas decided but not yet told."""
    links = published_links(community)
    inputs, untold = reference_ideas(community, links["idea"])
    if not ideas_only:
        inputs += reference_sessions_and_surveys(community, now, links)
    return inputs, untold


def reference_figures(community, now, *, ideas_only=False):
    inputs, untold = reference(community, now, ideas_only=ideas_only)
    waits = [max((answered - given) / DAY, 0.0) for _k, _p, given, answered in inputs if answered]
    promise = community.update_promise_days * DAY
    overdue = sorted(
        (given, kind, pk)
        for kind, pk, given, answered in inputs
        if answered is None and now - given > promise
    )
    ranked = sorted(waits)
    return {
        "total": len(inputs),
        "answered": len(waits),
        "share": 100 * len(waits) // len(inputs) if inputs else None,
        "median": statistics.median(waits) if waits else None,
        "p90": ranked[max(ceil(0.9 * len(ranked)), 1) - 1] if ranked else None,
        "overdue": [(kind, pk) for _given, kind, pk in overdue],
        "untold": untold,
        "answered_at": {(kind, pk): answered for kind, pk, _given, answered in inputs},
    }


# --- A community built at random --------------------------------------------------------------


def moment(rnd, *, days_back=200):
    """A time in the past, to the microsecond, so ties are rare but waits are awkward."""
    return NOW - timedelta(days=rnd.uniform(-5, days_back), microseconds=rnd.randrange(10**6))


def build(community, other_community, seed, *, ideas=90):
    rnd = random.Random(seed)
    people = [make_person(f"p{seed}-{n}@example.org") for n in range(4)]
    made = Idea.objects.bulk_create(
        Idea(community=community, title=f"Idea {n}", description="d", created_at=moment(rnd))
        for n in range(ideas)
    )
    # Some ideas share a moment exactly, so the order of equals is tested too.
    for twin, idea in zip(made[:5], made[5:10], strict=True):
        idea.created_at = twin.created_at
    # Merges: a fifth of the ideas joined one of a few others (never one that was merged).
    targets, merged = made[:10], made[10 : ideas // 5 + 10]
    for idea in merged:
        idea.status, idea.merged_into = Idea.Status.MERGED, rnd.choice(targets)
    # Decisions: on a third, some before and some after the updates about them.
    for idea in rnd.sample(made, ideas // 3):
        idea.decided_at = idea.created_at + timedelta(days=rnd.uniform(0, 60))
    Idea.objects.bulk_update(made, ["created_at", "status", "merged_into", "decided_at"])

    sessions = Session.objects.bulk_create(
        Session(
            community=community,
            title=f"Session {n}",
            kind=Session.Kind.DROP_IN,
            starts_at=(ends := moment(rnd)) - timedelta(hours=2),
            ends_at=ends,
            status=rnd.choice(["draft", "published", "completed", "completed", "cancelled"]),
            walk_in_count=rnd.choice([0, 0, 0, 3]),
        )
        for n in range(25)
    )
    Registration.objects.bulk_create(
        Registration(session=session, user=person, attended=rnd.choice([True, False, None]))
        for session in sessions
        for person in rnd.sample(people, rnd.randrange(3))
    )
    surveys = Survey.objects.bulk_create(
        Survey(
            community=community,
            title=f"Survey {n}",
            published=rnd.random() < 0.85,
            closes_at=None if n % 4 == 0 else moment(rnd),
        )
        for n in range(12)
    )
    Response.objects.bulk_create(
        Response(survey=survey, created_at=moment(rnd))
        for survey in surveys
        for _ in range(rnd.randrange(3))
    )

    def update(home, *, status="published"):
        published = moment(rnd, days_back=150) if status == "published" else None
        return Update.objects.create(
            community=home,
            title="U",
            what_we_heard="h",
            what_we_did="d",
            status=status,
            published_at=published,
        )

    for n in range(40):
        home = other_community if n % 13 == 0 else community
        made_update = update(home, status="draft" if n % 7 == 0 else "published")
        made_update.ideas.set(rnd.sample(made, rnd.randrange(6)))
        made_update.sessions.set(rnd.sample(sessions, rnd.randrange(3)))
        made_update.surveys.set(rnd.sample(surveys, rnd.randrange(2)))


def sql_figures(community, now, *, ideas_only=False, listed=loop.DASHBOARD_OVERDUE):
    result = loop.figures(community, now=now, ideas_only=ideas_only, listed=listed)
    return {
        "total": result.total,
        "answered": result.answered_count,
        "share": result.share,
        "median": result.median_days,
        "p90": result.p90_days,
        "overdue_count": result.overdue_count,
        "overdue": [(item.kind, item.pk) for item in result.overdue],
        "untold": result.untold_count,
        "answered_at": {(i.kind, i.pk): i.answered_at for i in result.inputs},
    }


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
@pytest.mark.parametrize("promise", [30, 7])
def test_sql_figures_equal_the_python_reference(community, other_community, seed, promise):
    build(community, other_community, seed)
    community.update_promise_days = promise
    community.save()
    expected = reference_figures(community, NOW)
    assert expected["answered"] and expected["overdue"], "the data should exercise both"
    found = sql_figures(community, NOW, listed=10_000)
    assert found["answered_at"] == expected["answered_at"]
    # Exactly equal, not approximately: the same floating-point values as before.
    for name in ("total", "answered", "share", "median", "p90", "untold"):
        assert found[name] == expected[name], name
    assert found["overdue"] == expected["overdue"]
    assert found["overdue_count"] == len(expected["overdue"])
    # The dashboard's list is the oldest 20 of the same order.
    shown = sql_figures(community, NOW)
    assert shown["overdue"] == expected["overdue"][: loop.DASHBOARD_OVERDUE]
    assert shown["overdue_count"] == len(expected["overdue"])
    assert loop.untold_decisions(community).count() == expected["untold"]


@pytest.mark.parametrize("seed", [5, 6])
def test_sql_idea_figures_equal_the_python_reference(community, other_community, seed):
    build(community, other_community, seed)
    expected = reference_figures(community, NOW, ideas_only=True)
    found = sql_figures(community, NOW, ideas_only=True, listed=10_000)
    for name in ("total", "answered", "share", "median", "p90", "untold", "answered_at"):
        assert found[name] == expected[name], name
    assert found["overdue"] == expected["overdue"]


@pytest.mark.parametrize("answered", [1, 2, 3, 4, 9, 10, 11])
def test_the_median_and_90th_percentile_at_small_counts(community, answered):
    # Odd and even counts of answered ideas, waits with fractions of a day.
    for n in range(answered):
        idea = Idea.objects.create(
            community=community, title=f"I{n}", description="d", created_at=NOW - 90 * DAY
        )
        wait = timedelta(days=(n * 7919) % 23, seconds=n * 3607, microseconds=n)
        update = Update.objects.create(
            community=community,
            title="U",
            what_we_heard="h",
            what_we_did="d",
            status="published",
            published_at=idea.created_at + wait,
        )
        update.ideas.add(idea)
    expected = reference_figures(community, NOW)
    found = sql_figures(community, NOW)
    assert (found["median"], found["p90"]) == (expected["median"], expected["p90"])
