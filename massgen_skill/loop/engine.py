"""The checkpoint loop: build → structured evaluation → build fed the next tasks → …, until the verdict is
converged or the last round is done. Every step is an ordinary run; the loop record says where it stands, so
a loop that stopped for a review goes on from there (`loop --resume`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from massgen_skill.evaluate.artefacts import CONVERGED, Evaluation, NextTask, read_evaluation
from massgen_skill.evaluate.prompt import build_task, evaluation_subject
from massgen_skill.evaluate.workspaces import require_workspaces
from massgen_skill.exitcodes import RESULT_WORDS, ExitCode, SkillError
from massgen_skill.loop import record as loops
from massgen_skill.loop.record import LoopRecord, Round
from massgen_skill.loop.rounds import Ended, Left, follow, left_by, start_detached
from massgen_skill.massgen.config import find_config
from massgen_skill.prepare import criteria
from massgen_skill.prepare.argv import JobFlags
from massgen_skill.prepare.request import RunRequest
from massgen_skill.prepare.task import check_task
from massgen_skill.run.relay import Emitter

BUILD = "build"
EVALUATE = "evaluate"


@dataclass(frozen=True)
class Steps:
    """What the loop does to the world, injectable: launch a run, follow it, read what it left."""

    start: Callable[[RunRequest], str] = start_detached
    follow: Callable[[Path, str], Ended] = follow
    left_by: Callable[[Path, str], Left] = left_by
    evaluation: Callable[[Path | None], Evaluation] = read_evaluation
    now: Callable[[], float] = field(default=time.time)


def _request(loop: LoopRecord, task: str, evaluate: bool) -> RunRequest:
    context = loop.cwd_context
    if evaluate:  # the evaluation reads the work; it never writes to the project
        context = "ro" if context != "none" else "none"
    return RunRequest(
        task=task,
        cwd=Path(loop.cwd),
        mode="evaluate" if evaluate else "general",
        cwd_context=context,
        criteria=Path(loop.criteria) if evaluate else None,
        config=loop.config,
        web=loop.web,
        job=JobFlags(timeout=loop.timeout),
        structured=evaluate,
    )


def _tasks_of(done: Round | None) -> list[NextTask]:
    return [NextTask(**task) for task in done.next_tasks] if done else []


class LoopDriver:
    def __init__(self, loop: LoopRecord, emit: Emitter, steps: Steps | None = None) -> None:
        self.loop = loop
        self.emit = emit
        self.steps = steps or Steps()
        self.project = Path(loop.project_dir)

    def drive(self) -> int:
        """Advance until the loop ends or a review waits; the exit code."""
        loops.claim(self.loop)
        self.loop.state = loops.RUNNING
        loops.save(self.loop)
        self.emit.line("LOOP_ID", self.loop.loop_id)
        while True:
            try:
                code = self._step()
            except SkillError as error:  # a round refused before launch: the loop ends with its code
                return self._finish(loops.FAILED, error.code, error.message)
            if code is not None:
                return code

    def _step(self) -> int | None:
        loop = self.loop
        if not loop.rounds:
            self._start_build(1, None)
            return None
        current = loop.rounds[-1]
        phase, run_id = (EVALUATE, current.eval_run) if current.eval_run else (BUILD, current.build_run)
        assert run_id is not None
        ended = self.steps.follow(self.project, run_id)
        if ended.code == ExitCode.REVIEW_PENDING:
            return self._pause(current, run_id)
        if ended.code != ExitCode.OK:
            why = f"round {current.number} {phase} run {run_id} ended {ended.word}: {ended.reason or ''}"
            stopped = ended.code == ExitCode.STOPPED
            return self._finish(loops.STOPPED if stopped else loops.FAILED, ended.code, why.rstrip(": "))
        if phase == BUILD:
            return self._start_evaluation(current, run_id)
        return self._decide(current, run_id)

    def _stop_requested(self) -> bool:
        return loops.stop_path(self.loop).exists()

    def _launch(self, task: str, evaluate: bool) -> str:
        return self.steps.start(_request(self.loop, task, evaluate))

    def _start_build(self, number: int, previous: Round | None) -> int | None:
        if self._stop_requested():
            return self._finish(loops.STOPPED, ExitCode.STOPPED, "stopped by `stop` between rounds")
        task = build_task(self.loop.goal, _tasks_of(previous), previous.critique if previous else None)
        current = Round(number, build_run=self._launch(task, evaluate=False))
        self.loop.rounds.append(current)
        loops.save(self.loop)
        self.emit.line("ROUND", f"{number}/{self.loop.max_rounds} {BUILD} {current.build_run}")
        return None

    def _start_evaluation(self, current: Round, build_run: str) -> int | None:
        if self._stop_requested():
            return self._finish(loops.STOPPED, ExitCode.STOPPED, "stopped by `stop` after the build run")
        left = self.steps.left_by(self.project, build_run)
        where = str(left.workspace) if left.workspace else "(the team left no workspace)"
        if self.loop.cwd_context != "none":
            where = f"the project folder {self.loop.cwd} (read-only for you); the team's workspace: {where}"
        current.eval_run = self._launch(evaluation_subject(self.loop.goal, left.answer, where), evaluate=True)
        loops.save(self.loop)
        self.emit.line("ROUND", f"{current.number}/{self.loop.max_rounds} {EVALUATE} {current.eval_run}")
        return None

    def _decide(self, current: Round, eval_run: str) -> int | None:
        evaluation = self.steps.evaluation(self.steps.left_by(self.project, eval_run).workspace)
        current.verdict = evaluation.verdict
        current.scores = dict(evaluation.scores)
        current.next_tasks = [task.as_dict() for task in evaluation.tasks]
        current.critique = str(evaluation.critique_file) if evaluation.critique_file else None
        loops.save(self.loop)
        for warning in evaluation.warnings:
            self.emit.line("WARNING", f"round {current.number}: {warning}")
        if evaluation.verdict is None:
            why = f"round {current.number}: no usable verdict from run {eval_run}"
            return self._finish(loops.FAILED, ExitCode.NO_ANSWER, why)
        scores = " ".join(f"{k}={v}" for k, v in evaluation.scores)
        self.emit.line("VERDICT", f"{evaluation.verdict} (round {current.number}; {scores})")
        if evaluation.verdict == CONVERGED:
            return self._finish(loops.CONVERGED, ExitCode.OK, f"converged in round {current.number}")
        if current.number >= self.loop.max_rounds:
            why = f"{self.loop.max_rounds} rounds done, the last verdict is {evaluation.verdict}"
            return self._finish(loops.MAX_ROUNDS, ExitCode.OK, why)
        return self._start_build(current.number + 1, current)

    def _pause(self, current: Round, run_id: str) -> int:
        self.loop.state = loops.REVIEW_PENDING
        self.loop.pid = self.loop.pid_start = None
        loops.save(self.loop)
        self.emit.line("REVIEW_RUN", run_id)
        self.emit.line("LOOP", f"{loops.REVIEW_PENDING} (round {current.number}; then `loop --resume`)")
        return int(ExitCode.REVIEW_PENDING)

    def _finish(self, state: str, code: ExitCode, reason: str) -> int:
        loop = self.loop
        loop.state, loop.exit_code, loop.reason = state, int(code), reason
        loop.pid = loop.pid_start = None
        loop.ended_at = self.steps.now()
        loops.save(loop)
        loops.stop_path(loop).unlink(missing_ok=True)
        if code != ExitCode.OK:
            self.emit.line("REASON", reason)
        self.emit.line("LOOP", state)
        if code in RESULT_WORDS:  # a round's outcome; a round refused before launch has its error line
            self.emit.line("RESULT", RESULT_WORDS[code])
        return int(code)


@dataclass(frozen=True)
class LoopSettings:
    goal: str
    criteria: Path
    max_rounds: int
    cwd: Path
    project_dir: Path
    cwd_context: str = "rw"
    config: str | None = None
    web: bool | None = None
    timeout: int | None = None


def begin(settings: LoopSettings, now: float | None = None) -> LoopRecord:
    """A new loop's record, after the checks its evaluations would fail on (criteria, workspaces): a loop
    must not spend a build run only to learn that its evaluation cannot start."""
    check_task(settings.goal)
    if not settings.goal.strip():
        raise SkillError("loop: a goal is required (the first argument)")
    criteria.translate(criteria.load_criteria(settings.criteria))
    choice = find_config(settings.config, settings.cwd)
    require_workspaces(choice)
    config = choice.path if settings.config else None  # as found (absolute), so --resume from anywhere
    return LoopRecord(
        loop_id=loops.new_loop_id(now),
        project_dir=str(settings.project_dir),
        cwd=str(settings.cwd),
        goal=settings.goal,
        criteria=str(settings.criteria.resolve()),
        max_rounds=settings.max_rounds,
        cwd_context=settings.cwd_context,
        config=config,
        web=settings.web,
        timeout=settings.timeout,
        created_at=now or time.time(),
    )
