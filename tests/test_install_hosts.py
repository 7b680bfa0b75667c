"""Every host agent's install path: the 11 hosts and their documented folders, `install --list`, the shared
~/.agents/skills folder, codex's older folder, and the plugin manifests (Claude Code, Codex)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from install_helpers import cli_json

from massgen_skill.cli import main
from massgen_skill.setup.installer import HOSTS, MANIFEST

ROOT = Path(__file__).resolve().parents[1]

# host -> (user-level folder under HOME, project-level folder), as each host's documentation names them
EXPECTED = {
    "claude-code": (".claude/skills", ".claude/skills"),
    "codex": (".agents/skills", ".agents/skills"),
    "cursor": (".cursor/skills", ".cursor/skills"),
    "gemini": (".gemini/skills", ".gemini/skills"),
    "copilot": (".copilot/skills", ".github/skills"),
    "agents": (".agents/skills", ".agents/skills"),
    "opencode": (".config/opencode/skills", ".opencode/skills"),
    "windsurf": (".codeium/windsurf/skills", ".windsurf/skills"),
    "goose": (".agents/skills", ".agents/skills"),
    "amp": (".config/agents/skills", ".agents/skills"),
    "cline": (".cline/skills", ".cline/skills"),
}


# --- the list ---------------------------------------------------------------------------------------------


def test_install_list_shows_eleven_hosts_with_folders_and_docs(capsys):
    assert main(["install", "--list"]) == 0
    out = capsys.readouterr().out
    names = [line for line in out.splitlines() if line and not line.startswith(" ")]
    assert names == list(EXPECTED)
    assert out.count("  docs:    https://") == 11
    blocks = dict(zip(names, re.split(r"^\S.*\n", out, flags=re.M)[1:], strict=True))
    for name, (user, project) in EXPECTED.items():
        assert f"  user:    ~/{user}/massgen\n" in blocks[name]
        assert f"  project: {project}/massgen\n" in blocks[name]
    code, data = cli_json(capsys, "install", "--list")
    assert code == 0 and [h["agent"] for h in data["hosts"]] == list(EXPECTED)
    assert all(re.match(r"https://[\w.-]+/", h["docs"]) for h in data["hosts"])
    assert next(h for h in data["hosts"] if h["agent"] == "codex")["legacy"] == ["~/.codex/skills/massgen"]


def test_the_help_table_names_every_host():
    text = "\n".join(f"{h.name} {h.user_dir} {h.project_dir}" for h in HOSTS)
    assert len(HOSTS) == 11 and all(name in text for name in EXPECTED)


# --- install and uninstall for each host ------------------------------------------------------------------


@pytest.mark.parametrize("project", [False, True], ids=["user", "project"])
@pytest.mark.parametrize("agent", list(EXPECTED))
def test_install_and_uninstall_for_each_host(agent, project, places, capsys):
    home, cwd = places
    scope = ["--project"] if project else []
    code, data = cli_json(capsys, "install", "--agent", agent, *scope)
    base = cwd if project else home
    dest = base / EXPECTED[agent][1 if project else 0] / "massgen"
    assert code == 0 and data["dest"] == str(dest) and data["action"] == "installed"
    assert (dest / "SKILL.md").is_file() and (dest / MANIFEST).is_file()
    assert (dest / "agents" / "openai.yaml").is_file()
    code, data = cli_json(capsys, "uninstall", "--agent", agent, *scope)
    assert code == 0 and data["action"] == "removed" and not dest.exists()
    assert not any(p.is_file() for p in base.rglob("*"))


def test_codex_goose_and_agents_share_one_install(places, capsys):
    home, _ = places
    assert cli_json(capsys, "install", "--agent", "agents")[1]["action"] == "installed"
    for agent in ("codex", "goose"):
        code, data = cli_json(capsys, "install", "--agent", agent)
        assert code == 0 and data["action"] == "up-to-date"
        assert data["dest"] == str(home / ".agents" / "skills" / "massgen")
    main(["install", "--agent", "goose"])
    assert "this folder serves: codex, agents, goose" in capsys.readouterr().out


def test_uninstall_codex_also_finds_copies_in_the_older_codex_folders(places, capsys, monkeypatch, tmp_path):
    home, _ = places
    assert main(["install", "--dest", str(home / ".codex" / "skills")]) == 0
    codex_home = tmp_path / "codex-home"
    monkeypatch.setenv("CODEX_HOME", str(codex_home))
    assert main(["install", "--dest", str(codex_home / "skills")]) == 0
    assert main(["install", "--agent", "codex"]) == 0
    capsys.readouterr()
    code, data = cli_json(capsys, "uninstall", "--agent", "codex")
    assert code == 0 and data["action"] == "removed"
    assert {o["dest"] for o in data["older"]} == {
        str(home / ".codex" / "skills" / "massgen"),
        str(codex_home / "skills" / "massgen"),
    }
    assert all(o["action"] == "removed" for o in data["older"])
    for folder in (home / ".agents", home / ".codex", codex_home):
        assert not any(p.is_file() for p in folder.rglob("*"))


def test_uninstall_codex_with_only_an_old_copy(places, capsys):
    home, _ = places
    assert main(["install", "--dest", str(home / ".codex" / "skills")]) == 0
    capsys.readouterr()
    assert main(["uninstall", "--agent", "codex"]) == 0
    out = capsys.readouterr().out
    assert "not installed: nothing at" in out and "removed" in out
    assert not (home / ".codex" / "skills" / "massgen").exists()


# --- plugin manifests -------------------------------------------------------------------------------------

KEBAB = r"^[a-z0-9]+(-[a-z0-9]+)*$"
AUTHOR = {
    "type": "object",
    "required": ["name"],
    "properties": {"name": {"type": "string"}, "email": {"type": "string"}, "url": {"type": "string"}},
    "additionalProperties": False,
}
RELATIVE = {"type": "string", "pattern": r"^\./"}
PATHS = {"oneOf": [RELATIVE, {"type": "array", "items": RELATIVE, "minItems": 1}]}
# The fields code.claude.com/docs/en/plugins-reference documents for .claude-plugin/plugin.json
PLUGIN_SCHEMA = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "pattern": KEBAB},
        "version": {"type": "string", "pattern": r"^\d+\.\d+\.\d+"},
        "description": {"type": "string", "minLength": 1},
        "author": AUTHOR,
        "homepage": {"type": "string"},
        "repository": {"type": "string"},
        "license": {"type": "string"},
        "keywords": {"type": "array", "items": {"type": "string"}},
        "skills": PATHS,
        "commands": PATHS,
        "agents": PATHS,
        "hooks": {},
        "mcpServers": {},
        "lspServers": {},
        "outputStyles": PATHS,
    },
    "additionalProperties": False,
}
# The fields code.claude.com/docs/en/plugins/marketplace-reference documents for marketplace.json
MARKETPLACE_SCHEMA = {
    "type": "object",
    "required": ["name", "owner", "plugins"],
    "properties": {
        "name": {
            "type": "string",
            "pattern": KEBAB,
            "not": {
                "enum": [
                    "claude-code-marketplace",
                    "claude-code-plugins",
                    "claude-plugins-official",
                    "anthropic-marketplace",
                    "anthropic-plugins",
                    "agent-skills",
                    "life-sciences",
                ]
            },
        },
        "owner": AUTHOR,
        "metadata": {
            "type": "object",
            "properties": {
                "description": {"type": "string"},
                "version": {"type": "string"},
                "pluginRoot": {"type": "string"},
            },
            "additionalProperties": False,
        },
        "plugins": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["name", "source"],
                "properties": {
                    "name": {"type": "string", "pattern": KEBAB},
                    "source": {"oneOf": [RELATIVE, {"type": "object", "required": ["source"]}]},
                    "description": {"type": "string"},
                    "version": {"type": "string"},
                    "author": AUTHOR,
                    "homepage": {"type": "string"},
                    "repository": {"type": "string"},
                    "license": {"type": "string"},
                    "keywords": {"type": "array", "items": {"type": "string"}},
                    "category": {"type": "string"},
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "strict": {"type": "boolean"},
                    "skills": PATHS,
                    "commands": PATHS,
                    "agents": PATHS,
                    "hooks": {},
                    "mcpServers": {},
                    "lspServers": {},
                },
                "additionalProperties": False,
            },
        },
    },
    "additionalProperties": False,
}
# developers.openai.com/codex/skills: agents/openai.yaml (interface, policy, dependencies)
OPENAI_YAML_SCHEMA = {
    "type": "object",
    "properties": {
        "interface": {
            "type": "object",
            "required": ["display_name", "short_description"],
            "properties": {
                "display_name": {"type": "string", "minLength": 1},
                "short_description": {"type": "string", "minLength": 25, "maxLength": 64},
                "icon_small": RELATIVE,
                "icon_large": RELATIVE,
                "brand_color": {"type": "string", "pattern": r"^#[0-9A-Fa-f]{6}$"},
                "default_prompt": {"type": "string", "maxLength": 1024},
            },
            "additionalProperties": False,
        },
        "policy": {
            "type": "object",
            "properties": {"allow_implicit_invocation": {"type": "boolean"}},
            "additionalProperties": False,
        },
        "dependencies": {"type": "object", "properties": {"tools": {"type": "array"}}},
    },
    "additionalProperties": False,
}


def _front_matter_name(skill_md: Path) -> str:
    text = skill_md.read_text(encoding="utf-8")
    return yaml.safe_load(text.split("---", 2)[1])["name"]


def _skill_folders(base: Path, paths: str | list[str]) -> list[Path]:
    return [(base / p).resolve() for p in ([paths] if isinstance(paths, str) else paths)]


def test_plugin_manifest_validates_and_points_at_the_root_skill():
    from jsonschema import Draft202012Validator

    plugin = json.loads((ROOT / ".claude-plugin" / "plugin.json").read_text(encoding="utf-8"))
    Draft202012Validator(PLUGIN_SCHEMA).validate(plugin)
    folders = _skill_folders(ROOT, plugin["skills"])
    assert folders == [ROOT]  # SKILL.md stays at the repository root; the plugin points at it
    assert _front_matter_name(ROOT / "SKILL.md") == "massgen"
    version = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M)
    assert version and plugin["version"] == version.group(1)


def test_marketplace_lists_the_plugin_at_the_repository_root():
    from jsonschema import Draft202012Validator

    market = json.loads((ROOT / ".claude-plugin" / "marketplace.json").read_text(encoding="utf-8"))
    Draft202012Validator(MARKETPLACE_SCHEMA).validate(market)
    plugin = json.loads((ROOT / ".claude-plugin" / "plugin.json").read_text(encoding="utf-8"))
    (entry,) = market["plugins"]
    source = (ROOT / entry["source"]).resolve()
    assert source == ROOT and (source / ".claude-plugin" / "plugin.json").is_file()
    assert entry["name"] == plugin["name"] and entry.get("version") == plugin["version"]
    assert entry.get("strict", True) is True  # plugin.json, not this entry, declares the skill


def test_codex_openai_yaml_validates():
    from jsonschema import Draft202012Validator

    data = yaml.safe_load((ROOT / "agents" / "openai.yaml").read_text(encoding="utf-8"))
    Draft202012Validator(OPENAI_YAML_SCHEMA).validate(data)
    assert data["policy"]["allow_implicit_invocation"] is True


@pytest.mark.parametrize(
    "broken",
    [
        {"name": "Has Spaces"},
        {"name": "massgen", "skills": ["/abs/path"]},
        {"name": "massgen", "author": "a string"},
        {"name": "massgen", "unknown_field": 1},
    ],
)
def test_the_plugin_schema_rejects_what_the_docs_do_not_allow(broken):
    from jsonschema import Draft202012Validator

    assert list(Draft202012Validator(PLUGIN_SCHEMA).iter_errors(broken))


def test_npx_skills_finds_the_skill_at_the_root():
    # `npx skills add <repo>` takes a root SKILL.md, or the paths the Claude plugin manifest declares
    assert (ROOT / "SKILL.md").is_file()
    assert not (ROOT / "skills").exists()  # no second copy for a scanner to find under skills/
