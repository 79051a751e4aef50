"""Loop-closure figures at their boundaries, each worked out by hand: what counts as an input,
when it is answered, how long people waited (median and nearest-rank 90th percentile) and
what is overdue against the community's promise."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from engagement.models import Response, Session, Survey
from improvement import loop, services
from improvement.models import Idea, Update
from tests.conftest import make_person
from tests.improvement.factories import came, make_idea

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 4, 9, 30, tzinfo=UTC)
DAY = timedelta(days=1)


def idea(community, title="An idea", *, age, **fields):
    return make_idea(community, title=title, created_at=NOW - age, **fields)


def published(community, *, at, ideas=(), sessions=(), surveys=(), title="We did it"):
    update = Update.objects.create(
        community=community,
        title=title,
        what_we_heard="Heard.",
        what_we_did="Did.",
        status=Update.Status.PUBLISHED,
        published_at=at,
    )
    update.ideas.set(ideas)
    update.sessions.set(sessions)
    update.surveys.set(surveys)
    return update


def session(community, title="Drop-in", *, ended, status=Session.Status.COMPLETED, **fields):
    return Session.objects.create(
        community=community,
        title=title,
        kind=Session.Kind.DROP_IN,
        starts_at=ended - timedelta(hours=2),
        ends_at=ended,
        status=status,
        **fields,
    )


def survey(community, title="A survey", *, closes, published=True, answers=1):
    made = Survey.objects.create(
        community=community,
        title=title,
        opens_at=NOW - 90 * DAY,
        closes_at=closes,
        published=published,
    )
    for _ in range(answers):
        Response.objects.create(survey=made)
    return made


def figures(community, **kwargs):
    return loop.figures(community, now=NOW, **kwargs)


# --- The arithmetic -------------------------------------------------------------------------


def test_no_input_at_all_has_no_share_no_waits_and_nothing_overdue(community):
    result = figures(community)
    assert result.total == 0
    assert result.share is None
    assert result.median_days is None and result.p90_days is None
    assert result.overdue == []


def test_all_answered_is_one_hundred_per_cent(community):
    ideas = [idea(community, f"Idea {i}", age=(10 + i) * DAY) for i in range(3)]
    published(community, at=NOW - 5 * DAY, ideas=ideas)
    result = figures(community)
    assert (result.total, len(result.answered), result.share) == (3, 3, 100)
    # Waits: 5, 6 and 7 days.
    assert result.median_days == 6
    assert result.overdue == []


def test_the_share_is_rounded_down(community):
    # 2 of 3 is 66.67%: shown as 66, and 199 of 200 (99.5%) is not "100%".
    answered = [idea(community, f"A{i}", age=3 * DAY) for i in range(2)]
    idea(community, "Waiting", age=DAY)
    published(community, at=NOW, ideas=answered)
    assert figures(community).share == 66


def test_exactly_at_the_promise_is_not_overdue_and_one_second_more_is(community):
    at_promise = idea(community, "At the promise", age=30 * DAY)
    assert figures(community).overdue == []
    at_promise.created_at -= timedelta(seconds=1)
    at_promise.save()
    [late] = figures(community).overdue
    assert (late.kind, late.pk, late.days_waiting(NOW)) == ("idea", at_promise.pk, 30)


def test_an_answered_input_is_never_overdue_however_old(community):
    old = idea(community, "Old but answered", age=200 * DAY)
    published(community, at=NOW - 100 * DAY, ideas=[old])
    result = figures(community)
    assert result.overdue == [] and result.median_days == 100


def test_median_and_nearest_rank_90th_percentile_of_a_worked_list(community):
    # Ten ideas answered after 0.5, 1, 2, 3, 5, 8, 13, 21, 34 and 40 days.
    # Median: the mean of the 5th and 6th, (5 + 8) / 2 = 6.5.
    # 90th percentile, nearest rank: rank ceil(0.9 × 10) = 9, the 9th smallest: 34.
    waits = [0.5, 1, 2, 3, 5, 8, 13, 21, 34, 40]
    for n, wait in enumerate(waits):
        given = idea(community, f"Idea {n}", age=60 * DAY)
        published(community, at=NOW - 60 * DAY + wait * DAY, ideas=[given])
    result = figures(community)
    assert sorted(i.days_to_answer for i in result.answered) == waits
    assert result.median_days == 6.5
    assert result.p90_days == 34
    # Unanswered input does not enter the waits.
    idea(community, "Still waiting", age=2 * DAY)
    assert (figures(community).median_days, figures(community).p90_days) == (6.5, 34)


@pytest.mark.parametrize(
    ("values", "share", "expected"),
    [
        ([], 0.9, None),
        ([7], 0.9, 7),
        ([1, 2, 3, 4, 5], 0.9, 5),  # rank ceil(4.5) = 5
        ([5, 1, 4, 2, 3], 0.5, 3),  # unsorted; rank ceil(2.5) = 3
        (list(range(1, 21)), 0.9, 18),  # rank 18 exactly: no interpolation
        (list(range(1, 22)), 0.9, 19),  # rank ceil(18.9) = 19
        ([4, 9], 0.0, 4),  # never rank 0
    ],
)
def test_percentile_is_nearest_rank(values, share, expected):
    assert loop.percentile(values, share) == expected


def test_only_the_first_update_counts_for_the_wait(community):
    given = idea(community, age=20 * DAY)
    published(community, at=NOW - 2 * DAY, ideas=[given], title="Second")
    published(community, at=NOW - 15 * DAY, ideas=[given], title="First")
    [answered] = figures(community).answered
    assert answered.days_to_answer == 5


def test_a_draft_update_answers_nothing(community):
    given = idea(community, age=40 * DAY)
    draft = Update.objects.create(
        community=community, title="Draft", what_we_heard="h", what_we_did="d"
    )
    draft.ideas.set([given])
    result = figures(community)
    assert result.answered == [] and [i.pk for i in result.overdue] == [given.pk]


def test_an_update_in_another_community_answers_nothing_here(community, other_community):
    given = idea(community, age=40 * DAY)
    stray = published(other_community, at=NOW - DAY)
    stray.ideas.set([given])
    assert figures(community).answered == []


# --- Merges and decisions -------------------------------------------------------------------


def test_an_update_about_an_idea_before_it_was_merged_answers_the_idea_it_joined(
    community, coordinator
):
    kept = idea(community, "Kept", age=20 * DAY)
    duplicate = idea(community, "Duplicate", age=18 * DAY)
    published(community, at=NOW - 12 * DAY, ideas=[duplicate])
    services.merge_ideas(source=duplicate, target=kept, by=coordinator, note="The same")
    result = figures(community)
    # The merged idea is no input of its own: it lives on in the one it joined.
    assert [(i.pk, i.days_to_answer) for i in result.inputs] == [(kept.pk, 8)]
    assert result.share == 100 and result.overdue == []


def test_the_earliest_update_across_a_merged_group_answers_it(community, coordinator):
    kept = idea(community, "Kept", age=20 * DAY)
    duplicate = idea(community, "Duplicate", age=18 * DAY)
    published(community, at=NOW - 4 * DAY, ideas=[kept])
    published(community, at=NOW - 10 * DAY, ideas=[duplicate])
    services.merge_ideas(source=duplicate, target=kept, by=coordinator, note="The same")
    [only] = figures(community).inputs
    assert only.days_to_answer == 10


def test_a_decision_without_an_update_leaves_the_idea_unanswered(community, coordinator):
    given = idea(community, age=40 * DAY)
    services.decide(idea=given, outcome="not_taken_forward", reason="No money.", by=coordinator)
    result = figures(community)
    assert result.answered == [] and [i.pk for i in result.overdue] == [given.pk]
    assert loop.dashboard_panel(community)["unanswered_decisions"] == 1
    published(community, at=timezone.now(), ideas=[given])
    assert figures(community).share == 100
    assert loop.dashboard_panel(community)["unanswered_decisions"] == 0


def test_a_decision_made_after_the_last_update_is_not_yet_told(community, coordinator):
    # "We are looking into it" on day 5; "not taken forward" on day 20, and nobody has told
    # the contributors that. The dashboard line reads "ideas decided but not yet told to the
    # people who gave them", so this idea belongs in it until an update follows the decision.
    given = idea(community, age=40 * DAY)
    published(community, at=timezone.now() - 15 * DAY, ideas=[given], title="Looking into it")
    services.decide(idea=given, outcome="not_taken_forward", reason="No money.", by=coordinator)
    assert loop.dashboard_panel(community)["unanswered_decisions"] == 1
    published(community, at=timezone.now(), ideas=[given], title="Why not")
    assert loop.dashboard_panel(community)["unanswered_decisions"] == 0


def test_a_decision_is_told_by_a_later_update_on_the_idea_or_one_merged_into_it(
    community, coordinator
):
    kept = idea(community, "Kept", age=20 * DAY)
    duplicate = idea(community, "Duplicate", age=18 * DAY)
    published(community, at=NOW - 12 * DAY, ideas=[duplicate], title="Before the decision")
    services.merge_ideas(source=duplicate, target=kept, by=coordinator, note="The same")
    services.decide(idea=kept, outcome="adopt", reason="Yes.", by=coordinator)
    # The update came before the decision: the decision is not told yet.
    assert loop.dashboard_panel(community)["unanswered_decisions"] == 1
    published(community, at=timezone.now() + timedelta(seconds=1), ideas=[duplicate])
    assert loop.dashboard_panel(community)["unanswered_decisions"] == 0


# --- Sessions and surveys -------------------------------------------------------------------


def test_sessions_count_once_held_with_someone_there(community, member):
    attended = session(community, "Attended", ended=NOW - 3 * DAY)
    came(attended, member)
    walk_ins = session(
        community,
        "Walk-ins only",
        ended=NOW - 2 * DAY,
        status=Session.Status.PUBLISHED,
        walk_in_count=4,
    )
    ends_now = session(community, "Ends this moment", ended=NOW, walk_in_count=1)
    nobody = session(community, "Nobody came", ended=NOW - 3 * DAY)
    came(nobody, member, attended=False)
    unrecorded = session(community, "Attendance not taken", ended=NOW - 3 * DAY)
    came(unrecorded, member, attended=None)
    cancelled = session(
        community,
        "Cancelled",
        ended=NOW - 3 * DAY,
        status=Session.Status.CANCELLED,
        walk_in_count=3,
    )
    came(cancelled, member)
    draft = session(
        community, "Draft", ended=NOW - 3 * DAY, status=Session.Status.DRAFT, walk_in_count=3
    )
    came(draft, member)
    future = session(
        community,
        "Not yet over",
        ended=NOW + timedelta(minutes=1),
        status=Session.Status.PUBLISHED,
        walk_in_count=2,
    )
    came(future, member)
    # Several attendees are one input, not one each.
    for n in range(3):
        came(attended, make_person(f"a{n}@example.org"))
    inputs = figures(community).inputs
    assert sorted((i.kind, i.pk) for i in inputs) == sorted(
        ("session", s.pk) for s in (attended, walk_ins, ends_now)
    )
    assert {i.pk: i.given_at for i in inputs}[attended.pk] == attended.ends_at


def test_surveys_count_once_closed_with_at_least_one_response(community):
    closed = survey(community, "Closed with answers", closes=NOW - DAY, answers=2)
    closes_now = survey(community, "Closes this moment", closes=NOW)
    survey(community, "Closed, nobody answered", closes=NOW - DAY, answers=0)
    survey(community, "Still open", closes=NOW + DAY)
    open_ended = survey(community, "Open for good", closes=None)
    survey(community, "Open for good, nobody answered", closes=None, answers=0)
    survey(community, "Never published", closes=NOW - DAY, published=False)
    inputs = figures(community).inputs
    assert sorted((i.kind, i.pk) for i in inputs) == sorted(
        [("survey", closed.pk), ("survey", closes_now.pk), ("survey", open_ended.pk)]
    )
    given = {i.pk: i.given_at for i in inputs}
    assert given[closed.pk] == closed.closes_at
    # A survey that never closes counts from its first answer.
    assert given[open_ended.pk] == open_ended.responses.get().created_at


def test_an_update_before_a_later_decision_does_not_answer_it(community, member):
    idea = Idea.objects.create(
        community=community,
        title="Parking",
        description="d",
        author=member,
        created_at=NOW - 40 * DAY,
    )
    published(community, at=NOW - 35 * DAY, ideas=[idea])
    Idea.objects.filter(pk=idea.pk).update(decided_at=NOW - 20 * DAY)
    result = figures(community)
    assert result.answered == [] and [i.pk for i in result.overdue] == [idea.pk]
    published(community, at=NOW - 10 * DAY, ideas=[idea])
    [answered] = figures(community).answered
    assert answered.days_to_answer == 30


def test_an_update_published_before_the_survey_closed_counts_as_no_wait(community):
    early = survey(community, closes=NOW - 5 * DAY)
    published(community, at=NOW - 8 * DAY, surveys=[early])
    [answered] = figures(community).answered
    assert answered.days_to_answer == 0.0  # not -3
    assert figures(community).median_days == 0.0


def test_a_session_update_counts_from_when_it_ended(community, member):
    held = session(community, ended=NOW - 10 * DAY)
    came(held, member)
    published(community, at=NOW - 7 * DAY, sessions=[held])
    during = session(community, "Answered during", ended=NOW - 4 * DAY, walk_in_count=1)
    published(community, at=NOW - 4 * DAY - timedelta(hours=1), sessions=[during])
    waits = {i.pk: i.days_to_answer for i in figures(community).answered}
    assert waits == {held.pk: 3, during.pk: 0.0}


def test_overdue_lists_every_kind_oldest_first(community, member):
    survey(community, "Survey", closes=NOW - 35 * DAY)
    held = session(community, "Session", ended=NOW - 50 * DAY)
    came(held, member)
    idea(community, "Idea", age=40 * DAY)
    idea(community, "Recent idea", age=5 * DAY)
    overdue = figures(community).overdue
    assert [(i.kind, i.title, i.days_waiting(NOW)) for i in overdue] == [
        ("session", "Session", 50),
        ("idea", "Idea", 40),
        ("survey", "Survey", 35),
    ]


def test_the_communitys_promise_decides_what_is_overdue(community):
    idea(community, "Eleven days", age=11 * DAY)
    idea(community, "Seven days", age=7 * DAY)
    assert figures(community).overdue == []  # the default promise: 30 days
    community.update_promise_days = 10
    community.save()
    assert [i.title for i in figures(community).overdue] == ["Eleven days"]
    community.update_promise_days = 7
    community.save()
    # Seven days to the microsecond is at the promise, not past it.
    assert [i.title for i in figures(community).overdue] == ["Eleven days"]
    community.update_promise_days = 6
    community.save()
    assert [i.title for i in figures(community).overdue] == ["Eleven days", "Seven days"]


def test_ideas_only_leaves_out_sessions_and_surveys(community, member):
    given = idea(community, age=10 * DAY)
    published(community, at=NOW - 8 * DAY, ideas=[given])
    held = session(community, ended=NOW - 40 * DAY)
    came(held, member)
    survey(community, closes=NOW - 40 * DAY)
    everything = figures(community)
    assert (everything.total, everything.share, len(everything.overdue)) == (3, 33, 2)
    ideas = figures(community, ideas_only=True)
    assert (ideas.total, ideas.share, ideas.overdue) == (1, 100, [])


# --- On the pages ---------------------------------------------------------------------------


def test_the_public_sentence_on_the_community_page(client, community, member):
    now = timezone.now()
    # Four ideas, three answered after 2, 5 and 12 days: 75%, usually within 5 days (the
    # median). An unanswered session and survey are not ideas, so they do not lower it.
    for n, wait in enumerate([2, 5, 12]):
        given = make_idea(community, title=f"Answered {n}", created_at=now - 20 * DAY)
        published(community, at=now - 20 * DAY + wait * DAY, ideas=[given], title=f"U{n}")
    make_idea(community, title="Waiting", created_at=now - DAY)
    held = session(community, ended=now - 40 * DAY)
    came(held, member)
    Survey.objects.create(
        community=community, title="S", published=True, closes_at=now - 40 * DAY
    ).responses.create()
    page = client.get(community.get_absolute_url()).content.decode()
    assert "We have answered 75% of ideas, usually within 5 days." in page


@pytest.mark.parametrize(
    ("waits", "sentence"),
    [
        # Median 1.5 days rounds to 2: two days, in words people use.
        ([1, 1.5, 3], "We have answered 100% of ideas, usually within 2 days."),
        # Median 1 day, and a median of hours: never "within 0 days" or "1 days".
        ([0.5, 1, 4], "We have answered 100% of ideas, usually within a day."),
        ([0.1, 0.2, 0.3], "We have answered 100% of ideas, usually within a day."),
    ],
)
def test_the_public_sentence_in_whole_days(client, community, waits, sentence):
    now = timezone.now()
    for n, wait in enumerate(waits):
        given = make_idea(community, title=f"Idea {n}", created_at=now - 10 * DAY)
        published(community, at=now - 10 * DAY + wait * DAY, ideas=[given], title=f"U{n}")
    page = client.get(community.get_absolute_url()).content.decode()
    assert sentence in page


def test_the_public_sentence_before_any_update(client, community):
    make_idea(community, title="Waiting")
    page = client.get(community.get_absolute_url()).content.decode()
    assert "We have not yet published an update on any idea." in page
    assert "We have answered" not in page


def test_the_dashboard_shows_the_figures_and_links_to_act_on_the_oldest(
    client, community, coordinator, member
):
    now = timezone.now()
    old = make_idea(community, title="Waited longest", created_at=now - 45 * DAY)
    newer = make_idea(community, title="Waited a while", created_at=now - 31 * DAY)
    answered = make_idea(community, title="Answered", created_at=now - 10 * DAY)
    published(community, at=now - 6 * DAY, ideas=[answered])
    client.force_login(coordinator)
    page = client.get(f"/c/{community.slug}/manage/").content.decode()
    assert "<strong>33%</strong> of 3 inputs answered with an update (1)" in page
    assert "<strong>2</strong> waiting longer than our promise of 30 days" in page
    first = page.index("Waited longest")
    assert first < page.index("Waited a while")
    assert f"/c/{community.slug}/manage/updates/new/?idea={old.pk}" in page
    assert f"/c/{community.slug}/manage/updates/new/?idea={newer.pk}" in page


def test_figures_cost_the_same_queries_for_6_and_60_inputs(community, member):
    # Half the inputs answered and the rest overdue at both sizes, so every query runs.
    def add_inputs(start, count):
        for n in range(start, start + count):
            given = idea(community, f"Idea {n}", age=(n + 31) * DAY)
            held = session(community, f"Session {n}", ended=NOW - (n + 31) * DAY)
            came(held, member)
            asked = survey(community, f"Survey {n}", closes=NOW - (n + 31) * DAY)
            if n % 2:
                published(community, at=NOW, ideas=[given], sessions=[held], surveys=[asked])

    def count():
        with CaptureQueriesContext(connection) as queries:
            result = figures(community)
            result.share, result.median_days, result.p90_days, result.overdue  # noqa: B018
        return len(queries), result.total, result.overdue_count

    add_inputs(0, 2)
    small = count()
    add_inputs(2, 18)
    large = count()
    # The inputs counted, in one query; the answered ones counted (and on PostgreSQL their
    # median and 90th percentile taken) in one; elsewhere the two middle waits and the 90th
    # percentile's wait, one query each; the oldest overdue ideas, sessions and surveys, one
    # query each.
    queries = 5 if connection.vendor == "postgresql" else 7
    assert small == (queries, 6, 3) and large == (queries, 60, 30)
