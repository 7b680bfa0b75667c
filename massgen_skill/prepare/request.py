"""What `run` was asked to do, as a typed value: the command layer fills it, the core never sees argparse."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from massgen_skill.exitcodes import SkillError
from massgen_skill.massgen import flags
from massgen_skill.prepare.argv import JobFlags
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
    media: str = AUTO  # auto: read from the task; none: a text task; image | video | audio: generate it
    criteria: Path | None = None  # the user's criteria file (translated before the run)
    preset: str | None = None
    config: str | None = None  # a path or massgen's `@examples/…` name
    web: bool | None = None  # None: web UI unless a flag needs the CLI path
    web_port: int | None = None  # None: the default port if free, else a free one
    job: JobFlags = field(default_factory=JobFlags)
    output_file: Path | None = None
    team: tuple[str, ...] = ()  # `--team` values, one agent each (checked in prepare/team.py)
    extra: str = ""  # `--extra`: massgen flags as one shell string (checked in prepare/extra.py)
    stop_grace: float = DEFAULT_STOP_GRACE
    dry_run: bool = False
    json: bool = False
    detach: bool = False  # return once massgen is launched; supervision goes on in the background
    structured: bool = False  # evaluate: the team writes verdict.json, next_tasks.json, critique_packet.md
    warm: bool = False  # start the warm server when none runs (a running one is used either way)
    raw_argv: tuple[str, ...] = ()  # as typed: the confirmation message repeats it
    max_cost: float | None = None  # USD: stop the run once massgen's reported cost passes it
    continue_run: str | None = None  # `--continue RUN`: the next turn of that run's massgen session

    def check(self) -> None:
        """Rules between fields that argparse cannot express; one line naming the flag."""
        if self.mode not in EXECUTE_MODES and self.target:
            raise SkillError("--target only applies to --mode execute-plan or execute-spec")
        if self.structured and self.mode != "evaluate":
            raise SkillError(f"--structured only applies to --mode evaluate, not --mode {self.mode}")
        if self.team and self.config is not None:
            raise SkillError("--team and --config are exclusive: the team's config is generated for the run")
        if self.job.timeout is not None and self.job.timeout <= 0:
            raise SkillError(f"--timeout: expected seconds > 0, got {self.job.timeout}")
        if self.web_port is not None and not 0 < self.web_port <= MAX_PORT:  # bind() would overflow
            raise SkillError(f"{flags.WEB_PORT} {self.web_port}: not a TCP port (1-{MAX_PORT})")
        if self.max_cost is not None and not 0 < self.max_cost < math.inf:  # NaN fails too
            raise SkillError(f"--max-cost: expected US dollars > 0, got {self.max_cost}")
