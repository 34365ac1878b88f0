"""Run the deployed Lambda zip in-process, as AWS Lambda would: warm starts, logs, metrics, retries.

moto runs a triggered function only in Docker; this behaviour runs the function's *deployed zip*
in a daemon thread of this process instead. Per function, one warm execution environment keeps the
loaded handler module until the code or configuration changes (then a cold start). During a run the
handler sees the function's environment variables, ``time.time()`` follows the local clock, and its
``print``/``logging`` output goes to CloudWatch Logs, framed by START/END/REPORT lines. Every run
publishes ``AWS/Lambda`` metrics. S3 notifications and ``InvocationType=Event`` are asynchronous: a
failed event is retried twice on the local clock (after 1 and 2 minutes), then sent to the on-failure
destination or dead-letter queue, else dropped. DynamoDB stream mappings deliver new records in
batches and keep the records of a failed batch for the next attempt.

Limits of doing this in one process: environment variables, ``time.time`` and ``sys.stdout`` are
process-wide, so they are swapped only while a run is active (the caller waits meanwhile); a timed-out
handler is stopped at its next Python line, not inside a blocking call; unhandled errors are logged
in Lambda's default Text log format; "Max Memory Used" is an idle runtime plus the run's growth of
the process's peak memory.
"""

from __future__ import annotations

import base64
import ctypes
import dataclasses
import datetime as dt
import importlib.util
import io
import json
import logging
import math
import os
import shutil
import sys
import tempfile
import threading
import time
import traceback
import weakref
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lab.localcloud import hooks, metrics

if TYPE_CHECKING:
    from lab.localcloud import LocalCloud

HOOK_POINTS = (
    "moto.awslambda.models:LambdaFunction.invoke",
    "moto.awslambda.models:LambdaFunction.get_configuration",
    "moto.awslambda.models:LambdaFunction.update_configuration",
    "moto.awslambda.models:LambdaBackend.create_function",
    "moto.awslambda.models:LambdaBackend.send_dynamodb_items",
    "moto.awslambda_simple.models:LambdaSimpleBackend.invoke",
)

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

_log = logging.getLogger(__name__)


class _Discarded(BaseException):
    """Raised inside a timed-out handler thread: its environment is gone (not an error for people)."""


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
        if self.open:
            self.events.append((_millis(self.clock.now()), message))

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


# -- install ----------------------------------------------------------------------------------

def install(cloud: LocalCloud) -> None:
    """Route every way moto invokes a function to the in-process runtime."""
    cloud.state["runtime"] = RuntimeState()
    backend_invoke = hooks.original("moto.awslambda.models:LambdaBackend.invoke")
    create = hooks.original("moto.awslambda.models:LambdaBackend.create_function")
    update = hooks.original("moto.awslambda.models:LambdaFunction.update_configuration")
    configuration = hooks.original("moto.awslambda.models:LambdaFunction.get_configuration")

    def function_invoke(function: Any, body: Any, request_headers: Any,
                        response_headers: dict[str, Any]) -> bytes:
        return _invoke(cloud, function, body, request_headers, response_headers)

    def simple_backend_invoke(backend: Any, *args: Any, **kwargs: Any) -> Any:
        return backend_invoke(backend, *args, **kwargs)  # not moto's canned answer: run it

    def send_dynamodb_items(backend: Any, function_arn: str, items: list[Any], source: str) -> None:
        _deliver_stream(cloud, backend, function_arn, items, source)
        return None  # falsy: moto keeps the records in the shard

    def create_function(backend: Any, spec: dict[str, Any]) -> Any:
        function = create(backend, spec)
        _remember_dead_letter(cloud, function, spec.get("DeadLetterConfig"))
        return function

    def update_configuration(function: Any, config_updates: dict[str, Any]) -> dict[str, Any]:
        if "DeadLetterConfig" in config_updates:
            _remember_dead_letter(cloud, function, config_updates["DeadLetterConfig"])
        return update(function, config_updates)

    def get_configuration(function: Any, on_create: bool = False) -> dict[str, Any]:
        config = configuration(function, on_create)
        target = _state(cloud).dead_letter.get(_unqualified(function.function_arn))
        if target:
            config["DeadLetterConfig"] = {"TargetArn": target}
        return config

    hooks.patch("moto.awslambda.models:LambdaFunction.invoke", function_invoke)
    hooks.patch("moto.awslambda.models:LambdaFunction.get_configuration", get_configuration)
    hooks.patch("moto.awslambda.models:LambdaFunction.update_configuration", update_configuration)
    hooks.patch("moto.awslambda.models:LambdaBackend.create_function", create_function)
    hooks.patch("moto.awslambda.models:LambdaBackend.send_dynamodb_items", send_dynamodb_items)
    hooks.patch("moto.awslambda_simple.models:LambdaSimpleBackend.invoke", simple_backend_invoke)


def uninstall(cloud: LocalCloud) -> None:
    """Forget the warm environments and delete the unpacked code."""
    state = _state(cloud)
    for environment in state.environments.values():
        _forget_modules(environment)
    state.environments.clear()
    if state.cleanup is not None:
        state.cleanup()


# -- public entry points ----------------------------------------------------------------------

def invoke_sync(cloud: LocalCloud, function: Any, payload: Any) -> tuple[Any, dict[str, Any] | None]:
    """Run ``function`` once with ``payload``, as RequestResponse; returns ``(result, error)``.

    ``error`` is None on success, else the error object AWS returns (errorMessage, errorType…);
    a throttled call (reserved concurrency 0) returns the TooManyRequestsException as the error.
    """
    outcome = _run(cloud, function, payload)
    return outcome.result, outcome.error


def invoke_async(cloud: LocalCloud, function: Any, payload: Any, *, source: str = "aws:s3") -> None:
    """Queue an asynchronous event (S3, SNS, InvocationType=Event) and make its first attempt now.

    A failed attempt is retried on the local clock (``clock.advance(minutes=3)`` runs both
    retries); after the last failure the event goes to the on-failure destination, else to the
    dead-letter queue, else it is dropped. Never raises: the sender never sees the function's errors.

    Args:
        cloud: the local cloud.
        function: moto's ``LambdaFunction`` to run.
        payload: the event, e.g. ``{"Records": [...]}``.
        source: who sent it, e.g. ``"aws:s3"``.
    """
    event = _AsyncEvent(function=function, payload=payload, source=source,
                        request_id=_request_id(), received=cloud.clock.now())
    _publish(cloud, function, "AsyncEventsReceived", 1, "Count")
    _attempt(cloud, event)


def async_counts(cloud: LocalCloud) -> dict[str, int]:
    """How async events ended: succeeded, on_failure, dead_lettered, dropped."""
    state = _state(cloud)
    return {"succeeded": state.succeeded, "on_failure": state.on_failure,
            "dead_lettered": state.dead_lettered, "dropped": state.dropped}


# -- the Invoke API and moto's own triggers ---------------------------------------------------

def _invoke(cloud: LocalCloud, function: Any, body: Any, request_headers: Any,
            response_headers: dict[str, Any]) -> bytes:
    """``LambdaFunction.invoke``: the Invoke API, or a trigger inside moto (S3, SNS, SQS…)."""
    invocation_type = _header(request_headers, "x-amz-invocation-type")
    try:
        payload = json.loads(body) if body else {}
    except (TypeError, ValueError) as error:
        raise _client_error("InvalidRequestContentException",
                            f"Could not parse request body into json: {error}") from None
    if not request_headers:  # a trigger inside moto: no HTTP request behind it
        source = _event_source(payload)
        if source not in SYNC_POLLERS:  # S3, SNS and Logs invoke asynchronously
            invoke_async(cloud, function, payload, source=source)
            return b""
        outcome = _run(cloud, function, payload)
        if outcome.error is not None:
            response_headers["x-amz-function-error"] = "Unhandled"
        return outcome.payload
    invocation_type = invocation_type or "RequestResponse"
    if invocation_type == "DryRun":
        return b""
    if invocation_type == "Event":
        invoke_async(cloud, function, payload, source="aws:lambda")
        return b""
    outcome = _run(cloud, function, payload)
    if outcome.throttled:
        raise _client_error("TooManyRequestsException", "Rate Exceeded.", 429,
                            Reason="ReservedFunctionConcurrentInvocationLimitExceeded", Type="User")
    response_headers["x-amz-executed-version"] = str(function.version)
    if outcome.error is not None:
        response_headers["x-amz-function-error"] = "Unhandled"
    tail = "\n".join(outcome.lines).encode("utf-8")[-LOG_TAIL_BYTES:]
    response_headers["x-amz-log-result"] = base64.b64encode(tail).decode("ascii")
    return outcome.payload


def _header(headers: Any, name: str) -> str | None:
    for key, value in dict(headers or {}).items():
        if str(key).lower() == name:
            return value
    return None


def _event_source(payload: Any) -> str:
    records = payload.get("Records") if isinstance(payload, dict) else None
    if isinstance(records, list) and records and isinstance(records[0], dict):
        first = records[0]
        return str(first.get("eventSource") or first.get("EventSource") or "aws:lambda")
    return "aws:logs" if isinstance(payload, dict) and "awslogs" in payload else "aws:lambda"


def _client_error(code: str, message: str, status: int = 400, **extra: str) -> Exception:
    from moto.awslambda.exceptions import LambdaClientError

    error = LambdaClientError(code, message)
    error.code = status
    if extra:
        error.description = json.dumps({"__type": code, "message": message, **extra})
    return error


# -- one invocation ---------------------------------------------------------------------------

def _run(cloud: LocalCloud, function: Any, payload: Any, *, request_id: str | None = None) -> Outcome:
    """Invoke ``function`` once and wait for it (at most its timeout); never raises."""
    outcome = Outcome(request_id=request_id or _request_id())
    if _reserved_concurrency(function) == 0:
        outcome.throttled = True
        outcome.error = {"errorType": "TooManyRequestsException", "errorMessage": "Rate Exceeded."}
        _publish(cloud, function, "Throttles", 1, "Count")
        return outcome
    try:
        state = _state(cloud)
        environment = _environment(cloud, state, function)
        _execute(cloud, state, function, environment, payload, outcome)
        _write_logs(function, environment, outcome.events)
    except Exception as error:  # a failure of the local cloud itself: report, never raise into moto
        _log.exception("The local cloud could not run %s", function.function_name)
        outcome.error = {"errorType": "Runtime.Unknown", "errorMessage": str(error)}
        outcome.payload = json.dumps(outcome.error).encode("utf-8")
    _publish(cloud, function, "Invocations", 1, "Count")
    _publish(cloud, function, "Errors", 0 if outcome.error is None else 1, "Count")
    _publish(cloud, function, "Duration", round(outcome.duration_ms, 2), "Milliseconds")
    return outcome


def _execute(cloud: LocalCloud, state: RuntimeState, function: Any, environment: Environment,
             payload: Any, outcome: Outcome) -> None:
    """Run the handler in a daemon thread, enforce the timeout, and fill in ``outcome``."""
    capture = _Capture(cloud, outcome.request_id)
    capture.log(f"START RequestId: {outcome.request_id} Version: {function.version}")
    timeout = float(function.timeout or 3)
    box: dict[str, Any] = {"cold": environment.handler is None}
    ready = threading.Event()

    def work() -> None:
        state.routes[threading.get_ident()] = capture
        _handle(function, environment, payload, outcome.request_id, timeout, box, ready)

    thread = threading.Thread(target=work, name=f"lambda:{function.function_name}", daemon=True)
    with _sandbox(cloud, state, function, environment):
        memory_before = _peak_memory()
        thread.start()
        ready.wait(INIT_TIMEOUT_SECONDS)
        thread.join(timeout)
        timed_out = thread.is_alive()
        if timed_out:
            _stop(thread)
        box["memory"] = max(0, _peak_memory() - memory_before)
        state.routes.pop(thread.ident or 0, None)
    capture.close()
    _conclude(cloud, state, function, outcome, capture, box, timed_out=timed_out)


def _handle(function: Any, environment: Environment, payload: Any, request_id: str,
            timeout: float, box: dict[str, Any], ready: threading.Event) -> None:
    """The handler thread: load the handler on a cold start, call it, leave the result in ``box``."""
    try:
        if environment.handler is None:
            started = time.perf_counter()
            environment.handler = _load(function, environment)
            box["init_ms"] = (time.perf_counter() - started) * 1000
        deadline = time.monotonic() + timeout
        ready.set()
        context = LambdaContext(request_id=request_id, function=function,
                                log_group=environment.log_group,
                                log_stream=environment.log_stream, deadline=deadline)
        box["started"] = time.perf_counter()
        result = environment.handler(payload, context)
        box["ended"] = time.perf_counter()
        try:
            box["payload"] = json.dumps(result).encode("utf-8")
            box["result"] = result
        except (TypeError, ValueError) as error:
            box["error"] = _error_object(f"Unable to marshal response: {error}",
                                         "Runtime.MarshalError", [], request_id)
    except _Discarded:
        return
    except SystemExit as exit:
        box["exit"] = exit.code
    except _Fault as fault:
        box["fault"] = _error_object(fault.message, fault.error_type, fault.trace, "")
    except BaseException:
        box["error"] = _exception_object(request_id, environment.root)
    finally:
        box.setdefault("ended", time.perf_counter())
        ready.set()


def _conclude(cloud: LocalCloud, state: RuntimeState, function: Any, outcome: Outcome,
              capture: _Capture, box: dict[str, Any], *, timed_out: bool) -> None:
    """Turn what the handler thread left in ``box`` into the outcome and the framing log lines."""
    request_id = outcome.request_id
    timeout = float(function.timeout or 3)
    capture.open = True
    timeout_line = None
    if timed_out:
        outcome.duration_ms = timeout * 1000
        timeout_line = (f"{_iso(cloud.clock.now())} {request_id} "
                        f"Task timed out after {timeout:.2f} seconds")
        outcome.error = {"errorMessage": timeout_line}
    else:
        outcome.duration_ms = (box["ended"] - box["started"]) * 1000 if "started" in box else 0.0
        if "exit" in box:
            outcome.error = _exit_error(request_id, box["exit"])
            capture.log(f"{outcome.error['errorMessage']}\nRuntime.ExitError")
        elif "fault" in box or "error" in box:
            outcome.error = box.get("fault") or box["error"]
            capture.log(_error_log_line(outcome.error))
        else:
            outcome.result = box.get("result")
            outcome.payload = box.get("payload", b"null")
    if outcome.error is not None:
        outcome.payload = json.dumps(outcome.error).encode("utf-8")
    if timed_out or "exit" in box or "fault" in box:
        _retire(state, function)  # the environment is gone: the next call is a cold start
    memory_mb = min(int(function.memory_size), RUNTIME_BASE_MB + math.ceil(box["memory"] / 2**20))
    report = (f"REPORT RequestId: {request_id}\tDuration: {outcome.duration_ms:.2f} ms\t"
              f"Billed Duration: {math.ceil(outcome.duration_ms)} ms\t"
              f"Memory Size: {function.memory_size} MB\tMax Memory Used: {memory_mb} MB")
    if box["cold"] and "init_ms" in box:
        report += f"\tInit Duration: {box['init_ms']:.2f} ms"
    capture.log(f"END RequestId: {request_id}")
    capture.log(report)
    if timeout_line:
        capture.log(timeout_line)
    outcome.events = capture.events


def _exit_error(request_id: str, code: Any) -> dict[str, Any]:
    if code is None or code == 0:
        reason = "Runtime exited without providing a reason"
    else:
        reason = f"Runtime exited with error: exit status {code if isinstance(code, int) else 1}"
    return {"errorType": "Runtime.ExitError", "errorMessage": f"RequestId: {request_id} Error: {reason}"}


def _error_object(message: str, error_type: str, trace: list[str], request_id: str) -> dict[str, Any]:
    """The error object of the python runtime (Invoke payload, destination records)."""
    return {"errorMessage": message, "errorType": error_type, "requestId": request_id,
            "stackTrace": trace}


def _exception_object(request_id: str, root: Path) -> dict[str, Any]:
    error_type, value, tb = sys.exc_info()
    frames = [frame for frame in traceback.extract_tb(tb) if frame.filename != __file__]
    trace = [line.replace(str(root), TASK_ROOT) for line in traceback.format_list(frames)]
    name = error_type.__name__ if error_type else "Exception"
    return _error_object(str(value), name, trace, request_id)


def _error_log_line(error: dict[str, Any]) -> str:
    """Log an unhandled error as the python3.12 runtime does with the Text log format.

    ``[ERROR] Type: message`` then the traceback, indented with no-break spaces, as one event.
    """
    head = "[ERROR]"
    if error.get("errorType"):
        head += f" {error['errorType']}" + (":" if error.get("errorMessage") else "")
    if error.get("errorMessage"):
        head += f" {error['errorMessage']}"
    lines = [head, "Traceback (most recent call last):"]
    for element in error.get("stackTrace") or []:
        for line in element.splitlines() or [""]:
            stripped = line.lstrip(" ")
            lines.append(NBSP * (len(line) - len(stripped)) + stripped)
    return "\n".join(lines)


# -- environments -----------------------------------------------------------------------------

def _environment(cloud: LocalCloud, state: RuntimeState, function: Any) -> Environment:
    """The warm environment of ``function``, or a new one (cold start) if the code changed."""
    fingerprint = _fingerprint(function)
    environment = state.environments.get(function.function_arn)
    if environment is not None and environment.fingerprint == fingerprint:
        return environment
    if environment is not None:
        _forget_modules(environment)
    if state.root is None:
        state.root = Path(tempfile.mkdtemp(prefix="eventlab-lambda-"))
        state.cleanup = weakref.finalize(state, shutil.rmtree, str(state.root), True)
    digest = _code_digest(function)
    token = _request_id().replace("-", "")
    name = function.function_name
    environment = Environment(
        fingerprint=fingerprint,
        root=state.root / f"{name}-{digest[:16]}",
        module_name=f"_eventlab_lambda_{token}",
        log_group=f"/aws/lambda/{name}",
        log_stream=f"{cloud.clock.now():%Y/%m/%d}/[{function.version}]{token}",
    )
    state.environments[function.function_arn] = environment
    return environment


def _fingerprint(function: Any) -> tuple[Any, ...]:
    variables = json.dumps(function.environment_vars or {}, sort_keys=True, default=str)
    return (id(function), _code_digest(function), function.handler, variables,
            function.memory_size, function.timeout, function.run_time, str(function.version))


def _code_digest(function: Any) -> str:
    return str(getattr(function, "code_digest", "") or getattr(function, "code_sha_256", "")
               or "no-code").replace("/", "_")


def _retire(state: RuntimeState, function: Any) -> None:
    environment = state.environments.pop(function.function_arn, None)
    if environment is not None:
        _forget_modules(environment)


def _forget_modules(environment: Environment) -> None:
    for name, module in environment.siblings.items():
        if sys.modules.get(name) is module:
            del sys.modules[name]
    environment.siblings.clear()
    environment.handler = None


def _load(function: Any, environment: Environment) -> Callable[..., Any]:
    """Unpack the zip (once per code version) and import the handler module under a unique name."""
    runtime = str(function.run_time or "")
    if not runtime.startswith("python"):
        raise _Fault("Runtime.InvalidRuntime",
                     f"The local cloud runs Python functions only; {runtime or 'this package'} "
                     "cannot run here.")
    _unpack(getattr(function, "code_bytes", b""), environment.root)
    sys.path_importer_cache.pop(str(environment.root), None)  # it may predate the folder
    setting = str(function.handler or "")
    module_name, _, attribute = setting.rpartition(".")
    if not module_name or not attribute:
        raise _Fault("Runtime.MalformedHandlerName",
                     f"Bad handler '{setting}': not enough values to unpack (expected 2, got 1)")
    path = environment.root / f"{module_name.replace('.', '/')}.py"
    if not path.is_file():
        raise _Fault("Runtime.ImportModuleError",
                     f"Unable to import module '{module_name}': No module named '{module_name}'")
    spec = importlib.util.spec_from_file_location(environment.module_name, path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[environment.module_name] = module
    try:
        spec.loader.exec_module(module)  # type: ignore[union-attr]
    except SyntaxError as error:
        sys.modules.pop(environment.module_name, None)
        trace = [f'  File "{TASK_ROOT}/{path.name}" Line {error.lineno}\n    {error.text}']
        raise _Fault("Runtime.UserCodeSyntaxError",
                     f"Syntax error in module '{module_name}': {error}", trace) from None
    except ImportError as error:
        sys.modules.pop(environment.module_name, None)
        raise _Fault("Runtime.ImportModuleError",
                     f"Unable to import module '{module_name}': {error}") from None
    except BaseException:
        sys.modules.pop(environment.module_name, None)
        raise
    handler = getattr(module, attribute, None)
    if not callable(handler):
        raise _Fault("Runtime.HandlerNotFound",
                     f"Handler '{attribute}' missing on module '{module_name}'")
    return handler


def _unpack(code: bytes, root: Path) -> None:
    if root.is_dir():
        return
    staging = Path(tempfile.mkdtemp(prefix=".unpack-", dir=root.parent))
    try:
        with zipfile.ZipFile(io.BytesIO(code or b"")) as archive:
            archive.extractall(staging)
        staging.rename(root)
    except (zipfile.BadZipFile, OSError) as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise _Fault("Runtime.ImportModuleError",
                     f"Unable to unpack the deployment package: {error}") from None


# -- the sandbox of a run ---------------------------------------------------------------------

@contextmanager
def _sandbox(cloud: LocalCloud, state: RuntimeState, function: Any,
             environment: Environment) -> Iterator[None]:
    """Environment variables, sys.path and the zip's modules, for the duration of one run.

    Whatever the handler changes in ``os.environ`` and ``sys.path`` is undone afterwards; the
    paths it adds (a vendored folder) come back on its next warm run, as in a real environment.
    Runs nest (a handler's upload runs another function); when an outer run times out first,
    it restores everything and the inner runs it abandoned restore nothing when they end.
    """
    token = object()
    saved_environ, saved_path = dict(os.environ), list(sys.path)
    root = str(environment.root)
    before = set(sys.modules)
    with state.lock:
        if not state.sandboxes:
            _patch_process(cloud, state)
        state.sandboxes.append(token)
    try:
        os.environ.update(_variables(function, environment))
        sys.path[:0] = [root, *environment.paths]
        sys.modules.update(environment.siblings)
        yield
    finally:
        for name, module in list(environment.siblings.items()):
            if sys.modules.get(name) is module:
                del sys.modules[name]
        for name in set(sys.modules) - before:
            module = sys.modules.get(name)
            if str(getattr(module, "__file__", None) or "").startswith(root + os.sep):
                environment.siblings[name] = sys.modules.pop(name)
        added = [path for path in sys.path if path not in saved_path and path != root]
        environment.paths = list(dict.fromkeys([*environment.paths, *added]))
        with state.lock:
            if token in state.sandboxes:  # else abandoned: an outer run restored everything
                del state.sandboxes[state.sandboxes.index(token):]
                _restore(saved_environ, saved_path)
                if not state.sandboxes:
                    _unpatch_process(state)


def _restore(environ: dict[str, str], path: list[str]) -> None:
    sys.path[:] = path
    for name in set(os.environ) - set(environ):
        del os.environ[name]
    for name, value in environ.items():
        if os.environ.get(name) != value:
            os.environ[name] = value


def _variables(function: Any, environment: Environment) -> dict[str, str]:
    """The function's environment variables plus those Lambda sets itself."""
    variables = {str(k): str(v) for k, v in (function.environment_vars or {}).items()}
    variables.update({
        "AWS_LAMBDA_FUNCTION_NAME": function.function_name,
        "AWS_LAMBDA_FUNCTION_VERSION": str(function.version),
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_size),
        "AWS_LAMBDA_LOG_GROUP_NAME": environment.log_group,
        "AWS_LAMBDA_LOG_STREAM_NAME": environment.log_stream,
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_REGION": function.region,
        "AWS_DEFAULT_REGION": function.region,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{function.run_time or 'python3.12'}",
        "LAMBDA_TASK_ROOT": str(environment.root),
        "_HANDLER": str(function.handler or ""),
    })
    return variables


def _patch_process(cloud: LocalCloud, state: RuntimeState) -> None:
    """For the outermost run: time.time follows the clock; stdout, stderr, logging are routed."""
    clock = cloud.clock

    def local_time() -> float:
        return clock.now().timestamp()

    handler = _RoutedLogHandler(state.routes)
    state.saved = {"time": time.time, "stdout": sys.stdout, "stderr": sys.stderr,
                   "log_handler": handler}
    time.time = local_time
    sys.stdout = _RoutedStream(state.saved["stdout"], state.routes)
    sys.stderr = _RoutedStream(state.saved["stderr"], state.routes)
    logging.getLogger().addHandler(handler)


def _unpatch_process(state: RuntimeState) -> None:
    """When the outermost run ends: put everything back exactly as it was."""
    saved, state.saved = state.saved, {}
    time.time = saved["time"]
    sys.stdout = saved["stdout"]
    sys.stderr = saved["stderr"]
    logging.getLogger().removeHandler(saved["log_handler"])


def _peak_memory() -> int:
    """The process's peak resident memory in bytes (0 where the platform does not say).

    Cheap enough for every run, unlike tracemalloc, which doubles the cost of a handler's work.
    """
    try:
        import resource
    except ImportError:  # Windows
        return 0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def _stop(thread: threading.Thread) -> None:
    """Raise ``_Discarded`` in a timed-out handler thread so it stops at its next Python line."""
    if thread.ident is not None:
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident),
                                                   ctypes.py_object(_Discarded))


# -- logs and metrics -------------------------------------------------------------------------

def _write_logs(function: Any, environment: Environment, events: list[tuple[int, str]]) -> None:
    """Append the run's events to its stream in moto's logs backend (group created if absent)."""
    from moto.logs.models import logs_backends

    backend = logs_backends[function.account_id][function.region]
    backend.ensure_log_group(environment.log_group)
    group = backend.groups[environment.log_group]
    if environment.log_stream not in group.streams:
        group.create_log_stream(environment.log_stream)
    # The group, not the backend: the backend rejects events 2 h ahead of real time, and the
    # local clock may be days ahead.
    group.put_log_events(environment.log_stream,
                         [{"timestamp": stamp, "message": message} for stamp, message in events])


def _publish(cloud: LocalCloud, function: Any, name: str, value: float, unit: str) -> None:
    try:
        metrics.put_datapoint(cloud, namespace=NAMESPACE, name=name, value=value, unit=unit,
                              dimensions={"FunctionName": function.function_name},
                              region=function.region)
    except Exception:
        _log.exception("Could not publish %s/%s", NAMESPACE, name)


# -- asynchronous invocation ------------------------------------------------------------------

def _attempt(cloud: LocalCloud, event: _AsyncEvent) -> None:
    try:
        _attempt_once(cloud, event)
    except Exception:
        _log.exception("The local cloud could not handle an async event")


def _attempt_once(cloud: LocalCloud, event: _AsyncEvent) -> None:
    """One attempt of an async event; schedules the next one or gives the event up."""
    state = _state(cloud)
    function = _live(event.function)
    if function is None:  # deleted meanwhile
        state.dropped += 1
        return
    event.function = function
    config = _invoke_config(function)
    max_age = dt.timedelta(seconds=config.get("MaximumEventAgeInSeconds",
                                              DEFAULT_MAX_EVENT_AGE_SECONDS))
    if cloud.clock.now() - event.received > max_age:
        _give_up(cloud, event, "EventAgeExceeded")
        return
    if len(state.sandboxes) >= RECURSION_LIMIT:
        _publish(cloud, function, "RecursiveInvocationsDropped", 1, "Count")
        _give_up(cloud, event, "RecursiveInvocationsDropped")
        return
    outcome = _run(cloud, function, event.payload, request_id=event.request_id)
    if outcome.throttled:  # Lambda keeps throttled events queued, backing off up to 5 minutes
        event.throttles += 1
        delay = min(THROTTLE_BACKOFF_LIMIT, dt.timedelta(seconds=2 ** event.throttles))
        cloud.clock.call_later(delay, lambda: _attempt(cloud, event))
        return
    event.attempts += 1
    event.last = outcome
    if outcome.error is None:
        state.succeeded += 1
        target = config.get("DestinationConfig", {}).get("OnSuccess", {}).get("Destination")
        if target:
            _send(cloud, target, json.dumps(_destination_record(cloud, event, "Success")))
        return
    if event.attempts <= int(config.get("MaximumRetryAttempts", DEFAULT_RETRY_ATTEMPTS)):
        delay = RETRY_DELAYS[min(event.attempts, len(RETRY_DELAYS)) - 1]
        cloud.clock.call_later(delay, lambda: _attempt(cloud, event))
        return
    _give_up(cloud, event, "RetriesExhausted")


def _give_up(cloud: LocalCloud, event: _AsyncEvent, condition: str) -> None:
    """After the last attempt: on-failure destination, else dead-letter queue, else dropped."""
    state = _state(cloud)
    function = event.function
    _publish(cloud, function, "AsyncEventsDropped", 1, "Count")
    config = _invoke_config(function)
    target = config.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
    if target:
        if _send(cloud, target, json.dumps(_destination_record(cloud, event, condition))):
            state.on_failure += 1
            return
        _publish(cloud, function, "DestinationDeliveryFailures", 1, "Count")
    dead_letter = state.dead_letter.get(_unqualified(function.function_arn))
    if dead_letter:
        error = (event.last.error or {}) if event.last else {}
        attributes = {
            "RequestID": {"DataType": "String", "StringValue": event.request_id},
            "ErrorCode": {"DataType": "Number", "StringValue": "200"},
            "ErrorMessage": {"DataType": "String",
                             "StringValue": str(error.get("errorMessage") or condition)[:1024]},
        }
        if _send(cloud, dead_letter, json.dumps(event.payload), attributes=attributes):
            state.dead_lettered += 1
            return
        _publish(cloud, function, "DeadLetterErrors", 1, "Count")
    state.dropped += 1


def _destination_record(cloud: LocalCloud, event: _AsyncEvent, condition: str) -> dict[str, Any]:
    """The invocation record Lambda sends to a destination (version 1.0)."""
    function = event.function
    version = str(function.version)
    response: dict[str, Any] = {"statusCode": 200, "executedVersion": version}
    record: dict[str, Any] = {
        "version": "1.0",
        "timestamp": _iso(cloud.clock.now()),
        "requestContext": {"requestId": event.request_id,
                           "functionArn": f"{_unqualified(function.function_arn)}:{version}",
                           "condition": condition,
                           "approximateInvokeCount": event.attempts},
        "requestPayload": event.payload,
        "responseContext": response,
    }
    if event.last is None:  # never ran (throttled until too old)
        response["statusCode"] = 429
        return record
    if event.last.error is not None:
        response["functionError"] = "Unhandled"
        record["responsePayload"] = event.last.error
    else:
        record["responsePayload"] = event.last.result
    return record


def _send(cloud: LocalCloud, arn: str, message: str, *,
          attributes: dict[str, Any] | None = None) -> bool:
    """Deliver ``message`` to an SQS queue, SNS topic or Lambda function ARN; False if it failed."""
    parts = arn.split(":")
    if len(parts) < 6:
        return False
    service, region, account, name = parts[2], parts[3], parts[4], parts[5]
    try:
        if service == "sqs":
            from moto.sqs.models import sqs_backends

            sqs_backends[account][region].send_message(queue_name=name, message_body=message,
                                                       message_attributes=attributes or {})
        elif service == "sns":
            from moto.sns.models import sns_backends

            sns_backends[account][region].publish(message, arn=arn)
        elif service == "lambda":
            from moto.awslambda.utils import get_backend

            target = get_backend(account, region).get_function_by_arn(arn)
            if target is None:
                return False
            invoke_async(cloud, target, json.loads(message), source="aws:lambda")
        else:
            return False
    except Exception as error:
        _log.warning("Lambda could not deliver to %s: %s", arn, error)
        return False
    return True


def _invoke_config(function: Any) -> dict[str, Any]:
    """The latest ``put_function_event_invoke_config`` of the function (AWS replaces on put)."""
    configs = getattr(function, "event_invoke_config", None) or []
    return dict(configs[-1].config) if configs else {}


def _live(function: Any) -> Any:
    """The function as it is now in moto (None if it was deleted)."""
    from moto.awslambda.utils import get_backend

    current = get_backend(function.account_id, function.region).get_function_by_arn(
        _unqualified(function.function_arn))
    if current is None:
        return None
    return current if str(function.version) == "$LATEST" else function


# -- DynamoDB stream event source mappings ----------------------------------------------------

def _deliver_stream(cloud: LocalCloud, backend: Any, function_arn: str, items: list[Any],
                    source: str) -> None:
    """``send_dynamodb_items``: a record was added to a shard; deliver what is new."""
    try:
        state = _state(cloud)
        for mapping in backend.list_event_source_mappings(source, None):
            if mapping.function_arn != function_arn:
                continue
            position = state.streams.setdefault(mapping.uuid, StreamPosition(items=items))
            position.items = items
            _poll(cloud, backend, mapping)
    except Exception:
        _log.exception("The local cloud could not deliver stream records to %s", function_arn)


def _poll(cloud: LocalCloud, backend: Any, mapping: Any, *, retry: bool = False) -> None:
    """Deliver the shard's undelivered records in batches.

    A failed batch blocks the shard: it is retried, the same batch, on the local clock (every
    10 s of clock time) until it succeeds or MaximumRetryAttempts is spent; new records wait.
    """
    state = _state(cloud)
    position = state.streams.get(mapping.uuid)
    function = backend.get_function_by_arn(mapping.function_arn)
    if position is None or position.busy or not mapping.enabled or function is None:
        return
    if position.failures and not retry:
        return
    position.busy = True
    try:
        records = [_stream_record(item, backend.region_name, mapping.event_source_arn)
                   for item in list(position.items)]
        if not records:
            return
        if position.sequence is None:  # first delivery: LATEST skips what came before
            latest = mapping.starting_position == "LATEST"
            position.sequence = _sequence(records[-1]) - 1 if latest else -1
        pending = [record for record in records if _sequence(record) > position.sequence]
        size = int(mapping.batch_size or 100)
        while pending:
            end = position.failed_batch_end
            batch = [r for r in pending[:size] if end is None or _sequence(r) <= end]
            pending = pending[len(batch):]
            outcome = _run(cloud, function, {"Records": batch})
            if outcome.error is not None:
                position.failures += 1
                position.failed_batch_end = _sequence(batch[-1])
                limit = mapping.max_retry_attempts
                if limit is None or int(limit) < 0 or position.failures <= int(limit):
                    _schedule_poll(cloud, backend, mapping, STREAM_RETRY_DELAY)
                    return
                state.discarded_batches += 1
            position.sequence = _sequence(batch[-1])
            position.failures = 0
            position.failed_batch_end = None
        if position.items and len(position.items) > len(records):  # written during the poll
            _schedule_poll(cloud, backend, mapping, dt.timedelta(0))
    finally:
        position.busy = False


def _schedule_poll(cloud: LocalCloud, backend: Any, mapping: Any, delay: dt.timedelta) -> None:
    position = _state(cloud).streams[mapping.uuid]
    if position.scheduled:
        return
    position.scheduled = True

    def poll() -> None:
        position.scheduled = False
        try:
            _poll(cloud, backend, mapping, retry=True)
        except Exception:
            _log.exception("The local cloud could not poll a stream")

    cloud.clock.call_later(delay, poll)


def _stream_record(item: Any, region: str, source: str) -> dict[str, Any]:
    """A shard record as Lambda delivers it (ApproximateCreationDateTime in epoch seconds)."""
    from moto.core.utils import unix_time

    record = item.to_json()
    dynamodb = dict(record["dynamodb"])
    if isinstance(dynamodb.get("ApproximateCreationDateTime"), dt.datetime):
        dynamodb["ApproximateCreationDateTime"] = unix_time(dynamodb["ApproximateCreationDateTime"])
    event = {key: record[key] for key in ("eventID", "eventName", "eventVersion", "eventSource")}
    event.update({"awsRegion": region, "dynamodb": dynamodb, "eventSourceARN": source})
    if "userIdentity" in record:
        event["userIdentity"] = record["userIdentity"]
    return event


def _sequence(record: dict[str, Any]) -> int:
    return int(record["dynamodb"]["SequenceNumber"])


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
