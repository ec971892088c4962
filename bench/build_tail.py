"""How long `kg build` runs after its progress bar has counted the last document: the final
write of the store (the bulk load's end, or the last transaction) and the triple count, which
the bar must name ("writing the store…") rather than sit at 99 % in silence.

    python bench/build_tail.py CORPUS_DIR [N_FILES]

Builds the first N_FILES files (default all) into a fresh temporary store and prints the
seconds of the whole build, of the documents' part, and of the tail after the last tick.
"""
from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

from kg import api


def main(corpus: str, limit: int | None = None) -> None:
    files = sorted(p for p in Path(corpus).iterdir() if p.suffix == ".txt")[:limit]
    work = Path(tempfile.mkdtemp(prefix="kg-build-tail-"))
    try:
        subset = work / "corpus"
        subset.mkdir()
        for f in files:
            (subset / f.name).symlink_to(f.resolve())
        last_tick = [0.0]

        def tick(n, total, path):
            last_tick[0] = time.perf_counter()

        started = time.perf_counter()
        report = api.build([str(subset)], str(work / "store"), progress=tick)
        ended = time.perf_counter()
        print(f"{len(report.built)} documents: build {ended - started:.1f} s, "
              f"documents {last_tick[0] - started:.1f} s, "
              f"after the last tick {ended - last_tick[0]:.1f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else None)
