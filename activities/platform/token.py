"""The API token, from the settings or from a file re-read when it changes.

With ``PTCE_PLATFORM__TOKEN_FILE`` (a mounted secret), rotating the token is writing the new one
to the file: each worker reads it at its next request, nothing restarts (README, "Rotation du
jeton"). The file is read again only when its modification time or size changes.
"""

from __future__ import annotations

from pathlib import Path

from core.settings import PlatformSettings


class TokenFile:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._stamp: tuple[int, int] | None = None
        self._token = ""

    def __call__(self) -> str:
        stat = self._path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp != self._stamp:
            self._token = self._path.read_text(encoding="utf-8").strip()
            self._stamp = stamp
        return self._token


def token_source(settings: PlatformSettings) -> str | TokenFile:
    if settings.token_file is not None:
        return TokenFile(settings.token_file)
    return settings.token.get_secret_value()
