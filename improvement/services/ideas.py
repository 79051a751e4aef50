"""Writes about ideas: each is one transaction, with what others must hear sent after commit."""

from collections.abc import Iterable
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from communities.access import refuse_if_archived
from communities.models import Community, Membership
from engagement.models import Answer, KeyPoint
from improvement.access import may_edit_comment, may_enter_on_behalf, may_take_part
from improvement.models import (
    COMMENT_EDIT_WINDOW,
    DEFAULT_CRITERIA,
    Comment,
    CommentReport,
    Criterion,
    Decision,
    Idea,
    IdeaError,
    IdeaEvent,
    PrioritisationRound,
    RoundError,
    Score,
    Scorer,
    Support,
    Theme,
)
from improvement.signals import idea_decided
from members import revisions
from members.models import User
from members.outbox import notify
from members.status import StatusError

# Enough for a busy evening of discussion; not enough to flood a community.
IDEAS_PER_HOUR = 10
COMMENTS_PER_TEN_MINUTES = 8
# The same comment sent again within this long is a double tap, kept once.
DOUBLE_TAP = timedelta(minutes=2)


def _too_many(model, *, field: str, user: User, since: timedelta, limit: int) -> bool:
    recent = model.objects.filter(**{field: user}, created_at__gte=timezone.now() - since).count()
    return recent >= limit


@transaction.atomic
def add_idea(
    *,
    community: Community,
    by: User,
    title: str,
    description: str,
    themes: Iterable[Theme] = (),
    on_behalf: dict | None = None,
    source: str = Idea.Source.ONLINE,
    session=None,
    key_point: KeyPoint | None = None,
    survey_answer: Answer | None = None,
) -> Idea:
    """Add an idea. A member's own idea needs them to take part in the community; an idea
    entered for someone else (`on_behalf` with on_behalf_of, contact_by, contact_details)
    needs a coordinator or partner, and keeps how to reach that person."""
    refuse_if_archived(community)
    entered = on_behalf is not None or key_point is not None or survey_answer is not None
    if entered:
        if not may_enter_on_behalf(by, community):
            raise IdeaError(_("Only coordinators and partners can add ideas for other people."))
    elif not may_take_part(by, community):
        raise IdeaError(_("Join the community and agree its ground rules to add ideas."))
    if not entered and _too_many(
        Idea, field="author", user=by, since=timedelta(hours=1), limit=IDEAS_PER_HOUR
    ):
        raise IdeaError(
            _("You have added a lot of ideas in the last hour. Please wait a while and try again.")
        )
    if (key_point and key_point.session.community_id != community.pk) or (
        survey_answer and survey_answer.response.survey.community_id != community.pk
    ):
        raise IdeaError(_("That input was given in another community."))
    if key_point is not None:
        source, session = Idea.Source.SESSION, key_point.session
    survey = None
    if survey_answer is not None:
        source, survey = Idea.Source.SURVEY, survey_answer.response.survey
    title, description = title.strip(), description.strip()
    repeat = (
        Idea.objects.select_for_update()
        .filter(
            community=community,
            title=title,
            description=description,
            created_at__gte=timezone.now() - DOUBLE_TAP,
            **({"entered_by": by} if entered else {"author": by}),
        )
        .first()
    )
    if repeat is not None:
        return repeat  # the same idea sent twice in a moment: a double tap, kept once
    idea = Idea.objects.create(
        community=community,
        title=title,
        description=description,
        source=source,
        session=session,
        key_point=key_point,
        survey=survey,
        survey_answer=survey_answer,
        survey_response=survey_answer.response if survey_answer else None,
        author=None if entered else by,
        entered_by=by if entered else None,
        **(on_behalf or {}),
    )
    idea.themes.set([t for t in themes if t.community_id == community.pk])
    IdeaEvent.objects.create(idea=idea, kind=IdeaEvent.Kind.CREATED, actor=by, status=idea.status)
    return idea


@transaction.atomic
def support_idea(*, idea: Idea, user: User) -> bool:
    """Support an idea. Doing it twice does nothing more. Returns whether it was new."""
    refuse_if_archived(idea.community)
    idea = _locked(idea)  # a merge moving supports waits, or goes first and is seen here
    if not idea.is_open_for_discussion:
        raise IdeaError(_("This idea was merged into another one: support that one instead."))
    if not may_take_part(user, idea.community):
        raise IdeaError(_("Join the community and agree its ground rules to support ideas."))
    support, created = Support.objects.get_or_create(idea=idea, user=user)
    if created:
        _recount(idea)
    return created


@transaction.atomic
def withdraw_support(*, idea: Idea, user: User) -> bool:
    refuse_if_archived(idea.community)
    idea = _locked(idea)
    deleted, _rows = Support.objects.filter(idea=idea, user=user).delete()
    if deleted:
        _recount(idea)
    return bool(deleted)


@transaction.atomic
def add_comment(*, idea: Idea, user: User, text: str) -> Comment:
    """Comment under the ground rules. The same text sent again straight away (a double
    tap) is kept once."""
    refuse_if_archived(idea.community)
    idea = _locked(idea)  # also makes two quick posts of one comment wait for each other
    if not idea.is_open_for_discussion:
        raise IdeaError(_("This idea was merged into another one: comment on that one instead."))
    if not may_take_part(user, idea.community):
        raise IdeaError(_("Join the community and agree its ground rules to comment."))
    text = text.strip()
    last = Comment.objects.filter(idea=idea, author=user).order_by("-created_at", "-pk").first()
    if (
        last is not None
        and last.text == text
        and not last.is_hidden
        and timezone.now() - last.created_at < DOUBLE_TAP
    ):
        return last
    if _too_many(
        Comment,
        field="author",
        user=user,
        since=timedelta(minutes=10),
        limit=COMMENTS_PER_TEN_MINUTES,
    ):
        raise IdeaError(
            _(
                "You have commented a lot in the last few minutes. Please wait a little and try "
                "again; your comment is still in the box."
            )
        )
    comment = Comment.objects.create(idea=idea, author=user, text=text)
    _recount(idea)
    return comment


@transaction.atomic
def edit_comment(*, comment: Comment, user: User, text: str) -> Comment:
    refuse_if_archived(comment.idea.community)
    if not may_edit_comment(user, comment):
        raise IdeaError(
            _(
                "Comments can be changed by their author for %(minutes)s minutes after posting, "
                "and not once hidden."
            )
            % {"minutes": int(COMMENT_EDIT_WINDOW.total_seconds() // 60)}
        )
    comment.text = text.strip()
    comment.edited_at = timezone.now()
    comment.save(update_fields=["text", "edited_at"])
    return comment


@transaction.atomic
def report_comment(*, comment: Comment, by: User, reason: str) -> CommentReport:
    """Ask the coordinators to look at a comment. Reporting again changes nothing; the
    coordinators hear once per report."""
    community = comment.idea.community
    refuse_if_archived(community)
    if not may_take_part(by, community):
        raise IdeaError(_("Join the community to report a comment."))
    report, created = CommentReport.objects.get_or_create(
        comment=comment, reporter=by, defaults={"reason": reason.strip()}
    )
    if created:
        notify(
            recipients=community.coordinator_people(),
            kind="comment_reported",
            about=report,
            community=community,
        )
    return report


@transaction.atomic
def hide_comment(*, comment: Comment, by: User, reason: str) -> Comment:
    """Hide a comment with a reason. It stays in the record and shows as hidden; its
    reports are settled."""
    refuse_if_archived(comment.idea.community)
    reason = reason.strip()
    if not reason:
        raise IdeaError(_("Say why the comment is hidden; its author and readers will see it."))
    now = timezone.now()
    if not comment.is_hidden:
        _locked(comment.idea)  # its count waits for, or is seen by, other comments' writes
        comment.hidden_at, comment.hidden_by, comment.hidden_reason = now, by, reason
        comment.save(update_fields=["hidden_at", "hidden_by", "hidden_reason"])
        _recount(comment.idea)
    comment.reports.filter(resolved_at__isnull=True).update(resolved_at=now, resolved_by=by)
    return comment


@transaction.atomic
def dismiss_reports(*, comment: Comment, by: User) -> int:
    """Leave a reported comment up: its reports are settled."""
    refuse_if_archived(comment.idea.community)
    return comment.reports.filter(resolved_at__isnull=True).update(
        resolved_at=timezone.now(), resolved_by=by
    )


@transaction.atomic
def save_theme(*, community: Community, form) -> Theme:
    """Add a theme, or rename one (the form carries the theme)."""
    refuse_if_archived(community)
    return form.save()


@transaction.atomic
def remove_theme(*, theme: Theme) -> None:
    """Take a theme away; the ideas it was on are kept."""
    refuse_if_archived(theme.community)
    theme.delete()


def _locked(idea: Idea) -> Idea:
    return Idea.objects.select_for_update().select_related("community").get(pk=idea.pk)


def _recount(idea: Idea) -> None:
    """Keep an idea's support and comment counts right after its supports or comments
    changed, in the caller's transaction. The caller holds the idea's row locked, as every
    writer of its supports and comments does, so the count sees all of them."""
    Idea.objects.filter(pk=idea.pk).recount()


@transaction.atomic
def change_status(*, idea: Idea, status: str, by: User, note: str = "") -> Idea:
    """Move an idea by hand along its status table, with its history kept."""
    refuse_if_archived(idea.community)
    idea = _locked(idea)
    if idea.set_status(status, by=by, reason=note):
        IdeaEvent.objects.create(
            idea=idea, kind=IdeaEvent.Kind.STATUS, actor=by, status=status, note=note.strip()
        )
    return idea


@transaction.atomic
def merge_ideas(*, source: Idea, target: Idea, by: User, note: str) -> Idea:
    """Merge `source` into `target`. Everything `source` holds becomes part of `target`:
    its supporters (each counted once), its comments, its themes and the ideas merged into
    it before; its author and where it came from stay on it and count for `target`. The
    merge is written in both ideas' history."""
    refuse_if_archived(target.community)
    if source.pk == target.pk:
        raise IdeaError(_("An idea cannot be merged into itself. Choose another idea."))
    first, second = sorted([source.pk, target.pk])  # lock in one order: no deadlock
    locked = {
        i.pk: i
        for i in Idea.objects.select_for_update().filter(pk__in=[first, second]).order_by("pk")
    }
    source, target = locked[source.pk], locked[target.pk]
    if source.community_id != target.community_id:
        raise IdeaError(_("Ideas can only be merged within one community."))
    if target.status == Idea.Status.MERGED:
        raise IdeaError(
            _("“%(title)s” was itself merged into another idea. Merge into that one instead.")
            % {"title": target.title}
        )
    if source.status == Idea.Status.MERGED:
        raise IdeaError(_("This idea has already been merged."))
    if Idea.Status.MERGED not in Idea.NEXT_STATUSES[source.status]:
        raise IdeaError(
            _("An idea that is “%(status)s” cannot be merged: it has its own outcome.")
            % {"status": source.get_status_display()}
        )
    note = note.strip()

    already = Support.objects.filter(idea=target).values("user")
    Support.objects.filter(idea=source, user__in=already).delete()
    Support.objects.filter(idea=source).update(idea=target)
    Comment.objects.filter(idea=source, moved_from__isnull=True).update(moved_from=source)
    Comment.objects.filter(idea=source).update(idea=target)
    for idea in (source, target):  # written without signals: both discussions changed
        revisions.updated(Comment, idea=idea)
    target.themes.add(*source.themes.all())
    Idea.objects.filter(merged_into=source).update(merged_into=target)
    # The supports and comments moved: count both ideas again (both are locked).
    Idea.objects.filter(pk__in=[source.pk, target.pk]).recount()
    # Rounds still being set up or scored stop asking about the merged idea; a closed round
    # keeps its record as it was.
    for round_ in source.rounds.exclude(status=PrioritisationRound.Status.CLOSED):
        round_.ideas.remove(source)
        Score.objects.filter(scorer__round=round_, idea=source).delete()

    source.merged_into = target
    source.set_status(Idea.Status.MERGED, by=by)
    now = timezone.now()
    IdeaEvent.objects.bulk_create(
        [
            IdeaEvent(
                idea=source,
                kind=IdeaEvent.Kind.MERGED_INTO,
                actor=by,
                at=now,
                other_idea=target,
                note=note,
                status=Idea.Status.MERGED,
            ),
            IdeaEvent(
                idea=target,
                kind=IdeaEvent.Kind.MERGED_FROM,
                actor=by,
                at=now,
                other_idea=source,
                note=note,
            ),
        ]
    )
    return target


# What a decision does to an idea's status: (the status it moves to, the statuses it moves
# from). From any other status the idea keeps its status; a decision never moves work back.
_OPEN = {Idea.Status.NEW, Idea.Status.CONSIDERING}
DECISION_STATUS = {
    Decision.Outcome.ADOPT: (Idea.Status.PRIORITISED, _OPEN | {Idea.Status.NOT_TAKEN_FORWARD}),
    Decision.Outcome.ADAPT: (Idea.Status.PRIORITISED, _OPEN | {Idea.Status.NOT_TAKEN_FORWARD}),
    Decision.Outcome.NOT_NOW: (
        Idea.Status.CONSIDERING,
        {Idea.Status.NEW, Idea.Status.PRIORITISED, Idea.Status.NOT_TAKEN_FORWARD},
    ),
    Decision.Outcome.NOT_TAKEN_FORWARD: (
        Idea.Status.NOT_TAKEN_FORWARD,
        _OPEN | {Idea.Status.PRIORITISED, Idea.Status.IN_PROGRESS},
    ),
}


@transaction.atomic
def decide(*, idea: Idea, outcome: str, reason: str, by: User) -> Decision:
    """Record a decision with its reason. Adopting or adapting prioritises a new idea; "not
    now" keeps it under consideration; "not taken forward" closes it. An idea already
    further on (in progress, say) keeps its status. After commit, `idea_decided` is sent, so
    the people who gave the input can be told."""
    refuse_if_archived(idea.community)
    reason = reason.strip()
    if not reason:
        raise IdeaError(_("Give the reason for the decision, in plain language."))
    idea = _locked(idea)
    if idea.status in (Idea.Status.MERGED, Idea.Status.DONE):
        raise IdeaError(idea.transition_error(Idea.Status.CONSIDERING))
    status, moves_from = DECISION_STATUS[outcome]
    moves = idea.status in moves_from
    if outcome == Decision.Outcome.NOT_TAKEN_FORWARD and not moves and idea.status != status:
        raise IdeaError(idea.transition_error(status, reason=reason))
    decision = Decision.objects.create(idea=idea, outcome=outcome, reason=reason, decided_by=by)
    if moves:
        idea.set_status(status, by=by, reason=reason)
    idea.decided_at = decision.decided_at
    idea.save(update_fields=["decided_at"])
    IdeaEvent.objects.create(
        idea=idea,
        kind=IdeaEvent.Kind.DECIDED,
        actor=by,
        at=decision.decided_at,
        status=idea.status,
        note=f"{decision.get_outcome_display()}: {reason}",
    )
    transaction.on_commit(lambda: idea_decided.send(sender=Decision, decision=decision))
    return decision


# --- Prioritisation ----------------------------------------------------------------------------


@transaction.atomic
def create_round(
    *, community: Community, by: User, title: str, description: str, ideas: Iterable[Idea]
) -> PrioritisationRound:
    """A new round, being set up, with the three default criteria of equal weight."""
    refuse_if_archived(community)
    round_ = PrioritisationRound.objects.create(
        community=community, title=title.strip(), description=description.strip(), created_by=by
    )
    round_.ideas.set([i for i in ideas if i.community_id == community.pk])
    Criterion.objects.bulk_create(
        Criterion(round=round_, name=str(name), description=str(text), position=i)
        for i, (name, text) in enumerate(DEFAULT_CRITERIA)
    )
    return round_


def _refuse_if_closed(round_: PrioritisationRound) -> None:
    if round_.status == PrioritisationRound.Status.CLOSED:
        raise RoundError(_("This round is closed, so it cannot change."))


@transaction.atomic
def invite_scorers(
    *, round: PrioritisationRound, people: dict[User, str], by: User
) -> list[Scorer]:
    """Invite people (each with the group their scores count in) to score. Only active
    members of the community can score; inviting someone twice changes only their group.
    People invited to an open round are told at once; to a round being set up, when it
    opens."""
    round = PrioritisationRound.objects.select_for_update().get(pk=round.pk)
    refuse_if_archived(round.community)
    _refuse_if_closed(round)
    active = set(
        Membership.objects.active()
        .filter(community=round.community, user__in=list(people))
        .values_list("user_id", flat=True)
    )
    outside = [p for p in people if p.pk not in active]
    if outside:
        raise RoundError(
            _("Only active members of the community can score. Not a member: %(names)s.")
            % {"names": ", ".join(p.display_name for p in outside)}
        )
    scorers = []
    for person, group in people.items():
        scorer, created = Scorer.objects.update_or_create(
            round=round, user=person, defaults={"group": group}
        )
        scorers.append(scorer)
        if created and round.is_open:
            _tell_scorers(round, [person])
    return scorers


@transaction.atomic
def save_round(*, round: PrioritisationRound, form) -> PrioritisationRound:
    """Save a round's title and description; its ideas too while it is being set up."""
    refuse_if_archived(round.community)
    locked = PrioritisationRound.objects.select_for_update().get(pk=round.pk)
    _refuse_if_closed(locked)
    if locked.status == PrioritisationRound.Status.DRAFT:
        return form.save()
    round.save(update_fields=["title", "description"])
    return round


@transaction.atomic
def save_criteria(*, round: PrioritisationRound, formset) -> None:
    """Save criteria and weights from a formset. Only while the round is being set up:
    once people score, the criteria and weights under their scores stay as they were."""
    refuse_if_archived(round.community)
    locked = PrioritisationRound.objects.select_for_update().get(pk=round.pk)
    if locked.status != PrioritisationRound.Status.DRAFT:
        raise RoundError(_("Criteria and weights are fixed once scoring has started."))
    for position, criterion in enumerate(formset.save(commit=False)):
        criterion.round = locked
        if criterion.pk is None:
            criterion.position = locked.criteria.count() + position
        criterion.save()
    for criterion in formset.deleted_objects:
        criterion.delete()


@transaction.atomic
def remove_scorer(*, round: PrioritisationRound, scorer_id: int) -> None:
    """Take someone off a round that is not closed, with their scores."""
    refuse_if_archived(round.community)
    locked = PrioritisationRound.objects.select_for_update().get(pk=round.pk)
    _refuse_if_closed(locked)
    locked.scorers.filter(pk=scorer_id).delete()


def _tell_scorers(round_: PrioritisationRound, people) -> None:
    notify(
        recipients=people,
        kind="scoring_invitation",
        about=round_,
        community=round_.community,
    )


@transaction.atomic
def open_round(*, round: PrioritisationRound) -> PrioritisationRound:
    """Open a round for scoring and tell its scorers. It needs ideas, criteria and scorers."""
    refuse_if_archived(round.community)
    round = PrioritisationRound.objects.select_for_update().get(pk=round.pk)
    missing = [
        label
        for label, present in [
            (_("ideas to score"), round.ideas.exists()),
            (_("criteria"), round.criteria.exists()),
            (_("people to score"), round.scorers.exists()),
        ]
        if not present
    ]
    if missing:
        raise RoundError(_("Add %(what)s before opening the round.") % {"what": ", ".join(missing)})
    if not round.set_status(PrioritisationRound.Status.OPEN, by=None):
        raise StatusError(_("This round is already open."))
    _tell_scorers(round, User.objects.filter(scoring__round=round))
    return round


@transaction.atomic
def record_scores(
    *, round: PrioritisationRound, scorer: Scorer, values: dict[tuple[int, int], int | None]
) -> int:
    """Save one scorer's scores, keyed by (idea id, criterion id). A missing value clears a
    score. Only while the round is open; only 1 to 5; only for the round's ideas and
    criteria. Saving again replaces the scores: nothing is counted twice."""
    round = (
        PrioritisationRound.objects.select_for_update().select_related("community").get(pk=round.pk)
    )
    refuse_if_archived(round.community)
    if scorer.round_id != round.pk:
        raise RoundError(_("Only the people invited to this round can score it."))
    still_member = (
        Membership.objects.active()
        .filter(community=round.community, user_id=scorer.user_id, user__erased_at__isnull=True)
        .exists()
    )
    if not still_member:
        raise RoundError(_("Only active members of the community can score."))
    if not round.is_open:
        raise RoundError(_("This round is not open for scoring, so scores cannot be saved."))
    ideas = set(round.ideas.values_list("pk", flat=True))
    criteria = set(round.criteria.values_list("pk", flat=True))
    saved = 0
    for (idea_id, criterion_id), value in values.items():
        if idea_id not in ideas or criterion_id not in criteria:
            raise RoundError(_("That idea or criterion is not part of this round."))
        if value is None:
            Score.objects.filter(scorer=scorer, idea_id=idea_id, criterion_id=criterion_id).delete()
            continue
        if not 1 <= value <= 5:
            raise RoundError(_("Scores go from 1 to 5."))
        Score.objects.update_or_create(
            scorer=scorer, idea_id=idea_id, criterion_id=criterion_id, defaults={"value": value}
        )
        saved += 1
    return saved


@transaction.atomic
def close_round(*, round: PrioritisationRound) -> PrioritisationRound:
    refuse_if_archived(round.community)
    round = PrioritisationRound.objects.select_for_update().get(pk=round.pk)
    if not round.set_status(PrioritisationRound.Status.CLOSED, by=None):
        raise StatusError(_("This round is closed, so it cannot change."))
    return round


@transaction.atomic
def mark_prioritised(*, round: PrioritisationRound, ideas: Iterable[Idea], by: User) -> int:
    """After a round closes, mark the ideas chosen from it as prioritised, each with the
    round in its history. Ideas that cannot move (merged, done, already further on) are
    left as they are; returns how many moved."""
    refuse_if_archived(round.community)
    if round.status != PrioritisationRound.Status.CLOSED:
        raise RoundError(_("Close the round before marking ideas as prioritised."))
    moved = 0
    chosen = round.ideas.filter(pk__in=[i.pk for i in ideas]).select_for_update(of=("self",))
    for idea in chosen:
        if idea.status not in _OPEN | {Idea.Status.NOT_TAKEN_FORWARD}:
            continue  # already prioritised or further on, merged or done
        idea.set_status(Idea.Status.PRIORITISED, by=by)
        IdeaEvent.objects.create(
            idea=idea,
            kind=IdeaEvent.Kind.PRIORITISED,
            actor=by,
            status=idea.status,
            note=_("Chosen in the prioritisation round “%(title)s”.") % {"title": round.title},
        )
        moved += 1
    return moved
