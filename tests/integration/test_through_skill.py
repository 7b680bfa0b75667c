"""The REAL massgen 0.1.97, driven THROUGH our entry points (``scripts/massgen_run.sh``,
``scripts/massgen_skill.sh``), inside the private loopback-only namespace.

``test_harness.py`` pins what massgen itself does; this file checks that our wrapper turns that into the
promised lines, exit codes, run records and follow-up commands. The venv's ``bin`` is on PATH (``mg_env``), so
our ``locate`` finds that massgen and ``_skill_python.sh`` picks its interpreter; every process runs in the
namespace (``run_in_ns`` / ``popen_in_ns``). Where the real CLI and our code disagree, the real CLI wins.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import sqlite3
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from runtools import RUN_SH, SKILL_SH, run_options

from massgen_skill.exitcodes import ExitCode, SkillError
from massgen_skill.massgen import flags, layout
from massgen_skill.massgen.private_env import MassgenVenv
from massgen_skill.prepare import criteria
from massgen_skill.prepare.argv import build
from massgen_skill.prepare.intent import CWD_CONTEXTS, EXECUTE_MODES, MODES, Request, decide
from massgen_skill.review import block as reviewblock
from massgen_skill.run import records
from massgen_skill.run.outcome import RESULT_WORDS

from . import harness
from .conftest import record_timing
from .netns import NetNS, NsProcess, RunResult

SVG_NS = "{http://www.w3.org/2000/svg}"

pytestmark = pytest.mark.slow

OK = RESULT_WORDS[ExitCode.OK]
QUESTION = "What is 6 times 7?"
SCRIPTED_ANSWER = "SCRIPTED ANSWER: 42 [model={model}]"  # llm_server.Options.answer_text

# A criteria file in the skill's documented format (references/criteria_guide.md): list anti_patterns and a
# top-level aspiration, which massgen 0.1.97 cannot read as they are (contract §6, §13).
DOCUMENTED_CRITERIA: dict[str, Any] = {
    "aspiration": "An answer a ten-year-old can check with a calculator.",
    "criteria": [
        {
            "text": "States the product of 6 and 7 as one number.",
            "category": "primary",
            "anti_patterns": ["a range instead of one number", "the sum instead of the product"],
            "verify_by": "multiply 6 by 7",
        },
        {
            "text": "Explains the multiplication in one sentence.",
            "category": "standard",
            "anti_patterns": ["no explanation at all", "an explanation of a different operation"],
        },
    ],
}


# --- our relayed lines ------------------------------------------------------------------------------------
_KEYED = re.compile(r"^([A-Z][A-Z_]*): (.*)$")


@dataclass
class Relayed:
    """What massgen_run.sh printed on stdout: ``KEY: value`` lines, in order, and the review blocks."""

    order: list[str] = field(default_factory=list)
    values: dict[str, list[str]] = field(default_factory=dict)
    blocks: list[list[str]] = field(default_factory=list)
    completions: list[str] = field(default_factory=list)

    def one(self, key: str) -> str:
        got = self.values.get(key, [])
        assert len(got) == 1, f"expected one {key} line, got {got!r} (order {self.order})"
        return got[0]


def relayed(stdout: str) -> Relayed:
    out = Relayed()
    block: list[str] | None = None
    for line in stdout.splitlines():
        if line == reviewblock.BEGIN:
            block = []
            out.order.append(reviewblock.BEGIN)
            continue
        if block is not None:
            if line == reviewblock.END:
                out.blocks.append(block)
                block = None
            else:
                block.append(line)
            continue
        if line.startswith(reviewblock.COMPLETE):
            out.completions.append(line)
            out.order.append(reviewblock.COMPLETE)
            continue
        match = _KEYED.match(line)
        assert match, f"unexpected line on our stdout: {line!r}\n{stdout}"
        out.order.append(match.group(1))
        out.values.setdefault(match.group(1), []).append(match.group(2))
    assert block is None, f"review block never ended:\n{stdout}"
    return out


def block_fields(block: list[str]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in block:
        key, _, value = line.partition(": ")
        fields[key] = value
    return fields


def load_record(project: harness.Project, run_id: str) -> records.RunRecord:
    return records.load(records.record_path(project.path, run_id))


def only_record(project: harness.Project) -> records.RunRecord:
    found = records.list_records(project.path)
    assert len(found) == 1, [r.run_id for r in found]
    return found[0]


def answer_text(model: str) -> str:
    return SCRIPTED_ANSWER.format(model=model)


# --- driving our scripts in the namespace -----------------------------------------------------------------
@dataclass
class Skill:
    project: harness.Project
    venv: MassgenVenv
    ns: NetNS
    run_in_ns: Callable[..., RunResult]
    popen_in_ns: Callable[..., NsProcess]
    env: dict[str, str]
    nodeid: str

    def run(
        self, *args: str | os.PathLike[str], timeout: float = 150, label: str = "massgen_run.sh"
    ) -> RunResult:
        """``massgen_run.sh ARGS`` to completion (massgen included)."""
        return self.run_in_ns([RUN_SH, *args], timeout=timeout, label=label)

    def cmd(self, *args: str | os.PathLike[str], timeout: float = 60) -> RunResult:
        """``massgen_skill.sh ARGS`` (status, wait, result, review, stop, analyze); not timed (~0.1 s)."""
        return self.ns.run(
            [str(SKILL_SH), *map(str, args)], env=self.env, cwd=self.project.path, timeout=timeout
        )

    def cmd_json(self, *args: str, expect: int = 0) -> dict[str, Any]:
        res = self.cmd(*args, "--json")
        assert res.returncode == expect, res.describe()
        data: dict[str, Any] = json.loads(res.stdout)
        return data

    def start(self, *args: str | os.PathLike[str], name: str) -> BackgroundRun:
        """``massgen_run.sh ARGS`` in the background (stdout/stderr to files: nothing to drain)."""
        out = self.project.artifacts / f"{name}.out"
        err = self.project.artifacts / f"{name}.err"
        with out.open("w", encoding="utf-8") as fo, err.open("w", encoding="utf-8") as fe:
            proc = self.popen_in_ns([RUN_SH, *args], stdout=fo, stderr=fe)
        return BackgroundRun(proc, out, err, time.monotonic())


@dataclass
class BackgroundRun:
    proc: NsProcess
    out: Path
    err: Path
    started: float

    def stdout(self) -> str:
        return self.out.read_text(encoding="utf-8")

    def describe(self) -> str:
        err = self.err.read_text(encoding="utf-8")[-3000:]
        return f"rc={self.proc.poll()}\n--- stdout ---\n{self.stdout()}\n--- stderr (tail) ---\n{err}"

    def wait_for(self, predicate: Callable[[], Any], timeout: float, what: str) -> Any:
        def check() -> Any:
            value = predicate()
            if not value and self.proc.poll() is not None:
                raise AssertionError(f"massgen_run.sh ended before {what}\n{self.describe()}")
            return value

        return harness.wait_for(check, timeout=timeout, what=what)

    def finish(self, timeout: float) -> int:
        return self.proc.wait(timeout=timeout)


@pytest.fixture
def skill(
    project: harness.Project,
    massgen_venv: MassgenVenv,
    mg_netns: NetNS,
    run_in_ns: Callable[..., RunResult],
    popen_in_ns: Callable[..., NsProcess],
    mg_env: dict[str, str],
    request: pytest.FixtureRequest,
) -> Skill:
    """Our two scripts, run inside the namespace with ``mg_env`` (massgen's venv first on PATH) in the
    project. They set PYTHONPATH to the skill folder themselves, as an installed skill would."""
    return Skill(project, massgen_venv, mg_netns, run_in_ns, popen_in_ns, mg_env, request.node.nodeid)


def check_analysis(skill: Skill, target: str, winner: str | None) -> str:
    """``massgen_skill.sh analyze TARGET`` writes turn_1/ANALYSIS_REPORT.md naming the right winner."""
    data = skill.cmd_json("analyze", target)
    turn = data["turns"][0]
    report = Path(turn["report_path"])
    assert report.name == "ANALYSIS_REPORT.md" and report.parent.name == "turn_1", report
    text = report.read_text(encoding="utf-8")
    assert turn["attempts"][-1]["winner"] == winner, json.dumps(turn["attempts"][-1], indent=1)[:3000]
    if winner:
        assert f"winner **{winner}**" in text and f"Winner: **{winner}**" in text, text[:3000]
    else:
        assert "**no winner**" in text, text[:3000]
    check_pictures_and_database(skill, target, turn, winner)
    return text


def check_pictures_and_database(skill: Skill, target: str, turn: dict[str, Any], winner: str | None) -> None:
    """The timeline picture beside the report has a lane per agent; `--into` adds the run to a database."""
    picture = ET.parse(turn["timeline_path"]).getroot()
    lanes = [g.get("data-agent") for g in picture.iter(f"{SVG_NS}g") if g.get("class") == "lane"]
    agents = [a["agent_id"] for a in turn["attempts"][-1]["agents"]]
    assert lanes[: len(agents)] == agents, lanes
    db = skill.project.artifacts / "runs.sqlite"
    added = skill.cmd_json("analyze", target, "--into", str(db), "--stdout")
    with contextlib.closing(sqlite3.connect(db)) as connection:
        row = connection.execute("SELECT winner FROM runs WHERE run_id = ?", (added["run_id"],)).fetchone()
    assert row == (winner,), row


# --- 1. every argv the builder can produce, against the real parser ----------------------------------------
TASKS = ("What is 6 times 7?", "-starts with a dash, so it goes after --", "--looks-like-a-flag", "")
CRITERIA_CHOICES = ("none", "file", "preset")
OPTIONAL: list[tuple[str, dict[str, Any]]] = [
    ("none", {}),
    ("quick", {"quick": True}),
    *[(f"personas {v}", {"personas": v}) for v in flags.PERSONAS_CHOICES],
    *[(f"plan-depth {v}", {"plan_depth": v}) for v in flags.PLAN_DEPTH_CHOICES],
    *[(f"plan-thoroughness {v}", {"plan_thoroughness": v}) for v in flags.PLAN_THOROUGHNESS_CHOICES],
    ("plan-steps", {"plan_steps": 3}),
    ("plan-chunks", {"plan_chunks": 2}),
    *[(f"coordination-mode {v}", {"coordination_mode": v}) for v in flags.COORDINATION_MODE_CHOICES],
    ("single-agent (no id)", {"single_agent": ""}),
    ("single-agent agent_b", {"single_agent": "agent_b"}),
    ("output-file", {"output_file": "/abs/out/answer.md"}),
    ("orchestrator-timeout", {"timeout": 90}),
    ("inbox-dir", {"inbox_dir": "/abs/run/inbox"}),
    (
        "everything at once",
        {
            "quick": True,
            "personas": "methodology",
            "plan_depth": "deep",
            "plan_thoroughness": "thorough",
            "plan_steps": 4,
            "plan_chunks": 2,
            "coordination_mode": "parallel",
            "single_agent": "agent_a",
            "output_file": "/abs/out/answer.md",
            "timeout": 90,
            "inbox_dir": "/abs/run/inbox",
        },
    ),
    ("personas off + decomposition", {"personas": "off", "coordination_mode": "decomposition"}),
    # massgen refuses these pairs after parsing (validate_mode_flag_combinations, exit 2): build must too
    ("personas + decomposition", {"personas": "perspective", "coordination_mode": "decomposition"}),
    ("single-agent + decomposition", {"single_agent": "", "coordination_mode": "decomposition"}),
]
MUST_REFUSE = {"personas + decomposition", "single-agent + decomposition"}
# Why build() may refuse a combination (SkillError USAGE), as its message says.
REFUSALS = {
    "web-ignores": "--web cannot be combined with",
    "no-task": "a task is required",
    "decomposition": "decomposition",
}


def generate_argvs() -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Every argv ``command.build`` produces over mode × web × cwd × criteria × optional flags × task."""
    cases: dict[tuple[str, ...], dict[str, Any]] = {}
    refused: dict[str, int] = dict.fromkeys(REFUSALS, 0)
    for mode, web, cwd, crit, (label, extra), task in itertools.product(
        MODES, (True, False, None), CWD_CONTEXTS, CRITERIA_CHOICES, OPTIONAL, TASKS
    ):
        decision = decide(
            Request(
                task, mode, cwd, has_criteria=crit == "file", preset="planning" if crit == "preset" else None
            )
        )
        options = run_options(
            task=task,
            config="/abs/configs/team.yaml",
            criteria_file="/abs/run/eval_criteria.json" if crit == "file" else None,
            web=web,
            **extra,
        )
        try:
            command = build(decision, options, 8123)
        except SkillError as error:
            kind = next((k for k, text in REFUSALS.items() if text in error.message), None)
            where = f"{mode} web={web} cwd={cwd} criteria={crit} {label} task={task!r}: {error.message}"
            assert kind is not None and error.code == ExitCode.USAGE, where
            assert kind != "web-ignores" or web is True, where
            assert kind != "no-task" or (task == "" and mode not in EXECUTE_MODES), where
            assert kind != "decomposition" or label in MUST_REFUSE, where
            refused[kind] += 1
            continue
        assert label not in MUST_REFUSE, f"build accepted {label}: {command.args}"
        single = extra.get("single_agent")
        expect_single = None if single is None or command.web else (single or True)
        cases.setdefault(
            command.args,
            {
                "argv": list(command.args),
                "question": task or None,
                "single_agent": expect_single,
                "what": f"{mode} web={web} cwd={cwd} criteria={crit} {label} task={task!r}",
            },
        )
    return list(cases.values()), refused


def test_every_built_argv_passes_the_real_parser(
    project: harness.Project, massgen_venv: MassgenVenv, run_in_ns: Callable[..., RunResult]
) -> None:
    cases, refused = generate_argvs()
    assert len(cases) > 1000 and all(refused.values()), (len(cases), refused)
    for mode_flag in (flags.PLAN, flags.SPEC, flags.PLAN_AND_EXECUTE, flags.EXECUTE_PLAN, flags.EXECUTE_SPEC):
        assert any(mode_flag in c["argv"] for c in cases), mode_flag
    for flag in (flags.WEB, flags.WEB_REVIEW, flags.EVAL_CRITERIA, flags.CRITERIA_PRESET, flags.INBOX_DIR):
        assert any(flag in c["argv"] for c in cases), flag
    assert any(c["question"] and c["question"].startswith("-") for c in cases)

    path = project.artifacts / "built_argvs.json"
    path.write_text(json.dumps([c["argv"] for c in cases]), encoding="utf-8")
    result = run_in_ns(
        [massgen_venv.python, harness.ARGV_PROBE, path], timeout=180, label="argv probe (built)"
    )
    assert result.returncode == 0, result.describe()
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(report["results"]) == len(cases)

    rejected, lost, single = [], [], []
    for case, got in zip(cases, report["results"], strict=True):
        assert got["argv"] == case["argv"]
        if got["exit"] != 0:
            rejected.append(
                {"what": case["what"], "argv": case["argv"], "exit": got["exit"], "error": got["error"]}
            )
        elif got["question"] != case["question"]:
            lost.append({"what": case["what"], "argv": case["argv"], "question": got["question"]})
        elif got["single_agent"] != case["single_agent"]:
            single.append({"what": case["what"], "argv": case["argv"], "single_agent": got["single_agent"]})
    assert not rejected, f"{len(rejected)} built argvs are usage errors for massgen:\n" + json.dumps(
        rejected[:10], indent=1
    )
    assert not lost, f"{len(lost)} questions did not survive:\n" + json.dumps(lost[:10], indent=1)
    assert not single, json.dumps(single[:10], indent=1)


# --- 2. documented criteria format: translated, a winner; untranslated, massgen exits 2 ------------------
def test_documented_criteria_file_runs_only_because_it_is_translated(
    skill: Skill,
    project: harness.Project,
    llm_server: harness.LLMServer,
    run_massgen: Callable[..., RunResult],
) -> None:
    config = harness.write_three_agent_config(project, llm_server.base_url)
    source = project.configs / "criteria.json"
    source.write_text(json.dumps(DOCUMENTED_CRITERIA, indent=2), encoding="utf-8")
    assert criteria.load_criteria(source).ok  # our own checker accepts the documented format

    res = skill.run("--no-web", "--config", config, "--criteria", source, QUESTION, label="criteria run")
    assert res.returncode == 0, res.describe()
    lines = relayed(res.stdout)
    assert lines.order[-1] == "RESULT" and lines.one("RESULT") == OK, res.describe()
    record = load_record(project, lines.one("RUN_ID"))
    assert record.criteria_file and Path(record.criteria_file).parent == record.run_dir
    assert record.argv[record.argv.index(flags.EVAL_CRITERIA) + 1] == record.criteria_file
    # massgen took the translation: anti-patterns folded into text, aspiration into the primary criterion
    status = harness.read_json(Path(lines.one("STATUS")))
    active = status["meta"]["eval_criteria"]
    assert [(c["text"], c["category"]) for c in active] == [
        (c["text"], c["category"]) for c in criteria.translate(criteria.load_criteria(source))["criteria"]
    ]
    assert "the sum instead of the product" in active[0]["text"] and "ten-year-old" in active[0]["text"]
    assert status["results"]["winner"] == "agent_a"
    check_analysis(skill, lines.one("LOG_DIR"), "agent_a")

    # The same file handed to massgen as it is: massgen dies right after LOG_DIR with exit 2.
    raw = run_massgen(
        flags.CONFIG,
        config,
        flags.AUTOMATION,
        flags.EVAL_CRITERIA,
        source,
        QUESTION,
        label="untranslated criteria",
    )
    assert raw.returncode == 2, raw.describe()
    assert "LOG_DIR: " in raw.stdout and "❌ Error:" in raw.stdout, raw.describe()
    assert re.search(r"\d+ validation errors? for CoordinationConfig", raw.stdout), raw.describe()
    assert "anti_patterns" in raw.stdout  # the list value is what it cannot take
    assert "ANSWER: " not in raw.stdout


# --- 3. a 3-agent CLI run, then status / wait / result ---------------------------------------------------
def test_cli_run_relays_markers_and_follow_up_commands_agree(
    skill: Skill, project: harness.Project, massgen_venv: MassgenVenv, llm_server_factory: Callable[..., Any]
) -> None:
    server = llm_server_factory(vote_for="2")  # everyone votes for the second agent: agent_b wins
    config = harness.write_three_agent_config(project, server.base_url)
    # starts with '-', holds quotes, $, *, backticks: must reach massgen unchanged through bash and argparse
    question = "-6 times 7? Keep \"quotes\", 'single', $HOME, `ticks` and *stars* as they are."
    res = skill.run("--no-web", "--config", config, "--", question, label="3-agent run")
    assert res.returncode == 0, res.describe()

    lines = relayed(res.stdout)
    assert lines.order == ["RUN_ID", "LOG_DIR", "STATUS", "ANSWER", "RESULT"], res.describe()
    assert lines.one("RESULT") == OK
    log_dir = Path(lines.one("LOG_DIR"))
    assert log_dir.is_absolute() and log_dir.parent == project.path / layout.LOGS_SUBDIR
    assert Path(lines.one("STATUS")) == log_dir / "turn_1" / "attempt_1" / layout.STATUS_FILE
    answer = Path(lines.one("ANSWER"))
    assert answer == log_dir / "turn_1" / layout.FINAL_DIR / "agent_b" / layout.ANSWER_FILE
    assert answer.read_text(encoding="utf-8").strip() == answer_text("fake-b")
    status = harness.read_json(Path(lines.one("STATUS")))
    assert status["meta"]["question"] == question
    assert status["results"]["winner"] == "agent_b"

    run_id = lines.one("RUN_ID")
    record = load_record(project, run_id)
    assert record.argv[0] == str(massgen_venv.massgen)  # our locate found the venv's massgen on PATH
    assert record.argv[-2:] == ["--", question]
    assert (record.state, record.outcome, record.exit_code, record.massgen_exit) == ("finished", OK, 0, 0)
    assert record.winner == "agent_b" and record.log_dir == str(log_dir)

    info = skill.cmd_json("status")
    assert (info["run_id"], info["state"], info["outcome"], info["exit_code"]) == (run_id, "finished", OK, 0)
    assert info["log_dir"] == str(log_dir) and info["answer_path"] == str(answer)
    progress = info["progress"]
    assert progress["winner"] == "agent_b" and progress["finish_reason"] == "completed"
    assert sorted(a["agent_id"] for a in progress["agents"]) == ["agent_a", "agent_b", "agent_c"]
    assert {a["voted_for"] for a in progress["agents"]} == {"agent_b"}

    waited = skill.cmd("wait", "--timeout", "5")
    assert waited.returncode == 0 and waited.duration < 5, waited.describe()
    assert waited.stdout.startswith("WAIT: ended: ok"), waited.describe()

    result = skill.cmd_json("result")
    assert result["answer"].strip() == answer_text("fake-b")
    assert (result["winner"], result["answer_path"], result["truncated"]) == ("agent_b", str(answer), False)
    assert (result["state"], result["outcome"]) == ("finished", OK)

    check_analysis(skill, run_id, "agent_b")


# --- 4. web mode, rw, review approved (with --files) or rejected -----------------------------------------
def start_web_review(
    skill: Skill,
    project: harness.Project,
    mg_netns: NetNS,
    llm_server_factory: Callable[..., harness.LLMServer],
) -> tuple[BackgroundRun, int]:
    """A default (web) rw run whose agent writes a file, started in the background, until our review block
    is out; its web port is never massgen's default (so a hard-coded 8000 would show)."""
    server = llm_server_factory(mode="write-file")
    config = harness.write_two_agent_fs_config(project, server.base_url)
    port = mg_netns.free_port()
    assert port != flags.DEFAULT_WEB_PORT
    run = skill.start(
        "--cwd-context", "rw", "--web-port", str(port), "--config", config, harness.QUESTION, name="web"
    )
    run.wait_for(lambda: reviewblock.END in run.stdout(), timeout=120, what="our review block")
    return run, port


@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_web_rw_review_through_our_commands(
    decision: str,
    skill: Skill,
    project: harness.Project,
    mg_netns: NetNS,
    llm_server_factory: Callable[..., harness.LLMServer],
) -> None:
    run, port = start_web_review(skill, project, mg_netns, llm_server_factory)
    t_pending = time.monotonic() - run.started

    lines = relayed(run.stdout())
    assert lines.order == ["RUN_ID", "LOG_DIR", "STATUS", "WEB_UI", reviewblock.BEGIN], run.describe()
    assert lines.one("WEB_UI") == f"http://127.0.0.1:{port}/"
    block = block_fields(lines.blocks[0])
    assert block["REVIEW_URL"] == f"http://127.0.0.1:{port}/?v=2"
    assert re.fullmatch(
        rf"http://127\.0\.0\.1:{port}/api/sessions/auto-[0-9a-f]+/review-response", block["REVIEW_API"]
    )
    assert block["FILES_CHANGED"] == f"{harness.WRITE_NAME} (?)"
    assert block["ANSWER_PREVIEW"].startswith("SCRIPTED ANSWER: 42")
    assert "localhost:8000" not in run.stdout()  # massgen's own hard-coded URL never reaches our output
    log_dir = Path(lines.one("LOG_DIR"))
    assert log_dir.parent == project.path / layout.LOGS_SUBDIR  # the session root, not massgen's attempt dir
    assert not (project.path / harness.WRITE_NAME).exists()  # held back until a human decides

    pending_wait = skill.cmd("wait", "--timeout", "2")
    assert pending_wait.returncode == ExitCode.REVIEW_PENDING, pending_wait.describe()
    assert skill.cmd_json("status")["state"] == records.REVIEW_PENDING
    show = skill.cmd_json("review", "show")
    assert [f["path"] for f in show["files"]] == [harness.WRITE_NAME]
    assert f"+{harness.WRITE_CONTENT.strip()}" in show["diff"].splitlines()

    if decision == "approve":
        sent = skill.cmd("review", "approve", "--files", harness.WRITE_NAME)
    else:
        sent = skill.cmd("review", "reject", "--feedback", "not wanted")
    assert sent.returncode == 0, sent.describe()
    approved = decision == "approve"
    expected = (
        f"RESULT: approved; applied to the project: {harness.WRITE_NAME}" if approved else "RESULT: rejected;"
    )
    assert expected in sent.stdout, sent.describe()

    rc = run.finish(timeout=90)
    record_timing(skill.nodeid, f"web review run ({decision})", time.monotonic() - run.started)
    record_timing(skill.nodeid, "  ..until our review block", t_pending)
    assert rc == 0, run.describe()
    final = relayed(run.stdout())
    assert final.completions == [reviewblock.complete_line(approved)], run.describe()
    assert final.order[-1] == "RESULT" and final.one("RESULT") == OK, run.describe()
    answer = Path(final.one("ANSWER"))  # massgen prints none in web mode: found by us
    assert answer.read_text(encoding="utf-8").strip() == answer_text("fake-a")
    assert Path(final.one("WORKSPACE")).is_dir()

    landed = project.path / harness.WRITE_NAME
    if approved:
        assert landed.read_text(encoding="utf-8") == harness.WRITE_CONTENT
        assert project.git("status", "--porcelain").splitlines() == [f"?? {harness.WRITE_NAME}"]
    else:
        assert not landed.exists()
        assert project.git("status", "--porcelain") == ""
    result = harness.read_json(log_dir / "turn_1" / "attempt_1" / layout.REVIEW_RESULT)
    assert (result["approved"], result["resolved_by"]) == (approved, "api")
    if approved:
        assert result["approved_files"] == [harness.WRITE_NAME]
    record = only_record(project)
    assert record.web and record.web_port == port and record.review_gate
    assert [r.get("approved") for r in record.reviews] == [approved]
    assert (record.state, record.outcome) == ("finished", OK)
    # the review is over and the server with it
    gone = skill.cmd("review", "show")
    assert gone.returncode == ExitCode.NO_REVIEW, gone.describe()

    report = check_analysis(skill, "latest", "agent_a")
    assert f"Outcome: **{'approved' if approved else 'rejected'}**" in report


# --- 5. every agent fails: massgen exits 0, we say "no answer" -------------------------------------------
def test_all_agents_fail_is_no_answer(
    skill: Skill, project: harness.Project, llm_server_factory: Callable[..., harness.LLMServer]
) -> None:
    server = llm_server_factory(mode="never-tool")
    config = harness.write_config(project.configs / "two.yaml", server.base_url, agents=2)
    res = skill.run("--no-web", "--config", config, QUESTION, label="all-fail run")
    assert res.returncode == ExitCode.NO_ANSWER, res.describe()
    lines = relayed(res.stdout)
    assert lines.order == ["RUN_ID", "LOG_DIR", "STATUS", "REASON", "RESULT"], res.describe()
    assert lines.one("RESULT") == RESULT_WORDS[ExitCode.NO_ANSWER]
    assert "no successful agents" in lines.one("REASON")

    record = load_record(project, lines.one("RUN_ID"))
    assert record.massgen_exit == 0  # massgen itself says success
    assert (record.exit_code, record.outcome, record.answer_path) == (4, "no-answer", None)
    assert skill.cmd("wait", "--timeout", "5").returncode == ExitCode.NO_ANSWER
    result = skill.cmd_json("result", expect=ExitCode.NO_ANSWER)
    assert (result["answer"], result["answer_path"], result["winner"]) == ("", None, None)
    info = skill.cmd_json("status")
    # massgen wrote no status.json at all (it failed before its first 2 s write): not "yet" on a finished run
    assert info["progress"]["path"] is None and "yet" not in info["progress"]["problem"], info["progress"]
    check_analysis(skill, lines.one("LOG_DIR"), None)


# --- 6. stop mid-run: nothing of the run survives ---------------------------------------------------------
def _group_alive_inside(run_in_ns: Callable[..., RunResult], pgid: int) -> bool:
    """``os.killpg(pgid, 0)`` from inside the namespace: exit 0 alive, 3 gone."""
    code = (
        "import os,sys\n"
        "try:\n    os.killpg(int(sys.argv[1]), 0)\nexcept ProcessLookupError:\n    sys.exit(3)\n"
    )
    res = run_in_ns([sys.executable, "-c", code, str(pgid)], timeout=20, label="killpg probe")
    assert res.returncode in (0, 3), res.describe()
    return res.returncode == 0


def _group_members(ns: NetNS, pgid: int) -> list[int]:
    members = []
    for pid in ns.pids_inside():
        with contextlib.suppress(ProcessLookupError):
            if os.getpgid(pid) == pgid:
                members.append(pid)
    return members


def _cmdline(pid: int) -> str:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    return "?"


def test_stop_mid_run_leaves_no_process(
    skill: Skill,
    project: harness.Project,
    mg_netns: NetNS,
    run_in_ns: Callable[..., RunResult],
    llm_server_factory: Callable[..., harness.LLMServer],
) -> None:
    server = llm_server_factory(delay=60.0)  # the agents wait on the LLM until stopped
    config = harness.write_three_agent_config(project, server.base_url)
    run = skill.start("--no-web", "--config", config, QUESTION, name="stop")
    run.wait_for(lambda: server.requests(), timeout=90, what="the first LLM request")
    record = only_record(project)
    assert record.state == records.RUNNING and record.pgid and record.wrapper_pid == run.proc.pid
    pgid = record.pgid
    assert _group_alive_inside(run_in_ns, pgid)
    assert record.pid in _group_members(mg_netns, pgid)

    t_stop = time.monotonic()
    stopped = skill.cmd("stop", "--json", "--grace", "3")
    record_timing(skill.nodeid, "  ..stop command", time.monotonic() - t_stop)
    assert stopped.returncode == 0, stopped.describe()
    said = json.loads(stopped.stdout)
    assert (said["state"], said["processes_left"]) == (records.STOPPED, False), said

    rc = run.finish(timeout=30)
    record_timing(skill.nodeid, "stopped run", time.monotonic() - run.started)
    assert rc == ExitCode.STOPPED, run.describe()
    lines = relayed(run.stdout())
    assert lines.order[-1] == "RESULT" and lines.one("RESULT") == RESULT_WORDS[ExitCode.STOPPED]
    assert "ANSWER" not in lines.values

    assert not _group_alive_inside(run_in_ns, pgid)
    left = {p: _cmdline(p) for p in mg_netns.pids_inside() if p != server.process.pid}
    assert not left, f"processes of the run survived: {left}"
    for pid in (record.pid, record.wrapper_pid):
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    final = load_record(project, record.run_id)
    assert (final.state, final.outcome, final.exit_code) == (records.STOPPED, "stopped", ExitCode.STOPPED)
    assert skill.cmd_json("status")["state"] == records.STOPPED
    assert skill.cmd("wait", "--timeout", "2").returncode == ExitCode.STOPPED
    again = skill.cmd("stop")
    assert again.returncode == 0 and "already ended" in again.stdout, again.describe()
