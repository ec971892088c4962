"""File → Document with every fact, one document at a time.

The analysis is a list of named steps (`STEPS`), each a `Document → Document` function that
says which fields of the document it reads and which it assigns, as spaCy's pipeline components
do; `analyse` runs them in order. `process_file` is a pure function of the file's bytes, so it
can run in worker processes; `document_record` is the JSON shape `kg extract` prints (and
../shared/eval/score.py reads).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Callable

from . import extract, lexicon, normalize, places, read, structure
from .document import Document



def load(path) -> Document:
    """Read a file into a Document (raises read.ReadError with a one-line reason)."""
    src = read.read_file(path)
    return Document(path=str(path), source=src.text, source_format=src.format, encoding=src.encoding)


def complete_organ(doc: Document) -> None:
    """Give the organ its place: 市综合行政执法局 in 乳山市's report is 乳山市综合行政执法局."""
    loc = doc.locality.locality if doc.locality else None
    if loc is None or loc.level == "nation":
        return
    organ = doc.organ
    if organ and organ[0] in "省市区县州旗镇乡" and not organ.startswith(loc.name):
        doc.organ = loc.name + organ[1:] if organ[0] == loc.name[-1] else loc.name + organ
        return
    if organ and (organ.startswith(loc.name) or organ.startswith(loc.name[:2])):
        return
    # the body names its author in full somewhere: “福清市城市管理和综合执法局”
    pattern = re.compile(re.escape(loc.name) + r"[\u4e00-\u9fff]{2,16}?"
                         + lexicon.outline_alternation("full_name_end"))
    names = pattern.findall(doc.text)
    # a name ending in 局 is the report's own where the text says 我局
    endings = lexicon.grammar_words("self_suffix", "OutlineCueScheme")
    own = [n for n in names if any(n.endswith(k) and "我" + k in doc.text for k in endings)]
    if own:
        doc.organ = max(set(own), key=lambda n: (own.count(n), len(n)))
    elif doc.organ is None:
        doc.organ = loc.name + "人民政府"


def locate(doc: Document) -> Document:
    """The division the document speaks for."""
    doc.locality = places.resolve_locality(doc.text, organ=doc.organ, title=doc.title, header=doc.header)
    return doc


def place_organ(doc: Document) -> Document:
    """The organ completed with its locality (complete_organ)."""
    complete_organ(doc)
    return doc


@dataclass(frozen=True)
class Step:
    """A step of the analysis: `run` reads the fields `reads` of a document and assigns `assigns`."""
    name: str
    run: Callable[[Document], Document]
    reads: tuple[str, ...]
    assigns: tuple[str, ...]


STEPS = (
    Step("normalize", normalize.normalize, reads=("source", "path"), assigns=("text", "offsets", "header")),
    Step("structure", structure.structure, reads=("text", "header"),
         assigns=("title", "doctype", "year", "organ", "sections", "sentences")),
    Step("places", locate, reads=("text", "organ", "title", "header"), assigns=("locality",)),
    Step("organ", place_organ, reads=("locality", "organ", "text"), assigns=("organ",)),
    Step("extract", extract.extract,
         reads=("text", "source", "offsets", "path", "title", "organ", "doctype", "sections", "sentences"),
         assigns=("mechanisms", "institutions", "quantities", "obligations", "candidates")),
)


def analyse(doc: Document) -> Document:
    """Normalize, structure, place and extract an already read document."""
    for step in STEPS:
        doc = step.run(doc)
    return doc


def prepare() -> None:
    """Load what every document needs — the lexicons, jieba's dictionary, the division table —
    now rather than at the first document, so that worker processes forked afterwards share it
    instead of each spending ~1.5 s loading its own."""
    lexicon.mechanism_matcher()
    lexicon.institution_matcher()
    lexicon.tokenizer()
    places.divisions()


def process_file(path) -> Document:
    return analyse(load(path))


def locality_record(doc: Document) -> dict | None:
    res = doc.locality
    if res is None or res.locality is None:
        return None
    loc = res.locality
    record = {"name": loc.name, "code": loc.code, "level": loc.level,
              "province": loc.province, "prefecture": loc.prefecture, "county": loc.county}
    # a 街道/乡/镇 carries its county's code (the graph's locality) and its own 9-digit one
    if getattr(loc, "township_code", ""):
        record["township_code"] = loc.township_code
    return record


def document_record(doc: Document) -> dict:
    """The JSON record of one document. Offsets (start, end) index the source text as read."""
    def span(start, end):
        return doc.source_span(start, end)

    record = {
        "doc": os.path.basename(doc.path),
        "path": doc.path,
        "format": doc.source_format,
        "encoding": doc.encoding,
        "title": doc.title,
        "organ": doc.organ,
        "year": doc.year,
        "doctype": doc.doctype,
        "header": doc.header,
        "locality": locality_record(doc),
    }
    if doc.locality is not None and doc.locality.locality is None:
        record["locality_candidates"] = [
            {"name": c.name, "code": c.code, "province": c.province, "prefecture": c.prefecture}
            for c in doc.locality.candidates]
    if doc.locality is not None:
        record["locality_reason"] = doc.locality.reason or doc.locality.evidence
    record["sections"] = [
        {"role": s.role, "numbering": s.numbering, "depth": s.depth, "heading": s.heading,
         "start": start, "end": end}
        for s in doc.sections for start, end in (span(s.start, s.end),)]
    record["sentences"] = len(doc.sentences)
    record.update(extract.facts_record(doc))
    return record
