"""The timeline picture (turn_N/ANALYSIS_TIMELINE.svg) drawn from the recorded runs."""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from runtools import RECORDED_RUNS, copy_sample_logs

from massgen_skill import analysis
from massgen_skill.analysis import svg_timeline
from massgen_skill.cli import main
from massgen_skill.exitcodes import ExitCode
from massgen_skill.massgen import layout

SVG = "{http://www.w3.org/2000/svg}"


def _groups(root: ET.Element, cls: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if g.get("class") == cls]


def _event_counts(attempt_dir: Path) -> dict[str, int]:
    """events.jsonl lines per event type, read straight from the recorded file."""
    counts: dict[str, int] = {}
    for line in (attempt_dir / layout.EVENTS_FILE).read_text().splitlines():
        kind = json.loads(line).get("event_type")
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def _configured_agents(attempt_dir: Path) -> list[str]:
    config = yaml.safe_load((attempt_dir / layout.EXECUTION_METADATA_FILE).read_text())["config"]
    return [a["id"] for a in config.get("agents", [config.get("agent")])]


@pytest.mark.parametrize("sample", RECORDED_RUNS)
def test_one_lane_per_agent_and_one_mark_per_answer_and_vote(sample: str, tmp_path: Path) -> None:
    root = copy_sample_logs(sample, tmp_path)
    analysis.write_reports(analysis.analyze_log_dir(root))
    picture = ET.parse(root / "turn_1" / svg_timeline.TIMELINE_NAME).getroot()
    attempt_dir = root / "turn_1" / "attempt_1"
    agents = _configured_agents(attempt_dir)
    lanes = [g.get("data-agent") for g in _groups(picture, "lane")]
    marks = _groups(picture, "mark")
    team = [m for m in marks if m.get("data-agent") == svg_timeline.TEAM_LANE]  # e.g. the review decision
    assert lanes == agents + ([svg_timeline.TEAM_LANE] if team else [])
    events = _event_counts(attempt_dir)
    assert len([m for m in marks if m.get("data-kind") == "answer"]) == events.get("answer_submitted", 0)
    assert len([m for m in marks if m.get("data-kind") == "vote"]) == events.get("vote", 0)
    assert {m.get("data-agent") for m in marks} <= {*agents, svg_timeline.TEAM_LANE}
    ticks = [t.text or "" for t in picture.iter(f"{SVG}text") if t.get("class") == "tick"]
    assert ticks[0] == "+0 s" and len(ticks) >= 3 and all(t.endswith(" s") for t in ticks)


def test_final_presentation_and_restarts_are_drawn_on_their_lanes(tmp_path: Path) -> None:
    root = copy_sample_logs("multi", tmp_path)
    analysis.write_reports(analysis.analyze_log_dir(root))
    picture = ET.parse(root / "turn_1" / svg_timeline.TIMELINE_NAME).getroot()
    events = _event_counts(root / "turn_1" / "attempt_1")
    marks = [(m.get("data-kind"), m.get("data-agent")) for m in _groups(picture, "mark")]
    assert len([k for k, _a in marks if k == "restart"]) == events["agent_restart"]
    presenter = {a for k, a in marks if k == "final presentation"}
    status = json.loads((root / "turn_1" / "attempt_1" / layout.STATUS_FILE).read_text())
    assert presenter == {status["results"]["winner"]}
    phases = [p.find(f"{SVG}title") for p in picture.iter(f"{SVG}rect") if p.get("class") == "phase"]
    assert [(t.text or "").split(":")[0] for t in phases if t is not None][:2] == ["answering", "voting"]


def test_report_links_the_picture_and_json_names_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = copy_sample_logs("web-review", tmp_path)
    assert main(["analyze", str(root), "--json"]) == 0
    (turn,) = json.loads(capsys.readouterr().out)["turns"]
    picture = root / "turn_1" / svg_timeline.TIMELINE_NAME
    assert turn["timeline_path"] == str(picture) and picture.is_file()
    report = (root / "turn_1" / analysis.REPORT_NAME).read_text()
    assert f"]({svg_timeline.TIMELINE_NAME})" in report
    assert "## Timeline" in report  # the table stays: the report reads without the picture
    assert not [p for p in picture.parent.iterdir() if p.name.endswith(".tmp")]


def test_stdout_writes_no_picture_and_links_none(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = copy_sample_logs("multi", tmp_path)
    assert main(["analyze", str(root), "--stdout"]) == 0
    assert svg_timeline.TIMELINE_NAME not in capsys.readouterr().out
    assert not (root / "turn_1" / svg_timeline.TIMELINE_NAME).exists()


def test_a_hostile_agent_id_and_label_are_escaped(tmp_path: Path) -> None:
    hostile = "<script>alert('x')</script>&\"\n\u2028</svg>\ufffe"
    result = analysis.analyze_log_dir(copy_sample_logs("multi", tmp_path))
    (turn,) = result.turns
    (attempt,) = turn.attempts
    attempt.agents[0].agent_id = hostile
    attempt.winner = hostile
    for entry in attempt.timeline:
        if entry.agent == "agent_a":
            entry.agent = hostile
            entry.detail = f"{hostile}: ]]> <!-- -->"
    text = svg_timeline.render_svg(turn)
    picture = ET.fromstring(text)  # parses: nothing broke out of its element or attribute
    lanes = [g.get("data-agent") or "" for g in _groups(picture, "lane")]
    assert lanes[0].startswith("<script>alert('x')</script>&\"") and "\n" not in lanes[0]
    assert "\\u2028" in lanes[0]  # a line boundary is shown, not kept
    assert "<script>" not in text and "</svg>" not in text.removesuffix("</svg>\n")
    hostile_marks = [m for m in _groups(picture, "mark") if m.get("data-agent") == lanes[0]]
    assert len(hostile_marks) == len(
        [e for e in attempt.timeline if e.agent == hostile and e.kind in svg_timeline.STYLES]
    )


def test_every_attempt_gets_its_panel(tmp_path: Path) -> None:
    result = analysis.analyze_log_dir(copy_sample_logs("multi", tmp_path))
    (turn,) = result.turns
    second = analysis.analyze_attempt(Path(turn.attempts[0].path), 2)
    turn.attempts.append(second)
    picture = ET.fromstring(svg_timeline.render_svg(turn))
    headings = [t.text or "" for t in picture.iter(f"{SVG}text") if (t.text or "").startswith("attempt ")]
    assert [h.split(" · ")[0] for h in headings] == ["attempt 1", "attempt 2"]
    assert len(_groups(picture, "lane")) == 2 * len(second.agents)


def test_an_unwritable_picture_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = copy_sample_logs("multi", tmp_path)
    (root / "turn_1" / svg_timeline.TIMELINE_NAME).mkdir()  # os.replace onto a folder fails, even for root
    assert main(["analyze", str(root)]) == ExitCode.INVALID_INPUT
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and svg_timeline.TIMELINE_NAME in err


@pytest.mark.parametrize("span", [0.0, 0.004, 1.779, 6.4, 59.0, 240.0, 3600.0, 86400.0])
def test_tick_steps_are_round_and_few(span: float) -> None:
    step = svg_timeline.nice_step(span)
    mantissa = step / 10 ** math.floor(math.log10(step) + 1e-9)
    assert round(mantissa, 6) in (1.0, 2.0, 5.0)
    assert span / step <= 10 + 1e-9
