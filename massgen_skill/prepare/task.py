"""The task as one argument of massgen's command line: checked before anything else runs or launches.

Linux caps one argument at 128 KiB (MAX_ARG_STRLEN): a longer task fails in exec with `Argument list too
long`. A lone surrogate (bytes that are not UTF-8, from argv or a task file) is rejected by massgen only after
its ~15 s start.
"""

from __future__ import annotations

from massgen_skill.exitcodes import ExitCode, SkillError

MAX_TASK_BYTES = 100 * 1024  # below the kernel's 128 KiB, leaving room for the plan prefix massgen adds


def check_task(task: str) -> None:
    """Refuse (exit 2) a task massgen cannot take as its prompt argument."""
    size = len(task.encode("utf-8", "surrogatepass"))
    if size > MAX_TASK_BYTES:
        raise SkillError(
            f"task: {size} bytes, more than {MAX_TASK_BYTES} (100 KiB) fit in one argument; put the details "
            "in a file in the project and give a short task that names it",
            ExitCode.USAGE,
        )
    try:
        task.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise SkillError(
            f"task: not valid UTF-8 at character {exc.start + 1} ({task[exc.start]!a}); "
            "save the task (or --task-file) as UTF-8",
            ExitCode.USAGE,
        ) from None
