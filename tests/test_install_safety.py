"""The installer keeps what it did not write: backups, invalid HOME, unwritable folders, its own caches, and
the Python it records for the installed skill's scripts."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from install_helpers import cli_json

from massgen_skill import atomic
from massgen_skill.cli import main
from massgen_skill.exitcodes import ExitCode
from massgen_skill.setup.installer import MANIFEST, PYTHON_RECORD, cache_source

VALID_CRITERIA = {
    "aspiration": "A runbook an on-call engineer can follow half asleep.",
    "criteria": [
        {
            "text": "Every step runs exactly as written on a fresh machine.",
            "category": "primary",
            "anti_patterns": ["placeholders", "unstated setup"],
        },
        {
            "text": "A rollback path exists for each change.",
            "category": "standard",
            "anti_patterns": ["no rollback", "a rollback that drops data"],
        },
        {
            "text": "Each command says why it is there.",
            "category": "standard",
            "anti_patterns": ["bare command lists", "jargon"],
        },
    ],
}


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("CODEX_HOME", raising=False)
    monkeypatch.chdir(project)
    return home


def files_under(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def skill_env(home: Path, **extra: str) -> dict[str, str]:
    """A user's shell: no massgen on PATH, only the system tools; bytecode writing left on (the default)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "MASSGEN"))}
    env.update(HOME=str(home), PATH="/usr/bin:/bin", **extra)
    return env


# --- --force never loses the user's files -----------------------------------------------------------------


def test_force_backs_up_a_foreign_folder_and_a_later_uninstall_keeps_it(home, capsys):
    dest = home / ".cline" / "skills" / "massgen"
    dest.mkdir(parents=True)
    (dest / "SKILL.md").write_text("my own massgen notes\n")
    (dest / "sub").mkdir()
    (dest / "sub" / "keep.txt").write_text("keep\n")

    assert main(["install", "--agent", "cline", "--force"]) == 0
    out = capsys.readouterr().out
    backups = list((home / ".cline" / "massgen-skill-backups").iterdir())
    assert len(backups) == 1 and backups[0].name.startswith("massgen-")
    assert f"to: {backups[0]}" in out
    assert (backups[0] / "SKILL.md").read_text() == "my own massgen notes\n"
    assert (backups[0] / "sub" / "keep.txt").read_text() == "keep\n"
    recorded = json.loads((dest / MANIFEST).read_text())["files"]
    assert "sub/keep.txt" not in recorded

    assert main(["uninstall", "--agent", "cline"]) == 0
    assert not dest.exists()
    assert (backups[0] / "SKILL.md").read_text() == "my own massgen notes\n"


def test_force_dry_run_names_the_backup_and_moves_nothing(home, capsys):
    dest = home / ".codeium" / "windsurf" / "skills" / "massgen"
    dest.mkdir(parents=True)
    (dest / "SKILL.md").write_text("theirs\n")
    code, data = cli_json(capsys, "install", "--agent", "windsurf", "--force", "--dry-run")
    assert code == 0 and data["action"] == "would-install" and data["backup"]
    assert (dest / "SKILL.md").read_text() == "theirs\n" and not Path(data["backup"]).exists()


def test_a_clashing_file_in_our_folder_is_refused_then_moved_aside_with_the_folder(home, capsys):
    assert main(["install", "--agent", "opencode"]) == 0
    dest = home / ".config" / "opencode" / "skills" / "massgen"
    manifest = json.loads((dest / MANIFEST).read_text())
    del manifest["files"]["references/criteria_guide.md"]  # as if the user had put that file there
    (dest / MANIFEST).write_text(json.dumps(manifest))
    (dest / "references" / "criteria_guide.md").write_text("the user's guide\n")
    capsys.readouterr()
    assert main(["install", "--agent", "opencode"]) == ExitCode.REFUSED
    assert "references/criteria_guide.md" in capsys.readouterr().err
    code, data = cli_json(capsys, "install", "--agent", "opencode", "--force")
    assert code == 0 and (Path(data["backup"]) / "references" / "criteria_guide.md").read_text() == (
        "the user's guide\n"
    )


def test_a_second_backup_the_same_second_gets_its_own_name(home, capsys):
    for n in range(2):
        dest = home / ".cursor" / "skills" / "massgen"
        if dest.exists():
            shutil.rmtree(dest)
        dest.mkdir(parents=True)
        (dest / "SKILL.md").write_text(f"theirs {n}\n")
        assert main(["install", "--agent", "cursor", "--force"]) == 0
    backups = sorted((home / ".cursor" / "massgen-skill-backups").iterdir())
    assert {(b / "SKILL.md").read_text() for b in backups} == {"theirs 0\n", "theirs 1\n"}


# --- HOME and unwritable folders are user errors ----------------------------------------------------------


@pytest.mark.parametrize("value", ["", "relative/home"])
def test_an_empty_or_relative_home_is_a_one_line_error_and_writes_nothing(value, home, capsys, monkeypatch):
    monkeypatch.setenv("HOME", value)
    cwd = Path.cwd()
    for command in ("install", "uninstall"):
        assert main([command, "--agent", "claude-code"]) == ExitCode.ENV_NOT_READY
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "HOME" in err and "--dest" in err
    assert not any(cwd.iterdir())
    assert not Path("/.claude/skills/massgen").exists()
    code, data = cli_json(capsys, "install", "--agent", "claude-code", "--project")
    assert code == 0 and data["dest"] == str(cwd / ".claude" / "skills" / "massgen")


def test_tilde_in_dest_uses_the_checked_home(home, capsys, monkeypatch):
    code, data = cli_json(capsys, "install", "--dest", "~/my-skills")
    assert code == 0 and data["dest"] == str(home / "my-skills" / "massgen")
    monkeypatch.setenv("HOME", "")
    assert main(["install", "--dest", "~/my-skills"]) == ExitCode.ENV_NOT_READY


def test_a_destination_under_a_file_is_a_user_error(home, capsys, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    assert main(["install", "--dest", str(blocker / "skills")]) == ExitCode.ENV_NOT_READY
    err = capsys.readouterr().err
    assert err.startswith("massgen-skill: error: cannot write into") and err.count("\n") == 1


def test_a_write_error_midway_leaves_nothing_half_installed(home, capsys, monkeypatch):
    real = atomic.open_atomic

    def failing(target, *args, **kwargs):  # the first file of a new subfolder hits a read-only disk
        if target.parent.name == "review":
            raise PermissionError(13, "Permission denied")
        return real(target, *args, **kwargs)

    monkeypatch.setattr(atomic, "open_atomic", failing)
    assert main(["install", "--agent", "gemini"]) == ExitCode.ENV_NOT_READY
    assert "Permission denied" in capsys.readouterr().err
    assert not (home / ".gemini" / "skills" / "massgen").exists()


@pytest.mark.skipif(shutil.which("unshare") is None or os.geteuid() != 0, reason="needs root and unshare")
def test_a_read_only_file_system_is_a_user_error(tmp_path):
    skills = tmp_path / "ro-skills"
    skills.mkdir()
    command = (
        f"mount --bind -o ro {skills} {skills} && "
        f"{sys.executable} -m massgen_skill install --dest {skills}; echo rc=$?"
    )
    done = subprocess.run(
        ["unshare", "-m", "sh", "-c", command], capture_output=True, text=True, timeout=120, check=False
    )
    if "rc=" not in done.stdout:
        pytest.skip(f"cannot make a read-only mount here: {done.stderr.strip()}")
    assert f"rc={int(ExitCode.ENV_NOT_READY)}" in done.stdout, done.stderr
    assert "Read-only file system" in done.stderr and "Traceback" not in done.stderr
    assert not any(skills.iterdir())


# --- caches: install -> run -> uninstall -> install -------------------------------------------------------


def test_install_run_uninstall_install_needs_no_force(home, tmp_path, capsys):
    assert main(["install", "--agent", "amp"]) == 0
    dest = home / ".config" / "agents" / "skills" / "massgen"
    criteria = tmp_path / "criteria.json"
    criteria.write_text(json.dumps(VALID_CRITERIA))
    done = subprocess.run(
        [str(dest / "scripts" / "massgen_skill.sh"), "criteria", "check", str(criteria)],
        env=skill_env(home),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    caches = {rel for rel in files_under(dest) if cache_source(rel)}
    assert caches, "running the installed skill should have written __pycache__"

    capsys.readouterr()
    assert cli_json(capsys, "install", "--agent", "amp")[1]["action"] == "up-to-date"
    code, data = cli_json(capsys, "uninstall", "--agent", "amp")
    assert code == 0 and data["foreign"] == [] and not dest.exists()
    code, data = cli_json(capsys, "install", "--agent", "amp")
    assert code == 0 and data["action"] == "installed"


def test_caches_an_older_uninstall_left_behind_do_not_block(home, capsys):
    dest = home / ".claude" / "skills" / "massgen"
    leftover = dest / "massgen_skill" / "__pycache__" / "cli.cpython-311.pyc"
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"\x00")
    assert main(["uninstall", "--agent", "claude-code"]) == 0 and not dest.exists()
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"\x00")
    assert main(["install", "--agent", "claude-code"]) == 0
    assert MANIFEST in files_under(dest)


def test_an_unrelated_pyc_still_counts_as_foreign(home, capsys):
    dest = home / ".claude" / "skills" / "massgen"
    stray = dest / "tools" / "__pycache__" / "x.cpython-311.pyc"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"\x00")
    assert main(["install", "--agent", "claude-code"]) == ExitCode.REFUSED
    assert stray.exists()


# --- the installed skill finds its own Python -------------------------------------------------------------


def _check_criteria(dest: Path, home: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    criteria = tmp_path / "criteria.json"
    criteria.write_text(json.dumps(VALID_CRITERIA))
    return subprocess.run(
        [str(dest / "scripts" / "massgen_skill.sh"), "criteria", "check", str(criteria)],
        env=skill_env(home, PYTHONDONTWRITEBYTECODE="1"),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_installed_scripts_use_the_python_recorded_at_install(home, tmp_path, capsys):
    assert main(["install", "--agent", "copilot"]) == 0
    dest = home / ".copilot" / "skills" / "massgen"
    assert (dest / PYTHON_RECORD).read_text() == f"{sys.executable}\n"
    done = _check_criteria(dest, home, tmp_path)
    assert done.returncode == 0, done.stderr  # jsonschema comes from the recorded environment


def test_a_recorded_python_that_is_gone_is_named_and_the_fallback_said(home, tmp_path, capsys):
    assert main(["install", "--agent", "copilot"]) == 0
    dest = home / ".copilot" / "skills" / "massgen"
    (dest / PYTHON_RECORD).write_text("/nonexistent/venv/bin/python\n")
    done = subprocess.run(
        [str(dest / "scripts" / "massgen_skill.sh"), "--help"],
        env=skill_env(home, PYTHONDONTWRITEBYTECODE="1"),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0
    assert "the Python recorded at install (/nonexistent/venv/bin/python) is gone; using" in done.stderr


def test_link_replaces_its_own_copy_after_the_skill_ran_but_not_a_stray_cache(home, capsys):
    assert main(["install", "--agent", "agents"]) == 0
    dest = home / ".agents" / "skills" / "massgen"
    ours = dest / "massgen_skill" / "__pycache__" / "cli.cpython-311.pyc"
    ours.parent.mkdir(exist_ok=True)
    ours.write_bytes(b"\x00")
    stray = dest / "tools" / "__pycache__" / "x.cpython-311.pyc"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"\x00")
    assert main(["install", "--agent", "agents", "--link"]) == ExitCode.REFUSED
    assert stray.exists() and ours.exists()
    shutil.rmtree(dest / "tools")
    assert main(["install", "--agent", "agents", "--link"]) == 0
    assert dest.is_symlink()


def test_an_update_never_overwrites_an_installed_file_the_user_edited(home, capsys, tmp_path, monkeypatch):
    assert main(["install", "--agent", "gemini"]) == 0
    dest = home / ".gemini" / "skills" / "massgen"
    (dest / "references" / "analysis.md").write_text("my notes on the analysis\n")
    monkeypatch.setattr(sys, "executable", str(tmp_path / "another-python"))  # so the update has work
    capsys.readouterr()
    assert main(["install", "--agent", "gemini"]) == ExitCode.REFUSED
    assert "references/analysis.md" in capsys.readouterr().err
    code, data = cli_json(capsys, "install", "--agent", "gemini", "--force")
    assert code == 0 and (Path(data["backup"]) / "references" / "analysis.md").read_text() == (
        "my notes on the analysis\n"
    )


def test_the_entry_script_reads_the_record_the_installer_writes():
    script = Path(__file__).resolve().parents[1] / "scripts" / "_skill_python.sh"
    assert f"$skill_root/{PYTHON_RECORD}" in script.read_text(encoding="utf-8")
