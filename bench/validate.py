"""`kg validate` at scale (issue 19): `python bench/validate.py --store DIR [--changed 100] [--pyshacl]`.

DIR is a built store (e.g. `python bench/generate.py 10000 --out G && kg build G --store DIR`). It is
copied first (validation writes its results file into the store's directory), and so is the
ontology (its fingerprint is part of every remembered result: an edit of it in between would make
every validation a full one); then, each in a fresh `kg` process, with wall time, CPU time (user +
system, of the process and its workers: what a busy machine does not inflate) and peak memory
(the process and its workers together, summed PSS), printed as they come:

  full        `kg validate --all`: every graph, the shapes as SPARQL queries the store runs, in
              one thread, then as the command runs by default (a thread a core, at most 4),
              then (--workers N) in N
  unchanged   `kg validate`: the same store again, every result remembered
  changed     `kg validate` after forgetting the results of --changed documents: what a build that
              rewrote that many documents costs the next validation (their graphs are validated
              afresh from their focus nodes, as after a real rebuild; the others are reused)
  pyshacl     (--pyshacl) `kg validate --all --engine pyshacl --workers N`: the reference engine,
              pySHACL graph by graph
  baseline    (--baseline) the former whole-store validation: every quad into one rdflib graph and
              one pySHACL call
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kg import ontology  # noqa: E402
from kg.validate import RESULTS_FILE  # noqa: E402

_BASELINE = """
import io, sys, rdflib
from pyshacl import validate
from kg import ontology
from kg.store import Store
data = rdflib.Graph()
for name in ontology.ONTOLOGY_FILES:
    if (ontology.ontology_dir() / name).exists():
        data.parse(ontology.ontology_dir() / name, format="turtle")
buf = io.BytesIO()
with Store.open(sys.argv[1], read_only=True) as s:
    s.export(buf, format="ntriples")
data.parse(data=buf.getvalue().decode("utf-8"), format="nt")
shapes = rdflib.Graph().parse(ontology.ontology_dir() / "shapes.ttl", format="turtle")
conforms, _, _ = validate(data, shacl_graph=shapes, inference="none", allow_warnings=True)
print("conforms" if conforms else "does not conform")
"""


def measure(argv: list[str]) -> tuple[float, float, int, str]:
    """(seconds, CPU seconds, peak memory in MB, last line of output) of running `argv`. The
    memory is the process and its workers together: the sum of their proportional set sizes
    (PSS: pages they share, as forked workers do, counted once in all), sampled every 0.1 s
    from /proc; where there is none, the largest process's peak RSS."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             cwd=ROOT)
    peak = [0]
    sampler = threading.Thread(target=_sample_tree, args=(child, peak), daemon=True)
    sampler.start()
    output = child.communicate()[0]
    seconds = time.perf_counter() - started
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    peak_mb = peak[0] // 1024 if peak[0] else after.ru_maxrss // 1024
    lines = output.strip().splitlines()
    return seconds, cpu, peak_mb, lines[-1] if lines else ""


def _sample_tree(child: subprocess.Popen, peak: list) -> None:
    """Keep in peak[0] the largest summed PSS (kB) of `child` and its descendants."""
    while child.poll() is None:
        peak[0] = max(peak[0], sum(_pss_kb(pid) for pid in _descendants(child.pid)))
        time.sleep(0.1)


def _descendants(pid: int) -> list[int]:
    """`pid` and every process under it, from /proc (empty where there is none)."""
    if not Path("/proc").is_dir():
        return []
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parents.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        found.append(todo.pop())
        todo += parents.get(found[-1], [])
    return found


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def forget(store: Path, how_many: int) -> int:
    """Drop the remembered results of `how_many` document graphs; how many were dropped."""
    path = store / RESULTS_FILE
    data = json.loads(path.read_text(encoding="utf-8"))
    documents = [k for k in data["units"] if k.startswith("https://w3id.org/fazhi-kg/doc/")]
    for key in documents[:how_many]:
        del data["units"][key]
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return min(how_many, len(documents))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", required=True, type=Path)
    ap.add_argument("--changed", type=int, default=100)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=1, help="full validations of each kind")
    ap.add_argument("--pyshacl", action="store_true", help="also the reference engine, in full")
    ap.add_argument("--baseline", action="store_true")
    args = ap.parse_args()
    kg = [sys.executable, "-m", "kg"]
    with tempfile.TemporaryDirectory(prefix="kg-validate-bench-") as tmp:
        store = Path(tmp) / "store"
        shutil.copytree(args.store, store, ignore=shutil.ignore_patterns("LOCK", RESULTS_FILE))
        os.environ["KG_ONTOLOGY"] = str(shutil.copytree(ontology.ontology_dir(), Path(tmp) / "ontology"))
        stats = subprocess.run(kg + ["stats", "--store", str(store)], capture_output=True,
                               text=True, cwd=ROOT).stdout
        print(" ".join(stats.split()))
        print(f"{'validation':<26}{'seconds':>9}{'CPU s':>8}{'peak MB':>9}  output", flush=True)

        def row(name: str, argv: list[str]) -> None:
            seconds, cpu, rss, out = measure(argv)
            print(f"{name:<26}{seconds:>9.1f}{cpu:>8.1f}{rss:>9}  {out[:100]}", flush=True)

        full = kg + ["validate", "--all", "--store", str(store)]
        for _ in range(args.repeat):
            row("full (--all), 1 thread", full + ["--workers", "1"])
            row("full (--all), default", full)
            if args.workers > 1:
                row(f"full, {args.workers} workers", full + ["--workers", str(args.workers)])
        row("unchanged", kg + ["validate", "--store", str(store)])
        n = forget(store, args.changed)
        row(f"{n} changed", kg + ["validate", "--store", str(store)])
        if args.pyshacl:
            row(f"pyshacl, {args.workers} workers",
                full + ["--engine", "pyshacl", "--workers", str(args.workers)])
        if args.baseline:
            row("baseline (whole store)", [sys.executable, "-c", _BASELINE, str(store)])


if __name__ == "__main__":
    main()
