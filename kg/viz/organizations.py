"""The organizations the graph view draws, as rows: each document's organ with the kind and count
of each of its posts (how "organ"), and each body it names, with every kind it is named as in
any document (how "named"); each row with the document's IRI, source file and locality, in the
order of name, kind and source (a role's tooltip quotes the same documents first in every view).

They are read from the documents' kg:organizationIndex, a row per document (queries
viz-organizations / viz-region-organizations); a document written before the index existed
has none, and its organizations are read from its posts (viz-document-organizations, bound to
a table of such documents)."""
from __future__ import annotations

import pyoxigraph as ox

from ..query import load_query
from ..rdf import KGI, organization_iri, parse_organization_index
from .source import named_rows


def organization_rows(store, target: str | None = None) -> list[dict]:
    """The rows of the whole store, or of the region whose locality IRI is `target`: the
    organizations its documents (and those of the localities under and above it) name, with
    every document that names them."""
    if target is None:
        documents = named_rows(store, "viz-organizations")
    else:
        documents = named_rows(store, "viz-region-organizations", {"target": f"<{target}>"})
    named = _named_in_documents(store, documents)
    if target is not None:
        regional = {org for d in documents if d.get("inRegion") for org, *_ in named[str(d["doc"])]}
        named = {doc: [n for n in names if n[0] in regional] for doc, names in named.items()}
    return _rows(documents, named)


def _named_in_documents(store, documents: list[dict]) -> dict[str, list[tuple]]:
    """document IRI → [(org IRI, name, how, kind IRI or None, count or None), …]: from its index,
    or from its posts for the documents without one."""
    out: dict[str, list[tuple]] = {}
    unindexed = []
    for d in documents:
        doc = str(d["doc"])
        if doc in out:
            continue
        if d.get("index") is None:
            unindexed.append(doc)
            out[doc] = []
            continue
        organ, posts, bodies = parse_organization_index(str(d["index"]))
        lines = out[doc] = []
        if organ:
            org = organization_iri(organ).value
            lines += [(org, organ, "organ", KGI + kind, count) for kind, count in posts] or \
                [(org, organ, "organ", None, None)]
        lines += [(organization_iri(name).value, name, "named", KGI + kind, None) for kind, name in bodies]
    from_posts = store.query_table(load_query("viz-document-organizations").text, ["doc"],
                                   [(ox.NamedNode(doc),) for doc in unindexed], union_default_graph=True)
    for doc, org, name, how, kind, count in from_posts:
        out[str(doc)].append((str(org), str(name), str(how), str(kind) if kind else None,
                              float(count) if count is not None else None))
    return out


def _rows(documents: list[dict], named: dict[str, list[tuple]]) -> list[dict]:
    """The rows, a body named in a document once per kind it is named as anywhere (as the
    graph's role edges have it: a body holds each role of its kinds)."""
    kinds: dict[str, set] = {}
    for lines in named.values():
        for org, _, how, kind, _ in lines:
            if how == "named":
                kinds.setdefault(org, set()).add(kind)
    rows: dict[tuple, dict] = {}
    for d in documents:
        doc = str(d["doc"])
        source, loc = str(d["source"]), d.get("loc")
        for org, name, how, kind, count in named.get(doc, ()):
            for k in sorted(kinds[org]) if how == "named" else (kind,):
                row = {"org": org, "name": name, "how": how, "doc": doc, "source": source}
                if loc is not None:
                    row["loc"] = str(loc)
                if k is not None:
                    row["kind"] = k
                if count is not None:
                    row["count"] = count
                rows[(org, how, k, count, doc)] = row
    return sorted(rows.values(), key=lambda r: (r["name"], r.get("kind", ""), r["source"]))
