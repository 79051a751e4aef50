"""Prioritisation rounds: setting up, inviting scorers, scoring, closing and choosing."""

import pytest
from django.db import IntegrityError, transaction

from communities.access import ArchivedError
from communities.models import Membership, MembershipPerspective, Perspective
from improvement import services
from improvement.models import (
    DEFAULT_CRITERIA,
    Criterion,
    Idea,
    IdeaEvent,
    PrioritisationRound,
    RoundError,
    Score,
    Scorer,
)
from members.models import Notification
from members.status import StatusError
from tests.improvement.factories import make_idea, new_member

pytestmark = pytest.mark.django_db

Status = Idea.Status
Round = PrioritisationRound.Status
COMMUNITY, PROFESSIONAL = Scorer.Group.COMMUNITY, Scorer.Group.PROFESSIONAL


def new_round(community, by, ideas=None, title="Spring priorities") -> PrioritisationRound:
    if ideas is None:
        ideas = [make_idea(community, title="Letters"), make_idea(community, title="Parking")]
    return services.create_round(
        community=community, by=by, title=title, description="Score each idea.", ideas=ideas
    )


def open_with(community, coordinator, scorers) -> PrioritisationRound:
    round_ = new_round(community, coordinator)
    services.invite_scorers(round=round_, people=scorers, by=coordinator)
    return services.open_round(round=round_)


def invitations():
    return Notification.objects.filter(kind="scoring_invitation")


# --- Setting up -----------------------------------------------------------------------------


def test_a_new_round_has_the_three_default_criteria(community, other_community, coordinator):
    mine = make_idea(community, title="Mine")
    theirs = make_idea(other_community, title="Theirs")
    round_ = new_round(community, coordinator, ideas=[mine, theirs], title="  Spring  ")
    assert round_.status == Round.DRAFT and round_.created_by == coordinator
    assert round_.title == "Spring"
    # Only the community's own ideas are scored.
    assert list(round_.ideas.all()) == [mine]
    criteria = list(round_.criteria.all())
    assert [c.name for c in criteria] == [str(name) for name, _text in DEFAULT_CRITERIA]
    assert [c.description for c in criteria] == [str(text) for _name, text in DEFAULT_CRITERIA]
    assert [c.position for c in criteria] == [0, 1, 2]
    assert {c.weight for c in criteria} == {1}


def test_no_round_in_an_archived_community(community, coordinator):
    community.status = community.Status.ARCHIVED
    community.save()
    with pytest.raises(ArchivedError, match="archived"):
        new_round(community, coordinator)
    assert not PrioritisationRound.objects.exists()


# --- Scorers --------------------------------------------------------------------------------


def test_members_are_invited_to_score_in_a_group(community, coordinator, member, partner):
    round_ = new_round(community, coordinator)
    scorers = services.invite_scorers(
        round=round_, people={member: COMMUNITY, partner: PROFESSIONAL}, by=coordinator
    )
    assert {(s.user, s.group) for s in scorers} == {
        (member, COMMUNITY),
        (partner, PROFESSIONAL),
    }
    # A round being set up tells no one yet.
    assert not invitations().exists()


@pytest.mark.parametrize("persona", ["outsider", "other_coordinator", "staff"])
def test_only_active_members_are_invited_to_score(request, community, coordinator, persona):
    person = request.getfixturevalue(persona)
    round_ = new_round(community, coordinator)
    with pytest.raises(RoundError, match=f"Not a member: {person.display_name}"):
        services.invite_scorers(round=round_, people={person: COMMUNITY}, by=coordinator)
    assert not Scorer.objects.exists()


def test_someone_who_left_is_not_invited_nor_anyone_with_them(community, coordinator, member):
    former = new_member(community, "former@example.org", name="Fran", status="left")
    round_ = new_round(community, coordinator)
    with pytest.raises(RoundError, match="Not a member: Fran"):
        services.invite_scorers(
            round=round_, people={member: COMMUNITY, former: COMMUNITY}, by=coordinator
        )
    assert not Scorer.objects.exists()


def test_inviting_again_changes_only_the_group(community, coordinator, member):
    round_ = new_round(community, coordinator)
    first = services.invite_scorers(round=round_, people={member: COMMUNITY}, by=coordinator)[0]
    again = services.invite_scorers(round=round_, people={member: PROFESSIONAL}, by=coordinator)[0]
    assert again.pk == first.pk
    assert Scorer.objects.get(round=round_, user=member).group == PROFESSIONAL
    assert Scorer.objects.count() == 1


def test_people_invited_to_an_open_round_are_told_at_once_and_once(
    community, coordinator, member, partner
):
    round_ = open_with(community, coordinator, {member: COMMUNITY})
    assert [n.recipient for n in invitations()] == [member]
    services.invite_scorers(round=round_, people={partner: PROFESSIONAL}, by=coordinator)
    assert {n.recipient for n in invitations()} == {member, partner}
    # Changing someone's group does not invite them again.
    services.invite_scorers(round=round_, people={partner: COMMUNITY}, by=coordinator)
    assert invitations().count() == 2


def test_no_one_is_invited_to_a_closed_round(community, coordinator, member, partner):
    round_ = open_with(community, coordinator, {member: COMMUNITY})
    round_ = services.close_round(round=round_)
    with pytest.raises(RoundError, match="closed"):
        services.invite_scorers(round=round_, people={partner: COMMUNITY}, by=coordinator)


@pytest.mark.parametrize(
    ("perspectives", "group"),
    [
        ([Perspective.PATIENT], COMMUNITY),
        ([Perspective.CARER], COMMUNITY),
        ([Perspective.VOLUNTARY], COMMUNITY),
        ([Perspective.OTHER], COMMUNITY),
        ([Perspective.CLINICIAN], PROFESSIONAL),
        ([Perspective.STAFF], PROFESSIONAL),
        ([Perspective.RESEARCHER, Perspective.ANALYST], PROFESSIONAL),
        ([Perspective.IMPROVEMENT], PROFESSIONAL),
        ([Perspective.PATIENT, Perspective.CLINICIAN], COMMUNITY),
        ([Perspective.CLINICIAN, Perspective.CARER], COMMUNITY),
        ([], COMMUNITY),
        (None, COMMUNITY),
    ],
)
def test_lived_experience_is_heard_as_the_community(perspectives, group):
    assert Scorer.group_for(perspectives) == group


@pytest.mark.parametrize(
    ("brings", "group"),
    [(["clinician"], PROFESSIONAL), (["patient", "clinician"], COMMUNITY), ([], COMMUNITY)],
)
def test_a_members_own_perspectives_decide_their_group(community, member, brings, group):
    membership = Membership.objects.get(community=community, user=member)
    for perspective in brings:
        MembershipPerspective.objects.create(membership=membership, perspective=perspective)
    assert Scorer.group_for(membership.perspectives) == group


# --- Opening --------------------------------------------------------------------------------


def test_opening_a_round_tells_every_scorer(community, coordinator, member, partner):
    round_ = new_round(community, coordinator)
    services.invite_scorers(
        round=round_, people={member: COMMUNITY, partner: PROFESSIONAL}, by=coordinator
    )
    opened = services.open_round(round=round_)
    assert opened.status == Round.OPEN and opened.opened_at is not None
    told = invitations()
    assert {n.recipient for n in told} == {member, partner}
    assert all(n.community == community for n in told)
    assert not told.filter(recipient=coordinator).exists()


def test_a_round_without_ideas_does_not_open(community, coordinator, member):
    round_ = new_round(community, coordinator, ideas=[])
    services.invite_scorers(round=round_, people={member: COMMUNITY}, by=coordinator)
    with pytest.raises(RoundError, match="Add ideas to score before opening the round"):
        services.open_round(round=round_)
    round_.refresh_from_db()
    assert round_.status == Round.DRAFT and not invitations().exists()


def test_a_round_without_criteria_does_not_open(community, coordinator, member):
    round_ = new_round(community, coordinator)
    round_.criteria.all().delete()
    services.invite_scorers(round=round_, people={member: COMMUNITY}, by=coordinator)
    with pytest.raises(RoundError, match="Add criteria before opening the round"):
        services.open_round(round=round_)


def test_a_round_without_scorers_does_not_open(community, coordinator):
    round_ = new_round(community, coordinator)
    with pytest.raises(RoundError, match="Add people to score before opening the round"):
        services.open_round(round=round_)


def test_a_bare_round_says_everything_it_lacks(community, coordinator):
    round_ = new_round(community, coordinator, ideas=[])
    round_.criteria.all().delete()
    with pytest.raises(RoundError, match="Add ideas to score, criteria, people to score"):
        services.open_round(round=round_)


def test_an_open_round_does_not_open_again(community, coordinator, member):
    round_ = open_with(community, coordinator, {member: COMMUNITY})
    with pytest.raises(StatusError, match="already open"):
        services.open_round(round=round_)
    assert invitations().count() == 1


# --- Scoring --------------------------------------------------------------------------------


@pytest.fixture
def scoring(community, coordinator, member):
    """An open round, its member scorer, its ideas and its criteria."""
    round_ = open_with(community, coordinator, {member: COMMUNITY})
    scorer = Scorer.objects.get(round=round_, user=member)
    return round_, scorer, list(round_.ideas.order_by("pk")), list(round_.criteria.all())


def test_a_scorer_saves_scores(scoring):
    round_, scorer, ideas, criteria = scoring
    values = {(i.pk, c.pk): 3 for i in ideas for c in criteria}
    assert services.record_scores(round=round_, scorer=scorer, values=values) == 6
    assert Score.objects.filter(scorer=scorer).count() == 6


def test_saving_again_replaces_the_scores(scoring):
    round_, scorer, ideas, criteria = scoring
    key = (ideas[0].pk, criteria[0].pk)
    services.record_scores(round=round_, scorer=scorer, values={key: 2})
    services.record_scores(round=round_, scorer=scorer, values={key: 5})
    assert list(Score.objects.values_list("value", flat=True)) == [5]


def test_an_empty_score_clears_it(scoring):
    round_, scorer, ideas, criteria = scoring
    kept, cleared = (ideas[0].pk, criteria[0].pk), (ideas[1].pk, criteria[1].pk)
    services.record_scores(round=round_, scorer=scorer, values={kept: 4, cleared: 2})
    saved = services.record_scores(round=round_, scorer=scorer, values={kept: 4, cleared: None})
    assert saved == 1
    assert list(Score.objects.values_list("idea", "criterion", "value")) == [(*kept, 4)]


@pytest.mark.parametrize("value", [0, 6, -1, 10])
def test_scores_go_from_one_to_five(scoring, value):
    round_, scorer, ideas, criteria = scoring
    with pytest.raises(RoundError, match="from 1 to 5"):
        services.record_scores(
            round=round_, scorer=scorer, values={(ideas[0].pk, criteria[0].pk): value}
        )
    assert not Score.objects.exists()


@pytest.mark.parametrize("value", [1, 5])
def test_one_and_five_are_scores(scoring, value):
    round_, scorer, ideas, criteria = scoring
    services.record_scores(
        round=round_, scorer=scorer, values={(ideas[0].pk, criteria[0].pk): value}
    )
    assert Score.objects.get().value == value


def test_one_bad_score_saves_none_of_the_sheet(scoring):
    round_, scorer, ideas, criteria = scoring
    values = {(ideas[0].pk, criteria[0].pk): 4, (ideas[1].pk, criteria[0].pk): 9}
    with pytest.raises(RoundError):
        services.record_scores(round=round_, scorer=scorer, values=values)
    assert not Score.objects.exists()


def test_scores_only_for_the_rounds_ideas_and_criteria(community, coordinator, scoring):
    round_, scorer, ideas, criteria = scoring
    elsewhere = make_idea(community, title="Not in the round")
    other_round = new_round(community, coordinator, ideas=[elsewhere], title="Other")
    foreign = other_round.criteria.first()
    for key in [(elsewhere.pk, criteria[0].pk), (ideas[0].pk, foreign.pk)]:
        with pytest.raises(RoundError, match="not part of this round"):
            services.record_scores(round=round_, scorer=scorer, values={key: 3})
    assert not Score.objects.exists()


def test_no_scores_before_a_round_opens(community, coordinator, member):
    round_ = new_round(community, coordinator)
    scorer = services.invite_scorers(round=round_, people={member: COMMUNITY}, by=coordinator)[0]
    idea, criterion = round_.ideas.first(), round_.criteria.first()
    with pytest.raises(RoundError, match="not open for scoring"):
        services.record_scores(round=round_, scorer=scorer, values={(idea.pk, criterion.pk): 3})


def test_no_scores_after_a_round_closes(scoring):
    round_, scorer, ideas, criteria = scoring
    key = (ideas[0].pk, criteria[0].pk)
    services.record_scores(round=round_, scorer=scorer, values={key: 3})
    services.close_round(round=round_)
    for value in (4, None):
        with pytest.raises(RoundError, match="not open for scoring"):
            services.record_scores(round=round_, scorer=scorer, values={key: value})
    assert Score.objects.get().value == 3


@pytest.mark.parametrize("value", [0, 6])
def test_the_database_refuses_a_score_outside_one_to_five(scoring, value):
    _round, scorer, ideas, criteria = scoring
    with pytest.raises(IntegrityError), transaction.atomic():
        Score.objects.create(scorer=scorer, idea=ideas[0], criterion=criteria[0], value=value)
    assert not Score.objects.exists()


def test_the_database_keeps_one_score_per_scorer_idea_and_criterion(scoring):
    _round, scorer, ideas, criteria = scoring
    Score.objects.create(scorer=scorer, idea=ideas[0], criterion=criteria[0], value=3)
    with pytest.raises(IntegrityError), transaction.atomic():
        Score.objects.create(scorer=scorer, idea=ideas[0], criterion=criteria[0], value=4)


@pytest.mark.parametrize("weight", [0, 11])
def test_the_database_refuses_a_weight_outside_one_to_ten(community, coordinator, weight):
    round_ = new_round(community, coordinator)
    with pytest.raises(IntegrityError), transaction.atomic():
        Criterion.objects.create(round=round_, name="Cost", weight=weight)


# --- Closing and choosing -------------------------------------------------------------------


def test_closing_a_round(community, coordinator, member):
    round_ = open_with(community, coordinator, {member: COMMUNITY})
    closed = services.close_round(round=round_)
    assert closed.status == Round.CLOSED and closed.closed_at is not None
    with pytest.raises(StatusError, match="closed, so it cannot change"):
        services.close_round(round=round_)


def test_a_round_being_set_up_opens_before_it_closes(community, coordinator):
    round_ = new_round(community, coordinator)
    with pytest.raises(StatusError, match="Open the round before closing it"):
        services.close_round(round=round_)
    round_.refresh_from_db()
    assert round_.status == Round.DRAFT and round_.closed_at is None


def test_ideas_are_marked_prioritised_only_after_the_round_closes(community, coordinator, member):
    round_ = open_with(community, coordinator, {member: COMMUNITY})
    with pytest.raises(RoundError, match="Close the round"):
        services.mark_prioritised(round=round_, ideas=round_.ideas.all(), by=coordinator)
    assert not round_.ideas.filter(status=Status.PRIORITISED).exists()


def test_marking_chosen_ideas_prioritised(community, coordinator, member):
    round_ = open_with(community, coordinator, {member: COMMUNITY})
    services.close_round(round=round_)
    round_.refresh_from_db()
    chosen, left = round_.ideas.order_by("pk")
    not_in_round = make_idea(community, title="Not in the round")

    moved = services.mark_prioritised(round=round_, ideas=[chosen, not_in_round], by=coordinator)

    assert moved == 1
    for idea in (chosen, left, not_in_round):
        idea.refresh_from_db()
    assert chosen.status == Status.PRIORITISED
    assert left.status == Status.NEW and not_in_round.status == Status.NEW
    event = IdeaEvent.objects.get(kind=IdeaEvent.Kind.PRIORITISED)
    assert (event.idea, event.actor, event.status) == (chosen, coordinator, Status.PRIORITISED)
    assert "Spring priorities" in event.note
    # Marking again moves nothing and writes no more history.
    assert services.mark_prioritised(round=round_, ideas=[chosen], by=coordinator) == 0
    assert IdeaEvent.objects.filter(kind=IdeaEvent.Kind.PRIORITISED).count() == 1


def test_merged_and_done_ideas_are_left_as_they_are(community, coordinator, member):
    standing = make_idea(community, title="Standing")
    merged = make_idea(community, title="Merged")
    done = make_idea(community, title="Done", status=Status.DONE)
    round_ = new_round(community, coordinator, ideas=[standing, merged, done])
    services.invite_scorers(round=round_, people={member: COMMUNITY}, by=coordinator)
    services.open_round(round=round_)
    services.merge_ideas(source=merged, target=standing, by=coordinator, note="Same.")
    services.close_round(round=round_)
    round_.refresh_from_db()

    moved = services.mark_prioritised(round=round_, ideas=[merged, done], by=coordinator)

    assert moved == 0
    merged.refresh_from_db()
    done.refresh_from_db()
    assert merged.status == Status.MERGED and done.status == Status.DONE
    assert not IdeaEvent.objects.filter(kind=IdeaEvent.Kind.PRIORITISED).exists()


def test_an_idea_already_in_progress_is_left_as_it_is(community, coordinator, member):
    """The docstring of services.mark_prioritised: "Ideas that cannot move (merged, done,
    already further on) are left as they are". Work under way is further on."""
    under_way = make_idea(community, title="Under way", status=Status.IN_PROGRESS)
    round_ = new_round(community, coordinator, ideas=[under_way])
    services.invite_scorers(round=round_, people={member: COMMUNITY}, by=coordinator)
    services.open_round(round=round_)
    services.close_round(round=round_)
    round_.refresh_from_db()

    moved = services.mark_prioritised(round=round_, ideas=[under_way], by=coordinator)

    under_way.refresh_from_db()
    assert under_way.status == Status.IN_PROGRESS
    assert moved == 0
