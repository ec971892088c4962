"""SHACL Core shapes compiled into SPARQL SELECT queries, each finding over a whole store the
violations of one constraint (or of several per-value constraints of one shape, in one pass).

The shapes are read from their Turtle file at run time; nothing of them is restated here. What
is here are the general rules of the SHACL Core components the compiler knows (SHACL 1.0, §2-4):

  targets        sh:targetClass (instances of the class or of a subclass: rdf:type and
                 rdfs:subClassOf*), sh:targetObjectsOf, sh:targetSubjectsOf
  paths          an IRI, a sequence list, sh:inversePath, sh:alternativePath
  per value      sh:datatype (a literal of that datatype, and for the XSD types SPARQL can cast,
                 a well-formed one: "abc"^^xsd:integer fails), sh:nodeKind, sh:pattern (+ sh:flags,
                 on STR of the value; a blank node fails), sh:in (term equality, not value
                 equality), sh:class (rdf:type/rdfs:subClassOf*), sh:min/maxInclusive,
                 sh:min/maxExclusive (a value that cannot be compared fails), sh:min/maxLength
  per focus      sh:minCount, sh:maxCount (distinct value nodes), sh:hasValue
  reporting      sh:message, sh:severity (sh:Violation by default), sh:deactivated

Node-level constraints (on a node shape) take the focus node as the one value node. A property
shape shared by several node shapes (kgs:inOneDocument) is compiled once, for the union of their
focus nodes. Any other sh: term on a shape (sh:node, sh:or, sh:closed, sh:lessThan, ...) raises
`UnsupportedShape`, naming the shape and the term: such a shape is never skipped silently.

The data graph is the store's union default graph; each focus node is found with the named
graph (?g) that makes it a target (its rdf:type triple, the triple it is the object of), which
is how a result is told to belong to a document. Each query comes in two forms: for the whole
store it scans the path's triples first and joins the few failing ones to the focus nodes; for a
few graphs (`VALUES ?g`) it starts from their focus nodes.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import rdflib
from rdflib import RDF, RDFS, BNode, Literal, URIRef
from rdflib.collection import Collection

from kg.errors import KgError

SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_LANGSTRING = RDF.langString

# Terms on a shape that carry no constraint of their own.
DESCRIPTIVE = {SH.message, SH.severity, SH.deactivated, SH.name, SH.description, SH.order,
               SH.group, SH.flags, SH.path, SH.property, SH.targetClass, SH.targetObjectsOf,
               SH.targetSubjectsOf}
SHAPE_TYPES = {SH.NodeShape, SH.PropertyShape}
# sh:datatype values whose lexical form SPARQL can check by casting (SPARQL 1.1, §17.5)
# (every xsd:string literal is well-formed)
CASTABLE = {XSD + t for t in ("boolean", "decimal", "integer", "float", "double",
                              "dateTime")}
PER_VALUE = {SH.datatype, SH.nodeKind, SH.pattern, SH["in"], SH.minInclusive, SH.maxInclusive,
             SH.minExclusive, SH.maxExclusive, SH.minLength, SH.maxLength}
PER_FOCUS = {SH.minCount, SH.maxCount, SH.hasValue, SH["class"]}
PATHS = {SH.inversePath, SH.alternativePath}
COMPARISONS = {SH.minInclusive: ">=", SH.maxInclusive: "<=", SH.minExclusive: ">",
               SH.maxExclusive: "<"}
NODE_KINDS = {SH.IRI: "isIRI(?v)", SH.BlankNode: "isBlank(?v)", SH.Literal: "isLiteral(?v)",
              SH.BlankNodeOrIRI: "!isLiteral(?v)", SH.BlankNodeOrLiteral: "!isIRI(?v)",
              SH.IRIOrLiteral: "!isBlank(?v)"}


# Placeholders of the queries: where `VALUES ?g { ... }` restricts focus nodes to some graphs
# (nothing over the whole store); where `VALUES ?v { ... }` gives the values a prefilter found;
# where `VALUES (?g ?f) { ... }` gives the focus nodes (with their graphs) a query starts from.
GRAPHS = "%GRAPHS%"
VALUES = "%VALUES%"
NODES = "%NODES%"


class UnsupportedShape(KgError, ValueError):
    """A shapes file uses a SHACL construct this compiler does not implement."""


@dataclass(frozen=True)
class Constraint:
    """One constraint of one shape, as the report names it."""
    shape: object                 # the shape's node in the shapes graph
    component: str                # e.g. "MaxCountConstraintComponent"
    parameter: object             # the constraint's value in the shapes graph
    path: str | None              # SPARQL property path, None on a node shape
    severity: str
    message: str


@dataclass
class Check:
    """SPARQL queries whose rows (?g ?f [?v] [?b0 ?b1 ...]) are violations of `constraints`:
    with flags ?bN, a row violates constraints[N] where ?bN is true; else the one constraint.

    Over the whole store, `whole` (after `prefilter`, if any: a cheap query of the values, or of
    the focus nodes, that may fail; none found, no violation). From given focus nodes (those of
    a few graphs, or those a prefilter found), `focused`: Oxigraph joins inline VALUES by index
    look-ups, where a join with the focus pattern would scan every triple of the path."""
    constraints: list[Constraint]
    focus: str                    # the focus pattern (?g ?f), GRAPHS in it
    whole: str
    focused: str
    has_value: bool
    flags: bool = False
    prefilter: str | None = None
    prefilter_nodes: bool = False     # the prefilter gives focus nodes (?g ?f), not values (?v)

    def first(self) -> str:
        """The prefilter's query (over the whole store)."""
        return self.prefilter.replace(GRAPHS, "")

    def sparql(self, values: list[str] = ()) -> str:
        """The query over the whole store, with the `values` its prefilter found (SPARQL terms)."""
        return self.whole.replace(GRAPHS, "").replace(VALUES, f"VALUES ?v {{ {' '.join(values)} }}")

    def focus_nodes(self, graphs: list[str]) -> str:
        """The query of the focus nodes (?g ?f) in `graphs`."""
        values = "VALUES ?g { " + " ".join(f"<{g}>" for g in graphs) + " }"
        return f"SELECT DISTINCT ?g ?f WHERE {{ {self.focus.replace(GRAPHS, values)} }}"

    def at(self, nodes: list[tuple]) -> str:
        """The query from the focus nodes `nodes` ((graph, node) as SPARQL terms)."""
        pairs = " ".join(f"({g} {f})" for g, f in nodes)
        return self.focused.replace(NODES, f"VALUES (?g ?f) {{ {pairs} }}")


@dataclass
class Shape:
    node: object
    path: str | None = None
    targets: list[str] = field(default_factory=list)   # focus patterns binding ?g ?f


def compile_shapes(shapes: rdflib.Graph, subclasses) -> list[Check]:
    """The checks of every active shape. `subclasses(class IRI)` gives the class and its
    subclasses in the data (rdfs:subClassOf*), as IRIs."""
    for s in set(shapes.subjects()):
        _refuse_unknown(shapes, s)
    node_shapes = {s for s in shapes.subjects(RDF.type, SH.NodeShape)}
    node_shapes |= {s for p in (SH.targetClass, SH.targetObjectsOf, SH.targetSubjectsOf)
                    for s in shapes.subjects(p, None) if shapes.value(s, SH.path) is None}
    property_targets: dict = {}
    checks: list[Check] = []
    for node in sorted(node_shapes, key=str):
        if _deactivated(shapes, node):
            continue
        shape = Shape(node, None, _targets(shapes, node, subclasses))
        if not shape.targets:
            continue    # no focus nodes (a shape only other shapes would refer to)
        checks += _checks(shapes, shape, subclasses)
        for prop in shapes.objects(node, SH.property):
            property_targets.setdefault(prop, []).extend(shape.targets)
    for prop in set(shapes.subjects(SH.path, None)):
        property_targets.setdefault(prop, []).extend(_targets(shapes, prop, subclasses))
    for prop, targets in sorted(property_targets.items(), key=lambda kv: str(kv[0])):
        if targets and not _deactivated(shapes, prop):
            checks += _checks(shapes, Shape(prop, sparql_path(shapes, prop), targets), subclasses)
    return checks


def _refuse_unknown(shapes: rdflib.Graph, s) -> None:
    for p, o in shapes.predicate_objects(s):
        if p == RDF.type and o in (RDFS.Class, rdflib.OWL.Class):
            raise UnsupportedShape(f"shape {_name(shapes, s)} is also a class (implicit class "
                                   f"target), which the SPARQL validation does not implement")
        if str(p).startswith(str(SH)) and p not in DESCRIPTIVE | PER_VALUE | PER_FOCUS | PATHS:
            raise UnsupportedShape(f"shape {_name(shapes, s)} uses {_name(shapes, p)}, which the "
                                   f"SPARQL validation does not implement (--engine pyshacl does)")


def _deactivated(shapes: rdflib.Graph, node) -> bool:
    return any(o.toPython() is True for o in shapes.objects(node, SH.deactivated)
               if isinstance(o, Literal))


def _targets(shapes: rdflib.Graph, node, subclasses) -> list[str]:
    out = []
    for cls in shapes.objects(node, SH.targetClass):
        # one pattern a class (not VALUES ?t: Oxigraph would read every rdf:type triple)
        out += [f"{GRAPHS} GRAPH ?g {{ ?f a <{c}> }}" for c in subclasses(str(cls))]
    for p in shapes.objects(node, SH.targetObjectsOf):
        out.append(f"{GRAPHS} GRAPH ?g {{ ?focusSubject <{p}> ?f }}")
    for p in shapes.objects(node, SH.targetSubjectsOf):
        out.append(f"{GRAPHS} GRAPH ?g {{ ?f <{p}> ?focusObject }}")
    return out


def sparql_path(shapes: rdflib.Graph, node) -> str:
    """The SPARQL property path of a property shape's sh:path (SHACL §2.3.1)."""
    path = shapes.value(node, SH.path)
    return _path(shapes, path, node)


def _path(shapes: rdflib.Graph, path, shape) -> str:
    if isinstance(path, URIRef):
        return f"<{path}>"
    if isinstance(path, BNode) and shapes.value(path, RDF.first) is not None:
        return "(" + "/".join(_path(shapes, p, shape) for p in Collection(shapes, path)) + ")"
    if isinstance(path, BNode) and shapes.value(path, SH.inversePath) is not None:
        return "^" + _path(shapes, shapes.value(path, SH.inversePath), shape)
    if isinstance(path, BNode) and shapes.value(path, SH.alternativePath) is not None:
        parts = Collection(shapes, shapes.value(path, SH.alternativePath))
        return "(" + "|".join(_path(shapes, p, shape) for p in parts) + ")"
    raise UnsupportedShape(f"shape {_name(shapes, shape)} has a sh:path the SPARQL validation "
                           f"does not implement: {path!r}")


def _name(shapes: rdflib.Graph, term) -> str:
    if isinstance(term, BNode):
        path = shapes.value(term, SH.path)
        return f"[ sh:path {shapes.namespace_manager.normalizeUri(path)} ]" \
            if isinstance(path, URIRef) else "[ a blank node shape ]"
    return shapes.namespace_manager.normalizeUri(term)


# ---------------------------------------------------------------------- the queries

def _checks(shapes: rdflib.Graph, shape: Shape, subclasses) -> list[Check]:
    """One check for the per-value constraints of `shape` together, one per other constraint."""
    severity = str(shapes.value(shape.node, SH.severity) or SH.Violation)
    message = " / ".join(sorted(str(m) for m in shapes.objects(shape.node, SH.message)))
    per_value, others = [], []
    for p, o in sorted(shapes.predicate_objects(shape.node)):
        if p in PER_VALUE or (p in (SH.hasValue,) and shape.path is None):
            per_value.append((p, o))
        elif p in PER_FOCUS:
            if p in (SH.minCount, SH.maxCount) and shape.path is None:
                raise UnsupportedShape(f"shape {_name(shapes, shape.node)} has {_name(shapes, p)} "
                                       f"without sh:path")
            others.append((p, o))
    focus = " UNION ".join(f"{{ {t} }}" for t in shape.targets)
    out = []

    def constraint(p, o) -> Constraint:
        component = p.split("#")[-1]
        component = component[0].upper() + component[1:] + "ConstraintComponent"
        return Constraint(shape.node, component, o, shape.path, severity, message)
    if per_value:
        conditions = [_condition(shapes, shape, p, o) for p, o in per_value]
        out.append(_per_value_check([constraint(p, o) for p, o in per_value], conditions,
                                    shape.path, focus))
    counts = {p: o for p, o in others if p in (SH.minCount, SH.maxCount)}
    if len(counts) == 2 and int(counts[SH.minCount]) == 1:
        # "exactly one" (or one to n): both counts in one pass over the path's triples
        others = [(p, o) for p, o in others if p not in counts]
        out.append(_counts_check([constraint(p, o) for p, o in sorted(counts.items())],
                                 int(counts[SH.maxCount]), shape.path, focus))
    for p, o in others:
        if p == SH["class"]:
            out.append(_class_check(constraint(p, o), subclasses(str(o)), shape.path, focus))
        else:
            out.append(_per_focus_check(constraint(p, o), p, o, shape.path, focus))
    return out


def _condition(shapes: rdflib.Graph, shape: Shape, p, o) -> str:
    """A SPARQL expression true when the value ?v passes constraint (p, o); an error (e.g. an
    incomparable value) counts as failing, as SHACL says."""
    if p == SH.datatype:
        if o == RDF_LANGSTRING:
            return "lang(?v) != \"\""
        # an IRI or a blank node has no datatype (an error: fails), a language-tagged literal
        # rdf:langString; a cast of the lexical form fails on an ill-typed literal ("abc"^^xsd:integer)
        ok = f"datatype(?v) = <{o}>"
        return ok + (f" && isLiteral(<{o}>(STR(?v)))" if str(o) in CASTABLE else "")
    if p == SH.nodeKind:
        if o not in NODE_KINDS:
            raise UnsupportedShape(f"shape {_name(shapes, shape.node)}: unknown sh:nodeKind {o}")
        return NODE_KINDS[o]
    if p == SH.pattern:
        flags = shapes.value(shape.node, SH.flags)
        extra = f", {_term(flags)}" if flags is not None else ""
        return f"!isBlank(?v) && REGEX(STR(?v), {_term(o)}{extra})"
    if p == SH["in"]:
        members = list(Collection(shapes, o))
        return " || ".join(f"sameTerm(?v, {_term(m)})" for m in members) or "false"
    if p == SH.hasValue:
        return f"sameTerm(?v, {_term(o)})"
    if p in COMPARISONS:
        return f"?v {COMPARISONS[p]} {_term(o)}"
    compare = ">=" if p == SH.minLength else "<="
    return f"!isBlank(?v) && STRLEN(STR(?v)) {compare} {int(o)}"


def _per_value_check(constraints, conditions, path, focus) -> Check:
    flags = " ".join(f"?b{i}" for i in range(len(conditions)))
    binds = " ".join(f"BIND(!COALESCE({c}, false) AS ?b{i})" for i, c in enumerate(conditions))
    test = " || ".join(f"?b{i}" for i in range(len(conditions)))
    if path is None:    # the focus node is the value node
        values = f"{{ SELECT DISTINCT ?f WHERE {{ {focus} }} }} BIND(?f AS ?v)"
        at_nodes = "BIND(?f AS ?v)"
    else:               # the path's triples filtered first, the few failing joined to the foci
        values = at_nodes = f"?f {path} ?v"
    whole = (f"SELECT DISTINCT ?g ?f ?v {flags} WHERE {{ {{ SELECT ?f ?v {flags} WHERE "
             f"{{ {values} {binds} FILTER({test}) }} }} {focus} }}")
    focused = (f"SELECT DISTINCT ?g ?f ?v {flags} WHERE {{ {NODES} {at_nodes} "
               f"{binds} FILTER({test}) }}")
    return Check(constraints, focus, whole, focused, has_value=True, flags=True)


def _class_check(constraint: Constraint, classes: list[str], path, focus) -> Check:
    """sh:class: the values that are no instance of the class or a subclass. Over the whole
    store, found first among the distinct values of the path (a few dozen concepts for 250,000
    assertions), and only those joined to their focus nodes."""
    types = " ".join(f"<{c}>" for c in classes)
    instance = f"{{ ?v a ?vt VALUES ?vt {{ {types} }} }}"
    if path is None:
        return Check([constraint], focus,
                     f"SELECT DISTINCT ?g ?f ?v WHERE {{ {focus} BIND(?f AS ?v) MINUS {instance} }}",
                     f"SELECT DISTINCT ?g ?f ?v WHERE {{ {NODES} BIND(?f AS ?v) "
                     f"FILTER NOT EXISTS {instance} }}", has_value=True)
    prefilter = (f"SELECT ?v WHERE {{ {{ SELECT DISTINCT ?v WHERE {{ ?x {path} ?v }} }} "
                 f"MINUS {instance} }}")
    whole = f"SELECT DISTINCT ?g ?f ?v WHERE {{ {VALUES} ?f {path} ?v {focus} }}"
    focused = (f"SELECT DISTINCT ?g ?f ?v WHERE {{ {NODES} ?f {path} ?v "
               f"FILTER NOT EXISTS {instance} }}")
    return Check([constraint], focus, whole, focused, has_value=True, prefilter=prefilter)


def _counts_check(constraints: list[Constraint], n: int, path, focus) -> Check:
    """sh:maxCount n with sh:minCount 1 (`constraints` in that order): over the whole store the
    focus nodes not among the subjects with 1 to n values, counted with the repeats a triple in
    two graphs gives (so a superset), are found first; then counted exactly."""
    prefilter = (f"SELECT DISTINCT ?g ?f WHERE {{ {focus} MINUS {{ SELECT ?f WHERE {{ ?f {path} ?v }} "
                 f"GROUP BY ?f HAVING (COUNT(?v) <= {n}) }} }}")
    focused = (f"SELECT ?g ?f (COUNT(DISTINCT ?v) > {n} AS ?b0) (COUNT(DISTINCT ?v) < 1 AS ?b1) "
               f"WHERE {{ {NODES} OPTIONAL {{ ?f {path} ?v }} }} GROUP BY ?g ?f "
               f"HAVING (COUNT(DISTINCT ?v) < 1 || COUNT(DISTINCT ?v) > {n})")
    return Check(constraints, focus, "", focused, has_value=False, flags=True,
                 prefilter=prefilter, prefilter_nodes=True)


def _per_focus_check(constraint: Constraint, p, o, path, focus) -> Check:
    """sh:hasValue, sh:minCount, sh:maxCount."""
    if p == SH.hasValue:
        return Check([constraint], focus,
                     f"SELECT DISTINCT ?g ?f WHERE {{ {focus} MINUS {{ ?f {path} {_term(o)} }} }}",
                     f"SELECT DISTINCT ?g ?f WHERE {{ {NODES} "
                     f"FILTER NOT EXISTS {{ ?f {path} {_term(o)} }} }}", has_value=False)
    n = int(o)
    if p == SH.minCount and n == 1:
        return Check([constraint], focus,
                     f"SELECT DISTINCT ?g ?f WHERE {{ {focus} MINUS {{ ?f {path} ?v }} }}",
                     f"SELECT DISTINCT ?g ?f WHERE {{ {NODES} FILTER NOT EXISTS {{ ?f {path} ?v }} }}",
                     has_value=False)
    if p == SH.minCount:
        query = (f"SELECT ?g ?f WHERE {{ {NODES} OPTIONAL {{ ?f {path} ?v }} }} "
                 f"GROUP BY ?g ?f HAVING (COUNT(DISTINCT ?v) < {n})")
        return Check([constraint], focus, query.replace(NODES, focus), query, has_value=False)
    # over the whole store: the focus nodes with more than n values counted with the repeats a
    # triple in two graphs gives (cheaper than counting distinct ones), then counted exactly
    prefilter = (f"SELECT DISTINCT ?g ?f WHERE {{ {{ SELECT ?f WHERE {{ ?f {path} ?v }} GROUP BY ?f "
                 f"HAVING (COUNT(?v) > {n}) }} {focus} }}")
    focused = (f"SELECT ?g ?f WHERE {{ {NODES} ?f {path} ?v }} GROUP BY ?g ?f "
               f"HAVING (COUNT(DISTINCT ?v) > {n})")
    return Check([constraint], focus, "", focused, has_value=False, prefilter=prefilter,
                 prefilter_nodes=True)


def _term(term) -> str:
    """A shapes-graph term in SPARQL syntax."""
    if isinstance(term, URIRef):
        return f"<{term}>"
    if isinstance(term, Literal):
        return term.n3()
    raise UnsupportedShape(f"a blank node where SHACL wants an IRI or a literal: {term!r}")
