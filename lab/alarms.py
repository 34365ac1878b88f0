"""CloudWatch alarms on the table's writes, wired to the alerts topic (lesson 06)."""

from __future__ import annotations

import textwrap
from typing import Any

from lab.aws import friendly, report
from lab.connection import Lab

ACTIVITY_THRESHOLD = 10.0  # WCU per minute: a burst of a dozen uploads crosses it
PERIOD_SECONDS = 60


def alarm_specs(lab: Lab, *, activity_threshold: float = ACTIVITY_THRESHOLD) -> list[dict[str, Any]]:
    """The two alarms of the seed, as ``put_metric_alarm`` arguments (without the actions)."""
    table = [{"Name": "TableName", "Value": lab.names.table}]
    return [
        {
            "AlarmName": lab.names.activity_alarm,
            "AlarmDescription": f"More than {activity_threshold:g} write capacity units "
                                f"consumed in a minute on {lab.names.table}",
            "Namespace": "AWS/DynamoDB", "MetricName": "ConsumedWriteCapacityUnits",
            "Dimensions": table, "Statistic": "Sum", "Period": PERIOD_SECONDS,
            "EvaluationPeriods": 1, "DatapointsToAlarm": 1, "Threshold": float(activity_threshold),
            "ComparisonOperator": "GreaterThanThreshold", "TreatMissingData": "notBreaching",
        },
        {
            "AlarmName": lab.names.throttle_alarm,
            "AlarmDescription": f"Writes to {lab.names.table} are being throttled",
            "Namespace": "AWS/DynamoDB", "MetricName": "WriteThrottleEvents",
            "Dimensions": table, "Statistic": "Sum", "Period": PERIOD_SECONDS,
            "EvaluationPeriods": 1, "DatapointsToAlarm": 1, "Threshold": 1.0,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold", "TreatMissingData": "notBreaching",
        },
    ]


def get_alarm(lab: Lab, name: str) -> dict[str, Any] | None:
    """The metric alarm called ``name``, or None."""
    with friendly(f"describe alarm {name}"):
        alarms = lab.client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return alarms[0] if alarms else None


def _differs(current: dict[str, Any], spec: dict[str, Any]) -> bool:
    return any(current.get(key) != value for key, value in spec.items())


def put_alarm(lab: Lab, spec: dict[str, Any], topic_arn: str) -> None:
    """Create or replace one alarm with ALARM and OK actions on the topic (the raw call)."""
    with friendly(f"put alarm {spec['AlarmName']}"):
        lab.client("cloudwatch").put_metric_alarm(
            **spec, ActionsEnabled=True, AlarmActions=[topic_arn], OKActions=[topic_arn])


def _ensure(lab: Lab, spec: dict[str, Any], topic_arn: str, *, quiet: bool) -> str:
    """Get or create one alarm (updated when its settings differ); one ✓ line; its ARN."""
    current = get_alarm(lab, spec["AlarmName"])
    wanted = {**spec, "AlarmActions": [topic_arn], "OKActions": [topic_arn]}
    if current is None or _differs(current, wanted):
        put_alarm(lab, spec, topic_arn)
        current_was_missing = current is None
        current = get_alarm(lab, spec["AlarmName"])
        if not quiet and not current_was_missing:
            print(f"✓ Alarm {spec['AlarmName']} already exists (updated its settings)")
        else:
            report(True, "alarm", spec["AlarmName"], quiet=quiet)
    else:
        report(False, "alarm", spec["AlarmName"], quiet=quiet)
    return current["AlarmArn"]


def ensure_alarms(lab: Lab, *, activity_threshold: float = ACTIVITY_THRESHOLD,
                  quiet: bool = False) -> list[str]:
    """Get or create both alarms (updated when their settings differ); one ✓ line each; ARNs."""
    from lab import dynamodb, sns

    topic_arn = sns.require_topic(lab)
    dynamodb.require_table(lab)
    return [_ensure(lab, spec, topic_arn, quiet=quiet)
            for spec in alarm_specs(lab, activity_threshold=activity_threshold)]


def ensure_activity_alarm(lab: Lab, *, quiet: bool = False) -> str:
    """Get or create the activity alarm alone, as lesson 06's exercise builds it; one ✓ line; ARN."""
    from lab import dynamodb, sns

    topic_arn = sns.require_topic(lab)
    dynamodb.require_table(lab)
    return _ensure(lab, alarm_specs(lab)[0], topic_arn, quiet=quiet)


def alarm_states(lab: Lab) -> dict[str, str]:
    """``{alarm name: state}`` for the lab's two alarms (absent ones are left out)."""
    names = [lab.names.activity_alarm, lab.names.throttle_alarm]
    with friendly("describe the lab's alarms"):
        alarms = lab.client("cloudwatch").describe_alarms(AlarmNames=names)["MetricAlarms"]
    return {a["AlarmName"]: a["StateValue"] for a in sorted(alarms, key=lambda a: names.index(a["AlarmName"]))}


def describe_states(lab: Lab) -> list[dict[str, str]]:
    """The lab's alarms as found now: ``[{"alarm", "state", "reason"}]`` (absent ones left out)."""
    names = [lab.names.activity_alarm, lab.names.throttle_alarm]
    with friendly("describe the lab's alarms"):
        alarms = lab.client("cloudwatch").describe_alarms(AlarmNames=names)["MetricAlarms"]
    return [{"alarm": a["AlarmName"], "state": a["StateValue"], "reason": a["StateReason"]}
            for a in sorted(alarms, key=lambda a: names.index(a["AlarmName"]))]


def print_states(lab: Lab) -> None:
    """Print each of the lab's alarms with its state, and the reason CloudWatch gives for it."""
    found = describe_states(lab)
    if not found:
        print("Neither alarm exists yet.")
    for alarm in found:
        print(f"{alarm['alarm']:<28} {alarm['state']}")
        print(textwrap.fill(f"reason: {alarm['reason']}", width=100, initial_indent="    ",
                            subsequent_indent="            ", break_long_words=False,
                            break_on_hyphens=False))


def delete_alarms(lab: Lab) -> list[str]:
    """Delete the lab's alarms; returns the names that existed."""
    present = list(alarm_states(lab))
    if present:
        with friendly("delete the lab's alarms"):
            lab.client("cloudwatch").delete_alarms(AlarmNames=present)
    return present
