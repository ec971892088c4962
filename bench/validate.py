"""`kg validate` at scale (issue 19): `python bench/validate.py --store DIR [--changed 100] [--pyshacl]`.

DIR is a built store (e.g. `python bench/generate.py 10000 --out G && kg build G --store DIR`). It is
copied first (validation writes its results file into the store's directory), and so is the
ontology (its fingerprint is part of every remembered result: an edit of it in between would make
every validation a full one); then, each in a fresh `kg` process, with wall time, CPU time (user +
system, of the process and its workers: what a busy machine does not inflate) and peak RSS,
printed as they come:

  full        `kg validate --all`: every graph, the shapes as SPARQL queries the store runs (with
              --workers N also in N processes)
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
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kg import ontology  # noqa: E402
from kg.validate import RESULTS_FILE  # noqa: E402

_RSS_WRAPPER = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
                "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
                "print('MAXRSS', u.ru_maxrss, 'CPU', u.ru_utime + u.ru_stime, file=sys.stderr); "
                "sys.exit(r.returncode)")

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
    """(seconds, CPU seconds, peak RSS in MB of the largest process, output) of running `argv`."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _RSS_WRAPPER, *argv], capture_output=True,
                          text=True, cwd=ROOT)
    seconds = time.perf_counter() - started
    usage = re.search(r"MAXRSS (\d+) CPU ([0-9.]+)", done.stderr)
    out = (done.stdout.strip() or done.stderr.strip()).splitlines()
    rss, cpu = (int(usage.group(1)) // 1024, float(usage.group(2))) if usage else (-1, -1.0)
    return seconds, cpu, rss, out[-1] if out else ""


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
            row("full (--all)", full)
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
