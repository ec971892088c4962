"""What every error of the project shares: one base class, and a message of one line.

Every exception the project raises for a user's input or a store's state derives from KgError;
the CLI turns any of them into `error: <one line>` and the exit status the class gives.
"""
from __future__ import annotations


class KgError(Exception):
    """An error the user can act on; `str(e)` is its one-line message."""

    exit_code = 1


def one_line(message) -> str:
    """`message` on one line, for a terminal or an HTTP answer: a newline (which a file name may
    hold) is shown as ⏎ and other control characters as \\xNN, so one error is one line."""
    out = []
    for ch in str(message).strip():
        if ch == "\n":
            out.append("⏎")
        elif ord(ch) < 32 or ord(ch) == 127:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return "".join(out)
