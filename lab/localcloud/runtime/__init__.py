"""Run the deployed Lambda zip in-process, as AWS Lambda would: warm starts, logs, metrics, retries.

moto runs a triggered function only in Docker; this behaviour runs the function's *deployed zip*
in this process instead. Per function, one warm execution environment keeps the loaded handler
module until the code or configuration changes (then a cold start). During a run the handler sees
the function's environment variables, ``time.time()`` follows the local clock, and its
``print``/``logging`` output goes to CloudWatch Logs, framed by START/END/REPORT lines. Every run
publishes ``AWS/Lambda`` metrics. S3 notifications and ``InvocationType=Event`` are asynchronous: a
failed event is retried twice on the local clock (after 1 and 2 minutes), then sent to the on-failure
destination or dead-letter queue, else dropped. DynamoDB stream mappings deliver new records in
batches and keep the records of a failed batch for the next attempt.

Where a handler runs: the outermost run on the thread that triggered it (the caller waits for it
anyway, and a hand-over to another thread costs more than the rest of a warm run); a run started
during another one (a handler invoking a function) on a thread of its environment, kept for its
warm runs, so that it can outlive a caller that times out. A watchdog thread enforces timeouts.

Limits of doing this in one process: environment variables, ``time.time`` and ``sys.stdout`` are
process-wide, so they are swapped only while a run is active (the caller waits meanwhile); a timed-out
handler is stopped at its next Python line: ``time.sleep`` wakes up at the deadline, but another
blocking call (a socket read, a subprocess) ends first; unhandled errors are logged in Lambda's
default Text log format; "Max Memory Used" is an idle runtime plus the run's growth of the
process's peak memory.
"""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

from lab.localcloud import hooks
from lab.localcloud.runtime.asyncq import async_counts, invoke_async
from lab.localcloud.runtime.invocation import _run
from lab.localcloud.runtime.model import (
    LOG_TAIL_BYTES, RuntimeState, SYNC_POLLERS, _remember_dead_letter, _state, _unqualified,
)
from lab.localcloud.runtime.sandbox import _forget_modules
from lab.localcloud.runtime.streams import _deliver_stream, batching

if TYPE_CHECKING:
    from lab.localcloud import LocalCloud

__all__ = ["HOOK_POINTS", "async_counts", "batching", "install", "invoke_async", "invoke_sync",
           "uninstall"]

HOOK_POINTS = (
    "moto.awslambda.models:LambdaFunction.invoke",
    "moto.awslambda.models:LambdaFunction.get_configuration",
    "moto.awslambda.models:LambdaFunction.update_configuration",
    "moto.awslambda.models:LambdaBackend.create_function",
    "moto.awslambda.models:LambdaBackend.send_dynamodb_items",
    "moto.awslambda_simple.models:LambdaSimpleBackend.invoke",
    "moto.dynamodb.responses:DynamoHandler.call_action",
)


# -- install ----------------------------------------------------------------------------------

def install(cloud: LocalCloud) -> None:
    """Route every way moto invokes a function to the in-process runtime."""
    cloud.state["runtime"] = RuntimeState()
    backend_invoke = hooks.original("moto.awslambda.models:LambdaBackend.invoke")
    create = hooks.original("moto.awslambda.models:LambdaBackend.create_function")
    update = hooks.original("moto.awslambda.models:LambdaFunction.update_configuration")
    configuration = hooks.original("moto.awslambda.models:LambdaFunction.get_configuration")
    dynamodb_action = hooks.original("moto.dynamodb.responses:DynamoHandler.call_action")

    def dynamodb_call_action(handler: Any) -> Any:
        with batching(cloud):  # a stream mapping polls once the request has written its records
            return dynamodb_action(handler)

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
        consistency = cloud.state.get("consistency")
        if consistency is not None and consistency.enabled:
            consistency.describe(function, config)  # Pending / InProgress, as AWS says for a while
        return config

    hooks.patch("moto.awslambda.models:LambdaFunction.invoke", function_invoke)
    hooks.patch("moto.awslambda.models:LambdaFunction.get_configuration", get_configuration)
    hooks.patch("moto.awslambda.models:LambdaFunction.update_configuration", update_configuration)
    hooks.patch("moto.awslambda.models:LambdaBackend.create_function", create_function)
    hooks.patch("moto.awslambda.models:LambdaBackend.send_dynamodb_items", send_dynamodb_items)
    hooks.patch("moto.awslambda_simple.models:LambdaSimpleBackend.invoke", simple_backend_invoke)
    hooks.patch("moto.dynamodb.responses:DynamoHandler.call_action", dynamodb_call_action)


def uninstall(cloud: LocalCloud) -> None:
    """Forget the warm environments and delete the unpacked code."""
    state = _state(cloud)
    for environment in state.environments.values():
        _forget_modules(environment)
    state.environments.clear()
    if state.watchdog is not None:
        state.watchdog.close()
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
    tail = "".join(outcome.lines).encode("utf-8")[-LOG_TAIL_BYTES:]  # each line ends in \n
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
