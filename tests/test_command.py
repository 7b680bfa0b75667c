"""command.build: a decision + options → the exact massgen argv, for every mode × web × cwd and every option.

Expected argvs are spelled out with literal flag strings (not the `flags` constants), so a misspelt constant
fails here; the flags themselves are cross-checked against the massgen contract and the recorded runs.
"""

from __future__ import annotations

import contextlib
import itertools
import re
import shlex

import pytest
from runtools import CONTRACT, SAMPLES_README, run_options

from massgen_skill.exitcodes import ExitCode, SkillError
from massgen_skill.massgen import flags
from massgen_skill.prepare.argv import MassgenCommand, build
from massgen_skill.prepare.intent import CWD_CONTEXTS, EXECUTE_MODES, MODES, Decision

TASK = "Compare three designs for the cache layer"
BASE = ["--automation", "--no-parse-at-references"]
MODE_ARGS = {
    "general": [],
    "evaluate": [],
    "plan": ["--plan"],
    "spec": ["--spec"],
    "plan-and-execute": ["--plan-and-execute"],
    "execute-plan": ["--execute-plan", "latest"],
    "execute-spec": ["--execute-spec", "latest"],
}
CLI_ONLY_MODES = {"plan", "spec", "plan-and-execute", "execute-plan", "execute-spec"}
WEB_CHOICES = (None, True, False)

# Every massgen flag the builder may emit, each one attested by the contract or a recorded real run.
KNOWN_MASSGEN_FLAGS = {
    "--automation",
    "--no-parse-at-references",
    "--config",
    "--web",
    "--no-browser",
    "--web-port",
    "--web-review",
    "--cwd-context",
    "--eval-criteria",
    "--checklist-criteria-preset",
    "--orchestrator-timeout",
    "--plan",
    "--spec",
    "--plan-and-execute",
    "--execute-plan",
    "--execute-spec",
    "--plan-depth",
    "--plan-thoroughness",
    "--plan-steps",
    "--plan-chunks",
    "--personas",
    "--coordination-mode",
    "--quick",
    "--single-agent",
    "--output-file",
    "--inbox-dir",
}
WEB_ALLOWED = flags.WEB_PASSTHROUGH | {
    flags.AUTOMATION,
    flags.NO_PARSE_AT_REFERENCES,
    flags.CONFIG,
    flags.WEB,
    flags.NO_BROWSER,
    flags.WEB_PORT,
}

# (name, RunOptions fields, argv tokens, CLI only?)
OPTIONAL = [
    ("quick", {"quick": True}, ["--quick"], True),
    ("personas", {"personas": "perspective"}, ["--personas", "perspective"], True),
    ("plan-depth", {"plan_depth": "deep"}, ["--plan-depth", "deep"], True),
    ("plan-thoroughness", {"plan_thoroughness": "thorough"}, ["--plan-thoroughness", "thorough"], True),
    ("plan-steps", {"plan_steps": 3}, ["--plan-steps", "3"], True),
    ("plan-chunks", {"plan_chunks": 2}, ["--plan-chunks", "2"], True),
    (
        "coordination-mode",
        {"coordination_mode": "decomposition"},
        ["--coordination-mode", "decomposition"],
        True,
    ),
    ("single-agent", {"single_agent": ""}, ["--single-agent"], True),
    ("single-agent-id", {"single_agent": "agent_b"}, ["--single-agent", "agent_b"], True),
    (
        "output-file",
        {"output_file": "/tmp/out dir/answer.md"},
        ["--output-file", "/tmp/out dir/answer.md"],
        True,
    ),
    ("timeout", {"timeout": 600}, ["--orchestrator-timeout", "600"], False),
    (
        "criteria-file",
        {"criteria_file": "/p/.massgen/skill_runs/r/eval_criteria.json"},
        ["--eval-criteria", "/p/.massgen/skill_runs/r/eval_criteria.json"],
        False,
    ),
]

NASTY_TASKS = [
    "-rf /",
    "--help",
    "--web --quick",
    "--",
    "-",
    "say \"hi\" and 'bye'",
    "$(touch /tmp/pwned) `id` ${HOME}",
    "*.py ? [a-z]* ~",
    "line one\nline two\n\nANSWER: /etc/passwd\n",
    "tab\there\r\nand CRLF",
    "; rm -rf ~ && echo hi | cat > x",
    "@/etc/passwd @src:w",
    "日本語のタスク 🚀 émoji",
    "  leading and trailing spaces  ",
    "back\\slash \\n not a newline",
]


def decision(mode: str = "general", cwd: str = "none", preset: str | None = None) -> Decision:
    target = "latest" if mode in EXECUTE_MODES else None
    if mode == "evaluate" and preset is None:
        preset = "evaluation"
    return Decision(mode, cwd, preset, target, ("test",))


def expected_args(
    mode: str, web: bool, cwd: str, extra: tuple[str, ...] | list[str] = (), port: int = 8000
) -> list[str]:
    args = list(BASE)
    if web:
        args += ["--web", "--no-browser", "--web-port", str(port)]
        if cwd == "rw":
            args.append("--web-review")
    args += MODE_ARGS[mode]
    if cwd in ("ro", "rw"):
        args += ["--cwd-context", cwd]
    if mode == "evaluate":
        args += ["--checklist-criteria-preset", "evaluation"]
    args += list(extra)
    return [*args, "--", TASK]


def emitted_flags(command: MassgenCommand) -> list[str]:
    """The flag tokens before the task separator."""
    args = list(command.args)
    head = args[: args.index("--")] if "--" in args else args
    return [a for a in head if a.startswith("--")]


# --- every mode × web × cwd -----------------------------------------------------------------------------


@pytest.mark.parametrize(("mode", "web", "cwd"), list(itertools.product(MODES, WEB_CHOICES, CWD_CONTEXTS)))
def test_matrix_exact_argv(mode: str, web: bool | None, cwd: str) -> None:
    options = run_options(task=TASK, web=web)
    cli_only = mode in CLI_ONLY_MODES
    if web is True and cli_only:
        with pytest.raises(SkillError) as err:
            build(decision(mode, cwd), options)
        assert err.value.code == ExitCode.USAGE
        assert MODE_ARGS[mode][0] in err.value.message
        assert "--web" in err.value.message
        assert "\n" not in err.value.message
        return
    command = build(decision(mode, cwd), options)
    web_used = web is not False and not cli_only
    assert list(command.args) == expected_args(mode, web_used, cwd)
    assert command.web is web_used
    assert command.web_port == (8000 if web_used else None)
    assert command.review_gate is (web_used and cwd == "rw")
    if web is None and cli_only:
        (note,) = command.notes
        assert note.startswith("web UI off:")
        assert MODE_ARGS[mode][0] in note
    else:
        assert command.notes == ()
    if cwd == "rw" and not web_used:
        (warning,) = command.warnings
        assert "no review gate" in warning
    else:
        assert command.warnings == ()


# --- each optional flag ----------------------------------------------------------------------------------


@pytest.mark.parametrize("web", WEB_CHOICES)
@pytest.mark.parametrize(("name", "fields", "tokens", "cli_only"), OPTIONAL, ids=[o[0] for o in OPTIONAL])
def test_each_optional_flag(
    name: str, fields: dict, tokens: list[str], cli_only: bool, web: bool | None
) -> None:
    options = run_options(task=TASK, web=web, **fields)
    if web is True and cli_only:
        with pytest.raises(SkillError) as err:
            build(decision(), options)
        assert err.value.code == ExitCode.USAGE
        assert tokens[0] in err.value.message
        return
    command = build(decision(), options)
    web_used = web is not False and not cli_only
    assert list(command.args) == expected_args("general", web_used, "none", tokens)
    if web is None and cli_only:
        (note,) = command.notes
        assert tokens[0] in note and "CLI path" in note
    else:
        assert command.notes == ()


def test_single_agent_without_id_is_followed_by_the_task_separator() -> None:
    args = list(build(decision(), run_options(task=TASK, single_agent="")).args)
    i = args.index("--single-agent")
    assert args[i + 1] == "--"  # massgen's optional value is not taken from the task


def test_all_options_together_in_a_stable_order() -> None:
    options = run_options(
        task=TASK,
        config="/cfg/team.yaml",
        criteria_file="/c.json",
        web=False,
        timeout=900,
        quick=True,
        personas="methodology",
        plan_depth="shallow",
        plan_thoroughness="standard",
        plan_steps=5,
        plan_chunks=2,
        coordination_mode="parallel",
        single_agent="agent_a",
        output_file="/out.md",
        inbox_dir="/inbox",
    )
    command = build(decision("plan", "rw"), options)
    assert list(command.args) == [
        *BASE,
        "--config",
        "/cfg/team.yaml",
        "--plan",
        "--cwd-context",
        "rw",
        "--eval-criteria",
        "/c.json",
        "--orchestrator-timeout",
        "900",
        "--plan-depth",
        "shallow",
        "--plan-thoroughness",
        "standard",
        "--plan-steps",
        "5",
        "--plan-chunks",
        "2",
        "--personas",
        "methodology",
        "--coordination-mode",
        "parallel",
        "--output-file",
        "/out.md",
        "--quick",
        "--single-agent",
        "agent_a",
        "--inbox-dir",
        "/inbox",
        "--",
        TASK,
    ]
    assert command.warnings and not command.review_gate


@pytest.mark.parametrize("web", WEB_CHOICES)
def test_criteria_file_replaces_the_preset(web: bool | None) -> None:
    command = build(decision("evaluate"), run_options(task=TASK, web=web, criteria_file="/c.json"))
    assert "--checklist-criteria-preset" not in command.args
    i = command.args.index("--eval-criteria")
    assert command.args[i + 1] == "/c.json"
    assert command.web is (web is not False)  # criteria reach a web run


@pytest.mark.parametrize("preset", ["evaluation", "analysis", "round_evaluator"])
def test_preset_flag(preset: str) -> None:
    command = build(decision("general", preset=preset), run_options(task=TASK))
    assert list(command.args) == expected_args(
        "general", True, "none", ["--checklist-criteria-preset", preset]
    )


@pytest.mark.parametrize(
    ("web", "extra", "inbox_expected"),
    [
        (None, {}, False),  # web mode: massgen ignores --inbox-dir, so it is not sent
        (False, {}, True),
        (None, {"quick": True}, True),  # the CLI path was forced: the inbox works
    ],
)
def test_inbox_only_in_cli_mode(web: bool | None, extra: dict, inbox_expected: bool) -> None:
    command = build(decision(), run_options(task=TASK, web=web, inbox_dir="/runs/r/inbox", **extra))
    args = list(command.args)
    assert ("--inbox-dir" in args) is inbox_expected
    if inbox_expected:
        assert args[-4:] == ["--inbox-dir", "/runs/r/inbox", "--", TASK]


@pytest.mark.parametrize("web", WEB_CHOICES)
def test_config_comes_right_after_the_automation_flags(web: bool | None) -> None:
    command = build(decision(), run_options(task=TASK, web=web, config="@examples/basic/multi/three"))
    assert list(command.args[:4]) == [*BASE, "--config", "@examples/basic/multi/three"]


def test_custom_web_port() -> None:
    command = build(decision(cwd="rw"), run_options(task=TASK), 57907)
    assert list(command.args) == expected_args("general", True, "rw", port=57907)
    assert command.web_port == 57907 and command.review_gate
    cli = build(decision(cwd="rw"), run_options(task=TASK, web=False), 57907)
    assert "--web-port" not in cli.args and cli.web_port is None


def test_rw_in_web_mode_has_review_gate_and_no_warning() -> None:
    command = build(decision(cwd="rw"), run_options(task=TASK))
    assert "--web-review" in command.args and command.review_gate and command.warnings == ()


def test_rw_forced_to_cli_warns_and_notes() -> None:
    command = build(decision(cwd="rw"), run_options(task=TASK, quick=True))
    assert not command.web and not command.review_gate
    assert len(command.notes) == 1 and len(command.warnings) == 1
    assert "--web-review" not in command.args


def test_web_true_error_names_every_cli_only_flag() -> None:
    options = run_options(task=TASK, web=True, quick=True, personas="off", timeout=5)
    with pytest.raises(SkillError) as err:
        build(decision("plan"), options)
    message = err.value.message
    assert "--plan" in message and "--quick" in message and "--personas" in message
    assert "--orchestrator-timeout" not in message  # that one reaches web runs


# --- the task ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("task", NASTY_TASKS)
@pytest.mark.parametrize("web", [None, False])
def test_task_is_one_element_byte_for_byte_and_last(task: str, web: bool | None) -> None:
    command = build(decision(), run_options(task=task, web=web))
    assert command.args[-1] == task
    assert command.args[-2] == "--"
    assert command.args.count(task) == 1 or task in ("--", "-")
    # The shell form splits back into exactly the same argv.
    assert shlex.split(command.shell()) == ["massgen", *command.args]
    program = ("uvx", "--with", "mcp<2", "massgen==0.1.97")
    assert shlex.split(command.shell(program)) == [*program, *command.args]


@pytest.mark.parametrize("mode", [m for m in MODES if m not in EXECUTE_MODES])
@pytest.mark.parametrize("task", ["", "   ", "\n\t "])
def test_empty_task_is_an_error(mode: str, task: str) -> None:
    with pytest.raises(SkillError) as err:
        build(decision(mode), run_options(task=task))
    assert err.value.code == ExitCode.USAGE
    assert f"mode {mode}" in err.value.message


@pytest.mark.parametrize("mode", EXECUTE_MODES)
def test_execute_modes_need_no_task(mode: str) -> None:
    command = build(decision(mode), run_options(task=""))
    assert "--" not in command.args
    assert list(command.args) == [*BASE, *MODE_ARGS[mode]]
    assert not command.web  # execute-* are CLI-only


def test_nul_byte_in_task_is_refused() -> None:
    with pytest.raises(SkillError) as err:
        build(decision(), run_options(task="a\0b"))
    assert "NUL" in err.value.message


# --- cross-checks against massgen ---------------------------------------------------------------------------


def _all_commands() -> list[MassgenCommand]:
    built = []
    for mode, web, cwd in itertools.product(MODES, WEB_CHOICES, CWD_CONTEXTS):
        for _, fields, _, _ in [("none", {}, [], False), *OPTIONAL]:
            for inbox in (None, "/inbox"):
                for config in (None, "/c.yaml"):
                    options = run_options(task=TASK, web=web, inbox_dir=inbox, config=config, **fields)
                    with contextlib.suppress(SkillError):
                        built.append(build(decision(mode, cwd), options))
    return built


ALL_COMMANDS = _all_commands()


def test_builder_flags_are_known_massgen_flags() -> None:
    emitted = {flag for command in ALL_COMMANDS for flag in emitted_flags(command)}
    assert emitted - KNOWN_MASSGEN_FLAGS == set()
    assert len(emitted) >= 20  # the sweep reached (nearly) every flag


def test_web_mode_emits_only_flags_massgen_passes_to_web_runs() -> None:
    web_commands = [c for c in ALL_COMMANDS if c.web]
    assert web_commands
    for command in web_commands:
        assert set(emitted_flags(command)) <= WEB_ALLOWED, command.args


def test_flag_constants_match_the_known_list() -> None:
    used = {
        flags.AUTOMATION,
        flags.NO_PARSE_AT_REFERENCES,
        flags.CONFIG,
        flags.WEB,
        flags.NO_BROWSER,
        flags.WEB_PORT,
        flags.WEB_REVIEW,
        flags.CWD_CONTEXT,
        flags.EVAL_CRITERIA,
        flags.CRITERIA_PRESET,
        flags.ORCHESTRATOR_TIMEOUT,
        flags.PLAN,
        flags.SPEC,
        flags.PLAN_AND_EXECUTE,
        flags.EXECUTE_PLAN,
        flags.EXECUTE_SPEC,
        flags.PLAN_DEPTH,
        flags.PLAN_THOROUGHNESS,
        flags.PLAN_STEPS,
        flags.PLAN_CHUNKS,
        flags.PERSONAS,
        flags.COORDINATION_MODE,
        flags.QUICK,
        flags.SINGLE_AGENT,
        flags.OUTPUT_FILE,
        flags.INBOX_DIR,
    }
    assert used == KNOWN_MASSGEN_FLAGS


def _contract_flags() -> set[str]:
    text = CONTRACT.read_text(encoding="utf-8")
    sections = re.split(r"^## ", text, flags=re.M)
    wanted = [s for s in sections if re.match(r"(1|5|6|7|9)\. ", s)]
    assert len(wanted) == 5, "contract sections 1, 5, 6, 7, 9 not found"
    found = set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", "\n".join(wanted)))
    # The recorded runs' argv (what massgen really accepted) counts too: `--no-browser` is only there.
    found |= set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", SAMPLES_README.read_text(encoding="utf-8")))
    return found


def test_known_flags_are_in_the_contract() -> None:
    assert KNOWN_MASSGEN_FLAGS - _contract_flags() == set()


def test_web_passthrough_matches_the_contract() -> None:
    text = CONTRACT.read_text(encoding="utf-8")
    start = text.index("Only these CLI flags reach a web run")
    sentence = text[start : text.index("(`_build_cli_overrides_dict`", start)]
    assert set(re.findall(r"--[a-z][a-z0-9-]*", sentence)) == set(flags.WEB_PASSTHROUGH)


def test_choices_match_the_contract_table() -> None:
    text = CONTRACT.read_text(encoding="utf-8")

    def choices(flag: str) -> set[str]:
        row = next(x for x in text.splitlines() if x.startswith(f"| `{flag}`"))
        return set(re.findall(r"`([a-z]+)`", row.split("|")[2]))

    assert choices("--personas") == set(flags.PERSONAS_CHOICES)
    assert choices("--plan-depth") == set(flags.PLAN_DEPTH_CHOICES)
    assert choices("--plan-thoroughness") == set(flags.PLAN_THOROUGHNESS_CHOICES)
    assert choices("--coordination-mode") == set(flags.COORDINATION_MODE_CHOICES)
