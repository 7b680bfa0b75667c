"""EXPERIMENT_REPORT.md (and its chart) in the experiment's folder, from the `cells` table of its database."""

from __future__ import annotations

import os
from pathlib import Path

from massgen_skill.analysis import atomic_write_text
from massgen_skill.analysis.markdown import Raw, money, secs, table
from massgen_skill.output import one_line

from . import chart, database
from .record import REPORT_NAME, ExperimentRecord
from .summary import RULE, ConfigSummary, findings, label, summarise

TASK_CHARS = 200


def write(record: ExperimentRecord) -> Path:
    """Write the chart and the report (atomically); returns the report's path."""
    rows = database.read_cells(record.folder / database.DATABASE_NAME)
    summaries = summarise(rows, record.configs)
    atomic_write_text(record.folder / chart.CHART_NAME, chart.render(summaries))
    path = record.folder / REPORT_NAME
    atomic_write_text(path, render(record, rows, summaries))
    return path


def _safe(value: str, limit: int = 120) -> str:
    """User data in a Markdown cell: no HTML gets through (the cell escapes `|` and line breaks)."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")[: limit * 2]


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def _spread(s: ConfigSummary) -> str:
    return f"{secs(s.elapsed[0])} – {secs(s.elapsed[-1])}" if s.elapsed else "–"


def _config_rows(summaries: list[ConfigSummary]) -> list[list[object]]:
    return [
        [
            label(s),
            _safe(s.config),
            f"{s.ok}/{s.runs} ({_pct(s.success_rate)})",
            secs(s.median_elapsed),
            _spread(s),
            "–" if s.tokens_per_answer is None else f"{s.tokens_per_answer:,.0f}",
            "–" if s.cost_per_answer is None else money(s.cost_per_answer),
            f"{s.restarts} team, {s.agent_restarts} agent",
            f"{s.agreed}/{s.voted}" if s.voted else "–",
            ", ".join(f"{_safe(w)} ×{n}" for w, n in s.winners) or "–",
        ]
        for s in summaries
    ]


def _link(report: str | None, folder: Path) -> object:
    if not report:
        return "–"
    relative = os.path.relpath(report, folder)
    return Raw(f"[report](<{_safe(relative).replace(')', '%29')}>)")


def _cell_rows(rows: list[database.CellRow], folder: Path) -> list[list[object]]:
    return [
        [
            r.cell,
            r.run_id,
            r.outcome,
            secs(r.elapsed_s),
            r.tokens,
            money(r.cost),
            _safe(r.winner or ""),
            _link(r.report, folder),
        ]
        for r in rows
    ]


def render(record: ExperimentRecord, rows: list[database.CellRow], summaries: list[ConfigSummary]) -> str:
    n = record.counts()
    lines = [
        f"# Experiment {record.exp_id}",
        "",
        f"{len(record.tasks)} task(s) × {len(record.configs)} config(s) × {record.repeats} repeat(s) = "
        f"{len(record.cells)} cells: {n['done']} ok, {n['failed']} failed, {n['left']} left "
        f"(experiment {record.state}).",
        "",
        "## Per config",
        "",
        "Time is over successful runs; tokens and cost per successful answer count every run of the config "
        "(failed runs cost too); agreement: runs where every vote went to the winner, of runs with votes.",
        "",
        *table(
            [
                "",
                "config",
                "success",
                "median time",
                "spread",
                "tokens/answer",
                "cost/answer",
                "restarts",
                "agreed",
                "winners",
            ],
            _config_rows(summaries),
        ),
        "",
        f"![time and cost per config]({chart.CHART_NAME})",
        "",
        "## Findings",
        "",
        f"Rule: {RULE}.",
        "",
    ]
    found = findings(summaries)
    lines += [f"- {_safe(f, 400)}" for f in found] or ["- No difference between configs beyond noise."]
    lines += ["", "## Tasks", ""]
    lines += [f"{i + 1}. {_safe(one_line(t, TASK_CHARS))}" for i, t in enumerate(record.tasks)]
    lines += ["", "## Cells", ""]
    lines += table(
        ["cell", "run", "outcome", "time", "tokens", "cost", "winner", "analysis"],
        _cell_rows(rows, record.folder),
    )
    lines += [
        "",
        f"Data: `{database.DATABASE_NAME}` (table `{database.TABLE}`); SQL in references/experiments.md.",
        "",
    ]
    return "\n".join(lines)
