"""The run chart and XmR rules, against examples worked by hand, at every boundary."""

from datetime import date, timedelta

import pytest

from improvement.spc import (
    LIMIT_FACTOR,
    RUNS_FROM,
    WARNING_FACTOR,
    Point,
    count_runs,
    moving_ranges,
    run_chart,
    runs_limits,
    shifts,
    trends,
    xmr_chart,
)

START = date(2026, 1, 5)


def points(values, step=7):
    return [Point(START + timedelta(days=step * i), v) for i, v in enumerate(values)]


def rules(signals):
    return [(s.rule, s.direction, s.indexes) for s in signals]


# --- Run chart: shifts ------------------------------------------------------------------------


def test_five_points_above_the_median_are_not_a_shift():
    assert shifts([6, 6, 6, 6, 6, 1], centre=5) == []


def test_six_points_above_the_median_are_a_shift():
    assert rules(shifts([6, 6, 6, 6, 6, 6, 1], centre=5)) == [("shift", "up", [0, 1, 2, 3, 4, 5])]


def test_a_point_on_the_median_neither_breaks_nor_counts():
    # 3 above, one on the median, 3 above: six useful points in a row, a shift of six.
    assert rules(shifts([6, 7, 8, 5, 6, 7, 8], centre=5)) == [("shift", "up", [0, 1, 2, 4, 5, 6])]
    # Five above with a point on the median among them is still only five.
    assert shifts([6, 7, 5, 8, 6, 7, 1], centre=5) == []


def test_a_shift_below_the_median():
    assert rules(shifts([1, 2, 1, 2, 1, 2, 9], centre=5)) == [("shift", "down", [0, 1, 2, 3, 4, 5])]


# --- Run chart: trends ------------------------------------------------------------------------


def test_four_rising_points_are_not_a_trend_five_are():
    assert trends([1, 2, 3, 4]) == []
    assert rules(trends([1, 2, 3, 4, 5])) == [("trend", "up", [0, 1, 2, 3, 4])]


def test_a_repeated_value_neither_breaks_nor_counts():
    # 1 2 2 3 4: the repeat is skipped, leaving four rising points: no trend.
    assert trends([1, 2, 2, 3, 4]) == []
    # 5 4 4 3 2 1: five falling points with a repeat skipped.
    assert rules(trends([5, 4, 4, 3, 2, 1])) == [("trend", "down", [0, 1, 3, 4, 5])]


def test_the_turning_point_belongs_to_both_directions():
    assert rules(trends([1, 2, 3, 4, 5, 4, 3, 2, 1])) == [
        ("trend", "up", [0, 1, 2, 3, 4]),
        ("trend", "down", [4, 5, 6, 7, 8]),
    ]


# --- Run chart: runs --------------------------------------------------------------------------


def test_runs_leave_out_points_on_the_median():
    # above, above, on, below, above, below: useful 5, runs A A | B | A | B = 4
    assert count_runs([6, 7, 5, 4, 6, 3], centre=5) == (5, 4)
    assert count_runs([5, 5], centre=5) == (0, 0)


def _runs_by_enumeration(useful: int) -> dict[int, int]:
    """How many of every arrangement of `useful` points, split as evenly as possible above
    and below the median, have each number of runs: counted one arrangement at a time."""
    from itertools import combinations

    above = useful // 2
    counts: dict[int, int] = {}
    for ups in combinations(range(useful), above):
        up = set(ups)
        sides = [i in up for i in range(useful)]
        runs = 1 + sum(1 for a, b in zip(sides, sides[1:], strict=False) if a != b)
        counts[runs] = counts.get(runs, 0) + 1
    return counts


@pytest.mark.parametrize("useful", range(RUNS_FROM, 19))
def test_the_runs_limits_cut_two_and_a_half_per_cent_from_each_tail_of_every_arrangement(
    useful,
):
    counts = _runs_by_enumeration(useful)
    total = sum(counts.values())
    lower, upper = runs_limits(useful)
    # Fewer runs than `lower` happen by chance at most 2.5% of the time; `lower` itself is
    # more likely than that to be reached. The same from the top for `upper`.
    assert sum(n for r, n in counts.items() if r < lower) / total <= 0.025
    assert sum(n for r, n in counts.items() if r <= lower) / total > 0.025
    assert sum(n for r, n in counts.items() if r > upper) / total <= 0.025
    assert sum(n for r, n in counts.items() if r >= upper) / total > 0.025


def test_the_runs_limits_are_there_for_any_number_of_points():
    assert runs_limits(20) == (7, 15)  # one run inside the old hand-typed table's 6 and 16
    assert runs_limits(100) == (41, 61)
    chart = run_chart(points([1, 9] * 40))  # 80 useful points, alternating
    assert chart.runs_limits == runs_limits(80)
    assert ("runs", "many", []) in rules(chart.signals)
    assert run_chart(points([1, 9] * 4)).runs_limits is None  # 8 useful: too few to test


def test_at_twenty_useful_points_seven_runs_is_fine_and_six_is_too_few():
    seven = [1] * 4 + [9] * 4 + [1] * 3 + [9] * 3 + [1] * 2 + [9] * 3 + [1]
    six = [1] * 4 + [9] * 4 + [1] * 3 + [9] * 3 + [1] * 3 + [9] * 3
    chart = run_chart(points(seven))
    assert (chart.useful, chart.runs) == (20, 7)
    assert not [s for s in chart.signals if s.rule == "runs"]
    chart = run_chart(points(six))
    assert (chart.useful, chart.runs) == (20, 6)
    assert ("runs", "few", []) in rules(chart.signals)


def test_at_twenty_useful_points_fifteen_runs_is_fine_and_more_is_too_many():
    fifteen = [1, 9] * 6 + [1, 1, 9, 9, 9, 9, 1, 1]  # 12 single runs, then three more
    sixteen = [1, 9] * 7 + [1, 1, 1, 9, 9, 9]  # 14 single runs, then two more
    chart = run_chart(points(fifteen))
    assert (chart.useful, chart.runs) == (20, 15)
    assert not [s for s in chart.signals if s.rule == "runs"]
    chart = run_chart(points(sixteen))
    assert (chart.useful, chart.runs) == (20, 16)
    assert ("runs", "many", []) in rules(chart.signals)


def test_too_few_runs_are_flagged():
    # 12 below then 12 above the median: 2 runs of 24 useful points, fewer than 8.
    chart = run_chart(points([1] * 12 + [9] * 12))
    assert (chart.useful, chart.runs, chart.runs_limits) == (24, 2, (8, 18))
    assert ("runs", "few", []) in rules(chart.signals)


def test_too_many_runs_are_flagged():
    # Alternating either side of the median: 24 runs of one point, more than 18.
    chart = run_chart(points([1, 9] * 12))
    assert chart.runs == 24
    assert ("runs", "many", []) in rules(chart.signals)


def test_the_median_of_a_baseline_period_is_the_centre():
    values = [4, 5, 6, 5, 4, 6, 9, 9, 9, 9, 9, 9]
    chart = run_chart(points(values), baseline_until=START + timedelta(days=7 * 5))
    assert chart.centre == 5 and chart.baseline_size == 6
    # The 6 before the jump is above the baseline median too: seven points in the shift.
    assert ("shift", "up", [5, 6, 7, 8, 9, 10, 11]) in rules(chart.signals)


def test_two_points_only_draw_without_signals_and_one_point_cannot():
    chart = run_chart(points([3, 4]))
    assert chart.centre == 3.5 and chart.signals == [] and chart.runs_limits is None
    assert run_chart(points([3])).too_few_points
    assert run_chart([]).too_few_points


def test_dates_out_of_order_are_sorted():
    shuffled = list(reversed(points([1, 2, 3, 4, 5])))
    assert [p.value for p in run_chart(shuffled).points] == [1, 2, 3, 4, 5]


def test_all_values_equal_give_no_signals():
    chart = run_chart(points([7] * 20))
    assert chart.centre == 7 and chart.useful == 0 and chart.signals == []


# --- XmR --------------------------------------------------------------------------------------


def test_limits_are_the_mean_plus_and_minus_2_66_mean_moving_ranges():
    # Values 10, 12, 11, 13, 14: mean 12, moving ranges 2, 1, 2, 1: mean 1.5.
    chart = xmr_chart(points([10, 12, 11, 13, 14]))
    [segment] = chart.segments
    assert moving_ranges([10, 12, 11, 13, 14]) == [2, 1, 2, 1]
    assert segment.mean == 12 and segment.mean_moving_range == 1.5
    assert segment.upper == pytest.approx(12 + 2.66 * 1.5)  # 15.99
    assert segment.lower == pytest.approx(12 - 2.66 * 1.5)  # 8.01
    # Two thirds of the way to the limit, exactly (not a rounded 1.7733).
    assert WARNING_FACTOR == 2 * LIMIT_FACTOR / 3
    assert segment.upper_warning == pytest.approx(12 + 2 * 2.66 / 3 * 1.5, abs=1e-12)
    assert chart.provisional  # fewer than 12 points


def test_a_point_beyond_a_limit():
    # Eleven 10s and 11s alternate (mean moving range 1) then a 20.
    values = [10, 11] * 6 + [20]
    chart = xmr_chart(points(values))
    assert ("beyond", "up", [12]) in rules(chart.signals)


def test_six_on_one_side_of_the_mean_is_not_a_run_seven_is():
    # Mean of [1]*7 + [3]*8 is 2.0667; seven 1s below, eight 3s above.
    seven = xmr_chart(points([1] * 7 + [3] * 8))
    assert ("run", "down", list(range(7))) in rules(seven.signals)
    six = xmr_chart(points([1] * 6 + [3] + [1] + [3] * 7))
    assert not [s for s in six.signals if s.rule == "run" and s.direction == "down"]


def test_a_point_on_the_mean_ends_a_run():
    # Mean is exactly 2 (28 / 14): the 2 in the middle breaks seven 1s into three and three.
    values = [1, 1, 1, 2, 1, 1, 1, 3, 3, 3, 3, 3, 3, 2]
    chart = xmr_chart(points(values))
    assert sum(values) / len(values) == 2
    assert not [s for s in chart.signals if s.rule == "run"]


def test_seven_points_each_higher_than_the_last_six_are_not():
    assert ("xmr_trend", "up", list(range(7))) in rules(
        xmr_chart(points([1, 2, 3, 4, 5, 6, 7, 4])).signals
    )
    assert not [
        s for s in xmr_chart(points([1, 2, 3, 4, 5, 6, 4, 5])).signals if s.rule == "xmr_trend"
    ]


def test_a_repeat_ends_an_xmr_trend():
    chart = xmr_chart(points([1, 2, 3, 4, 4, 5, 6, 7]))
    assert not [s for s in chart.signals if s.rule == "xmr_trend"]


def test_two_of_three_beyond_the_warning_line_on_the_same_side():
    # Twenty points alternating 10, 12, then 16, 12, 16. By hand: mean 264 / 23 = 11.48;
    # moving ranges 19 × 2 + 4 + 4 + 4 = 50 over 22 = 2.27; warning line 11.48 + 2/3 ×
    # 2.66 × 2.27 = 15.51; upper limit 11.48 + 2.66 × 2.27 = 17.52. So each 16 is past the
    # warning line but inside the limit, and the 12 between them is above the mean.
    base = [10, 12] * 10
    chart = xmr_chart(points(base + [16, 12, 16]))
    segment = chart.segments[0]
    assert segment.mean == pytest.approx(264 / 23)
    assert segment.mean_moving_range == pytest.approx(50 / 22)
    assert segment.upper_warning < 16 < segment.upper and 12 > segment.mean
    assert ("two_of_three", "up", [20, 22]) in rules(chart.signals)
    assert not [s for s in chart.signals if s.rule == "beyond"]
    # One past the upper warning line and one past the lower do not count together.
    mixed = xmr_chart(points(base + [16, 11, 6.5]))
    low = mixed.segments[0]
    assert 16 > low.upper_warning and 6.5 < low.lower_warning
    assert not [s for s in mixed.signals if s.rule == "two_of_three"]


def test_two_of_three_needs_all_three_on_the_same_side_of_the_mean():
    """2.0, -0.5, 2.0 about a mean of 0 with a mean moving range of 1: both 2.0s are past
    the warning line (1.77), but the point between them is below the mean: no signal."""
    from improvement.spc import Segment, _two_of_three

    segment = Segment(start=0, points=[], mean=0.0, mean_moving_range=1.0)
    assert _two_of_three([2.0, -0.5, 2.0], segment) == []
    assert rules(_two_of_three([2.0, 0.5, 2.0], segment)) == [("two_of_three", "up", [0, 2])]
    assert _two_of_three([2.0, 0.0, 2.0], segment) == []  # on the mean is on neither side
    assert rules(_two_of_three([-2.0, -0.5, -1.9], segment)) == [("two_of_three", "down", [0, 2])]
    # Points beyond a limit (2.66) are said once, as beyond a limit, not as two of three.
    assert _two_of_three([3.0, 0.5, 3.0], segment) == []
    assert rules(_two_of_three([3.0, 0.5, 2.0], segment)) == [("two_of_three", "up", [0, 2])]


def test_no_rule_reaches_across_a_rebase():
    """Each rule reads one set of limits at a time: four points above the old mean and three
    above the new one are not a run of seven; a trend or two of three likewise."""
    rebase = START + timedelta(days=7 * 12)
    run = [10, 12] * 4 + [12, 12, 12, 12] + [13, 13, 13] + [11, 13] * 5
    chart = xmr_chart(points(run), rebase_from=[rebase])
    before, after = chart.segments
    assert all(v > before.mean for v in run[8:12]) and all(v > after.mean for v in run[12:15])
    assert not [s for s in chart.signals if s.rule == "run"]
    rising = [10, 11] * 4 + [11, 12, 13, 14] + [15, 16, 17] + [16, 15] * 5
    chart = xmr_chart(points(rising), rebase_from=[rebase])
    assert not [s for s in chart.signals if s.rule == "xmr_trend"]
    # The same points with no rebase: a run of seven and a trend of seven.
    assert [s for s in xmr_chart(points(run)).signals if s.rule == "run"]
    assert [s for s in xmr_chart(points(rising)).signals if s.rule == "xmr_trend"]


def test_all_values_equal_give_zero_width_limits_and_no_division_by_zero():
    chart = xmr_chart(points([5] * 15))
    [segment] = chart.segments
    assert segment.mean_moving_range == 0 and segment.upper == segment.lower == 5
    assert chart.signals == [] and chart.variation == "common"


def test_two_points_only_and_fewer():
    chart = xmr_chart(points([3, 5]))
    assert chart.segments[0].mean == 4 and chart.provisional
    assert xmr_chart(points([3])).too_few_points


def test_rebasing_gives_new_limits_from_the_date():
    values = [10, 11] * 6 + [20, 21] * 6
    chart = xmr_chart(points(values), rebase_from=[START + timedelta(days=7 * 12)])
    before, after = chart.segments
    assert (before.mean, after.mean) == (10.5, 20.5)
    assert before.start == 0 and after.start == 12
    assert not chart.provisional  # twelve points in each


def test_variation_and_assurance_in_words():
    values = [10, 11] * 6 + [20]
    better_up = xmr_chart(points(values), higher_is_better=True, target=9)
    assert better_up.variation == "improvement"
    better_down = xmr_chart(points(values), higher_is_better=False)
    assert better_down.variation == "concern"
    steady = xmr_chart(points([10, 11] * 7), higher_is_better=True, target=5)
    assert steady.variation == "common" and steady.assurance == "met"
    assert xmr_chart(points([10, 11] * 7), target=30).assurance == "not_met"
    assert xmr_chart(points([10, 11] * 7), target=10.5).assurance == "hit_and_miss"
    assert xmr_chart(points([10, 11] * 7), higher_is_better=False, target=30).assurance == "met"
    assert xmr_chart(points([10, 11] * 7)).assurance == ""


def test_screening_leaves_out_moving_ranges_of_3267_times_their_mean_or_more():
    # Ten points alternating 10, 12 then one jump to 40 and back: moving ranges 9 × 2, 28,
    # 28; their mean 74 / 11 = 6.73, and 3.267 × 6.73 = 21.98, so both 28s are left out
    # and the limits come from the 2s alone.
    values = [10, 12] * 5 + [40, 12]
    screened = xmr_chart(points(values))
    [segment] = screened.segments
    assert moving_ranges(values) == [2] * 9 + [28, 28]
    assert segment.mean_moving_range == 2
    assert segment.screened == [10, 11]  # the points the left-out jumps end on
    assert ("beyond", "up", [10]) in rules(screened.signals)
    unscreened = xmr_chart(points(values), screen=False)
    assert unscreened.segments[0].mean_moving_range == pytest.approx(74 / 11)
    assert unscreened.segments[0].screened == []
    # Just under the factor stays in.
    assert xmr_chart(points([10, 12] * 5 + [10 + 3.2 * 2])).segments[0].screened == []
