"""`doctor --live`: prove the whole chain without keys — the real massgen, driven through our own `run`,
`review` and `stop`, against the scripted model server shipped in this package, in a temporary project.

Steps (each timed, the whole bounded): find massgen → start the scripted model → a team answers (CLI mode) →
a review round in web mode (an agent writes a file, we approve, the file lands) → a run stopped mid-way
leaves no process. The user's project, config and keys are never used: the child gets a placeholder key,
`LITELLM_LOCAL_MODEL_COST_MAP=True` and a PATH whose first folder holds the filesystem MCP stand-in.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from massgen_skill import PACKAGE_DIR
from massgen_skill.exitcodes import ExitCode, SkillError
from massgen_skill.massgen.program import INSTALL_HINT, MassgenProgram, find_massgen
from massgen_skill.output import one_line
from massgen_skill.prepare.checks import self_command
from massgen_skill.setup import fs_standin, scripted_model

LIVE_BUDGET = 180.0  # seconds for all steps together (issue: ≤ 3 minutes on 2 cores)
PLACEHOLDER_KEY = "scripted-model-no-key"
WRITE_NAME = "live_check.txt"
QUESTION = f"Create a file named {WRITE_NAME} and tell me what 6 times 7 is."
FS_MCP_COMMAND = "mcp-server-filesystem"  # massgen 0.1.97 uses this name when it is on PATH, else npx
OK, FAIL, SKIP = "ok", "fail", "skip"


@dataclass
class Step:
    name: str
    status: str = SKIP
    seconds: float = 0.0
    detail: str = ""
    fix: str = ""
    code: int = int(ExitCode.OK)


@dataclass
class LiveReport:
    steps: list[Step] = field(default_factory=list)
    folder: str = ""

    @property
    def exit_code(self) -> int:
        failed = [s for s in self.steps if s.status == FAIL]
        return failed[0].code if failed else int(ExitCode.OK)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.exit_code == 0,
            "exit_code": self.exit_code,
            "steps": [asdict(s) for s in self.steps],
        }


class StepFailed(Exception):
    def __init__(self, detail: str, code: ExitCode, fix: str = "") -> None:
        super().__init__(detail)
        self.detail, self.code, self.fix = detail, int(code), fix


# --- the scripted world ----------------------------------------------------------------------------------


def agent_models(n: int) -> list[tuple[str, str]]:
    """`[(agent id, model)]`: agent_a/fake-a, agent_b/fake-b, …; the scripted server keys on the model."""
    letters = "abcdefghij"
    return [(f"agent_{letters[i]}", f"fake-{letters[i]}") for i in range(n)]


def write_scripted_config(
    path: Path,
    base_url: str,
    *,
    agents: int = 3,
    workspaces: bool = False,
    storage_root: Path | None = None,
    orchestrator_timeout: int = 180,
    extra_orchestrator: Mapping[str, Any] | None = None,
) -> Path:
    """A chatcompletion config for `agents` agents against the scripted server.

    No `api_key:` entry (massgen 0.1.97 crashes on it, contract §12): the key comes from OPENAI_API_KEY. With
    `workspaces` each agent gets `cwd: workspace_<x>` and the filesystem MCP limited to write_file/edit_file,
    and the orchestrator uses worktree write mode; snapshot and temp-workspace folders go to `storage_root` as
    absolute paths (web mode would otherwise create relative folders in the project, contract §5). JSON is
    valid YAML, so no YAML library is needed."""
    entries = []
    for agent_id, model in agent_models(agents):
        backend: dict[str, Any] = {"type": "chatcompletion", "model": model, "base_url": base_url}
        if workspaces:
            backend["cwd"] = f"workspace_{agent_id.split('_')[1]}"
            backend["exclude_file_operation_mcps"] = True
        entries.append({"id": agent_id, "backend": backend})
    config: dict[str, Any] = {"agents": entries}
    orchestrator: dict[str, Any] = {}
    if workspaces:
        root = storage_root or path.parent
        orchestrator["snapshot_storage"] = str(root / "snapshots")
        orchestrator["agent_temporary_workspace"] = str(root / "temp_workspaces")
        orchestrator["coordination"] = {"write_mode": "worktree"}
    orchestrator.update(extra_orchestrator or {})
    if orchestrator:
        config["orchestrator"] = orchestrator
    config["timeout_settings"] = {"orchestrator_timeout_seconds": orchestrator_timeout}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return path


def install_fs_standin(bin_dir: Path, log_path: Path | None = None) -> Path:
    """An executable `mcp-server-filesystem` in `bin_dir` that runs our stdlib stand-in. massgen passes only a
    minimal environment to stdio MCP servers, so a call log (`log_path`) is baked into the wrapper."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    target = bin_dir / FS_MCP_COMMAND
    log_line = f"export {fs_standin.LOG_VARIABLE}='{log_path}'\n" if log_path else ""
    target.write_text(
        f"#!/bin/sh\n{log_line}exec '{sys.executable}' '{fs_standin.__file__}' \"$@\"\n", encoding="utf-8"
    )
    target.chmod(target.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return target


@contextmanager
def scripted_server(**options: Any) -> Iterator[str]:
    """A scripted model server on an ephemeral loopback port, in a thread; yields its base URL."""
    server = scripted_model.ScriptedModelServer(0, scripted_model.Options(**options))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


# --- driving our own CLI ------------------------------------------------------------------------------------


@dataclass
class World:
    folder: Path  # the temporary root; the project is folder/project
    env: dict[str, str]
    deadline: float

    @property
    def project(self) -> Path:
        return self.folder / "project"

    def left(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise StepFailed(f"the live check ran out of its {LIVE_BUDGET:.0f} s", ExitCode.TIMED_OUT)
        return left

    def skill(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "massgen_skill", *args],
            cwd=self.project,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=self.left(),
            check=False,
        )

    def start_run(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "massgen_skill", "run", *args],
            cwd=self.project,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )


def child_env(base: Mapping[str, str], program: MassgenProgram, harness_bin: Path) -> dict[str, str]:
    env = dict(base)
    env.update(
        {
            "PATH": os.pathsep.join([str(harness_bin), env.get("PATH", os.defpath)]),
            "OPENAI_API_KEY": PLACEHOLDER_KEY,  # never the user's key, even towards loopback
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            "PYTHONPATH": str(PACKAGE_DIR.parent),
            "PYTHONUNBUFFERED": "1",
            "GIT_AUTHOR_NAME": "massgen-skill",
            "GIT_AUTHOR_EMAIL": "live-check@massgen-skill.invalid",
            "GIT_COMMITTER_NAME": "massgen-skill",
            "GIT_COMMITTER_EMAIL": "live-check@massgen-skill.invalid",
        }
    )
    if program.path:
        env["MASSGEN_BIN"] = program.path
    return env


def step_project(world: World) -> str:
    """A scratch git project (massgen's review of changes needs git), never the user's."""
    project = world.project
    project.mkdir(parents=True)
    (project / "README.md").write_text("# live check\n", encoding="utf-8")
    (project / ".gitignore").write_text(".massgen/\n", encoding="utf-8")
    for argv in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-q", "-m", "start"]):
        done = subprocess.run(
            argv, cwd=project, env=world.env, capture_output=True, text=True, timeout=30, check=False
        )
        if done.returncode != 0:
            raise StepFailed(f"`{' '.join(argv)}` failed: {one_line(done.stderr)}", ExitCode.ENV_NOT_READY)
    return f"a scratch git project in {project}"


def _lines(text: str) -> dict[str, str]:
    """`NAME: value` lines of our own output (the last of each)."""
    found: dict[str, str] = {}
    for line in text.split("\n"):
        name, sep, value = line.partition(": ")
        if sep and name.isupper():
            found[name] = value
    return found


# --- the steps ----------------------------------------------------------------------------------------------


def step_answer(world: World) -> str:
    with scripted_server() as url:
        config = write_scripted_config(world.folder / "answer.yaml", url, agents=3)
        done = world.skill(
            "run", "--no-web", "--cwd-context", "none", "--config", str(config), "--", QUESTION
        )
    said = _lines(done.stdout)
    if done.returncode != 0 or said.get("RESULT") != "ok":
        raise StepFailed(
            f"run ended {said.get('RESULT', '?')} (exit {done.returncode})", ExitCode(done.returncode or 1)
        )
    answer = Path(said.get("ANSWER", ""))
    text = answer.read_text(encoding="utf-8", errors="replace") if answer.is_file() else ""
    if "SCRIPTED ANSWER" not in text:
        raise StepFailed(f"the answer file {answer} does not hold the scripted answer", ExitCode.NO_ANSWER)
    return f"3 agents answered and voted; answer: {one_line(text.strip())[:60]}"


def _read_until(
    proc: subprocess.Popen[str], want: Callable[[dict[str, str]], bool], world: World
) -> dict[str, str]:
    """Read the run's stdout in a thread until `want(lines so far)` or the run ends or the budget is spent."""
    seen: dict[str, str] = {}
    hit = threading.Event()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            seen.update(_lines(line))
            if want(seen):
                hit.set()
        hit.set()

    threading.Thread(target=pump, daemon=True).start()
    hit.wait(timeout=world.left())
    return dict(seen)


def step_review(world: World) -> str:
    with scripted_server(mode="write-file", write_name=WRITE_NAME) as url:
        storage = world.folder / "storage"
        config = write_scripted_config(
            world.folder / "review.yaml", url, agents=2, workspaces=True, storage_root=storage
        )
        proc = world.start_run("--web", "--cwd-context", "rw", "--config", str(config), "--", QUESTION)
        try:
            seen = _read_until(proc, lambda s: "REVIEW_URL" in s or "RESULT" in s, world)
            if "REVIEW_URL" not in seen:
                raise StepFailed(
                    f"no review was offered (run said {seen.get('RESULT', 'nothing')})", ExitCode.NO_ANSWER
                )
            decided = world.skill("review", "approve")
            if decided.returncode != 0:
                raise StepFailed(
                    f"review approve failed: {one_line(decided.stderr)}", ExitCode(decided.returncode)
                )
            code = proc.wait(timeout=world.left())
        finally:
            _end(proc)
    if code != 0:
        raise StepFailed(f"the reviewed run ended with exit {code}", ExitCode(code))
    if not (world.project / WRITE_NAME).is_file():
        raise StepFailed(f"approved, but {WRITE_NAME} did not land in the project", ExitCode.INTERNAL)
    return f"a review was offered at {seen['REVIEW_URL']}, approved, and {WRITE_NAME} landed"


def step_stop(world: World) -> str:
    with scripted_server(delay=60.0) as url:
        config = write_scripted_config(world.folder / "stop.yaml", url, agents=2)
        proc = world.start_run("--no-web", "--cwd-context", "none", "--config", str(config), "--", QUESTION)
        try:
            seen = _read_until(proc, lambda s: "LOG_DIR" in s or "RESULT" in s, world)
            if "RUN_ID" not in seen or "LOG_DIR" not in seen:
                raise StepFailed("the run never reported its log folder", ExitCode.CRASHED)
            stopped = world.skill("stop", seen["RUN_ID"], "--json")
            code = proc.wait(timeout=world.left())
        finally:
            _end(proc)
    said = json.loads(stopped.stdout or "{}") if stopped.stdout.strip().startswith("{") else {}
    if code != ExitCode.STOPPED or said.get("processes_left"):
        raise StepFailed(
            f"stop left the run at exit {code}, processes left: {said.get('processes_left')}",
            ExitCode.STOPPED,
        )
    return "a run was stopped mid-way; nothing of it is left"


def _end(proc: subprocess.Popen[str]) -> None:
    """Never leave a run behind: the wrapper's whole session is ended if it is still there."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if proc.poll() is not None:
            break
        with suppress(ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, sig)  # the wrapper leads its own session (start_new_session)
            proc.wait(timeout=10)
    if proc.stdout:
        proc.stdout.close()


STEPS: tuple[tuple[str, Callable[[World], str]], ...] = (
    ("project", step_project),
    ("answer", step_answer),
    ("review round", step_review),
    ("clean stop", step_stop),
)


def _timed(step: Step, action: Callable[[], str]) -> bool:
    start = time.monotonic()
    try:
        step.detail, step.status = action(), OK
    except StepFailed as failed:
        step.status, step.detail, step.code, step.fix = FAIL, failed.detail, failed.code, failed.fix
    except (OSError, subprocess.SubprocessError, SkillError) as error:
        step.status, step.detail = FAIL, one_line(str(error))
        step.code = int(error.code) if isinstance(error, SkillError) else int(ExitCode.INTERNAL)
    step.seconds = round(time.monotonic() - start, 2)
    if step.status == FAIL and not step.fix:
        step.fix = f"{self_command()} doctor --live --keep, then read the kept folder's project/.massgen/"
    return step.status == OK


def live_check(env: Mapping[str, str] | None = None, keep: bool = False) -> LiveReport:
    """Run every step in a fresh temporary folder (removed afterwards unless `keep`)."""
    env = os.environ if env is None else env
    report = LiveReport()
    found = Step("massgen")
    report.steps.append(found)
    program: list[MassgenProgram] = []
    if not _timed(found, lambda: _find(env, program)):
        found.fix = INSTALL_HINT
        return report
    folder = Path(tempfile.mkdtemp(prefix="massgen-skill-live-"))
    report.folder = str(folder)
    try:
        world = World(folder, child_env(env, program[0], folder / "bin"), time.monotonic() + LIVE_BUDGET)
        install_fs_standin(folder / "bin")
        for name, action in STEPS:
            step = Step(name)
            report.steps.append(step)
            if not _timed(step, lambda action=action: action(world)):
                break
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
    return report


def _find(env: Mapping[str, str], out: list[MassgenProgram]) -> str:
    program = find_massgen(env)
    out.append(program)
    return " ".join(program.argv)
