"""Warm vs cold with the REAL massgen 0.1.97, offline: time to `LOG_DIR:`, whole 3-agent run, `doctor`, and
the warm server's memory. Appends a dated table to benchmarks/WARM_RESULTS.md.

    python3 benchmarks/warm.py [--cold N] [--warm N]      # ~2-4 minutes on 2 cores

massgen calls the internet at import: this script re-runs itself inside a private network namespace with
loopback alone (`unshare -n`, needs root) and LITELLM_LOCAL_MODEL_COST_MAP=True, against the scripted model
server. It uses the integration suite's cached massgen venv. Target (issue 16): warm LOG_DIR p50 <= 0.5 s and
>= 20x sooner than cold.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from massgen_skill.massgen.private_env import ensure  # noqa: E402
from massgen_skill.setup import scripted_model  # noqa: E402
from massgen_skill.setup.live import write_scripted_config  # noqa: E402
from massgen_skill.warm.paths import WARM_DIR_ENV, WARM_OFF_ENV  # noqa: E402

RUN_SH = ROOT / "scripts" / "massgen_run.sh"
SKILL_SH = ROOT / "scripts" / "massgen_skill.sh"
RESULTS = Path(__file__).with_name("WARM_RESULTS.md")
INSIDE = "MASSGEN_SKILL_BENCH_NETNS"
TIMEOUT = 300.0


def in_private_netns() -> bool:
    """Loopback alone: the only network this process can reach."""
    return [name for _, name in socket.if_nameindex()] == ["lo"]


def reexec_in_netns(argv: list[str]) -> int:
    script = 'ip link set lo up && exec "$@"'
    full = ["unshare", "-n", "sh", "-c", script, "sh", sys.executable, __file__, *argv]
    return subprocess.run(full, env={**os.environ, INSIDE: "1"}, check=False).returncode


def timed(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float | None, float, int]:
    """(seconds to the first LOG_DIR line, seconds to the end, exit code)."""
    start = time.monotonic()
    proc = subprocess.Popen(
        argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    first = None
    assert proc.stdout is not None
    for line in proc.stdout:
        if first is None and line.startswith("LOG_DIR: "):
            first = time.monotonic() - start
    code = proc.wait(timeout=TIMEOUT)
    return first, time.monotonic() - start, code


def scripted_server(root: Path, name: str) -> tuple[Path, subprocess.Popen[bytes]]:
    """A fresh scripted model (it keeps per-model state: one per run) and a 3-agent config for it."""
    port_file = root / f"{name}.port"
    llm = subprocess.Popen(
        [sys.executable, scripted_model.__file__, "--port", "0", "--port-file", str(port_file)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while not port_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port_file.read_text().strip()}/v1"
    return write_scripted_config(root / f"{name}.yaml", url), llm


def setup(root: Path) -> tuple[dict[str, str], Path]:
    venv = ensure()
    project, home = root / "project", root / "home"
    for folder in (project, home):
        folder.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    env = {
        **os.environ,
        "PATH": os.pathsep.join([str(venv.bin), os.environ.get("PATH", "")]),
        "HOME": str(home),
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "OPENAI_API_KEY": "anything",
        "NO_PROXY": "127.0.0.1,localhost",
        WARM_DIR_ENV: str(root / "warm"),
    }
    return env, project


def one_run(root: Path, name: str, env: dict[str, str], project: Path) -> tuple[float | None, float, int]:
    config, llm = scripted_server(root, name)
    try:
        return timed([str(RUN_SH), "--no-web", "--config", str(config), "What is 6 times 7?"], env, project)
    finally:
        llm.terminate()
        llm.wait(timeout=10)


@dataclass
class Figures:
    cold: list[tuple[float | None, float, int]]  # (to LOG_DIR, whole run, exit code) per run
    warm: list[tuple[float | None, float, int]]
    cold_doctor: float
    warm_doctor: float
    server_start: float
    server_rss_mb: float
    server_runs: int


def measure(args: argparse.Namespace) -> Figures:
    with tempfile.TemporaryDirectory(prefix="mgs-warm-bench-") as tmp:
        env, project = setup(Path(tmp))
        try:
            return _figures(args, Path(tmp), env, project)
        finally:
            skill(["warm", "stop"], env, project)


def skill(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SKILL_SH), *args], env=env, cwd=cwd, capture_output=True, text=True, check=False
    )


def _figures(args: argparse.Namespace, root: Path, env: dict[str, str], project: Path) -> Figures:
    config, llm = scripted_server(root, "doctor")
    llm.terminate()  # doctor only validates the config: no model is called
    doctor = [str(SKILL_SH), "doctor", "--config", str(config), "--json"]
    cold_env = {**env, WARM_OFF_ENV: "0"}
    cold = [one_run(root, f"cold{i}", cold_env, project) for i in range(args.cold)]
    cold_doctor = timed(doctor, cold_env, project)[1]
    started = time.monotonic()
    if skill(["warm", "start", "--json"], env, project).returncode != 0:
        raise SystemExit("warm start failed; see the server.log in the warm folder")
    server_start = time.monotonic() - started
    warm = [one_run(root, f"warm{i}", env, project) for i in range(args.warm)]
    warm_doctor = timed(doctor, env, project)[1]
    status = json.loads(skill(["warm", "status", "--json"], env, project).stdout)
    return Figures(
        cold, warm, cold_doctor, warm_doctor, server_start, float(status["rss_mb"]), int(status["runs"])
    )


def p50(values: list[float | None]) -> float:
    found = [v for v in values if v is not None]
    return statistics.median(found) if found else float("nan")


def render(fig: Figures) -> str:
    cold_ld, warm_ld = p50([c[0] for c in fig.cold]), p50([w[0] for w in fig.warm])
    cold_run, warm_run = p50([c[1] for c in fig.cold]), p50([w[1] for w in fig.warm])
    ratio = cold_ld / warm_ld if warm_ld else float("nan")
    verdict = "holds" if warm_ld <= 0.5 and ratio >= 20 else "MISSED"
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    doctor_ratio = fig.cold_doctor / fig.warm_doctor
    lines = [
        f"## {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} · nproc {os.cpu_count()} · "
        f"load {os.getloadavg()[0]:.2f} · commit {head.stdout.strip()}",
        "",
        "| figure | cold (p50) | warm (p50) | cold / warm |",
        "|---|---|---|---|",
        f"| launch → `LOG_DIR:` | {cold_ld:.2f} s | {warm_ld:.2f} s | {ratio:.0f}× |",
        f"| whole 3-agent run (scripted model) | {cold_run:.2f} s | {warm_run:.2f} s | "
        f"{cold_run / warm_run:.1f}× |",
        f"| `doctor --config` (runs `--validate`) | {fig.cold_doctor:.2f} s | {fig.warm_doctor:.2f} s | "
        f"{doctor_ratio:.1f}× |",
        "",
        f"Runs: cold {len(fig.cold)} (exit {[c[2] for c in fig.cold]}), warm {len(fig.warm)} "
        f"(exit {[w[2] for w in fig.warm]}). Server: `warm start` {fig.server_start:.1f} s, "
        f"{fig.server_rss_mb:.0f} MB resident after {fig.server_runs} forks. "
        f"Target (warm LOG_DIR p50 ≤ 0.5 s and ≥ 20× sooner than cold): **{verdict}**.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cold", type=int, default=2, help="cold runs (default 2)")
    parser.add_argument("--warm", type=int, default=5, help="warm runs (default 5)")
    args = parser.parse_args(argv)
    if not in_private_netns():
        if os.environ.get(INSIDE):
            print("could not enter a private network namespace", file=sys.stderr)
            return 1
        return reexec_in_netns(argv)
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    table = render(measure(args))
    print(table)
    old = (
        RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Warm vs cold (benchmarks/warm.py)\n\n"
    )
    RESULTS.write_text(old + table + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
