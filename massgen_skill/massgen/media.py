"""massgen 0.1.97's media tools (`generate_media`, `read_media`): how a config enables them, which providers
serve each kind of media and which key variable each provider reads. Facts only, read from massgen's source
(`tool/_multimodal_tools/generation/_base.py` and `backend_selector.py`); names, never values.
"""

from __future__ import annotations

from dataclasses import dataclass

IMAGE = "image"
VIDEO = "video"
AUDIO = "audio"
KINDS = (IMAGE, VIDEO, AUDIO)
GENERATE = "generate"  # generate_media: make or edit a file
UNDERSTAND = "understand"  # read_media: describe, transcribe or analyse a file
PURPOSES = (GENERATE, UNDERSTAND)

# Both tools are registered for an agent when its backend (or, inherited, the orchestrator) sets this true.
ENABLE_KEY = "enable_multimodal_tools"
ORCHESTRATOR_KEY = "orchestrator"

# The key variables each media provider reads (massgen checks the process environment, which its .env files
# fill). An `api_key` in an agent's backend block does not count: the media tools never read it.
PROVIDER_KEYS: dict[str, tuple[str, ...]] = {
    "google": ("GOOGLE_API_KEY", "GEMINI_API_KEY"),
    "openai": ("OPENAI_API_KEY",),
    "grok": ("XAI_API_KEY",),
    "openrouter": ("OPENROUTER_API_KEY",),
    "elevenlabs": ("ELEVENLABS_API_KEY",),
    "claude": ("ANTHROPIC_API_KEY",),
}

# Providers in massgen's own order of preference: the first one with a key is used.
PROVIDERS: dict[tuple[str, str], tuple[str, ...]] = {
    (GENERATE, IMAGE): ("google", "openai", "grok", "openrouter"),  # also image editing (google, openai)
    (GENERATE, VIDEO): ("grok", "google", "openai"),  # Grok Imagine, Veo, Sora
    (GENERATE, AUDIO): ("elevenlabs", "openai"),  # speech; music and sound effects: ElevenLabs only
    (UNDERSTAND, IMAGE): ("google", "openai", "claude", "openrouter"),
    (UNDERSTAND, VIDEO): ("google", "openai", "claude", "openrouter"),
    (UNDERSTAND, AUDIO): ("google", "openai"),
}
ELEVENLABS_ONLY = ("music", "sound effects")  # audio that only ElevenLabs generates

# What a media file of the winner's workspace is, by its extension (what generate_media writes: png, mp4,
# mp3 by default; the rest are formats the backends or agents also produce).
EXTENSIONS: dict[str, str] = {
    **dict.fromkeys(("png", "jpg", "jpeg", "webp", "gif", "bmp", "tif", "tiff", "svg", "avif"), IMAGE),
    **dict.fromkeys(("mp4", "mov", "webm", "mkv", "avi", "m4v"), VIDEO),
    **dict.fromkeys(("mp3", "wav", "ogg", "flac", "m4a", "aac", "opus", "pcm"), AUDIO),
}


@dataclass(frozen=True)
class Need:
    """One kind of media work, and the providers massgen would try for it."""

    purpose: str  # GENERATE | UNDERSTAND
    kind: str  # IMAGE | VIDEO | AUDIO

    @property
    def providers(self) -> tuple[str, ...]:
        return PROVIDERS[(self.purpose, self.kind)]

    def key_names(self) -> tuple[str, ...]:
        """Every key variable that would let massgen serve this need, in massgen's order."""
        return tuple(dict.fromkeys(name for p in self.providers for name in PROVIDER_KEYS[p]))

    @property
    def label(self) -> str:
        return f"{self.kind} {'generation' if self.purpose == GENERATE else 'understanding'}"


ALL_NEEDS = tuple(Need(purpose, kind) for purpose in PURPOSES for kind in KINDS)
MEDIA_KEY_NAMES = tuple(dict.fromkeys(name for names in PROVIDER_KEYS.values() for name in names))
