"""What reading a file fails with: a ReadError of one line, "<path>: <reason>"."""
from __future__ import annotations

import os

from ..errors import KgError, one_line

MB = 1024 * 1024


class ReadError(KgError):
    """A file could not be read as text. `str(e)` is one line: "<path>: <reason>"."""

    def __init__(self, path, reason: str):
        self.path = os.fspath(path) if isinstance(path, os.PathLike) else str(path)
        # Reasons are sometimes built from library messages: keep them on one line.
        self.reason = " ".join(str(reason).split())
        super().__init__(f"{one_line(self.path)}: {self.reason}")

    def __reduce__(self):   # so that errors survive the trip back from a worker process
        return type(self), (self.path, self.reason)


class Fail(KgError):
    """A reason without a path, raised by the readers of each format; read_file turns it into a
    ReadError."""


def short_reason(e: BaseException, limit: int = 100) -> str:
    """A library's exception as a short reason: one line, lower-case start, at most `limit`."""
    msg = " ".join(str(e).split()) or type(e).__name__
    if len(msg) > 1 and msg[0].isupper() and msg[1].islower():   # keep acronyms: "EOF …"
        msg = msg[0].lower() + msg[1:]
    return msg if len(msg) <= limit else msg[: limit - 1] + "…"
