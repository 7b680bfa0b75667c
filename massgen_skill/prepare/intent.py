"""What the user asked for → which kind of MassGen run, with the reasons. Pure: no I/O.

`decide()` turns a `Request` (the task's words plus explicit options) into a `Decision`. Explicit options
always win; `auto` values are inferred from the task's words, and every inference says why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MODES = (
    "general",
    "evaluate",
    "plan",
    "plan-and-execute",
    "spec",
    "execute-plan",
    "execute-spec",
)
AUTO = "auto"
CWD_CONTEXTS = ("none", "ro", "rw")
EXECUTE_MODES = ("execute-plan", "execute-spec")

# Ordered: the first rule whose pattern matches decides the mode.
_MODE_RULES: tuple[tuple[str, str], ...] = (
    (
        "execute-spec",
        r"\b(execute|implement|carry out|run) (the |this |that |our )?(latest )?spec(ification)?\b",
    ),
    ("execute-plan", r"\b(execute|implement|carry out|run) (the |this |that |our )?(latest )?plan\b"),
    ("plan-and-execute", r"\bplan (it )?(and|then) (execute|implement|build|do|carry out)\b"),
    ("spec", r"\b(spec|specs|specification|requirements|prd)\b"),
    ("plan", r"\b(plan|planning|roadmap|break (it |this )?down|milestones)\b"),
    # "rate" only as a verb ("rate these designs", not "rate limiter"); "grade" not in "production-grade".
    (
        "evaluate",
        r"\b(review|critique|critici[sz]e|evaluate|evaluation|assess|audit|(?<!-)grade|judge"
        r"|rate(?= (this|these|those|the|my|our|your|it|them|each|all)\b))",
    ),
)

_WRITE_VERBS = (
    r"\b(write|create|build|implement|rewrite|update|edit|fix|refactor|add|modify|change|rename|delete|remove"
    r"|generate|scaffold|migrate|port|patch|apply)\b"
)
_READ_VERBS = (
    r"\b(review|analy[sz]e|explain|audit|summari[sz]e|inspect|read|look at|understand|find|check|assess"
    r"|critique|evaluate|document|describe|compare)\b"
)
# Words that tie a request to the project in the current directory.
_PROJECT_WORDS = (
    r"\b(project|repo|repository|codebase|code base|source|src|code|file|files|module|modules|package"
    r"|function|functions|class|tests?|readme|docs?|directory|folder|here|this app|our app)\b"
    r"|[\w.-]+/[\w./-]*|\b[\w-]+\.(py|js|ts|tsx|go|rs|java|c|h|cpp|md|json|ya?ml|toml|sh|html|css)\b"
)


@dataclass(frozen=True)
class Request:
    task: str
    mode: str = AUTO
    cwd_context: str = AUTO
    has_criteria: bool = False
    preset: str | None = None
    plan_target: str | None = None  # execute-plan / execute-spec: a path, an id or "latest"


@dataclass(frozen=True)
class Decision:
    mode: str
    cwd_context: str  # none | ro | rw
    preset: str | None
    plan_target: str | None
    reasons: tuple[str, ...] = field(default=())


def _search(pattern: str, text: str) -> str | None:
    match = re.search(pattern, text, flags=re.IGNORECASE)
    return match.group(0) if match else None


def infer_mode(task: str) -> tuple[str, str]:
    """The mode the task's words ask for, and why."""
    for mode, pattern in _MODE_RULES:
        word = _search(pattern, task)
        if word:
            return mode, f"mode {mode}: the task says {word!r}"
    return "general", "mode general: no review, plan or spec wording in the task"


def infer_cwd_context(task: str) -> tuple[str, str]:
    """Whether agents need the project in the current directory, read-only or writable, and why."""
    target = _search(_PROJECT_WORDS, task)
    if not target:
        return "none", "cwd context none: the task does not refer to files or the project"
    verb = _search(_WRITE_VERBS, task)
    if verb:
        return (
            "rw",
            f"cwd context rw: the task asks to {verb.lower()!r} something in the project ({target!r})",
        )
    verb = _search(_READ_VERBS, task)
    if verb:
        return (
            "ro",
            f"cwd context ro: the task asks to {verb.lower()!r} the project ({target!r}) without changes",
        )
    return "ro", f"cwd context ro: the task refers to the project ({target!r}) but asks for no change"


def decide(request: Request) -> Decision:
    reasons: list[str] = []
    if request.mode == AUTO:
        mode, why = infer_mode(request.task)
        reasons.append(why)
    else:
        mode = request.mode
        reasons.append(f"mode {mode}: asked for explicitly")

    if request.cwd_context == AUTO:
        cwd_context, why = infer_cwd_context(request.task)
        if mode == "plan-and-execute" and cwd_context != "rw":
            cwd_context, why = "rw", "cwd context rw: plan-and-execute builds in the project"
        reasons.append(why)
    else:
        cwd_context = request.cwd_context
        reasons.append(f"cwd context {cwd_context}: asked for explicitly")

    preset = request.preset
    if mode == "evaluate" and not request.has_criteria and preset is None:
        preset = "evaluation"
        reasons.append("criteria preset evaluation: evaluate mode without custom criteria")
    elif request.has_criteria:
        reasons.append("criteria: the user's file, translated so massgen accepts every value")

    plan_target = request.plan_target
    if mode in EXECUTE_MODES and not plan_target:
        plan_target = "latest"
        reasons.append(f"{mode}: no plan named, so the latest one")
    return Decision(mode, cwd_context, preset, plan_target, tuple(reasons))
