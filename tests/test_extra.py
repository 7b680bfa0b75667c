"""`run --extra "ARGS"`: parsed against massgen 0.1.97's own flag list, refused where it contradicts the
wrapper, appended to the argv before the task, and a web run switched to the CLI path where massgen would
ignore the flag under --web."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from runtools import run_options
from test_cli_dry_run import project  # noqa: F401  (the fixture: a project whose massgen must never run)

from massgen_skill.cli import _glue, main
from massgen_skill.exitcodes import ExitCode, SkillError
from massgen_skill.massgen import flags
from massgen_skill.massgen.parser_flags import (
    HIDES_MARKERS,
    NOT_A_RUN,
    ONE_AGENT_TEAM,
    PARSER_FLAGS,
    WEB_GLOBAL,
)
from massgen_skill.prepare.argv import build
from massgen_skill.prepare.extra import _OWNED, ExtraFlag, check_extra, parse_extra
from massgen_skill.prepare.intent import Decision

TASK = "Compare three designs"


def decision() -> Decision:
    return Decision("general", "none", None, None, ("test",))


# --- parsing -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ()),
        ("--debug", (ExtraFlag("--debug"),)),
        ("--debug --fast", (ExtraFlag("--debug"), ExtraFlag("--fast"))),
        ("--display textual", (ExtraFlag("--display", "textual"),)),
        ("--display=rich", (ExtraFlag("--display", "rich"),)),
        ("--system-message '-be brief; no $(rm)'", (ExtraFlag("--system-message", "-be brief; no $(rm)"),)),
        ("--session-dir=a=b", (ExtraFlag("--session-dir", "a=b"),)),
        ("--broadcast agents --rate-limit", (ExtraFlag("--broadcast", "agents"), ExtraFlag("--rate-limit"))),
        ("--single-agent --fast", (ExtraFlag("--single-agent"), ExtraFlag("--fast"))),
        ("--single-agent agent_b", (ExtraFlag("--single-agent", "agent_b"),)),
    ],
)
def test_parse_splits_like_a_shell_and_takes_values_by_massgens_arity(text: str, expected: tuple) -> None:
    assert parse_extra(text) == expected


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("--debg", "did you mean --debug?"),
        ("--orchestrator-timout 5", "did you mean --orchestrator-timeout?"),
        ("--zzzzzzzz", "see `massgen --help`"),
        ("--orch 5", "not a massgen 0.1.97 flag"),  # massgen's own prefixes are not taken: names in full
        ("Compare designs", "the task goes as run's last argument"),
        ("--display", "expected a value"),
        ("--display foo", "expected one of rich, textual"),
        ("--debug=yes", "takes no value"),
        ("--system-message 'open", "No closing quotation"),
        ("--", "not a massgen 0.1.97 flag"),
    ],
)
def test_bad_extra_is_one_usage_line(text: str, needle: str) -> None:
    with pytest.raises(SkillError) as caught:
        parse_extra(text)
    assert caught.value.code == ExitCode.USAGE
    assert needle in caught.value.message and "--extra" in caught.value.message
    assert "\n" not in caught.value.message


# --- refusals ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("flag", sorted(_OWNED))
def test_every_flag_the_wrapper_sets_is_refused_with_what_to_use(flag: str) -> None:
    value = PARSER_FLAGS[flag][1][0] if PARSER_FLAGS[flag][1] else "x"
    text = flag if PARSER_FLAGS[flag][0] == "flag" else f"{flag}={value}"
    with pytest.raises(SkillError) as caught:
        check_extra(parse_extra(text), config_chosen=False)
    assert caught.value.code == ExitCode.USAGE and "the wrapper sets it itself" in caught.value.message


@pytest.mark.parametrize(
    ("flags_", "needle"),
    [
        (sorted(NOT_A_RUN), "something other than run the task"),
        (sorted(HIDES_MARKERS), "hides the LOG_DIR/ANSWER lines"),
    ],
)
def test_flags_that_change_what_massgen_does_are_refused(flags_: list[str], needle: str) -> None:
    for flag in flags_:
        with pytest.raises(SkillError) as caught:
            check_extra((ExtraFlag(flag),), config_chosen=False)
        assert needle in caught.value.message and flag in caught.value.message


def test_a_one_agent_team_from_flags_is_refused_only_when_a_config_was_chosen() -> None:
    extra = parse_extra("--backend openai --model gpt-5")
    check_extra(extra, config_chosen=False)
    with pytest.raises(SkillError, match="contradicts --config/--team"):
        check_extra(extra, config_chosen=True)


def test_a_flag_given_twice_is_refused() -> None:
    with pytest.raises(SkillError, match="--debug: given twice"):
        check_extra(parse_extra("--debug --debug"), config_chosen=False)


# --- the argv ----------------------------------------------------------------------------------------------


def test_extra_goes_after_the_wrappers_flags_and_before_the_task_with_values_glued() -> None:
    extra = parse_extra("--debug --system-message '-x y'")
    command = build(decision(), run_options(task=TASK, extra=extra, web=False, inbox_dir="/i"))
    assert list(command.args)[-5:] == ["/i", "--debug", "--system-message=-x y", "--", TASK]


def test_a_flag_massgen_honours_under_web_keeps_the_web_ui() -> None:
    command = build(decision(), run_options(task=TASK, extra=parse_extra("--debug --logfire")))
    assert command.web and command.notes == ()
    assert {"--debug", "--logfire"} <= set(command.args)


def test_a_flag_massgen_ignores_under_web_switches_to_the_cli_path_and_says_so() -> None:
    command = build(decision(), run_options(task=TASK, extra=parse_extra("--debug --fast")))
    assert not command.web and "--web" not in command.args
    (note,) = command.notes
    assert note.startswith("web UI off:") and "--fast" in note and "--debug" not in note


def test_forced_web_with_a_flag_massgen_ignores_there_is_refused() -> None:
    with pytest.raises(SkillError, match="--web cannot be combined with --fast"):
        build(decision(), run_options(task=TASK, web=True, extra=parse_extra("--fast")))


# --- the data: one list, consistent with the flags the wrapper spells -------------------------------------


def test_every_flag_named_anywhere_is_one_massgens_parser_accepts() -> None:
    named = NOT_A_RUN | HIDES_MARKERS | WEB_GLOBAL | ONE_AGENT_TEAM | set(_OWNED) | flags.WEB_PASSTHROUGH
    spelled = {v for k, v in vars(flags).items() if k.isupper() and isinstance(v, str) and v.startswith("--")}
    assert named - set(PARSER_FLAGS) == set()
    assert spelled - set(PARSER_FLAGS) == set()
    for flag, choices in [
        (flags.PERSONAS, flags.PERSONAS_CHOICES),
        (flags.PLAN_DEPTH, flags.PLAN_DEPTH_CHOICES),
        (flags.PLAN_THOROUGHNESS, flags.PLAN_THOROUGHNESS_CHOICES),
        (flags.COORDINATION_MODE, flags.COORDINATION_MODE_CHOICES),
    ]:
        assert PARSER_FLAGS[flag][1] == choices


# --- through the command line ------------------------------------------------------------------------------


def test_glue_joins_the_value_even_when_it_starts_with_a_dash_but_never_after_the_separator() -> None:
    argv = ["--extra", "--debug", "--json", "--", "--extra", "--fast"]
    assert _glue(argv, ("--extra",)) == ["--extra=--debug", "--json", "--", "--extra", "--fast"]
    assert _glue(["--extra"], ("--extra",)) == ["--extra"]


@pytest.mark.parametrize(
    "given", [["--extra", "--debug"], ["--extra=--debug"], ["--extra", "--debug --logfire"]]
)
def test_run_accepts_extra_in_every_spelling(
    project: Path,  # noqa: F811
    given: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["run", "--dry-run", "--json", *given, TASK]) == 0
    out = json.loads(capsys.readouterr().out)
    assert "--debug" in out["argv"] and out["argv"][-2:] == ["--", TASK] and out["web"] is True


def test_a_typo_fails_with_exit_2_and_writes_or_runs_nothing(
    project: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["run", "--extra", "--fsat", TASK]) == ExitCode.USAGE  # decided before any massgen start
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "did you mean --fast?" in err
    assert not (project / ".massgen").exists() and not (project.parent / "massgen-was-run").exists()


def test_a_task_after_the_separator_is_never_taken_for_extra(
    project: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["run", "--dry-run", "--json", "--", "--extra"]) == 0
    assert json.loads(capsys.readouterr().out)["argv"][-2:] == ["--", "--extra"]
