"""Charts drawn on the server as SVG (no chart script): the geometry of run and XmR charts and
of driver diagrams, and the words that say what each shows. Templates draw the shapes."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from improvement import spc

WIDTH, HEIGHT = 640, 300
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 40

RULE_WORDS = {
    "shift": lambda s, d: ngettext(
        "A shift: %(n)d point in a row %(side)s the median, from %(start)s to %(end)s.",
        "A shift: %(n)d points in a row %(side)s the median, from %(start)s to %(end)s.",
        len(s.indexes),
    ),
    "trend": lambda s, d: ngettext(
        "A trend: %(n)d point in a row going %(way)s, from %(start)s to %(end)s.",
        "A trend: %(n)d points in a row going %(way)s, from %(start)s to %(end)s.",
        len(s.indexes),
    ),
    "beyond": lambda s, d: _("A point %(beyond)s the process limits on %(start)s."),
    "run": lambda s, d: _("%(n)d points in a row %(side)s the mean, from %(start)s to %(end)s."),
    "xmr_trend": lambda s, d: _(
        "%(n)d points in a row each %(higher)s than the one before, from %(start)s to %(end)s."
    ),
    "two_of_three": lambda s, d: _(
        "Two of three points in a row near the %(limit)s process limit, from %(start)s to %(end)s."
    ),
}


def _day(value: date) -> str:
    return date_format(value, "j M Y")


def _number(value: float) -> str:
    """Up to two decimal places, without trailing zeros: 49, 44.2, 3.14."""
    if value is None:
        return ""
    value = round(float(value), 2)
    if value.is_integer():
        return number_format(int(value))
    return number_format(value)


def explain(signal: spc.Signal, points: list[spc.Point]) -> str:
    """A signal in plain words."""
    if signal.rule == "runs":
        return (
            _(
                "Too few runs: the points stay on one side of the median longer than chance "
                "would explain."
            )
            if signal.direction == "few"
            else _(
                "Too many runs: the points cross the median more often than chance would explain."
            )
        )
    first, last = points[signal.indexes[0]], points[signal.indexes[-1]]
    up = signal.direction == "up"
    words = RULE_WORDS[signal.rule](signal, points)
    return words % {
        "n": len(signal.indexes),
        "side": _("above") if up else _("below"),
        "way": _("up") if up else _("down"),
        "higher": _("higher") if up else _("lower"),
        "beyond": _("above") if up else _("below"),
        "limit": _("upper") if up else _("lower"),
        "start": _day(first.when),
        "end": _day(last.when),
    }


@dataclass
class Mark:
    x: float
    y: float
    point: spc.Point
    signal: bool
    label: str

    @property
    def box(self) -> tuple[float, float]:
        """The corner of the square drawn for a point that is part of a signal."""
        return round(self.x - 5, 1), round(self.y - 5, 1)


@dataclass
class Line:
    y: float
    label: str
    kind: str  # "centre", "limit", "warning", "target"
    x1: float = LEFT
    x2: float = WIDTH - RIGHT


@dataclass
class Annotation:
    x: float
    label: str
    text: str


def rules_in_words(kind: str) -> list[str]:
    """How the signals of a run chart ("run") or an XmR chart ("xmr") are found, one plain
    sentence a rule, with the numbers the rules use (improvement.spc)."""
    if kind == "run":
        return [
            _("A shift: %(n)d or more points in a row above the median, or below it.")
            % {"n": spc.SHIFT_LENGTH},
            _("A trend: %(n)d or more points in a row each going up, or each going down.")
            % {"n": spc.TREND_LENGTH},
            _(
                "Too few or too many runs: the points cross the median less often, or more "
                "often, than chance would in 39 charts out of 40 (from %(n)d points off the "
                "median)."
            )
            % {"n": spc.RUNS_FROM},
            _("A point on the median neither counts nor breaks a shift or a run."),
        ]
    return [
        _("A point above the upper process limit or below the lower one."),
        _("%(n)d or more points in a row above the mean, or below it.") % {"n": spc.XMR_RUN_LENGTH},
        _("%(n)d or more points in a row each higher than the one before, or each lower.")
        % {"n": spc.XMR_TREND_LENGTH},
        _(
            "Two of three points in a row closer to a process limit than two thirds of the "
            "way from the mean, with all three on that side of the mean."
        ),
        _(
            "Where the limits are worked out again from a date, each rule reads the points "
            "from that date on by themselves."
        ),
    ]


@dataclass
class Drawing:
    kind: str  # "run" or "xmr"
    title: str
    summary: list[str]
    marks: list[Mark] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    annotations: list[Annotation] = field(default_factory=list)
    y_ticks: list[tuple[float, str]] = field(default_factory=list)
    x_ticks: list[tuple[float, str]] = field(default_factory=list)
    path: str = ""
    cannot_draw: str = ""
    width: int = WIDTH
    height: int = HEIGHT
    plot_bottom: int = HEIGHT - BOTTOM
    plot_left: int = LEFT
    plot_right: int = WIDTH - RIGHT

    @property
    def rules(self) -> list[str]:
        return rules_in_words(self.kind)


def _nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    if high - low < max(abs(high), abs(low), 1) * 1e-9:
        pad = max(abs(high), 1) * 0.1  # all values (nearly) equal: a band around them
        high, low = high + pad, low - pad
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / step) * step
    ticks = []
    value = start
    while value <= high + step * 0.001:
        ticks.append(round(value, 10))
        value += step
    if ticks[-1] < high:
        ticks.append(round(value, 10))
    return ticks


class _Scale:
    def __init__(self, points: list[spc.Point], extra: list[float]):
        values = [p.value for p in points] + [v for v in extra if v is not None]
        self.ticks = _nice_ticks(min(values), max(values))
        self.low, self.high = self.ticks[0], self.ticks[-1]
        self.first, self.last = points[0].when, points[-1].when
        self.count = len(points)

    def y(self, value: float) -> float:
        span = self.high - self.low or 1
        return round(TOP + (self.high - value) / span * (HEIGHT - TOP - BOTTOM), 1)

    def x_index(self, index: int) -> float:
        width = WIDTH - LEFT - RIGHT
        return round(LEFT + (index / max(self.count - 1, 1)) * width, 1)

    def x_date(self, when: date, points: list[spc.Point]) -> float | None:
        """Where a date falls between the points either side of it (points are evenly
        spaced, so a date is placed by the points, not by the calendar)."""
        if when < self.first or when > self.last:
            return None
        for i in range(1, len(points)):
            a, b = points[i - 1], points[i]
            if a.when <= when <= b.when:
                share = 0 if b.when == a.when else (when - a.when).days / (b.when - a.when).days
                return round(
                    self.x_index(i - 1) + share * (self.x_index(i) - self.x_index(i - 1)), 1
                )
        return self.x_index(0)


def _cannot(kind: str, title: str, count: int) -> Drawing:
    reason = (
        _("No data yet, so there is no chart to draw.")
        if count == 0
        else _("Only one data point so far: a chart needs at least two.")
    )
    return Drawing(kind=kind, title=title, summary=[reason], cannot_draw=reason)


def _base(kind, title, points, scale, flagged, cycles) -> Drawing:
    drawing = Drawing(kind=kind, title=title, summary=[])
    for index, point in enumerate(points):
        drawing.marks.append(
            Mark(
                scale.x_index(index),
                scale.y(point.value),
                point,
                index in flagged,
                f"{_day(point.when)}: {_number(point.value)}",
            )
        )
    drawing.path = " ".join(
        f"{'M' if i == 0 else 'L'}{m.x},{m.y}" for i, m in enumerate(drawing.marks)
    )
    drawing.y_ticks = [(scale.y(t), _number(t)) for t in scale.ticks]
    step = max(1, math.ceil(len(points) / 6))
    drawing.x_ticks = [
        (scale.x_index(i), date_format(points[i].when, "j M")) for i in range(0, len(points), step)
    ]
    for number, cycle in enumerate(cycles, start=1):
        x = scale.x_date(cycle.starts_on, points)
        if x is not None:
            drawing.annotations.append(
                Annotation(
                    x,
                    f"C{number}",
                    _("Cycle %(n)d starts: %(change)s") % {"n": number, "change": cycle.change},
                )
            )
    return drawing


def run_chart(measure, points: list[spc.Point], cycles=()) -> Drawing:
    title = _("Run chart of %(name)s") % {"name": measure.name}
    points = sorted(points, key=lambda p: p.when)
    if len(points) < 2:
        return _cannot("run", title, len(points))
    chart = spc.run_chart(points, baseline_until=measure.baseline_until)
    flagged = {i for s in chart.signals for i in s.indexes}
    scale = _Scale(points, [chart.centre, measure.target])
    drawing = _base("run", title, points, scale, flagged, cycles)
    drawing.lines.append(
        Line(scale.y(chart.centre), _("Median %(v)s") % {"v": _number(chart.centre)}, "centre")
    )
    if measure.target is not None:
        drawing.lines.append(
            Line(
                scale.y(measure.target),
                _("Target %(v)s") % {"v": _number(measure.target)},
                "target",
            )
        )
    drawing.summary = [
        _("%(n)d points from %(start)s to %(end)s. The median is %(median)s%(baseline)s.")
        % {
            "n": len(points),
            "start": _day(points[0].when),
            "end": _day(points[-1].when),
            "median": _number(chart.centre),
            "baseline": (_(", from the %(n)d baseline points") % {"n": chart.baseline_size})
            if chart.baseline_size < len(points)
            else "",
        }
    ]
    if chart.runs_limits:
        drawing.summary.append(
            _(
                "%(runs)d runs across %(useful)d useful points (between %(low)d and %(high)d "
                "would be expected by chance)."
            )
            % {
                "runs": chart.runs,
                "useful": chart.useful,
                "low": chart.runs_limits[0],
                "high": chart.runs_limits[1],
            }
        )
    drawing.summary += [explain(s, points) for s in chart.signals] or [
        _("No signals: the variation looks like chance so far.")
    ]
    if "baseline_ignored" in chart.notes:
        drawing.summary.append(
            _(
                "The baseline period has fewer than two points, so the median of all the points "
                "is used."
            )
        )
    drawing.summary += [
        _("Astronomical point, marked by the team: %(p)s.") % {"p": _day(p.when)}
        for p in getattr(measure, "astronomical_points", [])
    ]
    return drawing


VARIATION_WORDS = {
    "common": gettext_lazy("Common cause variation: nothing unusual in the latest point."),
    "improvement": gettext_lazy("Special cause variation, and it is an improvement."),
    "concern": gettext_lazy("Special cause variation, and it is a concern."),
}
ASSURANCE_WORDS = {
    "met": gettext_lazy("The target will be met consistently if nothing changes."),
    "not_met": gettext_lazy("The target will not be met consistently if nothing changes."),
    "hit_and_miss": gettext_lazy(
        "The target will sometimes be met and sometimes not: hit and miss."
    ),
}


def xmr_chart(measure, points: list[spc.Point], cycles=()) -> Drawing:
    title = _("XmR chart of %(name)s") % {"name": measure.name}
    points = sorted(points, key=lambda p: p.when)
    if len(points) < 2:
        return _cannot("xmr", title, len(points))
    chart = spc.xmr_chart(
        points,
        rebase_from=[measure.rebase_from] if measure.rebase_from else None,
        higher_is_better=measure.higher_is_better,
        target=measure.target,
        screen=measure.screen_moving_ranges,
    )
    flagged = {i for s in chart.signals for i in s.indexes}
    extra = [s.upper for s in chart.segments] + [s.lower for s in chart.segments]
    scale = _Scale(points, extra + [measure.target])
    drawing = _base("xmr", title, points, scale, flagged, cycles)
    for segment in chart.segments:
        x1 = scale.x_index(segment.start)
        x2 = scale.x_index(segment.start + len(segment.points) - 1)
        for value, label, kind in (
            (segment.mean, _("Mean %(v)s"), "centre"),
            (segment.upper, _("Upper limit %(v)s"), "limit"),
            (segment.lower, _("Lower limit %(v)s"), "limit"),
        ):
            drawing.lines.append(Line(scale.y(value), label % {"v": _number(value)}, kind, x1, x2))
        drawing.summary.append(
            _("From %(start)s: mean %(mean)s, process limits %(lower)s to %(upper)s.")
            % {
                "start": _day(segment.points[0].when),
                "mean": _number(segment.mean),
                "lower": _number(segment.lower),
                "upper": _number(segment.upper),
            }
        )
    if measure.target is not None:
        drawing.lines.append(
            Line(
                scale.y(measure.target),
                _("Target %(v)s") % {"v": _number(measure.target)},
                "target",
            )
        )
    screened = [points[i].when for segment in chart.segments for i in segment.screened]
    if screened:
        drawing.summary.append(
            ngettext(
                "One jump of %(factor)s times the average jump or more was left out before "
                "working out the limits: the jump to %(days)s.",
                "%(n)d jumps of %(factor)s times the average jump or more were left out before "
                "working out the limits: the jumps to %(days)s.",
                len(screened),
            )
            % {
                "n": len(screened),
                "factor": number_format(spc.SCREENING_FACTOR),
                "days": ", ".join(_day(day) for day in screened),
            }
        )
    if chart.rebase_ignored:
        drawing.summary.append(
            _(
                "New limits need at least two points before and after the chosen date, so the "
                "limits are not worked out again there."
            )
        )
    if chart.provisional:
        drawing.summary.append(_("The limits are provisional: they rest on fewer than 12 points."))
    drawing.summary += [explain(s, points) for s in chart.signals]
    drawing.summary.append(str(VARIATION_WORDS[chart.variation]))
    if chart.assurance:
        drawing.summary.append(str(ASSURANCE_WORDS[chart.assurance]))
    return drawing


def draw(measure, points: list[spc.Point], cycles=()) -> Drawing:
    """The measure's chart. Values the arithmetic cannot place (saved some other way than
    the forms, which refuse them) give a reason in words instead of a broken page."""
    try:
        if measure.chart == measure.Chart.XMR:
            return xmr_chart(measure, points, cycles)
        return run_chart(measure, points, cycles)
    except (ArithmeticError, ValueError):
        reason = _("The values are too large or too small to draw. Check them in the table.")
        return Drawing(kind=measure.chart, title=measure.name, summary=[reason], cannot_draw=reason)


# --- Driver diagrams ------------------------------------------------------------------------

LEVELS = 3  # primary drivers, secondary drivers, change ideas
BOX_W, BOX_H, GAP_X, GAP_Y = 150, 44, 30, 10


@dataclass
class Node:
    text: str
    level: int  # 0 aim, 1 primary, 2 secondary, 3 change idea
    children: list[Node] = field(default_factory=list)
    x: float = 0
    y: float = 0

    @property
    def lines(self) -> list[str]:
        """The text wrapped to fit its box: up to three lines."""
        words, lines, line = self.text.split(), [], ""
        for word in words:
            if len(line) + len(word) + 1 > 22 and line:
                lines.append(line)
                line = word
            else:
                line = f"{line} {word}".strip()
        lines.append(line)
        if len(lines) > 3:
            lines = lines[:3]
            lines[2] = lines[2][:19] + "…"
        return lines


class DriverError(ValueError):
    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def parse_drivers(text: str) -> list[Node]:
    """Primary drivers and what hangs from them, from an indented list: two spaces (or a tab)
    per level, an optional "- " before each line. Problems come back with line numbers."""
    roots: list[Node] = []
    stack: list[Node] = []
    problems = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        expanded = raw.replace("\t", "  ")
        spaces = len(expanded) - len(expanded.lstrip(" "))
        words = expanded.strip().lstrip("-*•").strip()
        if not words:
            continue  # a bullet with nothing after it
        if spaces % 2:
            problems.append(_("Line %(n)d: indent by two spaces per level.") % {"n": number})
            continue
        level = spaces // 2 + 1
        if level > LEVELS:
            problems.append(
                _(
                    "Line %(n)d: too deep. Use three levels: primary drivers, secondary "
                    "drivers, change ideas."
                )
                % {"n": number}
            )
            continue
        if level > len(stack) + 1:
            problems.append(
                _("Line %(n)d: indented more than one level below the line above.") % {"n": number}
            )
            continue
        node = Node(words, level)
        del stack[level - 1 :]
        (stack[-1].children if stack else roots).append(node)
        stack.append(node)
    if problems:
        raise DriverError(problems)
    return roots


def layout(aim: str, roots: list[Node]) -> tuple[Node, list[Node], int, int]:
    """Place the tree: one row per leaf, each parent level with the middle of its children.
    Returns the aim node, every node, and the drawing's width and height."""
    top = Node(aim, 0, roots)
    rows = [0]

    def place(node: Node) -> None:
        node.x = node.level * (BOX_W + GAP_X)
        if not node.children:
            node.y = rows[0] * (BOX_H + GAP_Y)
            rows[0] += 1
            return
        for child in node.children:
            place(child)
        node.y = (node.children[0].y + node.children[-1].y) / 2

    place(top)
    nodes: list[Node] = []

    def walk(node: Node) -> None:
        nodes.append(node)
        for child in node.children:
            walk(child)

    walk(top)
    depth = max(n.level for n in nodes)
    return top, nodes, (depth + 1) * (BOX_W + GAP_X), max(rows[0], 1) * (BOX_H + GAP_Y)


def driver_links(nodes: list[Node]) -> list[tuple[float, float, float, float]]:
    return [(n.x + BOX_W, n.y + BOX_H / 2, c.x, c.y + BOX_H / 2) for n in nodes for c in n.children]
