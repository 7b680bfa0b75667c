"""Media tasks: which media work a task asks for (image / video / audio, made or understood), and whether the
config and the keys let massgen's media tools do it. Pure reading of words, config and key names.

A media task is an ordinary run whose team needs `generate_media` or `read_media`; without a provider key,
or with the tools off, the agents would answer in text and the run would look fine. So `run` refuses it
before launch with the fix, and `doctor` reports what each kind of media would use.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from massgen_skill.exitcodes import ExitCode, SkillError
from massgen_skill.massgen import media
from massgen_skill.massgen.config import ConfigChoice
from massgen_skill.massgen.media import AUDIO, GENERATE, IMAGE, UNDERSTAND, VIDEO, Need
from massgen_skill.prepare import checks

AUTO = "auto"
NONE = "none"
CHOICES = (AUTO, NONE, *media.KINDS)  # `run --media`: an explicit kind means generating it


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# The head noun of what is asked for ("an image of a fox" -> image); a noun used as a modifier ("the image
# upload bug", "a video tutorial") names something else and switches nothing.
_NOUNS: dict[str, str] = {
    **dict.fromkeys(
        _set(
            """image images picture pictures photo photos photograph photographs illustration illustrations
            drawing drawings painting paintings artwork wallpaper wallpapers thumbnail thumbnails portrait
            portraits render renders"""
        ),
        IMAGE,
    ),
    **dict.fromkeys(_set("video videos movie film trailer footage clip clips timelapse"), VIDEO),
    **dict.fromkeys(
        _set(
            """audio voiceover voice-over voiceovers narration song songs music jingle jingles soundtrack
            melody audiobook mp3 speech recording recordings effect effects podcast"""
        ),
        AUDIO,
    ),
}
# Nouns that are media only in some phrases: "a speech" is text, "speech" after "into" is audio.
_AMBIGUOUS = _set("speech recording recordings effect effects podcast clip clips render renders")
_MAKE = _set(
    """generate create make draw paint render produce design illustrate compose record narrate film shoot
    animate sing give produce"""
)
_MAKES_ITSELF = {"draw": IMAGE, "paint": IMAGE, "illustrate": IMAGE, "narrate": AUDIO, "sing": AUDIO}
_NOT_DRAWN = _set(
    "diagram diagrams chart charts flowchart graph graphs conclusion conclusions plan line lines"
)
_EDIT = _set(
    """edit retouch recolor recolour colorize colourize upscale enhance restore inpaint outpaint stylize
    restyle extend"""
)
_CONVERT = _set("turn convert transform")
_READ = _set(
    """describe transcribe caption analyze analyse summarize summarise explain watch listen identify
    interpret tag classify extract"""
)
_READ_ALWAYS = {"transcribe": AUDIO}  # only a recording is transcribed
_FILLER = _set(
    """please kindly now then first just also so can could would will you i we need want to like i'd we'd
    let's me us help should must quickly briefly"""
)
_PARTICLES = _set("me us up out")
_DETERMINERS = _set("a an the this that these those my our your some any its their one two three short long")
_STOPS = _set(
    """for of about to in on with from that which who and or by at into under as than but if using via
    showing where when without based named called titled of"""
)
_INTO = _set("into to as")
_QUESTION = _set("what which who how where is are does do can")
_NOUN_START = _set("a an one two three four some")
_SENTENCE_ENDS = ".?!;"
_TRAIL = "\"')]}>`*,:"
_LEAD = "\"'([{<`*"


@dataclass(frozen=True)
class MediaReading:
    """The media work a task asks for, and why the skill thinks so (shown with the run's other reasons)."""

    need: Need
    reason: str


def _file_kind(raw: str) -> str | None:
    stem, dot, ext = raw.rpartition(".")
    return media.EXTENSIONS.get(ext.lower()) if dot and stem and not stem.startswith(".") else None


@dataclass(frozen=True)
class _Token:
    text: str  # lower case, punctuation removed
    file_kind: str | None  # a media file name ("photo.png") -> its kind
    end: bool  # a sentence ends after it
    pause: bool = False  # a clause ends after it ("," or ":")


def _tokens(task: str) -> list[_Token]:
    tokens: list[_Token] = []
    for piece in task.split():
        core = piece.rstrip(_TRAIL + _SENTENCE_ENDS)
        tail = piece[len(core) :]
        end = any(c in tail for c in _SENTENCE_ENDS)
        pause = end or any(c in tail for c in ",:")
        core = core.lstrip(_LEAD)
        if core:
            tokens.append(_Token(core.lower().removesuffix("'s"), _file_kind(core), end, pause))
        elif tokens and pause:
            tokens[-1] = replace(tokens[-1], end=tokens[-1].end or end, pause=True)
    return tokens


def _sentences(tokens: list[_Token]) -> list[list[_Token]]:
    sentences: list[list[_Token]] = [[]]
    for token in tokens:
        sentences[-1].append(token)
        if token.end:
            sentences.append([])
    return [s for s in sentences if s]


def _phrase(words: list[_Token], start: int) -> tuple[list[_Token], int]:
    """The noun phrase from `start` (particles skipped) to the first preposition or conjunction."""
    i = start
    while i < len(words) and words[i].text in _PARTICLES:
        i += 1
    phrase: list[_Token] = []
    while i < len(words) and words[i].text not in _STOPS:
        phrase.append(words[i])
        i += 1
        if phrase[-1].pause:
            break
    return phrase, i


def _head_kind(phrase: list[_Token], strict: bool = True) -> str | None:
    """The media kind the phrase's head noun names; ambiguous nouns ("a speech") only with `strict` off."""
    texts = [t.text for t in phrase if t.text not in _DETERMINERS]
    if not texts:
        return None
    head = texts[-1]
    if head in ("effect", "effects"):  # only "sound effects" are media
        return AUDIO if texts[-2:-1] == ["sound"] else None
    return None if strict and head in _AMBIGUOUS else _NOUNS.get(head)


def _file_in(words: list[_Token]) -> str | None:
    return next((t.file_kind for t in words if t.file_kind), None)


def _shown(words: list[_Token], start: int, end: int) -> str:
    return repr(" ".join(t.text for t in words[start : min(end, start + 8)]))


@dataclass(frozen=True)
class _Clause:
    """One sentence with its main word (after filler) and the phrase that follows it."""

    words: list[_Token]
    start: int  # index of the main word
    phrase: list[_Token]
    after: int  # index after the phrase

    @property
    def verb(self) -> str:
        return self.words[self.start].text

    def shown(self, end: int | None = None) -> str:
        return _shown(self.words, self.start, self.after if end is None else end)


_Found = tuple[Need, str] | None


def _made(c: _Clause) -> _Found:
    kind = _head_kind(c.phrase) or (_MAKES_ITSELF.get(c.verb) if _drawn(c.phrase) else None)
    return (Need(GENERATE, kind), f"the task asks to {c.shown()}") if kind else None


def _edited(c: _Clause) -> _Found:
    kind = _head_kind(c.phrase) or _file_in(c.phrase)
    return (Need(GENERATE, kind), f"the task asks to {c.shown()} (an edit)") if kind else None


def _converted(c: _Clause) -> _Found:
    if c.after >= len(c.words) or c.words[c.after].text not in _INTO:
        return None
    target, end = _phrase(c.words, c.after + 1)
    kind = _head_kind(target, strict=False)
    return (Need(GENERATE, kind), f"the task asks to {c.shown(end)}") if kind else None


def _read(c: _Clause) -> _Found:
    kind = _head_kind(c.phrase, strict=False) or _file_in(c.words) or _READ_ALWAYS.get(c.verb)
    return (Need(UNDERSTAND, kind), f"the task asks to {c.shown()}") if kind else None


def _asked(c: _Clause) -> _Found:
    """ "What is in photo.jpg?" """
    kind = _file_in(c.words)
    return (Need(UNDERSTAND, kind), f"the task asks about {c.shown(len(c.words))}") if kind else None


def _named(c: _Clause) -> _Found:
    """No verb: "An image of a fox at dawn"."""
    phrase, end = _phrase(c.words, c.start)
    kind = _head_kind(phrase)
    return (Need(GENERATE, kind), f"the task names {c.shown(end)}") if kind else None


_BY_FIRST_WORD = (
    (_MAKE, _made),
    (_EDIT, _edited),
    (_CONVERT, _converted),
    (_READ, _read),
    (_QUESTION, _asked),
    (_NOUN_START, _named),
)


def _sentence_need(words: list[_Token]) -> _Found:
    start = next((i for i, t in enumerate(words) if t.text not in _FILLER), None)
    if start is None:
        return None
    phrase, after = _phrase(words, start + 1)
    clause = _Clause(words, start, phrase, after)
    return next((read(clause) for first, read in _BY_FIRST_WORD if clause.verb in first), None)


def _drawn(phrase: list[_Token]) -> bool:
    """ "draw a fox" is a picture; "draw up a plan", "draw a diagram" are not (or not necessarily)."""
    texts = [t.text for t in phrase if t.text not in _DETERMINERS]
    return bool(texts) and texts[-1] not in _NOT_DRAWN and not any(t.file_kind for t in phrase)


def read_media(task: str) -> MediaReading | None:
    """The media work a task asks for, from the main action of one of its sentences; None for a text task."""
    for words in _sentences(_tokens(task)):
        found = _sentence_need(words)
        if found:
            need, why = found
            return MediaReading(need, f"media {need.label}: {why}")
    return None


def need_for(choice: str, task: str) -> MediaReading | None:
    """`run --media`: auto reads the task; none is a text task; a kind means generating that kind."""
    if choice == AUTO:
        return read_media(task)
    if choice == NONE:
        return None
    if choice not in media.KINDS:
        raise SkillError(f"--media {choice!r}: expected one of {', '.join(CHOICES)}")
    return MediaReading(Need(GENERATE, choice), f"media {choice} generation: asked for explicitly")


# --- what the config and the keys allow ------------------------------------------------------------------


def tools_enabled(data: Any) -> bool | None:
    """Whether any agent of a loaded config gets the media tools: its backend's `enable_multimodal_tools`,
    else the orchestrator's (massgen's own inheritance). None: not a config we can read."""
    backends = checks.agent_backends(data)
    if backends is None:
        return None
    orchestrator = data.get(media.ORCHESTRATOR_KEY)
    default = bool(orchestrator.get(media.ENABLE_KEY)) if isinstance(orchestrator, dict) else False
    return any(bool(b.get(media.ENABLE_KEY, default)) for b in backends) if backends else default


@dataclass(frozen=True)
class Support:
    """What one kind of media work can use here."""

    need: Need
    providers: tuple[str, ...]  # those with a key set, in massgen's order of preference
    tools_enabled: bool | None  # None: the config could not be read (massgen's packaged example, …)
    reason: str = ""  # why the run is a media task

    @property
    def allowed(self) -> bool:
        return bool(self.providers) and self.tools_enabled is not False

    def as_dict(self) -> dict[str, Any]:
        return {
            "purpose": self.need.purpose,
            "kind": self.need.kind,
            "allowed": self.allowed,
            "providers": list(self.providers),
            "key_names": list(self.need.key_names()),
            "reason": self.reason,
        }

    def note(self) -> str:
        keyed = ", ".join(self.providers)
        return f"{self.reason}; massgen's media tools would use {self.providers[0]} (with a key: {keyed})"


def support(need: Need, key_names: set[str] | frozenset[str], enabled: bool | None) -> Support:
    usable = tuple(p for p in need.providers if any(n in key_names for n in media.PROVIDER_KEYS[p]))
    return Support(need, usable, enabled)


MEDIA_CHECK = "media"
ENABLE_HINT = f"set `{media.ENABLE_KEY}: true` under `{media.ORCHESTRATOR_KEY}:` in"


def refusal(found: Support, config: ConfigChoice | None) -> str:
    """One line: the kind, what is missing (key names, the tools switch) and how to fix it."""
    where = config.path if config else "the massgen config"
    missing = []
    if not found.providers:
        missing.append(f"set one of {', '.join(found.need.key_names())} (none is set)")
    if found.tools_enabled is False:
        missing.append(f"{ENABLE_HINT} {where} (massgen's media tools are off)")
    return (
        f"{found.need.label} needs massgen's media tools and a provider key: {'; and '.join(missing)}; "
        f"see references/media.md (or pass --media none if this is not a media task)"
    )


@dataclass(frozen=True)
class Here:
    """What the media tools could use here: the config's switch and the key names that are set."""

    config: ConfigChoice | None
    tools_enabled: bool | None
    key_names: frozenset[str]

    def support(self, need: Need) -> Support:
        return support(need, self.key_names, self.tools_enabled)


def here(config: ConfigChoice | None, cwd: Path, env: Mapping[str, str]) -> Here:
    """Read once: the config (not massgen's packaged examples: unknown) and the key names (environment and
    massgen's .env files; names only)."""
    enabled = tools_enabled(checks.load_config(config.path)) if config and config.how != "example" else None
    return Here(config, enabled, frozenset(checks.key_sources(cwd, env)))


def check_launch(reading: MediaReading | None, where: Here) -> Support | None:
    """Before launch: a media task without a usable provider is refused (ENV_NOT_READY) with the fix."""
    if reading is None:
        return None
    found = replace(where.support(reading.need), reason=reading.reason)
    if not found.allowed:
        raise SkillError(refusal(found, where.config), ExitCode.ENV_NOT_READY)
    return found


# --- doctor ----------------------------------------------------------------------------------------------


def report(where: Here) -> tuple[checks.Check, list[Support]]:
    """`doctor`'s media line: what each kind of media work would use. Never a failure: media is optional."""
    found = [where.support(need) for need in media.ALL_NEEDS]
    return _media_check(where, found), found


def _media_check(where: Here, found: list[Support]) -> checks.Check:
    if where.tools_enabled is False:
        path = where.config.path if where.config else "the config"
        detail = "massgen's media tools are off: image, video and audio tasks are refused"
        return checks.Check(MEDIA_CHECK, checks.WARN, detail, f"{ENABLE_HINT} {path}")
    allowed = [s for s in found if s.allowed]
    if not allowed:
        detail = f"no media provider key is set (one of {', '.join(media.MEDIA_KEY_NAMES)})"
        return checks.Check(
            MEDIA_CHECK, checks.WARN, detail, "export OPENAI_API_KEY=…   (or another in that list)"
        )
    detail = "; ".join(f"{s.need.label}: {', '.join(s.providers)}" for s in allowed)
    if not any("elevenlabs" in s.providers for s in found):
        detail += f"; {' and '.join(media.ELEVENLABS_ONLY)} need ELEVENLABS_API_KEY"
    if where.tools_enabled is None:
        detail += " (the config's media switch was not read)"
    return checks.Check(MEDIA_CHECK, checks.OK, detail)
