"""Candidate terms: recurring …制度/…机制/…清单/…模式 terms the ontology does not know yet, for a
person to review."""
from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

from .. import lexicon
from ..document import Candidate, Document

_CANDIDATE_SUFFIX = re.compile(r"(制度|机制|清单|模式)")


def find_candidates(doc: Document) -> list[Candidate]:
    """Recurring …制度/…机制/…清单/…模式 terms not in the scheme, for a person to review."""
    # jieba only where it is needed: the dozen characters before each …制度/…机制 ending
    sentences = [s.text[max(0, m.start() - 12):m.end()] for s in doc.sentences
                 for m in _CANDIDATE_SUFFIX.finditer(s.text)]
    counts = Counter()
    for text in sentences:
        counts.update(_snippet_terms(text))
    return [Candidate(term=t, count=n, docs=[doc.path]) for t, n in counts.most_common()]


_CONTENT_WORD = re.compile(r"[\u4e00-\u9fff]{2,6}")


@lru_cache(maxsize=1 << 14)
def _snippet_terms(text: str) -> tuple[str, ...]:
    """The candidate terms of one snippet, in order. Remembered: jieba segments in Python, and
    reports repeat their phrasing (…重大行政决策程序制度) within and across documents."""
    known = lexicon.known_terms()
    function_words = _function_words()
    words = lexicon.tokenizer().lcut(lexicon.match_form(text), HMM=False)
    terms = []
    for j, w in enumerate(words):
        if not _CANDIDATE_SUFFIX.fullmatch(w) and not (len(w) > 2 and _CANDIDATE_SUFFIX.search(w[-2:])):
            continue
        if w in known:
            continue
        term = w
        k = j - 1
        # grow leftwards over content words: 联合/执法/机制 → 联合执法机制
        while k >= 0 and len(term) < 12 and _CONTENT_WORD.fullmatch(words[k]) \
                and words[k] not in function_words:
            term = words[k] + term
            k -= 1
        if len(term) < 4 or any(term[k:] in known for k in range(len(term) - 3)):
            continue
        terms.append(term)
    return tuple(terms)


@lru_cache(maxsize=1)
def _function_words() -> frozenset:
    """The verbs and particles a candidate term does not grow over (kg:grammar-function-word)."""
    return frozenset(lexicon.grammar_words("function_word"))
