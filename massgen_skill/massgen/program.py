"""Find the `massgen` program before launching it, and say how to install it when it is missing.

Order: `$MASSGEN_BIN`, `massgen` on PATH, the private environment `first-run` installs into, `uv run massgen`
inside a uv project that has it, `uvx`.
No process is started here: the checks read the file system only, so a run pays nothing for them.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from massgen_skill.exitcodes import ExitCode, SkillError
from massgen_skill.massgen import private_env
from massgen_skill.massgen.version import MASSGEN_VERSION

INSTALL_HINT = f"massgen-skill first-run (or: pip install massgen=={MASSGEN_VERSION} 'mcp<2')"
MCP_FIX = "pip install 'mcp<2'  (massgen 0.1.97 fails to import with mcp 2.x)"


@dataclass(frozen=True)
class MassgenProgram:
    argv: tuple[str, ...]  # the program part of the command line
    how: str  # MASSGEN_BIN | PATH | private | uv | uvx
    path: str | None  # the massgen script, when it is a file we can see
    interpreter: str | None  # the Python that runs it (from its shebang)


def _first_line(script: Path) -> str | None:
    """The first line of a regular file; None for anything else. A FIFO or device (MASSGEN_BIN=/dev/zero)
    must not hang us: the open does not wait for a writer and the type is checked before reading."""
    try:
        fd = os.open(script, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return None
    with open(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        try:
            return handle.readline(512).decode("utf-8", "replace").strip()
        except OSError:
            return None


def _shebang_python(script: Path) -> str | None:
    first = _first_line(script)
    if first is None:
        return None
    if not first.startswith("#!"):
        return None
    parts = first[2:].split()
    if not parts:
        return None
    if Path(parts[0]).name == "env" and len(parts) > 1:
        return shutil.which(parts[-1])
    return parts[0] if "python" in Path(parts[0]).name else None


def _program(path: str, how: str) -> MassgenProgram:
    return MassgenProgram((path,), how, path, _shebang_python(Path(path)))


def _uv_project_with_massgen(cwd: Path) -> bool:
    for folder in (cwd, *cwd.parents):
        lock = folder / "uv.lock"
        if lock.is_file():
            try:
                return re.search(r'^name = "massgen"$', lock.read_text(errors="replace"), re.M) is not None
            except OSError:
                return False
        if (folder / "pyproject.toml").is_file():
            return False
    return False


def find_massgen(env: Mapping[str, str] | None = None, cwd: Path | None = None) -> MassgenProgram:
    env = os.environ if env is None else env
    cwd = cwd or Path.cwd()
    path_var = env.get("PATH", os.defpath)
    explicit = env.get("MASSGEN_BIN")
    if explicit:
        resolved = explicit if os.sep in explicit else shutil.which(explicit, path=path_var)
        if not resolved or not os.access(resolved, os.X_OK) or not Path(resolved).is_file():
            raise SkillError(
                f"MASSGEN_BIN={explicit!r} is not an executable file; unset it or point it at massgen",
                ExitCode.ENV_NOT_READY,
            )
        return _program(resolved, "MASSGEN_BIN")
    found = shutil.which("massgen", path=path_var)
    if found:
        return _program(found, "PATH")
    private = private_env.ready(env)
    if private:
        return _program(str(private.massgen), "private")
    uv = shutil.which("uv", path=path_var)
    if uv and _uv_project_with_massgen(cwd):
        return MassgenProgram((uv, "run", "massgen"), "uv", None, None)
    uvx = shutil.which("uvx", path=path_var)
    if uvx:
        # Pinned: the skill is built against 0.1.97's behaviour, and 0.1.97 needs mcp < 2.
        return MassgenProgram((uvx, "--with", "mcp<2", f"massgen=={MASSGEN_VERSION}"), "uvx", None, None)
    raise SkillError(
        f"massgen not found (no MASSGEN_BIN, not on PATH, no uv/uvx); install it: {INSTALL_HINT}",
        ExitCode.ENV_NOT_READY,
    )


def site_packages(program: MassgenProgram) -> list[Path]:
    """site-packages folders of the venv that holds the massgen script, found without running Python."""
    if not program.path:
        return []
    venv = Path(program.path).resolve().parent.parent
    return sorted(venv.glob("lib/python3*/site-packages"))


def installed_version(program: MassgenProgram, dist: str) -> str | None:
    """Version of a distribution in massgen's venv, read from its dist-info folder name."""
    pattern = re.compile(rf"^{re.escape(dist)}-([^-]+)\.dist-info$", re.IGNORECASE)
    for folder in site_packages(program):
        for entry in folder.glob(f"{dist}-*.dist-info"):
            match = pattern.match(entry.name)
            if match:
                return match.group(1)
    return None


def broken_mcp(program: MassgenProgram) -> str | None:
    """The known broken install: massgen 0.1.97 with mcp 2.x fails at import (contract, Known pitfalls)."""
    mcp = installed_version(program, "mcp")
    if mcp and mcp.split(".")[0].isdigit() and int(mcp.split(".")[0]) >= 2:
        return (
            f"mcp {mcp} is installed beside massgen, and massgen 0.1.97 cannot import with it; fix: {MCP_FIX}"
        )
    return None
