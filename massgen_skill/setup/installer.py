"""Put the skill bundle into a coding agent's skills folder, keep it up to date, and take it out again.

The bundle: SKILL.md, scripts/, references/ and the massgen_skill package (no tests, no caches). It comes
from the folder above this package when that folder holds SKILL.md (a checkout, or an installed skill
folder), else from `massgen_skill/_bundle/`, which the wheel build fills (setup.py).

An installed folder holds `.massgen-skill-install.json`: the hash of every file written. It is how `install`
knows the folder is its own (and so may update it) and how `uninstall` knows what to remove: only listed,
unmodified files; anything else is left in place and reported. `--link` makes a symlink to the source
folder instead (no manifest: the link itself is what was installed).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from massgen_skill import PACKAGE_DIR, __version__, atomic
from massgen_skill.exitcodes import ExitCode, SkillError

SKILL_NAME = "massgen"  # the folder name, equal to `name:` in SKILL.md (Agent Skills spec)
MANIFEST = ".massgen-skill-install.json"
PACKAGE = "massgen_skill"
BUNDLE_DIR = "_bundle"  # inside the package, in a wheel
BUNDLE_ITEMS = ("SKILL.md", "scripts", "references")  # besides the package itself
_SKIP_DIRS = frozenset({"__pycache__", BUNDLE_DIR, ".pytest_cache", ".ruff_cache"})
_SKIP_SUFFIXES = (".pyc", ".pyo")

# agent -> (user-level skills folder under $HOME, project-level skills folder under the project)
AGENT_DIRS: dict[str, tuple[str, str]] = {
    "claude-code": (".claude/skills", ".claude/skills"),
    "codex": (".codex/skills", ".agents/skills"),
    "cursor": (".cursor/skills", ".cursor/skills"),
    "gemini": (".gemini/skills", ".gemini/skills"),
    "copilot": (".copilot/skills", ".github/skills"),
    "agents": (".agents/skills", ".agents/skills"),
}


@dataclass(frozen=True)
class Bundle:
    root: Path  # holds SKILL.md, scripts/, references/
    package: Path  # the massgen_skill package shipped beside them
    kind: str  # "folder" (checkout or skill folder: can be linked) | "wheel" (copy only)

    def files(self) -> dict[str, Path]:
        """Relative path in the installed folder -> source file, sorted."""
        found: dict[str, Path] = {}
        for item in BUNDLE_ITEMS:
            source = self.root / item
            if source.is_file():
                found[item] = source
            elif source.is_dir():
                for path in _walk(source):
                    found[f"{item}/{path.relative_to(source).as_posix()}"] = path
        for path in _walk(self.package):
            found[f"{PACKAGE}/{path.relative_to(self.package).as_posix()}"] = path
        return dict(sorted(found.items()))


def _walk(folder: Path) -> Iterator[Path]:
    for current, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
        for name in sorted(names):
            if not name.endswith(_SKIP_SUFFIXES) and name != MANIFEST:
                yield Path(current) / name


def locate_bundle(package_dir: Path | None = None) -> Bundle:
    """The folder above the package when it holds the skill (checkout first), else the packaged copy."""
    package = (package_dir or PACKAGE_DIR).resolve()
    root = package.parent
    if (root / "SKILL.md").is_file() and (root / "scripts").is_dir():
        return Bundle(root, package, "folder")
    packaged = package / BUNDLE_DIR
    if (packaged / "SKILL.md").is_file():
        return Bundle(packaged, package, "wheel")
    raise SkillError(
        f"no skill bundle beside {package} (no SKILL.md above it, no {BUNDLE_DIR}/ inside it); "
        "install massgen-skill from a checkout with `pip install .`",
        ExitCode.ENV_NOT_READY,
    )


def skills_dir(agent: str | None, project: bool, dest: str | None, home: Path, cwd: Path) -> Path:
    """Where the skill folder goes: --dest, else the agent's user-level or project-level skills folder."""
    if dest:
        return Path(dest).expanduser().resolve()
    if agent is None:
        raise SkillError("say which agent with --agent (or give the skills folder with --dest)")
    user_dir, project_dir = AGENT_DIRS[agent]
    if project:
        return (cwd / project_dir).resolve()
    if agent == "codex" and os.environ.get("CODEX_HOME"):
        return Path(os.environ["CODEX_HOME"]).expanduser().resolve() / "skills"
    return home / user_dir


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def _safe_rel(rel: str) -> bool:
    parts = Path(rel).parts
    return bool(parts) and not Path(rel).is_absolute() and ".." not in parts


def read_manifest(folder: Path) -> dict[str, object] | None:
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
        return None
    return data


def manifest_files(manifest: Mapping[str, object] | None) -> dict[str, str]:
    files = manifest.get("files") if manifest else None
    if not isinstance(files, dict):
        return {}
    return {k: v for k, v in files.items() if isinstance(k, str) and isinstance(v, str) and _safe_rel(k)}


def all_files(folder: Path) -> list[str]:
    if not folder.is_dir() or folder.is_symlink():
        return []
    found = []
    for current, dirs, names in os.walk(folder):
        dirs.sort()
        for name in sorted(names):
            found.append((Path(current) / name).relative_to(folder).as_posix())
    return sorted(found)


def is_skill_source(folder: Path) -> bool:
    """A folder massgen-skill could have linked: the skill's SKILL.md, scripts and package."""
    return (
        (folder / "SKILL.md").is_file()
        and (folder / "scripts" / "massgen_skill.sh").is_file()
        and (folder / PACKAGE / "__init__.py").is_file()
    )


@dataclass
class Outcome:
    action: str  # installed | updated | up-to-date | linked | removed | not-installed | would-…
    dest: str
    mode: str  # copy | link
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    kept_modified: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)  # files not ours, left in place
    files: int = 0
    source: str | None = None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _refuse(message: str) -> SkillError:
    return SkillError(message, ExitCode.REFUSED)


def _write_file(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    mode = 0o755 if (os.access(source, os.X_OK) or target.suffix == ".sh") else 0o644
    with atomic.open_atomic(target, binary=True, mode=mode) as out, open(source, "rb") as src:
        for block in iter(lambda: src.read(1 << 16), b""):
            out.write(block)


def _remove_files(folder: Path, rels: list[str]) -> None:
    """Delete these files, then the folders they leave empty (deepest first; never a non-empty one)."""
    parents: set[Path] = set()
    for rel in rels:
        with contextlib.suppress(FileNotFoundError):
            (folder / rel).unlink()
        parents.update(p for p in (folder / rel).parents if p != folder and folder in p.parents)
    for parent in sorted(parents, key=lambda p: len(p.parts), reverse=True):
        with contextlib.suppress(OSError):
            parent.rmdir()


def install_copy(
    bundle: Bundle, dest: Path, *, force: bool, dry_run: bool, info: Mapping[str, object]
) -> Outcome:
    sources = bundle.files()
    wanted = {rel: sha256(path) for rel, path in sources.items()}
    outcome = Outcome("installed", str(dest), "copy", files=len(wanted), source=str(bundle.root))
    if dest.is_symlink():
        if not (is_skill_source(dest.resolve()) or force):
            raise _refuse(f"{dest} is a symlink massgen-skill did not make; use --force to replace the link")
        if not dry_run:
            dest.unlink()
    elif dest.exists() and not dest.is_dir():
        raise _refuse(f"{dest} exists and is not a folder; move it away first")
    manifest = read_manifest(dest) if dest.is_dir() and not dest.is_symlink() else None
    present = set(all_files(dest)) - {MANIFEST} if not dest.is_symlink() else set()
    if manifest is None and present and not force:
        raise _refuse(
            f"{dest} exists and was not installed by massgen-skill (no {MANIFEST}); use --force to write "
            "the skill over it (files that are not the skill's stay), or choose another --dest"
        )
    old = manifest_files(manifest)
    clashes = [r for r in wanted if r in present and r not in old and sha256(dest / r) != wanted[r]]
    if clashes and manifest is not None and not force:
        raise _refuse(f"{dest} has files massgen-skill did not write: {', '.join(clashes[:5])}; use --force")
    for rel, digest in wanted.items():
        if rel not in present or sha256(dest / rel) != digest or not _mode_ok(dest / rel, sources[rel]):
            outcome.written.append(rel)
    for rel, digest in old.items():
        if rel in wanted or rel not in present:
            continue
        (outcome.removed if sha256(dest / rel) == digest else outcome.kept_modified).append(rel)
    outcome.foreign = sorted(present - set(wanted) - set(old))
    if manifest is not None and not outcome.written and not outcome.removed and old == wanted:
        outcome.action = "up-to-date"
        return outcome
    outcome.action = "updated" if manifest is not None else "installed"
    if dry_run:
        outcome.action = f"would-{'update' if manifest is not None else 'install'}"
        return outcome
    for rel in outcome.written:
        _write_file(sources[rel], dest / rel)
    _remove_files(dest, outcome.removed)
    record = {
        "installer": "massgen-skill",
        "version": __version__,
        "skill": SKILL_NAME,
        **info,
        "source": str(bundle.root),
        "source_kind": bundle.kind,
        "installed_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "files": wanted,
    }
    dest.mkdir(parents=True, exist_ok=True)
    atomic.write_text(dest / MANIFEST, json.dumps(record, indent=2) + "\n")
    return outcome


def _mode_ok(target: Path, source: Path) -> bool:
    wants_exec = os.access(source, os.X_OK) or target.suffix == ".sh"
    return not wants_exec or os.access(target, os.X_OK)


def install_link(bundle: Bundle, dest: Path, *, force: bool, dry_run: bool) -> Outcome:
    if bundle.kind != "folder" or not is_skill_source(bundle.root):
        raise _refuse(
            f"--link needs a source folder that holds the whole skill (a checkout); {bundle.root} is the "
            "copy inside an installed package: install without --link"
        )
    target = bundle.root.resolve()
    outcome = Outcome("linked", str(dest), "link", files=len(bundle.files()), source=str(target))
    if dest.is_symlink():
        current = dest.resolve()
        if current == target:
            outcome.action = "up-to-date"
            return outcome
        if not (is_skill_source(current) or force):
            raise _refuse(f"{dest} is a symlink massgen-skill did not make; use --force to replace the link")
        if not dry_run:
            dest.unlink()
    elif dest.exists():
        if not dest.is_dir():
            raise _refuse(f"{dest} exists and is not a folder; move it away first")
        manifest = read_manifest(dest)
        old = manifest_files(manifest)
        present = set(all_files(dest)) - {MANIFEST}
        if manifest is None and present:
            raise _refuse(
                f"{dest} exists and was not installed by massgen-skill; a link would replace it, and "
                "massgen-skill never deletes files it did not write: move the folder away first"
            )
        leftovers = sorted(r for r in present if r not in old or sha256(dest / r) != old[r])
        if leftovers:
            raise _refuse(
                f"{dest} holds files massgen-skill did not write (or that were edited): "
                f"{', '.join(leftovers[:5])}; move them away first, then link"
            )
        if not dry_run:
            uninstall(dest, force=False, dry_run=False)
    if dry_run:
        outcome.action = "would-link"
        return outcome
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, dest, target_is_directory=True)
    return outcome


def uninstall(dest: Path, *, force: bool, dry_run: bool) -> Outcome:
    """Remove what `install` put at `dest`: the link, or the manifest's unmodified files."""
    if dest.is_symlink():
        outcome = Outcome("removed", str(dest), "link", source=os.readlink(dest))
        if not (is_skill_source(dest.resolve()) or force):
            raise _refuse(f"{dest} is a symlink massgen-skill did not make; left in place (--force: unlink)")
        if dry_run:
            outcome.action = "would-remove"
        else:
            dest.unlink()
        return outcome
    if not dest.exists():
        return Outcome("not-installed", str(dest), "copy")
    if not dest.is_dir():
        raise _refuse(f"{dest} is not a folder massgen-skill installed; left in place")
    manifest = read_manifest(dest)
    if manifest is None:
        raise _refuse(f"{dest} was not installed by massgen-skill (no {MANIFEST}); nothing removed")
    old = manifest_files(manifest)
    outcome = Outcome("removed", str(dest), "copy", files=len(old), source=str(manifest.get("source")))
    present = set(all_files(dest)) - {MANIFEST}
    for rel, digest in old.items():
        if rel not in present:
            continue
        if force or sha256(dest / rel) == digest:
            outcome.removed.append(rel)
        else:
            outcome.kept_modified.append(rel)
    outcome.foreign = sorted(present - set(old))
    if dry_run:
        outcome.action = "would-remove"
        return outcome
    _remove_files(dest, outcome.removed)
    if outcome.kept_modified:  # still ours: a later `uninstall --force` or `install` knows them
        kept = {rel: old[rel] for rel in outcome.kept_modified}
        atomic.write_text(dest / MANIFEST, json.dumps({**manifest, "files": kept}, indent=2) + "\n")
    else:
        (dest / MANIFEST).unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            dest.rmdir()  # only when nothing else is left
    return outcome
