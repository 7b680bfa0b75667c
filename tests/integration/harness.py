"""Helpers for driving the real massgen offline: configs, the scripted LLM server, the filesystem MCP
stand-in, the test environment and a scratch git project. Nothing here starts massgen by itself."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runtools import ROOT
from runtools import wait_for as wait_for  # re-exported: the integration tests call harness.wait_for

from massgen_skill.setup import fs_standin, live, scripted_model

from .netns import NetNS, NsProcess

HERE = Path(__file__).resolve().parent
REPO_ROOT = ROOT  # for PYTHONPATH when running massgen_skill inside the namespace
LLM_SERVER = Path(scripted_model.__file__)
FS_MCP_SERVER = Path(fs_standin.__file__)
ARGV_PROBE = HERE / "argv_probe.py"

# massgen 0.1.97 starts the filesystem MCP server as `mcp-server-filesystem <dirs…>` when that name is on
# PATH (else `npx -y @modelcontextprotocol/server-filesystem <dirs…>`, which needs the internet):
# massgen/filesystem_manager/_filesystem_manager.py, FilesystemManager.get_mcp_filesystem_config.
FS_MCP_COMMAND = live.FS_MCP_COMMAND

QUESTION = "Create a file named hello_e2e.txt and tell me what 6 times 7 is."
WRITE_NAME = "hello_e2e.txt"
WRITE_CONTENT = "hello from the scripted LLM\n"

# Env vars that could send traffic elsewhere or change massgen's behaviour; removed from the test env.
_DROP_ENV = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "MASSGEN_LOG_BASE_DIR",
    "ANTHROPIC_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "XAI_API_KEY",
    "OPENROUTER_API_KEY",
    "VIRTUAL_ENV",
    "PYTHONPATH",
    "PYTHONHOME",
)


# --- environment -----------------------------------------------------------------------------------------
install_fs_standin = live.install_fs_standin  # the product's own (doctor --live uses it)


def make_env(
    venv_bin: Path, harness_bin: Path, home: Path, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Environment for anything started in the namespace: our stand-ins first, then the massgen venv.

    Proxies, other providers' keys, VIRTUAL_ENV and PYTHONPATH are removed (PYTHONPATH would leak into the
    massgen venv's python); to run ``massgen_skill`` in the namespace pass ``{"PYTHONPATH": str(REPO_ROOT)}``
    as ``extra``/``env``."""
    env = {k: v for k, v in os.environ.items() if k not in _DROP_ENV}
    base_path = env.get("PATH", "/usr/local/bin:/usr/bin:/bin")
    env.update(
        {
            "PATH": os.pathsep.join([str(harness_bin), str(venv_bin), base_path]),
            "HOME": str(home),
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            "OPENAI_API_KEY": "anything",
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            "GIT_AUTHOR_NAME": "mgskill-test",
            "GIT_AUTHOR_EMAIL": "mgskill-test@example.invalid",
            "GIT_COMMITTER_NAME": "mgskill-test",
            "GIT_COMMITTER_EMAIL": "mgskill-test@example.invalid",
        }
    )
    if extra:
        env.update(extra)
    return env


# --- scratch project -------------------------------------------------------------------------------------
@dataclass
class Project:
    """A temp git repo (``.massgen/`` git-ignored, README committed) plus sibling dirs for one test."""

    root: Path  # the test's tmp dir
    path: Path  # the git project (massgen's cwd)
    home: Path  # HOME for massgen
    configs: Path  # where config files are written
    artifacts: Path  # request logs, server logs, …

    def git(self, *args: str) -> str:
        res = subprocess.run(
            ["git", *args], cwd=self.path, capture_output=True, text=True, check=True, timeout=30
        )
        return res.stdout

    def massgen_dir(self) -> Path:
        return self.path / ".massgen"

    def log_dirs(self) -> list[Path]:
        base = self.massgen_dir() / "massgen_logs"
        return sorted(base.glob("log_*")) if base.is_dir() else []

    def find(self, pattern: str) -> list[Path]:
        """Glob under ``.massgen/massgen_logs`` (e.g. ``log_*/turn_1/attempt_1/review_request.json``)."""
        base = self.massgen_dir() / "massgen_logs"
        return sorted(base.glob(pattern)) if base.is_dir() else []


def make_project(root: Path) -> Project:
    project = Project(
        root=root,
        path=root / "project",
        home=root / "home",
        configs=root / "configs",
        artifacts=root / "artifacts",
    )
    for d in (project.path, project.home, project.configs, project.artifacts):
        d.mkdir(parents=True, exist_ok=True)
    (project.path / "README.md").write_text("# scratch project\n\nUsed by massgen-skill integration tests.\n")
    (project.path / ".gitignore").write_text(".massgen/\n")
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
    }
    for argv in (
        ["git", "init", "-q", "-b", "main"],
        ["git", "add", "-A"],
        ["git", "commit", "-q", "--no-verify", "-m", "init"],
    ):
        subprocess.run(argv, cwd=project.path, env=env, check=True, capture_output=True, timeout=30)
    return project


# --- configs -----------------------------------------------------------------------------------------------
agent_models = live.agent_models
write_config = live.write_scripted_config


def write_three_agent_config(project: Project, base_url: str, name: str = "three_agents.yaml") -> Path:
    return write_config(project.configs / name, base_url, agents=3)


def write_two_agent_fs_config(project: Project, base_url: str, name: str = "two_agents_fs.yaml") -> Path:
    return write_config(
        project.configs / name,
        base_url,
        agents=2,
        workspaces=True,
        storage_root=project.massgen_dir(),
    )


# --- scripted LLM server -----------------------------------------------------------------------------------
@dataclass
class LLMServer:
    process: NsProcess
    port: int
    log_path: Path
    mode: str
    stderr_path: Path
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def requests(self) -> list[dict[str, Any]]:
        if not self.log_path.exists():
            return []
        with self.log_path.open(encoding="utf-8") as fh:
            return [json.loads(line) for line in fh if line.strip()]

    def decisions(self) -> list[tuple[str, str | None, str]]:
        """``[(model, tool or None, note)]`` in arrival order."""
        return [(r["model"], r["decision"]["tool"], r["decision"]["note"]) for r in self.requests()]

    def stop(self) -> None:
        self.process.kill_group(grace=2)


def start_llm_server(
    ns: NetNS,
    workdir: Path,
    *,
    mode: str = "normal",
    vote_for: str | None = None,
    final: str = "tool",
    delay: float = 0.0,
    write_name: str = WRITE_NAME,
    write_content: str = WRITE_CONTENT,
    write_in: str = scripted_model.Options.write_in,
    timeout: float = 15.0,
) -> LLMServer:
    """Start ``llm_server.py`` inside ``ns`` and wait for its port file."""
    workdir.mkdir(parents=True, exist_ok=True)
    tag = f"{mode}-{int(time.time() * 1000)}"
    port_file = workdir / f"llm-{tag}.port"
    log_path = workdir / f"llm-{tag}.requests.jsonl"
    stderr_path = workdir / f"llm-{tag}.stderr"
    argv: list[str] = [sys.executable, str(LLM_SERVER), "--port", "0", "--port-file", str(port_file)]
    argv += ["--mode", mode, "--final", final, "--log", str(log_path), "--delay", str(delay)]
    argv += ["--write-name", write_name, "--write-content", write_content, "--write-in", write_in]
    if vote_for:
        argv += ["--vote-for", vote_for]
    err = stderr_path.open("w", encoding="utf-8")
    try:
        proc = ns.popen(argv, stdout=subprocess.DEVNULL, stderr=err)
    finally:
        err.close()
    deadline = time.monotonic() + timeout
    while not port_file.exists():
        if proc.poll() is not None:
            raise RuntimeError(f"llm_server exited {proc.poll()}: {stderr_path.read_text()[-2000:]}")
        if time.monotonic() > deadline:
            proc.kill_group()
            raise RuntimeError(f"llm_server did not start within {timeout}s")
        time.sleep(0.05)
    port = int(port_file.read_text().strip())
    return LLMServer(
        proc,
        port,
        log_path,
        mode,
        stderr_path,
        {"vote_for": vote_for, "final": final, "delay": delay},
    )


# --- waiting ------------------------------------------------------------------------------------------------
def read_json(path: Path, retries: int = 5) -> Any:
    """Read a JSON file massgen may be rewriting (retry on a torn read)."""
    for attempt in range(retries):
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, FileNotFoundError):
            if attempt == retries - 1:
                raise
            time.sleep(0.1)
    return None


def massgen_argv(venv_bin: Path, args: Sequence[str]) -> list[str]:
    return [str(venv_bin / "massgen"), *map(str, args)]


def which_in(path_env: str, name: str) -> str | None:
    return shutil.which(name, path=path_env)
