"""A progress bar for long loops that moves as real time passes and is stored as one final line."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

WIDTH = 30  # characters of the bar itself
REFRESH_SECONDS = 0.5  # a notebook display is redrawn at most this often (plus once at the end)


def render(desc: str, done: int, total: int | None) -> str:
    """``uploading: 3/12 |#######                       |`` — no timings, so the final text is stable."""
    if not total:
        return f"{desc}: {done}"
    filled = round(WIDTH * min(done, total) / total)
    return f"{desc}: {done}/{total} |{'#' * filled}{' ' * (WIDTH - filled)}|"


def _kernel_display() -> Any:
    """IPython's ``display`` inside a Jupyter kernel, else None (plain terminals use tqdm)."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover - IPython comes with jupyterlab
        return None
    shell = get_ipython()
    if shell is None or not getattr(shell, "kernel", None):
        return None
    return display


def progress(items: Iterable[T], *, desc: str, total: int | None = None) -> Iterator[T]:
    """Iterate ``items`` behind a progress bar.

    In a notebook the bar is one display updated in place whenever at least
    ``REFRESH_SECONDS`` of real time passed (so seven real minutes of traffic on AWS visibly
    move), and its stored output is the final line only. Elsewhere it is a tqdm bar.
    """
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    display = _kernel_display()
    if display is None:
        yield from _terminal(items, desc=desc, total=total)
        return
    handle = display({"text/plain": render(desc, 0, total)}, raw=True, display_id=True)
    done, shown, last = 0, 0, time.monotonic()
    try:
        for item in items:
            yield item
            done += 1
            if time.monotonic() - last >= REFRESH_SECONDS:
                handle.update({"text/plain": render(desc, done, total)}, raw=True)
                shown, last = done, time.monotonic()
    finally:
        if shown != done or done == 0:
            handle.update({"text/plain": render(desc, done, total)}, raw=True)


def _terminal(items: Iterable[T], *, desc: str, total: int | None) -> Iterator[T]:
    from tqdm import tqdm

    bar = tqdm(items, desc=desc, total=total, bar_format="{desc}: {n_fmt}/{total_fmt} |{bar}|",
               ncols=60, ascii=" #", file=sys.stdout, mininterval=REFRESH_SECONDS, leave=True,
               dynamic_ncols=False)
    try:
        yield from bar
    finally:
        bar.close()
