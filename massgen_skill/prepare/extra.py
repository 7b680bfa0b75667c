"""`run --extra "ARGS"`: massgen flags the wrapper does not model, checked before launch (no massgen start).

One shell-split string; every flag must be one massgen 0.1.97's parser accepts (`massgen.parser_flags`), spelt
in full. Flags the wrapper decides itself, flags that turn the run into another command, and flags that hide
the markers the wrapper reads are refused, each with one line naming the flag.
"""

from __future__ import annotations

import difflib
import shlex
from dataclasses import dataclass

from massgen_skill.exitcodes import SkillError
from massgen_skill.massgen import flags
from massgen_skill.massgen.parser_flags import (
    FLAG,
    HIDES_MARKERS,
    NOT_A_RUN,
    ONE_AGENT_TEAM,
    OPTIONAL,
    PARSER_FLAGS,
    VALUE,
)

EXTRA = "--extra"

_MODE_FLAGS = (flags.PLAN, flags.SPEC, flags.PLAN_AND_EXECUTE, flags.EXECUTE_PLAN, flags.EXECUTE_SPEC)
_WEB_FLAGS = (flags.WEB, flags.NO_BROWSER, flags.WEB_HOST, flags.WEB_PORT, flags.WEB_REVIEW)
# The flags the wrapper writes itself, and what to use instead (None: the same option of `run`).
_OWNED: dict[str, str | None] = {
    flags.AUTOMATION: "always set: the wrapper reads its markers",
    flags.NO_PARSE_AT_REFERENCES: "always set: the task is data",
    flags.INBOX_DIR: "set for CLI runs: use `massgen-skill steer`",
    flags.ORCHESTRATOR_TIMEOUT: "use run's --timeout",
    flags.EVAL_CRITERIA: "use run's --criteria",
    flags.CRITERIA_PRESET: "use run's --preset",
    **dict.fromkeys(_MODE_FLAGS, "use run's --mode (and --target)"),
    **dict.fromkeys(_WEB_FLAGS, "use run's --web / --no-web / --web-port"),
    **dict.fromkeys(
        (  # alphabetical: run has an option of the same name for each
            flags.CONFIG,
            flags.COORDINATION_MODE,
            flags.CWD_CONTEXT,
            flags.OUTPUT_FILE,
            flags.PERSONAS,
            flags.PLAN_CHUNKS,
            flags.PLAN_DEPTH,
            flags.PLAN_STEPS,
            flags.PLAN_THOROUGHNESS,
            flags.QUICK,
            flags.SINGLE_AGENT,
        ),
        None,
    ),
}


@dataclass(frozen=True)
class ExtraFlag:
    flag: str
    value: str | None = None

    def argv(self) -> list[str]:
        """One element: `--flag=value` keeps a value that starts with "-" a value for massgen's parser too."""
        return [self.flag if self.value is None else f"{self.flag}={self.value}"]


def parse_extra(text: str) -> tuple[ExtraFlag, ...]:
    """The flags in `text` (shell-split, never globbed or expanded); a typo fails here with a did-you-mean."""
    try:
        tokens = shlex.split(text)
    except ValueError as exc:
        raise SkillError(f"{EXTRA} {text!r}: {exc} (quote it as one shell string)") from None
    found: list[ExtraFlag] = []
    while tokens:
        item, used = _one(tokens)
        found.append(item)
        tokens = tokens[used:]
    return tuple(found)


def _one(tokens: list[str]) -> tuple[ExtraFlag, int]:
    """The first flag of `tokens` and how many tokens it took."""
    flag, glued, value = tokens[0].partition("=")
    if flag not in PARSER_FLAGS:
        raise SkillError(f"{EXTRA}: {flag!r} is not a massgen 0.1.97 flag{_did_you_mean(flag)}")
    arity, choices = PARSER_FLAGS[flag]
    if glued and arity == FLAG:
        raise SkillError(f"{EXTRA} {flag}: takes no value, got {value!r}")
    following = tokens[1] if len(tokens) > 1 else None
    used = 1
    if not glued and arity == VALUE:
        if following is None:
            raise SkillError(f"{EXTRA} {flag}: expected a value")
        value, used = following, 2
    elif not glued and arity == OPTIONAL and following is not None and not following.startswith("-"):
        value, used = following, 2
    if choices and value not in choices:
        raise SkillError(f"{EXTRA} {flag}: expected one of {', '.join(choices)}, got {value!r}")
    return ExtraFlag(flag, value if glued or used == 2 else None), used


def _did_you_mean(flag: str) -> str:
    if not flag.startswith("-"):
        return " (the task goes as run's last argument, not in --extra)"
    close = difflib.get_close_matches(flag, PARSER_FLAGS, n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else " (see `massgen --help`)"


def check_extra(extra: tuple[ExtraFlag, ...], config_chosen: bool) -> None:
    """Refuse what contradicts the wrapper's own decisions (before anything is written or launched)."""
    seen: set[str] = set()
    for item in extra:
        flag = item.flag
        if flag in seen:
            raise SkillError(f"{EXTRA} {flag}: given twice")
        seen.add(flag)
        if flag in NOT_A_RUN:
            raise SkillError(f"{EXTRA} {flag}: makes massgen do something other than run the task")
        if flag in HIDES_MARKERS:
            raise SkillError(f"{EXTRA} {flag}: hides the LOG_DIR/ANSWER lines the wrapper follows the run by")
        if flag in _OWNED:
            raise SkillError(
                f"{EXTRA} {flag}: the wrapper sets it itself; {_OWNED[flag] or f'use run {flag}'}"
            )
        if config_chosen and flag in ONE_AGENT_TEAM:
            raise SkillError(f"{EXTRA} {flag}: builds a one-agent team, which contradicts --config/--team")
