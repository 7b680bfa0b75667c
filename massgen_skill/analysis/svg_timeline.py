"""The timeline drawn as a picture: turn_N/ANALYSIS_TIMELINE.svg, beside the report that links it.

Plain SVG built from the analysis (`TimelineEntry`, `Phase`): one panel per attempt, one lane per agent,
a mark per answer, vote, restart, retry, error, time-out, tool failure, final presentation and review, the
phases as shaded bands, and a time axis in seconds since the attempt started. Agent ids, answer labels and
details are data: every text is made one bounded line and XML-escaped. Each mark carries `data-kind` and
`data-agent` so a reader (or a test) can count them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from massgen_skill.analysis.model import AttemptAnalysis, TimelineEntry, TurnAnalysis
from massgen_skill.output import one_line

TIMELINE_NAME = "ANALYSIS_TIMELINE.svg"
MARKS_MAX = 2000  # per attempt; a longer timeline is cut (the report's table and --json hold it all)

WIDTH = 960
LEFT = 170  # lane labels
RIGHT = 30
LANE_H = 30
HEAD_H = 44  # title and phase names above the lanes
AXIS_H = 46  # ticks, their labels and the axis caption below the lanes
LEGEND_H = 48  # two rows
TEAM_LANE = "(team)"  # events of no single agent: the review decision, orchestration restarts

# Timeline kind → (shape, colour). Kinds not listed (start, status, stopped, end) are not drawn.
_ROUND_MARKS = {
    "answer": ("circle", "#1f77b4"),
    "vote": ("diamond", "#2ca02c"),
    "vote ignored": ("diamond", "#a0a0a0"),
    "restart": ("cross", "#ff7f0e"),
    "orchestration restart": ("cross", "#d62728"),
    "retry": ("cross", "#bcbd22"),
    "error": ("square", "#d62728"),
    "timeout": ("square", "#9467bd"),
    "tool failure": ("triangle", "#e377c2"),
}
_ENDING_MARKS = {
    "final presentation": ("bar", "#9467bd"),
    "final answer": ("star", "#9467bd"),
    "review": ("triangle", "#8c564b"),
}
STYLES: dict[str, tuple[str, str]] = {**_ROUND_MARKS, **_ENDING_MARKS}  # the legend's order too
PHASE_FILLS = {
    "answering": "#e8f0fa",
    "voting": "#eaf6ea",
    "final presentation": "#f1ebf7",
    "review / applying changes": "#f5eee8",
}
_NOT_XML = re.compile("[\ufffe\uffff]")  # after one_line, the only characters XML 1.0 still forbids


@dataclass
class _Panel:
    attempt: AttemptAnalysis
    lanes: list[str]
    marks: list[TimelineEntry]  # timed and drawable, at most MARKS_MAX
    left_out: int  # drawable entries not drawn (untimed or over MARKS_MAX)
    span_s: float  # the time the axis covers
    top: float

    @property
    def height(self) -> float:
        return HEAD_H + len(self.lanes) * LANE_H + AXIS_H

    def x(self, offset_s: float) -> float:
        return LEFT + (WIDTH - LEFT - RIGHT) * min(max(offset_s, 0.0), self.span_s) / self.span_s

    def y(self, agent: str | None) -> float:
        return self.top + HEAD_H + self.lanes.index(agent or TEAM_LANE) * LANE_H + LANE_H / 2


def text(value: object, limit: int = 120) -> str:
    """Data as SVG text: one bounded line, XML-escaped."""
    return escape(_NOT_XML.sub("\ufffd", one_line(value, limit)))


def attr(value: object, limit: int = 120) -> str:
    """Data as a quoted XML attribute value."""
    return quoteattr(_NOT_XML.sub("\ufffd", one_line(value, limit)))


def render_svg(turn: TurnAnalysis) -> str:
    """The whole picture for one turn: a panel per attempt, then the legend."""
    panels: list[_Panel] = []
    top = 10.0
    for attempt in turn.attempts:
        panels.append(_panel(attempt, top))
        top += panels[-1].height + 10
    height = top + LEGEND_H
    body = [line for panel in panels for line in _draw_panel(panel)]
    body += _legend(height - LEGEND_H + 4)
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height:.0f}" '
        f'viewBox="0 0 {WIDTH} {height:.0f}" font-family="sans-serif" font-size="12">'
    )
    title = f"<title>MassGen run timeline, turn {turn.turn}</title>"
    background = f'<rect width="{WIDTH}" height="{height:.0f}" fill="#ffffff"/>'
    return "\n".join([head, title, background, *body, "</svg>"]) + "\n"


def _panel(attempt: AttemptAnalysis, top: float) -> _Panel:
    drawable = [e for e in attempt.timeline if e.kind in STYLES]
    timed = [e for e in drawable if e.offset_s is not None][:MARKS_MAX]
    lanes = [a.agent_id for a in attempt.agents]
    for entry in timed:
        lane = entry.agent or TEAM_LANE
        if lane not in lanes:
            lanes.append(lane)
    ends = [e.offset_s or 0.0 for e in timed] + [attempt.elapsed_s or 0.0]
    ends += [p.seconds or 0.0 for p in attempt.phases if p.name == "total"]
    return _Panel(attempt, lanes or [TEAM_LANE], timed, len(drawable) - len(timed), max(ends) or 1.0, top)


def _draw_panel(panel: _Panel) -> Iterator[str]:
    yield from _heading(panel)
    yield from _phase_bands(panel)
    yield from _lanes(panel)
    yield from _axis(panel)
    for entry in panel.marks:
        yield _mark(panel, entry)


def _heading(panel: _Panel) -> Iterator[str]:
    a = panel.attempt
    parts = [f"attempt {a.attempt}", f"started {a.start_clock}" if a.start_clock else "start not recorded"]
    parts.append(f"{a.elapsed_s:.1f} s" if a.elapsed_s is not None else "duration not recorded")
    parts.append(f"winner {a.winner}" if a.winner else "no winner")
    if panel.left_out:
        parts.append(f"{panel.left_out} event(s) untimed or beyond {MARKS_MAX}, not drawn")
    yield f'<text x="10" y="{panel.top + 16:.1f}" font-weight="bold">{text(" · ".join(parts), 200)}</text>'


def _phase_bands(panel: _Panel) -> Iterator[str]:
    start = panel.attempt.start_time
    top, bottom = panel.top + HEAD_H - 18, panel.top + HEAD_H + len(panel.lanes) * LANE_H
    for phase in panel.attempt.phases:
        fill = PHASE_FILLS.get(phase.name)
        if fill is None or phase.start is None or phase.end is None or start is None:
            continue
        x0, x1 = panel.x(phase.start - start), panel.x(phase.end - start)
        yield (
            f'<rect class="phase" x="{x0:.1f}" y="{top:.1f}" width="{max(x1 - x0, 1.0):.1f}" '
            f'height="{bottom - top:.1f}" fill="{fill}"><title>{text(phase.name)}: '
            f"{phase.start_clock} – {phase.end_clock}</title></rect>"
        )
        if x1 - x0 >= 6 * len(phase.name):  # a band too narrow keeps its name in the tooltip only
            name = text(phase.name, 30)
            yield f'<text x="{x0 + 3:.1f}" y="{top + 12:.1f}" font-size="10" fill="#555">{name}</text>'


def _lanes(panel: _Panel) -> Iterator[str]:
    for lane in panel.lanes:
        y = panel.y(lane)
        label = lane + (" ★ winner" if lane == panel.attempt.winner else "")
        yield (
            f'<g class="lane" data-agent={attr(lane, 200)}>'
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#cccccc"/>'
            f'<text x="{LEFT - 8}" y="{y + 4:.1f}" text-anchor="end">{text(label, 28)}</text></g>'
        )


def _axis(panel: _Panel) -> Iterator[str]:
    y = panel.top + HEAD_H + len(panel.lanes) * LANE_H + 4
    yield f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#333333"/>'
    step = nice_step(panel.span_s)
    count = int(panel.span_s / step + 1e-9)
    for k in range(count + 1):
        x = panel.x(k * step)
        yield f'<line x1="{x:.1f}" y1="{y:.1f}" x2="{x:.1f}" y2="{y + 5:.1f}" stroke="#333333"/>'
        yield (
            f'<text class="tick" x="{x:.1f}" y="{y + 17:.1f}" text-anchor="middle" font-size="10">'
            f"{_seconds(k * step)}</text>"
        )
    since = f" ({panel.attempt.start_clock})" if panel.attempt.start_clock else ""
    yield (
        f'<text x="{(LEFT + WIDTH - RIGHT) / 2:.0f}" y="{y + 34:.1f}" text-anchor="middle" font-size="11" '
        f'fill="#555">{text("seconds since the attempt started" + since)}</text>'
    )


def nice_step(span: float, ticks: int = 10) -> float:
    """A tick step of 1, 2 or 5 times a power of ten giving at most `ticks` intervals over `span`."""
    raw = max(span, 1e-3) / ticks
    power = 10.0 ** _floor_log10(raw)
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def _floor_log10(value: float) -> int:
    exponent = 0
    while value >= 10:
        value, exponent = value / 10, exponent + 1
    while value < 1:
        value, exponent = value * 10, exponent - 1
    return exponent


def _seconds(value: float) -> str:
    return f"+{value:.3g} s" if value < 1000 else f"+{value:.0f} s"


def _mark(panel: _Panel, entry: TimelineEntry) -> str:
    shape, colour = STYLES[entry.kind]
    x, y = panel.x(entry.offset_s or 0.0), panel.y(entry.agent)
    tip = f"{entry.clock} +{entry.offset_s:.2f} s · {entry.agent or TEAM_LANE} · {entry.kind}: {entry.detail}"
    return (
        f'<g class="mark" data-kind={attr(entry.kind)} data-agent={attr(entry.agent or TEAM_LANE, 200)}>'
        f"<title>{text(tip, 300)}</title>{_shape(shape, x, y, colour)}</g>"
    )


def _shape(shape: str, x: float, y: float, colour: str) -> str:
    """One mark centred on (x, y)."""
    if shape == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="{colour}"/>'
    if shape == "bar":
        return f'<rect x="{x - 1.5:.1f}" y="{y - 10:.1f}" width="3" height="20" fill="{colour}"/>'
    if shape == "cross":
        a, b, c, e = x - 5, x + 5, y - 5, y + 5
        d = f"M{a:.1f},{c:.1f}L{b:.1f},{e:.1f}M{a:.1f},{e:.1f}L{b:.1f},{c:.1f}"
        return f'<path d="{d}" stroke="{colour}" stroke-width="2.5"/>'
    points = {
        "diamond": [(0, -6), (6, 0), (0, 6), (-6, 0)],
        "square": [(-5, -5), (5, -5), (5, 5), (-5, 5)],
        "triangle": [(0, -6), (6, 5), (-6, 5)],
        "star": [(0, -7), (2, -2), (7, -2), (3, 1), (5, 7), (0, 3), (-5, 7), (-3, 1), (-7, -2), (-2, -2)],
    }[shape]
    joined = " ".join(f"{x + dx:.1f},{y + dy:.1f}" for dx, dy in points)
    return f'<polygon points="{joined}" fill="{colour}"/>'


def _legend(y: float) -> Iterator[str]:
    x = 10.0
    for kind, (shape, colour) in STYLES.items():
        width = 22 + 6.5 * len(kind)
        if x + width > WIDTH:
            x, y = 10.0, y + 20
        yield f'<g class="legend">{_shape(shape, x + 6, y + 8, colour)}'
        yield f'<text x="{x + 16:.0f}" y="{y + 12:.0f}" font-size="11">{text(kind)}</text></g>'
        x += width
