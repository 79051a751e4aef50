"""A round's results, worked by hand: weighted scores per person, each group's mean, both
groups given an equal say in the ranking, and the gap between them kept and pointed out."""

from types import SimpleNamespace

import pytest

from improvement.prioritisation import compute, weighted

IMPACT = SimpleNamespace(pk=1, weight=2, name="Impact")
REACH = SimpleNamespace(pk=2, weight=1, name="Reach and fairness")
FEASIBLE = SimpleNamespace(pk=3, weight=1, name="Feasibility")
CRITERIA = [IMPACT, REACH, FEASIBLE]

X = SimpleNamespace(pk=10, title="Evening clinics")
Y = SimpleNamespace(pk=11, title="Toilet card")
Z = SimpleNamespace(pk=12, title="Nobody scored this")
W = SimpleNamespace(pk=13, title="One score only")


def _rows(scorer, group, idea, values):
    return [(scorer, group, idea.pk, c.pk, v) for c, v in zip(CRITERIA, values, strict=True) if v]


SCORES = (
    _rows(1, "community", X, [5, 4, 3])  # (2*5 + 4 + 3) / 4 = 4.25
    + _rows(2, "community", X, [3, 3, 3])  # 3.0, so the community's mean is 3.625
    + _rows(3, "professional", X, [2, 2, 4])  # (2*2 + 2 + 4) / 4 = 2.5
    + _rows(1, "community", Y, [4, 4, 4])  # 4.0
    + _rows(3, "professional", Y, [5, 5, 5])  # 5.0: a gap of exactly 1
    + _rows(3, "professional", W, [3, None, None])  # impact only: 3.0, blanks not zeros
)


@pytest.fixture
def results():
    return {r.idea.pk: r for r in compute(ideas=[X, Y, Z, W], criteria=CRITERIA, scores=SCORES)}


def test_one_persons_score_is_weighted_over_the_criteria_they_scored():
    weights = {1: 2, 2: 1, 3: 1}
    assert weighted({1: 5, 2: 4, 3: 3}, weights) == pytest.approx(4.25)
    assert weighted({1: 3}, weights) == 3
    assert weighted({}, weights) is None


def test_each_group_has_its_own_mean(results):
    x = results[X.pk]
    assert x.community == pytest.approx(3.625)
    assert x.professional == pytest.approx(2.5)
    assert (x.community_scorers, x.professional_scorers) == (2, 1)


def test_both_groups_have_an_equal_say_in_the_ranking(results):
    # Pooling the three people would give 3.25; each group's mean counts once instead.
    assert results[X.pk].overall == pytest.approx(3.0625)
    assert [results[i.pk].rank for i in (Y, X, W)] == [1, 2, 3]


def test_ideas_nobody_scored_come_last_and_unranked():
    ordered = compute(ideas=[Z, X, Y, W], criteria=CRITERIA, scores=SCORES)
    assert [r.idea.pk for r in ordered] == [Y.pk, X.pk, W.pk, Z.pk]
    assert ordered[-1].rank is None and ordered[-1].overall is None


def test_a_gap_of_one_point_or_more_is_pointed_out_and_the_widest_marked(results):
    x, y, w = results[X.pk], results[Y.pk], results[W.pk]
    assert x.gap == pytest.approx(1.125) and x.disagree and x.higher_view == "community"
    assert y.gap == pytest.approx(1.0) and y.disagree and y.higher_view == "professional"
    assert x.largest_gap and not y.largest_gap
    # One view only: no gap to speak of.
    assert w.gap is None and not w.disagree and w.community is None


def test_per_criterion_means_are_kept_for_each_group(results):
    impact, reach, feasible = results[X.pk].by_criterion
    assert (impact.community, impact.professional) == (4, 2)
    assert (reach.community, reach.professional) == (3.5, 2)
    assert (feasible.community, feasible.professional) == (3, 4)


def test_no_scores_at_all_gives_no_ranking_and_no_division_by_zero():
    results = compute(ideas=[X, Y], criteria=CRITERIA, scores=[])
    assert [r.rank for r in results] == [None, None]
    assert not any(r.disagree or r.largest_gap for r in results)


def test_a_score_for_a_criterion_since_removed_is_ignored():
    rows = [(1, "community", X.pk, 99, 5), (1, "community", X.pk, IMPACT.pk, 2)]
    [result] = compute(ideas=[X], criteria=CRITERIA, scores=rows)
    assert result.community == 2
