"""A round's results: each idea's weighted score as community members and professionals see
it, side by side. Neither view is averaged into the other: the ranking gives each group's mean
an equal say, however many people are in each group, and the gap between them is kept."""

from collections import defaultdict
from dataclasses import dataclass, field
from statistics import fmean

from improvement.models import PrioritisationRound, Score

# A gap this wide (on the 1 to 5 scale) between the two views is pointed out.
DISAGREEMENT_GAP = 1.0


@dataclass
class CriterionResult:
    criterion: object
    community: float | None
    professional: float | None


@dataclass
class IdeaResult:
    idea: object
    community: float | None
    professional: float | None
    community_scorers: int
    professional_scorers: int
    by_criterion: list[CriterionResult] = field(default_factory=list)
    rank: int | None = None
    largest_gap: bool = False

    @property
    def overall(self) -> float | None:
        views = [v for v in (self.community, self.professional) if v is not None]
        return fmean(views) if views else None

    @property
    def gap(self) -> float | None:
        if self.community is None or self.professional is None:
            return None
        return abs(self.community - self.professional)

    @property
    def disagree(self) -> bool:
        return self.gap is not None and self.gap >= DISAGREEMENT_GAP

    @property
    def higher_view(self) -> str:
        if not self.disagree:
            return ""
        return "community" if self.community > self.professional else "professional"


def weighted(values: dict, weights: dict) -> float | None:
    """One person's score for one idea: their criterion scores weighted, over the criteria
    they scored (a criterion left blank does not count as a low score)."""
    total = sum(weights[c] for c in values)
    if not total:
        return None
    return sum(values[c] * weights[c] for c in values) / total


def _mean(values: list[float]) -> float | None:
    return fmean(values) if values else None


def compute(
    *, ideas: list, criteria: list, scores: list[tuple[int, str, int, int, int]]
) -> list[IdeaResult]:
    """Results from plain rows (scorer id, group, idea id, criterion id, value), ranked best
    first; ideas nobody scored come last, unranked."""
    weights = {c.pk: c.weight for c in criteria}
    # person -> idea -> criterion -> value
    sheets: dict[tuple[int, str], dict[int, dict[int, int]]] = defaultdict(
        lambda: defaultdict(dict)
    )
    for scorer_id, group, idea_id, criterion_id, value in scores:
        if criterion_id in weights:
            sheets[(scorer_id, group)][idea_id][criterion_id] = value

    results = []
    for idea in ideas:
        per_group: dict[str, list[float]] = {"community": [], "professional": []}
        per_criterion: dict[tuple[str, int], list[int]] = defaultdict(list)
        for (_scorer, group), by_idea in sheets.items():
            values = by_idea.get(idea.pk)
            if not values:
                continue
            per_group[group].append(weighted(values, weights))
            for criterion_id, value in values.items():
                per_criterion[(group, criterion_id)].append(value)
        results.append(
            IdeaResult(
                idea=idea,
                community=_mean(per_group["community"]),
                professional=_mean(per_group["professional"]),
                community_scorers=len(per_group["community"]),
                professional_scorers=len(per_group["professional"]),
                by_criterion=[
                    CriterionResult(
                        c,
                        _mean(per_criterion[("community", c.pk)]),
                        _mean(per_criterion[("professional", c.pk)]),
                    )
                    for c in criteria
                ],
            )
        )
    scored = sorted(
        (r for r in results if r.overall is not None),
        key=lambda r: (-r.overall, r.idea.title.lower(), r.idea.pk),
    )
    for position, result in enumerate(scored, start=1):
        result.rank = position
    gaps = [r.gap for r in scored if r.disagree]
    if gaps:
        widest = max(gaps)
        for result in scored:
            result.largest_gap = result.disagree and result.gap == widest
    return scored + [r for r in results if r.overall is None]


def round_results(round_: PrioritisationRound) -> list[IdeaResult]:
    """The results of a round, in three queries however many ideas and scores it has."""
    ideas = list(round_.ideas.select_related("community"))
    criteria = list(round_.criteria.all())
    scores = list(
        Score.objects.filter(scorer__round=round_).values_list(
            "scorer_id", "scorer__group", "idea_id", "criterion_id", "value"
        )
    )
    return compute(ideas=ideas, criteria=criteria, scores=scores)
