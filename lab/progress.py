"""A progress bar for long loops (a burst of uploads) whose final text is the same on every run."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

BAR_FORMAT = "{desc}: {n_fmt}/{total_fmt} |{bar}|"


def progress(items: Iterable[T], *, desc: str, total: int | None = None) -> Iterator[T]:
    """Iterate ``items`` behind a tqdm bar with no timings or rates in it (stable stored outputs)."""
    from tqdm import tqdm

    items = list(items) if total is None and not hasattr(items, "__len__") else items
    bar = tqdm(items, desc=desc, total=total, bar_format=BAR_FORMAT, ncols=60, ascii=" #",
               file=sys.stdout, mininterval=float("inf"), leave=True, dynamic_ncols=False)
    try:
        yield from bar
    finally:
        bar.close()
