"""Text for the page: escaping, shortening, quoting evidence sentences.

Every text that comes from a document (sentences, titles, names) goes through escape() before it
enters a tooltip: the page turns each tooltip into an element through innerHTML (static/graph.js).
"""
from __future__ import annotations

import html

MAX_QUOTES = 3
QUOTE_CHARS = 90


def escape(s) -> str:
    """HTML-escape; "href" is spelled with an entity so pyvis never switches to its
    innerHTML link-popup template (which would bypass our tooltip handling)."""
    return html.escape(str(s if s is not None else ""), quote=True).replace("href", "hre&#102;")


def short(s, n: int = QUOTE_CHARS) -> str:
    """`s` on one line, cut to `n` characters (… marks the cut)."""
    s = " ".join(str(s or "").split())
    return s if len(s) <= n else s[:n - 1] + "…"


def file_name(source) -> str:
    """The last part of a document's source path."""
    return str(source or "").rsplit("/", 1)[-1]


def quotes_html(sentences, limit: int = MAX_QUOTES) -> str:
    """Escaped HTML quoting the first sentences (shortened), with how many more there are."""
    out, seen = [], []
    for s in sentences:
        s = short(s)
        if s and s not in seen:
            seen.append(s)
    for s in seen[:limit]:
        out.append(f'<div class="q">“{escape(s)}”</div>')
    if len(seen) > limit:
        out.append(f'<div class="more">… {len(seen) - limit} more</div>')
    return "".join(out)


def number(v) -> str:
    """A count as written: 3, not 3.0."""
    return str(int(v)) if float(v).is_integer() else f"{v:g}"
