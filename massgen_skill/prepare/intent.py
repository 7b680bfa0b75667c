"""What the user asked for → which kind of MassGen run and how much project access, with the reasons. Pure.

`decide()` turns a `Request` (the task's words plus explicit options) into a `Decision`. Explicit options
always win. For `auto`, the task is read by its structure, not by a word anywhere: the main action (the first
verb of the first request clause) and its object decide the mode, so "review my plan" is a review, "write a
spec" a spec and "add a plans page" a change. Negations and limits ("don't change", "read only") cap the
access; words inside file names, identifiers and noun phrases ("requirements.txt", "a review button") switch
nothing. When unsure, the choice with less effect wins. One pass over the words: linear in the task's length.
"""

from __future__ import annotations

import itertools
import re
import shlex
from dataclasses import dataclass, field, replace

MODES = (
    "general",
    "evaluate",
    "plan",
    "plan-and-execute",
    "spec",
    "execute-plan",
    "execute-spec",
)
AUTO = "auto"
CWD_CONTEXTS = ("none", "ro", "rw")
EXECUTE_MODES = ("execute-plan", "execute-spec")
# massgen runs these in CLI mode, where no review gate exists: auto never starts them on its own.
REVIEWLESS_MODES = ("plan-and-execute", *EXECUTE_MODES)

# --- the words -------------------------------------------------------------------------------------------


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_EVAL_VERBS = _set(
    """review critique criticise criticize evaluate assess audit grade judge rate score proofread vet
    appraise"""
)
_CHANGE_VERBS = _set(
    """add fix update edit refactor rename remove delete modify change migrate port patch bump upgrade
    downgrade convert clean rewrite replace move insert restructure reorganize reorganise optimize
    optimise improve extend install configure enable disable integrate pin format implement build create
    write generate scaffold code develop apply make introduce commit translate wire split merge drop
    deprecate adjust tweak document resolve correct repair reformat lint initialize bootstrap simplify
    modernize harden switch increase reduce"""
)
# Verbs whose object names the deliverable: "write a spec", "make a plan", "do a review".
_OBJECT_VERBS = _set(
    """write create draft make prepare produce compose outline develop gather collect define do give
    provide put come draw sketch formulate list"""
)
# Verbs that make something new: what they make may be the answer itself ("generate a report").
_CREATE_VERBS = _set("write create generate make produce prepare draft compose build develop")
# Verbs that carry out an existing plan or spec ("execute the plan"), or, after a plan, its execution.
_EXEC_VERBS = _set("execute implement carry run do apply build follow code ship deliver perform")
_READ_VERBS = _set(
    """explain describe summarize summarise find list tell show trace walk analyze analyse inspect look
    read understand compare check identify locate count investigate diagnose answer suggest propose
    recommend estimate search figure map design sketch draft compose brainstorm research outline give"""
)
_PLAN_NOUNS = _set("plan plans roadmap roadmaps milestones")
_SPEC_NOUNS = _set("spec specs specification specifications requirements prd prds")
_EVAL_NOUNS = _set("review reviews critique evaluation assessment audit feedback appraisal")
_COVER_NOUNS = _set("document doc draft list outline template")  # "a requirements document"
# What a "write"/"create" request may produce as its answer rather than as a file in the project.
_ANSWER_NOUNS = _set(
    """summary report explanation overview email letter post essay article story poem answer comparison
    analysis description table memo note notes proposal pitch tutorial guide list haiku limerick speech"""
)
_PROJECT_NOUNS = _set(
    """project repo repository codebase code app application service module modules package branch folder
    directory cli readme changelog tests test docs documentation source src commit endpoint component
    components class function functions method methods file files config configuration build site
    library pipeline plugins makefile dockerfile"""
)
_OWNERS = _set("this our the my these its")
_DETERMINERS = _set("a an the this that these those my our your some any every all its their")
_DEFINITE = _set("the this that our my your")
_PLAN_ADJECTIVES = _set("latest last saved existing approved current previous same final frozen new")
_QUESTION_WORDS = _set("what how why where which who when whose is are does did do has have")
_ASKING_AUX = _set("can could would will")
_AUXILIARIES = _set("is are does did do has have")  # a question only when it ends with "?"
_FILLER = _set(
    """please kindly now then first firstly next finally just also so ok okay hey hi go ahead and but i we
    you need want to like i'd we'd let's lets let us me help should must try quickly carefully briefly
    actually simply with"""
)
_PARTICLES = _set("down up out together me us")
_NP_STOPS = _set(
    """for of about to in on with from that which who and or by at into under so where when without based
    as than but if using via named called titled described including after before then because while
    whether what how you we they i he she it now please again today yesterday"""
)
_NEGATORS = _set("don't dont never without no not avoid")
_CHANGE_WORDS = _set(
    """change changes changed changing modify modifying modified modifications edit edits editing touch
    touching write writing writes fix fixing apply applying alter altering commit make making"""
)
_NOT_A_LIMIT = _set("behaviour behavior semantics output interface api results")
_READ_ONLY = frozenset({"read-only", "readonly"})
_TRIGGERS = _PLAN_NOUNS | _SPEC_NOUNS | _EVAL_NOUNS | _EVAL_VERBS | {"plan", "planning", "spec"}
_FILE_EXTENSIONS = _set(
    """py js ts tsx jsx mjs cjs go rs java kt rb php c h cc cpp hpp cs swift md rst txt json yaml yml toml
    ini cfg conf sh bash zsh html htm css scss sql xml csv lock vue svelte env gradle tf proto ipynb lua
    pl ex exs scala dart spec mk"""
)
_VERBS = (
    _EVAL_VERBS
    | _CHANGE_VERBS
    | _OBJECT_VERBS
    | _EXEC_VERBS
    | _READ_VERBS
    | {"plan", "planning", "specify", "spec", "break"}
)
_EXISTING = {"plan": "plan", "plans": "plan", "spec": "spec", "specs": "spec", "specification": "spec"}
_JOINABLE = _CHANGE_VERBS | _EXEC_VERBS | _EVAL_VERBS  # "review and fix", "plan, then implement"
_BEFORE_PLAN = _DEFINITE | _PLAN_ADJECTIVES  # "the latest", "our saved"
_PLAN_NAME = re.compile(r"[\w.-]+", re.ASCII)  # a folder name under .massgen/plans, nothing else
_PLAN_ID = re.compile(r"(?:plan_)?\d{8}_\d{6}(?:_\d+)?")
_LEAD = "\"'([{<`*"
_TRAIL = "\"')]}>`*"
_SENTENCE_ENDS = ".?!;:"
_MAX_TARGET = 200
_SHOWN_TASK = 160
_SHOWN_WORDS = 8  # of a phrase quoted in a reason
_SHOWN_CHARS = 80  # of any task text quoted in a reason


@dataclass(frozen=True)
class Request:
    task: str
    mode: str = AUTO
    cwd_context: str = AUTO
    has_criteria: bool = False
    preset: str | None = None
    plan_target: str | None = None  # execute-plan / execute-spec: a path, an id or "latest"


@dataclass(frozen=True)
class Decision:
    mode: str
    cwd_context: str  # none | ro | rw
    preset: str | None
    plan_target: str | None
    reasons: tuple[str, ...] = field(default=())
    # True when auto chose write access for a run massgen starts without a review gate: not launched until
    # the user confirms with an explicit --cwd-context rw.
    needs_confirmation: bool = False


@dataclass(frozen=True, slots=True)
class Word:
    text: str  # lower case, surrounding punctuation removed; "" for a name
    raw: str  # as written, surrounding punctuation removed
    name: bool  # a file name, path or code identifier: never a trigger word
    ref: bool  # names a file, path or identifier of the project
    end: str  # punctuation after it: "" or one of ",.?!;:"


@dataclass(frozen=True)
class Clause:
    words: tuple[Word, ...]
    sentence: int
    end: str  # the punctuation that closed it


@dataclass(frozen=True)
class Head:
    """The main action of one clause: its verb (or "" for a question or a bare noun phrase) and object."""

    verb: str
    kind: str  # "verb" | "question" | "noun" | "limit"
    particle: str  # "down" in "break down"
    obj: tuple[Word, ...]
    clause: int


@dataclass(frozen=True)
class Reading:
    """What the task asks for, inferred from its words, with the reasons."""

    mode: str
    cwd_context: str
    target: str | None
    mode_reason: str
    access_reason: str


# --- words and clauses -----------------------------------------------------------------------------------


def _is_file_name(token: str) -> bool:
    stem, dot, ext = token.rpartition(".")
    if not dot or not stem or stem.startswith(".") or ext.lower() not in _FILE_EXTENSIONS:
        return False
    return not (ext.lower() == "js" and stem[:1].isupper())  # "Node.js" is a product, not a file


def _end_mark(tail: str) -> str:
    """The strongest punctuation in what follows a word: a question, a sentence end, a comma, or none."""
    if not tail:
        return ""
    if "?" in tail:
        return "?"
    return next((mark for mark in _SENTENCE_ENDS if mark in tail), "," if "," in tail else "")


def _word(token: str, end: str) -> Word | None:
    raw = token.lstrip(_LEAD).replace("\u2019", "'")
    if not raw:
        return None
    path = ("/" in raw or "\\" in raw) and "://" not in raw and any(c.isalpha() for c in raw)
    identifier = ("_" in raw or "(" in raw or "`" in token) and any(c.isalpha() for c in raw)
    ref = path or identifier or _is_file_name(raw)
    inner = raw[1:]
    camel = inner != inner.lower() and any(a.islower() and b.isupper() for a, b in itertools.pairwise(raw))
    name = ref or camel or raw.startswith("-") or "://" in raw
    text = "" if name else raw.lower().removesuffix("'s")
    return Word(text, raw, name, ref, end)


def _words(task: str) -> list[Word]:
    words: list[Word] = []
    for token in task.split():
        stripped = token.rstrip(_TRAIL + _SENTENCE_ENDS + ",")
        end = _end_mark(token[len(stripped) :])
        word = _word(stripped, end)
        if word is not None:
            words.append(word)
        elif end and words:  # a lone ":" or "." still ends the clause before it
            words[-1] = replace(words[-1], end=end)
    return words


def _clauses(words: list[Word]) -> list[Clause]:
    clauses: list[Clause] = []
    current: list[Word] = []
    sentence = 0
    for word in words:
        current.append(word)
        if word.end:
            clauses.append(Clause(tuple(current), sentence, word.end))
            current = []
            sentence += word.end in _SENTENCE_ENDS
    if current:
        clauses.append(Clause(tuple(current), sentence, ""))
    return clauses


# --- the main action -------------------------------------------------------------------------------------


def _skip_filler(words: tuple[Word, ...]) -> int:
    i = 0
    while i < len(words):
        text = words[i].text
        if text in _ASKING_AUX and i + 1 < len(words) and words[i + 1].text == "you":
            i += 2
        elif text in _FILLER:
            i += 1
        else:
            break
    return i


def _object(words: tuple[Word, ...], start: int) -> tuple[Word, ...]:
    """The noun phrase after a verb: up to the first preposition, conjunction, participle or clause end."""
    i = start
    while i < len(words) and words[i].text in _PARTICLES:
        i += 1
    phrase: list[Word] = []
    for word in words[i:]:
        text = word.text
        if not phrase and text in ("that", "what"):  # a determiner here: "carry out that plan"
            phrase.append(word)
            continue
        participle = len(text) > 4 and text.endswith("ed") and text not in _PLAN_ADJECTIVES
        # "-ed" after a noun starts a participle phrase ("a poem titled …"); before one it is an adjective
        if text in _NP_STOPS or (participle and any(w.text not in _DETERMINERS for w in phrase)):
            break
        phrase.append(word)
    return tuple(phrase)


def _is_limit(words: tuple[Word, ...], i: int) -> bool:
    text = words[i].text
    following = words[i + 1].text if i + 1 < len(words) else ""
    if text in _NEGATORS or text in _READ_ONLY:
        return True
    return (text == "do" and following == "not") or (text == "read" and following == "only")


def _head(clause: Clause, index: int) -> Head | None:
    words = clause.words
    i = _skip_filler(words)
    if i >= len(words):
        return None
    if _is_limit(words, i):
        return Head("", "limit", "", (), index)
    first = words[i]
    if first.text in _QUESTION_WORDS and (clause.end == "?" or first.text not in _AUXILIARIES):
        return Head("", "question", "", (), index)
    if first.text in _VERBS:
        particle = next((w.text for w in words[i + 1 : i + 3] if w.text in _PARTICLES), "")
        return Head(first.text, "verb", particle, _object(words, i + 1), index)
    return Head("", "noun", "", _object(words, i), index)


def _main_head(clauses: list[Clause]) -> Head | None:
    """The first clause's action that is not a limit ("Do not modify anything. Review utils.py")."""
    for index, clause in enumerate(clauses):
        head = _head(clause, index)
        if head is not None and head.kind != "limit":
            return head
    return None


def _coordinated(clauses: list[Clause], head: Head) -> list[str]:
    """Verbs joined to the head's verb in the same sentence: "review and fix", "plan it, then build it"."""
    sentence = clauses[head.clause].sentence
    verbs: list[str] = []
    joined = False
    for clause in clauses[head.clause :]:
        if clause.sentence != sentence:
            break
        for word in clause.words:
            if word.text in ("and", "then", "but"):
                joined = True
            elif joined and word.text in _JOINABLE:
                verbs.append(word.text)
                joined = False
            elif word.text not in ("it", "also", "out"):
                joined = False
    return verbs


def _noun_head(phrase: tuple[Word, ...]) -> str:
    texts = [word.text for word in phrase if word.text and word.text not in _DETERMINERS]
    if not texts:
        return ""
    last = texts[-1]
    if last in _COVER_NOUNS:
        inner = [text for text in texts[:-1] if text in _PLAN_NOUNS | _SPEC_NOUNS | _EVAL_NOUNS]
        return inner[-1] if inner else last
    return last


def _deliverable(phrase: tuple[Word, ...]) -> str | None:
    noun = _noun_head(phrase)
    if noun in _PLAN_NOUNS:
        return "plan"
    if noun in _SPEC_NOUNS:
        return "spec"
    if noun in _EVAL_NOUNS:
        return "evaluate"
    return None


def _names_existing(phrase: tuple[Word, ...]) -> str | None:
    """The plan or spec an execute verb refers to: "the plan", "the latest spec", "what the spec describes",
    "plan_2025…" ("the plan executor" and "a plan" are not one)."""
    if len(phrase) == 1 and phrase[0].name and _PLAN_ID.fullmatch(phrase[0].raw.rsplit("/", 1)[-1]):
        return "plan"
    texts = [word.text for word in phrase]
    described = texts[:1] == ["what"]
    texts = texts[1:] if described else texts
    if not texts or texts[0] not in _BEFORE_PLAN:
        return None
    rest = [text for text in texts if text not in _BEFORE_PLAN]
    if not rest or (len(rest) > 1 and not described):
        return None
    return _EXISTING.get(rest[0])


# --- mode ------------------------------------------------------------------------------------------------


def _what_exec(head: Head) -> str | None:
    return _names_existing(head.obj) if head.verb in _EXEC_VERBS else None


def _plans_first(clauses: list[Clause], head: Head, deliverable: str | None) -> str | None:
    """The verb that carries out a plan asked for first ("plan and implement"), if any."""
    if head.verb != "plan" and deliverable != "plan":
        return None
    later = [verb for verb in _coordinated(clauses, head) if verb in _EXEC_VERBS]
    return later[0] if later else None


def _planning_first(words: list[Word]) -> bool:
    """ "…, planning first" / "plan first" after a request to build."""
    return any(a.text in ("planning", "plan") and b.text == "first" for a, b in itertools.pairwise(words))


def _mode(clauses: list[Clause], head: Head | None, words: list[Word]) -> tuple[str, str]:
    if head is None:
        return "general", "mode general: no request for a review, plan or spec"
    verb, obj = head.verb, head.obj
    executes = _what_exec(head)
    if executes:
        return (
            f"execute-{executes}",
            f"mode execute-{executes}: the task asks to {verb!r} the existing {executes}",
        )
    deliverable = _deliverable(obj) if verb in _OBJECT_VERBS or head.kind == "noun" else None
    then = _plans_first(clauses, head, deliverable)
    if then:
        return "plan-and-execute", f"mode plan-and-execute: the task asks for a plan and then to {then!r} it"
    if verb in _CHANGE_VERBS and _planning_first(words):
        return "plan-and-execute", f"mode plan-and-execute: the task asks to {verb!r}, planning first"
    if verb in _EVAL_VERBS:
        return _eval_or_change(clauses, head)
    if verb in ("plan", "planning") or (verb == "break" and head.particle == "down") or deliverable == "plan":
        return "plan", f"mode plan: the main request is {_quote(_phrase(head))}"
    if verb in ("specify", "spec") or deliverable == "spec":
        return "spec", f"mode spec: the main request is {_quote(_phrase(head))}"
    if deliverable == "evaluate":
        return "evaluate", f"mode evaluate: the main request is {_quote(_phrase(head))}"
    return "general", _general_reason(head, words)


def _eval_or_change(clauses: list[Clause], head: Head) -> tuple[str, str]:
    changes = [verb for verb in _coordinated(clauses, head) if verb in _CHANGE_VERBS]
    if changes:
        return "general", f"mode general: the task asks to {head.verb!r} and then {changes[0]!r} (a change)"
    return "evaluate", f"mode evaluate: the main action is {head.verb!r}"


def _phrase(head: Head) -> str:
    return " ".join([head.verb, *(word.raw for word in head.obj[:_SHOWN_WORDS])]).strip()


def _quote(text: str) -> str:
    """Task text inside a reason: quoted (control characters escaped) and bounded."""
    return repr(text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 1] + "…")


def _general_reason(head: Head, words: list[Word]) -> str:
    if head.kind == "question":
        main = "the task is a question"
    elif head.verb:
        main = f"the main request is {_quote(_phrase(head))}"
    else:
        main = "no review, plan or spec is asked for"
    mentioned = sorted({word.text for word in words if word.text in _TRIGGERS})
    if mentioned:
        shown = ", ".join(repr(text) for text in mentioned[:3])
        main += f"; {shown} only names something here (when unsure, the mode with less effect)"
    return f"mode general: {main}"


# --- project access --------------------------------------------------------------------------------------


def _limited(words: list[Word]) -> str | None:
    """The words that forbid changes ("don't change", "no edits", "read only"), if any."""
    for i, word in enumerate(words):
        if word.text in _READ_ONLY or (
            word.text == "read" and i + 1 < len(words) and words[i + 1].text == "only"
        ):
            return " ".join(w.raw for w in words[i : i + 2])
        negated = word.text in _NEGATORS or (
            word.text == "do" and i + 1 < len(words) and words[i + 1].text == "not"
        )
        if not negated:
            continue
        window = words[i + 1 : i + 6]
        hit = next((j for j, w in enumerate(window) if w.text in _CHANGE_WORDS), None)
        if hit is not None and not any(w.text in _NOT_A_LIMIT for w in window[hit + 1 : hit + 4]):
            return " ".join(w.raw for w in words[i : i + 2 + hit])
    return None


def _inline_from(clauses: list[Clause], head: Head | None) -> int:
    """Index of the first clause of work given in the task itself ("Critique this essay: …"), else len."""
    if head is not None and clauses[head.clause].end == ":" and head.clause + 1 < len(clauses):
        return head.clause + 1
    return len(clauses)


def _first_project_ref(clauses: list[Clause], inline: bool) -> str | None:
    """The first file, path, identifier or "this project"-like phrase: the task's tie to the project."""
    for clause in clauses:
        words = clause.words
        for i, word in enumerate(words):
            if word.ref:
                return word.raw
            elif inline:
                continue
            elif word.text == "here" or (
                word.text in _PROJECT_NOUNS and any(w.text in _OWNERS for w in words[max(0, i - 3) : i])
            ):
                return " ".join(w.raw for w in words[max(0, i - 2) : i + 1])
    return None


def _asks_change(clauses: list[Clause], head: Head) -> str | None:
    """The verb that asks for a change to the project, if the main action (or one joined to it) does."""
    if head.verb in _CHANGE_VERBS:
        if head.verb in _CREATE_VERBS and _noun_head(head.obj) in _ANSWER_NOUNS:
            return None
        return head.verb
    changes = [verb for verb in _coordinated(clauses, head) if verb in _CHANGE_VERBS]
    return changes[0] if changes else None


def _access(clauses: list[Clause], head: Head | None, words: list[Word], mode: str) -> tuple[str, str]:
    inline = _inline_from(clauses, head)
    target = _first_project_ref(clauses[:inline], inline < len(clauses))
    if target is None:
        return "none", "cwd context none: the task does not refer to files or the project"
    change = _asks_change(clauses, head) if head is not None and mode == "general" else None
    limit = _limited(words)
    if change and limit:
        return (
            "ro",
            f"cwd context ro: the task says {_quote(limit)}, so no changes to the project ({_quote(target)})",
        )
    if change:
        return (
            "rw",
            f"cwd context rw: the task asks to {change!r} something in the project ({_quote(target)})",
        )
    if limit:
        return "ro", f"cwd context ro: the task says {_quote(limit)} ({_quote(target)})"
    return "ro", f"cwd context ro: the task refers to the project ({_quote(target)}) but asks for no change"


def _target(words: list[Word]) -> str | None:
    """A plan or spec the task names: `.massgen/plans/<x>` or a plan id; massgen looks up the basename."""
    for word in words:
        raw = word.raw.rstrip("/")
        if ".massgen/plans/" in raw or (word.name and _PLAN_ID.fullmatch(raw.rsplit("/", 1)[-1])):
            name = raw.rsplit("/", 1)[-1]
            if name != "plans" and len(name) <= _MAX_TARGET and _PLAN_NAME.fullmatch(name):
                return name
    return None


def read_task(task: str) -> Reading:
    """Mode, project access and a named plan/spec, inferred from the task's words, each with its reason."""
    words = _words(task)
    clauses = _clauses(words)
    head = _main_head(clauses)
    mode, mode_reason = _mode(clauses, head, words)
    cwd_context, access_reason = _access(clauses, head, words, mode)
    target = _target(words) if mode in EXECUTE_MODES else None
    return Reading(mode, cwd_context, target, mode_reason, access_reason)


# --- the decision ----------------------------------------------------------------------------------------


def decide(request: Request) -> Decision:
    reasons: list[str] = []
    reading = read_task(request.task) if AUTO in (request.mode, request.cwd_context) else None
    if request.mode == AUTO and reading is not None:
        mode = reading.mode
        reasons.append(reading.mode_reason)
    else:
        mode = request.mode
        reasons.append(f"mode {mode}: asked for explicitly")

    needs_confirmation = False
    if request.cwd_context == AUTO and reading is not None:
        cwd_context, why = _auto_access(mode, reading)
        needs_confirmation = cwd_context == "rw" and mode in REVIEWLESS_MODES
        reasons.append(why)
    else:
        cwd_context = request.cwd_context
        reasons.append(f"cwd context {cwd_context}: asked for explicitly")

    preset = request.preset
    if mode == "evaluate" and not request.has_criteria and preset is None:
        preset = "evaluation"
        reasons.append("criteria preset evaluation: evaluate mode without custom criteria")
    elif request.has_criteria:
        reasons.append("criteria: the user's file, translated so massgen accepts every value")

    plan_target = _plan_target(request, mode, reading, reasons)
    if needs_confirmation:
        reasons.append(
            f"not started without confirmation: {mode} writes into the project with no review gate"
        )
    return Decision(mode, cwd_context, preset, plan_target, tuple(reasons), needs_confirmation)


def _auto_access(mode: str, reading: Reading) -> tuple[str, str]:
    if mode in REVIEWLESS_MODES:
        return "rw", f"cwd context rw: {mode} builds in the project"
    return reading.cwd_context, reading.access_reason


def _plan_target(request: Request, mode: str, reading: Reading | None, reasons: list[str]) -> str | None:
    if mode not in EXECUTE_MODES:
        return request.plan_target
    if request.plan_target:
        return request.plan_target
    named = reading.target if reading is not None and reading.mode == mode else None
    if named:
        reasons.append(f"{mode}: the task names {named!r}")
        return named
    reasons.append(f"{mode}: no plan named, so the latest one")
    return "latest"


def require_confirmation(decision: Decision, cwd_context_option: str, review_gate: bool) -> Decision:
    """Write access auto chose for a run without a review gate (a CLI-only mode, `--no-web`, or an option only
    the CLI path takes) is not granted on auto's word alone: the decision then needs confirmation."""
    inferred_rw = cwd_context_option == AUTO and decision.cwd_context == "rw"
    if decision.needs_confirmation or not inferred_rw or review_gate:
        return decision
    why = f"not started without confirmation: {decision.mode} run with write access and no review gate"
    return replace(decision, needs_confirmation=True, reasons=(*decision.reasons, why))


def confirmation_message(decision: Decision, argv: list[str], program: tuple[str, ...], task: str) -> str:
    """The one-line refusal, naming the command that confirms write access."""
    command = confirm_command(decision, argv, program, task)
    return (
        f"auto chose mode {decision.mode} with write access to the project (--cwd-context rw), and this run "
        f"has no review gate, so it is not started on auto's word alone; to confirm, run: {command}"
    )


def confirm_command(decision: Decision, argv: list[str], program: tuple[str, ...], task: str) -> str:
    """The command that confirms a run auto would not start: the same options plus --cwd-context rw
    (a long task is shown as a placeholder, so the line stays readable)."""
    kept: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg in ("--mode", "--cwd-context"):
            skip = True
            continue
        if arg.startswith(("--mode=", "--cwd-context=")):
            continue
        kept.append(arg)
    command = shlex.join([*program, "--mode", decision.mode, "--cwd-context", "rw", *kept])
    if task and len(task) > _SHOWN_TASK:
        command = command.replace(shlex.quote(task), "'<the same task>'")
    return command
