"""How long a query result takes to write in each output format of `kg query` (the table drawn
by tabulate with wcwidth display widths, and the SPARQL CSV/JSON serializers), on a built store.

    python bench/table_speed.py STORE [QUERY]      # default query: matrix

Prints the rows and, per format, the seconds and the size of the text.
"""
from __future__ import annotations

import sys
import time

from kg import api
from kg.formats import FORMATS, format_result


def main(store: str, name: str = "matrix") -> None:
    with api.open_store(store, read_only=True) as s:
        started = time.perf_counter()
        result = api.query(s, name)
        print(f"{name}: {len(result.rows)} rows in {time.perf_counter() - started:.2f} s")
    for fmt in FORMATS:
        started = time.perf_counter()
        text = format_result(result, fmt)
        print(f"  {fmt:<5} {time.perf_counter() - started:.2f} s, {len(text.encode('utf-8')):,} bytes")


if __name__ == "__main__":
    main(*sys.argv[1:3])
