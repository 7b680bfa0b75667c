"""intent: the request's structure → mode and project access; explicit options win; every choice is explained.

The broad figures come from the labelled corpus (test_intent_corpus.py); here: the issue's examples, the rules
one by one, explicit options, targets, the confirmation rule, and time linear in the task's length.
"""

from __future__ import annotations

import dataclasses
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from massgen_skill.prepare.intent import (
    AUTO,
    CWD_CONTEXTS,
    EXECUTE_MODES,
    MODES,
    REVIEWLESS_MODES,
    Decision,
    Request,
    confirm_command,
    decide,
    read_task,
)

# The examples of issue 12: (task, mode, access, plan target) as a careful reader decides them.
ISSUE_EXAMPLES = [
    ("Don't change any files; just explain utils.py", "general", "ro", None),
    ("Do not modify anything. Review utils.py", "evaluate", "ro", None),
    ("Update requirements.txt to pin numpy", "general", "rw", None),
    ("Write a blog post about our roadmap", "general", "none", None),
    ("Add a review button to the settings page in src/ui.tsx", "general", "rw", None),
    ("Review my plan for the cache layer in docs/cache-plan.md", "evaluate", "ro", None),
    ("Plan how to add a cache layer to this service", "plan", "ro", None),
    ("Execute the plan in .massgen/plans/x", "execute-plan", "rw", "x"),
    ("Plan and implement a caching layer for utils.py", "plan-and-execute", "rw", None),
]


@pytest.mark.parametrize(("task", "mode", "access", "target"), ISSUE_EXAMPLES)
def test_issue_examples_decided_as_a_careful_reader_would(
    task: str, mode: str, access: str, target: str | None
) -> None:
    d = decide(Request(task))
    assert (d.mode, d.cwd_context) == (mode, access)
    if mode in EXECUTE_MODES:
        assert d.plan_target == target
    assert d.needs_confirmation == (mode in REVIEWLESS_MODES)


# (task, mode): the main action and its object decide, not a word anywhere.
STRUCTURE_CASES = [
    ("Review my plan", "evaluate"),
    ("Review the requirements in docs/req.md for gaps", "evaluate"),
    ("Write a spec for the billing service", "spec"),
    ("Draft a product requirements document for a habit tracker", "spec"),
    ("Write a PRD for dark mode", "spec"),
    ("Specify the protocol for a chat service", "spec"),
    ("Spec out the new billing API for this service", "spec"),
    ("Make a plan for splitting the monolith", "plan"),
    ("Create a detailed plan to move this project to Kubernetes", "plan"),
    ("break it down into steps", "plan"),
    ("Help with planning the release", "plan"),
    ("A roadmap for v2", "plan"),
    ("I need a plan for the migration", "plan"),
    ("Do a security review of the login code", "evaluate"),
    ("Give me feedback on the proposal in docs/proposal.md", "evaluate"),
    ("Could you critique my essay?", "evaluate"),
    ("Rate these three designs", "evaluate"),
    ("Add a plans page to the web app", "general"),
    ("Add a specs section to the docs index in docs/index.md", "general"),
    ("Fix the failing RSpec specs in spec/models/user_spec.rb", "general"),
    ("Write a song titled The Review", "general"),
    ("Create an evaluation.py script that computes accuracy", "general"),
    ("Implement a rate limiter", "general"),
    ("Build a production-grade cache", "general"),
    ("Implement the SpecLoader class in loaders/spec.py", "general"),
    ("Write a function plan_route(a, b) in routing.py", "general"),
    ("What is a code review and why do teams do them?", "general"),
    ("Review and fix the code in src/", "general"),  # the review leads to a change
    ("Plan and execute the review", "plan-and-execute"),
    ("Plan it then build it: a CSV export", "plan-and-execute"),
    ("Make a plan for adding auth to this app and then implement it", "plan-and-execute"),
    ("Add caching to the API client in this repo, planning first", "plan-and-execute"),
    ("Plan the refactoring of the payment module, without changing any code yet", "plan"),
    ("Execute the plan", "execute-plan"),
    ("carry out that plan", "execute-plan"),
    ("Please implement the latest plan now", "execute-plan"),
    ("Implement the spec", "execute-spec"),
    ("Build what the plan describes", "execute-plan"),
    ("Implement a plan", "general"),  # no existing plan named
    ("Implement the plan executor", "general"),
    ("", "general"),
]


@pytest.mark.parametrize(("task", "mode"), STRUCTURE_CASES)
def test_mode_from_the_main_action(task: str, mode: str) -> None:
    reading = read_task(task)
    assert reading.mode == mode
    assert reading.mode_reason.startswith(f"mode {mode}: ")


@pytest.mark.parametrize(
    ("task", "word"),
    [
        ("Write a blog post about our roadmap", "roadmap"),
        ("Add a review button to the settings page in src/ui.tsx", "review"),
    ],
)
def test_a_trigger_word_that_only_names_something_is_said_so(task: str, word: str) -> None:
    reason = read_task(task).mode_reason
    assert repr(word) in reason and "less effect" in reason


# (task, access): rw only when the task asks to change the project; limits and negations cap it.
ACCESS_CASES = [
    ("What is 6 times 7?", "none"),
    ("Write a haiku about autumn", "none"),
    ("Write a Go function that reverses a slice", "none"),
    ("Explain the difference between TCP and UDP", "none"),
    ("Critique this essay: I changed src/app.py and fixed the bug", "none"),  # the work is in the task
    ("Fix the bug in src/app.py", "rw"),
    ("Refactor the parser module", "rw"),
    ("Refactor parser.py without changing its behaviour", "rw"),  # a limit on the result, not on edits
    ("Add unit tests for utils.py", "rw"),
    ("Create a file named hello.txt in this repo", "rw"),
    ("Look at src/db.py and fix the pooling", "rw"),
    ("Review the codebase for race conditions", "ro"),
    ("Explain how this codebase is tested", "ro"),
    ("What does main.py do?", "ro"),
    ("Write a summary of the changes in this repo", "ro"),  # the answer is the summary
    ("Generate a report on test coverage for this repo", "ro"),
    ("Update the report in docs/report.md", "rw"),  # an existing file changed
    ("Fix the bug in app.py, read only", "ro"),
    ("Read only: find out why the build fails in this repo", "ro"),
    ("Without modifying the files, tell me what config.py does", "ro"),
    ("Explain the crash in core.py but do not fix it", "ro"),
    ("I don't want any files changed: explain how caching works in this project", "ro"),
    ("Update the README, no edits to the code though", "ro"),  # unsure: the less effect
    ("Write a spec for the import feature in this project", "ro"),
    ("Plan the migration of this project to Postgres", "ro"),
]


@pytest.mark.parametrize(("task", "access"), ACCESS_CASES)
def test_access(task: str, access: str) -> None:
    reading = read_task(task)
    assert reading.cwd_context == access
    assert reading.access_reason.startswith(f"cwd context {access}: ")


def test_a_limit_is_quoted_in_the_reason() -> None:
    reason = read_task("Don't change any files; just explain utils.py").access_reason
    assert '"Don\'t change"' in reason and "'utils.py'" in reason


@pytest.mark.parametrize(
    ("task", "target"),
    [
        ("Execute the plan in .massgen/plans/x", "x"),
        ("Execute the plan in .massgen/plans/plan_20250101_000000_000001/", "plan_20250101_000000_000001"),
        ("Execute plan_20250101_000000_000001", "plan_20250101_000000_000001"),
        ("Execute the spec in .massgen/plans/plan_20250202_101010_000003.", "plan_20250202_101010_000003"),
        ("Execute the plan", "latest"),
        ("Execute the plan in .massgen/plans/\x01evil", "latest"),  # not a plan folder name
    ],
)
def test_an_execute_request_passes_the_plan_it_names(task: str, target: str) -> None:
    d = decide(Request(task))
    assert d.mode in EXECUTE_MODES
    assert d.plan_target == target


def test_an_explicit_target_wins_over_the_named_one() -> None:
    d = decide(Request("Execute the plan in .massgen/plans/x", plan_target="y"))
    assert d.plan_target == "y"


# --- explicit options --------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_explicit_mode_wins_over_the_words(mode: str) -> None:
    d = decide(Request("Review the plan and the spec", mode=mode, cwd_context="none"))
    assert d.mode == mode
    assert d.reasons[0] == f"mode {mode}: asked for explicitly"
    assert not d.needs_confirmation  # access was given explicitly


@pytest.mark.parametrize("context", CWD_CONTEXTS)
def test_explicit_cwd_context_wins_over_the_words(context: str) -> None:
    d = decide(Request("Fix the bug in src/app.py", mode="general", cwd_context=context))
    assert d.cwd_context == context
    assert d.reasons[1] == f"cwd context {context}: asked for explicitly"


@pytest.mark.parametrize("mode", REVIEWLESS_MODES)
def test_reviewless_modes_need_confirmation_unless_access_is_explicit(mode: str) -> None:
    auto = decide(Request("Fix the bug in src/app.py", mode=mode))
    assert (auto.cwd_context, auto.needs_confirmation) == ("rw", True)
    assert any(r.startswith("not started without confirmation") for r in auto.reasons)
    confirmed = decide(Request("Fix the bug in src/app.py", mode=mode, cwd_context="rw"))
    assert (confirmed.cwd_context, confirmed.needs_confirmation) == ("rw", False)


@pytest.mark.parametrize("mode", [m for m in MODES if m not in REVIEWLESS_MODES])
def test_other_modes_never_need_confirmation(mode: str) -> None:
    assert not decide(Request("Fix the bug in src/app.py", mode=mode)).needs_confirmation


def test_confirm_command_keeps_the_options_and_adds_rw() -> None:
    d = decide(Request("Plan and implement a cache for utils.py"))
    argv = [
        "--mode",
        "auto",
        "--cwd-context=auto",
        "--timeout",
        "60",
        "Plan and implement a cache for utils.py",
    ]
    command = confirm_command(d, argv, ("massgen_run.sh",), argv[-1])
    assert command == (
        "massgen_run.sh --mode plan-and-execute --cwd-context rw --timeout 60 "
        "'Plan and implement a cache for utils.py'"
    )


def test_confirm_command_shows_a_long_task_as_a_placeholder() -> None:
    task = "Plan and implement " + "a very long description " * 20
    command = confirm_command(decide(Request(task)), ["--", task], ("massgen-skill", "run"), task)
    assert command == "massgen-skill run --mode plan-and-execute --cwd-context rw -- '<the same task>'"


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


@pytest.mark.parametrize("mode", [m for m in MODES if m not in EXECUTE_MODES])
def test_other_modes_get_no_target(mode: str) -> None:
    assert decide(Request("Execute the plan in .massgen/plans/x", mode=mode)).plan_target is None


def test_defaults_are_auto_and_decision_is_frozen() -> None:
    r = Request("x")
    assert (r.mode, r.cwd_context, r.has_criteria, r.preset, r.plan_target) == (AUTO, AUTO, False, None, None)
    d = decide(r)
    assert isinstance(d, Decision) and d.needs_confirmation is False
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.mode = "plan"  # type: ignore[misc]


@pytest.mark.parametrize("task", [task for task, *_ in ISSUE_EXAMPLES])
def test_every_reason_is_one_line(task: str) -> None:
    for reason in decide(Request(task + "\nsecond line\u2028third\rfourth")).reasons:
        assert len(reason.splitlines()) == 1


# --- linear time -------------------------------------------------------------------------------------------

# Inputs that made the old matcher quadratic (a long run without "/") and others that stress each pass.
_PATTERNS = ["a", "review the plan and fix spec ", '"x ', "do not: ", "src/x.py ", "and ", "a." * 3]


def _best_time(task: str) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        decide(Request(task))
        best = min(best, time.perf_counter() - start)
    return best


@pytest.mark.parametrize("unit", _PATTERNS)
def test_time_is_linear_in_the_task_length(unit: str) -> None:
    small = (unit * (20_000 // len(unit) + 1))[:20_000]
    large = (unit * (200_000 // len(unit) + 1))[:200_000]
    t_small, t_large = _best_time(small), _best_time(large)
    # Linear: 10× the text takes about 10× the time; quadratic would take 100×. Generous bounds for a loaded
    # machine (the 20 KB time counted as at least 10 ms): under 40× and under 5 s (the old matcher took
    # minutes at 200 KB).
    assert t_large < 5.0
    assert t_large < 40 * max(t_small, 0.01), f"20 KB {t_small * 1000:.1f} ms, 200 KB {t_large * 1000:.1f} ms"


# --- any text ----------------------------------------------------------------------------------------------

_WORDS = st.sampled_from(
    [
        "review",
        "plan",
        "spec",
        "and",
        "then",
        "fix",
        "don't",
        "change",
        "the",
        "src/a.py",
        "`x_y`",
        ":",
        ",",
        "?",
        "execute",
        "implement",
        "this",
        "project",
        "read-only",
        "a_b(",
        "\u2028",
        "\x00",
        "\ud800",
        "Node.js",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=300), st.lists(_WORDS, max_size=40).map(" ".join)))
def test_any_text_gets_a_valid_decision(task: str) -> None:
    d = decide(Request(task))
    assert d.mode in MODES and d.cwd_context in CWD_CONTEXTS
    assert d.needs_confirmation == (d.mode in REVIEWLESS_MODES)  # auto: rw for those, and only those confirm
    target = d.plan_target
    assert target is None or (d.mode in EXECUTE_MODES and len(target) <= 200 and target.isprintable())
    if d.cwd_context == "rw" and d.mode not in REVIEWLESS_MODES:
        assert any(r.startswith("cwd context rw: the task asks to ") for r in d.reasons)


@pytest.mark.parametrize(
    "task",
    [
        "Write a " + "x" * 100_000 + " in src/app.py",
        "Fix " + "src/" * 30_000,
        "Don't " + "change" * 30_000 + " a.py",
    ],
)
def test_reasons_quote_the_task_boundedly(task: str) -> None:
    for reason in decide(Request(task)).reasons:
        assert len(reason) < 400, reason[:100]
