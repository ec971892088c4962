"""What every error message of the project shares: it is one line."""
from __future__ import annotations


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
