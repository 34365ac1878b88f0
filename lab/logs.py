"""CloudWatch Logs: the Lambda's log group (retention) and reading what the function logged."""

from __future__ import annotations

from typing import Any

from lab.aws import error_code, friendly, get_or_none, report, translated, wait_until
from lab.connection import Lab
from lab.endpoint import require_functions_run
from lab.errors import WaitTimeout

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
    logs = lab.client("logs")
    # Create first, then read: a group deleted a moment ago may still be listed for a while
    # (CloudWatch Logs is eventually consistent), and a listing would take it for the group.
    try:
        logs.create_log_group(logGroupName=name)
        created = True
    except ClientError as error:
        if error_code(error) != "ResourceAlreadyExistsException":
            raise translated(error, f"create log group {name}") from None
        created = False
    group = None if created else get_log_group(lab, name)
    if created or group is None or group.get("retentionInDays") != retention_days:
        with friendly(f"set the retention of log group {name}"):
            logs.put_retention_policy(logGroupName=name, retentionInDays=retention_days)
    report(created, "log group", name, quiet=quiet)
    return name


def delete_log_group(lab: Lab, name: str | None = None) -> bool:
    """Delete the log group and every stream in it; True if it existed."""
    name = name or lab.names.log_group
    if get_log_group(lab, name) is None:
        return False
    # A group deleted a moment ago may still be listed (CloudWatch Logs is eventually
    # consistent): then the delete finds it gone, and that is done too.
    return get_or_none(lambda: lab.client("logs").delete_log_group(logGroupName=name),
                       absent="ResourceNotFoundException",
                       action=f"delete log group {name}") is not None


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

    require_functions_run(lab, f"the logs of request {request_id}")
    return wait_until(lines, what=f"the logs of request {request_id}", timeout=timeout, interval=3)


def invocations(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Group log events (as :func:`log_events` returns them) into invocations, oldest first.

    Each invocation is ``{"request_id", "stream", "timestamp", "lines", "complete", "cold"}``:
    its lines from ``START`` (an ``INIT_START`` just before it included) to ``REPORT``,
    ``complete`` once the ``REPORT`` line is there, ``cold`` when the REPORT names an Init
    Duration (a cold start, lesson 04). Lines of one stream belong to one run at a time.
    """
    runs: list[dict[str, Any]] = []
    open_runs: dict[str, dict[str, Any]] = {}
    init_lines: dict[str, str] = {}
    for event in events:
        message, stream = event["message"], event["stream"]
        if message.startswith("INIT_START "):
            init_lines[stream] = message
        elif message.startswith("START RequestId: "):
            init = init_lines.pop(stream, None)
            run = {"request_id": message.split()[2], "stream": stream,
                   "timestamp": event["timestamp"], "lines": [*([init] if init else []), message],
                   "complete": False, "cold": False}
            open_runs[stream] = run
            runs.append(run)
        elif stream in open_runs:
            run = open_runs[stream]
            run["lines"].append(message)
            if message.startswith("REPORT RequestId: "):
                run["complete"] = True
                run["cold"] = "\tInit Duration: " in message
                del open_runs[stream]
    return runs


def recent_events(lab: Lab, name: str | None = None, *, minutes: int = 60) -> list[dict[str, Any]]:
    """Events of the last ``minutes`` in every stream of the group, oldest first (as log_events).

    One ``FilterLogEvents`` search over the whole group rather than the newest streams: on AWS a
    stream's last event time, which orders ``DescribeLogStreams``, is only eventually consistent
    (it can lag by up to an hour), so the stream a run just wrote to may not be listed first.
    """
    import datetime as dt

    from lab import charts

    name = name or lab.names.log_group
    if get_log_group(lab, name) is None:
        return []
    start = charts.now(lab) - dt.timedelta(minutes=minutes)
    events = []
    with friendly(f"read log group {name}"):
        paginator = lab.client("logs").get_paginator("filter_log_events")
        for page in paginator.paginate(logGroupName=name, startTime=int(start.timestamp() * 1000)):
            events.extend({"timestamp": e["timestamp"], "message": e["message"].rstrip("\n"),
                           "stream": e["logStreamName"]} for e in page["events"])
    return sorted(events, key=lambda e: (e["timestamp"], e["stream"]))


def newest_invocation(lab: Lab, *, containing: str | None = None, name: str | None = None,
                      minutes: int = 60, timeout: float | None = None) -> dict[str, Any]:
    """The newest complete invocation in the log group; waits (bounded) for it (lesson 07).

    What the Console's *newest log stream* shows, read with :func:`recent_events` (the last
    ``minutes`` of every stream). With ``containing``, only an invocation with a line holding that
    text counts (e.g. the key just uploaded). Log events arrive a few seconds after the run on
    AWS: this waits up to ``timeout`` seconds (default 60 on AWS, 5 on the local cloud, where they
    are written at once).

    Returns:
        The invocation as :func:`invocations` describes it.

    Raises:
        MissingResource: the log group does not exist (lesson 04).
        WaitTimeout: no such complete invocation arrived in time — one sentence saying why.
    """
    name = name or lab.names.log_group
    if timeout is None:
        timeout = 5.0 if lab.is_local else 60.0
    if get_log_group(lab, name) is None:
        from lab.aws import missing

        raise missing("log group", name, "log_group")
    require_functions_run(lab, f"an invocation in {name}")
    seen: dict[str, int] = {"events": 0}

    def found() -> dict[str, Any] | None:
        events = recent_events(lab, name, minutes=minutes)
        seen["events"] = len(events)
        runs = [run for run in invocations(events) if run["complete"] and (
            containing is None or any(containing in line for line in run["lines"]))]
        return max(runs, key=lambda run: run["timestamp"]) if runs else None

    try:
        return wait_until(found, what=f"a complete invocation in {name}", timeout=timeout,
                          interval=3)
    except WaitTimeout:
        pass
    if not seen["events"]:
        raise WaitTimeout(f"The log group {name} is empty after {timeout:.0f} s: the function has "
                          "not run yet. Upload a file, then run this cell again.") from None
    what = f" that logged {containing!r}" if containing else ""
    raise WaitTimeout(f"No complete invocation{what} in {name} after {timeout:.0f} s: upload the "
                      "file (or wait a few seconds), then run this cell again.") from None


def cold_starts(lab: Lab, *, minutes: int = 60, name: str | None = None) -> list[Any]:
    """When each cold start of the last ``minutes`` began (UTC datetimes, oldest first).

    Read from the REPORT lines (a cold start's names an Init Duration), lesson 08.
    """
    import datetime as dt

    runs = invocations(recent_events(lab, name, minutes=minutes))
    return [dt.datetime.fromtimestamp(run["timestamp"] / 1000, dt.timezone.utc)
            for run in runs if run["cold"]]
