"""The experiment's chart: time and cost per config as plain SVG, generated from the summaries.

Plain SVG (no plotting library): two bar panels, one row per config. Time: the median of the successful
runs with a whisker from the fastest to the slowest; cost: per successful answer. Every label is user data
(config names): made one line, stripped of what XML 1.0 cannot hold, then XML-escaped.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from massgen_skill.analysis.markdown import money, secs
from massgen_skill.output import one_line

from .summary import ConfigSummary, label

CHART_NAME = "experiment_chart.svg"
ROW = 28
TOP = 40
LABEL_W = 240  # LABEL_CHARS at ~7 px each
PANEL_W = 260
VALUE_W = 90  # the value printed after a bar
LABEL_CHARS = 32
_NOT_XML = dict.fromkeys(map(ord, "\ufffe\uffff"), None)


def text(value: str, limit: int = LABEL_CHARS) -> str:
    """A label safe inside an SVG element or attribute."""
    return escape(one_line(value, limit).translate(_NOT_XML), {'"': "&quot;", "'": "&apos;"})


def _name(s: ConfigSummary) -> str:
    return f"{label(s)} {s.config.rsplit('/', 1)[-1]}"


def _panel(
    x0: float, title: str, values: list[tuple[float | None, float | None, float | None]], unit: str
) -> list[str]:
    """One panel: a bar per row to `mid`, a whisker from `low` to `high` when known."""
    top = max((v for row in values for v in row if v is not None), default=0.0) or 1.0
    scale = PANEL_W / top
    parts = [f'<text x="{x0}" y="{TOP - 16}" font-weight="bold">{text(title, 60)}</text>']
    for i, (low, mid, high) in enumerate(values):
        y = TOP + i * ROW
        if mid is None:
            parts.append(f'<text x="{x0}" y="{y + 14}" fill="#888">no successful run</text>')
            continue
        parts.append(
            f'<rect x="{x0}" y="{y + 4}" width="{mid * scale:.1f}" height="{ROW - 10}" fill="#4a7ebb"/>'
        )
        if low is not None and high is not None and high > low:
            yy = y + ROW / 2 - 1
            parts.append(
                f'<line x1="{x0 + low * scale:.1f}" y1="{yy}" x2="{x0 + high * scale:.1f}" y2="{yy}" '
                'stroke="#222" stroke-width="2"/>'
            )
        parts.append(f'<text x="{x0 + mid * scale + 4:.1f}" y="{y + 14}">{text(_fmt(mid, unit))}</text>')
    return parts


def _fmt(value: float, unit: str) -> str:
    return money(value) if unit == "$" else secs(value)


def render(summaries: list[ConfigSummary]) -> str:
    cost_x = LABEL_W + PANEL_W + VALUE_W
    width = cost_x + PANEL_W + VALUE_W
    height = TOP + ROW * max(1, len(summaries)) + 10
    times = [
        (s.elapsed[0] if s.elapsed else None, s.median_elapsed, s.elapsed[-1] if s.elapsed else None)
        for s in summaries
    ]
    costs = [(None, s.cost_per_answer, None) for s in summaries]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="12" role="img">',
        "<title>Time and cost per config</title>",
    ]
    parts += [
        f'<text x="4" y="{TOP + i * ROW + 14}">{text(_name(s))}</text>' for i, s in enumerate(summaries)
    ]
    parts += _panel(LABEL_W, "time per successful run (median, min–max)", times, "s")
    parts += _panel(cost_x, "cost per successful answer", costs, "$")
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
