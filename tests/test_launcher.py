"""launcher.child_env and the pre-launch refusals found against the real massgen 0.1.97."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from runtools import run_options

from massgen_skill.exitcodes import ExitCode, SkillError
from massgen_skill.massgen.status import progress_for
from massgen_skill.prepare.argv import build
from massgen_skill.prepare.intent import Request, decide
from massgen_skill.run import launcher

BUNDLE = str(Path(launcher.__file__).resolve().parents[2])


def test_child_env_drops_claudecode_sets_unbuffered_and_hides_the_bundle_from_massgen():
    env = launcher.child_env(
        {"CLAUDECODE": "1", "PYTHONPATH": os.pathsep.join([BUNDLE, "/opt/other"]), "A": "b"}
    )
    assert "CLAUDECODE" not in env and env["PYTHONUNBUFFERED"] == "1" and env["A"] == "b"
    assert env["PYTHONPATH"] == "/opt/other"
    assert "PYTHONPATH" not in launcher.child_env({"PYTHONPATH": BUNDLE})


@pytest.mark.parametrize(
    "options",
    [
        run_options(task="t", coordination_mode="decomposition", personas="perspective"),
        run_options(task="t", coordination_mode="decomposition", single_agent=""),
        run_options(task="t", coordination_mode="decomposition", single_agent="agent_a"),
    ],
)
def test_pairs_massgen_refuses_after_parsing_are_refused_before_launch(options):
    with pytest.raises(SkillError) as caught:
        build(decide(Request("t", mode="general", cwd_context="none")), options)
    assert caught.value.code == ExitCode.USAGE and "decomposition" in caught.value.message


def test_personas_off_with_decomposition_is_fine():
    command = build(
        decide(Request("t", mode="general", cwd_context="none")),
        run_options(task="t", coordination_mode="decomposition", personas="off"),
    )
    assert "--personas" in command.args


def test_progress_of_an_ended_run_without_status_json_says_it_will_not_come(tmp_path):
    root = tmp_path / "log_20261125_000000_000000"
    (root / "turn_1" / "attempt_1").mkdir(parents=True)
    assert "appears" in (progress_for(root).problem or "")
    assert "wrote none" in (progress_for(root, ended=True).problem or "")
