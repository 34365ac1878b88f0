"""Exercises of lesson 06 · CloudWatch alarms: the activity alarm, M out of N, missing data on DynamoDB."""

from __future__ import annotations

from typing import Any

from lab import alarms as lab_alarms
from lab import sns
from lab.checks import BuildExercise, Exercise, Wrong, require_connection
from lab.connection import Lab

STATES = ("OK", "ALARM", "INSUFFICIENT_DATA")
# q1: an alarm "Sum > 10, 2 out of 3 datapoints", and the Sums of the last five minutes.
SERIES = (14.0, 12.0, 3.0, 11.0, 2.0)  # oldest first
THRESHOLD = 10.0
DATAPOINTS_TO_ALARM = 2
EVALUATION_PERIODS = 3
SERIES_STATE = "OK"  # the 3 most recent are 3, 11, 2: only one breaches, and 2 are needed
# q2: the activity alarm went to ALARM on a minute of 12 WCU; then no writes for ten minutes.
QUIET_STATE = "ALARM"  # AWS/DynamoDB alarms ignore missing data: the state stays
_CHECKED = ("Namespace", "MetricName", "Dimensions", "Statistic", "Period", "EvaluationPeriods",
            "DatapointsToAlarm", "ComparisonOperator", "Threshold")
# What PutMetricAlarm accepts as ComparisonOperator (AWS refuses anything else; moto does not).
OPERATORS = ("GreaterThanOrEqualToThreshold", "GreaterThanThreshold", "LessThanThreshold",
             "LessThanOrEqualToThreshold", "LessThanLowerOrGreaterThanUpperThreshold",
             "LessThanLowerThreshold", "GreaterThanUpperThreshold")
_DYNAMODB_METRICS = ("ConsumedWriteCapacityUnits", "ConsumedReadCapacityUnits",
                     "WriteThrottleEvents", "ReadThrottleEvents", "ThrottledRequests",
                     "SuccessfulRequestLatency", "UserErrors", "SystemErrors",
                     "ProvisionedWriteCapacityUnits", "ProvisionedReadCapacityUnits")
_RERUN = "fix it and run the cell again (put_metric_alarm replaces the alarm)."


# --- build_activity_alarm: the learner's put_metric_alarm -----------------------------------------

def _namespace_wrong(namespace: Any) -> str:
    if isinstance(namespace, str) and namespace.lower() == "aws/dynamodb":
        return (f"Namespace is {namespace!r}, but namespaces are case-sensitive: DynamoDB "
                f"publishes under 'AWS/DynamoDB' exactly. Nothing is published under yours, so "
                f"the alarm could never fire: {_RERUN}")
    if isinstance(namespace, str) and not namespace.startswith("AWS/"):
        return (f"Namespace is {namespace!r}: every AWS service publishes its metrics under "
                "'AWS/<service>', with the prefix. Nothing is published under yours, so the "
                f"alarm would watch a metric nobody publishes and never fire: {_RERUN}")
    return (f"Namespace is {namespace!r}: AWS services publish under 'AWS/' and their full "
            "name, as the lesson's 'What the alarms watch' names it. Nothing is published under "
            f"yours, so the alarm would watch a metric nobody publishes and never fire: {_RERUN}")


def _metric_wrong(metric: Any, cloud: Lab) -> str:
    if metric == "WriteThrottleEvents":
        return (f"MetricName 'WriteThrottleEvents' is the metric of the other alarm "
                f"({cloud.names.throttle_alarm}): it counts rejected writes, not writes. The "
                f"activity alarm watches the write capacity units the table consumed: {_RERUN}")
    if metric == "ConsumedReadCapacityUnits":
        return ("MetricName 'ConsumedReadCapacityUnits' counts reads, but the pipeline writes: "
                f"the activity alarm watches the write capacity units consumed. {_RERUN}")
    if isinstance(metric, str) and metric.lower() in {m.lower() for m in _DYNAMODB_METRICS}:
        return (f"MetricName {metric!r}: metric names are case-sensitive, and DynamoDB spells "
                f"its metrics in CamelCase. The alarm would never fire: {_RERUN}")
    return (f"DynamoDB publishes no metric called {metric!r}, so the alarm would watch a metric "
            "nobody publishes and never fire. The lesson names the one that counts the write "
            f"capacity units a table consumed: {_RERUN}")


def _threshold_wrong(threshold: Any) -> str:
    right = lab_alarms.ACTIVITY_THRESHOLD
    if threshold < right:
        return (f"Threshold is {threshold:g}: the alarm would fire on any minute with more than "
                f"{threshold:g} write unit{'' if threshold == 1 else 's'} — a few ordinary "
                f"uploads. The lab's alarm fires above "
                f"{right:g} (alarms.ACTIVITY_THRESHOLD): {_RERUN}")
    return (f"Threshold is {threshold:g}: it would take more than {threshold:g} uploads in one "
            f"minute to fire, so a burst of a dozen would go unnoticed. The lab's alarm fires "
            f"above {right:g} (alarms.ACTIVITY_THRESHOLD): {_RERUN}")


def _operator_wrong(operator: Any) -> str:
    right = lab_alarms.ACTIVITY_THRESHOLD
    if operator == "GreaterThanOrEqualToThreshold":
        return (f"ComparisonOperator 'GreaterThanOrEqualToThreshold' would make exactly "
                f"{right:g} writes in a minute alarm; the lab's alarm fires only above "
                f"{right:g} (greater than, not equal): {_RERUN}")
    if operator in OPERATORS:
        return (f"ComparisonOperator {operator!r} would fire when writes are few, not when "
                f"there are too many; the alarm is about a burst, more than {right:g}: {_RERUN}")
    return (f"ComparisonOperator {operator!r} is not a valid value: AWS refuses it (the moto "
            f"backend let it through). The four simple ones are {', '.join(OPERATORS[:4])}; "
            f"{_RERUN}")


def _action_wrong(kind: str, actions: list[str], cloud: Lab) -> str:
    topic = cloud.names.topic
    if not actions:
        return (f"{kind} is empty, so that state change would send no email. Put the alerts "
                f"topic's ARN in it: {_RERUN}")
    given = actions[0]
    if given == topic or not given.startswith("arn:"):
        return (f"{kind} holds {given!r}, which is the topic's name, not its ARN: actions are "
                "ARNs (AWS refuses a name). sns.get_topic(cloud) returns the topic's ARN: "
                f"{_RERUN}")
    parts = given.split(":")
    if len(parts) == 6 and parts[4] == "":
        return (f"{kind} holds {given!r}, an ARN without its account id (nothing between "
                "the last two colons): no such topic exists, so no email would be sent. "
                f"cloud.account_id is the missing part, or use sns.get_topic(cloud): {_RERUN}")
    if len(parts) == 6 and parts[2] == "sns" and parts[5] != topic:
        return (f"{kind} holds {given!r}: that is not the lab's topic {topic!r}. "
                f"sns.get_topic(cloud) returns the right ARN: {_RERUN}")
    return (f"{kind} holds {given!r}, which is not the ARN of the topic {topic!r}. "
            f"sns.get_topic(cloud) returns it: {_RERUN}")


def _built_activity_alarm(cloud: Lab) -> str:
    """Pass when the activity alarm is exactly the lab's (alarms.alarm_specs), with both actions."""
    name = cloud.names.activity_alarm
    alarm = lab_alarms.get_alarm(cloud, name)
    if alarm is None:
        raise Wrong(f"there is no alarm {name} yet: fill in the blanks and run the cell again.")
    spec = lab_alarms.alarm_specs(cloud)[0]
    if alarm.get("Namespace") != spec["Namespace"]:
        raise Wrong(_namespace_wrong(alarm.get("Namespace")))
    if alarm.get("MetricName") != spec["MetricName"]:
        raise Wrong(_metric_wrong(alarm.get("MetricName"), cloud))
    if alarm.get("ComparisonOperator") != spec["ComparisonOperator"]:
        raise Wrong(_operator_wrong(alarm.get("ComparisonOperator")))
    if alarm.get("Threshold") != spec["Threshold"]:
        raise Wrong(_threshold_wrong(alarm.get("Threshold")))
    topic_arn = sns.get_topic(cloud) or cloud.arn("sns", cloud.names.topic)
    for kind in ("AlarmActions", "OKActions"):
        if alarm.get(kind) != [topic_arn]:
            raise Wrong(_action_wrong(kind, alarm.get(kind) or [], cloud))
    for field, wanted in spec.items():
        if alarm.get(field) != wanted:
            raise Wrong(f"{field} is {alarm.get(field)!r}, but the cell sets {wanted!r}: change "
                        f"only the blanks, then {_RERUN}")
    if not alarm.get("ActionsEnabled", True):
        raise Wrong(f"the actions of {name} are disabled, so no email would be sent: keep "
                    f"ActionsEnabled=True and {_RERUN}")
    return (f"{name} sums {spec['MetricName']} of {cloud.names.table} per minute, goes to ALARM "
            f"above {spec['Threshold']:g} and emails through {cloud.names.topic} on ALARM and OK.")


def _explain_put_metric_alarm(code: str, message: str, cloud: Lab) -> str | None:
    if code == "ParamValidationError":
        if "parameter Threshold" in message and "<class 'str'>" in message:
            return ("boto3 refused the call before sending it: Threshold is a number, and you "
                    "gave a string (in quotes). Write the number without quotes and run the "
                    "cell again.")
        if "parameter Threshold" in message:
            return ("boto3 refused the call before sending it: Threshold must be a number. "
                    "Fix it and run the cell again.")
        if "AlarmActions" in message or "OKActions" in message:
            return ("boto3 refused the call before sending it: topic_arn must be one ARN, a "
                    "string (the cell already puts it in a list). Fix it and run the cell again.")
        detail = message.splitlines()[-1] if message.strip() else message
        return (f"boto3 refused the call before sending it: {detail.strip()}. Fix that value "
                "and run the cell again.")
    lowered = message.lower()
    if code in ("ValidationError", "InvalidParameterValue", "InvalidParameterCombination"):
        if "comparisonoperator" in lowered:
            return ("AWS refused ComparisonOperator: it is not a valid value. The four simple "
                    f"ones are {', '.join(OPERATORS[:4])}. Fix it and run the cell again.")
        no_detail = not message.strip() or message.rstrip().endswith("operation:")
        if no_detail or "arn" in lowered or "action" in lowered:
            return ("AWS refused the alarm's actions: they take the topic's full ARN "
                    "(arn:aws:sns:<region>:<account id>:<name>), not its name. "
                    "sns.get_topic(cloud) returns it; run the cell again.")
        if "threshold" in lowered:
            return f"AWS refused the Threshold: {message} Fix it and run the cell again."
    return None


# --- value exercises -------------------------------------------------------------------------------

def _state(answer: Any) -> str:
    """An answer as an alarm state name; Wrong when it is not one."""
    if not isinstance(answer, str):
        raise Wrong(f'give a state as a string: "OK", "ALARM" or "INSUFFICIENT_DATA"; '
                    f"you gave {answer!r}.")
    state = answer.strip().upper().replace(" ", "_")
    if state not in STATES:
        raise Wrong(f'{answer!r} is not an alarm state: use "OK", "ALARM" or "INSUFFICIENT_DATA".')
    return state


def _alarms(cloud: Any) -> str:
    """Pass when both alarms watch the table as the lesson sets them, with ALARM and OK actions."""
    cloud = require_connection(cloud)
    topic_arn = sns.get_topic(cloud)
    if topic_arn is None:
        raise Wrong(f"the topic {cloud.names.topic} does not exist: run lesson 01 first.")
    current = lab_alarms.get_alarm(cloud, cloud.names.activity_alarm)
    threshold = float(current["Threshold"]) if current else lab_alarms.ACTIVITY_THRESHOLD
    fix = "alarms.ensure_alarms(cloud) sets it as the lesson does."
    for spec in lab_alarms.alarm_specs(cloud, activity_threshold=threshold):
        name = spec["AlarmName"]
        alarm = lab_alarms.get_alarm(cloud, name)
        if alarm is None:
            raise Wrong(f"there is no alarm {name} yet: run the put_metric_alarm cell above, or "
                        "alarms.ensure_alarms(cloud).")
        for field in _CHECKED:
            if alarm.get(field) != spec[field]:
                raise Wrong(f"{name} has {field} {alarm.get(field)!r}, the lesson uses "
                            f"{spec[field]!r}: {fix}")
        if not alarm.get("ActionsEnabled", True):
            raise Wrong(f"the actions of {name} are disabled, so no email would be sent: {fix}")
        for kind in ("AlarmActions", "OKActions"):
            if topic_arn not in alarm.get(kind, []):
                raise Wrong(f"{name} does not notify {cloud.names.topic} in its {kind}, so that "
                            f"state change would send no email: {fix}")
    return (f"{cloud.names.activity_alarm} (Sum of ConsumedWriteCapacityUnits > {threshold:g} in "
            f"a minute) and {cloud.names.throttle_alarm} (WriteThrottleEvents ≥ 1) watch "
            f"{cloud.names.table} and notify {cloud.names.topic} on ALARM and on OK.")


def _series_state(answer: Any) -> str:
    """Pass when ``answer`` is the state of the 2-out-of-3 alarm after SERIES."""
    state = _state(answer)
    recent = SERIES[-EVALUATION_PERIODS:]
    breaching = [v for v in recent if v > THRESHOLD]
    if state == SERIES_STATE:
        return (f"only the {EVALUATION_PERIODS} most recent datapoints count "
                f"({', '.join(f'{v:g}' for v in recent)}), and {len(breaching)} of them is above "
                f"{THRESHOLD:g}: fewer than the {DATAPOINTS_TO_ALARM} needed, so OK. The two big "
                "minutes at the start are outside the window.")
    if state == "ALARM":
        raise Wrong(f"{sum(v > THRESHOLD for v in SERIES)} of the five minutes are above "
                    f"{THRESHOLD:g}, but an alarm with {EVALUATION_PERIODS} evaluation periods looks "
                    f"only at the {EVALUATION_PERIODS} most recent. How many of those breach?")
    raise Wrong("INSUFFICIENT_DATA means too few datapoints to decide, but every one of the "
                f"{EVALUATION_PERIODS} evaluated minutes has a datapoint here.")


def _quiet_state(answer: Any) -> str:
    """Pass when ``answer`` is the activity alarm's state after ten minutes without writes."""
    state = _state(answer)
    if state == QUIET_STATE:
        return ("alarms on AWS/DynamoDB metrics always treat missing data as 'ignore', whatever "
                "TreatMissingData says: quiet minutes have no datapoint, so there is nothing to "
                "evaluate and the alarm keeps its state. It takes a real datapoint of 10 or less "
                "to bring it back to OK.")
    if state == "OK":
        raise Wrong("that is what TreatMissingData=notBreaching would do on most metrics. Read "
                    "the note about alarms on AWS/DynamoDB metrics above once more.")
    raise Wrong("that is what TreatMissingData=missing does on most metrics once every evaluated "
                "period is missing. Does it apply to an AWS/DynamoDB metric?")


alarms = Exercise(
    title="The two alarms",
    test=_alarms,
    hints=(
        "Run the put_metric_alarm cell and the alarms.ensure_alarms(cloud) cell above.",
        "alarms.alarm_specs(cloud) lists every setting the check compares.",
    ),
    solution_text=("Run the cell with alarms.ensure_alarms(cloud) above: it sets both alarms as "
                   "the lesson does."),
)

build_activity_alarm = BuildExercise(
    title="Create the activity alarm",
    test=_built_activity_alarm,
    build=lab_alarms.ensure_activity_alarm,
    explain=_explain_put_metric_alarm,
    hints=(
        "'What the alarms watch' names the namespace and the metric: DynamoDB publishes under "
        "its own namespace, and the activity alarm counts the write capacity units consumed.",
        "Threshold is a number (no quotes), and 'more than ten' is not 'ten or more'. "
        "topic_arn is the alerts topic's full ARN: sns.get_topic(cloud) returns it.",
        "Namespace 'AWS/…' with the service's name; ComparisonOperator is one of "
        + ", ".join(OPERATORS[:4]) + ".",
    ),
    solution_text=(
        "The five blanks of the cell, in order:\n"
        "topic_arn          → sns.get_topic(cloud)   (the alerts topic's full ARN)\n"
        "Namespace          → \"AWS/DynamoDB\"\n"
        "MetricName         → \"ConsumedWriteCapacityUnits\"\n"
        "Threshold          → 10.0   (a number: alarms.ACTIVITY_THRESHOLD)\n"
        "ComparisonOperator → \"GreaterThanThreshold\"   (more than 10; exactly 10 does not alarm)"),
)

q1 = Exercise(
    title="Two out of three",
    test=_series_state,
    hints=(
        f"With {EVALUATION_PERIODS} evaluation periods, the alarm looks at the "
        f"{EVALUATION_PERIODS} most recent minutes only.",
        f"Write down the last {EVALUATION_PERIODS} values and count those above "
        f"{THRESHOLD:g} (equal is not above).",
        f"3, 11 and 2: one breaching datapoint, {DATAPOINTS_TO_ALARM} needed.",
    ),
    solution_text=f'answer = "{SERIES_STATE}"   # last 3: 3, 11, 2 → 1 breaching < 2 needed',
)

q2 = Exercise(
    title="Ten quiet minutes",
    test=_quiet_state,
    hints=(
        "A minute without writes has no datapoint at all: it is missing, not 0.",
        "Which treatment of missing data applies to alarms on AWS/DynamoDB metrics, whatever "
        "the alarm's TreatMissingData says?",
    ),
    solution_text=(f'answer = "{QUIET_STATE}"   # AWS/DynamoDB alarms ignore missing data: '
                   "the state is kept"),
)
