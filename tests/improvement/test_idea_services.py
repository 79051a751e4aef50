"""Writes about ideas: adding, support, discussion, moderation, merging and decisions."""

from datetime import timedelta

import pytest
from django.utils import timezone

from communities.access import ArchivedError
from communities.models import Membership
from improvement import access, services
from improvement.models import (
    Comment,
    CommentReport,
    Decision,
    Idea,
    IdeaError,
    IdeaEvent,
    Support,
    Theme,
)
from improvement.signals import idea_decided
from members.models import Notification
from tests.improvement.factories import key_point, make_idea, new_member, past_session

pytestmark = pytest.mark.django_db

Status = Idea.Status
Outcome = Decision.Outcome
PAPER = {"on_behalf_of": "Mrs Begum", "contact_by": "phone", "contact_details": "0114 496 0000"}


def add(community, by, title="Clearer clinic letters", **kwargs) -> Idea:
    return services.add_idea(
        community=community, by=by, title=title, description="In plain English.", **kwargs
    )


def with_ground_rules(community) -> None:
    community.ground_rules = "Be kind. Keep what people share here."
    community.ground_rules_version = 2
    community.save()


def archive(community) -> None:
    community.status = community.Status.ARCHIVED
    community.save()


# --- Adding ideas ---------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["member", "partner", "coordinator", "staff"])
def test_people_who_take_part_add_their_own_ideas(request, community, persona):
    person = request.getfixturevalue(persona)
    idea = add(community, person, title="  Clearer clinic letters  ")
    assert idea.author == person and idea.entered_by is None
    assert idea.title == "Clearer clinic letters"
    assert idea.source == Idea.Source.ONLINE and idea.status == Status.NEW
    event = IdeaEvent.objects.get(idea=idea)
    assert (event.kind, event.actor, event.status) == (IdeaEvent.Kind.CREATED, person, Status.NEW)


@pytest.mark.parametrize("persona", ["outsider", "other_coordinator"])
def test_people_outside_the_community_cannot_add_ideas(request, community, persona):
    with pytest.raises(IdeaError, match="Join the community"):
        add(community, request.getfixturevalue(persona))
    assert not Idea.objects.exists()


@pytest.mark.parametrize("status", ["invited", "requested", "left", "removed", "declined"])
def test_people_not_active_in_the_community_cannot_add_ideas(community, status):
    person = new_member(community, "someone@example.org", status=status)
    with pytest.raises(IdeaError, match="Join the community"):
        add(community, person)


def test_a_member_agrees_the_current_ground_rules_before_adding_ideas(community, member):
    with_ground_rules(community)
    with pytest.raises(IdeaError, match="agree its ground rules"):
        add(community, member)
    Membership.objects.filter(user=member).update(rules_version_agreed=1)  # an older version
    with pytest.raises(IdeaError, match="agree its ground rules"):
        add(community, member)
    Membership.objects.filter(user=member).update(rules_version_agreed=2)
    assert add(community, member).author == member


@pytest.mark.parametrize("persona", ["coordinator", "staff"])
def test_coordinators_and_staff_take_part_before_agreeing_changed_ground_rules(
    request, community, persona
):
    """access.may_take_part: "coordinators and site staff always may". A coordinator
    whose community's ground rules just changed (they may have changed them) still runs
    and takes part in it; so does site staff who is also a member."""
    person = request.getfixturevalue(persona)
    if persona == "staff":
        Membership.objects.create(community=community, user=person, role="member")
    with_ground_rules(community)
    assert access.may_take_part(person, community)
    idea = add(community, person)
    assert services.add_comment(idea=idea, user=person, text="Noted.").author == person


def test_site_staff_who_is_no_member_takes_part(community, staff):
    with_ground_rules(community)
    assert add(community, staff).author == staff


@pytest.mark.parametrize("persona", ["partner", "coordinator", "staff"])
def test_coordinators_and_partners_enter_ideas_for_other_people(request, community, persona):
    person = request.getfixturevalue(persona)
    idea = add(community, person, on_behalf=PAPER, source=Idea.Source.PAPER)
    assert idea.author is None and idea.entered_by == person
    assert (idea.on_behalf_of, idea.contact_by, idea.contact_details) == tuple(PAPER.values())
    assert idea.source == Idea.Source.PAPER


@pytest.mark.parametrize("persona", ["member", "outsider", "other_coordinator"])
def test_others_cannot_enter_ideas_for_other_people(request, community, persona):
    person = request.getfixturevalue(persona)
    with pytest.raises(IdeaError, match="Only coordinators and partners"):
        add(community, person, on_behalf=PAPER)
    session = past_session(community)
    with pytest.raises(IdeaError, match="Only coordinators and partners"):
        add(community, person, key_point=key_point(session))
    assert not Idea.objects.exists()


def test_a_partner_who_left_cannot_enter_ideas_for_others(community):
    former = new_member(community, "former@example.org", role="partner", status="left")
    with pytest.raises(IdeaError, match="Only coordinators and partners"):
        add(community, former, on_behalf=PAPER)


def test_an_idea_from_a_key_point_comes_from_its_session(community, partner):
    session = past_session(community)
    point = key_point(session)
    idea = add(community, partner, key_point=point)
    assert idea.source == Idea.Source.SESSION
    assert idea.session == session and idea.key_point == point
    assert idea.author is None and idea.entered_by == partner


def test_only_the_communitys_own_themes_are_kept(community, other_community, member):
    access = Theme.objects.create(community=community, name="Access")
    elsewhere = Theme.objects.create(community=other_community, name="Elsewhere")
    idea = add(community, member, themes=[access, elsewhere])
    assert list(idea.themes.all()) == [access]


def test_no_ideas_are_added_in_an_archived_community(community, coordinator):
    archive(community)
    with pytest.raises(ArchivedError, match="archived"):
        add(community, coordinator)


def test_a_member_adds_only_so_many_ideas_an_hour(community, member):
    for n in range(services.IDEAS_PER_HOUR):
        add(community, member, title=f"Idea {n}")
    with pytest.raises(IdeaError, match="a lot of ideas in the last hour"):
        add(community, member, title="One too many")
    assert Idea.objects.filter(author=member).count() == services.IDEAS_PER_HOUR

    Idea.objects.filter(author=member).update(created_at=timezone.now() - timedelta(minutes=61))
    assert add(community, member, title="An hour later").author == member


def test_the_hourly_limit_is_per_person(community, member, partner):
    for n in range(services.IDEAS_PER_HOUR):
        add(community, member, title=f"Idea {n}")
    assert add(community, partner).author == partner


def test_ideas_typed_in_for_others_are_not_limited(community, partner):
    for n in range(services.IDEAS_PER_HOUR + 2):
        add(community, partner, title=f"From paper {n}", on_behalf=PAPER)
    assert Idea.objects.filter(entered_by=partner).count() == services.IDEAS_PER_HOUR + 2


# --- Support --------------------------------------------------------------------------------


def test_supporting_twice_counts_once(community, member):
    idea = make_idea(community)
    assert services.support_idea(idea=idea, user=member) is True
    assert services.support_idea(idea=idea, user=member) is False
    assert Support.objects.filter(idea=idea, user=member).count() == 1
    assert Idea.objects.get(pk=idea.pk).support_count == 1


def test_withdrawing_support(community, member):
    idea = make_idea(community)
    services.support_idea(idea=idea, user=member)
    assert services.withdraw_support(idea=idea, user=member) is True
    assert services.withdraw_support(idea=idea, user=member) is False
    assert not Support.objects.filter(idea=idea).exists()


@pytest.mark.parametrize("persona", ["outsider", "other_coordinator"])
def test_people_outside_the_community_cannot_support(request, community, persona):
    idea = make_idea(community)
    with pytest.raises(IdeaError, match="Join the community"):
        services.support_idea(idea=idea, user=request.getfixturevalue(persona))
    assert not Support.objects.exists()


def test_a_merged_idea_takes_no_support_or_comments(community, coordinator, member):
    target = make_idea(community, title="Target")
    source = make_idea(community, title="Source")
    services.merge_ideas(source=source, target=target, by=coordinator, note="Same.")
    source.refresh_from_db()
    with pytest.raises(IdeaError, match="support that one instead"):
        services.support_idea(idea=source, user=member)
    with pytest.raises(IdeaError, match="comment on that one instead"):
        services.add_comment(idea=source, user=member, text="Hello")
    assert not Support.objects.exists() and not Comment.objects.exists()


def test_no_support_in_an_archived_community(community, member):
    idea = make_idea(community)
    archive(community)
    with pytest.raises(ArchivedError, match="archived"):
        services.support_idea(idea=idea, user=member)


# --- Comments -------------------------------------------------------------------------------


def test_a_member_comments(community, member):
    idea = make_idea(community)
    comment = services.add_comment(idea=idea, user=member, text="  Yes, please.  ")
    assert comment.author == member and comment.idea == idea
    assert comment.text == "Yes, please."


def test_a_double_tap_keeps_one_comment(community, member):
    idea = make_idea(community)
    first = services.add_comment(idea=idea, user=member, text="Yes, please.")
    again = services.add_comment(idea=idea, user=member, text="Yes, please.\n")
    assert again.pk == first.pk
    assert Comment.objects.filter(idea=idea).count() == 1


def test_saying_something_else_or_repeating_a_hidden_comment_is_a_new_comment(
    community, member, coordinator
):
    idea = make_idea(community)
    first = services.add_comment(idea=idea, user=member, text="Yes, please.")
    services.add_comment(idea=idea, user=member, text="And soon.")
    assert services.add_comment(idea=idea, user=member, text="Yes, please.").pk != first.pk

    hidden = services.add_comment(idea=idea, user=member, text="Rude words.")
    services.hide_comment(comment=hidden, by=coordinator, reason="Breaks the ground rules.")
    assert services.add_comment(idea=idea, user=member, text="Rude words.").pk != hidden.pk
    assert Comment.objects.filter(idea=idea).count() == 5


def test_someone_elses_same_words_are_their_own_comment(community, member, partner):
    idea = make_idea(community)
    services.add_comment(idea=idea, user=member, text="Agreed.")
    services.add_comment(idea=idea, user=partner, text="Agreed.")
    assert Comment.objects.filter(idea=idea).count() == 2


@pytest.mark.parametrize("persona", ["outsider", "other_coordinator"])
def test_people_outside_the_community_cannot_comment(request, community, persona):
    idea = make_idea(community)
    with pytest.raises(IdeaError, match="Join the community"):
        services.add_comment(idea=idea, user=request.getfixturevalue(persona), text="Hi")


def test_a_member_who_has_not_agreed_new_ground_rules_cannot_comment(community, member):
    with_ground_rules(community)
    idea = make_idea(community)
    with pytest.raises(IdeaError, match="agree its ground rules"):
        services.add_comment(idea=idea, user=member, text="Hi")


def test_a_member_comments_only_so_much_in_ten_minutes(community, member):
    ideas = [make_idea(community, title="One"), make_idea(community, title="Two")]
    for n in range(services.COMMENTS_PER_TEN_MINUTES):
        services.add_comment(idea=ideas[n % 2], user=member, text=f"Thought {n}")
    with pytest.raises(IdeaError, match="commented a lot"):
        services.add_comment(idea=ideas[0], user=member, text="One more thought")
    # A double tap of the last comment still lands on it, with no error.
    last = services.COMMENTS_PER_TEN_MINUTES - 1
    services.add_comment(idea=ideas[last % 2], user=member, text=f"Thought {last}")  # no error
    assert Comment.objects.filter(author=member).count() == services.COMMENTS_PER_TEN_MINUTES

    Comment.objects.update(created_at=timezone.now() - timedelta(minutes=11))
    assert services.add_comment(idea=ideas[0], user=member, text="Later on").pk


def test_the_comment_limit_is_per_person(community, member, partner):
    idea = make_idea(community)
    for n in range(services.COMMENTS_PER_TEN_MINUTES):
        services.add_comment(idea=idea, user=member, text=f"Thought {n}")
    assert services.add_comment(idea=idea, user=partner, text="My turn").author == partner


def test_an_author_corrects_a_comment_within_fifteen_minutes(community, member):
    idea = make_idea(community)
    comment = services.add_comment(idea=idea, user=member, text="Yes plese.")
    Comment.objects.filter(pk=comment.pk).update(created_at=timezone.now() - timedelta(minutes=14))
    comment.refresh_from_db()
    edited = services.edit_comment(comment=comment, user=member, text=" Yes please. ")
    edited.refresh_from_db()
    assert edited.text == "Yes please."
    assert edited.edited_at is not None


def test_a_comment_cannot_be_changed_after_fifteen_minutes(community, member):
    idea = make_idea(community)
    comment = services.add_comment(idea=idea, user=member, text="Yes plese.")
    comment.created_at = timezone.now() - timedelta(minutes=16)
    comment.save()
    with pytest.raises(IdeaError, match="15 minutes"):
        services.edit_comment(comment=comment, user=member, text="Yes please.")
    comment.refresh_from_db()
    assert comment.text == "Yes plese." and comment.edited_at is None


def test_a_hidden_comment_cannot_be_changed(community, member, coordinator):
    idea = make_idea(community)
    comment = services.add_comment(idea=idea, user=member, text="Rude words.")
    services.hide_comment(comment=comment, by=coordinator, reason="Breaks the rules.")
    with pytest.raises(IdeaError, match="not once hidden"):
        services.edit_comment(comment=comment, user=member, text="Nice words.")
    comment.refresh_from_db()
    assert comment.text == "Rude words."


@pytest.mark.parametrize("persona", ["partner", "coordinator", "outsider"])
def test_only_the_author_changes_a_comment(request, community, member, persona):
    idea = make_idea(community)
    comment = services.add_comment(idea=idea, user=member, text="Mine.")
    with pytest.raises(IdeaError, match="by their author"):
        services.edit_comment(comment=comment, user=request.getfixturevalue(persona), text="No")


def test_may_edit_comment_knows_the_window(community, member):
    idea = make_idea(community)
    comment = services.add_comment(idea=idea, user=member, text="Mine.")
    now = comment.created_at
    assert access.may_edit_comment(member, comment, now=now + timedelta(minutes=15))
    assert not access.may_edit_comment(member, comment, now=now + timedelta(minutes=15, seconds=1))


# --- Reports and moderation -----------------------------------------------------------------


def reported_kinds():
    return Notification.objects.filter(kind="comment_reported")


def test_reporting_a_comment_tells_the_coordinators_once(
    community, coordinator, partner, member, other_coordinator
):
    second = new_member(community, "second@example.org", role="coordinator")
    idea = make_idea(community)
    comment = services.add_comment(idea=idea, user=partner, text="Rude words.")

    report = services.report_comment(comment=comment, by=member, reason="  It is unkind. ")
    assert report.reason == "It is unkind." and report.reporter == member
    told = reported_kinds()
    assert {n.recipient for n in told} == {coordinator, second}
    assert all(n.community == community for n in told)

    again = services.report_comment(comment=comment, by=member, reason="Still unkind.")
    assert again.pk == report.pk
    assert CommentReport.objects.filter(comment=comment).count() == 1
    assert reported_kinds().count() == 2
    again.refresh_from_db()
    assert again.reason == "It is unkind."


def test_each_reporter_is_heard(community, coordinator, partner, member):
    idea = make_idea(community)
    comment = services.add_comment(idea=idea, user=coordinator, text="Hmm.")
    services.report_comment(comment=comment, by=member, reason="Unkind.")
    services.report_comment(comment=comment, by=partner, reason="Unkind.")
    assert CommentReport.objects.filter(comment=comment).count() == 2
    assert reported_kinds().filter(recipient=coordinator).count() == 2


def test_reports_are_told_after_commit(
    community, coordinator, member, django_capture_on_commit_callbacks
):
    idea = make_idea(community)
    comment = services.add_comment(idea=idea, user=coordinator, text="Hmm.")
    with django_capture_on_commit_callbacks() as callbacks:
        services.report_comment(comment=comment, by=member, reason="Unkind.")
    # The row is written with the report; delivering it waits for the commit.
    assert reported_kinds().filter(recipient=coordinator).exists()
    assert len(callbacks) == 1


@pytest.mark.parametrize("persona", ["outsider", "other_coordinator"])
def test_people_outside_the_community_cannot_report(request, community, member, persona):
    idea = make_idea(community)
    comment = services.add_comment(idea=idea, user=member, text="Hi.")
    with pytest.raises(IdeaError, match="Join the community"):
        services.report_comment(
            comment=comment, by=request.getfixturevalue(persona), reason="Unkind."
        )
    assert not CommentReport.objects.exists()
    assert not reported_kinds().exists()


@pytest.mark.parametrize("reason", ["", "   "])
def test_hiding_a_comment_needs_a_reason(community, coordinator, member, reason):
    comment = services.add_comment(idea=make_idea(community), user=member, text="Rude.")
    with pytest.raises(IdeaError, match="Say why the comment is hidden"):
        services.hide_comment(comment=comment, by=coordinator, reason=reason)
    comment.refresh_from_db()
    assert not comment.is_hidden


def test_hiding_a_comment_keeps_it_and_settles_its_reports(community, coordinator, partner, member):
    idea = make_idea(community)
    comment = services.add_comment(idea=idea, user=member, text="Rude.")
    services.report_comment(comment=comment, by=partner, reason="Unkind.")

    services.hide_comment(comment=comment, by=coordinator, reason="  Unkind to a member. ")

    comment.refresh_from_db()
    assert comment.is_hidden and comment.hidden_by == coordinator
    assert comment.hidden_reason == "Unkind to a member."
    assert Comment.objects.filter(pk=comment.pk).exists()
    report = CommentReport.objects.get(comment=comment)
    assert report.resolved_at is not None and report.resolved_by == coordinator
    assert Idea.objects.get(pk=idea.pk).comment_count == 0


def test_hiding_again_keeps_the_first_reason_and_settles_new_reports(
    community, coordinator, partner, member, staff
):
    comment = services.add_comment(idea=make_idea(community), user=member, text="Rude.")
    services.hide_comment(comment=comment, by=coordinator, reason="First reason.")
    services.report_comment(comment=comment, by=partner, reason="Still there.")
    services.hide_comment(comment=comment, by=staff, reason="Second reason.")
    comment.refresh_from_db()
    assert comment.hidden_by == coordinator and comment.hidden_reason == "First reason."
    assert CommentReport.objects.get(comment=comment).resolved_by == staff


def test_dismissing_reports_leaves_the_comment_up(community, coordinator, partner, member):
    comment = services.add_comment(idea=make_idea(community), user=member, text="Fine.")
    services.report_comment(comment=comment, by=partner, reason="Hmm.")
    assert services.dismiss_reports(comment=comment, by=coordinator) == 1
    assert services.dismiss_reports(comment=comment, by=coordinator) == 0
    comment.refresh_from_db()
    assert not comment.is_hidden
    assert CommentReport.objects.get(comment=comment).resolved_by == coordinator


# --- Merging --------------------------------------------------------------------------------


def test_an_idea_cannot_be_merged_into_itself(community, coordinator):
    idea = make_idea(community)
    with pytest.raises(IdeaError, match="cannot be merged into itself"):
        services.merge_ideas(source=idea, target=idea, by=coordinator, note="")
    idea.refresh_from_db()
    assert idea.status == Status.NEW


def test_an_idea_cannot_be_merged_into_a_merged_idea(community, coordinator):
    a, b, c = (make_idea(community, title=t) for t in "ABC")
    services.merge_ideas(source=b, target=a, by=coordinator, note="")
    with pytest.raises(IdeaError, match="“B” was itself merged into another idea"):
        services.merge_ideas(source=c, target=b, by=coordinator, note="")
    c.refresh_from_db()
    assert c.status == Status.NEW and c.merged_into is None


def test_a_merged_idea_cannot_be_merged_again(community, coordinator):
    a, b, c = (make_idea(community, title=t) for t in "ABC")
    services.merge_ideas(source=b, target=a, by=coordinator, note="")
    with pytest.raises(IdeaError, match="already been merged"):
        services.merge_ideas(source=b, target=c, by=coordinator, note="")
    b.refresh_from_db()
    assert b.merged_into == a


@pytest.mark.parametrize(
    "status, label",
    [(Status.DONE, "Done"), (Status.IN_PROGRESS, "In progress"),
     (Status.NOT_TAKEN_FORWARD, "Not taken forward")],
)  # fmt: skip
def test_an_idea_with_its_own_outcome_cannot_be_merged(community, coordinator, status, label):
    target = make_idea(community, title="Target")
    source = make_idea(community, title="Source", status=status)
    with pytest.raises(IdeaError, match=f"“{label}” cannot be merged"):
        services.merge_ideas(source=source, target=target, by=coordinator, note="")
    source.refresh_from_db()
    assert source.status == status and source.merged_into is None


def test_the_same_comment_days_later_is_a_new_comment(community, member):
    from datetime import timedelta

    from django.utils import timezone

    from improvement.models import Comment

    idea = make_idea(community, title="Idea")
    first = services.add_comment(idea=idea, user=member, text="Any news?")
    Comment.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(days=3))
    second = services.add_comment(idea=idea, user=member, text="Any news?")
    assert second.pk != first.pk


def test_ideas_merge_only_within_one_community(community, other_community, coordinator):
    here = make_idea(community, title="Here")
    there = make_idea(other_community, title="There")
    with pytest.raises(IdeaError, match="within one community"):
        services.merge_ideas(source=there, target=here, by=coordinator, note="")
    there.refresh_from_db()
    assert there.status == Status.NEW


def test_no_merging_in_an_archived_community(community, coordinator):
    a, b = make_idea(community, title="A"), make_idea(community, title="B")
    archive(community)
    with pytest.raises(ArchivedError, match="archived"):
        services.merge_ideas(source=b, target=a, by=coordinator, note="")


def test_merging_moves_everything_the_idea_holds(community, coordinator, partner, member):
    target = make_idea(community, title="Clearer letters")
    source = make_idea(community, title="Plain English letters", author=member)
    both, only_source = partner, new_member(community, "s@example.org")
    Support.objects.create(idea=target, user=both)
    Support.objects.create(idea=source, user=both)
    Support.objects.create(idea=source, user=only_source)
    said = services.add_comment(idea=source, user=member, text="Please.")
    hidden = services.add_comment(idea=source, user=partner, text="Rude.")
    services.hide_comment(comment=hidden, by=coordinator, reason="Rude.")
    access, letters, money = (
        Theme.objects.create(community=community, name=n) for n in ("Access", "Letters", "Money")
    )
    target.themes.set([access, letters])
    source.themes.set([letters, money])

    result = services.merge_ideas(source=source, target=target, by=coordinator, note=" Same. ")

    assert result.pk == target.pk
    source.refresh_from_db()
    assert source.status == Status.MERGED and source.merged_into == target
    assert source.author == member  # where it came from stays on it
    # Supporters, each counted once.
    assert set(Support.objects.filter(idea=target).values_list("user", flat=True)) == {
        both.pk,
        only_source.pk,
    }
    assert not Support.objects.filter(idea=source).exists()
    assert Idea.objects.get(pk=target.pk).support_count == 2
    # Comments, hidden ones too, remembering where they were made.
    for comment in (said, hidden):
        comment.refresh_from_db()
        assert comment.idea == target and comment.moved_from == source
    assert set(target.themes.all()) == {access, letters, money}
    # Both histories tell of it.
    into = IdeaEvent.objects.get(idea=source, kind=IdeaEvent.Kind.MERGED_INTO)
    assert (into.other_idea, into.actor, into.note, into.status) == (
        target,
        coordinator,
        "Same.",
        Status.MERGED,
    )
    from_ = IdeaEvent.objects.get(idea=target, kind=IdeaEvent.Kind.MERGED_FROM)
    assert (from_.other_idea, from_.actor, from_.note) == (source, coordinator, "Same.")
    # It no longer stands on its own.
    assert list(Idea.objects.listed()) == [target]
    assert set(Idea.objects.filter(pk=target.pk).with_merged()) == {source, target}


def test_comments_merged_twice_remember_where_they_were_first_made(community, coordinator, member):
    a, b, c = (make_idea(community, title=t) for t in "ABC")
    on_c = services.add_comment(idea=c, user=member, text="On C.")
    on_b = services.add_comment(idea=b, user=member, text="On B.")
    services.merge_ideas(source=c, target=b, by=coordinator, note="")
    services.merge_ideas(source=b, target=a, by=coordinator, note="")
    on_c.refresh_from_db()
    on_b.refresh_from_db()
    assert (on_c.idea, on_c.moved_from) == (a, c)
    assert (on_b.idea, on_b.moved_from) == (a, b)
    c.refresh_from_db()
    assert c.merged_into == a
    assert set(Idea.objects.filter(pk=a.pk).with_merged()) == {a, b, c}


def test_a_refused_merge_changes_nothing(community, coordinator, member):
    target = make_idea(community, title="Target")
    source = make_idea(community, title="In progress", status=Status.IN_PROGRESS)
    Support.objects.create(idea=source, user=member)
    services.add_comment(idea=source, user=member, text="Hi.")
    with pytest.raises(IdeaError):
        services.merge_ideas(source=source, target=target, by=coordinator, note="")
    source.refresh_from_db()
    assert source.status == Status.IN_PROGRESS and source.merged_into is None
    assert Support.objects.get().idea == source
    assert Comment.objects.get().idea == source and Comment.objects.get().moved_from is None
    assert not IdeaEvent.objects.exists()


# --- Decisions ------------------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["", "  \n "])
def test_a_decision_needs_a_reason(community, coordinator, reason):
    idea = make_idea(community)
    with pytest.raises(IdeaError, match="Give the reason"):
        services.decide(idea=idea, outcome=Outcome.ADOPT, reason=reason, by=coordinator)
    assert not Decision.objects.exists()


@pytest.mark.parametrize(
    ("before", "outcome", "after"),
    [
        (Status.NEW, Outcome.ADOPT, Status.PRIORITISED),
        (Status.NEW, Outcome.ADAPT, Status.PRIORITISED),
        (Status.NEW, Outcome.NOT_NOW, Status.CONSIDERING),
        (Status.NEW, Outcome.NOT_TAKEN_FORWARD, Status.NOT_TAKEN_FORWARD),
        (Status.CONSIDERING, Outcome.ADOPT, Status.PRIORITISED),
        (Status.CONSIDERING, Outcome.NOT_NOW, Status.CONSIDERING),
        (Status.CONSIDERING, Outcome.NOT_TAKEN_FORWARD, Status.NOT_TAKEN_FORWARD),
        (Status.PRIORITISED, Outcome.ADOPT, Status.PRIORITISED),
        (Status.IN_PROGRESS, Outcome.NOT_NOW, Status.IN_PROGRESS),
        (Status.IN_PROGRESS, Outcome.NOT_TAKEN_FORWARD, Status.NOT_TAKEN_FORWARD),
        (Status.NOT_TAKEN_FORWARD, Outcome.NOT_TAKEN_FORWARD, Status.NOT_TAKEN_FORWARD),
        (Status.NOT_TAKEN_FORWARD, Outcome.ADOPT, Status.PRIORITISED),
    ],
)
def test_a_decision_moves_the_idea_where_its_table_allows(
    community, coordinator, before, outcome, after
):
    idea = make_idea(community, status=before)
    decision = services.decide(idea=idea, outcome=outcome, reason="  Because.  ", by=coordinator)
    idea.refresh_from_db()
    assert idea.status == after
    assert decision.reason == "Because." and decision.decided_by == coordinator
    assert decision.outcome == outcome


@pytest.mark.parametrize("outcome", [Outcome.ADOPT, Outcome.ADAPT])
def test_adopting_an_idea_already_in_progress_keeps_it_in_progress(community, coordinator, outcome):
    """The docstring of services.decide: "An idea already further on (in progress, say)
    keeps its status." Adopting work that is under way must not send it back a step."""
    idea = make_idea(community, status=Status.IN_PROGRESS)
    services.decide(idea=idea, outcome=outcome, reason="Keep going.", by=coordinator)
    idea.refresh_from_db()
    assert idea.status == Status.IN_PROGRESS


def test_a_decision_is_recorded_with_its_history(community, coordinator):
    idea = make_idea(community)
    decision = services.decide(
        idea=idea, outcome=Outcome.NOT_TAKEN_FORWARD, reason="No budget.", by=coordinator
    )
    idea.refresh_from_db()
    assert idea.decided_at == decision.decided_at
    assert idea.status == Status.NOT_TAKEN_FORWARD
    assert idea.status_changed_at >= decision.decided_at - timedelta(seconds=1)
    event = IdeaEvent.objects.get(idea=idea, kind=IdeaEvent.Kind.DECIDED)
    assert event.actor == coordinator and event.at == decision.decided_at
    assert event.status == Status.NOT_TAKEN_FORWARD
    assert event.note == "Not taken forward: No budget."
    assert list(idea.decisions.all()) == [decision]


@pytest.mark.parametrize(
    ("status", "why"), [(Status.MERGED, "merged into another"), (Status.DONE, "is done")]
)
@pytest.mark.parametrize("outcome", Outcome.values)
def test_no_decision_on_a_merged_or_done_idea(community, coordinator, status, why, outcome):
    target = make_idea(community, title="Target")
    idea = make_idea(
        community, status=status, merged_into=target if status == Status.MERGED else None
    )
    with pytest.raises(IdeaError, match=why):
        services.decide(idea=idea, outcome=outcome, reason="Because.", by=coordinator)
    assert not Decision.objects.exists()
    assert not IdeaEvent.objects.exists()
    idea.refresh_from_db()
    assert idea.decided_at is None


def test_no_decision_in_an_archived_community(community, coordinator):
    idea = make_idea(community)
    archive(community)
    with pytest.raises(ArchivedError, match="archived"):
        services.decide(idea=idea, outcome=Outcome.ADOPT, reason="Yes.", by=coordinator)


def test_a_later_decision_updates_when_it_was_last_decided(community, coordinator):
    idea = make_idea(community)
    first = services.decide(idea=idea, outcome=Outcome.NOT_NOW, reason="Later.", by=coordinator)
    Decision.objects.filter(pk=first.pk).update(decided_at=timezone.now() - timedelta(days=30))
    second = services.decide(idea=idea, outcome=Outcome.ADOPT, reason="Now.", by=coordinator)
    idea.refresh_from_db()
    assert idea.decided_at == second.decided_at
    assert list(idea.decisions.all()) == [second, first]
    assert IdeaEvent.objects.filter(idea=idea, kind=IdeaEvent.Kind.DECIDED).count() == 2


def test_idea_decided_is_sent_only_after_commit(
    community, coordinator, django_capture_on_commit_callbacks
):
    heard = []

    def receiver(sender, decision, **kwargs):
        heard.append((sender, decision))

    idea_decided.connect(receiver)
    try:
        idea = make_idea(community)
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            decision = services.decide(
                idea=idea, outcome=Outcome.ADOPT, reason="Yes.", by=coordinator
            )
            assert heard == []  # not while the transaction is open
        assert len(callbacks) == 1
        assert heard == [(Decision, decision)]
    finally:
        idea_decided.disconnect(receiver)


def test_a_refused_decision_sends_nothing(
    community, coordinator, django_capture_on_commit_callbacks
):
    heard = []

    def receiver(sender, decision, **kwargs):
        heard.append(decision)

    idea_decided.connect(receiver)
    try:
        idea = make_idea(community, status=Status.DONE)
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            with pytest.raises(IdeaError):
                services.decide(idea=idea, outcome=Outcome.ADOPT, reason="Yes.", by=coordinator)
        assert callbacks == [] and heard == []
    finally:
        idea_decided.disconnect(receiver)
