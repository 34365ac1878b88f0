"""S3 event notifications as AWS sends them, and the destination checks S3 makes on configuration.

moto builds a partial record (no userIdentity, requestParameters, responseElements, owner,
versionId or sequencer), sends ``s3:TestEvent`` without RequestId/HostId, accepts a Lambda
destination that S3 may not invoke, and runs triggered functions only in Docker. Here:

- every record is complete, stamped by the local clock, with seeded ids (``mock_random``);
  one S3 request gives every destination the same time, request id and sequencer; an
  ObjectCreated event's ``eventTime`` is the object's ``LastModified`` (to the millisecond), and
  its ``x-amz-request-id`` / ``x-amz-id-2`` are those of the response to the request (S3
  answers with these two headers, not moto's ``x-amzn-requestid``);
- Lambda destinations are invoked asynchronously through ``runtime.invoke_async``;
- ``PutBucketNotificationConfiguration`` is rejected (``InvalidArgument``, "Unable to validate
  the following destination configurations") when a destination does not exist or a
  function's resource policy does not let ``s3.amazonaws.com`` invoke it for this bucket;
- a destination that fails at delivery never fails the upload (S3 delivers asynchronously):
  the failure is kept in :func:`undelivered`.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import json
import random
import re
import threading
from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus

from lab.localcloud import hooks

if TYPE_CHECKING:
    from lab.localcloud import LocalCloud

HOOK_POINTS = (
    "moto.s3.notifications:send_event",
    "moto.s3.notifications:_get_s3_event",
    "moto.s3.notifications:_invoke_awslambda",
    "moto.s3.notifications:_send_sqs_message",
    "moto.s3.notifications:_send_sns_message",
    "moto.s3.notifications:send_test_event",
    "moto.s3.models:S3Backend.put_bucket_notification_configuration",
    "moto.core.serialize:S3Serializer._serialize_error_metadata",
    "moto.s3.responses:S3Response.bucket_response",
    "moto.s3.responses:S3Response.key_response",
    "moto.core.responses:gen_amzn_requestid_long",
)

SOURCE_IP = "127.0.0.1"
SNS_SUBJECT = "Amazon S3 Notification"
VALIDATION_MESSAGE = "Unable to validate the following destination configurations"
S3_PRINCIPAL = "s3.amazonaws.com"
# eventVersion per event family (AWS: 2.2 replication; 2.3 lifecycle, tiering, ACL, tagging,
# restore-delete; 2.1 everything else).
EVENT_VERSIONS = MappingProxyType({
    "Replication": "2.2", "LifecycleTransition": "2.3", "IntelligentTiering": "2.3",
    "ObjectAcl": "2.3", "ObjectTagging": "2.3", "LifecycleExpiration": "2.3",
    "ObjectRestore:Delete": "2.3"})


# --- formats -------------------------------------------------------------------------------

def event_time(moment: dt.datetime) -> str:
    """Format a time as S3 event records do: ``2019-09-03T19:37:27.192Z`` (UTC, milliseconds)."""
    moment = moment.astimezone(dt.timezone.utc)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


def encode_key(key: str) -> str:
    """URL-encode an object key as S3 puts it in a record: ``my file+1.txt`` → ``my+file%2B1.txt``.

    Form encoding of the UTF-8 bytes: spaces become ``+``; ``/`` stays; ``+``, ``%`` and
    non-ASCII characters are percent-encoded. Handlers decode it with ``unquote_plus``.
    """
    return quote_plus(key, safe="/")


def _identity(prefix: str, account_id: str, length: int) -> str:
    digest = hashlib.sha256(f"{prefix}:{account_id}".encode()).digest()
    return base64.b32encode(digest).decode()[:length]


def requester_id(account_id: str) -> str:
    """The principal that caused the event: an IAM user id of the account (``AWS:AIDA…``)."""
    return "AWS:AIDA" + _identity("requester", account_id, 17)


def owner_id(account_id: str) -> str:
    """The bucket owner's Amazon customer id (like ``A3NL1KOZZKEXAMPLE``), stable per account."""
    return "A" + _identity("owner", account_id, 13)


def _request_ids() -> tuple[str, str]:
    """A request id (16 upper-case hex) and a host id (``x-amz-id-2``) from moto's seeded random."""
    from moto.moto_api._internal import mock_random

    request_id = f"{mock_random.getrandbits(64):016X}"
    host_id = base64.b64encode(mock_random.getrandbits(448).to_bytes(56, "big")).decode()
    return request_id, host_id


def _next_sequencer(cloud: LocalCloud, bucket_key: tuple[str, str]) -> str:
    """The next sequencer of a bucket: 18 upper-case hex digits, strictly increasing."""
    from moto.moto_api._internal import mock_random

    sequencers = cloud.state["events"]["sequencers"]
    last = sequencers.get(bucket_key)
    if last is None:
        value = mock_random.randint(1 << 60, 1 << 64)  # 18 hex digits, like 0055AED6DCD90281E5
    else:
        value = last + mock_random.randint(1, 0xFFFF)
    sequencers[bucket_key] = value
    return f"{value:018X}"


def build_record(*, event_name: str, occurrence: dict[str, str], region: str, bucket_name: str,
                 bucket_arn: str, owner: str, configuration_id: str, key: str,
                 size: int | None = None, etag: str | None = None,
                 version_id: str | None = None) -> dict[str, Any]:
    """One S3 event record, field by field as AWS documents it ("Event message structure").

    Args:
        event_name: without the ``s3:`` prefix, e.g. ``"ObjectCreated:Put"``.
        occurrence: what one request shares across destinations: ``time``, ``principal``,
            ``request_id``, ``host_id``, ``sequencer``.
        key: the object key as stored (it is URL-encoded here).
        size, etag: included for ObjectCreated/ObjectRestore (etag also for ACL/tagging events).
        version_id: included only when the bucket is versioned.
    """
    family = event_name.split(":")[0]
    obj: dict[str, Any] = {"key": encode_key(key)}
    if family in ("ObjectCreated", "ObjectRestore"):
        obj["size"] = size
    if family in ("ObjectCreated", "ObjectRestore", "ObjectAcl", "ObjectTagging"):
        obj["eTag"] = etag
    if version_id:
        obj["versionId"] = version_id
    if family in ("ObjectCreated", "ObjectRemoved"):
        obj["sequencer"] = occurrence["sequencer"]
    version = EVENT_VERSIONS.get(event_name, EVENT_VERSIONS.get(family, "2.1"))
    return {
        "eventVersion": version,
        "eventSource": "aws:s3",
        "awsRegion": region,
        "eventTime": occurrence["time"],
        "eventName": event_name,
        "userIdentity": {"principalId": occurrence["principal"]},
        "requestParameters": {"sourceIPAddress": SOURCE_IP},
        "responseElements": {"x-amz-request-id": occurrence["request_id"],
                             "x-amz-id-2": occurrence["host_id"]},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": configuration_id,
            "bucket": {"name": bucket_name, "ownerIdentity": {"principalId": owner},
                       "arn": bucket_arn},
            "object": obj,
        },
    }


def s3_test_event(*, bucket_name: str, moment: dt.datetime, request_id: str,
                  host_id: str) -> dict[str, str]:
    """The ``s3:TestEvent`` message S3 sends to SQS and SNS destinations on configuration."""
    return {"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": event_time(moment),
            "Bucket": bucket_name, "RequestId": request_id, "HostId": host_id}


# --- who may invoke: the function's resource policy -----------------------------------------

def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _glob(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """IAM wildcard match: ``*`` any run of characters, ``?`` one character."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.fullmatch(regex, value, flags) is not None


def _condition_holds(operator: str, values: Any, actual: str | None) -> bool:
    """Evaluate one condition operator against one context value (None when the key is absent)."""
    if operator == "Null":
        return all((str(v).lower() == "true") == (actual is None) for v in _as_list(values))
    if_exists = operator.endswith("IfExists")
    base = operator.removesuffix("IfExists")
    negated = "Not" in base
    if actual is None:
        return if_exists or negated
    positive = base.replace("Not", "")
    if positive in ("StringEquals", "ArnEquals"):
        matched = any(actual == str(v) for v in _as_list(values))
    elif positive == "StringEqualsIgnoreCase":
        matched = any(actual.lower() == str(v).lower() for v in _as_list(values))
    elif positive in ("StringLike", "ArnLike"):
        matched = any(_glob(str(v), actual) for v in _as_list(values))
    else:
        return False  # an operator the check does not model never grants access
    return matched != negated


def _statement_applies(statement: dict[str, Any], *, function_arn: str,
                       context: dict[str, str]) -> bool:
    """True when a policy statement covers S3 invoking ``function_arn`` in ``context``."""
    principal = statement.get("Principal")
    if principal != "*":
        if not isinstance(principal, dict):
            return False
        services = _as_list(principal.get("Service", []))
        if S3_PRINCIPAL not in services and "*" not in _as_list(principal.get("AWS", [])):
            return False
    if not any(_glob(a, "lambda:InvokeFunction", ignore_case=True)
               for a in _as_list(statement.get("Action", []))):
        return False
    resources = _as_list(statement.get("Resource", []))
    if not any(_glob(r, function_arn) or _glob(r, f"{function_arn}:$LATEST") for r in resources):
        return False
    for operator, entries in (statement.get("Condition") or {}).items():
        for name, values in entries.items():
            if not _condition_holds(operator, values, context.get(name.lower())):
                return False
    return True


def s3_may_invoke(policy: dict[str, Any] | None, *, function_arn: str, bucket_arn: str,
                  bucket_account: str) -> bool:
    """Whether a function's resource policy lets S3 invoke it for this bucket.

    Allowed when an Allow statement covers ``s3.amazonaws.com`` → ``lambda:InvokeFunction`` on
    the function and its conditions hold (``aws:SourceArn`` = the bucket ARN,
    ``aws:SourceAccount`` = the bucket owner), and no Deny statement does.
    """
    context = {"aws:sourcearn": bucket_arn, "aws:sourceaccount": bucket_account,
               "aws:sourceowner": bucket_account}
    statements = (policy or {}).get("Statement", [])
    applying = [s for s in _as_list(statements)
                if _statement_applies(s, function_arn=function_arn, context=context)]
    return (any(s.get("Effect") == "Allow" for s in applying)
            and not any(s.get("Effect") == "Deny" for s in applying))


def _arn_parts(arn: str) -> tuple[str, str, str]:
    """``(region, account, resource)`` of an ARN; empty strings where it has none."""
    parts = arn.split(":", 5)
    parts += [""] * (6 - len(parts))
    return parts[3], parts[4], parts[5]


def _lambda_problem(arn: str, *, bucket_arn: str, bucket_account: str) -> tuple[str, str] | None:
    """``(ArgumentName, ArgumentValue)`` when S3 could not use this function, else None."""
    from moto.awslambda.exceptions import LambdaClientError
    from moto.awslambda.utils import get_backend

    region, account, _ = _arn_parts(arn)
    try:
        function = get_backend(account, region).get_function(arn)
    except (LambdaClientError, KeyError, ValueError):
        return arn, "The destination Lambda does not exist"
    from lab.localcloud.consistency import visible_statements

    # A statement just added may not be visible to S3 yet (AWS's eventual consistency).
    policy = {"Statement": visible_statements(function, list(function.policy.statements))}
    if s3_may_invoke(policy, function_arn=arn, bucket_arn=bucket_arn,
                     bucket_account=bucket_account):
        return None
    return f"{arn}, null", f"Not authorized to invoke function [{arn}]"


def _queue_problem(arn: str) -> tuple[str, str] | None:
    from moto.sqs.models import sqs_backends

    region, account, name = _arn_parts(arn)
    if region and account and name in sqs_backends[account][region].queues:
        return None
    return arn, "The destination queue does not exist"


def _topic_problem(arn: str) -> tuple[str, str] | None:
    from moto.sns.models import sns_backends

    region, account, _ = _arn_parts(arn)
    if region and account and arn in sns_backends[account][region].topics:
        return None
    return arn, "The destination topic does not exist"


def destination_problems(configuration: dict[str, Any], *, bucket_arn: str,
                         bucket_account: str) -> list[tuple[str, str]]:
    """Every destination S3 would refuse in a (moto-parsed) notification configuration."""
    problems: list[tuple[str, str] | None] = []
    for entry in configuration.get("TopicConfiguration") or []:
        problems.append(_topic_problem(entry["Topic"]))
    for entry in configuration.get("QueueConfiguration") or []:
        problems.append(_queue_problem(entry["Queue"]))
    for entry in configuration.get("CloudFunctionConfiguration") or []:
        problems.append(_lambda_problem(entry["CloudFunction"], bucket_arn=bucket_arn,
                                        bucket_account=bucket_account))
    return [p for p in problems if p is not None]


# --- the replacements of moto's hook points ---------------------------------------------------

def undelivered(cloud: LocalCloud) -> list[dict[str, str]]:
    """Notifications S3 could not deliver (destination gone, delivery error), oldest first."""
    return list(cloud.state["events"]["undelivered"])


def _record_undelivered(cloud: LocalCloud, destination: str, error: BaseException) -> None:
    cloud.state["events"]["undelivered"].append(
        {"destination": destination, "error": f"{type(error).__name__}: {error}",
         "time": event_time(cloud.clock.now())})


def _occurrence(cloud: LocalCloud, bucket: Any,
                moment: dt.datetime | None = None) -> dict[str, str]:
    """What the current S3 request shares across its destinations (made on first use)."""
    stack = cloud.state["events"]["occurrences"]
    if stack and stack[-1] is not None:
        return stack[-1]
    request_id, host_id = _response_ids(cloud)
    occurrence = {"time": event_time(moment or cloud.clock.now()),
                  "principal": requester_id(bucket.account_id),
                  "request_id": request_id, "host_id": host_id,
                  "sequencer": _next_sequencer(cloud, (bucket.account_id, bucket.name))}
    if stack:
        stack[-1] = occurrence
    return occurrence


def _response_ids(cloud: LocalCloud) -> tuple[str, str]:
    """The request id and host id of the S3 request this thread is answering (made on first use).

    AWS's S3 event record names the request that caused it ("Event message structure":
    ``responseElements.x-amz-request-id``), the same id as the response's ``x-amz-request-id``
    header (botocore's ``ResponseMetadata.RequestId``).
    """
    stack = _request_stack(cloud)
    if not stack:
        return _request_ids()
    if stack[-1] is None:
        stack[-1] = _request_ids()
    return stack[-1]


def _response_only_ids(cloud: LocalCloud) -> tuple[str, str]:
    """Ids of a response no event names, from the local cloud's own seeded generator.

    Not from moto's ``mock_random``: drawing from it on every S3 response would shift every
    seeded id that follows (function request ids, object ids), which the lessons print.
    """
    generator = cloud.state["events"]["response_ids"]
    with cloud.state["events"]["lock"]:
        request_id = f"{generator.getrandbits(64):016X}"
        host_id = base64.b64encode(generator.getrandbits(448).to_bytes(56, "big")).decode()
    return request_id, host_id


def _amzn_request_id(cloud: LocalCloud, headerdict: dict[str, Any] | None = None) -> str:
    """moto's ``x-amzn-requestid`` of every response, from the local cloud's own generator.

    moto draws it from ``mock_random`` on every response, so one request more or less (a retry
    after a throttle, one poll more of a propagating permission) would shift every seeded id that
    follows; this way a retry changes nothing a lesson prints.
    """
    import string

    generator = cloud.state["events"]["response_ids"]
    with cloud.state["events"]["lock"]:
        request_id = "".join(generator.choice(string.ascii_letters + string.digits)
                             for _ in range(52))
    if isinstance(headerdict, dict):
        headerdict["x-amzn-requestid"] = request_id
    return request_id


def _request_stack(cloud: LocalCloud) -> list[tuple[str, str] | None]:
    local = cloud.state["events"]["requests"]
    if not hasattr(local, "stack"):
        local.stack = []
    return local.stack


def _s3_response(cloud: LocalCloud, original: Any, response: Any, request: Any, full_url: str,
                 headers: Any) -> Any:
    """Answer one S3 request with AWS's ``x-amz-request-id`` and ``x-amz-id-2`` headers.

    S3 sends these two (16 upper-case hex; a base64 host id) and no ``x-amzn-requestid``; the ids
    are the ones any event record of the request carries.
    """
    stack = _request_stack(cloud)
    stack.append(None)  # a handler run during delivery may make S3 requests: hence a stack
    try:
        status, out_headers, body = original(response, request, full_url, headers)
    finally:
        ids = stack.pop()
    if isinstance(out_headers, dict):
        request_id, host_id = ids or _response_only_ids(cloud)
        out_headers.pop("x-amzn-requestid", None)
        out_headers["x-amz-request-id"] = request_id
        out_headers["x-amz-id-2"] = host_id
    return status, out_headers, body


def _answering(cloud: LocalCloud, original: Any) -> Any:
    def response(self: Any, request: Any, full_url: str, headers: Any) -> Any:
        return _s3_response(cloud, original, self, request, full_url, headers)
    return response


def _send_event(cloud: LocalCloud, account_id: str, event_name: Any, bucket: Any, key: Any) -> None:
    """moto's ``send_event``, with one shared occurrence per request and no duplicate Put."""
    name = str(getattr(event_name, "value", event_name))
    if name == "s3:ObjectCreated:Put" and getattr(key, "multipart", None) is not None:
        return  # moto stores a completed upload via put_object: AWS sends only the Complete event
    stack = cloud.state["events"]["occurrences"]
    stack.append(None)  # a handler run during delivery may upload again: hence a stack
    try:
        hooks.original("moto.s3.notifications:send_event")(account_id, event_name, bucket, key)
    finally:
        stack.pop()


def _get_s3_event(cloud: LocalCloud, event_name: Any, bucket: Any, key: Any,
                  notification_id: str) -> dict[str, Any]:
    """The complete ``{"Records": [...]}`` body for one destination of the current request."""
    name = str(getattr(event_name, "value", event_name)).removeprefix("s3:")
    moment = None
    stored = getattr(key, "last_modified", None)
    if name.startswith("ObjectCreated") and isinstance(stored, dt.datetime):
        # moto keeps LastModified as naive UTC
        moment = stored if stored.tzinfo else stored.replace(tzinfo=dt.timezone.utc)
    return {"Records": [build_record(
        event_name=name, occurrence=_occurrence(cloud, bucket, moment), region=bucket.region_name,
        bucket_name=bucket.name, bucket_arn=bucket.arn, owner=owner_id(bucket.account_id),
        configuration_id=notification_id, key=key.name, size=getattr(key, "size", None),
        etag=str(getattr(key, "etag", "")).replace('"', ""),
        version_id=str(key.version_id) if bucket.is_versioned else None,
    )]}


def _invoke_awslambda(cloud: LocalCloud, account_id: str, event_body: Any, fn_arn: str,
                      region_name: str) -> None:
    """Invoke the function asynchronously (``runtime.invoke_async``), as S3 does."""
    from moto.awslambda.utils import get_backend

    invoke_async = getattr(cloud.modules.get("runtime"), "invoke_async", None)
    if invoke_async is None:
        original = hooks.original("moto.s3.notifications:_invoke_awslambda")
        return original(account_id, event_body, fn_arn, region_name)
    region, account, _ = _arn_parts(fn_arn)
    try:
        function = get_backend(account, region).get_function(fn_arn)
        invoke_async(cloud, function, event_body, source="aws:s3")
    except Exception as error:  # noqa: BLE001 - S3 delivers asynchronously; never fail the upload
        _record_undelivered(cloud, fn_arn, error)


def _send_sqs_message(cloud: LocalCloud, account_id: str, event_body: Any, queue_name: str,
                      region_name: str) -> None:
    """Send the body to the queue; a failure is kept, never raised."""
    from moto.sqs.models import sqs_backends

    try:
        sqs_backends[account_id][region_name].send_message(
            queue_name=queue_name, message_body=json.dumps(event_body))
    except Exception as error:  # noqa: BLE001 - asynchronous delivery
        _record_undelivered(cloud, f"arn:aws:sqs:{region_name}:{account_id}:{queue_name}", error)


def _send_sns_message(cloud: LocalCloud, account_id: str, event_body: Any, topic_arn: str,
                      region_name: str) -> None:
    """Publish the body with S3's subject; a failure is kept, never raised."""
    from moto.sns.models import sns_backends

    try:
        sns_backends[account_id][region_name].publish(
            arn=topic_arn, message=json.dumps(event_body), subject=SNS_SUBJECT)
    except Exception as error:  # noqa: BLE001 - asynchronous delivery
        _record_undelivered(cloud, topic_arn, error)


def _send_test_event(cloud: LocalCloud, account_id: str, bucket: Any) -> None:
    """Send one ``s3:TestEvent`` per SQS and SNS destination (none to Lambda, as AWS)."""
    from moto.s3 import notifications

    configuration = bucket.notification_configuration
    request_id, host_id = _request_ids()
    message = s3_test_event(bucket_name=bucket.name, moment=cloud.clock.now(),
                            request_id=request_id, host_id=host_id)
    for arn in dict.fromkeys(n.arn for n in configuration.queue):
        region, account, name = _arn_parts(arn)
        notifications._send_sqs_message(account, message, name, region)
    for arn in dict.fromkeys(n.arn for n in configuration.topic):
        region, account, _ = _arn_parts(arn)
        notifications._send_sns_message(account, message, arn, region)


def _put_bucket_notification_configuration(backend: Any, bucket_name: str,
                                           notification_config: dict[str, Any]) -> None:
    """Refuse the whole configuration when S3 could not use one of its destinations."""
    from moto.s3.exceptions import InvalidArgumentError

    bucket = backend.get_bucket(bucket_name)
    problems = destination_problems(notification_config or {}, bucket_arn=bucket.arn,
                                    bucket_account=bucket.account_id)
    if problems:
        error = InvalidArgumentError(VALIDATION_MESSAGE, *problems[0])
        error.destination_problems = problems
        raise error
    original = hooks.original("moto.s3.models:S3Backend.put_bucket_notification_configuration")
    original(backend, bucket_name, notification_config)


def _serialize_error_metadata(serializer: Any, serialized: Any, error: Exception,
                              shape: Any) -> None:
    """List every refused destination as AWS does: ArgumentName1, ArgumentValue1, …"""
    original = hooks.original("moto.core.serialize:S3Serializer._serialize_error_metadata")
    original(serializer, serialized, error, shape)
    problems = getattr(error, "destination_problems", None)
    if not problems:
        return
    trailer = {k: serialized.pop(k) for k in ("RequestId", "HostId") if k in serialized}
    serialized.pop("ArgumentName", None)
    serialized.pop("ArgumentValue", None)
    for number, (name, value) in enumerate(problems, start=1):
        serialized[f"ArgumentName{number}"] = name
        serialized[f"ArgumentValue{number}"] = value
    serialized.update(trailer)


def install(cloud: LocalCloud) -> None:
    """Patch moto's S3 notifications: complete records, async Lambda, destination checks."""
    cloud.state["events"] = {"sequencers": {}, "occurrences": [], "undelivered": [],
                             "requests": threading.local(), "lock": threading.Lock(),
                             "response_ids": random.Random(0)}
    with_cloud = {  # module functions of moto: the cloud is bound in
        "moto.s3.notifications:send_event": _send_event,
        "moto.s3.notifications:_get_s3_event": _get_s3_event,
        "moto.s3.notifications:_invoke_awslambda": _invoke_awslambda,
        "moto.s3.notifications:_send_sqs_message": _send_sqs_message,
        "moto.s3.notifications:_send_sns_message": _send_sns_message,
        "moto.s3.notifications:send_test_event": _send_test_event,
        "moto.core.responses:gen_amzn_requestid_long": _amzn_request_id,
    }
    methods = {  # methods of moto's classes: plain functions, bound by Python
        "moto.s3.models:S3Backend.put_bucket_notification_configuration":
            _put_bucket_notification_configuration,
        "moto.core.serialize:S3Serializer._serialize_error_metadata": _serialize_error_metadata,
    }
    for point in ("moto.s3.responses:S3Response.bucket_response",
                  "moto.s3.responses:S3Response.key_response"):
        methods[point] = _answering(cloud, hooks.original(point))
    for point in HOOK_POINTS:
        if point in with_cloud:
            hooks.patch(point, functools.partial(with_cloud[point], cloud))
        else:
            hooks.patch(point, methods[point])
