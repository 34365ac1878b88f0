"""DataFrames from DynamoDB and CloudWatch, and matplotlib figures of them (lessons 07–09).

Every frame has sorted rows and a few curated columns; every figure is a
``matplotlib.figure.Figure`` of :data:`FIGSIZE`, made without pyplot's global figure list, so a
notebook cell that ends with one shows it exactly once. Times are timezone-aware UTC: the local
cloud's clock on the moto backend, real time elsewhere.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

from lab import alarms, dynamodb
from lab.aws import friendly
from lab.connection import Lab

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

FIGSIZE = (8, 3.5)
BAR_WIDTH = dt.timedelta(seconds=50)  # a minute's bar, drawn from the minute's start
STATISTICS = ("Sum", "Average", "Minimum", "Maximum", "SampleCount")
STATE_COLOURS = {"OK": "#3C8D5A", "ALARM": "#C8372D", "INSUFFICIENT_DATA": "#A6A6A6"}
ITEM_COLUMNS = ["written", "objectKey", "size", "eventName", "expires", "objectId"]
TIMELINE_COLUMNS = ["time", "alarm", "from", "to", "reason"]
USAGE_COLUMNS = ["service", "measure", "used", "free_tier", "unit", "percent_used", "offer"]
INVENTORY_COLUMNS = ["service", "resource", "listed with", "count"]
CONFIRMATION_SUBJECT = "AWS Notification - Subscription Confirmation"
# The AWS Free Tier allowances the lab's usage is compared with (per month unless provisioned).
# S3's is the 12-month offer of accounts opened before 15 July 2025; newer accounts get credits.
FREE_TIER = {
    "lambda_requests": 1_000_000, "lambda_gb_seconds": 400_000, "dynamodb_wcu": 25,
    "dynamodb_rcu": 25, "s3_puts": 2_000, "sns_emails": 1_000, "cloudwatch_alarms": 10,
}


# -- time ------------------------------------------------------------------------------------------

def now(cloud: Lab) -> dt.datetime:
    """The backend's current time: the local clock on moto, real time (UTC) elsewhere."""
    return cloud.clock.now() if cloud.is_local else dt.datetime.now(dt.timezone.utc)


def minute_range(cloud: Lab, minutes: int) -> pd.DatetimeIndex:
    """The last ``minutes`` whole minutes, the current (still open) one included, oldest first."""
    import pandas as pd

    if not isinstance(minutes, int) or isinstance(minutes, bool) or minutes < 1:
        raise ValueError(f"minutes must be a whole number of at least 1, got {minutes!r}")
    current = pd.Timestamp(now(cloud)).tz_convert("UTC").floor("min")
    return pd.date_range(end=current, periods=minutes, freq="min", name="minute")


# -- DynamoDB --------------------------------------------------------------------------------------

def items_frame(cloud: Lab) -> pd.DataFrame:
    """Every item of the table: when it was written, its key, size, event, expiry and id.

    Raises:
        MissingResource: the table does not exist (lesson 02).
    """
    import pandas as pd

    rows = [{"written": item.get("timestamp"), "objectKey": item.get("objectKey"),
             "size": item.get("size"), "eventName": item.get("eventName"),
             "expires": item.get("ttl"), "objectId": item.get(dynamodb.PARTITION_KEY)}
            for item in dynamodb.scan_items(cloud)]
    frame = pd.DataFrame(rows, columns=ITEM_COLUMNS)
    for column in ("written", "expires"):
        frame[column] = pd.to_datetime(pd.to_numeric(frame[column]), unit="s", utc=True)
    frame["size"] = frame["size"].astype("Int64")
    return frame.sort_values(["written", "objectKey", "objectId"], kind="stable",
                             ignore_index=True)


def items_per_minute(cloud: Lab, *, minutes: int = 15) -> pd.DataFrame:
    """How many items were written in each of the last ``minutes`` minutes (0 when none)."""
    index = minute_range(cloud, minutes)
    written = items_frame(cloud)["written"].dt.floor("min")
    counts = written.value_counts().reindex(index, fill_value=0).astype(int)
    return counts.rename("items").to_frame()


# -- CloudWatch metrics ----------------------------------------------------------------------------

def _dimension_list(dimensions: dict[str, str]) -> list[dict[str, str]]:
    return [{"Name": name, "Value": value} for name, value in sorted(dimensions.items())]


def metric_frame(cloud: Lab, namespace: str, metric: str, dimensions: dict[str, str], *,
                 stat: str = "Sum", minutes: int = 15) -> pd.DataFrame:
    """One CloudWatch statistic per minute over the last ``minutes`` minutes.

    Reads ``GetMetricStatistics`` with a 60-second period up to the end of the current minute
    (the local clock on moto). Minutes without a datapoint are NaN: CloudWatch has no value for
    them, which is not the same as 0 (lesson 06, missing data).

    Returns:
        A frame indexed by ``minute`` (UTC) with one column named after the metric.
    """
    import pandas as pd

    if stat not in STATISTICS:
        raise ValueError(f"stat must be one of {', '.join(STATISTICS)}, got {stat!r}")
    index = minute_range(cloud, minutes)
    start, end = index[0].to_pydatetime(), (index[-1] + pd.Timedelta(minutes=1)).to_pydatetime()
    with friendly(f"read the {namespace} metric {metric}"):
        datapoints = cloud.client("cloudwatch").get_metric_statistics(
            Namespace=namespace, MetricName=metric, Dimensions=_dimension_list(dimensions),
            StartTime=start, EndTime=end, Period=60, Statistics=[stat])["Datapoints"]
    values = pd.Series({pd.Timestamp(d["Timestamp"]).tz_convert("UTC").floor("min"): d[stat]
                        for d in datapoints}, dtype=float)
    return values.reindex(index).rename(metric).to_frame()


def _metric_total(cloud: Lab, namespace: str, metric: str, dimensions: dict[str, str], *,
                  days: int) -> float:
    """The Sum of a metric over the last ``days`` days (one-day periods)."""
    end = now(cloud) + dt.timedelta(minutes=1)
    with friendly(f"read the {namespace} metric {metric}"):
        datapoints = cloud.client("cloudwatch").get_metric_statistics(
            Namespace=namespace, MetricName=metric, Dimensions=_dimension_list(dimensions),
            StartTime=end - dt.timedelta(days=days), EndTime=end, Period=86400,
            Statistics=["Sum"])["Datapoints"]
    return float(sum(d["Sum"] for d in datapoints))


def _table_dimensions(cloud: Lab) -> dict[str, str]:
    return {"TableName": cloud.names.table}


def _function_dimensions(cloud: Lab) -> dict[str, str]:
    return {"FunctionName": cloud.names.function}


def lambda_frame(cloud: Lab, *, minutes: int = 15) -> pd.DataFrame:
    """The function's Invocations, Errors (Sum) and Duration (Average, Maximum, ms) per minute."""
    import pandas as pd

    dims = _function_dimensions(cloud)
    parts = [metric_frame(cloud, "AWS/Lambda", "Invocations", dims, minutes=minutes),
             metric_frame(cloud, "AWS/Lambda", "Errors", dims, minutes=minutes),
             metric_frame(cloud, "AWS/Lambda", "Duration", dims, stat="Average",
                          minutes=minutes).rename(columns={"Duration": "Duration avg (ms)"}),
             metric_frame(cloud, "AWS/Lambda", "Duration", dims, stat="Maximum",
                          minutes=minutes).rename(columns={"Duration": "Duration max (ms)"})]
    return pd.concat(parts, axis=1)


# -- figures ---------------------------------------------------------------------------------------

def _figure(columns: int = 1) -> tuple[Figure, Any]:
    """A new figure of FIGSIZE with ``columns`` side-by-side axes (not kept by pyplot)."""
    from matplotlib.figure import Figure

    from lab.diagram import load_backend

    load_backend()  # in Jupyter, the inline display of a returned Figure

    figure = Figure(figsize=FIGSIZE, layout="constrained")
    return figure, figure.subplots(1, columns)


def _minute_axis(axes: Any, index: pd.DatetimeIndex, *, ticks: int = 8) -> None:
    """Show the minutes of ``index`` (each bar spans its minute from the left) as HH:MM (UTC)."""
    import matplotlib.dates as mdates

    axes.set_xlim(index[0] - dt.timedelta(seconds=10), index[-1] + dt.timedelta(seconds=70))
    axes.xaxis.set_major_locator(mdates.MinuteLocator(interval=-(-len(index) // ticks)))
    axes.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M"))
    axes.set_xlabel("minute (UTC)")


def plot_write_capacity(cloud: Lab, threshold: float = alarms.ACTIVITY_THRESHOLD, *,
                        minutes: int = 15) -> Figure:
    """Bars of consumed WCU per minute against the activity alarm's threshold (red above it)."""
    table = _table_dimensions(cloud)
    wcu = metric_frame(cloud, "AWS/DynamoDB", "ConsumedWriteCapacityUnits", table,
                       minutes=minutes)["ConsumedWriteCapacityUnits"]
    throttles = metric_frame(cloud, "AWS/DynamoDB", "WriteThrottleEvents", table,
                             minutes=minutes)["WriteThrottleEvents"]
    figure, axes = _figure()
    present = wcu.dropna()
    colours = [STATE_COLOURS["ALARM"] if value > threshold else "#2E73B8" for value in present]
    axes.bar(present.index, present.to_numpy(), width=BAR_WIDTH, align="edge", color=colours,
             label="consumed WCU (Sum per minute)")
    axes.axhline(threshold, color="#333333", linestyle="--", linewidth=1,
                 label=f"alarm threshold ({threshold:g})")
    throttled = throttles[throttles > 0]
    if not throttled.empty:
        axes.plot(throttled.index + BAR_WIDTH / 2, throttled.to_numpy(), "kx", markersize=8,
                  label="write throttle events")
    axes.set_ylim(0, max([threshold, *present.tolist(), *throttled.tolist()]) * 1.25)
    axes.set_ylabel("write capacity units")
    axes.set_title(f"{cloud.names.table}: consumed write capacity per minute")
    _minute_axis(axes, wcu.index)
    axes.legend(loc="upper left", fontsize=8)
    return figure


def plot_lambda_metrics(cloud: Lab, *, minutes: int = 15) -> Figure:
    """Invocations and errors per minute (left) and the average / maximum duration (right)."""
    frame = lambda_frame(cloud, minutes=minutes)
    figure, (counts, durations) = _figure(columns=2)
    invocations = frame["Invocations"].dropna()
    errors = frame["Errors"].dropna()
    counts.bar(invocations.index, invocations.to_numpy(), width=BAR_WIDTH, align="edge",
               color="#ED7100", label="invocations")
    counts.bar(errors.index, errors.to_numpy(), width=BAR_WIDTH, align="edge",
               color=STATE_COLOURS["ALARM"], label="errors")
    counts.set_ylabel("per minute")
    counts.set_title("Invocations and errors", fontsize=10)
    # Points in the middle of their minute; NaN minutes (no invocation) break the line.
    middle = frame.index + BAR_WIDTH / 2
    durations.plot(middle, frame["Duration avg (ms)"].to_numpy(), "o-", color="#2E73B8",
                   label="average")
    durations.plot(middle, frame["Duration max (ms)"].to_numpy(), "^", color="#333333",
                   label="maximum")
    durations.set_ylabel("milliseconds")
    durations.set_title("Duration", fontsize=10)
    for axes in (counts, durations):
        _minute_axis(axes, frame.index, ticks=4)
        axes.set_ylim(bottom=0)
        axes.legend(loc="upper left", fontsize=8)
    figure.suptitle(f"Lambda function {cloud.names.function}", fontsize=11)
    return figure


# -- alarm history ---------------------------------------------------------------------------------

def _history(cloud: Lab, alarm: str, item_type: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    with friendly(f"read the history of alarm {alarm}"):
        paginator = cloud.client("cloudwatch").get_paginator("describe_alarm_history")
        for page in paginator.paginate(AlarmName=alarm, HistoryItemType=item_type,
                                       ScanBy="TimestampAscending"):
            items.extend(page["AlarmHistoryItems"])
    return items


def alarm_timeline(cloud: Lab) -> pd.DataFrame:
    """Every state change of the lab's two alarms, oldest first (``DescribeAlarmHistory``).

    Times are shown to the second, as the Console's History tab shows them; changes within the
    same second keep the order CloudWatch recorded them in.
    """
    import pandas as pd

    rows = []
    for alarm in (cloud.names.activity_alarm, cloud.names.throttle_alarm):
        for item in _history(cloud, alarm, "StateUpdate"):
            data = json.loads(item["HistoryData"])
            rows.append({"time": pd.Timestamp(item["Timestamp"]).tz_convert("UTC"),
                         "alarm": item["AlarmName"], "from": data["oldState"]["stateValue"],
                         "to": data["newState"]["stateValue"],
                         "reason": data["newState"].get("stateReason", "")})
    frame = pd.DataFrame(rows, columns=TIMELINE_COLUMNS)
    frame["time"] = pd.to_datetime(frame["time"], utc=True)
    frame = frame.sort_values(["time", "alarm"], kind="stable", ignore_index=True)
    frame["time"] = frame["time"].dt.floor("s")
    return frame


def _created(cloud: Lab, alarm: str) -> pd.Timestamp | None:
    import pandas as pd

    times = [pd.Timestamp(item["Timestamp"]).tz_convert("UTC")
             for item in _history(cloud, alarm, "ConfigurationUpdate")
             if json.loads(item["HistoryData"]).get("type") == "Create"]
    return max(times) if times else None


def _segments(changes: pd.DataFrame, created: pd.Timestamp | None, start: pd.Timestamp,
              end: pd.Timestamp) -> list[tuple[pd.Timestamp, pd.Timestamp, str]]:
    """(from, to, state) spans of one alarm inside [start, end], from its state changes."""
    if changes.empty:
        return []
    begin = max(start, created) if created is not None else start
    moments = [begin, *changes["time"].tolist(), end]
    states = [changes["from"].iloc[0], *changes["to"].tolist()]
    spans = []
    for left, right, state in zip(moments, moments[1:], states):
        left, right = max(left, start), min(right, end)
        if right > left:
            spans.append((left, right, state))
    return spans


def plot_alarm_timeline(cloud: Lab, *, minutes: int = 15) -> Figure:
    """One coloured band per alarm showing its state over the last ``minutes`` minutes."""
    import pandas as pd
    from matplotlib.patches import Patch

    index = minute_range(cloud, minutes)
    start, end = index[0], pd.Timestamp(now(cloud)).tz_convert("UTC")
    timeline = alarm_timeline(cloud)
    current = alarms.alarm_states(cloud)
    names = [cloud.names.activity_alarm, cloud.names.throttle_alarm]
    figure, axes = _figure()
    for row, name in enumerate(names):
        changes = timeline[timeline["alarm"] == name]
        spans = _segments(changes, _created(cloud, name), start, end)
        if not spans and name in current:
            created = _created(cloud, name)
            spans = [(max(start, created) if created is not None else start, end, current[name])]
        for left, right, state in spans:
            axes.barh(row, right - left, left=left, height=0.5, color=STATE_COLOURS[state])
    axes.set_yticks(range(len(names)), names, fontsize=8)
    axes.invert_yaxis()
    _minute_axis(axes, index, ticks=6)
    axes.legend(handles=[Patch(color=colour, label=state)
                         for state, colour in STATE_COLOURS.items()],
                loc="upper center", bbox_to_anchor=(0.5, -0.28), ncol=3, fontsize=8)
    axes.set_title("Alarm states over time")
    return figure


# -- the Free Tier and what is left ----------------------------------------------------------------

def _count_pages(cloud: Lab, service: str, operation: str, key: str, keep: Any,
                 **parameters: Any) -> int:
    """How many entries under ``key`` of a paginated listing satisfy ``keep``."""
    count = 0
    with friendly(f"list {service} ({operation})"):
        for page in cloud.client(service).get_paginator(operation).paginate(**parameters):
            count += sum(1 for entry in page.get(key, []) if keep(entry))
    return count


def _object_versions(cloud: Lab) -> int:
    from lab import s3

    if s3.get_bucket(cloud) is None:
        return 0
    count = 0
    with friendly(f"list the object versions of bucket {cloud.names.bucket}"):
        paginator = cloud.client("s3").get_paginator("list_object_versions")
        for page in paginator.paginate(Bucket=cloud.names.bucket):
            count += len(page.get("Versions", [])) + len(page.get("DeleteMarkers", []))
    return count


def _alert_emails(cloud: Lab, days: int) -> float:
    if not cloud.is_local:
        return _metric_total(cloud, "AWS/SNS", "NumberOfNotificationsDelivered",
                             {"TopicName": cloud.names.topic}, days=days)
    since = now(cloud) - dt.timedelta(days=days)
    return float(sum(1 for mail in cloud.inbox(cloud.names.email)
                     if mail["subject"] != CONFIRMATION_SUBJECT and mail["time"] >= since))


def free_tier_usage(cloud: Lab, *, days: int = 30) -> pd.DataFrame:
    """What the lab used over the last ``days`` days next to the AWS Free Tier allowances.

    Lambda figures come from the function's AWS/Lambda metrics (GB-seconds = duration × memory),
    DynamoDB's from the table's provisioned capacity, S3 PUTs from the object versions stored in
    the bucket (each took at least one PUT), emails from the inbox (moto) or the topic's
    NumberOfNotificationsDelivered (AWS), alarms from every metric alarm in the region.
    """
    import pandas as pd

    from lab import awslambda

    functions = _function_dimensions(cloud)
    memory_mb = (awslambda.get_function(cloud) or {}).get("MemorySize", awslambda.MEMORY_MB)
    duration_ms = _metric_total(cloud, "AWS/Lambda", "Duration", functions, days=days)
    capacity = (dynamodb.get_table(cloud) or {}).get("ProvisionedThroughput", {})
    alarm_count = _count_pages(cloud, "cloudwatch", "describe_alarms", "MetricAlarms",
                               lambda alarm: True)
    always, first_year = "always free", "first 12 months"
    rows = [  # service, measure, used, free tier key, unit, offer
        ("Lambda", "requests",
         _metric_total(cloud, "AWS/Lambda", "Invocations", functions, days=days),
         "lambda_requests", "requests per month", always),
        ("Lambda", "compute", duration_ms / 1000 * memory_mb / 1024,
         "lambda_gb_seconds", "GB-seconds per month", always),
        ("DynamoDB", "write capacity", capacity.get("WriteCapacityUnits", 0),
         "dynamodb_wcu", "WCU provisioned", always),
        ("DynamoDB", "read capacity", capacity.get("ReadCapacityUnits", 0),
         "dynamodb_rcu", "RCU provisioned", always),
        ("S3", "PUT requests", _object_versions(cloud), "s3_puts", "requests per month",
         first_year),
        ("SNS", "email deliveries", _alert_emails(cloud, days), "sns_emails", "emails per month",
         always),
        ("CloudWatch", "alarms", alarm_count, "cloudwatch_alarms", "alarms", always),
    ]
    frame = pd.DataFrame(
        [(service, measure, float(used), FREE_TIER[key], unit, 100 * float(used) / FREE_TIER[key],
          offer) for service, measure, used, key, unit, offer in rows],
        columns=USAGE_COLUMNS)
    # Counts are whole numbers (27 requests, not 27.0); only compute is a fraction (GB-seconds).
    frame["used"] = pd.Series([used if key == "lambda_gb_seconds" else int(round(used))
                               for used, (*_, key, _unit, _offer) in zip(frame["used"], rows)],
                              dtype=object)
    return frame


def alarm_against_chart(cloud: Lab, alarm: str | None = None) -> dict[str, Any] | None:
    """The datapoint the alarm's newest ALARM transition names, next to that minute's Sum.

    CloudWatch judges a one-minute period once it is over, so the value in the reason
    (``[12.0 (03/12/26 19:07:00)]``) equals the minute's Sum that GetMetricStatistics returns
    (lesson 08). None when the alarm has not gone to ALARM.
    """
    import re

    alarm = alarm or cloud.names.activity_alarm
    reasons = [json.loads(item["HistoryData"])["newState"].get("stateReason", "")
               for item in _history(cloud, alarm, "StateUpdate")
               if json.loads(item["HistoryData"])["newState"]["stateValue"] == "ALARM"]
    found = re.search(r"\[([\d.]+) \((\d{2}/\d{2}/\d{2} \d{2}:\d{2}:\d{2})\)", reasons[-1]) \
        if reasons else None
    if found is None:
        return None
    minute = dt.datetime.strptime(found.group(2), "%d/%m/%y %H:%M:%S").replace(
        tzinfo=dt.timezone.utc)
    with friendly("read the minute's Sum of ConsumedWriteCapacityUnits"):
        points = cloud.client("cloudwatch").get_metric_statistics(
            Namespace="AWS/DynamoDB", MetricName="ConsumedWriteCapacityUnits",
            Dimensions=_dimension_list(_table_dimensions(cloud)), StartTime=minute,
            EndTime=minute + dt.timedelta(minutes=1), Period=60, Statistics=["Sum"])["Datapoints"]
    return {"minute": minute, "alarm_value": float(found.group(1)),
            "chart_sum": float(sum(point["Sum"] for point in points))}


def inventory(cloud: Lab) -> pd.DataFrame:
    """How many of the lab's resources each service still lists, through paginated API calls."""
    import pandas as pd

    from lab import sqs

    from lab.aws import settled

    rows = settled(lambda: _inventory_rows(cloud, sqs))  # deleted a moment ago: maybe still listed
    return pd.DataFrame(rows, columns=INVENTORY_COLUMNS).sort_values(
        ["service", "resource"], ignore_index=True)


def _inventory_rows(cloud: Lab, sqs: Any) -> list[tuple[str, str, str, int]]:
    names = cloud.names
    topic_suffix = f":{names.topic}"
    return [
        ("CloudWatch", "alarms", "DescribeAlarms", _count_pages(
            cloud, "cloudwatch", "describe_alarms", "MetricAlarms",
            lambda a: a["AlarmName"] in (names.activity_alarm, names.throttle_alarm))),
        ("CloudWatch Logs", "log group", "DescribeLogGroups", _count_pages(
            cloud, "logs", "describe_log_groups", "logGroups",
            lambda g: g["logGroupName"] == names.log_group, logGroupNamePrefix=names.log_group)),
        ("DynamoDB", "table", "ListTables", _count_pages(
            cloud, "dynamodb", "list_tables", "TableNames", lambda t: t == names.table)),
        ("IAM", "role", "ListRoles", _count_pages(
            cloud, "iam", "list_roles", "Roles", lambda r: r["RoleName"] == names.role)),
        ("Lambda", "event source mappings", "ListEventSourceMappings", _count_pages(
            cloud, "lambda", "list_event_source_mappings", "EventSourceMappings",
            lambda m: m["FunctionArn"].split(":")[6] == names.function)),
        ("Lambda", "function", "ListFunctions", _count_pages(
            cloud, "lambda", "list_functions", "Functions",
            lambda f: f["FunctionName"] == names.function)),
        ("S3", "bucket", "ListBuckets", _count_pages(
            cloud, "s3", "list_buckets", "Buckets", lambda b: b["Name"] == names.bucket)),
        ("S3", "object versions", "ListObjectVersions", _object_versions(cloud)),
        ("SNS", "subscriptions", "ListSubscriptions", _count_pages(
            cloud, "sns", "list_subscriptions", "Subscriptions",
            lambda s: s["TopicArn"].endswith(topic_suffix))),
        ("SNS", "topic", "ListTopics", _count_pages(
            cloud, "sns", "list_topics", "Topics", lambda t: t["TopicArn"].endswith(topic_suffix))),
        ("SQS", "queues", "ListQueues", len(sqs.lab_queues(cloud))),
    ]
