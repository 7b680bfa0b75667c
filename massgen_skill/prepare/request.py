"""What `run` was asked to do, as a typed value: the command layer fills it, the core never sees argparse."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from massgen_skill.exitcodes import SkillError
from massgen_skill.massgen import flags
from massgen_skill.prepare.intent import AUTO, EXECUTE_MODES
from massgen_skill.run.launcher import DEFAULT_GRACES

DEFAULT_STOP_GRACE = DEFAULT_GRACES[0]  # seconds between stop signals
MAX_PORT = 65535


@dataclass(frozen=True)
class RunRequest:
    task: str
    cwd: Path  # where massgen runs (the cwd context means this folder)
    mode: str = AUTO
    target: str | None = None  # execute-plan / execute-spec: which plan or spec
    cwd_context: str = AUTO
    criteria: Path | None = None  # the user's criteria file (translated before the run)
    preset: str | None = None
    config: str | None = None  # a path or massgen's `@examples/…` name
    web: bool | None = None  # None: web UI unless a flag needs the CLI path
    web_port: int | None = None  # None: the default port if free, else a free one
    timeout: int | None = None  # massgen's orchestrator time limit, seconds
    quick: bool = False
    personas: str | None = None
    plan_depth: str | None = None
    plan_thoroughness: str | None = None
    plan_steps: int | None = None
    plan_chunks: int | None = None
    coordination_mode: str | None = None
    single_agent: str | None = None  # "" = the flag alone (massgen picks the agent)
    output_file: Path | None = None
    stop_grace: float = DEFAULT_STOP_GRACE
    dry_run: bool = False
    json: bool = False
    detach: bool = False  # return once massgen is launched; supervision goes on in the background
    warm: bool = False  # start the warm server when none runs (a running one is used either way)
    raw_argv: tuple[str, ...] = ()  # as typed: the confirmation message repeats it

    def check(self) -> None:
        """Rules between fields that argparse cannot express; one line naming the flag."""
        if self.mode not in EXECUTE_MODES and self.target:
            raise SkillError("--target only applies to --mode execute-plan or execute-spec")
        if self.timeout is not None and self.timeout <= 0:
            raise SkillError(f"--timeout: expected seconds > 0, got {self.timeout}")
        if self.web_port is not None and not 0 < self.web_port <= MAX_PORT:  # bind() would overflow
            raise SkillError(f"{flags.WEB_PORT} {self.web_port}: not a TCP port (1-{MAX_PORT})")
