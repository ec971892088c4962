"""Scanning SPARQL text without parsing it.

The query binder (kg.query) and the server's guards (kg.server) both need to see a query's own
words — keywords, variables, braces — while stepping over what only looks like them: comments,
strings and IRIs. This module is that one scanner.
"""
from __future__ import annotations

import re

# Tokens to step over: comments, strings (long forms first), IRIs. `<` followed by a space is the
# operator, not an IRI.
SKIP = re.compile(r'''#[^\n]*|"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^'\\]|\\.|'(?!''))*\'\'\'|'''
                  r'''"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|<[^<>"{}|^`\\\s]*>''')

# A keyword is a bare word: not part of a prefixed name (ex:service, service:x, _:b), a variable
# (?service), a language tag (@service) or a longer name.
_KEYWORD = re.compile(r"(?<![\w:?$@.\-])([A-Za-z]+)(?![\w:\-])")

# SPARQL 1.1 §19.2: \uXXXX and \UXXXXXXXX escapes are replaced before the text is parsed, so
# `\u0053ERVICE` is the keyword SERVICE to the engine and must be to us.
_CODEPOINT = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")

UPDATE_VERBS = frozenset({"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE",
                          "ADD", "WITH"})
PROLOG_WORDS = frozenset({"PREFIX", "BASE"})


def unescape_codepoints(text: str) -> str:
    """The text as the engine reads it, after the codepoint escapes of SPARQL 1.1 §19.2."""
    def char(m: re.Match) -> str:
        try:
            return chr(int(m.group(1) or m.group(2), 16))
        except (ValueError, OverflowError):
            return m.group(0)
    return _CODEPOINT.sub(char, text)


def code_segments(sparql: str) -> list[tuple[int, str]]:
    """(offset, text) of the parts of the query outside comments, strings and IRIs."""
    out, pos = [], 0
    for m in SKIP.finditer(sparql):
        out.append((pos, sparql[pos:m.start()]))
        pos = m.end()
    out.append((pos, sparql[pos:]))
    return out


def keywords(sparql: str) -> list[tuple[int, str]]:
    """(offset, upper-cased word) of every bare word of the query, in order, after unescaping."""
    text = unescape_codepoints(sparql)
    return [(off + m.start(1), m.group(1).upper())
            for off, seg in code_segments(text) for m in _KEYWORD.finditer(seg)]


def operation_kind(sparql: str) -> str:
    """"update" when the first word after the prolog is an update verb, else "query"."""
    for _, word in keywords(sparql):
        if word in PROLOG_WORDS:
            continue
        return "update" if word in UPDATE_VERBS else "query"
    return "query"
