"""The rules for reading run charts and XmR charts: pure Python, no Django, every boundary
tested by hand.

Run charts (Perla, Provost and Murray, 2011): the median is the centre line (of a baseline
period if one is set).
- Shift: 6 or more consecutive points on one side of the median. A point on the median
  neither breaks a shift nor counts towards it.
- Trend: 5 or more consecutive points all going up, or all going down. A point equal to the
  one before neither breaks a trend nor counts towards it.
- Runs: too few or too many runs for the number of useful observations (points not on the
  median), against the table below.
- An astronomical point is judged by a person, not computed here.

XmR charts, as NHS England's "Making Data Count" draws them: the mean is the centre line;
process limits are the mean ± 2.66 × the mean moving range.
- A point beyond a limit.
- 7 consecutive points on one side of the mean (a point on the mean ends the run).
- 7 consecutive points each higher (or each lower) than the one before (a repeat ends it).
- 2 of 3 consecutive points beyond mean ± (2/3 × 2.66) × the mean moving range, with all
  three on that side of the mean (two points past the warning line with one between them on
  the other side of the mean are not a signal). Where the points past the warning line are
  beyond a limit already, that is said once, as points beyond a limit.
With screening (the default), moving ranges of 3.267 × their mean or more are left out of
the mean moving range the limits come from.
Every rule reads the points of one set of limits at a time: a run, a trend or two of three
never reaches across a rebase.
Limits from fewer than 12 points are provisional.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cache
from math import comb
from statistics import fmean, median

SHIFT_LENGTH = 6
TREND_LENGTH = 5
XMR_RUN_LENGTH = 7
XMR_TREND_LENGTH = 7
LIMIT_FACTOR = 2.66
# Moving ranges this many times their mean or more are left out before the limits are worked
# out, when screening is on (as NHS England's reference does by default): one wild jump
# should not widen the limits for every other point.
SCREENING_FACTOR = 3.267
WARNING_FACTOR = 2 * LIMIT_FACTOR / 3  # two thirds of the way to a limit, exactly
PROVISIONAL_BELOW = 12


def _runs_limits(useful: int, tail: float = 0.025) -> tuple[int, int]:
    """The fewest and most runs expected by chance for `useful` points split evenly either
    side of the median, from the exact distribution of the number of runs (Swed and
    Eisenhart, 1943), with `tail` of the probability cut off at each end."""
    above = useful // 2
    below = useful - above
    total = comb(useful, above)
    chance = {}
    for runs in range(2, useful + 1):
        k = runs // 2
        if runs % 2 == 0:
            ways = 2 * comb(above - 1, k - 1) * comb(below - 1, k - 1)
        else:
            ways = comb(above - 1, k - 1) * comb(below - 1, k) + comb(above - 1, k) * comb(
                below - 1, k - 1
            )
        chance[runs] = ways / total
    lower = upper = None
    seen = 0.0
    for runs in sorted(chance):
        seen += chance[runs]
        if seen > tail:
            lower = runs
            break
    seen = 0.0
    for runs in sorted(chance, reverse=True):
        seen += chance[runs]
        if seen > tail:
            upper = runs
            break
    return lower, upper


# The runs test needs this many useful observations at least (Perla, Provost and Murray's
# table starts there); the limits themselves come from `runs_limits` for any number.
RUNS_FROM = 10


@cache
def runs_limits(useful: int) -> tuple[int, int]:
    """The run chart's limits for `useful` observations: fewer runs than the first, or more
    than the second, is a signal (`_runs_limits`, kept per number)."""
    return _runs_limits(useful)


@dataclass(frozen=True)
class Point:
    when: date
    value: float


@dataclass
class Signal:
    rule: str  # "shift", "trend", "runs", "beyond", "run", "xmr_trend", "two_of_three"
    indexes: list[int]
    direction: str = ""  # "up" or "down", where it applies
    explanation: str = ""


@dataclass
class RunChart:
    points: list[Point]
    centre: float | None
    baseline_size: int
    useful: int = 0
    runs: int = 0
    runs_limits: tuple[int, int] | None = None
    signals: list[Signal] = field(default_factory=list)
    too_few_points: bool = False
    notes: list[str] = field(default_factory=list)  # "baseline_ignored"


def _side(value: float, centre: float) -> int:
    return (value > centre) - (value < centre)


def shifts(values: list[float], centre: float, length: int = SHIFT_LENGTH) -> list[Signal]:
    """Runs of `length` or more points on one side of `centre`; points on it are skipped."""
    found: list[Signal] = []
    current: list[int] = []
    side = 0
    for index, value in enumerate(values):
        here = _side(value, centre)
        if here == 0:
            continue  # on the centre line: neither breaks nor counts
        if here != side:
            if len(current) >= length:
                found.append(Signal("shift", current, "up" if side > 0 else "down"))
            current, side = [], here
        current.append(index)
    if len(current) >= length:
        found.append(Signal("shift", current, "up" if side > 0 else "down"))
    return found


def trends(values: list[float], length: int = TREND_LENGTH) -> list[Signal]:
    """`length` or more consecutive points all going up or all going down. A value equal to
    the one before is skipped: it neither breaks the trend nor counts."""
    found: list[Signal] = []
    current: list[int] = []
    direction = 0
    previous = None
    for index, value in enumerate(values):
        if previous is None:
            current, previous = [index], value
            continue
        step = (value > previous) - (value < previous)
        if step == 0:
            continue  # a repeat: skipped
        if direction not in (0, step):
            if len(current) >= length:
                found.append(Signal("trend", current, "up" if direction > 0 else "down"))
            current = [current[-1]]  # the turning point starts the next trend
        direction = step
        current.append(index)
        previous = value
    if len(current) >= length and direction:
        found.append(Signal("trend", current, "up" if direction > 0 else "down"))
    return found


def count_runs(values: list[float], centre: float) -> tuple[int, int]:
    """(useful observations, runs): points on the centre line are left out of both."""
    sides = [s for s in (_side(v, centre) for v in values) if s != 0]
    if not sides:
        return 0, 0
    return len(sides), 1 + sum(1 for a, b in zip(sides, sides[1:], strict=False) if a != b)


def run_chart(points: list[Point], *, baseline_until: date | None = None) -> RunChart:
    """Read a run chart. Points are sorted by date first."""
    points = sorted(points, key=lambda p: p.when)
    baseline = [p for p in points if baseline_until is None or p.when <= baseline_until]
    ignored = len(baseline) < 2
    if ignored:
        baseline = points
    chart = RunChart(points=points, centre=None, baseline_size=len(baseline))
    if ignored and baseline_until is not None:
        chart.notes.append("baseline_ignored")
    if len(points) < 2:
        chart.too_few_points = True
        return chart
    values = [p.value for p in points]
    chart.centre = median([p.value for p in baseline])
    chart.signals += shifts(values, chart.centre)
    chart.signals += trends(values)
    chart.useful, chart.runs = count_runs(values, chart.centre)
    chart.runs_limits = runs_limits(chart.useful) if chart.useful >= RUNS_FROM else None
    if chart.runs_limits:
        lower, upper = chart.runs_limits
        if chart.runs < lower:
            chart.signals.append(Signal("runs", [], "few"))
        elif chart.runs > upper:
            chart.signals.append(Signal("runs", [], "many"))
    return chart


# --- XmR ------------------------------------------------------------------------------------


@dataclass
class Segment:
    """Points sharing one set of limits (a chart rebased from a date has two or more)."""

    start: int  # index of the first point in the chart
    points: list[Point]
    mean: float
    mean_moving_range: float
    # The chart's indexes of the points whose moving range (from the point before) was left
    # out of the mean moving range by screening.
    screened: list[int] = field(default_factory=list)

    @property
    def upper(self) -> float:
        return self.mean + LIMIT_FACTOR * self.mean_moving_range

    @property
    def lower(self) -> float:
        return self.mean - LIMIT_FACTOR * self.mean_moving_range

    @property
    def upper_warning(self) -> float:
        return self.mean + WARNING_FACTOR * self.mean_moving_range

    @property
    def lower_warning(self) -> float:
        return self.mean - WARNING_FACTOR * self.mean_moving_range

    @property
    def provisional(self) -> bool:
        return len(self.points) < PROVISIONAL_BELOW


@dataclass
class XmRChart:
    points: list[Point]
    segments: list[Segment] = field(default_factory=list)
    signals: list[Signal] = field(default_factory=list)
    too_few_points: bool = False
    variation: str = ""  # "common", "improvement", "concern"
    assurance: str = ""  # "met", "not_met", "hit_and_miss", or "" with no target

    rebase_ignored: bool = False

    @property
    def provisional(self) -> bool:
        """Whether the limits in use now (the latest segment's) rest on fewer than 12
        points."""
        return bool(self.segments) and self.segments[-1].provisional

    def segment_of(self, index: int) -> Segment:
        for segment in reversed(self.segments):
            if index >= segment.start:
                return segment
        return self.segments[0]


def moving_ranges(values: list[float]) -> list[float]:
    return [abs(b - a) for a, b in zip(values, values[1:], strict=False)]


def _segment(points: list[Point], start: int, *, screen: bool = True) -> Segment:
    values = [p.value for p in points]
    ranges = moving_ranges(values)
    average = fmean(ranges) if ranges else 0.0
    screened = []
    if screen and average:
        screened = [i + 1 for i, r in enumerate(ranges) if r >= SCREENING_FACTOR * average]
        kept = [r for r in ranges if r < SCREENING_FACTOR * average]
        average = fmean(kept) if kept else average
    return Segment(
        start=start,
        points=points,
        mean=fmean(values),
        mean_moving_range=average,
        screened=[start + i for i in screened],
    )


def _beyond_limits(values: list[float], segment: Segment) -> list[Signal]:
    found = []
    for index, value in enumerate(values):
        if value > segment.upper or value < segment.lower:
            found.append(Signal("beyond", [index], "up" if value > segment.upper else "down"))
    return found


def _runs_about_mean(values: list[float], segment: Segment) -> list[Signal]:
    """Runs on one side of the mean: a point on the mean ends one."""
    found: list[Signal] = []
    current: list[int] = []
    side = 0
    for index, value in enumerate(values + [None]):
        here = 0 if value is None else _side(value, segment.mean)
        if here != 0 and here == side:
            current.append(index)
            continue
        if len(current) >= XMR_RUN_LENGTH:
            found.append(Signal("run", current, "up" if side > 0 else "down"))
        current, side = ([index] if here else []), here
    return found


def _steps(values: list[float], segment: Segment) -> list[Signal]:
    """Points each higher (or each lower) than the one before; a repeat ends the run."""
    found: list[Signal] = []
    current, direction = [0], 0
    for index in range(1, len(values) + 1):
        step = (
            0
            if index == len(values)
            else (values[index] > values[index - 1]) - (values[index] < values[index - 1])
        )
        if step != 0 and step == direction:
            current.append(index)
            continue
        if direction and len(current) >= XMR_TREND_LENGTH:
            found.append(Signal("xmr_trend", current, "up" if direction > 0 else "down"))
        current, direction = ([index - 1, index] if step else [index]), step
    return found


def _two_of_three(values: list[float], segment: Segment) -> list[Signal]:
    """Two (or three) of three consecutive points beyond the warning line on one side, with
    all three on that side of the mean. Points beyond a limit count towards it, but a
    window whose points past the warning line are all beyond a limit is said once, as
    points beyond a limit."""
    found: list[Signal] = []
    flagged: set[int] = set()
    for end in range(2, len(values)):
        window = (end - 2, end - 1, end)
        for side, warning, limit, direction in (
            (1, segment.upper_warning, segment.upper, "up"),
            (-1, segment.lower_warning, segment.lower, "down"),
        ):
            if any(_side(values[i], segment.mean) != side for i in window):
                continue
            near = [i for i in window if (values[i] - warning) * side > 0]
            if len(near) < 2 or set(near) <= flagged:
                continue
            if all((values[i] - limit) * side > 0 for i in near):
                continue  # all beyond a limit already
            found.append(Signal("two_of_three", near, direction))
            flagged.update(near)
    return found


RULES = (_beyond_limits, _runs_about_mean, _steps, _two_of_three)


def _xmr_rules(values: list[float], segments: list[Segment]) -> list[Signal]:
    """Every rule over each segment's own points, against its own mean and limits; the
    signals' indexes are the chart's."""
    found = []
    for rule in RULES:
        for segment in segments:
            mine = values[segment.start : segment.start + len(segment.points)]
            for signal in rule(mine, segment):
                signal.indexes = [segment.start + i for i in signal.indexes]
                found.append(signal)
    return found


def xmr_chart(
    points: list[Point],
    *,
    rebase_from: list[date] | None = None,
    higher_is_better: bool = True,
    target: float | None = None,
    screen: bool = True,
) -> XmRChart:
    """Read an XmR chart, with new limits from each rebasing date. Points are sorted first."""
    points = sorted(points, key=lambda p: p.when)
    chart = XmRChart(points=points)
    if len(points) < 2:
        chart.too_few_points = True
        return chart
    starts = [0]
    for when in sorted(rebase_from or []):
        index = next((i for i, p in enumerate(points) if p.when >= when), None)
        # A new segment needs two points of its own for a moving range.
        if index is not None and index - starts[-1] >= 2 and len(points) - index >= 2:
            starts.append(index)
        else:
            chart.rebase_ignored = True
    bounds = starts + [len(points)]
    chart.segments = [
        _segment(points[a:b], a, screen=screen) for a, b in zip(bounds, bounds[1:], strict=False)
    ]
    values = [p.value for p in points]
    chart.signals = _xmr_rules(values, chart.segments)
    chart.variation = _variation(chart, len(values) - 1, higher_is_better)
    chart.assurance = _assurance(chart.segments[-1], target, higher_is_better)
    return chart


def _variation(chart: XmRChart, last: int, higher_is_better: bool) -> str:
    """The latest point's variation: special cause if any rule flags it, improvement or
    concern by the direction that is better; otherwise common cause."""
    for signal in chart.signals:
        if last in signal.indexes:
            good = "up" if higher_is_better else "down"
            return "improvement" if signal.direction == good else "concern"
    return "common"


def _assurance(segment: Segment, target: float | None, higher_is_better: bool) -> str:
    """Whether the process will meet a target: consistently when both limits are on the
    target's good side, consistently not when both are on the bad side, otherwise hit and
    miss."""
    if target is None:
        return ""
    if higher_is_better:
        if segment.lower >= target:
            return "met"
        if segment.upper < target:
            return "not_met"
    else:
        if segment.upper <= target:
            return "met"
        if segment.lower > target:
            return "not_met"
    return "hit_and_miss"
