#!/usr/bin/env python3
"""Offline stand-in for ``@modelcontextprotocol/server-filesystem`` (MCP over stdio, standard library only).

massgen 0.1.97 starts the filesystem MCP server as ``mcp-server-filesystem <allowed dir>...`` when that name
is on PATH, else as ``npx -y @modelcontextprotocol/server-filesystem <allowed dir>...`` (which needs the
internet). `doctor --live` and the test suite install this file as ``mcp-server-filesystem`` in a folder
at the front of massgen's PATH, so a live check needs neither npx nor the network.

Protocol: newline-delimited JSON-RPC 2.0 on stdin/stdout (``initialize``, ``tools/list``, ``tools/call``,
``ping``; notifications are ignored). Every path argument must resolve inside one of the allowed
directories given on the command line. If ``MGSKILL_FS_MCP_LOG`` is set, argv and every call are appended
to that file as JSONL.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

PROTOCOL_VERSION = "2024-11-05"
LOG_VARIABLE = "MGSKILL_FS_MCP_LOG"  # argv and every call are appended here (JSONL) when set


def _log(entry: dict[str, Any]) -> None:
    path = os.environ.get(LOG_VARIABLE)
    if not path:
        return
    entry = {"t": time.time(), "pid": os.getpid(), **entry}
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry) + "\n")


class ToolError(Exception):
    pass


class FileSystem:
    def __init__(self, allowed: list[str]) -> None:
        self.allowed = [os.path.realpath(os.path.expanduser(p)) for p in allowed]

    def resolve(self, raw: Any) -> str:
        if not isinstance(raw, str) or not raw:
            raise ToolError("path must be a non-empty string")
        path = os.path.abspath(os.path.expanduser(raw))
        real = os.path.realpath(path)
        if not os.path.exists(real):
            # new file: its parent must be inside an allowed dir
            parent = os.path.realpath(os.path.dirname(path))
            real = os.path.join(parent, os.path.basename(path))
        for root in self.allowed:
            if real == root or real.startswith(root.rstrip(os.sep) + os.sep):
                return real
        raise ToolError(
            f"Access denied - path outside allowed directories: {raw} not in {', '.join(self.allowed)}"
        )

    # --- tools -------------------------------------------------------------------------------------------
    def read_text_file(self, path: str, head: int | None = None, tail: int | None = None) -> str:
        with open(self.resolve(path), encoding="utf-8") as fh:
            lines = fh.read().splitlines(keepends=True)
        if head:
            lines = lines[:head]
        if tail:
            lines = lines[-tail:]
        return "".join(lines)

    def read_file(self, path: str, head: int | None = None, tail: int | None = None) -> str:
        return self.read_text_file(path, head, tail)

    def read_multiple_files(self, paths: list[str]) -> str:
        parts = []
        for p in paths:
            try:
                parts.append(f"{p}:\n{self.read_text_file(p)}\n")
            except (OSError, ToolError) as exc:
                parts.append(f"{p}: Error - {exc}")
        return "\n---\n".join(parts)

    def write_file(self, path: str, content: str) -> str:
        target = self.resolve(path)
        with open(target, "w", encoding="utf-8") as fh:
            fh.write(content)
        return f"Successfully wrote to {path}"

    def edit_file(self, path: str, edits: list[dict[str, str]], dryRun: bool = False) -> str:
        target = self.resolve(path)
        with open(target, encoding="utf-8") as fh:
            text = fh.read()
        for edit in edits:
            old, new = edit.get("oldText", ""), edit.get("newText", "")
            if old not in text:
                raise ToolError(f"Could not find exact match for edit: {old!r}")
            text = text.replace(old, new, 1)
        if not dryRun:
            with open(target, "w", encoding="utf-8") as fh:
                fh.write(text)
        return f"Applied {len(edits)} edit(s) to {path}"

    def create_directory(self, path: str) -> str:
        os.makedirs(self.resolve(path), exist_ok=True)
        return f"Successfully created directory {path}"

    def list_directory(self, path: str) -> str:
        target = self.resolve(path)
        entries = sorted(os.listdir(target))
        return "\n".join(
            ("[DIR] " if os.path.isdir(os.path.join(target, e)) else "[FILE] ") + e for e in entries
        )

    def directory_tree(self, path: str) -> str:
        def walk(p: str) -> list[dict[str, Any]]:
            out: list[dict[str, Any]] = []
            for e in sorted(os.listdir(p)):
                full = os.path.join(p, e)
                if os.path.isdir(full):
                    out.append({"name": e, "type": "directory", "children": walk(full)})
                else:
                    out.append({"name": e, "type": "file"})
            return out

        return json.dumps(walk(self.resolve(path)), indent=2)

    def move_file(self, source: str, destination: str) -> str:
        src, dst = self.resolve(source), self.resolve(destination)
        if os.path.exists(dst):
            raise ToolError(f"Destination already exists: {destination}")
        os.rename(src, dst)
        return f"Successfully moved {source} to {destination}"

    def get_file_info(self, path: str) -> str:
        st = os.stat(self.resolve(path))
        kind = "directory" if os.path.isdir(self.resolve(path)) else "file"
        return f"size: {st.st_size}\nmodified: {time.ctime(st.st_mtime)}\ntype: {kind}"

    def list_allowed_directories(self) -> str:
        return "Allowed directories:\n" + "\n".join(self.allowed)


def _schema(props: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": required, "additionalProperties": False}


_STR = {"type": "string"}
TOOLS: list[dict[str, Any]] = [
    {
        "name": "read_text_file",
        "description": "Read a text file (path inside the allowed directories).",
        "inputSchema": _schema(
            {"path": _STR, "head": {"type": "number"}, "tail": {"type": "number"}}, ["path"]
        ),
    },
    {
        "name": "read_file",
        "description": "Read a text file (deprecated alias of read_text_file).",
        "inputSchema": _schema(
            {"path": _STR, "head": {"type": "number"}, "tail": {"type": "number"}}, ["path"]
        ),
    },
    {
        "name": "read_multiple_files",
        "description": "Read several text files.",
        "inputSchema": _schema({"paths": {"type": "array", "items": _STR}}, ["paths"]),
    },
    {
        "name": "write_file",
        "description": "Create or overwrite a file with the given content.",
        "inputSchema": _schema({"path": _STR, "content": _STR}, ["path", "content"]),
    },
    {
        "name": "edit_file",
        "description": "Replace exact text in a file.",
        "inputSchema": _schema(
            {
                "path": _STR,
                "edits": {
                    "type": "array",
                    "items": _schema({"oldText": _STR, "newText": _STR}, ["oldText", "newText"]),
                },
                "dryRun": {"type": "boolean", "default": False},
            },
            ["path", "edits"],
        ),
    },
    {
        "name": "create_directory",
        "description": "Create a directory (with parents).",
        "inputSchema": _schema({"path": _STR}, ["path"]),
    },
    {
        "name": "list_directory",
        "description": "List a directory; entries prefixed [FILE] or [DIR].",
        "inputSchema": _schema({"path": _STR}, ["path"]),
    },
    {
        "name": "directory_tree",
        "description": "Recursive JSON tree of a directory.",
        "inputSchema": _schema({"path": _STR}, ["path"]),
    },
    {
        "name": "move_file",
        "description": "Move or rename a file.",
        "inputSchema": _schema({"source": _STR, "destination": _STR}, ["source", "destination"]),
    },
    {
        "name": "get_file_info",
        "description": "Size, time and type of a path.",
        "inputSchema": _schema({"path": _STR}, ["path"]),
    },
    {
        "name": "list_allowed_directories",
        "description": "List the directories this server may access.",
        "inputSchema": _schema({}, []),
    },
]
TOOL_NAMES = {t["name"] for t in TOOLS}


def handle(fs: FileSystem, request: dict[str, Any]) -> dict[str, Any] | None:
    method = request.get("method")
    rid = request.get("id")
    if rid is None:  # notification
        return None
    if method == "initialize":
        client_version = (request.get("params") or {}).get("protocolVersion") or PROTOCOL_VERSION
        result: dict[str, Any] = {
            "protocolVersion": client_version,
            "capabilities": {"tools": {"listChanged": False}},
            "serverInfo": {"name": "mgskill-fs-standin", "version": "0.1.0"},
        }
    elif method == "ping":
        result = {}
    elif method == "tools/list":
        result = {"tools": TOOLS}
    elif method == "tools/call":
        params = request.get("params") or {}
        name = params.get("name")
        args = params.get("arguments") or {}
        if name not in TOOL_NAMES:
            return {
                "jsonrpc": "2.0",
                "id": rid,
                "error": {"code": -32602, "message": f"Unknown tool: {name}"},
            }
        func: Callable[..., str] = getattr(fs, name)
        try:
            text = func(**args)
            result = {"content": [{"type": "text", "text": text}]}
        except (OSError, ToolError, TypeError, UnicodeDecodeError) as exc:
            result = {"content": [{"type": "text", "text": f"Error: {exc}"}], "isError": True}
        _log({"call": name, "arguments": args, "result": result})
    elif method in ("resources/list", "prompts/list"):
        result = {method.split("/")[0]: []}
    else:
        return {
            "jsonrpc": "2.0",
            "id": rid,
            "error": {"code": -32601, "message": f"Method not found: {method}"},
        }
    return {"jsonrpc": "2.0", "id": rid, "result": result}


def main(argv: list[str]) -> int:
    _log({"argv": argv, "cwd": os.getcwd()})
    if not argv:
        print("usage: mcp-server-filesystem <allowed-directory> [...]", file=sys.stderr)
        return 1
    fs = FileSystem(argv)
    print(f"Secure MCP Filesystem Server (stand-in) running on stdio; allowed: {fs.allowed}", file=sys.stderr)
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            request = json.loads(line)
        except json.JSONDecodeError:
            reply: dict[str, Any] | None = {
                "jsonrpc": "2.0",
                "id": None,
                "error": {"code": -32700, "message": "Parse error"},
            }
        else:
            reply = handle(fs, request) if isinstance(request, dict) else None
        if reply is not None:
            sys.stdout.write(json.dumps(reply) + "\n")
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
