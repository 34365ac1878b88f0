"""Lambda's asynchronous queue: retries on the local clock, destinations, dead-letter queues."""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any
from lab.localcloud.runtime.invocation import _publish, _run
from lab.localcloud.runtime.model import (
    DEFAULT_MAX_EVENT_AGE_SECONDS, DEFAULT_RETRY_ATTEMPTS, RECURSION_LIMIT, RETRY_DELAYS,
    THROTTLE_BACKOFF_LIMIT, _AsyncEvent, _iso, _log, _request_id, _state, _unqualified,
)

if TYPE_CHECKING:
    from lab.localcloud import LocalCloud


# -- public entry points ----------------------------------------------------------------------
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
        _hand_over(cloud, event, "EventAgeExceeded")
        return
    if len(state.sandboxes) >= RECURSION_LIMIT:
        _publish(cloud, function, "RecursiveInvocationsDropped", 1, "Count")
        _hand_over(cloud, event, "RecursiveInvocationsDropped")
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
            record = json.dumps(_destination_record(cloud, event, "Success"))
            _later(cloud, lambda: _send(cloud, target, record))
        return
    if event.attempts <= int(config.get("MaximumRetryAttempts", DEFAULT_RETRY_ATTEMPTS)):
        delay = RETRY_DELAYS[min(event.attempts, len(RETRY_DELAYS)) - 1]
        cloud.clock.call_later(delay, lambda: _attempt(cloud, event))
        return
    _hand_over(cloud, event, "RetriesExhausted")


def _later(cloud: LocalCloud, task: Any) -> None:
    """Run ``task`` after Lambda's delivery delay on the clock (``consistency``), else now."""
    consistency = cloud.state.get("consistency")
    if consistency is None:
        task()
        return
    from lab.localcloud.consistency import DESTINATION_DELIVERY

    consistency.later(DESTINATION_DELIVERY, task)


def _hand_over(cloud: LocalCloud, event: _AsyncEvent, condition: str) -> None:
    """Give the event up after the delivery delay: its record reaches the destination later."""
    _later(cloud, lambda: _give_up(cloud, event, condition))


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
