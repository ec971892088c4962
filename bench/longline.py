"""Extraction time of one very long line: `python bench/longline.py [--sizes 10,40]`.

A report pasted without line breaks (or a page whose text comes as one line) reaches the
pipeline as a single line of many megabytes. Each size here is such a file, made of the bundled
corpus's text with its line breaks removed, repeated to size; `kg extract` runs on it in a
subprocess, and the script prints the seconds, the seconds per MB and the peak memory. Time that
grows faster than the input shows as seconds per MB rising with the size (issue 19 asks that the
10 MB and 40 MB figures differ by less than 1.5×).
"""
from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MB = 1024 * 1024


def one_line_text(size: int) -> str:
    text = "".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "corpus").glob("*.txt")))
    text = text.replace("\r", "").replace("\n", "")
    reps = size // len(text.encode("utf-8")) + 1
    out = (text * reps).encode("utf-8")[:size]
    return out.decode("utf-8", errors="ignore")


def measure(path: Path) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "kg", "extract", str(path), "--format", "json"],
                   check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    seconds = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"seconds": seconds, "cpu": after.ru_utime - before.ru_utime,
            "peak_mb": after.ru_maxrss / 1024}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10,40", help="sizes in MB, comma-separated")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="kg-bench-longline-") as d:
        for mb in sizes:
            path = Path(d) / f"line-{mb}mb.txt"
            path.write_text(one_line_text(mb * MB), encoding="utf-8")
            m = measure(path)
            rows.append((mb, m))
            print(f"{mb:>4} MB one line: {m['seconds']:7.1f} s wall, {m['cpu']:7.1f} s CPU, "
                  f"{m['seconds'] / mb:5.2f} s/MB, peak RSS of the largest child so far {m['peak_mb']:,.0f} MB",
                  flush=True)
    if len(rows) > 1:
        lo, hi = rows[0], rows[-1]
        ratio = (hi[1]["seconds"] / hi[0]) / (lo[1]["seconds"] / lo[0])
        print(f"seconds per MB at {hi[0]} MB / at {lo[0]} MB: {ratio:.2f}× (issue 19: under 1.5×)")


if __name__ == "__main__":
    main()
