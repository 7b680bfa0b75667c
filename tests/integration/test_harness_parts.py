"""Fast checks of the harness pieces themselves (no massgen run): the namespace really is loopback-only,
the scripted LLM server speaks SSE and decides as documented, the filesystem stand-in confines paths."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from massgen_skill.setup import scripted_model as llm_server

from . import harness
from .netns import NetNS

VOTE_TOOLS = [
    {"type": "function", "function": {"name": "new_answer", "parameters": {"type": "object"}}},
    {
        "type": "function",
        "function": {
            "name": "vote",
            "parameters": {
                "type": "object",
                "properties": {"agent_id": {"type": "string", "enum": ["agent1", "agent2", "agent3"]}},
            },
        },
    },
]


def test_namespace_has_only_loopback(mg_netns: NetNS) -> None:
    probe = (
        "import socket,errno\n"
        "s=socket.socket(); s.settimeout(3)\n"
        "try:\n    s.connect(('192.0.2.1', 80)); print('CONNECTED')\n"
        "except OSError as e:\n    print(errno.errorcode.get(e.errno, e))\n"
    )
    res = mg_netns.run([sys.executable, "-c", probe], timeout=20)
    assert res.returncode == 0, res.describe()
    assert res.stdout.strip() == "ENETUNREACH"  # no route at all, not merely a timeout
    links = mg_netns.run(["ip", "-o", "link", "show"], timeout=10)
    assert [ln.split(":")[1].strip() for ln in links.stdout.splitlines()] == ["lo"]


def test_ns_http_refuses_other_hosts(mg_netns: NetNS) -> None:
    code, body = mg_netns.http("GET", "http://192.0.2.1/")
    assert code is None and "refusing non-loopback" in body


def test_llm_server_streams_scripted_replies(
    mg_netns: NetNS, llm_server_factory: Callable[..., harness.LLMServer]
) -> None:
    server = llm_server_factory(vote_for="2")
    client = (
        "import json,sys,urllib.request\n"
        "url=sys.argv[1]; body=json.loads(sys.argv[2]); out=[]\n"
        "for _ in range(2):\n"
        "  req=urllib.request.Request(url,data=json.dumps(body).encode(),"
        "headers={'Content-Type':'application/json'})\n"
        "  raw=urllib.request.urlopen(req,timeout=5).read().decode()\n"
        "  out.append([l[6:] for l in raw.splitlines() if l.startswith('data: ')])\n"
        "print(json.dumps(out))\n"
    )
    body = {
        "model": "fake-x",
        "stream": True,
        "stream_options": {"include_usage": True},
        "messages": [{"role": "user", "content": "hi"}],
        "tools": VOTE_TOOLS,
    }
    res = mg_netns.run(
        [sys.executable, "-c", client, f"{server.base_url}/chat/completions", json.dumps(body)], timeout=20
    )
    assert res.returncode == 0, res.describe()
    first, second = json.loads(res.stdout)
    for stream in (first, second):
        assert stream[-1] == "[DONE]"
        assert json.loads(stream[-2])["usage"]["total_tokens"] == 15
    call1 = json.loads(first[1])["choices"][0]["delta"]["tool_calls"][0]["function"]
    call2 = json.loads(second[1])["choices"][0]["delta"]["tool_calls"][0]["function"]
    assert (
        call1["name"] == "new_answer" and json.loads(first[2])["choices"][0]["finish_reason"] == "tool_calls"
    )
    assert call2["name"] == "vote" and json.loads(call2["arguments"])["agent_id"] == "agent2"
    assert [d[1] for d in server.decisions()] == ["new_answer", "vote"]


def test_llm_brain_presentation_and_modes() -> None:
    write_dir = "/w/workspace_a_1/.worktree/ctx_1"
    presentation = {
        "model": "fake-a",
        "messages": [
            {
                "role": "system",
                "content": "**Your Workspace**: `/w/workspace_a_1` - Write actual files here.",
            },
            {
                "role": "user",
                "content": f"PROJECT PATHS:\nThe project is checked out at `{write_dir}`. Write.",
            },
        ],
        "tools": [
            {"type": "function", "function": {"name": "new_answer"}},
            {"type": "function", "function": {"name": llm_server.WRITE_TOOL}},
        ],
    }
    brain = llm_server.Brain(llm_server.Options(mode="write-file"))
    first = brain.decide(presentation)
    assert (first.tool, first.arguments["path"]) == (llm_server.WRITE_TOOL, f"{write_dir}/hello_e2e.txt")
    assert brain.decide(presentation).tool == "new_answer"  # after the write, present
    text_brain = llm_server.Brain(llm_server.Options(final="text"))
    assert text_brain.decide(presentation).kind == "text"
    silent = llm_server.Brain(llm_server.Options(mode="never-tool"))
    assert silent.decide({"model": "m", "messages": [], "tools": VOTE_TOOLS}).kind == "text"
    assert llm_server.pick_vote(["agent1", "agent2"], "agent9") == "agent1"


def _rpc(server_argv: list[str], requests: list[dict[str, object]]) -> list[dict[str, object]]:
    stdin = "".join(json.dumps(r) + "\n" for r in requests)
    res = subprocess.run(server_argv, input=stdin, capture_output=True, text=True, timeout=20, check=True)
    return [json.loads(line) for line in res.stdout.splitlines()]


def test_fs_standin_confines_paths(tmp_path: Path) -> None:
    allowed, outside = tmp_path / "allowed", tmp_path / "outside"
    allowed.mkdir()
    outside.mkdir()
    (allowed / "link").symlink_to(outside)
    standin = harness.install_fs_standin(tmp_path / "bin")

    def call(rid: int, name: str, **args: object) -> dict[str, object]:
        return {
            "jsonrpc": "2.0",
            "id": rid,
            "method": "tools/call",
            "params": {"name": name, "arguments": args},
        }

    replies = _rpc(
        [str(standin), str(allowed)],
        [
            {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18"}},
            {"jsonrpc": "2.0", "method": "notifications/initialized"},
            {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
            call(3, "write_file", path=str(allowed / "a.txt"), content="hi"),
            call(4, "write_file", path=str(outside / "b.txt"), content="no"),
            call(5, "write_file", path=str(allowed / "link" / "c.txt"), content="no"),
            call(6, "write_file", path=str(allowed / ".." / "outside" / "d.txt"), content="no"),
            call(7, "read_file", path=str(allowed / "a.txt")),
            call(8, "create_directory", path=str(allowed / "sub" / "deep")),
            call(9, "list_directory", path=str(allowed)),
        ],
    )
    by_id = {r["id"]: r for r in replies}
    assert set(by_id) == {1, 2, 3, 4, 5, 6, 7, 8, 9}  # the notification got no reply
    assert by_id[1]["result"]["protocolVersion"] == "2025-06-18"  # type: ignore[index]
    names = {t["name"] for t in by_id[2]["result"]["tools"]}  # type: ignore[index]
    assert {"write_file", "edit_file", "read_file", "list_directory", "create_directory"} <= names
    assert not by_id[3]["result"].get("isError")  # type: ignore[union-attr]
    for rid in (4, 5, 6):
        assert by_id[rid]["result"]["isError"] is True  # type: ignore[index]
    assert not list(outside.iterdir())
    assert by_id[7]["result"]["content"][0]["text"] == "hi"  # type: ignore[index]
    assert (allowed / "sub" / "deep").is_dir()
    listing = by_id[9]["result"]["content"][0]["text"]  # type: ignore[index]
    assert "[FILE] a.txt" in listing and "[DIR] sub" in listing
