"""intent: the task's words → mode and project access; explicit options win; every choice is explained."""

from __future__ import annotations

import dataclasses

import pytest

from massgen_skill.prepare.intent import (
    AUTO,
    CWD_CONTEXTS,
    EXECUTE_MODES,
    MODES,
    Decision,
    Request,
    decide,
    infer_cwd_context,
    infer_mode,
)

# (task, expected mode, the word the reason must quote)
MODE_CASES = [
    # execute-spec
    ("Execute the spec we wrote yesterday", "execute-spec", "Execute the spec"),
    ("implement this specification", "execute-spec", "implement this specification"),
    ("Carry out our latest spec", "execute-spec", "Carry out our latest spec"),
    ("run the spec", "execute-spec", "run the spec"),
    # execute-plan
    ("Execute the plan", "execute-plan", "Execute the plan"),
    ("Please implement the latest plan now", "execute-plan", "implement the latest plan"),
    ("carry out that plan", "execute-plan", "carry out that plan"),
    ("RUN OUR PLAN", "execute-plan", "RUN OUR PLAN"),
    # plan-and-execute
    ("Plan and execute the Postgres migration", "plan-and-execute", "Plan and execute"),
    ("plan it then build it", "plan-and-execute", "plan it then build"),
    ("plan and implement a CLI", "plan-and-execute", "plan and implement"),
    ("plan then do the refactor", "plan-and-execute", "plan then do"),
    ("plan and carry out the upgrade", "plan-and-execute", "plan and carry out"),
    # spec
    ("Write a spec for the billing service", "spec", "spec"),
    ("Draft specs for the importer", "spec", "specs"),
    ("A specification for the sync protocol", "spec", "specification"),
    ("Gather the requirements for search", "spec", "requirements"),
    ("Write a PRD for dark mode", "spec", "PRD"),
    # plan
    ("Plan the migration to Postgres", "plan", "Plan"),
    ("Help with planning the release", "plan", "planning"),
    ("A roadmap for v2", "plan", "roadmap"),
    ("break it down into steps", "plan", "break it down"),
    ("break this down please", "plan", "break this down"),
    ("break down the epic", "plan", "break down"),
    ("Set milestones for Q3", "plan", "milestones"),
    # evaluate
    ("Review src/ for race conditions", "evaluate", "Review"),
    ("critique my essay", "evaluate", "critique"),
    ("criticise the draft", "evaluate", "criticise"),
    ("criticize the draft", "evaluate", "criticize"),
    ("Evaluate three caching designs", "evaluate", "Evaluate"),
    ("an evaluation of the API", "evaluate", "evaluation"),
    ("assess the risk", "evaluate", "assess"),
    ("Audit the dependencies", "evaluate", "Audit"),
    ("grade my homework", "evaluate", "grade"),
    ("judge which logo is best", "evaluate", "judge"),
    ("Rate these three designs", "evaluate", "Rate"),
    ("please rate it", "evaluate", "rate"),
]

GENERAL_TASKS = [
    "What is 6 times 7?",
    "Write a haiku about autumn",
    "Compare three designs for the cache layer",
    # words that only look like mode words
    "Implement a rate limiter",  # "rate" as a noun
    "Reduce the error rate of the parser",
    "Build a production-grade cache",  # "-grade" is not the verb
    "Upgrade the dependencies",
    "Name the planets",
    "A special offer for the landing page",
    "",
]


@pytest.mark.parametrize(("task", "mode", "word"), MODE_CASES)
def test_infer_mode_each_word(task: str, mode: str, word: str) -> None:
    got, reason = infer_mode(task)
    assert got == mode
    assert reason.startswith(f"mode {mode}: ")
    assert repr(word) in reason  # the reason quotes the words that decided it


@pytest.mark.parametrize("task", GENERAL_TASKS)
def test_infer_mode_general(task: str) -> None:
    assert infer_mode(task) == ("general", "mode general: no review, plan or spec wording in the task")


@pytest.mark.parametrize(
    ("task", "mode"),
    [
        ("Review the spec", "spec"),  # spec before evaluate
        ("Review our plan", "plan"),  # plan before evaluate
        ("Write requirements and a roadmap", "spec"),  # spec before plan
        ("Plan and execute the review", "plan-and-execute"),  # before plan and evaluate
        ("Execute the plan, then review it", "execute-plan"),  # before plan and evaluate
        ("Execute the spec and the plan", "execute-spec"),  # first rule wins
    ],
)
def test_infer_mode_precedence(task: str, mode: str) -> None:
    assert infer_mode(task)[0] == mode


# (task, expected cwd context, words the reason must quote)
CWD_CASES = [
    ("What is 6 times 7?", "none", ()),
    ("Write a haiku about autumn", "none", ()),
    ("", "none", ()),
    ("Fix the bug in src/app.py", "rw", ("fix", "src")),
    ("Refactor the parser module", "rw", ("refactor", "module")),
    ("Add tests for utils.py", "rw", ("add",)),
    ("Update the README", "rw", ("update", "README")),
    ("Create a file named hello.txt in this repo", "rw", ("create", "file")),
    ("Review the codebase for race conditions", "ro", ("review", "codebase")),
    ("Explain how this repo works", "ro", ("explain", "repo")),
    ("Summarize docs/architecture.md", "ro", ("summarize", "docs")),
    ("What does main.py do?", "ro", ("main.py",)),
]


@pytest.mark.parametrize(("task", "context", "words"), CWD_CASES)
def test_infer_cwd_context(task: str, context: str, words: tuple[str, ...]) -> None:
    got, reason = infer_cwd_context(task)
    assert got == context
    assert reason.startswith(f"cwd context {context}: ")
    for word in words:
        assert repr(word) in reason


def test_write_verb_beats_read_verb() -> None:
    assert infer_cwd_context("Review and fix the code in src/")[0] == "rw"


def test_no_project_word_means_none_even_with_a_write_verb() -> None:
    assert infer_cwd_context("Write a poem about the sea")[0] == "none"


# --- decide ----------------------------------------------------------------------------------------------


def test_decide_auto_uses_the_words_and_explains() -> None:
    d = decide(Request("Review src/app.py for race conditions"))
    assert (d.mode, d.cwd_context, d.preset, d.plan_target) == ("evaluate", "ro", "evaluation", None)
    assert d.reasons == (
        "mode evaluate: the task says 'Review'",
        "cwd context ro: the task asks to 'review' the project ('src') without changes",
        "criteria preset evaluation: evaluate mode without custom criteria",
    )


@pytest.mark.parametrize("mode", MODES)
def test_explicit_mode_wins_over_the_words(mode: str) -> None:
    d = decide(Request("Review the plan and the spec", mode=mode, cwd_context="none"))
    assert d.mode == mode
    assert d.reasons[0] == f"mode {mode}: asked for explicitly"


@pytest.mark.parametrize("context", CWD_CONTEXTS)
def test_explicit_cwd_context_wins_over_the_words(context: str) -> None:
    d = decide(Request("Fix the bug in src/app.py", mode="general", cwd_context=context))
    assert d.cwd_context == context
    assert d.reasons[1] == f"cwd context {context}: asked for explicitly"


@pytest.mark.parametrize(
    ("request_", "preset", "criteria_reason"),
    [
        (Request("Review it", mode="evaluate"), "evaluation", False),
        (Request("Review it", mode="evaluate", has_criteria=True), None, True),
        (Request("Review it", mode="evaluate", preset="analysis"), "analysis", False),
        (Request("Review it", mode="evaluate", has_criteria=True, preset="analysis"), "analysis", True),
        (Request("Compare options", mode="general"), None, False),
        (Request("Compare options", mode="general", preset="prompt"), "prompt", False),
        (Request("Plan it", mode="plan"), None, False),
        (Request("Compare options", mode="general", has_criteria=True), None, True),
    ],
)
def test_decide_preset(request_: Request, preset: str | None, criteria_reason: bool) -> None:
    d = decide(request_)
    assert d.preset == preset
    auto_reason = "criteria preset evaluation: evaluate mode without custom criteria"
    assert (auto_reason in d.reasons) == (preset == "evaluation" and request_.preset is None)
    assert any(r.startswith("criteria: ") for r in d.reasons) == criteria_reason


def test_evaluate_inferred_from_words_gets_the_preset() -> None:
    assert decide(Request("Please critique this essay")).preset == "evaluation"


@pytest.mark.parametrize("mode", EXECUTE_MODES)
def test_execute_modes_default_to_latest(mode: str) -> None:
    d = decide(Request("", mode=mode))
    assert d.plan_target == "latest"
    assert f"{mode}: no plan named, so the latest one" in d.reasons


@pytest.mark.parametrize("mode", EXECUTE_MODES)
def test_execute_modes_keep_a_named_target(mode: str) -> None:
    d = decide(Request("", mode=mode, plan_target="plan_20250101_000000_000001"))
    assert d.plan_target == "plan_20250101_000000_000001"
    assert not any("latest" in r for r in d.reasons)


def test_execute_mode_inferred_from_words_defaults_to_latest() -> None:
    assert decide(Request("Execute the plan")).plan_target == "latest"


@pytest.mark.parametrize("mode", [m for m in MODES if m not in EXECUTE_MODES])
def test_other_modes_get_no_target(mode: str) -> None:
    assert decide(Request("task", mode=mode)).plan_target is None


@pytest.mark.parametrize(
    "task",
    [
        "Plan and execute a haiku",  # no project words: would be none
        "plan and execute the docs folder reorganisation",  # project words, no write verb: would be ro
    ],
)
def test_plan_and_execute_forces_rw_when_auto(task: str) -> None:
    d = decide(Request(task))
    assert d.mode == "plan-and-execute"
    assert d.cwd_context == "rw"
    assert "cwd context rw: plan-and-execute builds in the project" in d.reasons


@pytest.mark.parametrize("context", CWD_CONTEXTS)
def test_plan_and_execute_keeps_an_explicit_context(context: str) -> None:
    d = decide(Request("Plan and execute a haiku", cwd_context=context))
    assert d.cwd_context == context


def test_defaults_are_auto_and_decision_is_frozen() -> None:
    r = Request("x")
    assert (r.mode, r.cwd_context, r.has_criteria, r.preset, r.plan_target) == (AUTO, AUTO, False, None, None)
    d = decide(r)
    assert isinstance(d, Decision)
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.mode = "plan"  # type: ignore[misc]


@pytest.mark.parametrize(("task", "mode", "_word"), MODE_CASES)
def test_every_reason_is_one_line(task: str, mode: str, _word: str) -> None:
    for reason in decide(Request(task + "\nsecond line")).reasons:
        assert "\n" not in reason
