"""An idea's status table: every move it allows, every move it refuses, and why."""

from datetime import timedelta

import pytest
from django.utils import timezone

from communities.access import ArchivedError
from improvement import services
from improvement.models import Idea, IdeaEvent
from members.status import StatusError
from tests.improvement.factories import make_idea

pytestmark = pytest.mark.django_db

Status = Idea.Status
LABELS = dict(Status.choices)
PAIRS = [(a, b) for a in Status.values for b in Status.values if a != b]
ALLOWED = [(a, b) for a, b in PAIRS if b in Idea.NEXT_STATUSES[a]]
REFUSED = [(a, b) for a, b in PAIRS if b not in Idea.NEXT_STATUSES[a]]
A_WHILE_AGO = timedelta(days=3)
REASON = "We have no clinic time for it this year."


def pair_id(pair):
    return f"{pair[0]}->{pair[1]}"


def idea_in(community, status) -> Idea:
    """An idea at `status`, whose status last changed a while ago."""
    fields = {}
    if status == Status.MERGED:
        fields["merged_into"] = make_idea(community, title="The idea it joined")
    return make_idea(
        community,
        status=status,
        status_changed_at=timezone.now() - A_WHILE_AGO,
        **fields,
    )


def message_of(error) -> str:
    return " ".join(error.value.messages)


def test_the_table_names_every_status_and_only_known_statuses():
    assert set(Idea.NEXT_STATUSES) == set(Status.values)
    for following in Idea.NEXT_STATUSES.values():
        assert following <= set(Status.values)
    # Nothing comes back from done or merged.
    assert Idea.NEXT_STATUSES[Status.DONE] == set()
    assert Idea.NEXT_STATUSES[Status.MERGED] == set()


@pytest.mark.parametrize(("before", "after"), ALLOWED, ids=map(pair_id, ALLOWED))
def test_an_allowed_move_changes_the_status_and_when_it_changed(community, before, after):
    idea = idea_in(community, before)
    then = idea.status_changed_at
    if after == Status.MERGED:
        idea.merged_into = make_idea(community, title="The idea it joins")
    reason = REASON if after == Status.NOT_TAKEN_FORWARD else ""

    assert idea.transition_error(after, reason=reason) is None
    assert idea.set_status(after, by=None, reason=reason) is True

    idea.refresh_from_db()
    assert idea.status == after
    assert idea.status_changed_at > then
    if after == Status.MERGED:
        assert idea.merged_into is not None


def expected_refusal(before, after) -> str:
    if before == Status.MERGED:
        return "merged into another"
    if before == Status.DONE:
        return "done"
    if after == Status.MERGED:
        return "Merge the idea into another one"
    return "cannot become"


@pytest.mark.parametrize(("before", "after"), REFUSED, ids=map(pair_id, REFUSED))
def test_a_refused_move_says_why_and_changes_nothing(community, before, after):
    idea = idea_in(community, before)
    then = idea.status_changed_at
    reason = REASON  # even with a reason, the table decides

    error = idea.transition_error(after, reason=reason)
    assert error is not None
    assert expected_refusal(before, after) in error
    with pytest.raises(StatusError) as refused:
        idea.set_status(after, by=None, reason=reason)
    assert message_of(refused) == error

    idea.refresh_from_db()
    assert idea.status == before
    assert idea.status_changed_at == then


@pytest.mark.parametrize("status", Status.values)
def test_staying_at_the_same_status_is_no_change(community, status):
    idea = idea_in(community, status)
    then = idea.status_changed_at

    assert idea.transition_error(status) is None
    assert idea.set_status(status, by=None) is False

    idea.refresh_from_db()
    assert idea.status == status
    assert idea.status_changed_at == then


@pytest.mark.parametrize("target", [s for s in Status.values if s != Status.MERGED])
def test_a_merged_idea_points_to_the_one_it_joined_for_any_change(community, target):
    idea = idea_in(community, Status.MERGED)
    assert "merged into another" in idea.transition_error(target, reason=REASON)
    with pytest.raises(StatusError, match="Change that idea instead"):
        idea.set_status(target, by=None, reason=REASON)


@pytest.mark.parametrize("target", [s for s in Status.values if s != Status.DONE])
def test_a_done_idea_keeps_its_status(community, target):
    idea = idea_in(community, Status.DONE)
    with pytest.raises(StatusError) as refused:
        idea.set_status(target, by=None, reason=REASON)
    assert "This idea is done" in message_of(refused)
    assert "Publish an update" in message_of(refused)


@pytest.mark.parametrize(
    "before", [s for s in Status.values if Status.MERGED in Idea.NEXT_STATUSES[s]]
)
def test_merging_needs_the_idea_it_joins(community, before):
    idea = idea_in(community, before)
    with pytest.raises(StatusError) as refused:
        idea.set_status(Status.MERGED, by=None)
    assert "Merge the idea into another one, so nothing it holds is lost." in message_of(refused)
    idea.refresh_from_db()
    assert idea.status == before and idea.merged_into is None


@pytest.mark.parametrize(
    "before", [s for s in Status.values if Status.NOT_TAKEN_FORWARD in Idea.NEXT_STATUSES[s]]
)
@pytest.mark.parametrize("reason", ["", "   \n "])
def test_not_taking_an_idea_forward_needs_a_reason(community, before, reason):
    idea = idea_in(community, before)
    with pytest.raises(StatusError) as refused:
        idea.set_status(Status.NOT_TAKEN_FORWARD, by=None, reason=reason)
    assert "Say why the idea is not taken forward" in message_of(refused)
    idea.refresh_from_db()
    assert idea.status == before


@pytest.mark.parametrize(
    ("before", "after"),
    [(a, b) for a, b in REFUSED if a not in (Status.DONE, Status.MERGED)],
    ids=map(pair_id, [(a, b) for a, b in REFUSED if a not in (Status.DONE, Status.MERGED)]),
)
def test_the_general_refusal_lists_where_the_idea_can_go(community, before, after):
    idea = idea_in(community, before)
    if after == Status.MERGED:
        # With somewhere to go, merging is refused by the table itself.
        idea.merged_into = make_idea(community, title="Elsewhere")
    message = idea.transition_error(after)
    assert f"An idea that is “{LABELS[before]}” cannot become “{LABELS[after]}” directly" in (
        message
    )
    for option in Idea.NEXT_STATUSES[before]:
        assert f"“{LABELS[option]}”" in message.split("From here it can become:")[1]
    assert f"“{LABELS[after]}”" not in message.split("From here it can become:")[1]


def test_an_unknown_status_is_refused_by_name(community):
    idea = idea_in(community, Status.NEW)
    with pytest.raises(StatusError, match="cannot become “archived” directly"):
        idea.set_status("archived", by=None)


@pytest.mark.parametrize("status", Status.values)
def test_the_statuses_picked_by_hand_leave_out_merging_and_not_taken_forward(community, status):
    idea = idea_in(community, status)
    offered = [value for value, _label in idea.allowed_statuses()]
    assert set(offered) == Idea.NEXT_STATUSES[status] - {
        Status.MERGED,
        Status.NOT_TAKEN_FORWARD,
    }
    # In the order of the status list, with their labels.
    assert offered == [s for s in Status.values if s in offered]
    assert all(label == LABELS[value] for value, label in idea.allowed_statuses())


def test_changing_status_by_hand_writes_the_history(community, coordinator):
    idea = idea_in(community, Status.NEW)

    changed = services.change_status(
        idea=idea, status=Status.CONSIDERING, by=coordinator, note="  Raised at the board.  "
    )

    assert changed.status == Status.CONSIDERING
    idea.refresh_from_db()
    assert idea.status == Status.CONSIDERING
    event = IdeaEvent.objects.get(idea=idea)
    assert event.kind == IdeaEvent.Kind.STATUS
    assert event.actor == coordinator
    assert event.status == Status.CONSIDERING
    assert event.note == "Raised at the board."


def test_changing_to_the_same_status_writes_no_history(community, coordinator):
    idea = idea_in(community, Status.CONSIDERING)
    services.change_status(idea=idea, status=Status.CONSIDERING, by=coordinator)
    assert not IdeaEvent.objects.filter(idea=idea).exists()


def test_not_taking_forward_by_hand_uses_the_note_as_the_reason(community, coordinator):
    idea = idea_in(community, Status.CONSIDERING)
    with pytest.raises(StatusError, match="Say why"):
        services.change_status(idea=idea, status=Status.NOT_TAKEN_FORWARD, by=coordinator)
    services.change_status(idea=idea, status=Status.NOT_TAKEN_FORWARD, by=coordinator, note=REASON)
    idea.refresh_from_db()
    assert idea.status == Status.NOT_TAKEN_FORWARD
    assert IdeaEvent.objects.get(idea=idea).note == REASON


def test_merging_is_not_a_change_by_hand(community, coordinator):
    idea = idea_in(community, Status.NEW)
    with pytest.raises(StatusError, match="Merge the idea into another one"):
        services.change_status(idea=idea, status=Status.MERGED, by=coordinator)
    idea.refresh_from_db()
    assert idea.status == Status.NEW
    assert not IdeaEvent.objects.filter(idea=idea).exists()


def test_a_refused_change_by_hand_writes_no_history(community, coordinator):
    idea = idea_in(community, Status.DONE)
    with pytest.raises(StatusError, match="done"):
        services.change_status(idea=idea, status=Status.CONSIDERING, by=coordinator)
    idea.refresh_from_db()
    assert idea.status == Status.DONE
    assert not IdeaEvent.objects.filter(idea=idea).exists()


def test_nothing_changes_in_an_archived_community(community, coordinator):
    idea = idea_in(community, Status.NEW)
    community.status = community.Status.ARCHIVED
    community.save()
    with pytest.raises(ArchivedError, match="archived"):
        services.change_status(idea=idea, status=Status.CONSIDERING, by=coordinator)
    idea.refresh_from_db()
    assert idea.status == Status.NEW
