"""The document object that flows through the pipeline.

Each step fills in its part: `read` gives `source`, `normalize` gives `text` and the
offset map, `structure` gives sections and sentences, `places` the locality, `extract`
the facts. Every offset below is into `text` (the normalized text) unless it says
`source`; `Document.source_span` maps a normalized span back to the original.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Optional

from .offsets import OffsetMap


@dataclass
class Locality:
    """An official administrative division (GB/T 2260)."""
    name: str
    code: str                     # 6-digit division code; township: the county's code + name
    level: str                    # province | prefecture | county | township
    province: Optional[str] = None
    prefecture: Optional[str] = None
    county: Optional[str] = None
    parents: list = field(default_factory=list)   # [(code, name, level)] from the province down


@dataclass
class LocalityResolution:
    locality: Optional[Locality]
    candidates: list = field(default_factory=list)  # [Locality] when ambiguous
    reason: str = ""
    evidence: str = ""


@dataclass
class Section:
    heading: str
    numbering: str                # 一、 | (一) | 1. | 一是 | ""
    depth: int                    # 1 for 一、, 2 for (一), 3 for 1., 4 for 一是
    role: str                     # achievements | weaknesses | duty_holder | plans | requirements | other
    start: int
    end: int


@dataclass
class Sentence:
    start: int
    end: int
    section: int                  # index into Document.sections, -1 before the first heading
    text: str


@dataclass
class Mention:
    notation: str
    label: str
    status: str                   # implemented | planned | weakness | required
    start: int
    end: int
    sentence: int
    matched: str                  # the surface form found in the normalized text
    evidence: str = ""            # the sentence as the source has it


@dataclass
class Institution:
    kind: Optional[str]           # notation of an institutions.ttl concept, None for a named body only
    label: str
    name: Optional[str]           # a proper name (福建宇亮律师事务所) when the text gives one
    count: Optional[float]
    unit: Optional[str]
    start: int
    end: int
    sentence: int
    evidence: str = ""


@dataclass
class Quantity:
    subject: str
    value: float
    unit: str
    qualifier: Optional[str]      # 余 | 近 | 以上 | 约 …, the text's own hedging of the figure
    notation: Optional[str]       # mechanism the figure belongs to
    start: int
    end: int
    sentence: int
    evidence: str = ""


@dataclass
class Obligation:
    addressee: Optional[str]
    modality: str                 # must | must_not
    notation: Optional[str]
    deadline: Optional[str]
    start: int
    end: int
    sentence: int
    evidence: str = ""


@dataclass
class Candidate:
    term: str
    count: int
    docs: list = field(default_factory=list)


@dataclass
class Document:
    path: str
    source: str                   # the text as read (decoded), before normalization
    source_format: str = "txt"
    encoding: Optional[str] = None
    text: str = ""
    offsets: Optional[OffsetMap] = None  # normalized text position -> source position
    header: dict = field(default_factory=dict)
    title: Optional[str] = None
    organ: Optional[str] = None
    year: Optional[int] = None
    doctype: Optional[str] = None
    sections: list = field(default_factory=list)
    sentences: list = field(default_factory=list)
    locality: Optional[LocalityResolution] = None
    mechanisms: list = field(default_factory=list)
    institutions: list = field(default_factory=list)
    quantities: list = field(default_factory=list)
    obligations: list = field(default_factory=list)
    candidates: list = field(default_factory=list)

    def source_span(self, start: int, end: int) -> tuple[int, int]:
        """The source offsets of the normalized span [start, end)."""
        return self.offsets.span(start, end) if self.offsets is not None else (start, end)

    def quote(self, start: int, end: int) -> str:
        """The span as the source has it (traditional script, pinyin and all)."""
        s, e = self.source_span(start, end)
        return self.source[s:e]

    def section_role(self, sentence_index: int) -> str:
        i = self.sentences[sentence_index].section if 0 <= sentence_index < len(self.sentences) else -1
        return self.sections[i].role if i >= 0 else "other"


def to_dict(obj):
    return asdict(obj)
