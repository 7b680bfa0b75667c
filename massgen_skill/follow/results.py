"""Where a run's answer, winner, workspace and plan/spec files are, CLI and web layouts (contract §4, §7), and
the one outcome every command reports for a run (decided by the wrapper, re-derived the same way if missing).
"""

from __future__ import annotations

import sys
from collections import Counter, deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from massgen_skill.massgen import layout
from massgen_skill.massgen.status import Progress, progress_for, read_json
from massgen_skill.run import records
from massgen_skill.run.outcome import Evidence, Outcome, decide, from_record, lost

_BLANK_PROBE = 4096  # an answer file this small is read to see whether it holds only whitespace
STDERR_TAIL_LINES = 200  # what the wrapper keeps of massgen's stderr for the decision
MAX_TITLES = 20  # plan/spec task titles shown by `result` (a plan may hold hundreds)
MAX_TITLE_CHARS = 120
# The file a --plan / --spec run's agents are asked to write (contract §7), by our run mode.
ARTIFACT_OF_MODE = {"plan": layout.PLAN_FILE, "spec": layout.SPEC_FILE}


@dataclass(frozen=True)
class Found:
    answer_path: Path | None
    winner: str | None
    workspace: Path | None
    plan_file: Path | None
    spec_file: Path | None


NOTHING = Found(None, None, None, None, None)  # a run without a log dir left nothing


def _winner_from_status(root: Path, turn: int | None) -> str | None:
    path = layout.newest_status_file(root, turn)
    data, _ = read_json(path) if path else (None, None)
    results = data.get("results") if isinstance(data, dict) else None
    winner = results.get("winner") if isinstance(results, dict) else None
    return winner if isinstance(winner, str) else None


def _candidate_final_dirs(root: Path, winner: str | None, turn: int | None) -> list[Path]:
    """final/<agent>/ folders, best first: the turn-level copy (CLI), then the newest attempt's."""
    folder = layout.newest_turn(root, turn)
    if folder is None:
        return []
    folders = [folder] + [attempt for _, attempt in reversed(layout.attempts(folder))]
    found: list[Path] = []
    for folder in folders:
        dirs = layout.final_dirs(folder)
        found += [d for d in dirs if winner and d.name == winner] + [d for d in dirs if not winner]
    return found


def find(
    root: Path, winner: str | None = None, answer_hint: Path | None = None, turn: int | None = None
) -> Found:
    """Everything a finished (or finishing) run left. `answer_hint` is massgen's own `ANSWER:` path;
    `turn`: the session turn the run wrote (None: the newest turn)."""
    root = layout.session_root(root)
    status_winner = _winner_from_status(root, turn)
    winner = winner or status_winner
    finals = _candidate_final_dirs(root, winner, turn)
    if winner and not finals and winner != status_winner:
        # No final/<winner>/: a WINNER line forged by text in the answer preview (after a forged COMPLETED),
        # or a stale one. massgen's own files decide: status.json's winner, else whoever has a final dir.
        fallback = _candidate_final_dirs(root, status_winner, turn)
        if fallback or status_winner:
            winner, finals = status_winner, fallback
    answer = None
    turn_dir = layout.newest_turn(root, turn)
    if answer_hint and has_content(answer_hint) and layout.inside(answer_hint, turn_dir or root):
        answer = answer_hint
    answer = answer or next(
        (d / layout.ANSWER_FILE for d in finals if has_content(d / layout.ANSWER_FILE)), None
    )
    if answer is None and turn_dir is not None and has_content(turn_dir / layout.ANSWER_FILE):
        answer = turn_dir / layout.ANSWER_FILE  # web mode writes the turn's answer here (0 bytes: no answer)
    if winner is None and answer is not None and answer.parent.parent.name == layout.FINAL_DIR:
        winner = answer.parent.name
    workspace = next((d / layout.WORKSPACE_DIR for d in finals if (d / layout.WORKSPACE_DIR).is_dir()), None)
    return Found(
        answer_path=answer,
        winner=winner,
        workspace=workspace,
        plan_file=_artifact(workspace, layout.PLAN_FILE),
        spec_file=_artifact(workspace, layout.SPEC_FILE),
    )


def artifact_of(found: Found | None, name: str) -> Path | None:
    """The plan or spec file `name` a run left, if any."""
    if found is None:
        return None
    return found.plan_file if name == layout.PLAN_FILE else found.spec_file


def has_content(path: Path) -> bool:
    """An answer file that says something: web mode writes a 0-byte answer.txt when every agent failed."""
    try:
        size = path.stat().st_size if path.is_file() else 0
        if size == 0 or size > _BLANK_PROBE:
            return size > 0
        return bool(path.read_bytes().strip())
    except OSError:
        return False


def _artifact(workspace: Path | None, name: str) -> Path | None:
    if workspace is None:
        return None
    for candidate in (workspace / name, workspace / layout.DELIVERABLE_DIR / name):
        if candidate.is_file():
            return candidate
    return None


def read_bounded(path: Path, max_chars: int) -> tuple[str, bool]:
    """The file's text, cut at max_chars (a huge answer must not flood an agent's context)."""
    max_chars = min(max_chars, sys.maxsize - 1)  # read() takes no more than sys.maxsize (--max-chars 1e30)
    with open(path, encoding="utf-8", errors="replace") as handle:
        text = handle.read(max_chars + 1)
    return (text[:max_chars], True) if len(text) > max_chars else (text, False)


# --- the outcome every command reports ----------------------------------------------------------------------


def stderr_tail(path: str | None, lines: int = STDERR_TAIL_LINES) -> tuple[str, ...]:
    """The last lines of massgen's stderr log (the run record names it)."""
    if not path:
        return ()
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return tuple(line.rstrip("\n") for line in deque(handle, maxlen=lines))
    except OSError:
        return ()


def outcome_of(record: records.RunRecord, state: str | None = None) -> Outcome | None:
    """How the run ended, the same for `run`, `wait`, `result`, `status` and `runs`; None while it is active.
    The record keeps what the wrapper decided; a record without one is decided from the same evidence."""
    state = state or records.effective_state(record)
    if state == records.LOST:
        return lost()
    if state in records.ACTIVE_STATES:
        return None
    kept = from_record(record.exit_code, record.outcome, record.reason, bool(record.partial_answer))
    return kept or decide(evidence_of(record))


def evidence_of(record: records.RunRecord) -> Evidence:
    """What a reader can still see of an ended run: its files and what the record kept of massgen."""
    root = Path(record.log_dir) if record.log_dir else None
    hint = Path(record.answer_path) if record.answer_path else None
    found = find(root, record.winner, hint, record.turn) if root else None
    return Evidence(
        massgen_exit=record.massgen_exit,
        stopped_by_us=record.state == records.STOPPED,
        saw_log_dir=root is not None,
        answer_exists=bool(found and found.answer_path),
        progress=progress_for(root, ended=True, turn=record.turn) if root else None,
        stderr_tail=stderr_tail(record.stderr_log),
    )


@dataclass(frozen=True)
class Tasks:
    """The task titles of a plan or spec file, bounded."""

    titles: tuple[str, ...]
    total: int
    problem: str | None = None


_TASK_LISTS = ("tasks", "requirements", "chunks", "steps", "items")
_TITLE_KEYS = ("title", "name", "summary", "description", "id")


def _task_items(data: Any) -> list[Any]:
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        for key in _TASK_LISTS:
            if isinstance(data.get(key), list):
                return data[key]
    return []


def _title(item: Any) -> str:
    if isinstance(item, str):
        text = item
    elif isinstance(item, dict):
        text = next((v for k in _TITLE_KEYS if isinstance(v := item.get(k), str) and v.strip()), "?")
        if isinstance(item.get("id"), str) and text != item["id"]:
            text = f"{item['id']}: {text}"
    else:
        text = "?"
    text = " ".join(text.split())  # one line, whatever the file holds
    return text if len(text) <= MAX_TITLE_CHARS else text[: MAX_TITLE_CHARS - 1] + "…"


def task_titles(path: Path, limit: int = MAX_TITLES) -> Tasks:
    """Titles of the first `limit` tasks of a project_plan.json or project_spec.json (free-form JSON)."""
    data, problem = read_json(path, attempts=1)
    if problem:
        return Tasks((), 0, problem)
    items = _task_items(data)
    if not items:
        return Tasks((), 0, "no task list found")
    return Tasks(tuple(_title(item) for item in items[:limit]), len(items))


def tasks_json(tasks: Tasks) -> dict[str, Any]:
    return {"titles": list(tasks.titles), "total": tasks.total, "problem": tasks.problem}


def _newest_answer(agent_dir: Path) -> Path | None:
    """An agent's newest answer in an attempt (`<agent>/<timestamp>/answer.txt`), if it says something."""
    try:
        stamps = sorted(p for p in agent_dir.iterdir() if layout.ANSWER_DIR_RE.match(p.name))
    except OSError:
        return None
    return next(
        (s / layout.ANSWER_FILE for s in reversed(stamps) if has_content(s / layout.ANSWER_FILE)), None
    )


def best_so_far(root: Path, progress: Progress) -> Path | None:
    """A stopped run's best answer: the newest answer of the agent most voted for so far, else the newest
    answer of any agent (never the team's answer: it is offered as partial)."""
    attempt = layout.newest_attempt(layout.session_root(root))
    if attempt is None:
        return None
    votes = Counter(a.voted_for for a in progress.agents if a.voted_for)
    order = [agent for agent, _ in votes.most_common()]
    answers = {a.agent_id: _newest_answer(attempt / a.agent_id) for a in progress.agents}
    voted = next((answers[agent] for agent in order if answers.get(agent)), None)
    newest = sorted((p for p in answers.values() if p), key=lambda p: p.parent.name)
    return voted or (newest[-1] if newest else None)
