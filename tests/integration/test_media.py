"""A media task through our scripts against the REAL massgen 0.1.97, offline (private loopback namespace).

The real media backends cannot be reached offline, so the scripted model plays the agent that made the file:
the winner's presenter writes `fox at dawn.png` into its own workspace through the filesystem stand-in, as
`generate_media` would save an image there. What this pins: the pre-launch media check lets a config with
`enable_multimodal_tools: true` and a provider key through, massgen starts with its media tools registered,
and `run` and `result` list the file from the winner's final workspace as a `MEDIA:` line.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from runtools import RUN_SH, SKILL_SH, relayed

from massgen_skill.massgen import media
from massgen_skill.setup import live

from . import harness
from .netns import RunResult

IMAGE_NAME = "fox at dawn.png"
TASK = "Generate an image of a red fox at dawn"


def test_a_media_run_lists_the_image_the_winner_made(
    project: harness.Project,
    llm_server_factory: Callable[..., harness.LLMServer],
    run_in_ns: Callable[..., RunResult],
) -> None:
    server = llm_server_factory(
        mode="write-file", write_in="workspace", write_name=IMAGE_NAME, write_content="PNG stand-in\n"
    )
    config = live.write_scripted_config(
        project.configs / "media.yaml",
        server.base_url,
        agents=2,
        workspaces=True,
        storage_root=project.massgen_dir(),
        extra_orchestrator={media.ENABLE_KEY: True},
    )
    done = run_in_ns([RUN_SH, "--config", config, TASK], timeout=240, label="media run (web)")
    assert done.returncode == 0, done.describe()
    lines = relayed(done.stdout)
    assert "media image generation: the task asks to 'generate an image'" in done.stderr
    workspace = Path(lines["WORKSPACE"][0])
    made = workspace / IMAGE_NAME
    assert made.is_file(), done.describe()
    assert lines["MEDIA"] == [f"{json.dumps(str(made))} image {made.stat().st_size}"]

    offered = {name for entry in server.requests() for name in entry.get("tools", [])}
    # the config's switch registered massgen's media tools (as custom tools)
    assert {"custom_tool__generate_media", "custom_tool__read_media"} <= offered, sorted(offered)

    result = run_in_ns([SKILL_SH, "result", "--json"], label="result")
    data = json.loads(result.stdout)
    assert data["media"] == [{"path": str(made), "kind": "image", "size": made.stat().st_size}]
