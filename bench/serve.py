"""The server's benchmark: `python bench/serve.py [--docs N] [--clients 50] [--seconds 20]`.

Starts `kg serve` (default settings, 127.0.0.1) on a store of N generated documents (bench/
generate.py; --store DIR to use a built one) and measures, all in one run:

1. **load**: `--clients` concurrent clients loop for `--seconds` on a mix of requests (a named
   query by locality, a count, an ASK, CONSTRUCT, the home page): requests, errors, latency
   percentiles, and the server's resident memory (main process plus workers) sampled every
   0.5 s — at the start, the end and the peak;
2. **a long query beside short ones**: `--short-clients` clients loop on short queries for
   `--seconds`, first alone, then with one more client looping a query that runs until the
   10 s time limit stops it: the short queries' p50 and p95 both ways.

Every loop is bounded in time and count, sends only to 127.0.0.1, and stops by itself. Prints the
figures and writes bench/out/serve-<time>.json.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
MAX_REQUESTS_PER_CLIENT = 100_000
LONG_QUERY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def build_store(docs: int, work: Path) -> Path:
    corpus, store = work / "corpus", work / "store"
    subprocess.run([sys.executable, str(ROOT / "bench" / "generate.py"), str(docs), "--out", str(corpus)],
                   check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    subprocess.run([sys.executable, "-m", "kg", "build", str(corpus), "--store", str(store), "--no-progress"],
                   check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return store


def start_server(store: Path, *args) -> tuple[subprocess.Popen, str, int]:
    proc = subprocess.Popen([sys.executable, "-m", "kg", "serve", "--store", str(store), "--port", "0", *args],
                            cwd=ROOT, stderr=subprocess.PIPE, text=True)
    line = proc.stderr.readline()
    if "http://" not in line:
        proc.kill()
        raise SystemExit("kg serve did not start: " + line)
    netloc = urllib.parse.urlsplit(line.split()[2]).netloc
    host, port = netloc.rsplit(":", 1)
    return proc, host, int(port)


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and its children (Linux /proc)."""
    total, todo = 0, [pid]
    page = os.sysconf("SC_PAGE_SIZE")
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/statm") as f:
                total += int(f.read().split()[1]) * page
            for task in os.listdir(f"/proc/{p}/task"):     # children of every thread
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except (OSError, ValueError):
            pass
    return total


def localities(host: str, port: int) -> list[str]:
    q = "SELECT DISTINCT ?code WHERE { ?d kg:locality ?l . ?l kg:divisionCode ?code } LIMIT 500"
    conn = http.client.HTTPConnection(host, port, timeout=60)
    conn.request("GET", "/sparql?" + urllib.parse.urlencode({"query": q, "format": "csv"}))
    rows = conn.getresponse().read().decode().split()[1:]
    conn.close()
    return rows or ["370000"]


def request_mix(codes: list[str]):
    """A request a client of the endpoint would send: (method, path, body, headers)."""
    from kg.query import load_query
    named = load_query("locality-mechanisms").text
    form = {"Content-Type": "application/x-www-form-urlencoded"}

    def pick(rng: random.Random):
        kind = rng.random()
        if kind < 0.45:
            from kg.query import bind_values, resolve_params
            text = bind_values(named, resolve_params(named, {"locality": rng.choice(codes)}))
            return "POST", "/sparql", urllib.parse.urlencode({"query": text}).encode(), form
        if kind < 0.65:
            return "GET", "/sparql?" + urllib.parse.urlencode(
                {"query": "SELECT (COUNT(*) AS ?n) WHERE { ?d a kg:Document }"}), None, {}
        if kind < 0.80:
            return "GET", "/sparql?" + urllib.parse.urlencode(
                {"query": f'ASK {{ ?l kg:divisionCode "{rng.choice(codes)}" }}'}), None, {}
        if kind < 0.95:
            return "GET", "/sparql?" + urllib.parse.urlencode(
                {"query": "CONSTRUCT { ?m skos:prefLabel ?l } WHERE { ?m skos:prefLabel ?l } LIMIT 100"}), None, {}
        return "GET", "/", None, {}
    return pick


def client_loop(host, port, pick, seconds, results, seed, stop_event=None):
    rng = random.Random(seed)
    conn = http.client.HTTPConnection(host, port, timeout=60)
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end and n < MAX_REQUESTS_PER_CLIENT and not (stop_event and stop_event.is_set()):
        method, path, body, headers = pick(rng)
        t = time.monotonic()
        try:
            conn.request(method, path, body=body, headers=headers)
            r = conn.getresponse()
            r.read()
            ok = 200 <= r.status < 300
            status = r.status
        except (OSError, http.client.HTTPException) as e:
            ok, status = False, type(e).__name__
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=60)
        results.append((time.monotonic() - t, ok, status))
        n += 1
    conn.close()


def percentile(xs, p):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))]


def load(host, port, pid, pick, clients, seconds) -> dict:
    results, samples = [], []
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            samples.append(tree_rss(pid))
            time.sleep(0.5)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    threads = [threading.Thread(target=client_loop, args=(host, port, pick, seconds, results, i))
               for i in range(clients)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 120)
    elapsed = time.monotonic() - t0
    stop.set()
    sampler.join()
    lat = [r[0] for r in results]
    errors = [r[2] for r in results if not r[1]]
    third = max(1, len(samples) // 3)
    return {"clients": clients, "seconds": round(elapsed, 1), "requests": len(results),
            "requests_per_s": round(len(results) / elapsed, 1), "errors": len(errors),
            "error_kinds": sorted({str(e) for e in errors})[:5],
            "p50_ms": round(percentile(lat, 50) * 1000, 1), "p95_ms": round(percentile(lat, 95) * 1000, 1),
            "p99_ms": round(percentile(lat, 99) * 1000, 1),
            "rss_start_mb": round(samples[0] / 2**20) if samples else None,
            "rss_first_third_max_mb": round(max(samples[:third]) / 2**20) if samples else None,
            "rss_last_third_max_mb": round(max(samples[-third:]) / 2**20) if samples else None,
            "rss_peak_mb": round(max(samples) / 2**20) if samples else None}


def short_beside_long(host, port, pick_short, clients, seconds) -> dict:
    def run(with_long: bool) -> dict:
        results, long_results = [], []
        stop = threading.Event()
        threads = [threading.Thread(target=client_loop, args=(host, port, pick_short, seconds, results, 100 + i))
                   for i in range(clients)]
        longt = None
        if with_long:
            body = urllib.parse.urlencode({"query": LONG_QUERY}).encode()
            pick_long = lambda rng: ("POST", "/sparql", body,   # noqa: E731
                                     {"Content-Type": "application/x-www-form-urlencoded"})
            longt = threading.Thread(target=client_loop, args=(host, port, pick_long, seconds + 12,
                                                                long_results, 7, stop))
            longt.start()
            time.sleep(1.0)          # the long query is running before the short ones start
        for t in threads:
            t.start()
        for t in threads:
            t.join(seconds + 60)
        stop.set()
        if longt:
            longt.join(60)
        lat = [r[0] for r in results]
        return {"requests": len(results), "errors": sum(not r[1] for r in results),
                "p50_ms": round(percentile(lat, 50) * 1000, 1), "p95_ms": round(percentile(lat, 95) * 1000, 1),
                "long_queries": [(round(r[0], 1), r[2]) for r in long_results]}
    return {"alone": run(False), "beside_a_long_query": run(True)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=1000)
    ap.add_argument("--store", type=Path, help="a built store (instead of generating --docs documents)")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--short-clients", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=20)
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory(prefix="kg-bench-serve-") as work:
        store = args.store or build_store(args.docs, Path(work))
        proc, host, port = start_server(store)
        try:
            codes = localities(host, port)
            pick = request_mix(codes)
            out = {"store": str(args.store or f"{args.docs} generated documents"),
                   "server": "kg serve, default settings",
                   "cores": os.cpu_count()}
            out["load"] = load(host, port, proc.pid, pick, args.clients, args.seconds)
            out["long_query"] = short_beside_long(host, port, pick, args.short_clients, args.seconds)
        finally:
            proc.terminate()
            proc.wait(20)
    print(json.dumps(out, ensure_ascii=False, indent=1))
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"serve-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"written {path.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
