"""The runtime's model: constants, environments, outcomes, the context object, log routing."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lab.localcloud.runtime.workers import WorkerPool

if TYPE_CHECKING:
    from lab.localcloud import LocalCloud
    from lab.localcloud.runtime.watchdog import Watchdog


NAMESPACE = "AWS/Lambda"
RETRY_DELAYS = (dt.timedelta(minutes=1), dt.timedelta(minutes=2))  # AWS: 1 min, then 2 min
DEFAULT_RETRY_ATTEMPTS = 2
DEFAULT_MAX_EVENT_AGE_SECONDS = 6 * 3600
THROTTLE_BACKOFF_LIMIT = dt.timedelta(minutes=5)
STREAM_RETRY_DELAY = dt.timedelta(seconds=10)
INIT_TIMEOUT_SECONDS = 10.0  # Lambda's limit for the init phase
RECURSION_LIMIT = 16  # Lambda stops a recursive loop after about 16 invocations
RUNTIME_BASE_MB = 31  # an idle python3.12 runtime; the peak memory the run adds comes on top
LOG_TAIL_BYTES = 4096  # Invoke with LogType=Tail returns the last 4 KB of the log
SYNC_POLLERS = ("aws:sqs", "aws:kinesis")  # event sources whose pollers invoke synchronously
TASK_ROOT = "/var/task"  # where Lambda unpacks the zip; stack traces show this path
NBSP = "\u00a0"  # the python runtime indents stack traces in the log with no-break spaces
# The managed runtime's version, named by the INIT_START line of a cold start (AWS: "Lambda
# runtime versions"; a 2025–2026 python3.12 function logs e.g. "python:3.12.v64").
RUNTIME_VERSION = 64

_log = logging.getLogger(__name__)


class _Discarded(BaseException):
    """Raised in a handler past its timeout, to stop it (not an error for people)."""


class _Fault(Exception):
    """A fault of the runtime itself while loading the handler (the python runtime's FaultException)."""

    def __init__(self, error_type: str, message: str, trace: list[str] | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace or []


@dataclasses.dataclass
class Environment:
    """One warm execution environment: the unpacked code, the loaded handler, its log stream."""

    fingerprint: tuple[Any, ...]
    root: Path
    module_name: str
    log_group: str
    log_stream: str
    handler: Callable[..., Any] | None = None
    siblings: dict[str, Any] = dataclasses.field(default_factory=dict)
    paths: list[str] = dataclasses.field(default_factory=list)
    workers: WorkerPool = dataclasses.field(default_factory=lambda: WorkerPool("lambda"))


@dataclasses.dataclass
class Outcome:
    """What one invocation produced: the result or the error object, and its log events."""

    request_id: str
    result: Any = None
    error: dict[str, Any] | None = None
    payload: bytes = b""
    duration_ms: float = 0.0
    events: list[tuple[int, str]] = dataclasses.field(default_factory=list)
    throttled: bool = False

    @property
    def lines(self) -> list[str]:
        """The log lines of this invocation, START to REPORT."""
        return [message for _, message in self.events]


@dataclasses.dataclass
class StreamPosition:
    """How far one DynamoDB stream mapping has delivered its shard."""

    items: list[Any]
    sequence: int | None = None
    failed_batch_end: int | None = None
    busy: bool = False
    scheduled: bool = False
    failures: int = 0


@dataclasses.dataclass
class RuntimeState:
    """``cloud.state["runtime"]``: warm environments, async counters and the patches of a run.

    ``dropped`` counts async events that failed every attempt and had nowhere to go;
    ``on_failure`` / ``dead_lettered`` count those sent to the destination / dead-letter queue;
    ``discarded_batches`` counts stream batches skipped after MaximumRetryAttempts.
    """

    environments: dict[str, Environment] = dataclasses.field(default_factory=dict)
    dead_letter: dict[str, str] = dataclasses.field(default_factory=dict)
    streams: dict[str, StreamPosition] = dataclasses.field(default_factory=dict)
    holding: threading.local = dataclasses.field(default_factory=threading.local)  # streams.batching
    dropped: int = 0
    on_failure: int = 0
    dead_lettered: int = 0
    succeeded: int = 0
    discarded_batches: int = 0
    root: Path | None = None
    cleanup: Any = None
    sandboxes: list[object] = dataclasses.field(default_factory=list)
    routes: dict[int, Any] = dataclasses.field(default_factory=dict)
    saved: dict[str, Any] = dataclasses.field(default_factory=dict)
    lock: Any = dataclasses.field(default_factory=threading.RLock)
    watchdog: Watchdog | None = None  # enforces the timeouts of runs on the caller's thread


@dataclasses.dataclass
class _AsyncEvent:
    """An event in Lambda's asynchronous queue."""

    function: Any
    payload: Any
    source: str
    request_id: str
    received: dt.datetime
    attempts: int = 0
    throttles: int = 0
    last: Outcome | None = None


class LambdaContext:
    """The context object a handler receives, with the attributes of the python runtime's."""

    def __init__(self, *, request_id: str, function: Any, log_group: str, log_stream: str,
                 deadline: float) -> None:
        self.aws_request_id = request_id
        self.function_name = function.function_name
        self.function_version = str(function.version)
        self.invoked_function_arn = function.function_arn
        self.memory_limit_in_mb = str(function.memory_size)  # a string, as in the real runtime
        self.log_group_name = log_group
        self.log_stream_name = log_stream
        self.identity = None
        self.client_context = None
        self._deadline = deadline

    def __repr__(self) -> str:
        return f"<LambdaContext {self.function_name} request {self.aws_request_id}>"

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function times out."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))

    def log(self, message: str) -> None:
        """Write ``message`` to the function's log."""
        sys.stdout.write(message)


class _Capture:
    """The log events of one run: what its thread prints, stamped with the local clock."""

    def __init__(self, cloud: LocalCloud, request_id: str) -> None:
        self.clock = cloud.clock
        self.request_id = request_id
        self.events: list[tuple[int, str]] = []
        self.partial = ""
        self.open = True

    def log(self, message: str) -> None:
        """Append one log event; like AWS's runtime, every raw message ends with a newline."""
        if self.open:
            self.events.append((_millis(self.clock.now()),
                                message if message.endswith("\n") else message + "\n"))

    def write(self, text: str) -> None:
        *complete, self.partial = (self.partial + text).split("\n")
        for line in complete:
            self.log(line)

    def close(self) -> None:
        if self.partial:
            self.log(self.partial)
        self.partial = ""
        self.open = False


class _RoutedStream:
    """``sys.stdout``/``sys.stderr`` while functions run: a handler thread writes to its run's log."""

    def __init__(self, fallback: Any, routes: dict[int, _Capture]) -> None:
        self._fallback = fallback
        self._routes = routes

    def write(self, text: str) -> int:
        capture = self._routes.get(threading.get_ident())
        if capture is None:
            return self._fallback.write(text)
        capture.write(text)
        return len(text)

    def flush(self) -> None:
        if threading.get_ident() not in self._routes:
            self._fallback.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fallback, name)


class _RoutedLogHandler(logging.Handler):
    """A root-logger handler that formats a handler thread's records as the python runtime does."""

    def __init__(self, routes: dict[int, _Capture]) -> None:
        super().__init__()
        self._routes = routes
        formatter = logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
            "%Y-%m-%dT%H:%M:%S")
        formatter.converter = time.gmtime
        self.setFormatter(formatter)

    def emit(self, record: logging.LogRecord) -> None:
        capture = self._routes.get(record.thread or 0)
        if capture is not None:
            record.aws_request_id = capture.request_id
            capture.log(self.format(record))




# -- small helpers ----------------------------------------------------------------------------

def _state(cloud: LocalCloud) -> RuntimeState:
    return cloud.state["runtime"]


def _remember_dead_letter(cloud: LocalCloud, function: Any, config: dict[str, Any] | None) -> None:
    target = (config or {}).get("TargetArn") or ""
    key = _unqualified(function.function_arn)
    if target:
        _state(cloud).dead_letter[key] = target
    else:
        _state(cloud).dead_letter.pop(key, None)


def _unqualified(arn: str) -> str:
    return ":".join(arn.split(":")[:7])


def _reserved_concurrency(function: Any) -> int | None:
    value = getattr(function, "reserved_concurrency", None)
    return None if value is None else int(value)


def _request_id() -> str:
    from moto.moto_api._internal import mock_random

    return str(mock_random.uuid4())


def _millis(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


def _iso(moment: dt.datetime) -> str:
    """``2019-11-14T18:16:05.568Z``: UTC with milliseconds, as Lambda stamps its records."""
    moment = moment.astimezone(dt.timezone.utc)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"
