"""The benchmark of issue "Speed and scale": `python bench/run.py [--sizes 1000,10000] [--quick]`.

For each N: a seeded corpus from bench/generate.py; `kg build` in a subprocess (1 and 2 workers,
atomic and bulk writes) with throughput and peak RSS; store size and triples; latency (median,
p95) of every named query, of `kg audit REGION` (API, warm) and of `kg audit --all`; a no-change
rebuild. Then, on the first --baseline-n documents of the same corpus, the obvious baseline
(jieba.posseg over every sentence + an rdflib in-memory graph + rdflib SPARQL) against kg at that
N; and the floors (read + OpenCC, one pyahocorasick scan, jieba.lcut; the store's own bulk load
of the built quads, and the cost of reading a stored term back). Prints tables and writes
bench/out/results-<time>.json.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"

# Runs `argv` and prints the child's peak RSS (KiB) from getrusage(RUSAGE_CHILDREN): the largest
# resident set of any process it waited for (grandchildren, i.e. workers, included).
_RSS_WRAPPER = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
                "print('MAXRSS', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
                "sys.exit(r.returncode)")


def machine() -> dict:
    cpu = ""
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = 0
    try:
        for line in open("/proc/meminfo", encoding="utf-8"):
            if line.startswith("MemTotal"):
                mem = int(line.split()[1]) // 1024
    except OSError:
        pass
    import pyoxigraph
    return {"nproc": os.cpu_count(), "cpu": cpu, "ram_mb": mem, "python": platform.python_version(),
            "pyoxigraph": pyoxigraph.__version__}


def dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


def stats(samples: list[float]) -> dict:
    s = sorted(samples)
    p95 = s[min(len(s) - 1, max(0, int(round(0.95 * (len(s) - 1)))))]
    return {"median_ms": statistics.median(s) * 1000, "p95_ms": p95 * 1000, "runs": len(s)}


def timed(fn, repeats: int, warm: bool = True, budget: float = 60.0) -> dict:
    if warm:
        fn()
    samples = []
    start = time.perf_counter()
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
        if time.perf_counter() - start > budget and len(samples) >= 3:
            break
    return stats(samples)


def corpus(n: int, seed: int, work: Path) -> Path:
    d = work / f"corpus-{n}-s{seed}"
    marker = d / ".complete"
    if not marker.exists():
        shutil.rmtree(d, ignore_errors=True)
        from bench.generate import generate
        generate(n, d, seed)
        marker.write_text("ok")
    return d


def corpus_files(d: Path) -> list[Path]:
    return sorted(p for p in d.iterdir() if p.suffix in (".txt", ".html"))


def kg_build(src, store: Path, workers: int = 1, write: str = "default", fresh: bool = True) -> dict:
    """`kg build` in a subprocess; write is "default" (bulk into a new store), "atomic" or "bulk"."""
    if fresh:
        shutil.rmtree(store, ignore_errors=True)
    argv = [sys.executable, "-m", "kg", "build", *map(str, src), "--store", str(store),
            "--no-progress"]
    if workers > 1:
        argv += ["--workers", str(workers)]
    if write != "default":
        argv += [f"--{write}"]
    t = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", _RSS_WRAPPER, *argv], capture_output=True, text=True,
                       cwd=ROOT)
    seconds = time.perf_counter() - t
    m = re.search(r"MAXRSS (\d+)", r.stderr)
    summary = (r.stdout + r.stderr).strip().splitlines()
    return {"seconds": seconds, "peak_rss_mb": int(m.group(1)) / 1024 if m else None,
            "returncode": r.returncode, "summary": summary[0] if summary else ""}


# ---------------------------------------------------------------------- kg side

def _in_child(fn, timeout: float):
    """fn() in a forked process with a time limit (a pyoxigraph query cannot be interrupted
    from Python); returns its result, or {"timeout_s": timeout}."""
    import multiprocessing as mp
    ctx = mp.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)

    def target():
        try:
            send.send(fn())
        except Exception as e:
            send.send({"error": f"{type(e).__name__}: {e}"[:200]})

    proc = ctx.Process(target=target)
    proc.start()
    if recv.poll(timeout):
        out = recv.recv()
        proc.join()
        return out
    proc.kill()
    proc.join()
    return {"timeout_s": timeout}


def kg_latencies(store_path: Path, files: list[Path], repeats: int, timeout: float = 60) -> dict:
    from kg import api, places
    from kg import query as q
    from kg.store import Store
    codes = collections.Counter(p.stem.split("_")[1] for p in files)
    table = places.divisions()
    county = next(table.by_code(c) for c, _ in codes.most_common() if table.by_code(c).level == "county")
    prefecture = county.parents[-1][1] if county.parents else county.name
    province = county.parents[0][1] if county.parents else county.name
    sensible = {"locality": county.name, "mechanism": "三项制度",
                "target": f"<https://w3id.org/fazhi-kg/locality/{county.code}>"}
    with Store.open(store_path, read_only=True) as store:   # an evidence sentence, for sentence-texts
        doc, sentence = api.query(store, "SELECT ?doc ?s WHERE { GRAPH ?doc { ?a kg:evidence ?s } } "
                                         "LIMIT 1").rows[0]
    sensible.update(doc=f"<{doc}>", sentence=f"<{sentence}>")
    out: dict = {"params": {"locality": county.name, "prefecture": prefecture, "province": province}}

    def measure(call, n=repeats, budget=60.0, limit=timeout, size=lambda rows: {"rows": rows}):
        def fn():
            with Store.open(store_path, read_only=True) as store:
                t = time.perf_counter()
                result = call(store)               # also the warm-up run
                slow = time.perf_counter() - t > 5
                res = timed(lambda: call(store), 1 if slow else n, warm=False, budget=budget)
                res.update(size(result))
                return res
        return _in_child(fn, limit)

    qs = {}
    for nq in q.list_queries():
        params = {p.name: sensible.get(p.name) or p.default for p in nq.params
                  if sensible.get(p.name) or p.default}
        if "document" in [p.name for p in nq.params]:
            params.setdefault("document", "corpus/001_db70a06a16628919.txt")
        print(f"   query {nq.name} {params}", file=sys.stderr, flush=True)
        qs[nq.name] = {**measure(lambda st, name=nq.name, pr=params: _with_rows(api.query(st, name, pr)),
                                 size=_result_size),
                       "params": params}
    out["queries"] = qs
    # `kg audit REGION` as its table (and CSV) needs it: one evidence text per row; and the
    # province with every evidence text read, as for --format json or html
    for label, region, quotes in (("audit county", county.name, 1), ("audit prefecture", prefecture, 1),
                                  ("audit province", province, 1),
                                  ("audit province, quoted", province, True)):
        print(f"   {label} {region}", file=sys.stderr, flush=True)
        out[label] = {**measure(lambda st, r=region, q=quotes: len(api.audit(st, r, write=False, quotes=q).rows)),
                      "region": region}
    # `kg audit --all` as its default table needs it: statuses and evidence IRIs, no texts; and
    # with every evidence text read, as for --format json, csv or html
    print("   audit --all", file=sys.stderr, flush=True)
    out["audit --all"] = measure(lambda st: len(api.audit(st, None, write=False, quotes=False)),
                                 min(repeats, 3), 120, limit=max(timeout, 300))
    print("   audit --all, quoted", file=sys.stderr, flush=True)
    out["audit --all, quoted"] = measure(lambda st: len(api.audit(st, None, write=False)),
                                         min(repeats, 3), 120, limit=max(timeout, 300))
    with Store.open(store_path, read_only=True) as store:
        out["triples"] = store.triple_count()
    return out


def _with_rows(result):
    result.rows                 # the Python values, as every caller of api.query reads them
    return result


def _result_size(result) -> dict:
    """Rows, and the terms of them the store had to decode: an IRI, or a literal longer than
    the 15 bytes Oxigraph keeps inline in its indexes, is stored as a hash and read back by a
    look-up (see store_floors: the cost of one)."""
    from pyoxigraph import Literal
    decoded = sum(1 for row in result.terms for t in row
                  if t is not None and (not isinstance(t, Literal) or len(t.value.encode()) > 15))
    return {"rows": len(result.terms), "decoded_terms": decoded}


# ---------------------------------------------------------------------- floors

def store_floors(store: Path, input_mb: float, work: Path, timeout: float = 1800) -> dict:
    """_store_floors in a new Python process: this one has had stores open, and a forked child
    of it hangs in the bulk loader (whose threads did not survive the fork)."""
    code = ("import json, sys; from pathlib import Path; from bench.run import _store_floors; "
            "print(json.dumps(_store_floors(Path(sys.argv[1]), float(sys.argv[2]), Path(sys.argv[3]))))")
    try:
        r = subprocess.run([sys.executable, "-c", code, str(store), str(input_mb), str(work)],
                           capture_output=True, text=True, cwd=ROOT, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"timeout_s": timeout}
    if r.returncode != 0:
        return {"error": (r.stderr.strip().splitlines() or ["?"])[-1][:200]}
    return json.loads(r.stdout)


def _store_floors(store: Path, input_mb: float, work: Path) -> dict:
    """What the store itself costs for the graph kg built, with no extraction at all: the built
    store's quads (dumped to N-Quads first, untimed) bulk-loaded into an empty store as a build's
    loader does (lenient, one call): time, CPU, and the size of that store; and the cost of
    reading a stored term back: the assertion IRIs of every document read out, against counting
    them without reading them out (the scan alone)."""
    import resource

    import pyoxigraph as ox

    from kg.namespaces import PREFIXES
    dump, target = work / "floor.nq", work / "floor-store"
    src = ox.Store.read_only(str(store))
    src.dump(str(dump), ox.RdfFormat.N_QUADS)
    pattern = f"{{ GRAPH ?g {{ ?a <{PREFIXES['kg']}mechanism> ?m }} }}"
    t = time.perf_counter()
    n = sum(1 for _ in src.query(f"SELECT ?a WHERE {pattern}"))
    t_read = time.perf_counter() - t
    t = time.perf_counter()
    list(src.query(f"SELECT (COUNT(*) AS ?n) WHERE {pattern}"))
    t_scan = time.perf_counter() - t
    del src
    shutil.rmtree(target, ignore_errors=True)
    dst = ox.Store(str(target))
    r0, t = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    dst.bulk_load(path=str(dump), format=ox.RdfFormat.N_QUADS, lenient=True)
    dst.flush()
    wall, r1 = time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF)
    del dst
    out = {"load_s": wall, "load_cpu_s": r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime,
           "load_mb_s": input_mb / wall, "store_mb": dir_bytes(target) / 1e6,
           "nquads_mb": dump.stat().st_size / 1e6,
           "read_us_per_term": (t_read - t_scan) / n * 1e6, "read_terms": n, "scan_ms": t_scan * 1000}
    out["store_vs_input"] = out["store_mb"] / input_mb
    shutil.rmtree(target, ignore_errors=True)
    dump.unlink()
    return out


def floors(files: list[Path]) -> dict:
    import ahocorasick
    import opencc
    import rdflib
    from kg import read
    conv = opencc.OpenCC("t2s")
    nbytes = sum(p.stat().st_size for p in files)
    t = time.perf_counter()
    texts = [conv.convert(read.read_file(p).text) for p in files]
    t_read = time.perf_counter() - t
    labels = set()
    for name in ("mechanisms.ttl", "institutions.ttl"):
        g = rdflib.Graph().parse(ROOT / "ontology" / name)
        for pred in (rdflib.SKOS.prefLabel, rdflib.SKOS.altLabel):
            labels |= {str(o) for o in g.objects(None, pred) if getattr(o, "language", None) == "zh"}
    A = ahocorasick.Automaton()
    for lab in labels:
        A.add_word(lab, lab)
    A.make_automaton()
    t = time.perf_counter()
    hits = 0
    for text in texts:
        for _ in A.iter_long(text):
            hits += 1
    t_scan = time.perf_counter() - t
    # jieba's own segmentation (precise mode, HMM on, the default) on the first ~5 MB of the text
    import jieba
    jieba.setLogLevel(60)
    jieba.initialize()
    sample, size = [], 0
    for text in texts:
        if size > 5_000_000:
            break
        sample.append(text)
        size += len(text.encode("utf-8"))
    t = time.perf_counter()
    for text in sample:
        jieba.lcut(text)
    t_jieba = time.perf_counter() - t
    return {"input_mb": nbytes / 1e6, "read_opencc_mb_s": nbytes / 1e6 / t_read,
            "ahocorasick_mb_s": nbytes / 1e6 / t_scan, "patterns": len(labels), "hits": hits,
            "jieba_lcut_mb_s": size / 1e6 / t_jieba}


# ---------------------------------------------------------------------- the obvious baseline

B = "https://example.org/baseline#"


class _Timeout(Exception):
    pass


def _alarm(seconds):
    def handler(signum, frame):
        raise _Timeout()
    signal.signal(signal.SIGALRM, handler)
    signal.alarm(int(seconds))


def baseline(files: list[Path], repeats: int, timeout: float) -> dict:
    """jieba.posseg (default, HMM on) over every sentence; locality = the longest division name in
    the title line; mechanism = a plain label match; status by cue words; all into an rdflib
    Graph, with the places and requirements; rdflib SPARQL for the questions."""
    import jieba
    import jieba.posseg as pseg
    import rdflib
    from rdflib import RDF, RDFS, SKOS, Literal, URIRef
    from kg import places, read
    jieba.setLogLevel(60)
    KG = rdflib.Namespace("https://w3id.org/fazhi-kg/ontology#")
    BN = rdflib.Namespace(B)
    mech = rdflib.Graph().parse(ROOT / "ontology" / "mechanisms.ttl")
    req = rdflib.Graph().parse(ROOT / "ontology" / "requirements.ttl")
    labels = []
    for m, lab in mech.subject_objects(SKOS.prefLabel):
        labels.append((str(lab), m))
    for m, lab in mech.subject_objects(SKOS.altLabel):
        labels.append((str(lab), m))
    labels = [(l, m) for l, m in labels if len(l) >= 3]
    locs = places.all_localities()
    by_name = {l.name: l for l in locs}
    names = sorted(by_name, key=len, reverse=True)
    nbytes = sum(p.stat().st_size for p in files)

    t0 = time.perf_counter()
    g = rdflib.Graph()
    g += mech
    g += req
    seen_locs = set()
    tokens = 0
    for i, path in enumerate(files):
        text = read.read_file(path).text
        title = text.strip().splitlines()[0] if text.strip() else ""
        loc = next((by_name[n] for n in names if n in title), None)
        doc = BN[f"doc{i}"]
        g.add((doc, RDF.type, BN.Document))
        g.add((doc, BN.source, Literal(path.name)))
        if loc is not None:
            g.add((doc, BN.locality, BN["loc" + loc.code]))
            chain = [(loc.code, loc.name)] + [(c, n) for c, n, _ in loc.parents]
            for (c, n), parent in zip(chain, chain[1:] + [None]):
                if c in seen_locs:
                    continue
                seen_locs.add(c)
                g.add((BN["loc" + c], RDFS.label, Literal(n)))
                if parent:
                    g.add((BN["loc" + c], BN.parent, BN["loc" + parent[0]]))
        for j, sent in enumerate(s for s in re.split(r"[。！？!?\n]", text) if s.strip()):
            words = list(pseg.cut(sent))
            tokens += len(words)
            s_node = BN[f"doc{i}s{j}"]
            g.add((s_node, BN.text, Literal(sent)))
            g.add((s_node, BN.inDocument, doc))
            for lab, m in labels:
                if lab in sent:
                    a = BN[f"doc{i}s{j}m{len(g)}"]
                    status = ("planned" if re.search("将|计划|明年|下一步", sent) else
                              "weakness" if re.search("不足|问题|短板|差距", sent) else "implemented")
                    g.add((a, RDF.type, BN.Mention))
                    g.add((a, BN.inDocument, doc))
                    g.add((a, BN.mechanism, m))
                    g.add((a, BN.status, Literal(status)))
                    g.add((a, BN.sentence, s_node))
                    if loc is not None:
                        g.add((a, BN.locality, BN["loc" + loc.code]))
    build_s = time.perf_counter() - t0
    out = {"documents": len(files), "input_mb": nbytes / 1e6, "build_s": build_s,
           "build_mb_s": nbytes / 1e6 / build_s, "docs_s": len(files) / build_s,
           "triples": len(g), "tokens": tokens}

    codes = collections.Counter(p.stem.split("_")[1] for p in files)
    table = places.divisions()
    county = next(table.by_code(c) for c, _ in codes.most_common() if table.by_code(c).level == "county")
    prefecture = county.parents[-1][1] if county.parents else county.name
    init = {"b": BN, "kg": KG, "skos": SKOS, "rdfs": RDFS,
            "kgr": rdflib.Namespace("https://w3id.org/fazhi-kg/requirement/")}
    q_loc = """SELECT DISTINCT ?notation ?status WHERE {
        ?loc rdfs:label ?name . ?a b:locality ?loc ; b:mechanism ?m ; b:status ?status .
        ?m skos:notation ?notation }"""
    q_audit = """SELECT DISTINCT ?m WHERE {
        ?r kg:inSet kgr:baseline-2021 ; kg:requiresMechanism ?m .
        FILTER NOT EXISTS { ?a b:mechanism ?m ; b:locality ?l . ?l b:parent* ?region } }"""
    q_all = """SELECT DISTINCT ?region ?m WHERE {
        ?d b:locality ?region . ?r kg:inSet kgr:baseline-2021 ; kg:requiresMechanism ?m .
        FILTER NOT EXISTS { ?a b:mechanism ?m ; b:locality ?l . ?l b:parent* ?region } }"""

    def run(qtext, bindings):
        return len(list(g.query(qtext, initNs=init, initBindings=bindings)))

    region_node = next(g.subjects(RDFS.label, Literal(prefecture)), BN.none)
    for label, qtext, bind in (("locality mechanisms", q_loc, {"name": Literal(county.name)}),
                               ("audit prefecture", q_audit, {"region": region_node}),
                               ("audit --all", q_all, {})):
        try:
            _alarm(timeout)
            out[label] = timed(lambda: run(qtext, bind), repeats if label != "audit --all" else 1,
                               warm=label != "audit --all", budget=timeout)
            out[label]["rows"] = run(qtext, bind) if label != "audit --all" else None
        except _Timeout:
            out[label] = {"timeout_s": timeout}
        finally:
            signal.alarm(0)
    out["params"] = {"locality": county.name, "prefecture": prefecture}
    return out


# ---------------------------------------------------------------------- main

def bench_n(n: int, args, work: Path) -> dict:
    src = corpus(n, args.seed, work)
    files = corpus_files(src)
    nbytes = sum(p.stat().st_size for p in files)
    res: dict = {"documents": n, "input_mb": nbytes / 1e6, "builds": {}}
    # a new store is bulk-loaded by default; --atomic is how documents are added to a used one
    modes = [(1, "atomic"), (1, "default"), (2, "default")] if not args.quick else [(1, "default"), (2, "default")]
    store = work / f"store-{n}"
    for workers, write in modes:
        name = f"workers={workers}" + (f" --{write}" if write != "default" else "")
        print(f"[N={n}] build {name} …", file=sys.stderr, flush=True)
        r = kg_build([src], store, workers, write)
        r["mb_s"] = nbytes / 1e6 / r["seconds"]
        r["docs_s"] = n / r["seconds"]
        res["builds"][name] = r
    # the last store (workers=2, bulk-loaded) serves the rest
    res["store_mb"] = dir_bytes(store) / 1e6
    print(f"[N={n}] no-change rebuild …", file=sys.stderr, flush=True)
    res["rebuild_unchanged"] = kg_build([src], store, 1, fresh=False)
    print(f"[N={n}] latencies …", file=sys.stderr, flush=True)
    res.update(kg_latencies(store, files, args.repeats))
    res["store_vs_input"] = res["store_mb"] / res["input_mb"]
    print(f"[N={n}] floors …", file=sys.stderr, flush=True)
    res["floors"] = floors(files)
    print(f"[N={n}] the store's own floors …", file=sys.stderr, flush=True)
    res["store_floors"] = store_floors(store, res["input_mb"], work)
    return res


def bench_baseline(n: int, args, work: Path) -> dict:
    src = corpus(max(args.sizes), args.seed, work)
    files = corpus_files(src)[:n]
    sub = work / f"corpus-first-{n}"
    shutil.rmtree(sub, ignore_errors=True)
    sub.mkdir(parents=True)
    for p in files:
        os.link(p, sub / p.name) if hasattr(os, "link") else shutil.copy(p, sub / p.name)
    files = corpus_files(sub)
    print(f"[baseline N={n}] kg build …", file=sys.stderr, flush=True)
    store = work / f"store-first-{n}"
    kgb = kg_build([sub], store, 1)
    nbytes = sum(p.stat().st_size for p in files)
    kgb["mb_s"] = nbytes / 1e6 / kgb["seconds"]
    lat = kg_latencies(store, files, args.repeats)
    print(f"[baseline N={n}] jieba.posseg + rdflib …", file=sys.stderr, flush=True)
    base = baseline(files, args.repeats, args.baseline_timeout)
    return {"documents": n, "kg_build": kgb, "kg": lat, "baseline": base}


def fmt_ms(d):
    if not d:
        return "—"
    if "error" in d:
        return "error"
    if "timeout_s" in d:
        return f"> {d['timeout_s']:.0f} s (timeout)"
    return f"{d['median_ms']:.1f} / {d['p95_ms']:.1f}"


def report(results: dict) -> str:
    lines = [f"machine: {results['machine']}"]
    for n, r in results["sizes"].items():
        lines.append(f"\n== N = {n} documents, {r['input_mb']:.1f} MB input ==")
        lines.append(f"{'build':<28} {'s':>8} {'MB/s':>7} {'docs/s':>8} {'peak RSS MB':>12}")
        for name, b in r["builds"].items():
            lines.append(f"{name:<28} {b['seconds']:>8.1f} {b['mb_s']:>7.3f} {b['docs_s']:>8.1f} "
                         f"{(b['peak_rss_mb'] or 0):>12.0f}")
        u = r["rebuild_unchanged"]
        lines.append(f"{'no-change rebuild':<28} {u['seconds']:>8.2f}")
        lines.append(f"store {r['store_mb']:.0f} MB on disk ({r['store_vs_input']:.1f}× input), "
                     f"{r['triples']} triples")
        f = r["floors"]
        lines.append(f"floors: read + OpenCC {f['read_opencc_mb_s']:.1f} MB/s; pyahocorasick scan "
                     f"({f['patterns']} patterns) {f['ahocorasick_mb_s']:.1f} MB/s; "
                     f"jieba.lcut {f['jieba_lcut_mb_s']:.2f} MB/s")
        one = r["builds"].get("workers=1")
        if one:
            lines.append(f"build workers=1 vs jieba.lcut: {one['mb_s'] / f['jieba_lcut_mb_s']:.1f}×; "
                         f"workers=2 vs workers=1: "
                         f"{r['builds'].get('workers=2', one)['mb_s'] / one['mb_s']:.2f}×")
        sf = r.get("store_floors") or {}
        per_term = sf.get("read_us_per_term")
        if "load_s" in sf:
            lines.append(f"store floors: the built quads bulk-loaded alone (no extraction) "
                         f"{sf['load_s']:.1f} s ({sf['load_cpu_s']:.0f} s CPU) = {sf['load_mb_s']:.2f} MB/s "
                         f"of input, a store of {sf['store_mb']:.0f} MB ({sf['store_vs_input']:.1f}× input); "
                         f"a stored term read back {per_term:.2f} µs ({sf['read_terms']} IRIs; "
                         f"their scan alone {sf['scan_ms']:.0f} ms)")
        lines.append(f"{'latency (median / p95 ms)':<34} {'value':<18} {'rows':>8} "
                     f"{'read-out floor ms' if per_term else ''}")
        for name, d in r["queries"].items():
            floor = (f"{d['decoded_terms'] * per_term / 1000:>8.0f}"
                     if per_term and "decoded_terms" in d else "")
            lines.append(f"{'query ' + name:<34} {fmt_ms(d):<18} {d.get('rows', ''):>8} {floor}")
        for key in ("audit county", "audit prefecture", "audit province", "audit province, quoted",
                    "audit --all", "audit --all, quoted"):
            lines.append(f"{key:<34} {fmt_ms(r.get(key))}")
    b = results.get("baseline")
    if b:
        kb, base = b["kg_build"], b["baseline"]
        lines.append(f"\n== kg vs the obvious baseline, N = {b['documents']} "
                     f"({base['input_mb']:.2f} MB) ==")
        lines.append(f"{'':<26} {'kg':>14} {'baseline':>20} {'ratio':>8}")
        lines.append(f"{'build MB/s':<26} {kb['mb_s']:>14.3f} {base['build_mb_s']:>20.4f} "
                     f"{kb['mb_s'] / base['build_mb_s']:>7.1f}×")
        pairs = [("locality mechanisms", b["kg"]["queries"].get("locality-mechanisms"),
                  base.get("locality mechanisms")),
                 ("audit prefecture", b["kg"].get("audit prefecture"), base.get("audit prefecture")),
                 ("audit --all", b["kg"].get("audit --all"), base.get("audit --all"))]
        for name, k, v in pairs:
            ratio = "—"
            if k and v and "median_ms" in k:
                if "median_ms" in v:
                    ratio = f"{v['median_ms'] / k['median_ms']:.0f}×"
                elif "timeout_s" in v:
                    ratio = f"> {v['timeout_s'] * 1000 / k['median_ms']:.0f}×"
            lines.append(f"{name + ' (ms)':<26} {fmt_ms(k):>14} {fmt_ms(v):>20} {ratio:>8}")
        lines.append(f"baseline graph: {base['triples']} triples, {base['tokens']} posseg tokens")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description="kg benchmark")
    ap.add_argument("--sizes", default="1000,10000")
    ap.add_argument("--quick", action="store_true", help="N=100, baseline N=20, 3 repeats")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--baseline-n", type=int, default=200)
    ap.add_argument("--baseline-timeout", type=float, default=300)
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--work", type=Path, default=OUT / "work")
    args = ap.parse_args(argv)
    if args.quick:
        args.sizes, args.repeats, args.baseline_n, args.baseline_timeout = "100", 3, 20, 60
    args.sizes = [int(x) for x in str(args.sizes).split(",") if x]
    args.work.mkdir(parents=True, exist_ok=True)
    results = {"machine": machine(), "seed": args.seed, "sizes": {}}
    for n in args.sizes:
        results["sizes"][n] = bench_n(n, args, args.work)
    if not args.no_baseline:
        results["baseline"] = bench_baseline(min(args.baseline_n, max(args.sizes)), args, args.work)
    text = report(results)
    print(text)
    OUT.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (OUT / f"results-{stamp}.json").write_text(json.dumps(results, ensure_ascii=False, indent=1,
                                                          default=str))
    (OUT / f"results-{stamp}.txt").write_text(text + "\n")


if __name__ == "__main__":
    main()
