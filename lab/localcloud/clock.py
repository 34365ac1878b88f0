"""The local cloud's clock: real time plus an offset a notebook can advance, with due tasks.

It is the one clock: besides what the local cloud stamps itself (events, metrics, alarms, log
timestamps, stream records, mail), :func:`install` points the times moto stamps with the real
clock at it, so that after ``clock.advance(minutes=5)`` everything a learner can see agrees: S3
``LastModified`` (and so the S3 event's ``eventTime``, taken from it), CloudWatch Logs
``ingestionTime`` (never before the event's own timestamp) and the ``Timestamp`` of the SNS
messages moto delivers to SQS and HTTP subscribers.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lab.localcloud import hooks

if TYPE_CHECKING:
    from lab.localcloud import LocalCloud

UTC = dt.timezone.utc

HOOK_POINTS = (
    "moto.s3.models:utcnow",  # LastModified of objects and delete markers, lifecycle dates
    "moto.logs.models:utcnow",  # ingestionTime, creationTime, the window of accepted events
    "moto.sns.models:iso_8601_datetime_with_milliseconds",  # a message's Timestamp
)


class Clock:
    """Real time plus an offset. ``advance()`` moves it forward and runs what became due.

    Scheduled tasks (``call_at``) run in time order once the clock reaches them; tickers
    (``on_tick``) run after every advance, e.g. alarm evaluation and the TTL sweep.
    """

    def __init__(self) -> None:
        self._offset = dt.timedelta(0)
        self._queue: list[tuple[dt.datetime, int, Callable[[], Any]]] = []
        self._sequence = itertools.count()
        self._tickers: list[Callable[[dt.datetime], Any]] = []
        self._lock = threading.RLock()
        self._running = False

    def __repr__(self) -> str:
        return f"<Clock {self.now():%Y-%m-%d %H:%M:%S} UTC (offset {self.offset})>"

    @property
    def offset(self) -> dt.timedelta:
        """How far the clock is ahead of real time."""
        return self._offset

    def now(self) -> dt.datetime:
        """The local cloud's current time (timezone-aware UTC)."""
        return dt.datetime.now(UTC) + self._offset

    def time(self) -> float:
        """The local cloud's current time in epoch seconds, like ``time.time()``.

        Computed from ``now()``, not ``time.time()``: during a Lambda run the runtime points
        ``time.time`` at this clock, and the offset must not be added twice.
        """
        return self.now().timestamp()

    def advance(self, delta: dt.timedelta | None = None, **kwargs: float) -> dt.datetime:
        """Move the clock forward (``advance(minutes=5)``) and run what became due.

        Keyword arguments are those of ``datetime.timedelta``. Scheduled tasks run in order, each
        with the clock at its own time (a task scheduled at +1 min runs when the clock reads +1 min,
        and what it schedules 2 min later runs within an advance of 3 min); the tickers run once,
        at the end. Returns the new time.
        """
        step = (delta or dt.timedelta(0)) + dt.timedelta(**kwargs)
        if step < dt.timedelta(0):
            raise ValueError(f"The clock only moves forward; got {step}.")
        with self._lock:
            target = self._offset + step
        while True:
            with self._lock:
                if not self._queue or self._queue[0][0] > self._real_now() + target:
                    break
                when = self._queue[0][0]
                self._offset = max(self._offset, when - self._real_now())
            self._run_tasks()
        with self._lock:
            self._offset = max(self._offset, target)
        self.run_due()
        return self.now()

    @staticmethod
    def _real_now() -> dt.datetime:
        return dt.datetime.now(UTC)

    def call_at(self, when: dt.datetime, task: Callable[[], Any]) -> None:
        """Run ``task`` once the clock reaches ``when`` (at the next advance or ``run_due``)."""
        with self._lock:
            heapq.heappush(self._queue, (when, next(self._sequence), task))

    def call_later(self, delay: dt.timedelta, task: Callable[[], Any]) -> None:
        """Run ``task`` after ``delay`` of clock time."""
        self.call_at(self.now() + delay, task)

    def on_tick(self, ticker: Callable[[dt.datetime], Any]) -> None:
        """Call ``ticker(now)`` after every advance and every ``run_due``."""
        if ticker not in self._tickers:
            self._tickers.append(ticker)

    def pending(self) -> int:
        """How many scheduled tasks are waiting."""
        return len(self._queue)

    def run_due(self) -> None:
        """Run every scheduled task whose time has come, in order, then the tickers.

        Re-entrant calls (a task that advances or reads the clock) do not run tasks twice.
        """
        if self._run_tasks():
            now = self.now()
            for ticker in list(self._tickers):
                ticker(now)

    def _run_tasks(self) -> bool:
        """Run the due tasks in order; False when already running (a re-entrant call)."""
        with self._lock:
            if self._running:
                return False
            self._running = True
        try:
            while True:
                with self._lock:
                    if not self._queue or self._queue[0][0] > self.now():
                        break
                    _, _, task = heapq.heappop(self._queue)
                task()
        finally:
            with self._lock:
                self._running = False
        return True


def install(cloud: LocalCloud) -> None:
    """Make moto stamp S3 objects, log ingestion and SNS messages with the local clock."""

    def utcnow() -> dt.datetime:  # what moto.core.utils.utcnow returns: naive UTC
        return cloud.clock.now().astimezone(UTC).replace(tzinfo=None)

    def iso_8601_datetime_with_milliseconds(value: dt.datetime | None = None) -> str:
        return (value or utcnow()).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"

    hooks.patch("moto.s3.models:utcnow", utcnow)
    hooks.patch("moto.logs.models:utcnow", utcnow)
    hooks.patch("moto.sns.models:iso_8601_datetime_with_milliseconds",
                iso_8601_datetime_with_milliseconds)
