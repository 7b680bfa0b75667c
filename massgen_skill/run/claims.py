"""A path massgen prints, or a run record holds, is a claim: it counts only inside a folder the run owns.

Roots a run owns:
  - its log folder: a `log_*` folder directly under the project's `.massgen/massgen_logs` (or under
    `$MASSGEN_LOG_BASE_DIR/massgen_logs`), new since the launch and not recorded by another run;
  - the project's `.massgen/plans/` for plan and spec folders;
  - its own record folder `.massgen/skill_runs/<run-id>/` (logs, inbox, translated criteria).
Every check resolves the path first (symlinks followed), so a link inside a root that leads out of it fails.
A path holding NUL or an unresolvable name fails too, as a refusal, never as an internal error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from massgen_skill.massgen import layout

LOG_BASE_ENV = "MASSGEN_LOG_BASE_DIR"  # massgen's own override of its log base (contract §4)


def resolved(path: Path | str) -> Path | None:
    """The real path (symlinks followed); None for a path that cannot be one (NUL, a symlink loop)."""
    try:
        return Path(path).resolve()
    except (OSError, ValueError, RuntimeError):  # ValueError: embedded NUL; RuntimeError: loop (3.10-3.12)
        return None


def within(path: Path | str, root: Path | str) -> bool:
    """True when `path` is `root` or lies below it, both resolved."""
    real, real_root = resolved(path), resolved(root)
    return real is not None and real_root is not None and real.is_relative_to(real_root)


def log_bases(project: Path, env: Mapping[str, str]) -> tuple[Path, ...]:
    """The folders massgen creates `log_*` session folders in, for a run started in `project`."""
    bases = [project / layout.LOGS_SUBDIR]
    override = env.get(LOG_BASE_ENV)
    if override:
        bases.append(project / override / layout.LOGS_SUBDIR.name)
    return tuple(real for base in bases if (real := resolved(base)) is not None)


def log_root(path: Path | str, bases: Iterable[Path]) -> Path | None:
    """The `log_*` session folder `path` lies in when that folder sits directly in one of `bases`."""
    real = resolved(path)
    if real is None:
        return None
    root = layout.session_root(real)
    return root if layout.is_session_root(root) and root.parent in set(bases) else None


def plans_root(project: Path) -> Path:
    return project / layout.PLANS_SUBDIR


@dataclass(frozen=True)
class RunRoots:
    """What a run may claim, fixed at launch: the log bases, and the log folders that already existed."""

    project: Path
    bases: tuple[Path, ...]
    existing: frozenset[Path]

    @classmethod
    def before_launch(cls, project: Path, env: Mapping[str, str]) -> RunRoots:
        bases = log_bases(project, env)
        existing = frozenset(_children(bases))
        return cls(project, bases, existing)

    def new_log_root(self, claimed: Path, taken: Iterable[str] = ()) -> Path | None:
        """This run's log folder from massgen's `LOG_DIR:` claim, or None: outside the bases, not a folder,
        there before the launch (another run's), or recorded by another run (`taken`)."""
        root = log_root(claimed, self.bases)
        if root is None or root in self.existing or not root.is_dir():
            return None  # massgen creates its log folder before it prints the line
        others = {real for path in taken if (real := resolved(path)) is not None}
        return None if root in others else root

    def fresh(self) -> list[Path]:
        """Log folders created since the launch (a continued session prints no LOG_DIR: we look)."""
        return sorted(
            p for p in _children(self.bases) if p not in self.existing and layout.is_session_root(p)
        )

    def plan_path(self, claimed: Path) -> Path | None:
        """A plan or spec folder claim, resolved, when it lies in the project's `.massgen/plans/`."""
        return resolved(claimed) if within(claimed, plans_root(self.project)) else None


def _children(bases: Iterable[Path]) -> Iterable[Path]:
    for base in bases:
        try:
            yield from (child.resolve() for child in base.iterdir())
        except OSError:
            continue
