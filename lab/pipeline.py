"""The whole pipeline: build every seed resource in the seed's order; tear it down in reverse."""

from __future__ import annotations

from typing import Any

from lab import alarms, awslambda, dynamodb, iam, logs, s3, sns
from lab.connection import Lab


def build_pipeline(lab: Lab, *, activity_threshold: float = alarms.ACTIVITY_THRESHOLD,
                   least_privilege: bool = False, quiet: bool = False) -> dict[str, Any]:
    """Create (or find) every resource of the seed lab in its order; idempotent.

    Returns a summary: each resource's name or ARN and the email subscription's status.
    """
    summary: dict[str, Any] = {}
    summary["topic"] = sns.ensure_topic(lab, quiet=quiet)
    summary["subscription"] = sns.ensure_email_subscription(lab, quiet=quiet)
    summary["table"] = dynamodb.ensure_table(lab, quiet=quiet)
    summary["role"] = iam.ensure_role(lab, least_privilege=least_privilege, quiet=quiet)
    summary["log_group"] = logs.ensure_log_group(lab, quiet=quiet)
    summary["function"] = awslambda.ensure_function(lab, summary["role"], quiet=quiet)
    summary["bucket"] = s3.ensure_bucket(lab, quiet=quiet)
    s3.ensure_trigger(lab, quiet=quiet)
    summary["alarms"] = alarms.ensure_alarms(lab, activity_threshold=activity_threshold, quiet=quiet)
    return summary


def teardown(lab: Lab, *, quiet: bool = False) -> dict[str, list[str]]:
    """Delete everything the lab creates, in reverse order; idempotent.

    Returns ``{"deleted": [...], "absent": [...]}`` — what was deleted and what was already gone.
    """
    deleted: list[str] = []
    absent: list[str] = []

    def step(what: str, done: Any) -> None:
        (deleted if done not in (False, None) else absent).append(what)
        if not quiet and done not in (False, None):
            print(f"✓ Deleted {what}")

    names = lab.names
    present_alarms = alarms.delete_alarms(lab)
    for alarm in (names.activity_alarm, names.throttle_alarm):
        step(f"alarm {alarm}", alarm in present_alarms)
    removed = s3.delete_bucket(lab)
    step(f"bucket {names.bucket}" + (f" ({removed} object versions)" if removed else ""), removed)
    step(f"function {names.function}", awslambda.delete_function(lab))
    step(f"log group {names.log_group}", logs.delete_log_group(lab))
    step(f"role {names.role}", iam.delete_role(lab))
    step(f"table {names.table}", dynamodb.delete_table(lab))
    step(f"topic {names.topic} and its subscriptions", sns.delete_topic(lab))
    if not quiet and not deleted:
        print("✓ Nothing to delete: the lab's resources are all gone")
    return {"deleted": deleted, "absent": absent}
