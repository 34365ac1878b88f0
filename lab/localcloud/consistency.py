"""AWS's eventual consistency on the local clock: what AWS accepts now but finishes a moment later.

Code that runs on AWS must wait for these; offline they happen on the local clock, so code that
would break on AWS breaks here too, and waiting (``lab.aws.wait_until``, boto3's waiters, which
advance the clock here) costs no real time:

- a new function is ``Pending`` before ``Active``; an update leaves ``LastUpdateStatus``
  ``InProgress`` before ``Successful``. Meanwhile another update gets ResourceConflictException
  ("… An update is in progress for resource: <arn>"); an invoke of a Pending function gets
  ResourceConflictException ("… The function is currently in the following state: Pending"). An
  invoke during an update runs the configuration in place before it, as on AWS;
- a role just created (or given a policy) cannot be assumed by Lambda yet: CreateFunction and
  UpdateFunctionConfiguration(Role=…) get InvalidParameterValueException ("The role defined for
  the function cannot be assumed by Lambda.");
- a statement just added to a function's policy is not yet visible to S3's destination check
  (PutBucketNotificationConfiguration: InvalidArgument "Unable to validate the following
  destination configurations"; the check itself is in ``events``);
- a run's log events become readable a few seconds after it ends;
- a destination record (on-failure / on-success) reaches its queue or topic a moment after the
  last attempt.

Each delay below names the AWS page it follows. ``EVENTLAB_DELAYS=off`` turns them all off
(the instant cloud of earlier versions). Delayed deliveries are made when the clock reaches them
(any advance) and before every read of CloudWatch Logs or SQS, so real time passing delivers
them too.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
import time
import types
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lab.localcloud import hooks

if TYPE_CHECKING:
    from lab.localcloud import LocalCloud

_log = logging.getLogger(__name__)

SETTING = "EVENTLAB_DELAYS"  # "off" turns every delay below off

# AWS Lambda Developer Guide, "Lambda function states" (functions-states.html): after
# CreateFunction the function is Pending while Lambda provisions it ("Lambda does not invoke a
# function during pending state. Any invocations or other API actions that operate on the function
# will fail."); typically a few seconds for a function without VPC or EFS.
FUNCTION_PENDING = dt.timedelta(seconds=2)
# Same page, "Function states during updates": LastUpdateStatus is InProgress after
# UpdateFunctionCode / UpdateFunctionConfiguration; "while the update is in progress, invocations
# run the previous code and configuration"; other updates fail with ResourceConflictException.
FUNCTION_UPDATE = dt.timedelta(seconds=2)
# IAM User Guide, "Troubleshooting IAM > Changes that I make are not always immediately visible"
# (troubleshoot_general.html#troubleshoot_general_eventual-consistency): IAM is eventually
# consistent; a role just created, or a policy just attached, can take seconds to take effect.
# Lambda then answers "The role defined for the function cannot be assumed by Lambda."
ROLE_PROPAGATION = dt.timedelta(seconds=8)
# Amazon S3 User Guide, "Configuring event notifications" / re:Post Knowledge Center "Why do I get
# 'Unable to validate the following destination configurations'": S3 checks the function's
# resource policy, and a statement just added by AddPermission may not be visible to it yet.
PERMISSION_PROPAGATION = dt.timedelta(seconds=4)
# AWS Lambda Developer Guide, "Sending Lambda function logs to CloudWatch Logs": the runtime sends
# the logs after the run; CloudWatch Logs makes events searchable after ingestion (seconds).
LOG_DELIVERY = dt.timedelta(seconds=3)
# AWS Lambda Developer Guide, "Capturing records of Lambda asynchronous invocations"
# (invocation-async-retain-records.html): the record is sent after the last attempt.
DESTINATION_DELIVERY = dt.timedelta(seconds=1)

CREATING = {"State": "Pending", "StateReason": "The function is being created.",
            "StateReasonCode": "Creating"}
UPDATING = {"LastUpdateStatus": "InProgress",
            "LastUpdateStatusReason": "The function is being created.",
            "LastUpdateStatusReasonCode": "Creating"}
CONFLICT_PREFIX = "The operation cannot be performed at this time."
ROLE_MESSAGE = "The role defined for the function cannot be assumed by Lambda."

HOOK_POINTS = (
    "moto.awslambda.responses:LambdaResponse.create_function",
    "moto.awslambda.responses:LambdaResponse.update_function_code",
    "moto.awslambda.responses:LambdaResponse.update_function_configuration",
    "moto.awslambda.responses:LambdaResponse.invoke",
    "moto.awslambda.responses:LambdaResponse.add_permission",
    "moto.iam.models:IAMBackend.create_role",
    "moto.iam.models:IAMBackend.attach_role_policy",
    "moto.iam.models:IAMBackend.put_role_policy",
    "moto.logs.responses:LogsResponse.filter_log_events",
    "moto.logs.responses:LogsResponse.get_log_events",
    "moto.logs.responses:LogsResponse.describe_log_streams",
    "moto.sqs.responses:SQSResponse.receive_message",
    "botocore.waiter:time",
)


class Consistency:
    """When each thing the local cloud accepted becomes done (clock times), and what waits."""

    def __init__(self, cloud: LocalCloud) -> None:
        self.cloud = cloud
        self.active_at: dict[str, dt.datetime] = {}  # function ARN → end of Pending
        self.updated_at: dict[str, dt.datetime] = {}  # function ARN → end of InProgress
        self.role_ready_at: dict[str, dt.datetime] = {}  # role name → assumable from
        self.visible_at: dict[tuple[str, str], dt.datetime] = {}  # (function ARN, Sid) → S3 sees it
        self._deliveries: list[tuple[dt.datetime, int, Callable[[], Any]]] = []
        self._count = 0
        self._lock = threading.RLock()

    @property
    def enabled(self) -> bool:
        """False while ``EVENTLAB_DELAYS=off`` (read at each call, so a test can switch it)."""
        return delays_on()

    def now(self) -> dt.datetime:
        return self.cloud.clock.now()

    def later(self, delay: dt.timedelta, task: Callable[[], Any]) -> None:
        """Run ``task`` once ``delay`` of clock time has passed (at once when delays are off)."""
        if not self.enabled or delay <= dt.timedelta(0):
            task()
            return
        with self._lock:
            self._count += 1
            self._deliveries.append((self.now() + delay, self._count, task))

    def deliver_due(self, now: dt.datetime | None = None) -> None:
        """Run every delayed delivery whose time has come, oldest first."""
        now = now or self.now()
        with self._lock:
            due = sorted(d for d in self._deliveries if d[0] <= now)
            self._deliveries = [d for d in self._deliveries if d[0] > now]
        for _, _, task in due:
            try:
                task()
            except Exception:  # a failure of the local cloud itself: report, never raise
                _log.exception("The local cloud could not make a delayed delivery")

    def next_change(self) -> dt.datetime | None:
        """The earliest moment still to come at which something above finishes (or None).

        ``lab.aws.wait_until`` jumps the clock there: the number of polls of a wait then does
        not depend on how much real time the notebook took, so seeded ids stay reproducible.
        """
        now = self.now()
        with self._lock:
            moments = [d[0] for d in self._deliveries]
        for table in (self.active_at, self.updated_at, self.role_ready_at, self.visible_at):
            moments.extend(table.values())
        future = [moment for moment in moments if moment > now]
        return min(future) if future else None

    # -- functions ------------------------------------------------------------------------------
    def describe(self, function: Any, config: dict[str, Any]) -> None:
        """Put State and LastUpdateStatus (with reasons) as they are now into ``config``."""
        arn = _unqualified(function.function_arn)
        now = self.now()
        if now < self.active_at.get(arn, now):
            config.update(CREATING)
            config.pop("LastUpdateStatus", None)
        elif now < self.updated_at.get(arn, now):
            config.update(UPDATING)

    def conflict(self, arn: str, *, invoking: bool) -> str | None:
        """ResourceConflictException's message when ``arn`` cannot take the call now, else None."""
        now = self.now()
        if now < self.active_at.get(arn, now):
            return (f"{CONFLICT_PREFIX} The function is currently in the following state: "
                    "Pending")
        if not invoking and now < self.updated_at.get(arn, now):
            return f"{CONFLICT_PREFIX} An update is in progress for resource: {arn}"
        return None

    def role_ready(self, role_arn: str) -> bool:
        name = str(role_arn).rsplit("/", 1)[-1]
        now = self.now()
        return now >= self.role_ready_at.get(name, now)

    def statement_visible(self, function_arn: str, sid: str) -> bool:
        now = self.now()
        return now >= self.visible_at.get((_unqualified(function_arn), sid), now)


def delays_on() -> bool:
    """The setting: AWS's delays are on unless ``EVENTLAB_DELAYS`` is off (or 0, false, no)."""
    return os.environ.get(SETTING, "on").strip().lower() not in ("off", "0", "false", "no")


def _unqualified(arn: str) -> str:
    parts = str(arn).split(":")
    return ":".join(parts[:7])


def state(cloud: LocalCloud) -> Consistency:
    return cloud.state["consistency"]


def current() -> Consistency | None:
    """The running local cloud's consistency state (None when no local cloud runs)."""
    from lab import localcloud

    cloud = localcloud._current
    return cloud.state.get("consistency") if cloud is not None else None


def visible_statements(function: Any, statements: list[Any]) -> list[Any]:
    """The statements of ``function``'s policy that S3's destination check can see already."""
    consistency = current()
    if consistency is None or not consistency.enabled:
        return statements
    return [s for s in statements
            if not isinstance(s, dict)
            or consistency.statement_visible(function.function_arn, str(s.get("Sid", "")))]


def _error(code: str, message: str, status: int = 400) -> Exception:
    from moto.awslambda.exceptions import LambdaClientError

    error = LambdaClientError(code, message)
    error.code = status
    return error


def _function_arn(response: Any, name: str) -> str | None:
    from moto.awslambda.exceptions import LambdaClientError

    try:
        function = response.backend.get_function(name, None)
    except (LambdaClientError, KeyError, ValueError):
        return None
    return _unqualified(function.function_arn)


def _name_from_path(response: Any) -> str:
    from urllib.parse import unquote

    return unquote(response.path.rsplit("/", 2)[-2])


def install(cloud: LocalCloud) -> None:
    """Patch Lambda, IAM, Logs and SQS with AWS's delays, and boto3's waiters with the clock."""
    consistency = Consistency(cloud)
    cloud.state["consistency"] = consistency
    cloud.clock.on_tick(consistency.deliver_due)
    original = {point: hooks.original(point) for point in HOOK_POINTS}

    def create_function(response: Any) -> Any:
        if not consistency.enabled:
            return original["moto.awslambda.responses:LambdaResponse.create_function"](response)
        role = response.json_body.get("Role")
        if role and not consistency.role_ready(role):
            raise _error("InvalidParameterValueException", ROLE_MESSAGE)
        result = original["moto.awslambda.responses:LambdaResponse.create_function"](response)
        arn = _function_arn(response, response.json_body["FunctionName"].rsplit(":", 1)[-1])
        if arn is not None:
            consistency.active_at[arn] = consistency.now() + FUNCTION_PENDING
            status, headers, body = result
            config = json.loads(body)
            config.update(CREATING)
            result = (status, headers, json.dumps(config))
        return result

    def updater(point: str) -> Callable[[Any], Any]:
        def update(response: Any) -> Any:
            arn = _function_arn(response, _name_from_path(response))
            if arn is None or not consistency.enabled:
                return original[point](response)
            message = consistency.conflict(arn, invoking=False)
            if message:
                raise _error("ResourceConflictException", message, 409)
            role = response.json_body.get("Role") if point.endswith("configuration") else None
            if role and not consistency.role_ready(role):
                raise _error("InvalidParameterValueException", ROLE_MESSAGE)
            before = consistency.updated_at.get(arn)
            consistency.updated_at[arn] = consistency.now() + FUNCTION_UPDATE
            try:
                return original[point](response)
            except Exception:
                if before is None:
                    consistency.updated_at.pop(arn, None)
                else:
                    consistency.updated_at[arn] = before
                raise
        return update

    def invoke(response: Any) -> Any:
        arn = _function_arn(response, _name_from_path(response))
        message = consistency.conflict(arn, invoking=True) if arn and consistency.enabled else None
        if message:
            raise _error("ResourceConflictException", message, 409)
        return original["moto.awslambda.responses:LambdaResponse.invoke"](response)

    def add_permission(response: Any) -> Any:
        from urllib.parse import unquote

        arn = _function_arn(response, unquote(response.path.split("/")[-2]))
        message = consistency.conflict(arn, invoking=False) if arn and consistency.enabled else None
        if message:  # AddPermission changes the function too: not while it is being updated
            raise _error("ResourceConflictException", message, 409)
        result = original["moto.awslambda.responses:LambdaResponse.add_permission"](response)
        sid = str(json.loads(response.body or "{}").get("StatementId", ""))
        if arn is not None and consistency.enabled:
            consistency.visible_at[(arn, sid)] = consistency.now() + PERMISSION_PROPAGATION
        return result

    def role_changed(point: str, name_of: Callable[..., str]) -> Callable[..., Any]:
        def changed(backend: Any, *args: Any, **kwargs: Any) -> Any:
            result = original[point](backend, *args, **kwargs)
            if consistency.enabled:
                consistency.role_ready_at[name_of(*args, **kwargs)] = (consistency.now()
                                                                       + ROLE_PROPAGATION)
            return result
        return changed

    def delivering(point: str) -> Callable[[Any], Any]:
        def read(response: Any) -> Any:
            consistency.deliver_due()
            return original[point](response)
        return read

    hooks.patch("moto.awslambda.responses:LambdaResponse.create_function", create_function)
    for point in ("moto.awslambda.responses:LambdaResponse.update_function_code",
                  "moto.awslambda.responses:LambdaResponse.update_function_configuration"):
        hooks.patch(point, updater(point))
    hooks.patch("moto.awslambda.responses:LambdaResponse.invoke", invoke)
    hooks.patch("moto.awslambda.responses:LambdaResponse.add_permission", add_permission)
    hooks.patch("moto.iam.models:IAMBackend.create_role",
                role_changed("moto.iam.models:IAMBackend.create_role",
                             lambda role_name, *a, **k: role_name))
    hooks.patch("moto.iam.models:IAMBackend.attach_role_policy",
                role_changed("moto.iam.models:IAMBackend.attach_role_policy",
                             lambda policy_arn, role_name, *a, **k: role_name))
    hooks.patch("moto.iam.models:IAMBackend.put_role_policy",
                role_changed("moto.iam.models:IAMBackend.put_role_policy",
                             lambda role_name, *a, **k: role_name))
    for point in ("moto.logs.responses:LogsResponse.filter_log_events",
                  "moto.logs.responses:LogsResponse.get_log_events",
                  "moto.logs.responses:LogsResponse.describe_log_streams",
                  "moto.sqs.responses:SQSResponse.receive_message"):
        hooks.patch(point, delivering(point))
    hooks.patch("botocore.waiter:time", _waiter_time())


def _waiter_time() -> Any:
    """``time`` for botocore's waiters: their sleeps pass on the local clock (lab.aws.pause)."""
    from lab.aws import pause

    names = {name: getattr(time, name) for name in dir(time) if not name.startswith("__")}
    names["sleep"] = pause
    return types.SimpleNamespace(**names)
