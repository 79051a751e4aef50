"""Loop-closure figures: how much of what people gave has been answered with an update, how
long they waited, and what is waiting longer than the community promised.

An input is an idea (a merged idea counts within the idea it joined), a session people came
to, or a survey that has closed with answers. It is answered when a published update covers
it (for an idea: it, or an idea merged into it). A decision alone is not an answer: people hear
nothing until an update is published.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from math import ceil
from statistics import median

from django.db.models import Exists, Min, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from engagement.models import Session, Survey
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
        return max((self.answered_at - self.given_at) / DAY, 0.0)

    def days_waiting(self, now: datetime) -> int:
        return int((now - self.given_at) / DAY)


def percentile(values: list[float], share: float) -> float | None:
    """The nearest-rank percentile: the smallest value with at least `share` of the values
    at or below it. No interpolation, so it is always a wait someone really had."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(ceil(share * len(ordered)), 1) - 1]


@dataclass
class Figures:
    promise_days: int
    now: datetime
    inputs: list[Input] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.inputs)

    @property
    def answered(self) -> list[Input]:
        return [i for i in self.inputs if i.answered_at is not None]

    @property
    def share(self) -> int | None:
        """Per cent answered, rounded down: 99.6% answered is not "100%"."""
        if not self.inputs:
            return None
        return 100 * len(self.answered) // self.total

    @property
    def median_days(self) -> float | None:
        waits = [i.days_to_answer for i in self.answered]
        return median(waits) if waits else None

    @property
    def p90_days(self) -> float | None:
        return percentile([i.days_to_answer for i in self.answered], 0.9)

    @property
    def overdue(self) -> list[Input]:
        """Unanswered inputs older than the promise, oldest first. Exactly at the promise is
        not yet overdue."""
        limit = self.promise_days * DAY
        waiting = [
            i for i in self.inputs if i.answered_at is None and self.now - i.given_at > limit
        ]
        return sorted(waiting, key=lambda i: (i.given_at, i.kind, i.pk))


def _first_updates(through, field: str, community) -> dict[int, datetime]:
    first: dict[int, datetime] = {}
    rows = through.objects.filter(
        update__community=community, update__status=Update.Status.PUBLISHED
    ).values_list(field, "update__published_at")
    for pk, at in rows:
        if pk not in first or at < first[pk]:
            first[pk] = at
    return first


def _idea_inputs(community) -> list[Input]:
    times = defaultdict(list)
    rows = Update.ideas.through.objects.filter(
        update__community=community, update__status=Update.Status.PUBLISHED
    ).values_list("idea_id", "update__published_at")
    merged_into = dict(
        Idea.objects.filter(community=community, merged_into__isnull=False).values_list(
            "pk", "merged_into_id"
        )
    )
    # An update about an idea before it was merged answers the idea it joined too.
    for pk, at in rows:
        times[merged_into.get(pk, pk)].append(at)
    inputs = []
    for pk, title, created, decided in (
        Idea.objects.filter(community=community)
        .listed()
        .values_list("pk", "title", "created_at", "decided_at")
    ):
        # Once decided, only an update at or after the decision answers it: people have
        # not been told what was decided until then.
        after = [at for at in times[pk] if decided is None or at >= decided]
        inputs.append(Input("idea", pk, title, created, min(after) if after else None))
    return inputs


def _session_inputs(community, now) -> list[Input]:
    updated = _first_updates(Update.sessions.through, "session_id", community)
    held = (
        Session.objects.filter(community=community, ends_at__lte=now)
        .exclude(status__in=[Session.Status.DRAFT, Session.Status.CANCELLED])
        .filter(Q(registrations__attended=True) | Q(walk_in_count__gt=0))
        .distinct()
        .values_list("pk", "title", "ends_at")
    )
    return [Input("session", pk, title, ended, updated.get(pk)) for pk, title, ended in held]


def _survey_inputs(community, now) -> list[Input]:
    """Surveys with answers, from when they closed; a survey with no closing date, from its
    first answer."""
    updated = _first_updates(Update.surveys.through, "survey_id", community)
    answered = (
        Survey.objects.filter(community=community, published=True)
        .filter(Q(closes_at__lte=now) | Q(closes_at__isnull=True))
        .annotate(first_answer=Min("responses__created_at"))
        .filter(first_answer__isnull=False)
        .values_list("pk", "title", "closes_at", "first_answer")
    )
    return [
        Input("survey", pk, title, shut or first, updated.get(pk))
        for pk, title, shut, first in answered
    ]


def figures(community, *, now=None, ideas_only: bool = False) -> Figures:
    """The community's figures, in a fixed number of queries however much input it has."""
    now = now or timezone.now()
    result = Figures(promise_days=community.update_promise_days, now=now)
    result.inputs = _idea_inputs(community)
    if not ideas_only:
        result.inputs += _session_inputs(community, now) + _survey_inputs(community, now)
    return result


def untold_decisions(community):
    """Ideas whose latest decision no published update has followed yet (an update on the
    idea, or on an idea merged into it, published at or after the decision)."""
    told = Update.objects.published().filter(
        Q(ideas=OuterRef("pk")) | Q(ideas__merged_into=OuterRef("pk")),
        published_at__gte=OuterRef("decided_at"),
    )
    return (
        Idea.objects.filter(community=community, decided_at__isnull=False)
        .listed()
        .exclude(Exists(told))
    )


def act_link(community, item: Input) -> str:
    """Where a coordinator answers an input: a new update about it."""
    base = reverse("updates_manage:new", args=[community.slug])
    return f"{base}?{item.kind}={item.pk}"


DASHBOARD_OVERDUE = 20


def dashboard_panel(community) -> dict:
    result = figures(community)
    overdue = result.overdue
    return {
        "community": community,
        "figures": result,
        "overdue": [
            {"item": item, "days": item.days_waiting(result.now), "link": act_link(community, item)}
            for item in overdue[:DASHBOARD_OVERDUE]
        ],
        "overdue_count": len(overdue),
        "unanswered_decisions": untold_decisions(community).count(),
    }


LATEST_ON_COMMUNITY_PAGE = 3


def public_panel(community) -> dict:
    return {
        "community": community,
        "figures": figures(community, ideas_only=True),
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
