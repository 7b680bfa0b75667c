"""Which run a review command acts on: a run record (id, prefix, path, 'latest') or a massgen LOG_DIR."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from massgen_skill.exitcodes import ExitCode, SkillError
from massgen_skill.massgen import layout
from massgen_skill.run import records


@dataclass
class ReviewTarget:
    """A run to watch or decide on: its session root (log_<ts>), its record when it has one, its port."""

    project: Path
    root: Path | None  # None while a just-started run has not printed LOG_DIR yet
    record: records.RunRecord | None = None
    port: int | None = None  # the real web UI port (massgen's own files always say the default one)

    @property
    def label(self) -> str:
        return self.record.run_id if self.record else str(self.root)

    def attempt(self) -> Path | None:
        return layout.newest_attempt(self.root) if self.root else None

    def reload(self) -> None:
        """Re-read the record (a starting run gets its LOG_DIR and port later)."""
        if self.record is None:
            return
        self.record = records.load(self.record.path)
        if self.record.log_dir:
            self.root = Path(self.record.log_dir)
        if self.record.web_port and self.port is None:
            self.port = self.record.web_port


def project_of(root: Path) -> Path | None:
    """The project of a log dir in massgen's default place, <project>/.massgen/massgen_logs/log_<ts>."""
    if (
        root.parent.name == layout.LOGS_SUBDIR.name
        and root.parent.parent.name == layout.LOGS_SUBDIR.parent.name
    ):
        return root.parent.parent.parent
    return None


def _same_dir(a: str | Path, b: Path) -> bool:
    try:
        return Path(a).resolve() == b.resolve()
    except OSError:
        return False


def record_for_log_dir(root: Path, projects: list[Path]) -> records.RunRecord | None:
    """The newest record (in any of `projects`) whose log_dir is this session root."""
    found = [
        rec
        for project in dict.fromkeys(projects)
        for rec in records.list_records(project)
        if rec.log_dir and _same_dir(rec.log_dir, root)
    ]
    return found[-1] if found else None


def looks_like_path(ref: str) -> bool:
    return "/" in ref or ref.startswith(".") or Path(ref).exists()


def resolve_target(ref: str | None, project: Path, port: int | None = None) -> ReviewTarget:
    """RUN (id, prefix, record path, 'latest'/None) or a LOG_DIR (session root, turn or attempt dir)."""
    if ref and not ref.endswith(".json") and looks_like_path(ref):
        target = _log_dir_target(ref, project, port)
    else:
        record = records.resolve_run(ref, project)
        root = Path(record.log_dir) if record.log_dir else None
        target = ReviewTarget(Path(record.project_dir), root, record, port)
    if target.port is None and target.record is not None:
        target.port = target.record.web_port
    return target


def _log_dir_target(ref: str, project: Path, port: int | None) -> ReviewTarget:
    path = Path(ref).expanduser()
    if not path.is_dir():
        raise SkillError(f"no such LOG_DIR: {ref}", ExitCode.NOT_FOUND)
    root = layout.session_root(path.resolve())
    if not root.name.startswith(layout.ROOT_PREFIX) and not layout.turns(root):
        raise SkillError(
            f"{ref} is not a massgen log dir (expected …/.massgen/massgen_logs/log_<ts>)", ExitCode.NOT_FOUND
        )
    home = project_of(root)
    record = record_for_log_dir(root, [p for p in (home, project) if p is not None])
    return ReviewTarget(home or project, root, record, port)
