"""The SPARQL engine (the shapes compiled into queries the store runs) finds what pySHACL finds.

A store built from tests/docs is spoilt so that every kind of constraint ontology/shapes.ttl
uses is broken at least once; pySHACL on the union of its graphs (the catalog aside) is the
reference. Both engines are also run through `kg.api.validate`, which must name the same
documents; and a clean store conforms in both.
"""
from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.collection import Collection

from kg import api, ontology
from kg.namespaces import CATALOG_GRAPH, KG
from kg.rdf import PLACES_GRAPH
from kg.store import Store
from kg.validate import shacl, sparql_engine
from kg.validate.sparql_engine import Validator

DOCS = Path(__file__).parent / "docs"
SH = shacl.SH
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
XSD = "http://www.w3.org/2001/XMLSchema#"
DCT_TITLE = ox.NamedNode("http://purl.org/dc/terms/title")
ORG = "http://www.w3.org/ns/org#"


def kg(name: str) -> ox.NamedNode:
    return ox.NamedNode(KG + name)


def typed(value: str, datatype: str) -> ox.Literal:
    return ox.Literal(value, datatype=ox.NamedNode(XSD + datatype))


@pytest.fixture(scope="module")
def clean_store(tmp_path_factory):
    path = tmp_path_factory.mktemp("parity") / "store"
    with Store.open(path) as s:
        assert api.build([DOCS], s).ok
    return path


def rewrite(s: Store, source_end: str, change) -> str:
    """Rewrite one document's graph with `change(triples, graph node)` (new triples)."""
    source, (graph, digest) = next((k, v) for k, v in s.document_hashes().items()
                                   if k.endswith(source_end))
    g = ox.NamedNode(graph)
    triples = [ox.Triple(q.subject, q.predicate, q.object) for q in s.quads(graph)]
    triples = change(triples, g)
    s.replace_document(graph, [ox.Quad(t.subject, t.predicate, t.object, g) for t in triples],
                       source_file=source, content_hash=digest + "-spoilt")
    return source


def of_type(triples, cls: ox.NamedNode) -> list:
    return sorted({t.subject for t in triples if t.predicate == RDF_TYPE and t.object == cls},
                  key=str)


def without(triples, subject, predicate) -> list:
    return [t for t in triples if not (t.subject == subject and t.predicate == predicate)]


def spoil_document(triples, g):
    """A second title, a doctype "memo", kg:year "2021" as a string, an organ that is a literal,
    a candidate term without a language, a malformed assertion index, a locality that is a
    mechanism."""
    for p in (kg("doctype"), kg("year"), kg("organ"), kg("assertionIndex"), kg("locality")):
        triples = without(triples, g, p)
    return triples + [
        ox.Triple(g, DCT_TITLE, ox.Literal("one")), ox.Triple(g, DCT_TITLE, ox.Literal("two")),
        ox.Triple(g, kg("doctype"), ox.Literal("memo")),
        ox.Triple(g, kg("year"), ox.Literal("2021")),
        ox.Triple(g, kg("organ"), ox.Literal("司法局")),
        ox.Triple(g, kg("candidateTerm"), ox.Literal("no language")),
        ox.Triple(g, kg("assertionIndex"), ox.Literal("M01 done 1,2")),
        ox.Triple(g, kg("locality"), ox.NamedNode("https://w3id.org/fazhi-kg/mechanism/M01")),
    ]


def spoil_parts(triples, g):
    """Assertions: a status kg:Foo, two mechanisms, a mechanism of another scheme, one that is a
    literal; a post without kg:mentions and a kg:count as xsd:double, one with an ill-typed
    kg:mentions; a quantity valued as xsd:double; evidence without #char=; a quantity IRI
    without #figure= and nothing said of it; a year 1800 is in the other document."""
    a = of_type(triples, kg("MechanismAssertion"))
    posts = of_type(triples, ox.NamedNode(ORG + "Post"))
    q = of_type(triples, kg("Quantity"))
    triples = without(without(triples, a[0], kg("status")), a[2], kg("mechanism"))
    triples = without(without(triples, a[3], kg("mechanism")), posts[0], kg("mentions"))
    triples = without(without(triples, posts[1], kg("mentions")), q[0], kg("value"))
    bad_sentence = ox.NamedNode(g.value + "#sentence-7")
    return triples + [
        ox.Triple(a[0], kg("status"), kg("Foo")),
        ox.Triple(a[1], kg("mechanism"), ox.NamedNode("https://w3id.org/fazhi-kg/mechanism/M02")),
        ox.Triple(a[2], kg("mechanism"), ox.NamedNode("https://w3id.org/fazhi-kg/institution/I10")),
        ox.Triple(a[3], kg("mechanism"), ox.Literal("M01")),
        ox.Triple(a[4], kg("evidence"), bad_sentence),
        ox.Triple(posts[0], kg("count"), typed("2.0", "double")),
        ox.Triple(posts[1], kg("mentions"), typed("many", "integer")),
        ox.Triple(q[0], kg("value"), typed("30.0", "double")),
        ox.Triple(ox.NamedNode(g.value + "#q-bad"), RDF_TYPE, kg("Quantity")),
    ]


def spoil_year(triples, g):
    return without(triples, g, kg("year")) + [ox.Triple(g, kg("year"), typed("1800", "integer"))]


def spoil_places(s: Store) -> None:
    """A locality with a 5-digit code."""
    triples = [ox.Triple(q.subject, q.predicate, q.object) for q in s.quads(PLACES_GRAPH)]
    code = next(t for t in triples if t.predicate == kg("divisionCode"))
    triples = [t for t in triples if t != code]
    triples.append(ox.Triple(code.subject, kg("divisionCode"), ox.Literal("51010")))
    s.replace_graph(PLACES_GRAPH, triples)


@pytest.fixture(scope="module")
def spoilt_store(tmp_path_factory, clean_store):
    import shutil
    path = tmp_path_factory.mktemp("parity-spoilt") / "store"
    shutil.copytree(clean_store, path)
    with Store.open(path) as s:
        rewrite(s, "sichuan_plan_2024.txt", spoil_document)
        rewrite(s, "guangdong_dept_2023.txt", spoil_parts)
        rewrite(s, "zhejiang_township_2024.txt", spoil_year)
        spoil_places(s)
    return path


# ---------------------------------------------------------------------- both engines' results

def sparql_results(path: Path) -> set[tuple]:
    with Store.open(path, read_only=True) as s:
        found = Validator(s).violations()
    return {(n3(v.focus), v.constraint.path, v.constraint.component,
             None if v.value is None else n3(v.value)) for v in found}


def n3(term) -> str:
    """A store's term as rdflib writes it (as the reference's terms are written)."""
    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value).n3()
    if term.language:
        return rdflib.Literal(term.value, lang=term.language).n3()
    if term.datatype.value == XSD + "string":
        return rdflib.Literal(term.value).n3()
    return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value)).n3()


def pyshacl_results(path: Path) -> set[tuple]:
    """pySHACL on every graph of the store but the catalog, as one data graph."""
    import pyshacl
    data = rdflib.Graph()
    with Store.open(path, read_only=True) as s:
        for g in s.graphs():
            if g != CATALOG_GRAPH:
                nt = ox.serialize([ox.Triple(q.subject, q.predicate, q.object) for q in s.quads(g)],
                                  format=ox.RdfFormat.N_TRIPLES)
                data.parse(data=nt.decode("utf-8"), format="nt")
    shapes = rdflib.Graph().parse(ontology.ontology_dir() / "shapes.ttl", format="turtle")
    _, report, _ = pyshacl.validate(data, shacl_graph=shapes, inference="none",
                                    allow_warnings=True)
    out = set()
    for r in report.subjects(rdflib.RDF.type, SH.ValidationResult):
        path = report.value(r, SH.resultPath)
        value = report.value(r, SH.value)
        out.add((report.value(r, SH.focusNode).n3(), None if path is None else _path(report, path),
                 str(report.value(r, SH.sourceConstraintComponent)).split("#")[-1],
                 None if value is None else value.n3()))
    return out


def _path(graph: rdflib.Graph, path) -> str:
    if isinstance(path, rdflib.URIRef):
        return f"<{path}>"
    return "(" + "/".join(_path(graph, p) for p in Collection(graph, path)) + ")"


def components_in_shapes() -> set[str]:
    shapes = rdflib.Graph().parse(ontology.ontology_dir() / "shapes.ttl", format="turtle")
    used = {p for p in shapes.predicates() if p in shacl.PER_VALUE | shacl.PER_FOCUS}
    return {p.split("#")[-1][0].upper() + p.split("#")[-1][1:] + "ConstraintComponent"
            for p in used}


def test_every_constraint_kind_is_broken_and_both_engines_agree(spoilt_store):
    reference = pyshacl_results(spoilt_store)
    assert components_in_shapes() <= {r[2] for r in reference}, \
        components_in_shapes() - {r[2] for r in reference}
    found = sparql_results(spoilt_store)
    assert found == reference, (sorted(found - reference, key=str),
                                sorted(reference - found, key=str))


def test_a_clean_store_conforms_in_both(clean_store):
    assert sparql_results(clean_store) == set() == pyshacl_results(clean_store)


def test_both_engines_name_the_same_documents(spoilt_store, tmp_path):
    with Store.open(spoilt_store, read_only=True) as s:
        by_sparql = api.validate(s, revalidate=True)
        by_pyshacl = api.validate(s, revalidate=True, engine="pyshacl", workers=2)
    assert not by_sparql.conforms and not by_pyshacl.conforms
    assert sorted(by_sparql.failed) == sorted(by_pyshacl.failed)
    assert sorted(by_sparql.failed) == sorted([
        "tests/docs/guangdong_dept_2023.txt", "tests/docs/sichuan_plan_2024.txt",
        "tests/docs/zhejiang_township_2024.txt", PLACES_GRAPH])
    assert "kg:year" in by_sparql.text and "51010" in by_sparql.text


def test_from_the_focus_nodes_of_some_graphs_as_over_the_whole_store(spoilt_store, monkeypatch):
    """The queries that start from given focus nodes (a few changed graphs, or the candidates a
    prefilter found) find what those over the whole store find; so do two processes."""
    def key(v):
        return v.graph, str(v.focus), v.constraint, str(v.value)
    with Store.open(spoilt_store, read_only=True) as s:
        validator = Validator(s)
        whole = {key(v) for v in validator.violations()}
        in_two = {key(v) for v in validator.violations(workers=2)}
        monkeypatch.setattr(sparql_engine, "FOCUSED_SHARE", 0)    # never the whole store
        graph = next(g for src, (g, _) in s.document_hashes().items()
                     if src.endswith("guangdong_dept_2023.txt"))
        one = {key(v) for v in validator.violations([graph])}
        every = {key(v) for v in validator.violations(s.graphs())}
    assert len({w[2].component for w in whole}) >= 10
    assert one and one == {w for w in whole if w[0] == graph}
    assert every == whole
    assert in_two == whole
