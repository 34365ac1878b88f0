"""Timeouts of runs on the caller's own thread: a watchdog thread stops a handler at its deadline.

The outermost run of a handler executes on the thread that triggered it (the notebook's, usually):
handing it to another thread costs more than the rest of a warm run, mostly in cache misses on the
other CPU. Its timeout cannot then be a wait on another thread; instead one daemon thread per local
cloud watches the deadlines and raises the run's stop exception in the late thread, again every
``REFIRE_SECONDS`` if the handler swallows it. A blocking call is not interrupted by that exception,
so the runtime's ``time.sleep`` and its waits for nested runs wake up when the watch fires.
"""

from __future__ import annotations

import ctypes
import heapq
import itertools
import threading
import time

IDLE_WAKE_SECONDS = 1.0  # with nothing due, the watchdog looks again this often (timeouts are ≥ 1 s)
REFIRE_SECONDS = 0.1  # a handler that catches the stop exception gets it again this often


class Watch:
    """One run's watch on one thread; ``fired`` is set once its deadline has passed."""

    def __init__(self, ident: int, stop: type[BaseException]) -> None:
        self.ident = ident
        self.stop = stop
        self.fired = threading.Event()
        self.done = False


class Watchdog:
    """One daemon thread that stops runs past their deadline (started on first use)."""

    def __init__(self) -> None:
        self._condition = threading.Condition(threading.Lock())
        self._heap: list[tuple[float, int, Watch]] = []
        self._order = itertools.count()
        self._by_thread: dict[int, list[Watch]] = {}
        self._wake_at = float("inf")
        self._thread: threading.Thread | None = None
        self._closed = False

    def watch(self, deadline: float, stop: type[BaseException]) -> Watch:
        """Watch the calling thread until ``deadline`` (``time.monotonic()``), then raise ``stop`` in it."""
        watch = Watch(threading.get_ident(), stop)
        with self._condition:
            heapq.heappush(self._heap, (deadline, next(self._order), watch))
            self._by_thread.setdefault(watch.ident, []).append(watch)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="lambda-timeouts",
                                                daemon=True)
                self._thread.start()
            elif deadline < self._wake_at:
                self._condition.notify()
        return watch

    def release(self, watch: Watch) -> bool:
        """End a watch (the run is over): it fires no more. True if it fired.

        A stop that fired may still be pending in the thread: the caller lets it land where it
        catches it (see ``absorb``). It is not withdrawn: CPython 3.11 withdraws a pending
        asynchronous exception but leaves the interpreter checking for one at every instruction
        from then on, which makes all later Python code many times slower.
        """
        with self._condition:
            watch.done = True
            watches = self._by_thread.get(watch.ident, [])
            if watch in watches:
                watches.remove(watch)
            if not watches:
                self._by_thread.pop(watch.ident, None)
        return watch.fired.is_set()

    def current(self, ident: int) -> Watch | None:
        """The innermost live watch of a thread, if any."""
        watches = self._by_thread.get(ident)
        return watches[-1] if watches else None

    def close(self) -> None:
        """Stop the watchdog thread (the local cloud is uninstalled)."""
        with self._condition:
            self._closed = True
            self._condition.notify()

    def _loop(self) -> None:
        with self._condition:
            while not self._closed:
                now = time.monotonic()
                while self._heap and (self._heap[0][2].done or self._heap[0][0] <= now):
                    _, _, watch = heapq.heappop(self._heap)
                    if watch.done:
                        continue
                    watch.fired.set()
                    _raise_in(watch.ident, watch.stop)
                    heapq.heappush(self._heap, (now + REFIRE_SECONDS, next(self._order), watch))
                    break
                self._wake_at = min(self._heap[0][0] if self._heap else float("inf"),
                                    now + IDLE_WAKE_SECONDS)
                self._condition.wait(max(0.0, self._wake_at - now))
                self._wake_at = float("inf")


def absorb(stop: type[BaseException]) -> None:
    """Let a pending ``stop`` of a released watch land here (no-op when none is pending).

    The interpreter raises a pending asynchronous exception at its next check, which every
    backward jump of a loop makes.
    """
    try:
        for _ in range(8):
            pass
    except stop:
        pass


def _raise_in(ident: int, exception: type[BaseException]) -> None:
    """Raise ``exception`` in thread ``ident`` at its next Python line."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), ctypes.py_object(exception))
