"""`status LOOP` and `stop LOOP`: where a loop stands (round k of N, the last verdict), and ending it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from massgen_skill.exitcodes import ExitCode
from massgen_skill.loop import record as loops
from massgen_skill.loop.record import LoopRecord
from massgen_skill.output import one_line
from massgen_skill.run import records
from massgen_skill.run.stopping import StopResult, stop_run


def current_run(loop: LoopRecord) -> str | None:
    last = loop.rounds[-1] if loop.rounds else None
    return (last.eval_run or last.build_run) if last else None


def describe(loop: LoopRecord) -> dict[str, Any]:
    state = loop.state
    if state == loops.RUNNING and not loops.driver_alive(loop):
        state = records.LOST  # its driver is gone: `loop --resume` goes on, `stop` ends it
    return {
        "loop_id": loop.loop_id,
        "state": state,
        "round": len(loop.rounds),
        "max_rounds": loop.max_rounds,
        "last_verdict": loop.last_verdict,
        "current_run": current_run(loop),
        "exit_code": loop.exit_code,
        "reason": loop.reason,
        "goal": loop.goal,
        "rounds": [vars(r) for r in loop.rounds],
    }


def render(info: dict[str, Any]) -> str:
    lines = [
        f"loop {info['loop_id']}: {info['state']}",
        f"  round: {info['round']} of {info['max_rounds']}",
        f"  last verdict: {info['last_verdict'] or '(none yet)'}",
    ]
    if info["current_run"]:
        lines.append(f"  current run: {info['current_run']}")
    for done in info["rounds"]:
        scores = " ".join(f"{k}={v}" for k, v in done["scores"].items())
        runs = f"build {done['build_run']}" + (f", evaluate {done['eval_run']}" if done["eval_run"] else "")
        lines.append(
            f"  round {done['number']}: {runs}" + (f"; {done['verdict']} {scores}" if done["verdict"] else "")
        )
    if info["exit_code"] is not None:
        lines.append(f"  exit code: {info['exit_code']}")
    if info["reason"]:
        lines.append(f"  reason: {info['reason']}")
    return "\n".join(one_line(line, 65536, collapse=False) for line in lines)


def stop_loop(loop: LoopRecord, grace: float) -> tuple[StopResult | None, ExitCode]:
    """Ask the loop's driver to end, stop its current run; a loop without a live driver is ended here."""
    if loop.state not in loops.ACTIVE_STATES:
        return None, ExitCode.OK
    loops.stop_path(loop).write_text("stop\n", encoding="utf-8")
    run_id = current_run(loop)
    result = None
    if run_id:
        run = records.load(records.record_path(Path(loop.project_dir), run_id))
        result = stop_run(run, grace)
    if not loops.driver_alive(loop):  # waiting for --resume (or its driver died): nobody else records the end
        loop.state, loop.exit_code, loop.reason = loops.STOPPED, int(ExitCode.STOPPED), "stopped by `stop`"
        loop.pid = loop.pid_start = None
        loops.save(loop)
        loops.stop_path(loop).unlink(missing_ok=True)
    return result, result.code if result else ExitCode.OK
