"""The fake's test knobs: environment variables named FAKE_MASSGEN_*, read once at start.

| variable | default | meaning |
|---|---|---|
| FAKE_MASSGEN_SCENARIO | success | success, all-fail, timeout, crash, hang, restart, burst, review |
| FAKE_MASSGEN_STARTUP_DELAY | 0 | seconds before the first output line (real massgen: 12-16 s of imports) |
| FAKE_MASSGEN_STEP_DELAY | 0.05 | seconds between coordination phases |
| FAKE_MASSGEN_STATUS_INTERVAL | 0.2 | background rewrite period of status.json (real: 2 s) |
| FAKE_MASSGEN_CANCEL_DELAY | 0.3 | seconds from SIGINT to the final `COMPLETED:` line |
| FAKE_MASSGEN_AGENTS | 3 CLI, 2 web | a count (ids agent_a, agent_b, ...) or ids (a `--model` run: agent1) |
| FAKE_MASSGEN_ANSWER | canned text | the winner's final answer (newlines and marker look-alikes allowed) |
| FAKE_MASSGEN_NO_STATUS | unset | "1": never write status.json (as in the real all-agents-fail sample) |
| FAKE_MASSGEN_BURST_BYTES | 20000000 | stdout noise volume of the burst scenario |
| FAKE_MASSGEN_REVIEW_FILES | hello_e2e.txt:? | the winner's changes, `path:STATUS,...` (STATUS: ? A M D R) |
| FAKE_MASSGEN_REVIEW_TIMEOUT | 600 | seconds a web review waits for a decision |
| FAKE_MASSGEN_REVIEWS | 1 | number of web reviews in sequence in one run |
| FAKE_MASSGEN_ARGV_LOG | unset | path: append one JSON line per invocation (argv, cwd, pid, pgid, ...) |
| FAKE_MASSGEN_SETSID_CHILD | unset | path: start a sleeper in its own session (like MCP servers), pid there |
| FAKE_MASSGEN_ROUND_COST | 0 | USD each agent round adds to status.json's costs (real: LiteLLM's price) |
| FAKE_MASSGEN_MEDIA_FILES | unset | media files in the winner's workspace (relative paths, one a line) |
| FAKE_MASSGEN_VERDICTS | unset | per structured run, in order: iterate, converged, invalid, missing |
| FAKE_MASSGEN_SESSION_SECOND | the clock | YYYYmmdd_HHMMSS a new session is named after (one-second ids) |
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

VERDICTS = ("iterate", "converged", "invalid", "missing")
SCENARIOS = ("success", "all-fail", "timeout", "crash", "hang", "restart", "burst", "review")
DEFAULT_ANSWER = "FAKE-MASSGEN FINAL ANSWER: 42. (scripted reply from the fake massgen)"
DEFAULT_REVIEW_FILES = "hello_e2e.txt:?"
# Exit status of the fake itself when a test sets a knob to a value it cannot use (never produced by massgen).
KNOB_ERROR_EXIT = 99


class KnobError(ValueError):
    """A FAKE_MASSGEN_* variable holds a value the fake cannot use."""


@dataclass(frozen=True)
class FileChange:
    path: str
    status: str


@dataclass(frozen=True)
class Knobs:
    scenario: str
    startup_delay: float
    step_delay: float
    status_interval: float
    cancel_delay: float
    agents: tuple[str, ...] | None
    answer: str
    no_status: bool
    burst_bytes: int
    review_files: tuple[FileChange, ...]
    review_timeout: float
    reviews: int
    argv_log: str | None
    setsid_child: str | None
    round_cost: float = 0.0
    media_files: tuple[str, ...] = ()
    verdicts: tuple[str, ...] = ()
    session_second: str | None = None


def _float(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise KnobError(f"{name}={raw!r} is not a number") from exc
    if value < 0:
        raise KnobError(f"{name}={raw!r} must be >= 0")
    return value


def _int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw.replace("_", ""))
    except ValueError as exc:
        raise KnobError(f"{name}={raw!r} is not an integer") from exc


def agent_ids(count: int) -> tuple[str, ...]:
    """agent_a, agent_b, ... agent_z, agent_aa, ..."""
    ids = []
    for i in range(count):
        suffix = ""
        n = i
        while True:
            suffix = chr(ord("a") + n % 26) + suffix
            n = n // 26 - 1
            if n < 0:
                break
        ids.append(f"agent_{suffix}")
    return tuple(ids)


def _agents(env: dict[str, str]) -> tuple[str, ...] | None:
    raw = (env.get("FAKE_MASSGEN_AGENTS") or "").strip()
    if not raw:
        return None
    if raw.isdigit():
        count = int(raw)
        if count < 1:
            raise KnobError("FAKE_MASSGEN_AGENTS must be >= 1")
        return agent_ids(count)
    ids = tuple(part.strip() for part in raw.split(",") if part.strip())
    if not ids or len(set(ids)) != len(ids):
        raise KnobError(f"FAKE_MASSGEN_AGENTS={raw!r}: need a count or distinct comma-separated ids")
    return ids


def parse_file_changes(raw: str) -> tuple[FileChange, ...]:
    changes = []
    for item in raw.split(","):
        item = item.strip()
        if not item:
            continue
        path, sep, status = item.rpartition(":")
        if not sep or not path or status not in {"?", "A", "M", "D", "R"}:
            raise KnobError(
                f"FAKE_MASSGEN_REVIEW_FILES item {item!r}: expected path:STATUS (STATUS in ? A M D R)"
            )
        changes.append(FileChange(path=path, status=status))
    return tuple(changes)


def _verdicts(env: dict[str, str]) -> tuple[str, ...]:
    raw = env.get("FAKE_MASSGEN_VERDICTS") or ""
    found = tuple(part.strip() for part in raw.split(",") if part.strip())
    bad = [v for v in found if v not in VERDICTS]
    if bad:
        raise KnobError(f"FAKE_MASSGEN_VERDICTS item {bad[0]!r}: expected one of {', '.join(VERDICTS)}")
    return found


def read_knobs(env: dict[str, str] | None = None) -> Knobs:
    env = dict(os.environ) if env is None else env
    scenario = env.get("FAKE_MASSGEN_SCENARIO") or "success"
    if scenario not in SCENARIOS:
        raise KnobError(f"FAKE_MASSGEN_SCENARIO={scenario!r}: expected one of {', '.join(SCENARIOS)}")
    reviews = _int(env, "FAKE_MASSGEN_REVIEWS", 1)
    if reviews < 1:
        raise KnobError("FAKE_MASSGEN_REVIEWS must be >= 1")
    return Knobs(
        scenario=scenario,
        startup_delay=_float(env, "FAKE_MASSGEN_STARTUP_DELAY", 0.0),
        step_delay=_float(env, "FAKE_MASSGEN_STEP_DELAY", 0.05),
        status_interval=max(_float(env, "FAKE_MASSGEN_STATUS_INTERVAL", 0.2), 0.01),
        cancel_delay=_float(env, "FAKE_MASSGEN_CANCEL_DELAY", 0.3),
        agents=_agents(env),
        answer=env.get("FAKE_MASSGEN_ANSWER") or DEFAULT_ANSWER,
        no_status=env.get("FAKE_MASSGEN_NO_STATUS", "") not in ("", "0"),
        burst_bytes=max(_int(env, "FAKE_MASSGEN_BURST_BYTES", 20_000_000), 0),
        review_files=parse_file_changes(env.get("FAKE_MASSGEN_REVIEW_FILES") or DEFAULT_REVIEW_FILES),
        review_timeout=_float(env, "FAKE_MASSGEN_REVIEW_TIMEOUT", 600.0),
        reviews=reviews,
        argv_log=env.get("FAKE_MASSGEN_ARGV_LOG") or None,
        setsid_child=env.get("FAKE_MASSGEN_SETSID_CHILD") or None,
        round_cost=_float(env, "FAKE_MASSGEN_ROUND_COST", 0.0),
        media_files=_media_files(env),
        verdicts=_verdicts(env),
        session_second=_session_second(env),
    )


def _media_files(env: dict[str, str]) -> tuple[str, ...]:
    paths = tuple(line for line in (env.get("FAKE_MASSGEN_MEDIA_FILES") or "").split("\n") if line.strip())
    for path in paths:
        if path.startswith("/") or ".." in path.split("/"):
            raise KnobError(f"FAKE_MASSGEN_MEDIA_FILES {path!r}: expected a path inside the workspace")
    return paths


def _session_second(env: dict[str, str]) -> str | None:
    raw = env.get("FAKE_MASSGEN_SESSION_SECOND") or None
    if raw is not None and not re.fullmatch(r"\d{8}_\d{6}", raw):
        raise KnobError(f"FAKE_MASSGEN_SESSION_SECOND={raw!r}: expected YYYYmmdd_HHMMSS")
    return raw
