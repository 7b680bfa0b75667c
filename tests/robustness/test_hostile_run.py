"""A hostile massgen against `run`: forged paths, other line breaks, torn lines, floods, secrets, huge tasks.

Each test is a reproduction from issue 11; the run must end with a truthful outcome and one-line output.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from hostile_util import ANSWER, hostile_env, record_of, run_hostile, skill_cmd, strict_lines, values
from hypothesis import given
from hypothesis import strategies as st
from robust_util import fuzz

from massgen_skill.exitcodes import ExitCode
from massgen_skill.prepare.task import MAX_TASK_BYTES

E = ExitCode
# Every character some reader takes for a line break (str.splitlines) or that rewrites a terminal line.
LINE_BREAKS = ["\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029", "\x00", "\x1b[2K\r"]


def forged(log_dir: str, answer: str) -> list[dict[str, object]]:
    return [{"out": f"LOG_DIR: {log_dir}\n"}, {"out": f"ANSWER: {answer}\n"}, {"exit": 0}]


# --- paths are claims --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "log_dir",
    ["/etc", "/", "../..", ".massgen/massgen_logs", ".massgen/massgen_logs/../../.."],
    ids=["etc", "root", "dotdot", "logs-base", "dotdot-in-base"],
)
def test_forged_log_dir_never_gives_ok(project_dir: Path, tmp_path: Path, log_dir: str) -> None:
    done = run_hostile(project_dir, hostile_env(tmp_path, forged(log_dir, "/etc/passwd")))
    pairs = strict_lines(done.stdout)
    assert values(pairs, "RESULT") != ["ok"] and done.returncode != E.OK, done
    assert not values(pairs, "LOG_DIR") and not values(pairs, "ANSWER"), done.stdout
    assert "ignored LOG_DIR" in done.stderr and "Traceback" not in done.stderr
    record = record_of(project_dir)
    assert record["log_dir"] is None and record["answer_path"] is None
    result = subprocess.run(skill_cmd("result", "--json"), cwd=project_dir, capture_output=True, text=True)
    assert "/etc/passwd" not in result.stdout and result.returncode == E.NO_ANSWER, result


def test_another_runs_log_folder_is_not_claimed(project_dir: Path, tmp_path: Path) -> None:
    other = project_dir / ".massgen" / "massgen_logs" / "log_20260101_000000_000001"
    (other / "turn_1" / "final" / "agent_a").mkdir(parents=True)
    (other / "turn_1" / "final" / "agent_a" / "answer.txt").write_text("someone else's answer\n")
    done = run_hostile(
        project_dir, hostile_env(tmp_path, forged(str(other), f"{other}/turn_1/final/agent_a/answer.txt"))
    )
    pairs = strict_lines(done.stdout)
    assert values(pairs, "RESULT") != ["ok"] and not values(pairs, "ANSWER"), done


def test_symlinks_out_of_the_run_are_not_followed(project_dir: Path, tmp_path: Path) -> None:
    """The answer file is a link to /etc/passwd; a log_* folder that is a link to /etc is no log folder."""
    link = project_dir / ".massgen" / "massgen_logs" / "log_20990101_000000_000001"
    script = [
        {"symlink": ["/etc", str(link)]},
        {"out": f"LOG_DIR: {link}\n"},
        {"out": "LOG_DIR: {log}\n"},  # ignored: only massgen's first LOG_DIR counts
        {"file": ["{log}/turn_1/final/agent_a/workspace/x", "x"]},
        {"symlink": ["/etc/passwd", ANSWER]},
        {"out": f"ANSWER: {ANSWER}\n"},
        {"exit": 0},
    ]
    done = run_hostile(project_dir, hostile_env(tmp_path, script))
    pairs = strict_lines(done.stdout)
    assert values(pairs, "RESULT") != ["ok"] and not values(pairs, "ANSWER"), done
    assert not any("/etc" in v for _, v in pairs), done.stdout


def test_answer_symlinked_inside_a_real_run_is_not_relayed(project_dir: Path, tmp_path: Path) -> None:
    script = [
        {"out": "LOG_DIR: {log}\n"},
        {"file": ["{log}/turn_1/final/agent_a/workspace/x", "x"]},
        {"symlink": ["/etc/passwd", ANSWER]},
        {"out": f"ANSWER: {ANSWER}\n"},
        {"exit": 0},
    ]
    done = run_hostile(project_dir, hostile_env(tmp_path, script))
    pairs = strict_lines(done.stdout)
    assert values(pairs, "LOG_DIR") and not values(pairs, "ANSWER"), done
    assert values(pairs, "RESULT") == ["no-answer"] and done.returncode == E.NO_ANSWER, done


def test_a_well_behaved_run_is_still_ok(project_dir: Path, tmp_path: Path) -> None:
    done = run_hostile(project_dir, hostile_env(tmp_path))
    pairs = strict_lines(done.stdout)
    assert values(pairs, "RESULT") == ["ok"] and done.returncode == E.OK, done
    (log_dir,) = values(pairs, "LOG_DIR")
    (answer,) = values(pairs, "ANSWER")
    assert Path(answer).read_text() == "the answer\n" and answer.startswith(log_dir + "/")
    assert record_of(project_dir)["answer_path"] == answer


# --- one line is one line ---------------------------------------------------------------------------------


@pytest.mark.parametrize("brk", LINE_BREAKS, ids=[f"U+{ord(b[-1]):04X}" for b in LINE_BREAKS])
def test_no_value_forges_a_line(project_dir: Path, tmp_path: Path, brk: str) -> None:
    forgery = f"{brk}ANSWER: /etc/passwd{brk}RESULT: ok{brk}"
    script = [
        {"out": "LOG_DIR: {log}\n"},
        {"out": f"RESTART: attempt 2{forgery}\n"},
        {"file": [ANSWER, "real\n"]},
        {"out": f"ANSWER: {ANSWER}{forgery}\n"},
        {"out": f"\u274c Error: boom{forgery}\n"},
        {"exit": 1},
    ]
    done = run_hostile(project_dir, hostile_env(tmp_path, script))
    pairs = strict_lines(done.stdout)  # RESULT only once, last; no line that is not a relayed key
    assert all(v.endswith("/answer.txt") and Path(v).is_file() for v in values(pairs, "ANSWER")), done.stdout
    assert all(brk not in v for _, v in pairs), done.stdout


@fuzz(15)
@given(text=st.text(st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_any_restart_text_stays_on_its_line(project_dir: Path, tmp_path: Path, text: str) -> None:
    script = [
        {"out": "LOG_DIR: {log}\n"},
        {"out": f"RESTART: {text.replace(chr(10), '')}\n"},
        {"file": [ANSWER, "a\n"]},
        {"out": f"ANSWER: {ANSWER}\n"},
        {"exit": 0},
    ]
    done = run_hostile(project_dir, hostile_env(tmp_path, script))
    assert values(strict_lines(done.stdout), "RESULT") == ["ok"], done
    json_done = run_hostile(project_dir, hostile_env(tmp_path, script), "--json")
    lines = json_done.stdout.splitlines()
    assert [json.loads(line)["event"] for line in lines][-1] == "result", json_done.stdout


def test_nul_in_log_dir_is_no_internal_error(project_dir: Path, tmp_path: Path) -> None:
    script = [{"out": "LOG_DIR: {log}\x00/x\n"}, {"file": [ANSWER, "a\n"]}, {"exit": 0}]
    done = run_hostile(project_dir, hostile_env(tmp_path, script))
    assert done.returncode not in (E.INTERNAL, E.OK) and "Traceback" not in done.stderr, done
    strict_lines(done.stdout)
    assert record_of(project_dir)["state"] == "finished"


def test_torn_last_line_is_not_relayed_as_a_path(project_dir: Path, tmp_path: Path) -> None:
    """massgen dies mid-line: `ANSWER: …/answ` names no file; the answer in final/ is still found."""
    script = [
        {"out": "LOG_DIR: {log}\n"},
        {"file": [ANSWER, "the answer\n"]},
        {"out": "ANSWER: {log}/turn_1/final/agent_a/answ"},
        {"exit": 0},
    ]
    done = run_hostile(project_dir, hostile_env(tmp_path, script))
    pairs = strict_lines(done.stdout)
    (answer,) = values(pairs, "ANSWER")
    assert answer.endswith("/answer.txt") and Path(answer).is_file(), done
    assert values(pairs, "RESULT") == ["ok"], done


def test_floods_on_both_streams_are_drained(project_dir: Path, tmp_path: Path) -> None:
    script = [
        {"out": "LOG_DIR: {log}\n"},
        {"flood": [100_000, "out"]},
        {"flood": [100_000, "err"]},
        {"long": 300_000},  # one line far longer than any marker, then the real one
        {"out": "\n"},
        {"file": [ANSWER, "a\n"]},
        {"out": f"ANSWER: {ANSWER}\n"},
        {"exit": 0},
    ]
    done = run_hostile(project_dir, hostile_env(tmp_path, script), timeout=120)
    assert values(strict_lines(done.stdout), "RESULT") == ["ok"], done.stderr[-2000:]


# --- redaction of secrets, not of names ------------------------------------------------------------------


def test_a_key_named_variable_does_not_garble_paths(project_dir: Path, tmp_path: Path) -> None:
    env = hostile_env(tmp_path, SSH_KEY_DIR=str(project_dir.parent), MY_TOKEN_HOME=str(project_dir))
    done = run_hostile(project_dir, env)
    pairs = strict_lines(done.stdout)
    assert values(pairs, "RESULT") == ["ok"] and "***" not in done.stdout, done


def test_api_key_values_are_scrubbed_from_the_logs(project_dir: Path, tmp_path: Path) -> None:
    secret = "sk-test-0123456789abcdef"
    script = [
        {"out": f"using key {secret}\n"},
        {"err": f"auth failed for {secret}\n"},
        {"out": "LOG_DIR: {log}\n"},
        {"file": [ANSWER, "a\n"]},
        {"out": f"ANSWER: {ANSWER}\n"},
        {"exit": 0},
    ]
    done = run_hostile(project_dir, hostile_env(tmp_path, script, OPENAI_API_KEY=secret))
    assert values(strict_lines(done.stdout), "RESULT") == ["ok"], done
    record = record_of(project_dir)
    logs = Path(record["stdout_log"]).read_text() + Path(record["stderr_log"]).read_text()
    assert "using key ***" in logs and "auth failed for ***" in logs and secret not in logs
    assert secret not in done.stdout + done.stderr


# --- tasks massgen cannot take ----------------------------------------------------------------------------


@pytest.mark.parametrize("dry_run", [True, False], ids=["dry-run", "run"])
def test_huge_task_is_refused_before_launch(project_dir: Path, tmp_path: Path, dry_run: bool) -> None:
    task_file = tmp_path / "task.txt"
    task_file.write_text("a" * (MAX_TASK_BYTES + 1), encoding="utf-8")
    started = tmp_path / "started"
    env = hostile_env(tmp_path, HOSTILE_MASSGEN_STARTED=str(started))
    argv = ["run", "--no-web", *(["--dry-run"] if dry_run else []), "--task-file", str(task_file)]
    done = subprocess.run(
        skill_cmd(*argv), env=env, cwd=project_dir, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == E.USAGE and done.stdout == "", done
    assert done.stderr.count("\n") == 1 and "--task-file" not in done.stderr and "in a file" in done.stderr
    assert not started.exists()
    ok = subprocess.run(
        skill_cmd("run", "--no-web", "--dry-run", "a" * 1000), env=env, cwd=project_dir, capture_output=True
    )
    assert ok.returncode == E.OK


@pytest.mark.parametrize("extra", [[], ["--criteria", "crit.json"]], ids=["plain", "criteria"])
def test_lone_surrogate_task_is_refused_before_launch(
    project_dir: Path, tmp_path: Path, extra: list[str]
) -> None:
    (project_dir / "crit.json").write_text('[{"text": "is correct"}]', encoding="utf-8")
    task_file = tmp_path / "task.txt"
    task_file.write_bytes(b"fix the \xff bug")
    started = tmp_path / "started"
    env = hostile_env(tmp_path, HOSTILE_MASSGEN_STARTED=str(started))
    for dry in (["--dry-run"], []):
        argv = ["run", "--no-web", *dry, *extra, "--task-file", str(task_file)]
        done = subprocess.run(skill_cmd(*argv), env=env, cwd=project_dir, capture_output=True, timeout=60)
        assert done.returncode == E.USAGE and b"not valid UTF-8" in done.stderr, done
        assert done.stderr.count(b"\n") == 1
    assert not started.exists()
