"""The three files a structured evaluation leaves in the winner's workspace, read and checked.

`verdict.json` and `next_tasks.json` are validated against the JSON Schemas beside this module; a missing or
invalid file is a warning naming it (the run itself still has its answer), never an exception.
"""

from __future__ import annotations

import functools
import json
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from massgen_skill.massgen.layout import DELIVERABLE_DIR
from massgen_skill.massgen.status import read_json

VERDICT_FILE = "verdict.json"
NEXT_TASKS_FILE = "next_tasks.json"
CRITIQUE_FILE = "critique_packet.md"
SCHEMAS = {VERDICT_FILE: "verdict.schema.json", NEXT_TASKS_FILE: "next_tasks.schema.json"}
ITERATE = "iterate"
CONVERGED = "converged"
MAX_TASKS = 20  # tasks shown per kind (a team may list many)
MAX_TEXT = 300  # characters of a task's description or guidance kept


@dataclass(frozen=True)
class NextTask:
    id: str
    category: str  # fix | evolution
    description: str
    guidance: str = ""
    priority: str = ""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class Evaluation:
    verdict: str | None  # iterate | converged; None: no valid verdict.json
    scores: tuple[tuple[str, int], ...] = ()
    tasks: tuple[NextTask, ...] = ()
    ceiling_status: str | None = None
    verdict_file: Path | None = None
    next_tasks_file: Path | None = None
    critique_file: Path | None = None
    warnings: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "scores": dict(self.scores),
            "next_tasks": [task.as_dict() for task in self.tasks],
            "ceiling_status": self.ceiling_status,
            "verdict_file": str(self.verdict_file) if self.verdict_file else None,
            "next_tasks_file": str(self.next_tasks_file) if self.next_tasks_file else None,
            "critique_file": str(self.critique_file) if self.critique_file else None,
            "warnings": list(self.warnings),
        }


@functools.lru_cache(maxsize=2)
def load_schema(name: str) -> dict[str, Any]:
    text = resources.files(__package__ or "massgen_skill.evaluate").joinpath(SCHEMAS[name]).read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def locate(workspace: Path | None, name: str) -> Path | None:
    """The file at the workspace's top level, or in its `deliverable/` folder (some teams put it there)."""
    if workspace is None:
        return None
    return next((p for p in (workspace / name, workspace / DELIVERABLE_DIR / name) if p.is_file()), None)


def problem_of(data: Any, name: str) -> str | None:
    """None when `data` matches the file's schema; else the first error, with where it is."""
    import jsonschema

    error = jsonschema.exceptions.best_match(jsonschema.Draft7Validator(load_schema(name)).iter_errors(data))
    if error is None:
        return None
    where = "/".join(str(part) for part in error.absolute_path) or "top level"
    return f"{where}: {error.message}"


def _checked(workspace: Path | None, name: str, warnings: list[str]) -> tuple[Path | None, Any]:
    path = locate(workspace, name)
    if path is None:
        warnings.append(f"{name} missing from the winner's workspace")
        return None, None
    data, problem = read_json(path, attempts=1)
    problem = problem or problem_of(data, name)
    if problem:
        warnings.append(f"{name} invalid ({problem}): {path}")
        return path, None
    return path, data


def _short(value: Any) -> str:
    text = " ".join(str(value).split()) if isinstance(value, str) else ""
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def _tasks(data: dict[str, Any]) -> tuple[NextTask, ...]:
    """fix_tasks then evolution_tasks; the flat `tasks` list only when neither is given."""
    kinds = [("fix", data.get("fix_tasks") or []), ("evolution", data.get("evolution_tasks") or [])]
    if not kinds[0][1] and not kinds[1][1]:
        kinds = [("", [t for t in data.get("tasks") or [] if isinstance(t, dict)])]
    found: list[NextTask] = []
    for default, items in kinds:
        for item in items[:MAX_TASKS]:
            category = item.get("task_category") or default or "fix"
            found.append(
                NextTask(
                    _short(item["id"]),
                    category,
                    _short(item["description"]),
                    _short(item.get("implementation_guidance", "")),
                    _short(item.get("priority", "")),
                )
            )
    return tuple(found)


def read_evaluation(workspace: Path | None) -> Evaluation:
    """What a structured evaluation left in `workspace` (the winner's), with a warning per missing or
    invalid file. next_tasks.json may be absent when the verdict is converged."""
    warnings: list[str] = []
    if workspace is None:
        return Evaluation(None, warnings=(f"{VERDICT_FILE} missing: the run left no winner's workspace",))
    verdict_path, verdict = _checked(workspace, VERDICT_FILE, warnings)
    tasks_path = locate(workspace, NEXT_TASKS_FILE)
    tasks_data = None
    if tasks_path is not None or not verdict or verdict["verdict"] != CONVERGED:
        tasks_path, tasks_data = _checked(workspace, NEXT_TASKS_FILE, warnings)
    critique = locate(workspace, CRITIQUE_FILE)
    if critique is None:
        warnings.append(f"{CRITIQUE_FILE} missing from the winner's workspace")
    assessment = (tasks_data or {}).get("approach_assessment") or {}
    return Evaluation(
        verdict=verdict["verdict"] if verdict else None,
        scores=tuple((key, value) for key, value in verdict["scores"].items()) if verdict else (),
        tasks=_tasks(tasks_data) if tasks_data else (),
        ceiling_status=assessment.get("ceiling_status"),
        verdict_file=verdict_path,
        next_tasks_file=tasks_path,
        critique_file=critique,
        warnings=tuple(warnings),
    )
