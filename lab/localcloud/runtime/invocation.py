"""One invocation: the handler in a thread with its timeout, its framed logs and its metrics."""

from __future__ import annotations

import json
import math
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lab.localcloud import metrics
from lab.localcloud.runtime.model import (
    Environment, INIT_TIMEOUT_SECONDS, LambdaContext, NAMESPACE, NBSP, Outcome,
    RUNTIME_BASE_MB, RuntimeState, TASK_ROOT, _Capture, _Discarded, _Fault, _iso, _log,
    _request_id, _reserved_concurrency, _state,
)
from lab.localcloud.runtime.sandbox import (
    _environment, _load, _peak_memory, _retire, _sandbox, _stop,
)

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
