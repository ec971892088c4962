"""The locality × mechanism reads: `python bench/reads.py --store DIR [--runs 5] [--county NAME]`.

On a built store (e.g. 10,000 generated documents: bench/generate.py, then kg build) it measures,
each in a fresh process so that the first run is the process's cold one:

1. the named queries of the locality × mechanism side (matrix, mechanisms-overview,
   localities-implementing, figures, stats, locality-mechanisms, institutions, candidates and the
   server's internal ones), through kg.api.query with the rows read, with the parameters
   bench/run.py gives (a county, 三项制度) and without (a query's answer for everything);
2. the server's home and matrix pages (`/`, `/matrix`, `/matrix?page=3`, `/matrix?region=山东省`)
   as its workers make them (kg.server.pages on a read-only snapshot), so without the page cache.

For each: the first run's seconds, the median of the next `--runs`, and the rows (or bytes).
Prints a table and writes bench/out/reads-<time>.json.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import statistics
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"

QUERIES = [("matrix", {}), ("mechanisms-overview", {}), ("localities-implementing", {}),
           ("localities-implementing", {"mechanism": "三项制度"}), ("figures", {"mechanism": "三项制度"}),
           ("figures", {}), ("stats", {}), ("locality-mechanisms", {"locality": "{county}"}),
           ("locality-mechanisms", {"locality": "{province}"}), ("institutions", {"locality": "{county}"}),
           ("institutions", {"locality": "{province}"}), ("institutions", {}), ("candidates", {}),
           ("server-localities", {}), ("server-matrix-localities", {}), ("server-matrix-mechanisms", {}),
           ("server-matrix-cells", {"from_code": "370000", "to_code": "379999"})]
PAGES = [("home", {}), ("matrix", {}), ("matrix", {"page": "3"}), ("matrix", {"region": "山东省"})]


def _timed(call, runs: int) -> dict:
    t = time.perf_counter()
    size = call()
    first = time.perf_counter() - t
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        call()
        times.append(time.perf_counter() - t)
    return {"first_s": round(first, 3), "warm_s": round(statistics.median(times), 3), "size": size}


def _measure(kind: str, name: str, params: dict, store_path: str, runs: int, queue) -> None:
    from kg import api
    from kg.server import pages
    from kg.store import Store
    with Store.open(store_path, read_only=True) as store:
        if kind == "query":
            out = _timed(lambda: len(api.query(store, name, params or None).rows), runs)
        else:
            out = _timed(lambda: len(getattr(pages, name)(store, params).encode("utf-8")), runs)
    queue.put(out)


def measure(kind: str, name: str, params: dict, store: str, runs: int) -> dict:
    """One measurement in a process of its own (its first run is a cold one)."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    p = ctx.Process(target=_measure, args=(kind, name, params, store, runs, queue))
    p.start()
    out = queue.get()
    p.join()
    return out


def busiest_county(store: str) -> tuple[str, str]:
    """The county with most documents (as bench/run.py picks it) and its province."""
    from kg import api, places
    from kg.store import Store
    with Store.open(store, read_only=True) as s:
        rows = api.query(s, "server-localities").to_dicts()
    table = places.divisions()
    for r in sorted(rows, key=lambda r: -int(r["documents"])):
        loc = table.by_code(str(r["code"]))
        if loc is not None and loc.level == "county":
            return loc.name, (loc.parents[0][1] if loc.parents else loc.name)
    raise SystemExit("no county in the store")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--county", help="the county of the parametrized queries (default: the busiest)")
    args = ap.parse_args()
    county, province = busiest_county(args.store) if not args.county else (args.county, args.county)
    results = []
    for kind, items in (("query", QUERIES), ("page", PAGES)):
        for name, params in items:
            params = {k: v.format(county=county, province=province) for k, v in params.items()}
            r = measure(kind, name, params, args.store, args.runs)
            results.append({"kind": kind, "name": name, "params": params, **r})
            shown = " ".join(f"{k}={v}" for k, v in params.items())
            print(f"{kind:5} {name:26} {shown:32} first {r['first_s']:7.3f} s  warm {r['warm_s']:7.3f} s  "
                  f"{r['size']} {'rows' if kind == 'query' else 'bytes'}", flush=True)
    OUT.mkdir(exist_ok=True)
    out = OUT / f"reads-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps({"store": Path(args.store).name, "county": county, "province": province,
                               "results": results}, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"written {out}")


if __name__ == "__main__":
    main()
