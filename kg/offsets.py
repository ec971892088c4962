"""A map from positions in a derived text back to positions in the text it came from.

Normalization only ever deletes characters (pinyin annotations, page chrome) or replaces
them one for one (traditional → simplified, full-width → ASCII), so the map is a short
list of runs: each run is a stretch of the derived text copied from one stretch of the
source. Runs keep the map small and the lookups O(log n) on multi-megabyte files.
"""
from __future__ import annotations

from bisect import bisect_right


class OffsetMap:
    __slots__ = ("starts", "sources", "length")

    def __init__(self, runs: list[tuple[int, int]], length: int):
        # runs: [(derived_start, source_start)], sorted, first at 0; each run extends to the next
        self.starts = [r[0] for r in runs] or [0]
        self.sources = [r[1] for r in runs] or [0]
        self.length = length

    @classmethod
    def identity(cls, length: int) -> "OffsetMap":
        return cls([(0, 0)], length)

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, i: int) -> int:
        """Source position of derived position i (i == len maps past the last character)."""
        if i < 0:
            i += self.length
        k = bisect_right(self.starts, i) - 1
        return self.sources[k] + (i - self.starts[k])

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Source span covering derived span [start, end): deleted text inside it is included."""
        if end <= start:
            s = self[start] if start < self.length else self[self.length - 1] + 1 if self.length else 0
            return s, s
        return self[start], self[end - 1] + 1

    def then(self, inner: "OffsetMap") -> "OffsetMap":
        """Compose: self maps C → B, inner maps B → A; the result maps C → A."""
        runs = []
        bounds = self.starts[1:] + [self.length]
        for c_start, b_start, c_end in zip(self.starts, self.sources, bounds):
            n, pos = c_end - c_start, 0
            while pos < n:
                # split this run where the inner map starts a new run
                b = b_start + pos
                k = bisect_right(inner.starts, b) - 1
                runs.append((c_start + pos, inner.sources[k] + (b - inner.starts[k])))
                next_b = inner.starts[k + 1] if k + 1 < len(inner.starts) else None
                pos += n - pos if next_b is None else min(n - pos, next_b - b)
        if not runs:
            runs = [(0, 0)]
        return OffsetMap(_merge(runs), self.length)


def _merge(runs):
    """Drop runs that merely continue the previous one."""
    out = []
    for d, s in runs:
        if out:
            pd, ps = out[-1]
            if d == pd:
                out[-1] = (d, s)
                continue
            if s - ps == d - pd:
                continue
        out.append((d, s))
    return out


def delete_spans(text: str, spans) -> tuple[str, OffsetMap]:
    """Remove the [start, end) spans from text; return the new text and its map back."""
    pieces, runs, pos, out_len = [], [], 0, 0
    for start, end in sorted(spans):
        # a span may run past the end (a last line's "newline" that is not there): clip it
        start, end = max(start, pos), min(end, len(text))
        if end <= start:
            continue
        if start > pos:
            pieces.append(text[pos:start])
            runs.append((out_len, pos))
            out_len += start - pos
        pos = end
    if pos < len(text) or not runs:
        pieces.append(text[pos:])
        runs.append((out_len, pos))
        out_len += len(text) - pos
    return "".join(pieces), OffsetMap(_merge(runs), out_len)


# ---------------------------------------------------------------- UTF-8 views for automatons
#
# pyahocorasick finds a node's child by a linear scan over its children. Keyed on characters,
# the root of an automaton of place names or labels has a child for every first character
# (about 1,500 for the division names), and nearly every character of a text passes through
# the root: about 1 ms for a 10 KB report. Keyed on UTF-8 bytes (as a str of code points
# below 256) no node has more than 64 children, a CJK character's lead byte has a dozen
# possible values, and the same scan takes a third of that. (The label automatons of
# kg.lexicon have roots of 50-100 children: for them the threefold longer input costs
# more than it saves, so they stay keyed on characters.)
#
# The matches are the same: UTF-8 is self-synchronizing (lead bytes and continuation bytes
# are disjoint), so an encoded key can only match on character boundaries, every output
# and failure node of the byte automaton corresponds to one of the character automaton, and
# iter_long's leftmost-longest walk takes the same decisions at every character boundary.

def utf8_key(text: str) -> str:
    """The form in which to add a key to an automaton scanned through `Utf8Text`."""
    return text.encode("utf-8", "surrogatepass").decode("latin-1")


class Utf8Text:
    """A text's UTF-8 bytes as a str (`view`), and byte offsets in it back to characters."""
    __slots__ = ("view", "_byte", "_char")

    def __init__(self, text: str):
        # surrogatepass: a lone surrogate still encodes as lead + continuation bytes
        self.view = text.encode("utf-8", "surrogatepass").decode("latin-1")
        self._byte = self._char = 0

    def char_offset(self, byte_offset: int) -> int:
        """The character offset of a byte offset on a character boundary. Cheapest when
        asked in increasing order (as an automaton reports its matches)."""
        if byte_offset < self._byte:
            self._byte = self._char = 0
        piece = self.view[self._byte:byte_offset].encode("latin-1")
        self._char += len(piece.decode("utf-8", "surrogatepass"))
        self._byte = byte_offset
        return self._char
