"""Where users wait, in one run: `python bench/targets.py --store DIR` (a built store) or
`--docs N` (generate and build N documents first; bench/generate.py, seeded).

Measures on the same store, in this order, and prints each figure as it comes:

1. **named queries**: every file of queries/, with the parameters bench/run.py gives them (the
   county with most documents, its prefecture and province; 三项制度): the first run and the
   median of --repeats warm runs, the rows read out as every caller reads them;
2. **pages**: each page of `kg serve` made by the server's own page functions in this process
   on a read-only store (what a worker does for a request, without the server's page cache):
   home, the matrix (first page, page 3, a province), the graph's default view, the region page
   of a county, a prefecture and a province; the first time and warm;
3. **over HTTP**: `kg serve` (default settings) started on the store: how long until its
   background warm-up has made the default views, then each page's cached answer;
4. **audits**: `kg audit REGION` as its table shows it (one quote a row), county / prefecture /
   province, and the province with most documents, warm median;
5. **commands**: `kg query` (a county's locality-mechanisms) and `kg audit` (county, province) as
   a user at a terminal waits for them: a fresh process each, start-up included, median of 3;
   and `kg build` of one new document into a copy of the store (three in turn, a new one each);
6. **validation**: `kg validate --all` in a fresh process (as many threads as it takes by default:
   the cores, at most 4), seconds and peak memory (summed PSS of the process and any children; it
   writes its results file into the store's directory, as a user's validation does);
7. **build scaling** (--scaling-docs M, 0 to skip): `kg build` of M generated documents into a
   new store with 1 process and with `--workers` 2 … `nproc`, and the extraction alone (no store)
   in 1 … `nproc` processes: MB/s, and MB/s per core.

Writes everything to bench/out/targets-<time>.json. Targets (issue 19): every named query and
page under 1 s, the graph's default view under 2 s, validation under 30 s and 1 GB, a
province's audit under 50 ms.
"""
from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
OUT = ROOT / "bench" / "out"

from run import corpus_files, kg_build, machine  # noqa: E402
from serve import start_server  # noqa: E402

PAGE_TARGET, GRAPH_TARGET, AUDIT_TARGET = 1.0, 2.0, 0.050


def warm_median(fn, repeats: int) -> tuple[float, float]:
    """(first run, median of `repeats` more) in seconds."""
    t = time.perf_counter()
    fn()
    first = time.perf_counter() - t
    samples = []
    for _ in range(repeats if first < 5 else 1):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return first, statistics.median(samples)


def line(name: str, first: float, warm: float, target: float | None, extra: str = "") -> dict:
    mark = "" if target is None or warm < target else "  OVER"
    print(f"  {name:<40}{first * 1000:>10.0f}{warm * 1000:>10.0f} ms{mark}  {extra}", flush=True)
    return {"first_s": first, "warm_s": warm, "target_s": target, **({"note": extra} if extra else {})}


def regions(store) -> dict:
    """The county with most documents, its prefecture and province (as bench/run.py picks)."""
    from kg import api, places
    rows = api.query(store, "SELECT ?code (COUNT(?d) AS ?n) WHERE { ?d kg:locality/kg:divisionCode "
                            "?code } GROUP BY ?code ORDER BY DESC(?n)").rows
    table = places.divisions()
    county = next(d for d in (table.by_code(str(r[0])) for r in rows) if d and d.level == "county")
    # the province with most documents too: the audit's cost follows a region's documents
    per_province: dict = {}
    for code, n in rows:
        d = table.by_code(str(code))
        if d and d.province:
            per_province[d.province] = per_province.get(d.province, 0) + int(n)
    return {"county": county.name, "county_code": county.code, "prefecture": county.prefecture or county.name,
            "province": county.province or county.name,
            "largest province": max(per_province, key=per_province.get)}


def named_queries(store, where: dict, repeats: int) -> dict:
    from kg import api
    from kg import query as q
    doc, sentence = api.query(store, "SELECT ?doc ?s WHERE { GRAPH ?doc { ?a kg:evidence ?s } } "
                                     "LIMIT 1").rows[0]
    sensible = {"locality": where["county"], "mechanism": "三项制度", "doc": f"<{doc}>",
                "sentence": f"<{sentence}>",
                "target": f"<https://w3id.org/fazhi-kg/locality/{where['county_code']}>", "document": "corpus/001_db70a06a16628919.txt"}
    out = {}
    print(f"named queries{'':<27}{'first':>10}{'warm':>10}", flush=True)
    for nq in q.list_queries():
        params = {p.name: sensible.get(p.name) or p.default for p in nq.params
                  if sensible.get(p.name) or p.default}
        rows = []
        first, warm = warm_median(lambda: rows.append(len(api.query(store, nq.name, params).rows)),
                                  repeats)
        out[nq.name] = line(nq.name, first, warm, PAGE_TARGET, f"{rows[-1]} rows")
    return out


def pages_in_process(store, where: dict, repeats: int) -> dict:
    from kg.server import pages
    views = [("/", pages.home, {}, PAGE_TARGET),
             ("/matrix", pages.matrix, {}, PAGE_TARGET),
             ("/matrix?page=3", pages.matrix, {"page": "3"}, PAGE_TARGET),
             (f"/matrix?region={where['province']}", pages.matrix, {"region": where["province"]}, PAGE_TARGET),
             ("/graph (default view)", pages.graph, {}, GRAPH_TARGET)]
    views += [(f"/region/{where[level]}", pages.region, {"region": where[level]}, PAGE_TARGET)
              for level in ("county", "prefecture", "province")]
    out = {}
    print(f"pages, made in this process{'':<13}{'first':>10}{'warm':>10}", flush=True)
    for name, page, params, target in views:
        size = []

        def made(page=page, params=params):
            pages._GRAPH_CACHE.clear()      # a worker keeps the graph it drew: made each time
            return page(store, params)
        first, warm = warm_median(lambda: size.append(len(made())), repeats)
        out[name] = line(name, first, warm, target, f"{size[-1] // 1024} KB")
    return out


def get(host: str, port: int, path: str) -> tuple[int, str, float]:
    conn = http.client.HTTPConnection(host, port, timeout=120)
    t = time.perf_counter()
    conn.request("GET", path)
    r = conn.getresponse()
    r.read()
    seconds = time.perf_counter() - t
    conn.close()
    return r.status, r.getheader("X-Kg-Cache") or "", seconds


def pages_over_http(store_path: Path, where: dict) -> dict:
    from urllib.parse import quote
    proc, host, port = start_server(store_path)
    out: dict = {}
    try:
        started = time.perf_counter()
        deadline = started + 300
        while time.perf_counter() < deadline:   # the warm-up makes home, matrix, graph in turn
            if get(host, port, "/graph")[1] == "hit":
                break
            time.sleep(0.5)
        out["warm-up_s"] = time.perf_counter() - started
        print(f"over HTTP: default views ready {out['warm-up_s']:.1f} s after the server started", flush=True)
        for path in ("/", "/matrix", "/graph", f"/region/{quote(where['province'])}", "/query"):
            get(host, port, path)
            status, cache, seconds = get(host, port, path)
            out[path] = {"status": status, "cache": cache, "seconds": seconds}
            print(f"  {path:<40}{seconds * 1000:>10.1f} ms  {status} {cache}", flush=True)
    finally:
        proc.terminate()
        proc.wait(30)
    return out


def audits(store, where: dict, repeats: int) -> dict:
    from kg import api
    out = {}
    print(f"audits (table: one quote a row){'':<9}{'first':>10}{'warm':>10}", flush=True)
    for level in ("county", "prefecture", "province", "largest province"):
        region = where[level]
        first, warm = warm_median(lambda: api.audit(store, region, write=False, quotes=1), repeats)
        out[level] = {**line(f"{level}: {region}", first, warm, AUDIT_TARGET), "region": region}
    return out


def commands(store_path: Path, where: dict) -> dict:
    """Wall time of a fresh `kg` process: what a user at a terminal waits for."""
    import subprocess
    runs = [("kg --version", ["--version"]),
            (f"kg query locality-mechanisms ({where['county']})",
             ["query", "locality-mechanisms", "--param", f"locality={where['county']}", "--store", str(store_path)]),
            (f"kg audit {where['county']}", ["audit", where["county"], "--store", str(store_path)]),
            (f"kg audit {where['province']}", ["audit", where["province"], "--store", str(store_path)])]
    out = {}
    print(f"commands (a fresh process each){'':<9}{'first':>10}{'median':>10}", flush=True)
    for name, args in runs:
        def run(args=args):
            subprocess.run([sys.executable, "-m", "kg", *args], check=True, capture_output=True)
        first, warm = warm_median(run, 3)
        out[name] = line(name, first, warm, PAGE_TARGET)
    out["kg build (one new document)"] = one_more_document(store_path)
    return out


def one_more_document(store_path: Path) -> dict:
    """`kg build` of one generated document into a copy of the store, three times (each a new
    document): what adding a report to a large store costs, start-up included."""
    import subprocess
    from generate import generate
    with tempfile.TemporaryDirectory(prefix="kg-one-more-") as tmp:
        copy = Path(tmp) / "store"
        shutil.copytree(store_path, copy, ignore=shutil.ignore_patterns("LOCK"))
        seconds = []
        for seed in (101, 102, 103):
            corpus = Path(tmp) / f"doc{seed}"
            generate(1, corpus, seed)
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "kg", "build", str(corpus), "--store", str(copy),
                            "--no-progress"], check=True, capture_output=True)
            seconds.append(time.perf_counter() - started)
    return line("kg build (one new document)", seconds[0], statistics.median(seconds[1:]), None)


def validation(store_path: Path) -> dict:
    from validate import measure
    seconds, cpu, rss, said = measure([sys.executable, "-m", "kg", "validate", "--all", "--store",
                                       str(store_path)])
    out = {"seconds": seconds, "cpu_s": cpu, "peak_mb": rss, "said": said[:120]}
    print(f"kg validate --all: {seconds:.1f} s ({cpu:.1f} s CPU), peak {rss} MB — {out['said']}",
          flush=True)
    return out


def _extract_count(paths: list[str]) -> int:
    from kg import api
    return sum(1 for _ in api.extract(paths))


def scaling(docs: int, work: Path) -> dict:
    """kg build with 1 … nproc processes, and extraction alone in 1 … nproc processes."""
    from bench.generate import generate
    corpus = work / "scaling-corpus"
    generate(docs, corpus, 2)
    files = [str(p) for p in corpus_files(corpus)]
    mb = sum(os.path.getsize(f) for f in files) / 1e6
    cores = os.cpu_count() or 1
    out: dict = {"documents": docs, "mb": mb, "cores": cores, "build": {}, "extract": {}}
    print(f"build scaling: {docs} documents, {mb:.1f} MB, {cores} cores", flush=True)
    for workers in range(1, cores + 1):
        r = kg_build([corpus], work / f"store-{workers}", workers=workers)
        rate = mb / r["seconds"]
        out["build"][workers] = {**r, "mb_s": rate, "mb_s_per_core": rate / workers}
        print(f"  kg build, {workers} process(es){'':<12}{r['seconds']:>8.1f} s {rate:>6.2f} MB/s "
              f"{rate / workers:>6.2f} MB/s a core  peak {r['peak_rss_mb']:.0f} MB", flush=True)
    _extract_count(files[:1])                      # jieba and the ontology loaded before forking
    for workers in range(1, cores + 1):
        chunks = [files[i::workers * 8] for i in range(workers * 8)]
        t = time.perf_counter()
        with mp.get_context("fork").Pool(workers) as pool:
            n = sum(pool.map(_extract_count, chunks))
        seconds = time.perf_counter() - t
        rate = mb / seconds
        out["extract"][workers] = {"seconds": seconds, "documents": n, "mb_s": rate,
                                   "mb_s_per_core": rate / workers}
        print(f"  extraction alone, {workers} process(es){'':<4}{seconds:>8.1f} s {rate:>6.2f} MB/s "
              f"{rate / workers:>6.2f} MB/s a core", flush=True)
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", type=Path, help="a built store (else --docs are generated and built)")
    ap.add_argument("--docs", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--scaling-docs", type=int, default=3000,
                    help="documents of the build-scaling run (0: skip it)")
    ap.add_argument("--no-validate", action="store_true")
    ap.add_argument("--work", type=Path, help="where generated corpora and stores go (default: a temporary folder)")
    args = ap.parse_args(argv)
    from kg.store import Store
    work = args.work or Path(tempfile.mkdtemp(prefix="kg-targets-"))
    store_path = args.store
    results: dict = {"machine": machine(), "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    if store_path is None:
        from bench.generate import generate
        generate(args.docs, work / "corpus", 1)
        store_path = work / "store"
        results["build"] = kg_build([work / "corpus"], store_path)
        print(f"built {args.docs} documents: {results['build']['seconds']:.1f} s", flush=True)
    with Store.open(store_path, read_only=True) as store:
        where = results["regions"] = regions(store)
        results["documents"] = len(store.document_hashes())
        print(f"store: {results['documents']} documents; {where}", flush=True)
        results["queries"] = named_queries(store, where, args.repeats)
        results["pages"] = pages_in_process(store, where, args.repeats)
        results["audits"] = audits(store, where, args.repeats)
    results["http"] = pages_over_http(store_path, where)
    results["commands"] = commands(store_path, where)
    if not args.no_validate:
        results["validate"] = validation(store_path)
    if args.scaling_docs:
        results["scaling"] = scaling(args.scaling_docs, work)
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"targets-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    print(f"written {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
