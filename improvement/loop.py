"""Loop-closure figures: how much of what people gave has been answered with an update, how
long they waited, and what is waiting longer than the community promised.

An input is an idea (a merged idea counts within the idea it joined), a session people came
to, or a survey that has closed with answers. It is answered when a published update covers
it (for an idea: it, or an idea merged into it). A decision alone is not an answer: people hear
nothing until an update is published.

Everything is counted, ordered and picked in the database, so the figures cost the same few
queries however much a community has done: one counts the inputs (through indexes); one
works out, from the links of published updates, which inputs are answered and when, and
aggregates them (on PostgreSQL with the median's two middle waits and the nearest-rank 90th
percentile, by percentile_disc; elsewhere two more queries read the waits at those ranks by
ORDER BY and OFFSET); and one per kind of input lists the oldest overdue ones, ordered and
cut there. Work grows with the links, never with a Python loop over every input.
"""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from heapq import merge
from math import ceil
from statistics import median

from django.db import connection
from django.db.models import (
    Case,
    DateTimeField,
    Exists,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communities.models import Community
from engagement.models import Registration, Response, Session, Survey
from improvement.models import Idea, Update
from improvement.models.ideas import standing_idea
from members import revisions
from members.aggregates import count
from members.computed import computed, version_of

DAY = timedelta(days=1)
# The figures are kept in the computed cache under these revisions of a community (see
# `kept_figures`); every write to the rows they count raises them (followed in
# improvement.apps). The ideas-only figures of the public page count ideas and updates only,
# so sign-ups and survey answers leave them where they are.
IDEAS_REVISION = "community-idea-loop"
LOOP_REVISION = "community-loop"
# Who contributed to a community's ideas (authors, supporters, commenters, survey answers and
# sessions the ideas came from, and which ideas a project takes up) is kept under this one,
# with `revisions.PEOPLE` for people who leave.
CONTRIBUTORS_REVISION = Idea.CONTRIBUTORS_REVISION
KIND_LABELS = {"idea": _("Idea"), "session": _("Session"), "survey": _("Survey")}


@dataclass
class Input:
    kind: str
    pk: int
    title: str
    given_at: datetime
    answered_at: datetime | None = None

    @property
    def kind_label(self) -> str:
        return str(KIND_LABELS[self.kind])

    @property
    def days_to_answer(self) -> float | None:
        if self.answered_at is None:
            return None
        return wait_in_days(self.answered_at - self.given_at)

    def days_waiting(self, now: datetime) -> int:
        return int((now - self.given_at) / DAY)


def wait_in_days(wait: timedelta) -> float:
    """A wait in days; an answer before the input (an update published before a survey
    closed) is no wait, never a negative one."""
    return max(wait / DAY, 0.0)


def percentile(values: list[float], share: float) -> float | None:
    """The nearest-rank percentile: the smallest value with at least `share` of the values
    at or below it. No interpolation, so it is always a wait someone really had."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[_rank(share, len(ordered)) - 1]


def _rank(share: float, count: int) -> int:
    """The nearest rank (from 1) of a percentile among `count` values."""
    return max(ceil(share * count), 1)


# --- Each kind of input, as SQL ------------------------------------------------------------


def _links(through, community):
    """Links from this community's published updates to what they answer."""
    return through.objects.filter(
        update__community=community, update__status=Update.Status.PUBLISHED
    )


def _of_answered_idea(field: str):
    """On a link to an idea: `field` of the idea the link answers, `standing_idea("idea")`:
    the idea it joined if it was merged."""
    return Case(
        When(idea__merged_into__isnull=True, then=F(f"idea__{field}")),
        default=F(f"idea__merged_into__{field}"),
    )


@dataclass(frozen=True)
class _Kind:
    """One kind of input, as SQL: the inputs (with `given`, when each was given), the links
    from published updates that answer one of them, and on a link, which input it answers
    and when that was given. Work on the links is small (there are as many as updates
    point at things); work on the inputs is counting and ordering through indexes."""

    name: str
    inputs: QuerySet
    links: QuerySet
    target: object
    target_given: object
    # Only ideas are decided; NULL typed as a time, so the kinds line up in one UNION.
    target_decided: object = Cast(Value(None), output_field=DateTimeField())

    def answers(self, cutoff) -> QuerySet:
        """One row per answered input: its wait (first answer minus given), whether it was
        given before the cutoff, and (for ideas) when it was decided."""
        return (
            self.links.order_by()
            .values(input=self.target)
            .annotate(
                given=Max(self.target_given),
                answered_at=Min("update__published_at"),
                decided=Max(self.target_decided),
            )
            .annotate(
                wait=F("answered_at") - F("given"),
                old=Case(When(given__lt=cutoff, then=Value(1)), default=Value(0)),
            )
        )

    def waiting_since(self, cutoff) -> QuerySet:
        """Inputs given before the cutoff that no update answers yet."""
        return self.inputs.filter(given__lt=cutoff).exclude(
            pk__in=self.links.order_by().values(answered=self.target)
        )


def _ideas(community) -> _Kind:
    """Ideas stand on their own unless merged. An update about an idea before it was merged
    answers the idea it joined (and only that one). Once decided, only an update at or after
    the decision answers an idea: people have not been told what was decided until then."""
    links = (
        # The link's idea is in the community (only ideas here count, merged ones too), and
        # so is the idea it answers, which is not itself merged away.
        _links(Update.ideas.through, community)
        .filter(idea__community=community)
        .filter(Q(idea__merged_into__isnull=True) | Q(idea__merged_into__community=community))
        .exclude(idea__merged_into__status=Idea.Status.MERGED)
        .alias(answered_decided=_of_answered_idea("decided_at"))
        .filter(
            Q(answered_decided__isnull=True) | Q(update__published_at__gte=F("answered_decided"))
        )
    )
    return _Kind(
        name="idea",
        inputs=Idea.objects.filter(community=community).listed().alias(given=F("created_at")),
        links=links,
        target=standing_idea("idea"),
        target_given=_of_answered_idea("created_at"),
        target_decided=F("answered_decided"),
    )


def _sessions(community, now) -> _Kind:
    came = Registration.objects.filter(session=OuterRef("pk"), attended=True)
    held = (
        Session.objects.filter(community=community, ends_at__lte=now)
        .exclude(status__in=[Session.Status.DRAFT, Session.Status.CANCELLED])
        .filter(Q(walk_in_count__gt=0) | Exists(came))
    )
    return _Kind(
        name="session",
        inputs=held.alias(given=F("ends_at")),
        links=_links(Update.sessions.through, community).filter(session__in=held.values("pk")),
        target=F("session"),
        target_given=F("session__ends_at"),
    )


def _first_answer(survey: str):
    """When the survey (by this field of the outer query) was first answered."""
    first = Response.objects.filter(survey=OuterRef(survey)).order_by("created_at")
    return Subquery(first.values("created_at")[:1], output_field=DateTimeField())


def _surveys(community, now) -> _Kind:
    """Surveys with answers, from when they closed; a survey with no closing date, from its
    first answer."""
    closed = (
        Survey.objects.filter(community=community, published=True)
        .filter(Q(closes_at__lte=now) | Q(closes_at__isnull=True))
        .filter(Exists(Response.objects.filter(survey=OuterRef("pk"))))
    )
    return _Kind(
        name="survey",
        inputs=closed.alias(given=Coalesce("closes_at", _first_answer("pk"))),
        links=_links(Update.surveys.through, community).filter(survey__in=closed.values("pk")),
        target=F("survey"),
        target_given=Coalesce("survey__closes_at", _first_answer("survey")),
    )


# --- The figures ---------------------------------------------------------------------------


@dataclass
class Figures:
    """The loop-closure figures of a community at a moment, read in a fixed number of
    queries. `overdue` holds the oldest overdue inputs only (as many as were asked for);
    `overdue_count` counts them all."""

    promise_days: int
    now: datetime
    total: int = 0
    answered_count: int = 0
    median_days: float | None = None
    p90_days: float | None = None
    overdue_count: int = 0
    overdue: list[Input] = field(default_factory=list)
    # Ideas decided but not yet told: no published update since the decision.
    untold_count: int = 0
    kinds: list[_Kind] = field(default_factory=list, repr=False)
    # The version they are kept under in the computed cache, when they are (`kept_figures`):
    # what a fragment drawn from them alone may be kept under too.
    kept_as: str = ""

    @property
    def share(self) -> int | None:
        """Per cent answered, rounded down: 99.6% answered is not "100%"."""
        if not self.total:
            return None
        return 100 * self.answered_count // self.total

    @cached_property
    def inputs(self) -> list[Input]:
        """Every input with when it was answered, two queries per kind. It grows with the
        community, so it is for checks and small reports, never for a page."""
        rows = []
        for kind in self.kinds:
            answered = dict(kind.answers(self.now).values_list("input", "answered_at"))
            for pk, title, given in kind.inputs.annotate(given_at=F("given")).values_list(
                "pk", "title", "given_at"
            ):
                rows.append(Input(kind.name, pk, title, given, answered.get(pk)))
        return rows

    @property
    def answered(self) -> list[Input]:
        return [i for i in self.inputs if i.answered_at is not None]


def _input_counts(kinds: list[_Kind], community, cutoff) -> dict:
    """How many inputs there are, and how many were given before the cutoff, of each kind;
    and how many ideas are decided. One query of scalar subqueries, each an indexed count."""
    counts = {}
    for kind in kinds:
        counts[f"{kind.name}_total"] = count(kind.inputs)
        counts[f"{kind.name}_old"] = count(kind.inputs.filter(given__lt=cutoff))
    counts["decided"] = count(kinds[0].inputs.filter(decided_at__isnull=False))
    return Community.objects.filter(pk=community.pk).values(**counts).get()


def _answers(kinds: list[_Kind], cutoff) -> QuerySet:
    """Every answered input of these kinds, one row each, as one query."""
    parts = [kind.answers(cutoff).values_list("wait", "old", "decided") for kind in kinds]
    return parts[0].union(*parts[1:], all=True)


def _answered_figures(kinds: list[_Kind], cutoff) -> dict:
    """How many inputs are answered (of them, how many were given before the cutoff, and
    how many are decided ideas), the waits at the median's two middle ranks and the 90th
    percentile's nearest rank. On PostgreSQL one aggregate over the answered inputs
    (percentile_disc picks the nearest rank, as `percentile` does); elsewhere the counts,
    then the waits at their ranks by ORDER BY with OFFSET."""
    answers = _answers(kinds, cutoff)
    sql, params = answers.query.get_compiler(answers.db).as_sql()
    wait, old, decided = (connection.ops.quote_name(n) for n in ("wait", "old", "decided"))
    postgres = connection.vendor == "postgresql"
    ranked = (
        f", percentile_disc(0.5) WITHIN GROUP (ORDER BY {wait}),"
        f" percentile_disc(0.5) WITHIN GROUP (ORDER BY {wait} DESC),"
        f" percentile_disc(0.9) WITHIN GROUP (ORDER BY {wait})"
        if postgres
        else ""
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*), COALESCE(SUM({old}), 0), COUNT({decided}){ranked}"
            f" FROM ({sql}) answers",
            params,
        )
        row = cursor.fetchone()
    result = {"answered": row[0], "answered_old": row[1], "decided_told": row[2]}
    count = result["answered"]
    if not count:
        return result | {"middle": [], "p90": None}
    if postgres:
        low, high, p90 = row[3:]
    else:
        ordered = answers.order_by("wait").values_list("wait", flat=True)
        # The middle wait for an odd count; the two either side of the middle for an even.
        middle = list(ordered[(count - 1) // 2 : count // 2 + 1])
        low, high = middle[0], middle[-1]
        [p90] = ordered[_rank(0.9, count) - 1 : _rank(0.9, count)]
    return result | {"middle": [wait_in_days(low), wait_in_days(high)], "p90": wait_in_days(p90)}


def _oldest_waiting(kinds: list[_Kind], cutoff, listed: int) -> list[Input]:
    """The `listed` oldest unanswered inputs older than the cutoff, oldest first across
    kinds: each kind ordered and cut in the database, then the short lists merged."""
    if not listed:
        return []
    per_kind = [
        [
            Input(kind.name, pk, title, given)
            for pk, title, given in kind.waiting_since(cutoff)
            .annotate(given_at=F("given"))
            .order_by("given", "pk")
            .values_list("pk", "title", "given_at")[:listed]
        ]
        for kind in kinds
    ]
    oldest = merge(*per_kind, key=lambda i: (i.given_at, i.kind, i.pk))
    return [item for _n, item in zip(range(listed), oldest, strict=False)]


DASHBOARD_OVERDUE = 20


def figures(
    community, *, now=None, ideas_only: bool = False, listed: int = DASHBOARD_OVERDUE
) -> Figures:
    """The community's figures, in a fixed number of queries however much input it has:
    one for the inputs' counts, one for the answered ones (two more for the median and
    90th percentile off PostgreSQL, when any is answered), and, when any is overdue, one
    per kind of input for the `listed` oldest overdue ones."""
    now = now or timezone.now()
    kinds = [_ideas(community)]
    if not ideas_only:
        kinds += [_sessions(community, now), _surveys(community, now)]
    result = Figures(promise_days=community.update_promise_days, now=now, kinds=kinds)
    # Exactly at the promise is not yet overdue.
    cutoff = now - community.update_promise_days * DAY
    inputs = _input_counts(kinds, community, cutoff)
    answered = _answered_figures(kinds, cutoff)
    names = [kind.name for kind in kinds]
    result.total = sum(inputs[f"{n}_total"] for n in names)
    result.answered_count = answered["answered"]
    result.overdue_count = sum(inputs[f"{n}_old"] for n in names) - answered["answered_old"]
    result.untold_count = inputs["decided"] - answered["decided_told"]
    if answered["middle"]:
        # The mean of the two middle waits (the same wait twice for an odd count), as
        # statistics.median takes it over every wait.
        result.median_days = median(answered["middle"])
        result.p90_days = answered["p90"]
    if result.overdue_count:
        result.overdue = _oldest_waiting(kinds, cutoff, listed)
    return result


def kept_figures(
    community, *, ideas_only: bool = False, listed: int = DASHBOARD_OVERDUE
) -> Figures:
    """`figures()`, computed once per revision of what they count, per hour and per promise,
    and kept in the computed cache. A page then reads one row (the revision) instead of
    counting every input. The hour is in the key because time alone moves inputs past the
    promise and ends sessions: the figures are at most an hour behind the clock, never
    behind a change. The revision is read first, before the rows counted."""
    kind = IDEAS_REVISION if ideas_only else LOOP_REVISION
    (revision,) = revisions.read(revisions.key(kind, community.pk))
    now = timezone.now()
    version = version_of(
        community.pk,
        revision,
        community.update_promise_days,
        now.strftime("%Y-%m-%dT%H"),
        int(ideas_only),
        listed,
    )

    def compute() -> Figures:
        result = figures(community, now=now, ideas_only=ideas_only, listed=listed)
        result.kinds = []  # querysets, to be run again, never kept
        result.kept_as = version
        return result

    return computed("improvement-loop-figures", version, compute)


def changed(community) -> None:
    """Raise the revisions the figures (and the record of ideas and projects) are kept under,
    for writes that send no signals (a QuerySet's `update()`, bulk writes): every other
    write raises them itself."""
    revisions.bump(
        *(revisions.key(kind, community.pk) for kind in (IDEAS_REVISION, LOOP_REVISION)),
        revisions.key(CONTRIBUTORS_REVISION, community.pk),
        revisions.key(Idea.RECORD_REVISION, community.pk),
    )


def contributor_count(community, idea_pks: Iterable[int], revision=None) -> int:
    """How many people contributed to these ideas of the community (`Contributors`, merged
    ideas included), counted once per revision of the community's contributions and of who
    has left, and kept in the computed cache: a project page reads two revision numbers
    instead of counting every supporter of its ideas. `revision` gives the two numbers where
    they were read already (as the project page does)."""
    idea_pks = sorted(set(idea_pks))
    if not idea_pks:
        return 0
    if revision is None:
        revision = revisions.read(
            revisions.key(CONTRIBUTORS_REVISION, community.pk), revisions.PEOPLE
        )
    ideas = hashlib.sha256(",".join(map(str, idea_pks)).encode()).hexdigest()
    return computed(
        "improvement-contributor-count",
        version_of(community.pk, *revision, ideas),
        lambda: len(Idea.objects.filter(pk__in=idea_pks).contributors()),
    )


def untold_decisions(community):
    """Ideas whose latest decision no published update has followed yet (an update on the
    idea, or on an idea merged into it, published at or after the decision)."""
    ideas = _ideas(community)
    return ideas.inputs.filter(decided_at__isnull=False).exclude(
        pk__in=ideas.links.order_by().values(answered=ideas.target)
    )


def oldest_untold(community, limit: int) -> list[int]:
    """The pks of the `limit` ideas decided longest ago that no update has told yet, kept
    per revision of the community's ideas and updates: a form that offers them first reads
    one row instead of setting every idea against every update."""
    (revision,) = revisions.read(revisions.key(IDEAS_REVISION, community.pk))
    return computed(
        "improvement-oldest-untold",
        version_of(community.pk, revision, limit),
        lambda: list(
            untold_decisions(community)
            .order_by("decided_at", "pk")
            .values_list("pk", flat=True)[:limit]
        ),
    )


def act_link(community, item: Input) -> str:
    """Where a coordinator answers an input: a new update about it."""
    return _act_link(reverse("improvement:manage_update_new", args=[community.slug]), item)


def _act_link(base: str, item: Input) -> str:
    return f"{base}?{item.kind}={item.pk}"


def dashboard_panel(community, user=None) -> dict:
    """The loop's figures on the dashboard: the same for every coordinator (`user`, the
    person looking, as every dashboard panel is told, changes nothing here)."""
    result = kept_figures(community, listed=DASHBOARD_OVERDUE)
    base = reverse("improvement:manage_update_new", args=[community.slug])
    return {
        "community": community,
        "figures": result,
        "overdue": [
            {"item": item, "days": item.days_waiting(result.now), "link": _act_link(base, item)}
            for item in result.overdue
        ],
        "overdue_count": result.overdue_count,
        "unanswered_decisions": result.untold_count,
    }


LATEST_ON_COMMUNITY_PAGE = 3


def public_panel(community) -> dict:
    figures = kept_figures(community, ideas_only=True, listed=0)
    return {
        "community": community,
        "figures": figures,
        "latest": with_community(latest_updates(community), community),
    }


def latest_updates(community) -> list[Update]:
    """The community's latest published updates, kept per revision of its ideas and
    updates (which every write to an update raises)."""
    (revision,) = revisions.read(revisions.key(IDEAS_REVISION, community.pk))
    return computed(
        "improvement-latest-updates",
        version_of(community.pk, revision, LATEST_ON_COMMUNITY_PAGE),
        lambda: list(
            Update.objects.published()
            .filter(community=community)
            .only("pk", "title", "published_at", "community_id")
            .order_by("-published_at")[:LATEST_ON_COMMUNITY_PAGE]
        ),
    )


def with_community(updates, community) -> list[Update]:
    updates = list(updates)
    for update in updates:
        update.community = community  # their links need its slug: no query each
    return updates
