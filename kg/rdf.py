"""Facts of one document → the quads of its named graph. The only module that spells the
vocabulary's IRIs for instance data (classes and properties are declared in ontology/kg.ttl).

Graph layout of a store
    kgd:<hash>                 one graph per document, named from its content hash
    …/places                   every administrative division with code, level, parent
    …/ontology/<file>          the ontology files, so queries can use labels and skos:broader
    …/catalog                  source file → document graph, content hash (kg.store)
Offsets (kg:start, kg:end) index the source text as read, so evidence quotes the original.
"""
from __future__ import annotations

import hashlib
from functools import lru_cache

from pyoxigraph import Literal, NamedNode, Quad

from .document import Document, Locality

from .namespaces import PREFIXES

BASE = "https://w3id.org/fazhi-kg/"
KG, KGM, KGI, KGD, KGL = (PREFIXES[p] for p in ("kg", "kgm", "kgi", "kgd", "kgl"))
KGO = BASE + "org/"
PLACES_GRAPH = BASE + "places"
ONTOLOGY_GRAPH = BASE + "ontology/"

RDF_TYPE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
RDFS_LABEL = NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
XSD = "http://www.w3.org/2001/XMLSchema#"
DCT = "http://purl.org/dc/terms/"
ORG = "http://www.w3.org/ns/org#"
PROV = "http://www.w3.org/ns/prov#"

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


def document_quads(doc: Document, content_hash: str, source_file: str) -> list[Quad]:
    """Every fact of the document, in its own named graph."""
    g = document_iri(content_hash)
    d = g
    out: list[Quad] = []

    def add(s, p, o):
        out.append(Quad(s, p, o, g))

    def span(s, e):
        return doc.source_span(s, e)

    add(d, RDF_TYPE, kg("RequirementDocument" if doc.doctype == "notice" else "Report"))
    add(d, RDF_TYPE, kg("Document"))
    add(d, kg("contentHash"), _str(content_hash))
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
    if doc.organ:
        org = organization_iri(doc.organ)
        add(d, kg("organ"), org)
        add(d, dct("publisher"), org)
        add(org, RDF_TYPE, NamedNode(ORG + "Organization"))
        add(org, RDFS_LABEL, _zh(doc.organ))
        if loc_node is not None:
            add(org, kg("locality"), loc_node)

    sentences_used = set()

    def sentence_node(i: int) -> NamedNode:
        sentences_used.add(i)
        return NamedNode(f"{g.value}#s{i}")

    def provenance(node: NamedNode, sentence: int, start: int, end: int) -> None:
        """Where a fact was read: document, sentence, source offsets."""
        s, e = span(start, end)
        add(node, kg("inDocument"), d)
        add(node, kg("sentence"), sentence_node(sentence))
        add(node, kg("start"), _int(s))
        add(node, kg("end"), _int(e))

    # mentions and the document-level assertions they support
    assertions: dict[tuple[str, str], list[NamedNode]] = {}
    for k, m in enumerate(doc.mechanisms):
        node = NamedNode(f"{g.value}#m{k}")
        add(node, RDF_TYPE, kg("Mention"))
        add(node, kg("mechanism"), mechanism_iri(m.notation))
        add(node, kg("status"), kg(STATUS[m.status]))
        provenance(node, m.sentence, m.start, m.end)
        add(node, kg("matched"), _str(m.matched))
        assertions.setdefault((m.notation, m.status), []).append(node)
    for (notation, status), mentions in sorted(assertions.items()):
        node = NamedNode(f"{g.value}#a-{notation}-{status}")
        add(node, RDF_TYPE, kg("MechanismAssertion"))
        add(node, kg("mechanism"), mechanism_iri(notation))
        add(node, kg("status"), kg(STATUS[status]))
        add(node, kg("inDocument"), d)
        add(node, NamedNode(PROV + "wasDerivedFrom"), d)
        if loc_node is not None:
            add(node, kg("locality"), loc_node)
        for mention in mentions:
            add(node, kg("evidence"), mention)

    # institutions and roles; role kinds become ORG posts of the organ, with their count
    posts: dict[str, float | None] = {}
    for k, x in enumerate(doc.institutions):
        node = NamedNode(f"{g.value}#i{k}")
        add(node, RDF_TYPE, kg("InstitutionMention"))
        add(node, kg("institutionKind"), institution_iri(x.kind))
        provenance(node, x.sentence, x.start, x.end)
        if x.name:
            named = organization_iri(x.name)
            add(node, kg("namedOrganization"), named)
            add(named, RDF_TYPE, NamedNode(ORG + "Organization"))
            add(named, RDFS_LABEL, _zh(x.name))
            add(named, kg("institutionKind"), institution_iri(x.kind))
        if x.count is not None:
            add(node, kg("count"), _dec(x.count))
            add(node, kg("unit"), _str(x.unit or ""))
            posts[x.kind] = max(posts.get(x.kind) or 0, x.count)
        else:
            posts.setdefault(x.kind, None)
    if doc.organ:
        org = organization_iri(doc.organ)
        for kind, count in sorted(posts.items()):
            post = NamedNode(f"{g.value}#post-{kind}")
            add(post, RDF_TYPE, NamedNode(ORG + "Post"))
            add(post, NamedNode(ORG + "role"), institution_iri(kind))
            add(post, NamedNode(ORG + "postIn"), org)
            add(post, kg("inDocument"), d)
            if count is not None:
                add(post, kg("count"), _dec(count))

    for k, q in enumerate(doc.quantities):
        node = NamedNode(f"{g.value}#q{k}")
        add(node, RDF_TYPE, kg("Quantity"))
        add(node, kg("value"), _dec(q.value))
        add(node, kg("unit"), _str(q.unit))
        if q.subject:
            add(node, kg("subject"), _str(q.subject))
        if q.qualifier:
            add(node, kg("qualifier"), _str(q.qualifier))
        if q.notation:
            add(node, kg("quantityOf"), mechanism_iri(q.notation))
        provenance(node, q.sentence, q.start, q.end)
        if loc_node is not None:
            add(node, kg("locality"), loc_node)

    for k, o in enumerate(doc.obligations):
        node = NamedNode(f"{g.value}#o{k}")
        add(node, RDF_TYPE, kg("Obligation"))
        add(node, kg("modality"), _str(o.modality))
        if o.addressee:
            add(node, kg("addressee"), _str(o.addressee))
        if o.notation:
            add(node, kg("obligationMechanism"), mechanism_iri(o.notation))
        if o.deadline:
            add(node, kg("deadline"), _str(o.deadline))
        add(node, kg("inDocument"), d)
        add(node, kg("sentence"), sentence_node(o.sentence))

    for k, c in enumerate(doc.candidates):
        node = NamedNode(f"{g.value}#c{k}")
        add(node, RDF_TYPE, kg("CandidateTerm"))
        add(node, RDFS_LABEL, _zh(c.term))
        add(node, kg("frequency"), _int(c.count))
        add(node, kg("inDocument"), d)

    for i in sorted(sentences_used):
        sent = doc.sentences[i]
        node = NamedNode(f"{g.value}#s{i}")
        s, e = span(sent.start, sent.end)
        add(node, RDF_TYPE, kg("Sentence"))
        add(node, kg("text"), _str(doc.source[s:e]))
        add(node, kg("start"), _int(s))
        add(node, kg("end"), _int(e))
        add(node, kg("sectionRole"), _str(doc.section_role(i)))
        add(node, kg("inDocument"), d)
    return out
