"""`massgen-skill install` / `uninstall`: layout per agent, idempotence, ownership, links, the wheel."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from install_helpers import cli_json
from runtools import ROOT

from massgen_skill.cli import main
from massgen_skill.exitcodes import ExitCode
from massgen_skill.setup.installer import (
    MANIFEST,
    PYTHON_RECORD,
    Bundle,
    install_copy,
    locate_bundle,
    sha256,
    uninstall,
)

USER_DIRS = {
    "claude-code": ".claude/skills/massgen",
    "codex": ".agents/skills/massgen",
    "cursor": ".cursor/skills/massgen",
    "gemini": ".gemini/skills/massgen",
    "copilot": ".copilot/skills/massgen",
    "agents": ".agents/skills/massgen",
}
PROJECT_DIRS = {
    "claude-code": ".claude/skills/massgen",
    "codex": ".agents/skills/massgen",
    "cursor": ".cursor/skills/massgen",
    "gemini": ".gemini/skills/massgen",
    "copilot": ".github/skills/massgen",
    "agents": ".agents/skills/massgen",
}


def snapshot(folder: Path) -> dict[str, tuple[str, float]]:
    return {
        p.relative_to(folder).as_posix(): (sha256(p), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def expected_files() -> set[str]:
    return set(locate_bundle().files()) | {PYTHON_RECORD}


# --- layout -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("agent", sorted(USER_DIRS))
def test_user_level_install_goes_to_the_agents_skills_folder(agent, places, capsys):
    home, _ = places
    code, data = cli_json(capsys, "install", "--agent", agent)
    assert code == 0
    dest = home / USER_DIRS[agent]
    assert data["dest"] == str(dest) and data["action"] == "installed" and data["scope"] == "user"
    assert (dest / "SKILL.md").read_bytes() == (ROOT / "SKILL.md").read_bytes()
    files = {p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()}
    assert files == expected_files() | {MANIFEST}
    assert not any("__pycache__" in f or f.startswith("tests/") or "/_bundle/" in f for f in files)
    for script in (dest / "scripts").glob("massgen_*.sh"):
        assert os.access(script, os.X_OK), script
    manifest = json.loads((dest / MANIFEST).read_text())
    assert manifest["agent"] == agent and manifest["scope"] == "user"
    assert manifest["files"] == {rel: sha256(dest / rel) for rel in expected_files()}


@pytest.mark.parametrize("agent", sorted(PROJECT_DIRS))
def test_project_level_install_goes_under_the_current_folder(agent, places, capsys):
    home, project = places
    code, data = cli_json(capsys, "install", "--agent", agent, "--project")
    assert code == 0
    assert data["dest"] == str(project.resolve() / PROJECT_DIRS[agent])
    assert (project / PROJECT_DIRS[agent] / "SKILL.md").is_file()
    assert not any(home.iterdir())


def test_codex_installs_into_the_agents_folder_not_codex_home(places, capsys, monkeypatch, tmp_path):
    home, _ = places
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "codex-home"))
    code, data = cli_json(capsys, "install", "--agent", "codex")
    assert code == 0 and data["dest"] == str(home / ".agents" / "skills" / "massgen")
    assert {"codex", "goose", "agents"} <= set(data["shared_with"])


def test_dest_overrides_the_agent_folder(places, capsys, tmp_path):
    code, data = cli_json(capsys, "install", "--dest", str(tmp_path / "elsewhere"))
    assert code == 0 and data["dest"] == str(tmp_path / "elsewhere" / "massgen")


def test_agent_or_dest_is_required(places, capsys):
    assert main(["install"]) == ExitCode.USAGE
    assert "--agent" in capsys.readouterr().err


# --- idempotence, updates ---------------------------------------------------------------------------------


def test_second_install_is_up_to_date_and_touches_nothing(places, capsys):
    home, _ = places
    assert cli_json(capsys, "install", "--agent", "claude-code")[0] == 0
    dest = home / USER_DIRS["claude-code"]
    before = snapshot(dest)
    assert main(["install", "--agent", "claude-code"]) == 0
    assert capsys.readouterr().out.startswith(f"up to date: {dest}")
    assert snapshot(dest) == before


def test_update_writes_changed_files_and_removes_stale_ones(tmp_path):
    source = tmp_path / "src"
    shutil.copytree(ROOT / "scripts", source / "scripts")
    shutil.copytree(ROOT / "references", source / "references")
    shutil.copy(ROOT / "SKILL.md", source / "SKILL.md")
    (source / "references" / "old.md").write_text("old\n")
    package = tmp_path / "pkg" / "massgen_skill"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    bundle = Bundle(source, package, "folder")
    dest = tmp_path / "skills" / "massgen"
    info = {"agent": "agents", "scope": "user"}
    assert install_copy(bundle, dest, force=False, dry_run=False, info=info).action == "installed"

    (source / "references" / "old.md").unlink()
    (source / "references" / "new.md").write_text("new\n")
    (source / "SKILL.md").write_text((ROOT / "SKILL.md").read_text() + "\nmore\n")
    (dest / "notes.txt").write_text("mine\n")
    outcome = install_copy(bundle, dest, force=False, dry_run=False, info=info)
    assert outcome.action == "updated"
    assert sorted(outcome.written) == ["SKILL.md", "references/new.md"]
    assert outcome.removed == ["references/old.md"] and not (dest / "references" / "old.md").exists()
    assert outcome.foreign == ["notes.txt"] and (dest / "notes.txt").read_text() == "mine\n"
    assert install_copy(bundle, dest, force=False, dry_run=False, info=info).action == "up-to-date"


def test_dry_run_changes_nothing(places, capsys):
    home, _ = places
    code, data = cli_json(capsys, "install", "--agent", "cursor", "--dry-run")
    assert code == 0 and data["action"] == "would-install" and len(data["written"]) == len(expected_files())
    assert not (home / ".cursor").exists()


# --- ownership --------------------------------------------------------------------------------------------


def test_refuses_a_folder_it_did_not_install_and_force_moves_it_aside_whole(places, capsys):
    home, _ = places
    dest = home / USER_DIRS["claude-code"]
    dest.mkdir(parents=True)
    (dest / "SKILL.md").write_text("---\nname: massgen\ndescription: someone else's\n---\n")
    (dest / "extra.md").write_text("theirs\n")
    assert main(["install", "--agent", "claude-code"]) == ExitCode.REFUSED
    assert "not installed by massgen-skill" in capsys.readouterr().err
    assert "someone else's" in (dest / "SKILL.md").read_text() and not (dest / MANIFEST).exists()

    code, data = cli_json(capsys, "install", "--agent", "claude-code", "--force")
    backup = Path(data["backup"])
    assert code == 0 and data["foreign"] == [] and data["action"] == "installed"
    assert backup.parent == home / ".claude" / "massgen-skill-backups"
    assert "someone else's" in (backup / "SKILL.md").read_text()
    assert (backup / "extra.md").read_text() == "theirs\n"
    assert (dest / "SKILL.md").read_bytes() == (ROOT / "SKILL.md").read_bytes()
    assert not (dest / "extra.md").exists()
    assert "extra.md" not in json.loads((dest / MANIFEST).read_text())["files"]


def test_uninstall_removes_only_installed_unedited_files(places, capsys):
    home, _ = places
    assert cli_json(capsys, "install", "--agent", "gemini")[0] == 0
    dest = home / USER_DIRS["gemini"]
    (dest / "scripts" / "mine.sh").write_text("echo mine\n")
    (dest / "notes.txt").write_text("keep me\n")
    edited = dest / "references" / "criteria_guide.md"
    edited.write_text("edited by the user\n")

    code, data = cli_json(capsys, "uninstall", "--agent", "gemini")
    assert code == 0 and data["action"] == "removed"
    assert sorted(data["foreign"]) == ["notes.txt", "scripts/mine.sh"]
    assert data["kept_modified"] == ["references/criteria_guide.md"]
    left = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file())
    assert left == [MANIFEST, "notes.txt", "references/criteria_guide.md", "scripts/mine.sh"]
    assert json.loads((dest / MANIFEST).read_text())["files"].keys() == {"references/criteria_guide.md"}
    assert not (dest / "massgen_skill").exists()

    main(["uninstall", "--agent", "gemini"])
    assert (
        "left in place (not installed by massgen-skill): notes.txt, scripts/mine.sh"
        in capsys.readouterr().out
    )
    assert edited.exists()
    code, data = cli_json(capsys, "uninstall", "--agent", "gemini", "--force")
    assert code == 0 and data["removed"] == ["references/criteria_guide.md"]
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*")) == [
        "notes.txt",
        "scripts",
        "scripts/mine.sh",
    ]


def test_uninstall_of_a_clean_install_removes_the_folder(places, capsys):
    main(["install", "--agent", "agents", "--project"])
    capsys.readouterr()
    code, data = cli_json(capsys, "uninstall", "--agent", "agents", "--project")
    assert code == 0 and data["foreign"] == [] and len(data["removed"]) == len(expected_files())
    assert not Path(data["dest"]).exists() and Path(data["dest"]).parent.is_dir()


def test_uninstall_refuses_a_foreign_folder_and_accepts_nothing_installed(places, capsys):
    home, _ = places
    code, data = cli_json(capsys, "uninstall", "--agent", "copilot")
    assert code == 0 and data["action"] == "not-installed"
    dest = home / USER_DIRS["copilot"]
    dest.mkdir(parents=True)
    (dest / "SKILL.md").write_text("theirs\n")
    assert main(["uninstall", "--agent", "copilot"]) == ExitCode.REFUSED
    assert "not installed by massgen-skill" in capsys.readouterr().err
    assert (dest / "SKILL.md").read_text() == "theirs\n"


def test_a_tampered_manifest_cannot_reach_outside_the_folder(tmp_path):
    dest = tmp_path / "skills" / "massgen"
    dest.mkdir(parents=True)
    victim = tmp_path / "victim.txt"
    victim.write_text("x")
    files = {"../../victim.txt": sha256(victim), "/etc/hostname": "0"}
    (dest / MANIFEST).write_text(json.dumps({"files": files}))
    outcome = uninstall(dest, force=True, dry_run=False)
    assert outcome.removed == [] and victim.exists()


# --- links ------------------------------------------------------------------------------------------------


def test_link_points_at_the_checkout_and_uninstall_removes_only_the_link(places, capsys):
    home, _ = places
    code, data = cli_json(capsys, "install", "--agent", "claude-code", "--link")
    dest = home / USER_DIRS["claude-code"]
    assert code == 0 and data["action"] == "linked" and data["mode"] == "link"
    assert dest.is_symlink() and dest.resolve() == ROOT.resolve()
    assert cli_json(capsys, "install", "--agent", "claude-code", "--link")[1]["action"] == "up-to-date"
    code, data = cli_json(capsys, "uninstall", "--agent", "claude-code")
    assert code == 0 and data["mode"] == "link" and not dest.exists() and not dest.is_symlink()
    assert (ROOT / "SKILL.md").is_file()


def test_link_refuses_a_foreign_folder_even_with_force(places, capsys):
    home, _ = places
    dest = home / USER_DIRS["cursor"]
    dest.mkdir(parents=True)
    (dest / "SKILL.md").write_text("theirs\n")
    assert main(["install", "--agent", "cursor", "--link", "--force"]) == ExitCode.REFUSED
    assert (dest / "SKILL.md").read_text() == "theirs\n" and not dest.is_symlink()


def test_copy_replaces_its_own_link_but_not_a_foreign_one(places, capsys, tmp_path):
    home, _ = places
    main(["install", "--agent", "agents", "--link"])
    capsys.readouterr()
    dest = home / USER_DIRS["agents"]
    code, data = cli_json(capsys, "install", "--agent", "agents")
    assert code == 0 and data["action"] == "installed" and not dest.is_symlink() and dest.is_dir()
    main(["uninstall", "--agent", "agents"])
    capsys.readouterr()
    other = tmp_path / "other"
    other.mkdir()
    dest.symlink_to(other)
    assert main(["install", "--agent", "agents"]) == ExitCode.REFUSED
    assert dest.is_symlink()
    assert main(["install", "--agent", "agents", "--force"]) == 0
    assert not dest.is_symlink() and other.is_dir() and not any(other.iterdir())


# --- the installed folder works ---------------------------------------------------------------------------


def test_installed_folder_passes_the_agent_skills_validator(places, capsys):
    validator = shutil.which("agentskills")
    if validator is None:
        pytest.skip("`agentskills` (PyPI package skills-ref) is not installed")
    home, _ = places
    main(["install", "--agent", "claude-code"])
    done = subprocess.run(
        [validator, "validate", str(home / USER_DIRS["claude-code"])],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_installed_run_script_works_from_another_folder_with_only_the_fake_massgen(
    places, capsys, fake_massgen, tmp_path
):
    home, _ = places
    main(["install", "--agent", "codex", "--json"])
    dest = home / USER_DIRS["codex"]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    config = home / ".config" / "massgen" / "config.yaml"  # a dry run checks for one, as a run does
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("agents: []\n")
    env = {
        k: v
        for k, v in fake_massgen.env().items()
        if k not in ("PYTHONPATH", "MASSGEN_BIN", "MASSGEN_SKILL_PYTHON")
    }
    env["HOME"] = str(home)
    env["PATH"] = os.pathsep.join(
        [str(fake_massgen.bin_dir), str(Path(sys.executable).parent), "/usr/bin", "/bin"]
    )
    done = subprocess.run(
        [str(dest / "scripts" / "massgen_run.sh"), "--dry-run", "--json", "--no-web", "Compare two designs"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)
    assert plan["dry_run"] is True and plan["argv"][-1] == "Compare two designs"
    assert not (elsewhere / ".massgen").exists()


def _copy_source(target: Path) -> None:
    skip = shutil.ignore_patterns(
        ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".ruff_cache",
        ".hypothesis", ".massgen", ".benchmarks", "_bundle", "tests", "benchmarks",
    )  # fmt: skip
    shutil.copytree(ROOT, target, ignore=skip, symlinks=True)


@pytest.mark.slow
def test_install_works_from_a_non_editable_wheel_install(tmp_path):
    source = tmp_path / "src"
    _copy_source(source)
    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=120
    )
    python = venv / "bin" / "python"
    base = [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--disable-pip-version-check"]
    attempts = [[*base, "--no-build-isolation", str(source)], [*base, str(source)]]
    errors = []
    for argv in attempts:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
        if done.returncode == 0:
            break
        errors.append(done.stderr[-800:])
    else:
        pytest.skip("could not build the wheel here (no setuptools/wheel offline): " + " | ".join(errors))
    site = subprocess.run(
        [
            str(python),
            "-c",
            "import massgen_skill, pathlib; print(pathlib.Path(massgen_skill.__file__).parent)",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=tmp_path,
    ).stdout.strip()
    assert Path(site).is_relative_to(venv), site  # the wheel's copy, not the checkout
    assert (Path(site) / "_bundle" / "SKILL.md").is_file()

    dest = tmp_path / "agent-skills"
    env = {**os.environ, "HOME": str(tmp_path / "home")}
    env.pop("PYTHONPATH", None)
    done = subprocess.run(
        [
            str(venv / "bin" / "massgen-skill"),
            "install",
            "--agent",
            "claude-code",
            "--dest",
            str(dest),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    installed = dest / "massgen"
    assert json.loads(done.stdout)["dest"] == str(installed)
    manifest = json.loads((installed / MANIFEST).read_text())
    assert manifest["source_kind"] == "wheel"
    wanted = ("SKILL.md", "scripts/massgen_run.sh", "references/config_setup.md", "agents/openai.yaml")
    for rel in (*wanted, "massgen_skill/cli.py", ".massgen-skill-python"):
        assert (installed / rel).is_file(), rel
    assert not (installed / "massgen_skill" / "_bundle").exists()
    assert os.access(installed / "scripts" / "massgen_skill.sh", os.X_OK)
    assert (installed / "SKILL.md").read_bytes() == (ROOT / "SKILL.md").read_bytes()
    help_run = subprocess.run(
        [str(installed / "scripts" / "massgen_skill.sh"), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
        env={**env, "MASSGEN_SKILL_PYTHON": sys.executable},
    )
    assert help_run.returncode == 0 and "install" in help_run.stdout
