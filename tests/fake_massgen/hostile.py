"""A hostile `massgen`: prints and does exactly what its script says, to attack the wrapper's parsing.

Standalone (stdlib only, no import of the friendly fake). Driven by environment knobs:

  HOSTILE_MASSGEN_SCRIPT   JSON list of steps, run in order (default: a well-behaved run, see DEFAULT)
  HOSTILE_MASSGEN_STARTED  a file to create at start (tests check that a refused run never launched)

Steps (one key each); in every string `{log}` is this run's new log folder (created at start, with
turn_1/attempt_1) and `{cwd}` the working directory:
  {"out": s}              write s to stdout as is (no newline added: a missing one makes a torn line);
                          lone surrogates become raw bytes (`"\\udcff"` writes byte 0xff)
  {"err": s}              the same on stderr
  {"file": [path, text]}  write a file, parents created
  {"symlink": [target, link]}
  {"flood": [n, stream]}  n lines of 100 characters on "out" or "err"
  {"long": n}             n characters on stdout, no newline (a line longer than any marker)
  {"wait": path}          block until path exists (at most 60 s)
  {"sleep": seconds}
  {"exit": code}          exit at once, whatever is half-written
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

ANSWER = "{log}/turn_1/final/agent_a/answer.txt"
DEFAULT = [
    {"out": "LOG_DIR: {log}\n"},
    {"file": [ANSWER, "the answer\n"]},
    {"out": "ANSWER: " + ANSWER + "\n"},
    {"exit": 0},
]


def _new_log_dir(cwd: Path) -> Path:
    stamp = time.strftime("%Y%m%d_%H%M%S")
    log = cwd / ".massgen" / "massgen_logs" / f"log_{stamp}_{time.time_ns() % 1_000_000:06d}"
    (log / "turn_1" / "attempt_1").mkdir(parents=True)
    return log


def _expand(text: str, log: Path, cwd: Path) -> str:
    return text.replace("{log}", str(log)).replace("{cwd}", str(cwd))


def _write(stream: str, text: str) -> None:
    out = sys.stdout.buffer if stream == "out" else sys.stderr.buffer
    out.write(text.encode("utf-8", "surrogateescape"))
    out.flush()


def _wait(path: str) -> None:
    deadline = time.monotonic() + 60
    while not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.05)


def _step(step: dict, log: Path, cwd: Path) -> None:
    ((kind, arg),) = step.items()
    if kind in ("out", "err"):
        _write(kind, _expand(arg, log, cwd))
    elif kind == "file":
        path = Path(_expand(arg[0], log, cwd))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_expand(arg[1], log, cwd), encoding="utf-8")
    elif kind == "symlink":
        os.symlink(_expand(arg[0], log, cwd), _expand(arg[1], log, cwd))
    elif kind == "flood":
        count, stream = arg
        chunk = ("x" * 99 + "\n") * 1000
        for _ in range(count // 1000):
            _write(stream, chunk)
    elif kind == "long":
        _write("out", "y" * int(arg))
    elif kind == "wait":
        _wait(_expand(arg, log, cwd))
    elif kind == "sleep":
        time.sleep(float(arg))
    elif kind == "exit":
        os._exit(int(arg))
    else:
        raise SystemExit(f"hostile massgen: unknown step {kind!r}")


def main() -> int:
    started = os.environ.get("HOSTILE_MASSGEN_STARTED")
    if started:
        Path(started).write_text(json.dumps(sys.argv[1:]), encoding="utf-8")
    cwd = Path.cwd()
    log = _new_log_dir(cwd)
    script = json.loads(os.environ.get("HOSTILE_MASSGEN_SCRIPT") or "null") or DEFAULT
    for step in script:
        _step(step, log, cwd)
    return 0
