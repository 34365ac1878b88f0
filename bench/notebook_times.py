"""Benchmark: seconds per notebook, each executed headless in a fresh kernel, and the total.

The budget (issue 4): the whole workbook under nbval in ≤ 60 s on a 2-core machine. This runs the
same notebooks the same way nbval does (a fresh kernel each) without writing anything, and prints
each notebook's share of the total.

Usage: python bench/notebook_times.py [notebook prefixes…]
"""

from __future__ import annotations

import sys
import time


def main(argv: list[str]) -> int:
    from lab.workbook import execute, lessons

    paths = [p for p in lessons() if not argv or any(p.name.startswith(a) for a in argv)]
    if not paths:
        print("No notebooks found.")
        return 1
    started = time.perf_counter()
    rows = []
    for path in paths:
        _, run = execute(path)
        rows.append((path.name, run.seconds, run.error))
        print(f"{path.name:40s} {run.seconds:6.1f} s" + (f"  FAILED: {run.error}" if run.error else ""),
              flush=True)
    total = time.perf_counter() - started
    print(f"{'total (' + str(len(rows)) + ' notebooks)':40s} {total:6.1f} s   (budget 60 s)")
    for name, seconds, _ in sorted(rows, key=lambda r: -r[1])[:3]:
        print(f"  largest share: {name} {seconds / total:5.1%}")
    return 1 if any(error for _, _, error in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
