"""Put the skill bundle into a coding agent's skills folder, keep it up to date, and take it out again.

The bundle: SKILL.md, scripts/, references/, agents/ and the massgen_skill package (no tests, no caches).
It comes from the folder above this package when that folder holds SKILL.md (a checkout, or an installed
skill folder), else from `massgen_skill/_bundle/`, which the wheel build fills (setup.py).

An installed folder holds `.massgen-skill-install.json`: the hash of every file written. It is how `install`
knows the folder is its own (and so may update it) and how `uninstall` knows what to remove: only listed,
unmodified files, and the `__pycache__` Python made for them; anything else is left in place and reported.
A folder that is not ours is never written into: `--force` first moves it aside to a dated backup.
`--link` makes a symlink to the source folder instead (no manifest: the link itself is what was installed).
It also holds `.massgen-skill-python`: the interpreter of the environment the package was installed into,
which the entry scripts try first (scripts/_skill_python.sh).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath

from massgen_skill import PACKAGE_DIR, __version__, atomic
from massgen_skill.exitcodes import ExitCode, SkillError

SKILL_NAME = "massgen"  # the folder name, equal to `name:` in SKILL.md (Agent Skills spec)
MANIFEST = ".massgen-skill-install.json"
PYTHON_RECORD = ".massgen-skill-python"  # read by scripts/_skill_python.sh: keep the two names equal
PACKAGE = "massgen_skill"
BUNDLE_DIR = "_bundle"  # inside the package, in a wheel
BUNDLE_ITEMS = ("SKILL.md", "scripts", "references", "agents")  # besides the package itself
BACKUPS_DIR = "massgen-skill-backups"  # beside the skills folder, so no agent loads a backup as a skill
CACHE_DIR = "__pycache__"
_SKIP_DIRS = frozenset({CACHE_DIR, BUNDLE_DIR, ".pytest_cache", ".ruff_cache"})
_SKIP_SUFFIXES = (".pyc", ".pyo")


@dataclass(frozen=True)
class Host:
    """A coding agent that loads Agent Skills, and the folders its documentation names."""

    name: str
    user_dir: str  # under $HOME
    project_dir: str  # under the current folder
    docs: str  # the page these folders come from
    legacy_user_dirs: tuple[str, ...] = ()  # older documented folders: `uninstall` still looks there


# Documentation pages too long for one table line.
_CODEX_DOCS = "https://developers.openai.com/codex/skills"
_COPILOT_DOCS = "https://docs.github.com/en/copilot/concepts/agents/about-agent-skills"
_WINDSURF_DOCS = "https://docs.windsurf.com/windsurf/cascade/skills"
_GOOSE_DOCS = "https://block.github.io/goose/docs/guides/context-engineering/using-skills"

HOSTS: tuple[Host, ...] = (
    Host("claude-code", ".claude/skills", ".claude/skills", "https://code.claude.com/docs/en/skills"),
    # Codex reads $HOME/.agents/skills and <repo>/.agents/skills; ~/.codex/skills ($CODEX_HOME/skills)
    # was its folder before, so copies installed there are still found by `uninstall`.
    Host("codex", ".agents/skills", ".agents/skills", _CODEX_DOCS, (".codex/skills",)),
    Host("cursor", ".cursor/skills", ".cursor/skills", "https://cursor.com/docs/context/skills"),
    Host("gemini", ".gemini/skills", ".gemini/skills", "https://geminicli.com/docs/cli/skills/"),
    Host("copilot", ".copilot/skills", ".github/skills", _COPILOT_DOCS),
    Host("agents", ".agents/skills", ".agents/skills", "https://agentskills.io/client-implementation"),
    # OpenCode: ~/.config/opencode/skills and .opencode/skills (it also reads the .claude and .agents ones)
    Host("opencode", ".config/opencode/skills", ".opencode/skills", "https://opencode.ai/docs/skills/"),
    # Windsurf (Cascade): global ~/.codeium/windsurf/skills, workspace .windsurf/skills
    Host("windsurf", ".codeium/windsurf/skills", ".windsurf/skills", _WINDSURF_DOCS),
    # goose: ~/.agents/skills and .agents/skills are its recommended folders (the same as `agents`)
    Host("goose", ".agents/skills", ".agents/skills", _GOOSE_DOCS),
    # Amp: ~/.config/agents/skills (global) and .agents/skills (workspace)
    Host("amp", ".config/agents/skills", ".agents/skills", "https://ampcode.com/manual#agent-skills"),
    # Cline: ~/.cline/skills (global) and .cline/skills (workspace, recommended)
    Host("cline", ".cline/skills", ".cline/skills", "https://docs.cline.bot/customization/skills"),
)
HOST_BY_NAME: dict[str, Host] = {host.name: host for host in HOSTS}


@dataclass(frozen=True)
class Target:
    """Where the user asked for the skill: an agent's folder (user or project level) or --dest."""

    agent: str | None
    project: bool
    dest: str | None


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
            if not name.endswith(_SKIP_SUFFIXES) and name not in (MANIFEST, PYTHON_RECORD):
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


def home_dir(environ: Mapping[str, str]) -> Path:
    """$HOME, which must be an absolute path; unset: the account's home from the password database."""
    if "HOME" not in environ:
        return Path.home()
    home = environ["HOME"]
    if not home or not os.path.isabs(home):
        shown = "empty" if not home else f"the relative path {home!r}"
        raise SkillError(
            f"HOME is {shown}; set HOME to your home folder (an absolute path) or give the skills "
            "folder with --dest DIR",
            ExitCode.ENV_NOT_READY,
        )
    return Path(home)


def skills_dir(target: Target, environ: Mapping[str, str], cwd: Path) -> Path:
    """Where the skill folder goes: --dest, else the agent's user-level or project-level skills folder."""
    if target.dest:
        dest = target.dest
        if dest == "~" or dest.startswith("~/"):  # our checked HOME, not expanduser's silent fallback
            dest = str(home_dir(environ)) + dest[1:]
        return (cwd / Path(dest).expanduser()).resolve()
    if target.agent is None:
        raise SkillError("say which agent with --agent (or give the skills folder with --dest)")
    host = HOST_BY_NAME[target.agent]
    if target.project:
        return (cwd / host.project_dir).resolve()
    return home_dir(environ) / host.user_dir


def legacy_skill_folders(target: Target, environ: Mapping[str, str]) -> list[Path]:
    """Skill folders an older version installed into for this agent (user level only)."""
    if target.dest or target.project or target.agent is None:
        return []
    home = home_dir(environ)
    folders = [home / rel / SKILL_NAME for rel in HOST_BY_NAME[target.agent].legacy_user_dirs]
    if target.agent == "codex" and os.path.isabs(environ.get("CODEX_HOME", "")):
        folders.append(Path(environ["CODEX_HOME"]) / "skills" / SKILL_NAME)
    return list(dict.fromkeys(folders))


def hosts_sharing(folder: Path, environ: Mapping[str, str], cwd: Path) -> list[str]:
    """The agents whose user-level or project-level skills folder is `folder` (one copy serves them all)."""
    names = []
    for host in HOSTS:
        for project in (False, True):
            with contextlib.suppress(SkillError):
                if skills_dir(Target(host.name, project, None), environ, cwd) == folder:
                    names.append(host.name)
    return list(dict.fromkeys(names))


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


def cache_source(rel: str) -> str | None:
    """The module a bytecode cache file was compiled from (`pkg/__pycache__/m.cpython-312.pyc` ->
    `pkg/m.py`), or None when `rel` is not such a file."""
    path = PurePosixPath(rel)
    if path.parent.name != CACHE_DIR or path.suffix not in _SKIP_SUFFIXES:
        return None
    return (path.parent.parent / f"{path.name.split('.', 1)[0]}.py").as_posix()


def _caches_of(present: set[str], sources: set[str]) -> set[str]:
    """The bytecode caches Python wrote for these installed modules (ours to remove, never foreign)."""
    return {rel for rel in present if cache_source(rel) in sources}


def _only_our_leftovers(present: set[str]) -> bool:
    """Bytecode caches under our package and nothing else: what an older uninstall left behind."""
    return bool(present) and all(
        rel.startswith(f"{PACKAGE}/") and cache_source(rel) is not None for rel in present
    )


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
    backup: str | None = None  # where --force moved a folder that was not ours

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _refuse(message: str) -> SkillError:
    return SkillError(message, ExitCode.REFUSED)


def _unwritable(dest: Path, error: OSError) -> SkillError:
    reason = error.strerror or type(error).__name__
    return SkillError(
        f"cannot write into {dest}: {reason}; choose a writable folder with --dest, or fix its permissions",
        ExitCode.ENV_NOT_READY,
    )


def backup_path(dest: Path, stamp: str) -> Path:
    """`<skills folder>/../massgen-skill-backups/massgen-<stamp>`, numbered when that name is taken."""
    base = dest.parent.parent / BACKUPS_DIR / f"{dest.name}-{stamp}"
    candidate, n = base, 1
    while candidate.exists() or candidate.is_symlink():
        n += 1
        candidate = base.with_name(f"{base.name}-{n}")
    return candidate


def move_aside(dest: Path) -> Path:
    """Move a folder that is not ours out of the way, whole, to a dated backup; return where it went."""
    backup = backup_path(dest, time.strftime("%Y%m%d-%H%M%S"))
    try:
        backup.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(dest), str(backup))
    except OSError as error:
        raise _unwritable(backup.parent, error) from error
    return backup


def _write_bytes(data: bytes, target: Path, executable: bool) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic.open_atomic(target, binary=True, mode=0o755 if executable else 0o644) as out:
        out.write(data)


def _wants_exec(source: Path | None, rel: str) -> bool:
    return rel.endswith(".sh") or (source is not None and os.access(source, os.X_OK))


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


def _prune_empty_dirs(folder: Path) -> None:
    """Remove the empty folders under `folder` (deepest first), and `folder` itself when it ends up empty."""
    if not folder.is_dir() or folder.is_symlink():
        return
    for current, _dirs, _names in os.walk(folder, topdown=False):
        with contextlib.suppress(OSError):
            os.rmdir(current)  # fails, harmlessly, on any folder that still holds something


def python_record(python: str) -> bytes:
    """The file that tells the entry scripts which interpreter has this package's dependencies."""
    return f"{python}\n".encode()


@dataclass
class _Plan:
    """What an install compares: wanted digests and where each file's bytes come from."""

    sources: dict[str, Path]
    generated: dict[str, bytes]
    wanted: dict[str, str]

    def data(self, rel: str) -> bytes:
        return self.generated[rel] if rel in self.generated else self.sources[rel].read_bytes()


def _plan(bundle: Bundle, python: str | None) -> _Plan:
    sources = bundle.files()
    generated = {PYTHON_RECORD: python_record(python)} if python else {}
    wanted = {rel: sha256(path) for rel, path in sources.items()}
    wanted.update({rel: hashlib.sha256(data).hexdigest() for rel, data in generated.items()})
    return _Plan(sources, generated, dict(sorted(wanted.items())))


def _clear_link(dest: Path, force: bool, dry_run: bool) -> None:
    if not (is_skill_source(dest.resolve()) or force):
        raise _refuse(f"{dest} is a symlink massgen-skill did not make; use --force to replace the link")
    if not dry_run:
        dest.unlink()  # the link only: the folder it points at is left as it is


def install_copy(
    bundle: Bundle,
    dest: Path,
    *,
    force: bool,
    dry_run: bool,
    info: Mapping[str, object],
    python: str | None = None,
) -> Outcome:
    """Copy the bundle to `dest` (or bring it up to date); never write into a folder that is not ours."""
    plan = _plan(bundle, python)
    wanted = plan.wanted
    outcome = Outcome("installed", str(dest), "copy", files=len(wanted), source=str(bundle.root))
    is_link = dest.is_symlink()
    if is_link:
        _clear_link(dest, force, dry_run)
    elif dest.exists() and not dest.is_dir():
        raise _refuse(f"{dest} exists and is not a folder; move it away first")
    manifest = read_manifest(dest) if dest.is_dir() and not is_link else None
    old = manifest_files(manifest)
    present = set(all_files(dest)) - {MANIFEST} if not is_link else set()
    present -= _caches_of(present, set(old) | set(wanted))
    clashes = sorted(r for r in present if r in wanted and _not_ours(dest / r, old.get(r), wanted[r]))
    foreign_folder = manifest is None and present and not _only_our_leftovers(present)
    if foreign_folder or clashes:
        _refuse_or_move(dest, outcome, clashes, force=force, dry_run=dry_run, foreign=bool(foreign_folder))
        if outcome.backup or dry_run:
            manifest, old, present = None, {}, set()
    _compare(plan, dest, present, old, outcome)
    if manifest is not None and not outcome.written and not outcome.removed and old == wanted:
        outcome.action = "up-to-date"
        return outcome
    outcome.action = "updated" if manifest is not None else "installed"
    if dry_run:
        outcome.action = f"would-{'update' if manifest is not None else 'install'}"
        return outcome
    _apply(plan, dest, outcome, manifest, old, info, bundle)
    return outcome


def _compare(plan: _Plan, dest: Path, present: set[str], old: Mapping[str, str], outcome: Outcome) -> None:
    """Fill in what to write (missing, different, or not executable), remove, keep and leave alone."""
    for rel, digest in plan.wanted.items():
        target = dest / rel
        if rel not in present or sha256(target) != digest or not _mode_ok(target, plan.sources.get(rel), rel):
            outcome.written.append(rel)
    for rel, digest in old.items():
        if rel in plan.wanted or rel not in present:
            continue
        (outcome.removed if sha256(dest / rel) == digest else outcome.kept_modified).append(rel)
    outcome.foreign = sorted(present - set(plan.wanted) - set(old))


def _not_ours(path: Path, installed: str | None, wanted: str) -> bool:
    """A file an update would overwrite that holds someone's content: never written by us, or edited since."""
    digest = sha256(path)
    return digest != wanted and digest != installed


def _refuse_or_move(
    dest: Path, outcome: Outcome, clashes: list[str], *, force: bool, dry_run: bool, foreign: bool
) -> None:
    if not force:
        what = (
            f"{dest} exists and was not installed by massgen-skill (no {MANIFEST})"
            if foreign
            else f"{dest} has files massgen-skill did not write (or edited since): {', '.join(clashes[:5])}"
        )
        raise _refuse(
            f"{what}; use --force to move the folder aside to a dated backup first (nothing is deleted), "
            "or choose another --dest"
        )
    if dry_run:
        outcome.backup = str(backup_path(dest, time.strftime("%Y%m%d-%H%M%S")))
        return
    outcome.backup = str(move_aside(dest))


def _apply(
    plan: _Plan,
    dest: Path,
    outcome: Outcome,
    manifest: Mapping[str, object] | None,
    old: dict[str, str],
    info: Mapping[str, object],
    bundle: Bundle,
) -> None:
    """Write, remove, then record exactly the files now ours; on a write error record what was done."""
    fresh = manifest is None
    done: dict[str, str] = {} if fresh else dict(old)
    try:
        for rel in outcome.written:
            _write_bytes(plan.data(rel), dest / rel, _wants_exec(plan.sources.get(rel), rel))
            done[rel] = plan.wanted[rel]
    except OSError as error:
        if fresh:  # nothing of ours stays half installed in a folder that had nothing of ours
            _remove_files(dest, list(done))
            _prune_empty_dirs(dest)
        elif done:
            with contextlib.suppress(OSError):  # the write error is what the user needs to hear about
                _record(dest, done, info, bundle)
        raise _unwritable(dest, error) from error
    present = set(all_files(dest))
    _remove_files(dest, outcome.removed + sorted(_caches_of(present, set(outcome.removed))))
    try:
        _record(dest, plan.wanted, info, bundle)
    except OSError as error:
        raise _unwritable(dest, error) from error


def _record(dest: Path, files: Mapping[str, str], info: Mapping[str, object], bundle: Bundle) -> None:
    record = {
        "installer": "massgen-skill",
        "version": __version__,
        "skill": SKILL_NAME,
        **info,
        "source": str(bundle.root),
        "source_kind": bundle.kind,
        "installed_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "files": dict(sorted(files.items())),
    }
    dest.mkdir(parents=True, exist_ok=True)
    atomic.write_text(dest / MANIFEST, json.dumps(record, indent=2) + "\n")


def _mode_ok(target: Path, source: Path | None, rel: str) -> bool:
    return not _wants_exec(source, rel) or os.access(target, os.X_OK)


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
        _clear_link(dest, force, dry_run)
    elif dest.exists():
        if not dest.is_dir():
            raise _refuse(f"{dest} exists and is not a folder; move it away first")
        manifest = read_manifest(dest)
        old = manifest_files(manifest)
        present = set(all_files(dest)) - {MANIFEST}
        leftover = manifest is None and _only_our_leftovers(present)
        rest = set() if leftover else present - _caches_of(present, set(old))
        if manifest is None and rest:
            raise _refuse(
                f"{dest} exists and was not installed by massgen-skill; a link would replace it, and "
                "massgen-skill never deletes files it did not write: move the folder away first"
            )
        edited = sorted(r for r in rest if r not in old or sha256(dest / r) != old[r])
        if edited:
            raise _refuse(
                f"{dest} holds files massgen-skill did not write (or that were edited): "
                f"{', '.join(edited[:5])}; move them away first, then link"
            )
        if not dry_run:  # everything left is ours: installed files, their caches, the manifest
            _remove_files(dest, sorted(present | {MANIFEST}))
            _prune_empty_dirs(dest)
    if dry_run:
        outcome.action = "would-link"
        return outcome
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, dest, target_is_directory=True)
    except OSError as error:
        raise _unwritable(dest.parent, error) from error
    return outcome


def uninstall(dest: Path, *, force: bool, dry_run: bool) -> Outcome:
    """Remove what `install` put at `dest`: the link, or the manifest's unmodified files and their caches."""
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
    present = set(all_files(dest)) - {MANIFEST}
    if manifest is None and not _only_our_leftovers(present):
        raise _refuse(f"{dest} was not installed by massgen-skill (no {MANIFEST}); nothing removed")
    old = manifest_files(manifest)
    source = str(manifest.get("source")) if manifest else None
    outcome = Outcome("removed", str(dest), "copy", files=len(old), source=source)
    caches = _caches_of(present, set(old)) if manifest is not None else set(present)
    present -= caches
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
    try:
        _finish_uninstall(dest, outcome, manifest, old, caches)
    except OSError as error:
        raise _unwritable(dest, error) from error
    return outcome


def _finish_uninstall(
    dest: Path, outcome: Outcome, manifest: Mapping[str, object] | None, old: dict[str, str], caches: set[str]
) -> None:
    _remove_files(dest, outcome.removed + sorted(caches))
    if outcome.kept_modified and manifest is not None:  # still ours: a later `uninstall --force` knows them
        kept = {rel: old[rel] for rel in outcome.kept_modified}
        atomic.write_text(dest / MANIFEST, json.dumps({**manifest, "files": kept}, indent=2) + "\n")
    else:
        (dest / MANIFEST).unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            dest.rmdir()  # only when nothing else is left


def current_python() -> str:
    """The interpreter running this install: the environment the package and its dependencies are in."""
    return sys.executable
