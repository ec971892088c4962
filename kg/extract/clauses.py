"""What every extractor of kg.extract reads a sentence with: its clauses, its cue words (the
kg:StatusCueScheme of ontology/kg.ttl, one regex per kind), 《…》 titles blanked out, the
plural addressees of obligations, and the sentence of a position with its evidence."""
from __future__ import annotations

import re
from bisect import bisect_right
from functools import lru_cache

from .. import lexicon, ontology
from ..document import Document

CLAUSE_BREAK = re.compile(r"[，,；;：:。！？!?]")
# up to and including the last clause break (greedy, it backtracks from the end)
_UP_TO_LAST_BREAK = re.compile(r".*" + CLAUSE_BREAK.pattern, re.DOTALL)


@lru_cache(maxsize=1)
def cues() -> dict[str, tuple[str, ...]]:
    """{kind: its words, longest first} of the kg:StatusCueScheme."""
    found = ontology.status_cues()
    return {k: tuple(sorted(found.get(k, ()), key=len, reverse=True)) for k in found}


_NEVER = re.compile(r"(?!)")


@lru_cache(maxsize=None)
def cue_pattern(key: str) -> re.Pattern:
    """One regex for a kind of cue: `.search(text)` finds one of its words iff any word is
    in text, and at the leftmost position where one occurs (one pass instead of a
    substring search per word; most clauses are checked against a dozen kinds)."""
    words = cues().get(key, ())
    return re.compile("|".join(map(re.escape, words))) if words else _NEVER


def clause_bounds(sentence: str, pos: int) -> tuple[int, int]:
    """The clause of the sentence around position pos."""
    m = _UP_TO_LAST_BREAK.match(sentence, 0, pos)
    start = m.end() if m else 0
    m = CLAUSE_BREAK.search(sentence, pos)
    return start, m.start() if m else len(sentence)


_BOOK_TITLE = re.compile(r"《[^《》]*》")


def mask_titles(sentence: str) -> str:
    """Blank out 《…》 titles: their words (《…工作计划》, 《未取得许可证经营案》) are not cues."""
    if "《" not in sentence:
        return sentence                 # most have none: spare the substitution
    return _BOOK_TITLE.sub(lambda m: "《" + "＿" * (len(m.group(0)) - 2) + "》", sentence)


def inside(sentence: str, pos: int, opening: str, closing: str) -> int:
    """Where the bracket (《 or “) that pos stands inside opens, or -1."""
    open_at = sentence.rfind(opening, 0, pos)
    if open_at < 0 or sentence.find(closing, open_at, pos) >= 0:
        return -1
    return open_at


QUOTED = re.compile(r"《[^《》]*》|“[^“”]*”")

@lru_cache(maxsize=1)
def addressee_pattern() -> re.Pattern:
    """The addressee of an obligation: 各部门, 各乡(镇)人民政府, 各级行政机关 (the bodies of
    kg:grammar-addressee-body after 各)."""
    return re.compile(r"各(?:级|类)?[\u4e00-\u9fff()（）]{1,14}?" + lexicon.grammar_alternation("addressee_body"))


class Sentences:
    """A document's sentences as the extractors ask for them: the one a text position stands
    in, and one as the source has it (asked again for every fact in the sentence)."""

    def __init__(self, doc: Document):
        self.doc = doc
        self._starts = [s.start for s in doc.sentences]
        self._quoted: dict[int, str] = {}

    def index(self, pos: int) -> int:
        return max(0, bisect_right(self._starts, pos) - 1)

    def evidence(self, i: int) -> str:
        if i not in self._quoted:
            s = self.doc.sentences[i]
            self._quoted[i] = self.doc.quote(s.start, s.end)
        return self._quoted[i]
