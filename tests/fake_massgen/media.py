"""Media files the winner "generated" (FAKE_MASSGEN_MEDIA_FILES): what massgen's generate_media would leave
in a workspace, since the real media backends cannot be reached offline."""

from __future__ import annotations

from pathlib import Path

from fake_massgen.runstate import Run

# The first bytes of each format, so a reader that sniffs a file sees what its name says.
_MAGIC = {".png": b"\x89PNG\r\n\x1a\n", ".mp4": b"\x00\x00\x00\x18ftypmp42", ".mp3": b"ID3\x03\x00\x00\x00"}


def media_bytes(rel: str) -> bytes:
    """A small file that starts like its format, then names itself (its size is len(result))."""
    return _MAGIC.get(Path(rel).suffix.lower(), b"") + f"fake media: {rel}\n".encode()


def write_media(run: Run, winner: str, final_workspace: Path) -> int:
    """Write each knob file into the winner's final workspace (and its live one); returns the count."""
    for rel in run.knobs.media_files:
        for base in (final_workspace, run.workspaces.get(winner)):
            if base is not None:
                target = base / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(media_bytes(rel))
    return len(run.knobs.media_files)
