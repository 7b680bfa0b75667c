"""Which port the web UI gets: the one asked for, else 8000, else a free one — never one a live run holds."""

from __future__ import annotations

import socket
from collections.abc import Iterable

from massgen_skill.exitcodes import ExitCode, SkillError
from massgen_skill.massgen.flags import DEFAULT_WEB_PORT, WEB_HOST_DEFAULT


def is_free(port: int, host: str = WEB_HOST_DEFAULT) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def any_free(host: str = WEB_HOST_DEFAULT) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def choose(requested: int | None, claimed: Iterable[int] = ()) -> tuple[int, str | None]:
    """(port, note). `claimed`: ports of live runs (massgen binds ~15 s after launch: a check alone races)."""
    taken = set(claimed)
    if requested is not None:
        if requested in taken or not is_free(requested):
            raise SkillError(
                f"--web-port {requested}: the port is in use; pick another or omit the flag", ExitCode.USAGE
            )
        return requested, None
    if DEFAULT_WEB_PORT not in taken and is_free(DEFAULT_WEB_PORT):
        return DEFAULT_WEB_PORT, None
    for _ in range(50):
        port = any_free()
        if port not in taken:
            return port, f"port {DEFAULT_WEB_PORT} is taken; the web UI uses port {port}"
    raise SkillError("no free port for the web UI", ExitCode.ENV_NOT_READY)
