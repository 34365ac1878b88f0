"""AWS's transient errors injected at the botocore layer on the moto backend (EVENTLAB_FAULTS=ci).

The CI fault profile: with ``EVENTLAB_FAULTS=ci``, ``lab.mock.start`` installs it, and the mock's
``before-send`` handler (``lab.mock``'s guard of moto's stubber, one of botocore's built-in
handlers) asks :func:`before_send` before moto answers, so every boto3 client of the process (the
lab's, a notebook's, the deployed handler's) can get the errors AWS sends when it is busy:

- throttling, on every service, spelled as each service spells it (:data:`THROTTLING`);
  botocore's own retries answer it (the lab's clients: standard mode, 10 attempts);
- ResourceConflictException on Lambda updates, the role-propagation error on CreateFunction,
  the destination-validation error on PutBucketNotificationConfiguration and OperationAborted on
  CreateBucket: the errors of AWS's eventual consistency, which the lab's own code must retry;
- eventual listings: a listing right after a delete still shows the deleted item once.

Deterministic: an operation's first call fails once, and a fixed fraction of its later calls
(chosen by a hash of the seed, the operation and the call's number, so threads do not change the
choice) fail once too; the retry that follows an injected error always passes. The errors of
eventual consistency and the eventual listings are injected only into calls made by ``lab/``
itself: a notebook's own boto3 call is the learner's, and no code of the lab can retry it (on
AWS such a call shows one ✗ sentence). botocore's backoff after an injected throttle is not slept.
:func:`counts` says how many errors of each kind were injected. Never active on the aws or
endpoint backends: the handlers answer only while the moto mock runs.
"""

from __future__ import annotations

import copy
import hashlib
import os
import sys
import threading
import types
import uuid
from dataclasses import dataclass
from typing import Any

SETTING = "EVENTLAB_FAULTS"


@dataclass(frozen=True)
class Profile:
    """How often to inject: the seed of the choice and the fraction of later calls that fail."""

    name: str
    seed: int
    rate: float


PROFILES = {"ci": Profile("ci", seed=2026, rate=0.05)}

THROTTLING_KIND = "throttling"
CONFLICT_KIND = "update in progress"
ROLE_KIND = "role not yet assumable"
DESTINATION_KIND = "destination not yet validated"
ABORTED_KIND = "bucket operation aborted"
LISTING_KIND = "deleted item still listed"
KINDS = (THROTTLING_KIND, CONFLICT_KIND, ROLE_KIND, DESTINATION_KIND, ABORTED_KIND, LISTING_KIND)

# Throttling as each service spells it: (code, HTTP status, message), per botocore service id.
# Sources: Amazon DynamoDB Developer Guide, "Error handling" (ProvisionedThroughputExceededException
# for item operations, ThrottlingException for control-plane ones, both 400); AWS Lambda API
# Reference, "TooManyRequestsException" (429, Reason CallerRateLimitExceeded); Amazon S3 API
# Reference, "Error responses" (SlowDown, 503); the IAM, SNS, STS and CloudWatch API References,
# "Common errors" (Throttling / ThrottlingException, 400, "Rate exceeded"); Amazon SQS API Reference
# (RequestThrottled, 400); CloudWatch Logs API Reference, "ThrottlingException" (400).
_RATE = "Rate exceeded"
THROTTLING: dict[str, tuple[str, int, str]] = {
    "dynamodb": ("ThrottlingException", 400, _RATE),
    "dynamodb-streams": ("ThrottlingException", 400, _RATE),
    "lambda": ("TooManyRequestsException", 429, _RATE),
    "s3": ("SlowDown", 503, "Please reduce your request rate."),
    "iam": ("Throttling", 400, _RATE),
    "sns": ("Throttling", 400, _RATE),
    "sts": ("Throttling", 400, _RATE),
    "cloudwatch": ("Throttling", 400, _RATE),
    "sqs": ("RequestThrottled", 400, _RATE),
    "cloudwatch-logs": ("ThrottlingException", 400, _RATE),
}
DYNAMODB_ITEM_OPERATIONS = frozenset({
    "PutItem", "GetItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchWriteItem",
    "BatchGetItem", "TransactWriteItems", "TransactGetItems"})
PROVISIONED = ("ProvisionedThroughputExceededException", 400,
               "The level of configured provisioned throughput for the table was exceeded. "
               "Consider increasing your provisioning level with the UpdateTable API.")

# The errors of eventual consistency, (service id, operation) → (kind, code, status, message).
# Sources: AWS Lambda Developer Guide, "Lambda function states" (an update in progress:
# ResourceConflictException, 409); Lambda's answer while IAM propagates a new role (IAM User Guide,
# "Changes that I make are not always immediately visible"); Amazon S3 User Guide, "Configuring
# event notifications" and re:Post "Unable to validate the following destination configurations"
# (InvalidArgument, 400); Amazon S3 API Reference, "Error responses" (OperationAborted, 409).
_CONFLICT = ("ResourceConflictException", 409,
             "The operation cannot be performed at this time. An update is in progress for "
             "resource: {function}")
CONSISTENCY: dict[tuple[str, str], tuple[str, str, int, str]] = {
    ("lambda", "UpdateFunctionCode"): (CONFLICT_KIND, *_CONFLICT),
    ("lambda", "UpdateFunctionConfiguration"): (CONFLICT_KIND, *_CONFLICT),
    ("lambda", "CreateFunction"): (ROLE_KIND, "InvalidParameterValueException", 400,
                                   "The role defined for the function cannot be assumed by Lambda."),
    ("s3", "PutBucketNotificationConfiguration"): (
        DESTINATION_KIND, "InvalidArgument", 400,
        "Unable to validate the following destination configurations"),
    ("s3", "CreateBucket"): (
        ABORTED_KIND, "OperationAborted", 409,
        "A conflicting conditional operation is currently in progress against this resource. "
        "Please try again."),
}

# Eventual listings: a delete → the listing that may still show the item, where its entries are
# and the field naming an entry (None: the entries are the names). Amazon S3 User Guide, "Amazon
# S3 data consistency model" (a deleted bucket may still be listed); IAM User Guide, "Changes that
# I make are not always immediately visible"; Amazon SQS Developer Guide, DeleteQueue ("can take
# up to 60 seconds"); DynamoDB DeleteTable (the table is DELETING, still listed).
LISTINGS: dict[tuple[str, str], tuple[str, str, str | None, str]] = {
    ("s3", "DeleteBucket"): ("ListBuckets", "Buckets", "Name", "Bucket"),
    ("lambda", "DeleteFunction"): ("ListFunctions", "Functions", "FunctionName", "FunctionName"),
    ("lambda", "DeleteEventSourceMapping"): ("ListEventSourceMappings", "EventSourceMappings",
                                             "UUID", "UUID"),
    ("iam", "DeleteRole"): ("ListRoles", "Roles", "RoleName", "RoleName"),
    ("iam", "DetachRolePolicy"): ("ListAttachedRolePolicies", "AttachedPolicies", "PolicyArn",
                                  "PolicyArn"),
    ("iam", "DeleteRolePolicy"): ("ListRolePolicies", "PolicyNames", None, "PolicyName"),
    ("dynamodb", "DeleteTable"): ("ListTables", "TableNames", None, "TableName"),
    ("sns", "DeleteTopic"): ("ListTopics", "Topics", "TopicArn", "TopicArn"),
    ("sqs", "DeleteQueue"): ("ListQueues", "QueueUrls", None, "QueueUrl"),
    ("cloudwatch-logs", "DeleteLogGroup"): ("DescribeLogGroups", "logGroups", "logGroupName",
                                            "logGroupName"),
}
_PAGING = frozenset({"NextToken", "nextToken", "Marker", "ContinuationToken", "StartingToken",
                     "ExclusiveStartTableName", "MaxItems", "MaxResults", "MaxRecords", "limit",
                     "Limit", "MaxBuckets"})


class Injector:
    """The fault profile of this process: what to inject, what was injected (per kind)."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.injected: dict[str, int] = dict.fromkeys(KINDS, 0)
        self._calls: dict[tuple[str, str, str], int] = {}
        self._lock = threading.Lock()
        self._local = threading.local()
        self._seen: dict[tuple[str, str, Any], Any] = {}  # (listing, scope, id) → last entry seen
        self._deleted: dict[str, set[Any]] = {}  # listing → ids deleted since its last call

    # -- the choice ------------------------------------------------------------------------------
    def chosen(self, kind: str, service: str, operation: str) -> bool:
        """Whether this call of ``operation`` gets an error of ``kind``: its first call, then a
        seeded fraction; never two calls in a row (the retry after an injected error passes)."""
        key = (kind, service, operation)
        with self._lock:
            number = self._calls.get(key, 0)
            self._calls[key] = number + 1
        last = getattr(self._local, "last", None)
        if last == key:
            self._local.last = None
            return False
        if number == 0:
            choose = True
        else:
            digest = hashlib.sha256(f"{self.profile.seed}:{kind}:{service}:{operation}:{number}"
                                    .encode()).digest()
            choose = int.from_bytes(digest[:8], "big") / 2**64 < self.profile.rate
        self._local.last = key if choose else None
        return choose

    def count(self, kind: str) -> None:
        with self._lock:
            self.injected[kind] += 1

    # -- before-send: the error responses ----------------------------------------------------------
    def before_send(self, request: Any, event_name: str = "", **_: Any) -> Any:
        if not _mock_active():
            return None
        self._local.skip_sleep = False
        service, operation = _service_and_operation(event_name)
        if not operation:
            return None
        consistency = CONSISTENCY.get((service, operation))
        if consistency and _called_by_lab() and self.chosen(consistency[0], service, operation):
            kind, code, status, message = consistency
            self.count(kind)
            message = message.format(function=_function_arn(request))
            return _response(request, service, code, status, message)
        throttle = THROTTLING.get(service)
        if throttle and self.chosen(THROTTLING_KIND, service, operation):
            if service == "dynamodb" and operation in DYNAMODB_ITEM_OPERATIONS:
                throttle = PROVISIONED
            self.count(THROTTLING_KIND)
            self._local.skip_sleep = True
            return _response(request, service, *throttle)
        return None

    def sleep(self, seconds: float) -> None:
        """botocore's backoff: not slept after an injected throttle, slept otherwise."""
        if getattr(self._local, "skip_sleep", False):
            self._local.skip_sleep = False
            return
        _real_time.sleep(seconds)

    # -- after-call: eventual listings -------------------------------------------------------------
    def after_call(self, http_response: Any = None, parsed: Any = None, model: Any = None,
                   event_name: str = "", context: Any = None, **_: Any) -> None:
        if not _mock_active() or not isinstance(parsed, dict):
            return
        status = getattr(http_response, "status_code", 200)
        if not 200 <= int(status) < 300:
            return
        service, operation = _service_and_operation(event_name)
        params = (context or {}).get("eventlab_params") or {}
        deleted = LISTINGS.get((service, operation))
        if deleted is not None:
            listing, _, _, parameter = deleted
            values = params.get(parameter)
            for value in values if isinstance(values, list) else [values]:
                if value is not None:
                    with self._lock:
                        self._deleted.setdefault(f"{service}:{listing}", set()).add(
                            _identity(service, listing, value))
            return
        for (svc, _), (listing, where, field, _) in LISTINGS.items():
            if svc == service and listing == operation:
                self._listed(service, listing, where, field, params, parsed)
                return

    def _listed(self, service: str, listing: str, where: str, field: str | None,
                params: dict[str, Any], parsed: dict[str, Any]) -> None:
        entries = parsed.get(where, [])  # an empty listing may leave the member out
        if not isinstance(entries, list):
            return
        scope = repr(sorted((k, repr(v)) for k, v in params.items() if k not in _PAGING))
        first_page = not any(params.get(k) for k in _PAGING if "oken" in k or k == "Marker")
        name = f"{service}:{listing}"
        present = set()
        for entry in entries:
            identity = _identity(service, listing, entry[field] if field else entry)
            present.add(identity)
            with self._lock:
                self._seen[(name, scope, identity)] = copy.deepcopy(entry)
        if not first_page or not _called_by_lab():
            return
        with self._lock:
            pending = self._deleted.pop(name, set())
            shown = [self._seen.pop((name, scope, i)) for i in sorted(pending, key=repr)
                     if i not in present and (name, scope, i) in self._seen]
        for entry in shown:
            entries.append(entry)
            self.count(LISTING_KIND)
        if shown:
            parsed[where] = entries


def _identity(service: str, listing: str, value: Any) -> Any:
    """An entry's name as a delete names it (a queue URL by its queue name)."""
    if service == "sqs":
        return str(value).rstrip("/").rsplit("/", 1)[-1]
    return value


_real_time = __import__("time")
_injector: Injector | None = None
_finished: dict[str, int] = {}  # what injectors stopped since reset_counts() injected


def profile_from_environment() -> Profile | None:
    """The profile ``EVENTLAB_FAULTS`` names (None when unset or ``off``)."""
    name = os.environ.get(SETTING, "").strip().lower()
    if name in ("", "off", "0", "no", "false"):
        return None
    from lab.errors import ConfigurationError

    if name not in PROFILES:
        raise ConfigurationError(f"{SETTING}={name!r} is not a fault profile: use "
                                 f"{', '.join(PROFILES)} (or unset it).")
    return PROFILES[name]


def install(profile: Profile | None = None) -> Injector | None:
    """Inject ``profile``'s faults (default: ``EVENTLAB_FAULTS``) into every boto3 session made
    from now on, ahead of moto's stubber. Idempotent; returns the injector (None when off)."""
    global _injector
    profile = profile or profile_from_environment()
    if profile is None or _injector is not None:
        return _injector
    import botocore.endpoint
    from botocore.handlers import BUILTIN_HANDLERS

    injector = Injector(profile)
    BUILTIN_HANDLERS.append(("before-parameter-build", _remember_params))
    BUILTIN_HANDLERS.append(("after-call", _after_call))
    names = {n: getattr(_real_time, n) for n in dir(_real_time) if not n.startswith("__")}
    botocore.endpoint.time = types.SimpleNamespace(**{**names, "sleep": _sleep})
    _injector = injector
    return injector


def uninstall() -> None:
    """Stop injecting; :func:`counts` keeps the figures."""
    global _injector
    if _injector is None:
        return
    import botocore.endpoint
    from botocore.handlers import BUILTIN_HANDLERS

    BUILTIN_HANDLERS[:] = [e for e in BUILTIN_HANDLERS
                           if e[1] not in (_remember_params, _after_call)]
    botocore.endpoint.time = _real_time
    for kind, number in _injector.injected.items():
        _finished[kind] = _finished.get(kind, 0) + number
    _injector = None


def active() -> bool:
    """True while a fault profile injects errors in this process."""
    return _injector is not None


def counts() -> dict[str, int]:
    """How many errors of each kind were injected in this process since :func:`reset_counts`
    (mocks started and stopped meanwhile included)."""
    running = _injector.injected if _injector is not None else {}
    return {kind: _finished.get(kind, 0) + running.get(kind, 0) for kind in KINDS}


def reset_counts() -> None:
    """Start counting from zero again."""
    _finished.clear()
    if _injector is not None:
        with _injector._lock:
            _injector.injected = dict.fromkeys(KINDS, 0)


def before_send(request: Any, event_name: str = "") -> Any:
    """The injected error response for ``request``, or None to let moto answer it.

    ``lab.mock``'s guard of moto's stubber asks this first: botocore runs every ``before-send``
    handler, so an error answered by a handler of its own would still let moto carry the request
    out.
    """
    return _injector.before_send(request, event_name) if _injector is not None else None


# Module-level handlers: sessions keep them after uninstall(), and then they do nothing.


def _after_call(**kwargs: Any) -> None:
    if _injector is not None:
        _injector.after_call(**kwargs)


def _remember_params(params: Any = None, context: Any = None, **_: Any) -> None:
    if _injector is not None and isinstance(context, dict):
        context["eventlab_params"] = dict(params or {})


def _sleep(seconds: float) -> None:
    if _injector is not None:
        _injector.sleep(seconds)
    else:
        _real_time.sleep(seconds)


def _mock_active() -> bool:
    from lab import mock

    return mock.is_active()


def _service_and_operation(event_name: str) -> tuple[str, str]:
    parts = event_name.split(".")
    return (parts[1], parts[2]) if len(parts) >= 3 else ("", "")


_LAB_DIRECTORY = os.path.dirname(os.path.abspath(__file__)) + os.sep
_SKIPPED = ("faults.py", "checks.py", "mock.py")


def _called_by_lab() -> bool:
    """Whether the boto3 call comes from ``lab/`` code (not a notebook cell, a test, the handler)."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        module = frame.f_globals.get("__name__", "")
        if not module.startswith(("botocore", "boto3", "moto", "s3transfer", "urllib3")):
            if filename.startswith(_LAB_DIRECTORY):
                if not filename.endswith(_SKIPPED) and os.sep + "localcloud" + os.sep not in filename:
                    return True
            else:
                return False
        frame = frame.f_back
    return False


def _function_arn(request: Any) -> str:
    from urllib.parse import unquote

    path = str(getattr(request, "url", "")).split("/functions/", 1)[-1]
    name = unquote(path.split("/", 1)[0])
    if name.startswith("arn:"):
        return name
    region = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
    from lab import mock

    return f"arn:aws:lambda:{region}:{mock.ACCOUNT_ID}:function:{name}"


def _response(request: Any, service: str, code: str, status: int, message: str) -> Any:
    """An AWS error response in the protocol ``request`` was sent with."""
    from botocore.awsrequest import AWSResponse
    from moto.core.botocore_stubber import MockRawResponse

    request_id = str(uuid.UUID(bytes=hashlib.md5(f"{service}:{code}:{request.url}".encode()).digest()))
    headers = {"x-amzn-RequestId": request_id}
    content_type = str(request.headers.get("Content-Type", b"") or "")
    target = request.headers.get("X-Amz-Target")
    if "cbor" in content_type or request.headers.get("Smithy-Protocol"):
        headers.update({"Content-Type": "application/cbor", "smithy-protocol": "rpc-v2-cbor"})
        body: bytes | str = _cbor({"__type": f"#{code}", "message": message})
    elif target or service == "sqs":
        headers["Content-Type"] = "application/x-amz-json-1.0"
        if service == "sqs":
            headers["x-amzn-query-error"] = f"{code};Sender"
        body = _json({"__type": f"com.amazonaws.{service}#{code}", "message": message})
    elif service == "lambda":
        headers.update({"Content-Type": "application/json", "x-amzn-ErrorType": code})
        body = _json({"Type": "User", "message": message})
    elif service == "s3":
        headers["Content-Type"] = "application/xml"
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
                f"<Message>{message}</Message><RequestId>{request_id[:16].upper()}</RequestId>"
                "<HostId>eventlab-fault-profile</HostId></Error>")
    else:  # the query protocol: IAM, SNS, STS
        headers["Content-Type"] = "text/xml"
        body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
                f"<Message>{message}</Message></Error><RequestId>{request_id}</RequestId>"
                "</ErrorResponse>")
    return AWSResponse(request.url, status, headers, MockRawResponse(body))


def _json(value: dict[str, str]) -> str:
    import json

    return json.dumps(value)


def _cbor(value: dict[str, str]) -> bytes:
    """A CBOR map of text strings (RFC 8949), enough for an error body."""
    def head(major: int, length: int) -> bytes:
        if length < 24:
            return bytes([major << 5 | length])
        if length < 256:
            return bytes([major << 5 | 24, length])
        return bytes([major << 5 | 25]) + length.to_bytes(2, "big")

    out = head(5, len(value))
    for key, item in value.items():
        for text in (key, item):
            data = text.encode()
            out += head(3, len(data)) + data
    return out
