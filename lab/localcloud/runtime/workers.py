"""Threads of one execution environment for nested runs: reused while warm, abandoned at a timeout.

A run started while another is active (a handler that invokes a function) cannot run on its
caller's thread: AWS lets it outlive a caller that times out. It runs on a thread of its
environment instead, kept idle between runs as a real environment stays up between warm
invocations, so that a warm nested run pays no thread start. A run that times out abandons its
thread, which is stopped at its next Python line and never reused; concurrent runs of one
function (a handler that invokes itself) each get a thread, as AWS would start a second
environment.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

MAX_IDLE = 4  # idle threads kept per environment; more concurrent runs than this start new ones


class Worker:
    """One daemon thread that runs the calls it is given, one at a time."""

    def __init__(self, pool: WorkerPool, name: str) -> None:
        self._pool = pool
        self._wake = threading.Lock()
        self._wake.acquire()
        self._call: Callable[[], None] | None = None
        self.busy = False
        self.abandoned = False
        self.thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self.thread.start()

    @property
    def ident(self) -> int:
        return self.thread.ident or 0

    def _give(self, call: Callable[[], None] | None) -> None:
        self._call = call
        self._wake.release()

    def _loop(self) -> None:
        try:
            while True:
                self._wake.acquire()
                call, self._call = self._call, None
                if call is None:
                    return
                call()
                if not self._pool._take_back(self):
                    return
        except BaseException:  # noqa: BLE001 - the late stop of an abandoned run: the thread ends
            return


class WorkerPool:
    """The threads of one environment: ``run(call)`` on an idle one, ``abandon()`` after a timeout."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._lock = threading.Lock()
        self._idle: list[Worker] = []
        self._closed = False

    def run(self, call: Callable[[], None]) -> Worker:
        """Start ``call`` on an idle thread (or a new one) and return that worker at once.

        ``call`` must signal its own completion; the worker is reusable once it has returned.
        """
        with self._lock:
            worker = self._idle.pop() if self._idle else None
            if worker is not None:
                worker.busy = True
        if worker is None:
            worker = Worker(self, self._name)
            worker.busy = True
        worker._give(call)
        return worker

    def abandon(self, worker: Worker) -> bool:
        """Give up a worker whose call outlived its run; False if it has just finished after all."""
        with self._lock:
            if not worker.busy:
                return False
            worker.abandoned = True
            return True

    def close(self) -> None:
        """Let the idle threads end (the environment is retired); busy ones end after their call."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for worker in idle:
            worker._give(None)

    def idle_count(self) -> int:
        with self._lock:
            return len(self._idle)

    def _take_back(self, worker: Worker) -> bool:
        """Called by a worker whose call returned: True if it should wait for the next one."""
        with self._lock:
            worker.busy = False
            if worker.abandoned or self._closed or len(self._idle) >= MAX_IDLE:
                return False
            self._idle.append(worker)
            return True
