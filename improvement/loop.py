"""Loop-closure figures: how much of what people gave has been answered with an update, how
long they waited, and what is waiting longer than the community promised.

An input is an idea (a merged idea counts within the idea it joined), a session people came
to, or a survey that has closed with answers. It is answered when a published update covers
it (for an idea: it, or an idea merged into it). A decision alone is not an answer: people hear
nothing until an update is published.

Everything is counted, ordered and picked in the database, so the figures cost the same few
queries however much a community has done: one query for the counts, two for the median and
the 90th percentile (the waits at their ranks, found by ORDER BY and OFFSET), and one per
kind of input for the oldest overdue ones, ordered and cut there. Only the inputs some update
points at are looked at closely; the rest are counted through indexes.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from heapq import merge
from math import ceil
from statistics import median

from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce, Least
from django.db.models.lookups import IsNull
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communities.models import Community
from engagement.models import Registration, Response, Session, Survey
from improvement.models import Idea, Update

DAY = timedelta(days=1)
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


def _first_published(links):
    """The earliest publication among `links`, as a subquery: an indexed lookup per row."""
    return Subquery(
        links.order_by("update__published_at").values("update__published_at")[:1],
        output_field=DateTimeField(),
    )


def idea_answered_at(community):
    """When an idea (the outer query's row) was first answered: the earliest published update
    on it, or on an idea merged into it (an update about an idea before it was merged
    answers the idea it joined, and only that one). Once decided, only an update at or after
    the decision answers it: people have not been told what was decided until then.

    Two subqueries, one per way an update reaches the idea, so each follows an index."""
    after_decision = Q(IsNull(OuterRef("decided_at"), True)) | Q(
        update__published_at__gte=OuterRef("decided_at")
    )
    links = _links(Update.ideas.through, community).filter(after_decision)
    direct = _first_published(
        links.filter(Q(IsNull(OuterRef("merged_into"), True)), idea=OuterRef("pk"))
    )
    merged = _first_published(links.filter(idea__merged_into=OuterRef("pk")))
    # LEAST ignores a NULL on PostgreSQL but returns NULL on SQLite: fall back to either.
    return Coalesce(Least(direct, merged), direct, merged, output_field=DateTimeField())


@dataclass(frozen=True)
class _Kind:
    """One kind of input: which rows are inputs, when each was given and first answered,
    and a cheap filter for the few rows any update points at."""

    name: str
    inputs: QuerySet
    given: object
    answered_at: object
    linked: Q

    def annotated(self) -> QuerySet:
        return self.inputs.annotate(given=self.given, answered_at=self.answered_at)

    def answered(self) -> QuerySet:
        return self.annotated().filter(self.linked, answered_at__isnull=False)

    def waiting_since(self, cutoff) -> QuerySet:
        return self.annotated().filter(given__lt=cutoff, answered_at__isnull=True)


def _ideas(community) -> _Kind:
    links = _links(Update.ideas.through, community)
    return _Kind(
        name="idea",
        inputs=Idea.objects.filter(community=community).listed(),
        given=F("created_at"),
        answered_at=idea_answered_at(community),
        linked=Q(pk__in=links.values(target=Coalesce("idea__merged_into", "idea"))),
    )


def _sessions(community, now) -> _Kind:
    links = _links(Update.sessions.through, community)
    came = Registration.objects.filter(session=OuterRef("pk"), attended=True)
    return _Kind(
        name="session",
        inputs=Session.objects.filter(community=community, ends_at__lte=now)
        .exclude(status__in=[Session.Status.DRAFT, Session.Status.CANCELLED])
        .filter(Q(walk_in_count__gt=0) | Exists(came)),
        given=F("ends_at"),
        answered_at=_first_published(links.filter(session=OuterRef("pk"))),
        linked=Q(pk__in=links.values("session")),
    )


def _surveys(community, now) -> _Kind:
    """Surveys with answers, from when they closed; a survey with no closing date, from its
    first answer."""
    links = _links(Update.surveys.through, community)
    responses = Response.objects.filter(survey=OuterRef("pk"))
    first_answer = Subquery(
        responses.order_by("created_at").values("created_at")[:1], output_field=DateTimeField()
    )
    return _Kind(
        name="survey",
        inputs=Survey.objects.filter(community=community, published=True)
        .filter(Q(closes_at__lte=now) | Q(closes_at__isnull=True))
        .filter(Exists(responses)),
        given=Coalesce("closes_at", first_answer),
        answered_at=_first_published(links.filter(survey=OuterRef("pk"))),
        linked=Q(pk__in=links.values("survey")),
    )


def _count(queryset):
    """How many rows, as a scalar subquery (every input has a community to group by)."""
    rows = queryset.order_by().values("community").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


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

    @property
    def share(self) -> int | None:
        """Per cent answered, rounded down: 99.6% answered is not "100%"."""
        if not self.total:
            return None
        return 100 * self.answered_count // self.total

    @cached_property
    def inputs(self) -> list[Input]:
        """Every input with when it was answered, one query per kind. It grows with the
        community, so it is for checks and small reports, never for a page."""
        rows = []
        for kind in self.kinds:
            for pk, title, given, answered in kind.annotated().values_list(
                "pk", "title", "given", "answered_at"
            ):
                rows.append(Input(kind.name, pk, title, given, answered))
        return rows

    @property
    def answered(self) -> list[Input]:
        return [i for i in self.inputs if i.answered_at is not None]


def _counts(kinds: list[_Kind], community, cutoff) -> dict:
    """Every count the figures need, in one query of scalar subqueries."""
    counts = {}
    for kind in kinds:
        old = {"given__lt": cutoff}
        counts[f"{kind.name}_total"] = _count(kind.inputs)
        counts[f"{kind.name}_old"] = _count(kind.inputs.alias(given=kind.given).filter(**old))
        counts[f"{kind.name}_answered"] = _count(kind.answered())
        counts[f"{kind.name}_answered_old"] = _count(kind.answered().filter(**old))
    ideas = kinds[0]
    decided = {"decided_at__isnull": False}
    counts["decided"] = _count(ideas.inputs.filter(**decided))
    counts["decided_told"] = _count(ideas.answered().filter(**decided))
    return Community.objects.filter(pk=community.pk).values(**counts).get()


def _ordered_waits(kinds: list[_Kind]) -> QuerySet:
    """Every answered input's wait (answered minus given), shortest first, as one query
    across the kinds."""
    waits = [
        kind.answered()
        .annotate(wait=F("answered_at") - F("given"))
        .order_by()
        .values_list("wait", flat=True)
        for kind in kinds
    ]
    return waits[0].union(*waits[1:], all=True).order_by("wait")


def _waits_at(ordered: QuerySet, first: int, last: int) -> list[float]:
    """The waits in days from rank `first` to rank `last` (from 1): the database orders
    them and skips to the rank (ORDER BY with OFFSET), so only these rows are read."""
    return [wait_in_days(wait) for wait in ordered[first - 1 : last]]


def _oldest_waiting(kinds: list[_Kind], cutoff, listed: int) -> list[Input]:
    """The `listed` oldest unanswered inputs older than the cutoff, oldest first across
    kinds: each kind ordered and cut in the database, then the short lists merged."""
    if not listed:
        return []
    per_kind = [
        [
            Input(kind.name, pk, title, given)
            for pk, title, given in kind.waiting_since(cutoff)
            .order_by("given", "pk")
            .values_list("pk", "title", "given")[:listed]
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
    one for the counts, up to two for the median and 90th percentile, and one per kind of
    input for the `listed` oldest overdue ones."""
    now = now or timezone.now()
    kinds = [_ideas(community)]
    if not ideas_only:
        kinds += [_sessions(community, now), _surveys(community, now)]
    result = Figures(promise_days=community.update_promise_days, now=now, kinds=kinds)
    # Exactly at the promise is not yet overdue.
    cutoff = now - community.update_promise_days * DAY
    counts = _counts(kinds, community, cutoff)
    names = [kind.name for kind in kinds]
    result.total = sum(counts[f"{n}_total"] for n in names)
    result.answered_count = sum(counts[f"{n}_answered"] for n in names)
    result.overdue_count = sum(counts[f"{n}_old"] - counts[f"{n}_answered_old"] for n in names)
    result.untold_count = counts["decided"] - counts["decided_told"]
    answered = result.answered_count
    if answered:
        # The median is the middle wait, or the mean of the two middle waits when there is
        # an even number: statistics.median of those one or two is the median of them all.
        ordered = _ordered_waits(kinds)
        result.median_days = median(_waits_at(ordered, (answered + 1) // 2, answered // 2 + 1))
        [result.p90_days] = _waits_at(ordered, _rank(0.9, answered), _rank(0.9, answered))
    if result.overdue_count:
        result.overdue = _oldest_waiting(kinds, cutoff, listed)
    return result


def untold_decisions(community):
    """Ideas whose latest decision no published update has followed yet (an update on the
    idea, or on an idea merged into it, published at or after the decision)."""
    return (
        Idea.objects.filter(community=community, decided_at__isnull=False)
        .listed()
        .alias(answered_at=idea_answered_at(community))
        .filter(answered_at__isnull=True)
    )


def act_link(community, item: Input) -> str:
    """Where a coordinator answers an input: a new update about it."""
    return _act_link(reverse("updates_manage:new", args=[community.slug]), item)


def _act_link(base: str, item: Input) -> str:
    return f"{base}?{item.kind}={item.pk}"


def dashboard_panel(community) -> dict:
    result = figures(community, listed=DASHBOARD_OVERDUE)
    base = reverse("updates_manage:new", args=[community.slug])
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
    return {
        "community": community,
        "figures": figures(community, ideas_only=True, listed=0),
        "latest": with_community(
            Update.objects.published()
            .filter(community=community)
            .order_by("-published_at")[:LATEST_ON_COMMUNITY_PAGE],
            community,
        ),
    }


def with_community(updates, community) -> list[Update]:
    updates = list(updates)
    for update in updates:
        update.community = community  # their links need its slug: no query each
    return updates
