"""Exercises of lesson 06 · CloudWatch alarms: the two alarms, M out of N, missing data on DynamoDB."""

from __future__ import annotations

from typing import Any

from lab import alarms as lab_alarms
from lab import sns
from lab.checks import Exercise, Wrong, require_connection

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
    solution_text="from lab import alarms\nalarms.ensure_alarms(cloud)",
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
