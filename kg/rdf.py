"""Facts of one document → the quads of its named graph. The only module that spells the
vocabulary's IRIs for instance data (classes and properties are declared in ontology/kg.ttl).

Graph layout of a store
    kgd:<hash>                 one graph per document, named from its content hash
    …/places                   every administrative division with code, level, parent
    …/ontology/<file>          the ontology files, so queries can use labels and skos:broader
    …/catalog                  source file → document graph, content hash (kg.store)
Offsets index the source text as read, so evidence quotes the original. Sentences and figures
carry theirs in their IRIs (`kgd:<hash>#char=120,184`, `#figure=130,136`; `span_of` reads them).
"""
from __future__ import annotations

import hashlib
import json
import re
from functools import lru_cache
from typing import Iterator

from pyoxigraph import Literal, NamedNode, Quad

from .document import Document, Locality

from .namespaces import PREFIXES

BASE = "https://w3id.org/fazhi-kg/"
KG, KGM, KGI, KGD, KGL = (PREFIXES[p] for p in ("kg", "kgm", "kgi", "kgd", "kgl"))
KGO = BASE + "org/"
PLACES_GRAPH = BASE + "places"
ONTOLOGY_GRAPH = BASE + "ontology/"

RDF_TYPE = NamedNode(PREFIXES["rdf"] + "type")
RDFS_LABEL = NamedNode(PREFIXES["rdfs"] + "label")
XSD, DCT, ORG = PREFIXES["xsd"], PREFIXES["dcterms"], PREFIXES["org"]
ORG_ORGANIZATION, ORG_POST, ORG_ROLE, ORG_POST_IN = (
    NamedNode(ORG + local) for local in ("Organization", "Post", "role", "postIn"))

STATUS = {"implemented": "Implemented", "planned": "Planned", "weakness": "Weakness", "required": "Required"}
LEVEL = {"nation": "NationLevel", "province": "ProvinceLevel", "prefecture": "PrefectureLevel",
         "county": "CountyLevel", "township": "TownshipLevel"}


@lru_cache(maxsize=None)
def kg(local: str) -> NamedNode:
    return NamedNode(KG + local)


def dct(local: str) -> NamedNode:
    return NamedNode(DCT + local)


def _int(v: int) -> Literal:
    return Literal(str(int(v)), datatype=NamedNode(XSD + "integer"))


def _dec(v: float) -> Literal:
    text = f"{v:.6f}".rstrip("0").rstrip(".")
    return Literal(text if "." in text else text + ".0", datatype=NamedNode(XSD + "decimal"))


def _str(v: str) -> Literal:
    return Literal(v)


def _zh(v: str) -> Literal:
    return Literal(v, language="zh")


def document_iri(content_hash: str) -> NamedNode:
    return NamedNode(KGD + content_hash[:20])


def mechanism_iri(notation: str) -> NamedNode:
    return NamedNode(KGM + notation)


def institution_iri(notation: str) -> NamedNode:
    return NamedNode(KGI + notation)


def locality_iri(loc: Locality) -> NamedNode:
    if loc.level == "township":
        return NamedNode(KGL + loc.code + "/" + hashlib.sha1(loc.name.encode()).hexdigest()[:8])
    return NamedNode(KGL + loc.code)


def organization_iri(name: str) -> NamedNode:
    return NamedNode(KGO + hashlib.sha1(name.encode("utf-8")).hexdigest()[:16])


def locality_triples(loc: Locality, parent: Locality | None):
    """A division with code, level and its direct parent (the places graph holds the chain)."""
    node = locality_iri(loc)
    yield node, RDF_TYPE, kg("Locality")
    yield node, RDFS_LABEL, _zh(loc.name)
    yield node, kg("divisionCode"), _str(loc.code)
    yield node, kg("level"), kg(LEVEL.get(loc.level, "CountyLevel"))
    if parent is not None:
        yield node, kg("parentLocality"), locality_iri(parent)


def sentence_iri(doc_iri: NamedNode, start: int, end: int) -> NamedNode:
    """A sentence named by its source offsets, as RFC 5147 fragments do (`…#char=120,184`):
    the IRI itself is the provenance (document and offsets), so no triple has to carry it."""
    return NamedNode(f"{doc_iri.value}#char={start},{end}")


def quantity_iri(doc_iri: NamedNode, start: int, end: int) -> NamedNode:
    """A figure named by its source offsets (`…#figure=130,136`)."""
    return NamedNode(f"{doc_iri.value}#figure={start},{end}")


_SPAN = re.compile(r"#(?:char|figure)=(\d+),(\d+)$")


def span_of(iri: str) -> tuple[int, int] | None:
    """(start, end) in the source text of a sentence or figure IRI, None for other IRIs."""
    m = _SPAN.search(iri)
    return (int(m.group(1)), int(m.group(2))) if m else None


def format_assertion_index(assertions) -> str:
    """The kg:assertionIndex literal of a document: a line `notation status start,end …` per
    (mechanism, status) assertion, its evidence sentences as source offsets, in text order and
    each once (readers rely on it: `index_sentence_iris`).

    The same facts as the document's kg:MechanismAssertion nodes, in one term: a corpus-wide
    audit reads one row per document instead of one per evidence sentence (at 10,000 documents,
    10,000 rows instead of 800,000, each of whose IRIs costs the store a lookup to decode)."""
    return "\n".join(f"{notation} {status} " + " ".join(f"{s},{e}" for s, e in sorted(set(spans)))
                     for notation, status, spans in assertions)


def parse_assertion_index(text: str) -> list[tuple[str, str, list[tuple[int, int]]]]:
    """(notation, status, [(start, end), …]) of each line of a kg:assertionIndex literal."""
    return [(notation, status, index_spans(spans))
            for notation, status, spans in assertion_index_lines(text)]


def assertion_index_lines(text: str) -> Iterator[tuple[str, str, str]]:
    """(notation, status, spans) of each line of a kg:assertionIndex literal, the spans still
    as written (`start,end start,end …`, see `index_spans`): a reader that keeps only some lines
    parses only their offsets."""
    for line in text.split("\n"):
        notation, status, spans = line.split(" ", 2)
        yield notation, status, spans


def index_spans(spans: str) -> list[tuple[int, int]]:
    """[(start, end), …] of the spans of one assertion-index line."""
    n = list(map(int, spans.replace(",", " ").split(" ")))
    return list(zip(n[::2], n[1::2]))


def index_sentence_iris(doc_iri: str, *spans: str) -> list[str]:
    """The IRIs of the evidence sentences of a document's assertion-index lines (their spans),
    in text order, each once. One line's spans are written as the sentence IRI's fragment
    writes them (`sentence_iri`) and already in order, so they are not parsed."""
    if len(spans) == 1:
        return [f"{doc_iri}#char={span}" for span in spans[0].split(" ")]
    return [f"{doc_iri}#char={start},{end}"
            for start, end in sorted({span for line in spans for span in index_spans(line)})]


def format_organization_index(organ: str | None, posts, named) -> str:
    """The kg:organizationIndex literal of a document: JSON `{"organ": name, "posts": [[kind,
    count], …], "named": [[kind, name], …]}` (keys without values left out; `{}` for a document
    that names none), kinds as notations, counts as numbers (a post's kg:count) or null.

    The same facts as the document's organ, ORG posts and named bodies, in one term that every
    document has: the graph view reads a row per document instead of ~15 (at 10,000 documents
    150,000 rows of eight terms took 4–8 s to read out), and a document without the literal was
    written before it existed (kg.viz.organizations reads those from their posts)."""
    index = {key: value for key, value in (("organ", organ), ("posts", posts), ("named", named)) if value}
    return json.dumps(index, ensure_ascii=False, separators=(",", ":"))


def parse_organization_index(text: str) -> tuple[str | None, list, list]:
    """(organ name or None, [(kind, count or None), …], [(kind, name), …]) of a
    kg:organizationIndex literal."""
    index = json.loads(text)
    return (index.get("organ"), [tuple(p) for p in index.get("posts", ())],
            [tuple(n) for n in index.get("named", ())])


def document_quads(doc: Document, content_hash: str, source_file: str) -> list[Quad]:
    """Every fact of the document, in its own named graph (whose IRI is the document's).

    The graph is kept small because the store's size and write time grow with the quads
    (Oxigraph keeps six indexes of every quad of a named graph, ~290 bytes each on disk):
    facts are aggregated per document — one assertion per mechanism and status, one post per
    institution kind, each pointing to its evidence sentences — and sentences and figures carry
    their source offsets in their IRIs rather than in triples.
    """
    graph = _GraphWriter(doc, document_iri(content_hash))
    organ = _describe_document(graph, source_file)
    _add_assertions(graph)
    _add_posts(graph, organ)
    _add_quantities(graph)
    _add_obligations(graph)
    # candidate terms for review: the document names them (how often is a matter of the text)
    for c in doc.candidates:
        graph.add(graph.g, kg("candidateTerm"), _zh(c.term))
    _add_sentence_texts(graph)
    return graph.out


class _GraphWriter:
    """The quads of one document's graph as they are made, and the sentences they cite."""

    def __init__(self, doc: Document, g: NamedNode):
        self.doc = doc
        self.g = g                   # the graph's IRI, which is also the document's
        self.out: list[Quad] = []
        self.sentence_nodes: dict[int, NamedNode] = {}    # the sentences used as evidence, by index

    def add(self, s, p, o) -> None:
        self.out.append(Quad(s, p, o, self.g))

    def evidence(self, node: NamedNode, sentence: int) -> None:
        iri = self.sentence_nodes.get(sentence)
        if iri is None:
            sent = self.doc.sentences[sentence]
            iri = self.sentence_nodes[sentence] = sentence_iri(
                self.g, *self.doc.source_span(sent.start, sent.end))
        self.out.append(Quad(node, _EVIDENCE, iri, self.g))


_EVIDENCE = kg("evidence")


def _describe_document(graph: _GraphWriter, source_file: str) -> NamedNode | None:
    """The document's own properties, its locality and its organ (returned, or None)."""
    doc, d, add = graph.doc, graph.g, graph.add
    add(d, RDF_TYPE, kg("RequirementDocument" if doc.doctype == "notice" else "Report"))
    add(d, RDF_TYPE, kg("Document"))
    add(d, kg("sourceFile"), _str(source_file))
    add(d, kg("doctype"), _str(doc.doctype or "annual_report"))
    if doc.title:
        add(d, dct("title"), _zh(doc.title))
    if doc.year:
        add(d, kg("year"), _int(doc.year))
    for key, prop in (("index_no", "identifier"), ("written", "created"), ("doc_no", "bibliographicCitation")):
        if doc.header.get(key):
            add(d, dct(prop), _str(doc.header[key]))

    loc = doc.locality.locality if doc.locality else None
    loc_node = None
    if loc is not None and loc.code != "000000":
        loc_node = locality_iri(loc)
        add(d, kg("locality"), loc_node)
        if loc.level == "township":   # not in the places graph: carry it here
            county = Locality(name=loc.county or "", code=loc.code, level="county")
            for t in locality_triples(loc, county):
                add(*t)
    organ = organization_iri(doc.organ) if doc.organ else None
    if organ is not None:
        add(d, kg("organ"), organ)
        add(organ, RDF_TYPE, ORG_ORGANIZATION)
        add(organ, RDFS_LABEL, _zh(doc.organ))
        if loc_node is not None:
            add(organ, kg("locality"), loc_node)
    return organ


def _add_assertions(graph: _GraphWriter) -> None:
    """One assertion per (mechanism, status), with every sentence that says so, and their index."""
    doc, d, add = graph.doc, graph.g, graph.add
    assertions: dict[tuple[str, str], dict[int, None]] = {}
    for m in doc.mechanisms:
        assertions.setdefault((m.notation, m.status), {})[m.sentence] = None
    index = []
    for (notation, status), sentences in sorted(assertions.items()):
        node = NamedNode(f"{d.value}#{notation}-{status}")
        add(node, RDF_TYPE, kg("MechanismAssertion"))
        add(node, kg("mechanism"), mechanism_iri(notation))
        add(node, kg("status"), kg(STATUS[status]))
        add(node, kg("inDocument"), d)
        for i in sentences:
            graph.evidence(node, i)
        index.append((notation, status, [span_of(graph.sentence_nodes[i].value) for i in sentences]))
    if index:
        add(d, kg("assertionIndex"), _str(format_assertion_index(index)))


def _add_posts(graph: _GraphWriter, organ: NamedNode | None) -> None:
    """Institutions and roles: one ORG post per kind, with the largest count the text gives,
    how often it is named, the named bodies of that kind, and where it is first named."""
    doc, d, add = graph.doc, graph.g, graph.add
    posts: dict[str, list] = {}
    for x in doc.institutions:
        posts.setdefault(x.kind, []).append(x)
    counts, named_bodies = [], []
    for kind, mentions in sorted(posts.items()):
        post = NamedNode(f"{d.value}#post-{kind}")
        add(post, RDF_TYPE, ORG_POST)
        add(post, ORG_ROLE, institution_iri(kind))
        if organ is not None:
            add(post, ORG_POST_IN, organ)
        add(post, kg("inDocument"), d)
        add(post, kg("mentions"), _int(len(mentions)))
        graph.evidence(post, mentions[0].sentence)
        counted = [x for x in mentions if x.count is not None]
        top = max(counted, key=lambda x: x.count) if counted else None
        if top is not None:
            add(post, kg("count"), _dec(top.count))
            graph.evidence(post, top.sentence)
        counts.append((kind, top.count if top is not None else None))
        for name in dict.fromkeys(x.name for x in mentions if x.name):
            named = organization_iri(name)
            add(post, kg("namedOrganization"), named)
            add(named, RDF_TYPE, ORG_ORGANIZATION)
            add(named, RDFS_LABEL, _zh(name))
            add(named, kg("institutionKind"), institution_iri(kind))
            named_bodies.append((kind, name))
    add(d, kg("organizationIndex"), _str(format_organization_index(doc.organ, counts, named_bodies)))


def _add_quantities(graph: _GraphWriter) -> None:
    doc, d, add = graph.doc, graph.g, graph.add
    for q in doc.quantities:
        node = quantity_iri(d, *doc.source_span(q.start, q.end))
        add(node, RDF_TYPE, kg("Quantity"))
        add(node, kg("value"), _dec(q.value))
        add(node, kg("unit"), _str(q.unit))
        if q.notation:
            add(node, kg("quantityOf"), mechanism_iri(q.notation))
        if q.subject:
            add(node, kg("subject"), _str(q.subject))
        if q.qualifier:
            add(node, kg("qualifier"), _str(q.qualifier))
        add(node, kg("inDocument"), d)
        graph.evidence(node, q.sentence)


def _add_obligations(graph: _GraphWriter) -> None:
    doc, d, add = graph.doc, graph.g, graph.add
    for k, o in enumerate(doc.obligations):
        node = NamedNode(f"{d.value}#o{k}")
        add(node, RDF_TYPE, kg("Obligation"))
        add(node, kg("modality"), _str(o.modality))
        if o.addressee:
            add(node, kg("addressee"), _str(o.addressee))
        if o.notation:
            add(node, kg("obligationMechanism"), mechanism_iri(o.notation))
        if o.deadline:
            add(node, kg("deadline"), _str(o.deadline))
        add(node, kg("inDocument"), d)
        graph.evidence(node, o.sentence)


def _add_sentence_texts(graph: _GraphWriter) -> None:
    """The text of every sentence cited as evidence, cut from the source by its IRI's span."""
    for i in sorted(graph.sentence_nodes):
        s, e = span_of(graph.sentence_nodes[i].value)
        graph.add(graph.sentence_nodes[i], kg("text"), _str(graph.doc.source[s:e]))
