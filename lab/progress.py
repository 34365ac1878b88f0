"""A progress bar for long loops that moves as real time passes and is stored as one final line."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

BAR_FORMAT = "{desc}: {n_fmt}/{total_fmt} |{bar}|"
REFRESH_SECONDS = 0.5  # redrawn at most this often, so minutes of real traffic visibly move


def progress(items: Iterable[T], *, desc: str, total: int | None = None) -> Iterator[T]:
    """Iterate ``items`` behind a tqdm bar with no timings or rates in it.

    The bar redraws its line with a carriage return whenever ``REFRESH_SECONDS`` of real time
    passed (seven real minutes of traffic on AWS move it); its final text is the same on every
    run. Stored notebook outputs keep only that final text: ``eventlab regenerate`` collapses
    the redraws (:func:`lab.workbook.collapse_redraws`) and nbval's sanitize file does the same
    to a fresh run's output.
    """
    from tqdm import tqdm

    items = list(items) if total is None and not hasattr(items, "__len__") else items
    bar = tqdm(items, desc=desc, total=total, bar_format=BAR_FORMAT, ncols=60, ascii=" #",
               file=sys.stdout, mininterval=REFRESH_SECONDS, leave=True, dynamic_ncols=False)
    try:
        yield from bar
    finally:
        bar.close()
