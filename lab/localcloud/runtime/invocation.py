"""One invocation: the handler in a thread with its timeout, its framed logs and its metrics."""

from __future__ import annotations

import hashlib
import json
import math
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lab.localcloud import hooks, metrics
from lab.partitions import partition_of
from lab.localcloud.runtime.model import (
    Environment, INIT_TIMEOUT_SECONDS, LambdaContext, NAMESPACE, NBSP, Outcome,
    RUNTIME_BASE_MB, RuntimeState, RUNTIME_VERSION, TASK_ROOT, _Capture, _Discarded, _Fault, _log,
    _request_id, _reserved_concurrency, _state,
)
from lab.localcloud.runtime.sandbox import (
    _environment, _load, _peak_memory, _retire, _sandbox, _stop,
)
from lab.localcloud.runtime.watchdog import Watchdog, absorb

WAIT_SLICE_SECONDS = 0.05  # how soon a run waiting for a nested one notices its own timeout

if TYPE_CHECKING:
    from lab.localcloud import LocalCloud


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
        _deliver_logs(cloud, function, environment, outcome.events)
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
    """Run the handler, enforce the timeout, and fill in ``outcome``.

    The outermost run executes on the caller's thread (the caller waits for it anyway), with the
    watchdog enforcing its timeout; a run started while another is active (a handler that invokes
    a function) gets one of its environment's threads, so that it can outlive its caller as AWS
    lets it. A cold start first gets the init phase (at most INIT_TIMEOUT_SECONDS); the function's
    timeout counts from the handler call.
    """
    capture = _Capture(cloud, outcome.request_id)
    box: dict[str, Any] = {"cold": environment.handler is None}
    if box["cold"]:
        capture.log(init_start_line(function))
    capture.log(f"START RequestId: {outcome.request_id} Version: {function.version}")
    timeout = float(function.timeout or 3)
    on_callers_thread = not state.sandboxes
    with _sandbox(cloud, state, function, environment):
        memory_before = _peak_memory()
        if on_callers_thread:
            timed_out = _run_here(state, function, environment, payload, outcome.request_id,
                                  capture, timeout, box)
        else:
            timed_out = _run_on_worker(state, function, environment, payload,
                                       outcome.request_id, capture, timeout, box)
        box["memory"] = max(0, _peak_memory() - memory_before)
    capture.close()
    _conclude(cloud, state, function, outcome, capture, box, timed_out=timed_out)


class _Phases:
    """``ready`` of a run on the caller's thread: the init phase's watch, then the handler's."""

    def __init__(self, watchdog: Watchdog, *, timeout: float, cold: bool) -> None:
        self._watchdog = watchdog
        self._timeout = timeout
        self._started = not cold
        self._fired = False
        limit = INIT_TIMEOUT_SECONDS if cold else timeout
        self._watch = watchdog.watch(time.monotonic() + limit, _Discarded)

    def set(self) -> None:
        """The handler is about to be called: its timeout starts now."""
        if self._started:
            return
        self._started = True
        self.end()
        self._watch = self._watchdog.watch(time.monotonic() + self._timeout, _Discarded)

    def end(self) -> bool:
        """Release the watch and let a pending stop land here; True if a watch fired.

        May raise ``_Discarded`` (a stop landing before the release): call it until it returns.
        """
        if self._watchdog.release(self._watch):
            self._fired = True
            absorb(_Discarded)
        return self._fired


def _run_here(state: RuntimeState, function: Any, environment: Environment, payload: Any,
              request_id: str, capture: _Capture, timeout: float, box: dict[str, Any]) -> bool:
    """Run the handler on this thread; True if the watchdog stopped it at its deadline.

    The watchdog's stop exception may land anywhere until the watch is released, also after the
    handler returned: every step up to the release catches it, and the release is retried.
    """
    ident = threading.get_ident()
    previous = state.routes.get(ident)
    state.routes[ident] = capture
    timed_out = False
    try:
        phases = _Phases(_watchdog(state), timeout=timeout, cold=box["cold"])
        try:
            _handle(function, environment, payload, request_id, timeout, box, phases)
        except _Discarded:
            pass
        finally:
            while True:
                try:
                    timed_out = phases.end()
                    break
                except _Discarded:
                    pass
    finally:
        if previous is None:
            state.routes.pop(ident, None)
        else:
            state.routes[ident] = previous
    return timed_out


def _run_on_worker(state: RuntimeState, function: Any, environment: Environment, payload: Any,
                   request_id: str, capture: _Capture, timeout: float, box: dict[str, Any]) -> bool:
    """Run the handler on one of the environment's threads; True if it was abandoned at its timeout."""
    ready = threading.Event()
    finished = threading.Lock()
    finished.acquire()

    def work() -> None:
        ident = threading.get_ident()
        state.routes[ident] = capture
        try:
            _handle(function, environment, payload, request_id, timeout, box, ready)
        finally:
            if state.routes.get(ident) is capture:
                del state.routes[ident]
            finished.release()

    pool = environment.workers
    worker = pool.run(work)
    # The caller may itself be a run on its own thread: wait in slices so that its watchdog can
    # stop it meanwhile (a pending stop exception lands between two slices).
    watch = _watchdog(state).current(threading.get_ident())
    if box["cold"]:
        _wait(ready.wait, INIT_TIMEOUT_SECONDS, sliced=watch is not None)
    if _wait(lambda seconds: finished.acquire(timeout=seconds), timeout, sliced=watch is not None):
        return False
    if not pool.abandon(worker):
        return False  # it finished just now
    _stop(worker.thread)
    if state.routes.get(worker.ident) is capture:
        del state.routes[worker.ident]
    return True


def _wait(wait: Callable[[float], bool], seconds: float, *, sliced: bool) -> bool:
    """``wait(seconds)``, or in slices of WAIT_SLICE_SECONDS; True if it succeeded in time."""
    if not sliced:
        return wait(seconds)
    deadline = time.monotonic() + seconds
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return wait(0)
        if wait(min(remaining, WAIT_SLICE_SECONDS)):
            return True


def _watchdog(state: RuntimeState) -> Watchdog:
    if state.watchdog is None:
        state.watchdog = Watchdog()
    return state.watchdog


def _handle(function: Any, environment: Environment, payload: Any, request_id: str,
            timeout: float, box: dict[str, Any], ready: Any) -> None:
    """Load the handler on a cold start, call it, leave the result in ``box``.

    ``ready.set()`` is called when the handler is about to run (its timeout starts). A
    KeyboardInterrupt (the notebook's stop button, on a run on the caller's thread) propagates.
    """
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
    except (_Discarded, KeyboardInterrupt):
        raise
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
    if timed_out:
        # Since the 2025 runtime interface, a timeout writes no "Task timed out" line: REPORT ends
        # with "Status: timeout" and the caller gets a Sandbox.Timedout error.
        outcome.duration_ms = timeout * 1000
        outcome.error = {"errorType": "Sandbox.Timedout",
                         "errorMessage": f"RequestId: {request_id} Error: Task timed out after "
                                         f"{timeout:.2f} seconds"}
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
    init_ms = box.get("init_ms") if box["cold"] else None
    # Since 2025-08-01 the INIT phase of ZIP functions on managed runtimes is billed: a cold
    # start's Billed Duration is ceil(Duration + Init Duration).
    billed = math.ceil(outcome.duration_ms + (init_ms or 0.0))
    report = (f"REPORT RequestId: {request_id}\tDuration: {outcome.duration_ms:.2f} ms\t"
              f"Billed Duration: {billed} ms\t"
              f"Memory Size: {function.memory_size} MB\tMax Memory Used: {memory_mb} MB")
    if init_ms is not None:
        report += f"\tInit Duration: {init_ms:.2f} ms"
    if timed_out:
        report += "\tStatus: timeout"
    capture.log(f"END RequestId: {request_id}")
    capture.log(report)
    outcome.events = capture.events


def init_start_line(function: Any) -> str:
    """The cold start's first line (python runtimes since 2023): the runtime version and its ARN.

    AWS: ``INIT_START Runtime Version: python:3.12.v64\tRuntime Version ARN:
    arn:aws:lambda:us-east-1::runtime:<64 hex>``; the ARN's hash is the runtime build's id, here
    derived from the version so that it is stable.
    """
    runtime = str(getattr(function, "run_time", None) or "python3.12")
    language = runtime.rstrip("0123456789.")
    version = f"{language}:{runtime[len(language):]}.v{RUNTIME_VERSION}"
    digest = hashlib.sha256(version.encode()).hexdigest()
    region = function.region
    return (f"INIT_START Runtime Version: {version}\tRuntime Version ARN: "
            f"arn:{partition_of(region)}:lambda:{region}::runtime:{digest}")


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


# -- logs and metrics -------------------------------------------------------------------------

def _deliver_logs(cloud: LocalCloud, function: Any, environment: Environment,
                  events: list[tuple[int, str]]) -> None:
    """Write the run's events now, or a few seconds of clock time later (``consistency``)."""
    consistency = cloud.state.get("consistency")
    if consistency is None:
        _write_logs(function, environment, events)
        return

    def deliver() -> None:
        try:
            _write_logs(function, environment, events)
        except Exception:  # a failure of the local cloud itself: report, never raise into moto
            _log.exception("Could not deliver the logs of %s", function.function_name)

    from lab.localcloud.consistency import LOG_DELIVERY

    consistency.later(LOG_DELIVERY, deliver)


def _write_logs(function: Any, environment: Environment, events: list[tuple[int, str]]) -> None:
    """Append the run's events to its stream in moto's logs backend (group created if absent)."""
    from moto.logs.models import logs_backends

    backend = hooks.backend(logs_backends, function.account_id, function.region)
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
