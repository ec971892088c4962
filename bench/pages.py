"""The graph view, the region page and the audits at scale: `python bench/pages.py --store DIR`.

On a built store (e.g. 10,000 generated documents: bench/generate.py, then kg build), in this
process, read-only, and in this order:

1. every named query queries/viz-*.rq and queries/audit-*.rq (the parameters bench/targets.py
   gives them): first run and median of --repeats warm runs, rows read out;
2. the graph's default view: kg.viz.visualize (as `kg viz` writes it) and the server's page
   function (pages.graph) with its per-worker cache emptied before each run (the page itself,
   not the cache): first run and warm median, with visualize's own phases;
3. the region page (pages.region) of the county with most documents, its prefecture and its
   province: first run and warm median;
4. the audit as `kg audit REGION`'s table reads it (kg.api.audit, write=False, one quote a row)
   of the same three: first run and warm median.

Prints each figure against issue 19's targets (query and page 1 s, the graph's default view
2 s, a province's audit 50 ms) and writes bench/out/pages-<time>.json.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
OUT = ROOT / "bench" / "out"

from targets import (AUDIT_TARGET, GRAPH_TARGET, PAGE_TARGET, line, regions,  # noqa: E402
                     warm_median)


def named_queries(store, where: dict, repeats: int) -> dict:
    from kg import api
    from kg import query as q
    doc = api.query(store, "SELECT ?doc WHERE { GRAPH ?doc { ?a kg:evidence ?s } } LIMIT 1").rows[0][0]
    params = {"target": f"<https://w3id.org/fazhi-kg/locality/{where['county_code']}>", "mechanism": "三项制度",
              "doc": f"<{doc}>"}      # viz-post-evidence: one document's posts, as the view binds it
    out = {}
    print(f"viz-* and audit-* queries{'':<15}{'first':>10}{'warm':>10}", flush=True)
    for nq in q.list_queries():
        if not nq.name.startswith(("viz-", "audit-")):
            continue
        bound = {p.name: params.get(p.name) or p.default for p in nq.params if params.get(p.name) or p.default}
        rows = []
        first, warm = warm_median(lambda: rows.append(len(api.query(store, nq.name, bound).rows)), repeats)
        out[nq.name] = line(nq.name, first, warm, PAGE_TARGET, f"{rows[-1]} rows")
    return out


def graph_view(store, repeats: int) -> dict:
    from kg import viz
    from kg.server import pages
    out, phases = {}, []
    print(f"graph, default view{'':<21}{'first':>10}{'warm':>10}", flush=True)
    with tempfile.TemporaryDirectory(prefix="kg-bench-") as d:
        page = Path(d) / "graph.html"
        first, warm = warm_median(lambda: phases.append(viz.visualize(store, page)), repeats)
        out["kg viz"] = line("kg viz (visualize)", first, warm, GRAPH_TARGET,
                             phases[-1].summary().split(": ", 1)[1])

    def page_without_cache():
        pages._GRAPH_CACHE.clear()          # the page itself, as a cold cache makes it
        return pages.graph(store, {})
    size = []
    first, warm = warm_median(lambda: size.append(len(page_without_cache())), repeats)
    out["/graph"] = line("/graph (no page cache)", first, warm, GRAPH_TARGET, f"{size[-1] // 1024} KB")
    return out


def region_pages_and_audits(store, where: dict, repeats: int) -> dict:
    from kg import api
    from kg.server import pages
    out = {}
    print(f"region pages and audits{'':<17}{'first':>10}{'warm':>10}", flush=True)
    for level in ("county", "prefecture", "province"):
        region = where[level]
        size = []
        first, warm = warm_median(lambda: size.append(len(pages.region(store, {"region": region}))), repeats)
        out[f"/region {level}"] = {**line(f"/region {region}", first, warm, PAGE_TARGET, f"{size[-1] // 1024} KB"),
                                   "region": region}
    for level in ("county", "prefecture", "province"):
        region = where[level]
        first, warm = warm_median(lambda: api.audit(store, region, write=False, quotes=1), max(repeats, 9))
        out[f"audit {level}"] = {**line(f"audit {region}", first, warm, AUDIT_TARGET if level == "province"
                                        else PAGE_TARGET), "region": region}
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--store", required=True, help="a built store")
    ap.add_argument("--repeats", type=int, default=5, help="warm runs per figure (median)")
    args = ap.parse_args(argv)
    from kg.store import Store
    results: dict = {"store": args.store}
    with Store.open(args.store, read_only=True) as store:
        where = results["regions"] = regions(store)
        results["queries"] = named_queries(store, where, args.repeats)
        results["graph"] = graph_view(store, args.repeats)
        results["region"] = region_pages_and_audits(store, where, args.repeats)
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"pages-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
