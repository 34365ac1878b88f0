"""CloudWatch Logs: the Lambda's log group (retention) and reading what the function logged."""

from __future__ import annotations

from typing import Any

from lab.aws import error_code, friendly, report, translated, wait_until
from lab.connection import Lab

DEFAULT_RETENTION_DAYS = 7


def get_log_group(lab: Lab, name: str | None = None) -> dict[str, Any] | None:
    """The log group's description, or None."""
    name = name or lab.names.log_group
    with friendly(f"describe log group {name}"):
        paginator = lab.client("logs").get_paginator("describe_log_groups")
        for page in paginator.paginate(logGroupNamePrefix=name):
            for group in page["logGroups"]:
                if group["logGroupName"] == name:
                    return group
    return None


def ensure_log_group(lab: Lab, name: str | None = None, *,
                     retention_days: int = DEFAULT_RETENTION_DAYS, quiet: bool = False) -> str:
    """Get or create the log group with a retention period; print one ✓ line; return its name.

    Lambda would create the group at the first invocation, but with no retention: logs would be
    kept (and stored at a cost) forever.
    """
    from botocore.exceptions import ClientError

    name = name or lab.names.log_group
    group = get_log_group(lab, name)
    created = group is None
    logs = lab.client("logs")
    if created:
        try:
            logs.create_log_group(logGroupName=name)
        except ClientError as error:
            if error_code(error) != "ResourceAlreadyExistsException":
                raise translated(error, f"create log group {name}") from None
    if created or group.get("retentionInDays") != retention_days:
        with friendly(f"set the retention of log group {name}"):
            logs.put_retention_policy(logGroupName=name, retentionInDays=retention_days)
    report(created, "log group", name, quiet=quiet)
    return name


def delete_log_group(lab: Lab, name: str | None = None) -> bool:
    """Delete the log group and every stream in it; True if it existed."""
    name = name or lab.names.log_group
    if get_log_group(lab, name) is None:
        return False
    with friendly(f"delete log group {name}"):
        lab.client("logs").delete_log_group(logGroupName=name)
    return True


def log_events(lab: Lab, name: str | None = None, *, streams: int = 5) -> list[dict[str, Any]]:
    """Events of the newest ``streams`` streams, oldest first: timestamp (ms), message, stream."""
    name = name or lab.names.log_group
    if get_log_group(lab, name) is None:
        return []
    logs = lab.client("logs")
    with friendly(f"read log group {name}"):
        described = logs.describe_log_streams(logGroupName=name, orderBy="LastEventTime",
                                              descending=True, limit=streams)["logStreams"]
        events = []
        for stream in described:
            paginator = logs.get_paginator("filter_log_events")
            for page in paginator.paginate(logGroupName=name,
                                           logStreamNames=[stream["logStreamName"]]):
                events.extend({"timestamp": e["timestamp"], "message": e["message"].rstrip("\n"),
                               "stream": stream["logStreamName"]} for e in page["events"])
    return sorted(events, key=lambda e: (e["timestamp"], e["stream"]))


def invocation_lines(lab: Lab, request_id: str, *, timeout: float = 60.0) -> list[str]:
    """The log lines of one invocation, START to REPORT; waits for them (real AWS is late)."""
    def lines() -> list[str] | None:
        messages = [e["message"] for e in log_events(lab)]
        start = next((i for i, m in enumerate(messages)
                      if m.startswith(f"START RequestId: {request_id}")), None)
        end = next((i for i, m in enumerate(messages)
                    if m.startswith(f"REPORT RequestId: {request_id}")), None)
        if start is None or end is None:
            return None
        return messages[start:end + 1]

    return wait_until(lines, what=f"the logs of request {request_id}", timeout=timeout, interval=3)
