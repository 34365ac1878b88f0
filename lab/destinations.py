"""The function's on-failure destination (lesson 11): a queue, the role's right to send to it, the setting.

Lambda hands an asynchronous event that failed every attempt to the function's *on-failure
destination*, as an invocation record. The lab's destination is the SQS queue
``<function>-failures``; the execution role gets an inline policy allowing ``sqs:SendMessage`` on
exactly that queue; ``PutFunctionEventInvokeConfig`` names the queue's ARN.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_plus

from lab import iam, sqs
from lab.aws import error_code, error_message, friendly, get_or_none, retrying
from lab.connection import Lab
from lab.text import say

RETRY_ATTEMPTS = 2  # Lambda's default: the first attempt and two retries


def queue_name(lab: Lab) -> str:
    """The failure queue's name: ``S3ToDynamoProcessor-failures``."""
    return f"{lab.names.function}-failures"


def policy_name(lab: Lab) -> str:
    """The name of the role's inline policy that lets Lambda send to the failure queue."""
    return f"{queue_name(lab)}-send"


def failure_queue_arn(lab: Lab) -> str | None:
    """The failure queue's ARN, or None when the queue does not exist."""
    return sqs.get_queue_arn(lab, queue_name(lab))


def send_policy(queue_arn: str) -> dict[str, Any]:
    """The inline policy: ``sqs:SendMessage`` on that one queue, and nothing else."""
    return {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "SendFailedEvents", "Effect": "Allow",
                       "Action": "sqs:SendMessage", "Resource": queue_arn}],
    }


def ensure_failure_queue(lab: Lab, *, quiet: bool = False) -> str:
    """Get or create the failure queue; print one ✓ line; return its ARN."""
    return sqs.ensure_queue(lab, queue_name(lab), quiet=quiet)


def ensure_send_permission(lab: Lab, *, quiet: bool = False) -> str:
    """Put the role's inline policy allowing SendMessage to the failure queue; return its name.

    Needs the queue (:func:`ensure_failure_queue`). PutRolePolicy replaces a policy of the same
    name, so this is safe to repeat. Prints one ✓ line.
    """
    queue_arn = failure_queue_arn(lab)
    if queue_arn is None:
        queue_arn = ensure_failure_queue(lab, quiet=True)
    role = iam.require_role(lab)["RoleName"]
    name = policy_name(lab)
    existed = name in iam.inline_policies(lab)
    with friendly(f"put the inline policy {name} on IAM role {role}"):
        lab.client("iam").put_role_policy(RoleName=role, PolicyName=name,
                                          PolicyDocument=json.dumps(send_policy(queue_arn)))
    if not quiet:
        say(f"✓ Role {role} may send to {queue_name(lab)} (inline policy {name}"
              f"{' put again' if existed else ''})")
    return name


def get_async_config(lab: Lab) -> dict[str, Any] | None:
    """The function's asynchronous invocation settings, or None when it has none of its own."""
    name = lab.names.function
    return get_or_none(
        lambda: lab.client("lambda").get_function_event_invoke_config(FunctionName=name),
        absent="ResourceNotFoundException",
        action=f"read the asynchronous invocation settings of {name}")


def on_failure_target(config: dict[str, Any] | None) -> str | None:
    """The on-failure destination named in asynchronous settings (None when there is none)."""
    destination = ((config or {}).get("DestinationConfig") or {}).get("OnFailure") or {}
    return destination.get("Destination") or None


def _policy_not_spread(error: BaseException) -> bool:
    return (error_code(error) == "InvalidParameterValueException"
            and "permission" in error_message(error))


def _retry_policy_propagation(call: Any, *, timeout: float = 120.0) -> Any:
    """Retry while Lambda says the role may not send to the queue yet (IAM spreads a new policy
    within seconds, sometimes a minute or two), through the lab's one wait helper."""
    return retrying(call, retry_if=_policy_not_spread, timeout=timeout, interval=3.0,
                    what="IAM to spread the role's permission to send to the queue")


def ensure_on_failure(lab: Lab, *, quiet: bool = False) -> str:
    """Two retries, then the failure queue: the function's asynchronous settings; returns the ARN.

    Builds the queue and the role's permission first when they are missing. Prints one ✓ line.
    """
    from lab import awslambda

    queue_arn = failure_queue_arn(lab)
    if queue_arn is None:
        queue_arn = ensure_failure_queue(lab, quiet=True)
    if policy_name(lab) not in iam.inline_policies(lab):
        ensure_send_permission(lab, quiet=True)
    function = awslambda.require_function(lab)["FunctionName"]
    config = get_async_config(lab)
    current = (on_failure_target(config), (config or {}).get("MaximumRetryAttempts"))
    done = current == (queue_arn, RETRY_ATTEMPTS)
    if not done:
        with friendly(f"set the asynchronous invocation settings of {function}"):
            _retry_policy_propagation(
                lambda: lab.client("lambda").put_function_event_invoke_config(
                    FunctionName=function, MaximumRetryAttempts=RETRY_ATTEMPTS,
                    DestinationConfig={"OnFailure": {"Destination": queue_arn}}))
    if not quiet:
        say(f"✓ {function} {'already sends' if done else 'now sends'} events that fail "
              f"{RETRY_ATTEMPTS + 1} attempts to {queue_name(lab)}")
    return queue_arn


def event_keys(event: Any) -> list[str]:
    """The decoded object keys of an S3 event, as the handler decodes them."""
    records = event.get("Records", []) if isinstance(event, dict) else []
    return [unquote_plus(record["s3"]["object"]["key"]) for record in records
            if isinstance(record, dict) and "s3" in record]


def _parsed(message: dict[str, Any]) -> dict[str, Any] | None:
    try:
        record = json.loads(message.get("Body", ""))
    except ValueError:
        return None
    return record if isinstance(record, dict) and "requestContext" in record else None


def failure_record(lab: Lab, *, key: str | None = None,
                   timeout: float | None = None) -> dict[str, Any] | None:
    """The newest invocation record in the failure queue (for ``key``), parsed; None with one ✗ line.

    The message stays in the queue (it is received with a visibility timeout of 0), so every cell
    can read the record again. Waits at most ``timeout`` s (see :func:`lab.sqs.wait_for_message`).
    """
    def wanted(message: dict[str, Any]) -> bool:
        record = _parsed(message)
        return record is not None and (key is None or key in event_keys(record.get("requestPayload")))

    where = "" if key is None else f" for {key!r}"
    advice = (f"Lambda sends a record{where} only after the third failed attempt: "
              + ("let time pass (verify.pass_time) and run this cell again." if lab.is_local else
                 "wait a minute and run this cell again."))
    from lab.endpoint import require_functions_run

    require_functions_run(lab, f"a failure record in {queue_name(lab)}")
    message = sqs.wait_for_message(lab, queue_name(lab), timeout=timeout, match=wanted, advice=advice)
    return _parsed(message) if message else None


def remove(lab: Lab, *, quiet: bool = False) -> None:
    """Undo lesson 11: the asynchronous settings, the inline policy, the queue.

    Each step is skipped when already done, so this is safe to repeat. Prints one ✓ line per deletion.
    """
    from lab import awslambda

    removed = []
    function = lab.names.function
    if awslambda.get_function(lab) is not None and get_async_config(lab) is not None:
        with friendly(f"delete the asynchronous invocation settings of {function}"):
            lab.client("lambda").delete_function_event_invoke_config(FunctionName=function)
        removed.append(f"the asynchronous invocation settings of {function}")
    if iam.get_role(lab) is not None and policy_name(lab) in iam.inline_policies(lab):
        with friendly(f"delete the inline policy {policy_name(lab)}"):
            lab.client("iam").delete_role_policy(RoleName=lab.names.role,
                                                 PolicyName=policy_name(lab))
        removed.append(f"the inline policy {policy_name(lab)}")
    if sqs.delete_queue(lab, queue_name(lab)):
        removed.append(f"the queue {queue_name(lab)}")
    if not quiet:
        for what in removed:
            say(f"✓ Deleted {what}")
        if not removed:
            say("✓ Nothing to delete: the destination of lesson 11 is gone already")
