"""CloudWatch metric alarms that evaluate against the local clock and notify SNS when they change.

moto stores alarms but never evaluates them (a new one even says OK). Here, as AWS documents in
"Evaluating an alarm" and "Configuring how CloudWatch alarms treat missing data":

* A new alarm is INSUFFICIENT_DATA ("Unchecked: Initial alarm creation"); updating an alarm keeps
  its state. Alarms are evaluated when a matching datapoint arrives (``put_datapoint`` or the
  PutMetricData API), at every minute boundary the clock passes while data or a new alarm may
  still change a state (a clock task, so ``clock.advance(minutes=10)`` evaluates each minute at
  its own time, as CloudWatch evaluates every minute), once per clock minute on every clock tick,
  and lazily whenever alarms or their history are read, so real time passing counts too.
* Each evaluation computes the statistic (Sum, Average, Minimum, Maximum, SampleCount) per
  Period, periods aligned to the epoch, over an *evaluation range* of EvaluationPeriods + 2
  periods (AWS retrieves more periods than it evaluates; its own example retrieves 5 for 3).
  The range ends with the last complete period: the current, still open period is never
  evaluated, nor counted as missing. AWS services publish one-minute aggregates (DynamoDB's
  metrics arrive once their minute is over), so a burst's minute is judged whole, once, on the
  first evaluation after it ends (a clock tick, a read, or a datapoint of a later minute), and
  the datapoint the reason names is that minute's Sum as GetMetricStatistics returns it.
* Missing data follows AWS's rules: with at least N real datapoints in the range, the N most
  recent decide and TreatMissingData is not consulted; with fewer, every real one counts and the
  rest are filled as breaching / not breaching, or (missing, ignore) the alarm goes to ALARM with
  M breaching, to OK with any non-breaching one, and otherwise to INSUFFICIENT_DATA (missing) or
  stays as it is (ignore). "missing" also goes to ALARM when the oldest breaching datapoint is
  at least M periods old and nothing newer is non-breaching (AWS's "premature transition" rule).
  Alarms on ``AWS/DynamoDB`` metrics always treat missing data as ignore. Every row of the two
  tables in AWS's documentation comes out as documented.
* A state change sets StateReason / StateReasonData worded as AWS words them: between OK and
  ALARM "Threshold Crossed: 1 out of the last 1 datapoints [12.0 (25/11/26 08:43:00)] was
  greater than the threshold (10.0) (minimum 1 datapoint for OK -> ALARM transition).", and,
  as AWS's notifications show, the short "Threshold Crossed: 1 datapoint [...] was greater than
  the threshold (10.0)." when leaving INSUFFICIENT_DATA. It records history
  (DescribeAlarmHistory, which moto lacks), and, when ActionsEnabled, publishes to each SNS
  topic of the new state's actions with AWS's subject and JSON message (plus the text AWS mails
  to ``email`` subscribers). SetAlarmState changes state the same way and fires the actions;
  the next evaluation (a new minute, or new data) brings the alarm back to what its data says.

Not evaluated (their state only changes through SetAlarmState): metric-math alarms, composite
alarms, percentile statistics and anomaly-detection operators.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
import threading
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from lab.localcloud import hooks
from lab.localcloud.metrics import MetricIndex

if TYPE_CHECKING:
    from lab.localcloud import LocalCloud

_MODELS = "moto.cloudwatch.models:"
_RESPONSES = "moto.cloudwatch.responses:CloudWatchResponse."
HOOK_POINTS = (
    _MODELS + "utcnow",
    _MODELS + "CloudWatchBackend.put_metric_alarm",
    _MODELS + "CloudWatchBackend.put_metric_data",
    _MODELS + "CloudWatchBackend.delete_alarms",
    _MODELS + "Alarm.update_state",
    _RESPONSES + "describe_alarms",
    _RESPONSES + "describe_alarms_for_metric",
    _RESPONSES + "call_action",
)

INITIAL_REASON = "Unchecked: Initial alarm creation"
EXTRA_PERIODS = 2  # evaluation range = EvaluationPeriods + 2 (AWS's example: 5 for 3)
LISTED_DATAPOINTS = 5  # AWS lists at most the 5 most recent datapoints in a reason
HISTORY_PAGE = 100

# The long region names CloudWatch writes in alarm subjects and messages (EU, not "Europe").
REGION_NAMES = {
    "us-east-1": "US East (N. Virginia)", "us-east-2": "US East (Ohio)",
    "us-west-1": "US West (N. California)", "us-west-2": "US West (Oregon)",
    "af-south-1": "Africa (Cape Town)", "ap-east-1": "Asia Pacific (Hong Kong)",
    "ap-east-2": "Asia Pacific (Taipei)", "ap-south-1": "Asia Pacific (Mumbai)",
    "ap-south-2": "Asia Pacific (Hyderabad)", "ap-southeast-1": "Asia Pacific (Singapore)",
    "ap-southeast-2": "Asia Pacific (Sydney)", "ap-southeast-3": "Asia Pacific (Jakarta)",
    "ap-southeast-4": "Asia Pacific (Melbourne)", "ap-southeast-5": "Asia Pacific (Malaysia)",
    "ap-southeast-6": "Asia Pacific (New Zealand)", "ap-southeast-7": "Asia Pacific (Thailand)",
    "ap-northeast-1": "Asia Pacific (Tokyo)", "ap-northeast-2": "Asia Pacific (Seoul)",
    "ap-northeast-3": "Asia Pacific (Osaka)", "ca-central-1": "Canada (Central)",
    "ca-west-1": "Canada West (Calgary)", "eu-central-1": "EU (Frankfurt)",
    "eu-central-2": "EU (Zurich)", "eu-west-1": "EU (Ireland)", "eu-west-2": "EU (London)",
    "eu-west-3": "EU (Paris)", "eu-south-1": "EU (Milan)", "eu-south-2": "EU (Spain)",
    "eu-north-1": "EU (Stockholm)", "il-central-1": "Israel (Tel Aviv)",
    "me-south-1": "Middle East (Bahrain)", "me-central-1": "Middle East (UAE)",
    "mx-central-1": "Mexico (Central)", "sa-east-1": "South America (Sao Paulo)",
}

_COMPARISONS = {
    "GreaterThanThreshold": ("greater than", lambda v, t: v > t),
    "GreaterThanOrEqualToThreshold": ("greater than or equal to", lambda v, t: v >= t),
    "LessThanThreshold": ("less than", lambda v, t: v < t),
    "LessThanOrEqualToThreshold": ("less than or equal to", lambda v, t: v <= t),
}
_STATISTICS = ("Sum", "Average", "Minimum", "Maximum", "SampleCount")
_EPOCH = dt.datetime(1970, 1, 1)
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")


# -- formats -----------------------------------------------------------------------------------

def region_name(region: str) -> str:
    """CloudWatch's long name for ``region``: ``us-east-1`` → ``US East (N. Virginia)``."""
    return REGION_NAMES.get(region, region)


def java_double(value: float) -> str:
    """``value`` as Java's Double.toString prints it (``12.0``, ``0.5``, ``1.0E7``), as AWS does."""
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0 or 1e-3 <= abs(value) < 1e7:
        text = repr(value)
        return text if "e" not in text else format(Decimal(text), "f")
    sign, digits, exponent = Decimal(repr(abs(value))).normalize().as_tuple()
    figures = "".join(map(str, digits))
    mantissa = figures[0] + "." + (figures[1:] or "0")
    return ("-" if value < 0 else "") + f"{mantissa}E{len(figures) - 1 + int(exponent)}"


def aws_time(moment: dt.datetime) -> str:
    """``2026-11-25T08:43:27.123+0000``: CloudWatch's timestamps in messages and reason data."""
    moment = _naive(moment)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def _naive(moment: dt.datetime) -> dt.datetime:
    """UTC without tzinfo, as moto stores CloudWatch timestamps."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return moment


def _period_start(moment: dt.datetime, period: int) -> dt.datetime:
    seconds = (_naive(moment) - _EPOCH).total_seconds()
    return _EPOCH + dt.timedelta(seconds=math.floor(seconds / period) * period)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _was(count: int) -> str:
    return "was" if count == 1 else "were"


def _mail_time(moment: dt.datetime) -> str:
    """``Tuesday 01 April, 2025 19:30:51 UTC``, as CloudWatch writes times in alarm emails."""
    m = _naive(moment)
    return f"{_DAYS[m.weekday()]} {m.day:02d} {_MONTHS[m.month - 1]}, {m:%Y %H:%M:%S} UTC"


# -- state ---------------------------------------------------------------------------------------

def _state(cloud: LocalCloud) -> dict[str, Any]:
    return cloud.state["alarms"]


def _now(cloud: LocalCloud) -> dt.datetime:
    return _naive(cloud.clock.now())


def _backend(account_id: str, region: str) -> Any:
    from moto.cloudwatch.models import cloudwatch_backends

    return hooks.backend(cloudwatch_backends, account_id, region)


def _account_of(alarm: Any) -> str:
    return alarm.alarm_arn.split(":")[4]


# -- evaluation ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Datapoint:
    """One period's statistic: its start, value and how many samples it summarises."""

    start: dt.datetime
    value: float
    samples: float


@dataclass(frozen=True)
class Outcome:
    """What one evaluation decided: the state (None: keep it) and the datapoints behind it."""

    state: str | None
    slots: tuple[dt.datetime, ...]  # the evaluated periods, oldest first
    real: tuple[Datapoint, ...]  # the real datapoints among them, oldest first
    filled: int  # periods filled in by TreatMissingData
    treatment: str


def is_evaluable(alarm: Any) -> bool:
    """True for single-metric alarms with a plain statistic and threshold (what is evaluated)."""
    return bool(not alarm.metric_data_queries and alarm.rule is None and alarm.metric_name
                and alarm.statistic in _STATISTICS and alarm.comparison_operator in _COMPARISONS
                and alarm.period)


def _matches(alarm: Any, namespace: str, name: str, dimensions: dict[str, str]) -> bool:
    return (alarm.namespace == namespace and alarm.metric_name == name
            and {(d.name, d.value) for d in alarm.dimensions} == set(dimensions.items()))


def _datapoints(backend: Any, alarm: Any, start: dt.datetime, end: dt.datetime, *,
                index: MetricIndex | None = None) -> dict[dt.datetime, Datapoint]:
    """The alarm's statistic for each period in [start, end) that has data."""
    from moto.cloudwatch.models import Statistics

    wanted = frozenset((d.name, d.value) for d in alarm.dimensions)
    if alarm.namespace != "AWS/S3" and int(alarm.period) % 60 == 0:
        periods = (index or MetricIndex()).periods(
            backend.metric_data, namespace=alarm.namespace, name=alarm.metric_name,
            dimensions=wanted, start=start, end=end, period=int(alarm.period), unit=alarm.unit)
        return {begin: Datapoint(begin, aggregate.statistic(alarm.statistic), aggregate.count)
                for begin, aggregate in periods.items()}
    # High-resolution periods, and AWS/S3 (from moto's metric providers): scan the raw data.
    source = backend.get_all_metrics() if alarm.namespace == "AWS/S3" else backend.metric_data
    buckets: dict[dt.datetime, list[Any]] = {}
    for datum in source:
        if datum.name != alarm.metric_name or datum.namespace != alarm.namespace:
            continue
        moment = _naive(datum.timestamp)
        if not start <= moment < end or (alarm.unit and datum.unit != alarm.unit):
            continue
        if frozenset((d.name, d.value) for d in datum.dimensions) != wanted:
            continue
        buckets.setdefault(_period_start(moment, alarm.period), []).append(datum)
    points = {}
    for begin, data in buckets.items():
        stats = Statistics([alarm.statistic], begin)
        stats.metric_data = data
        value = stats.get_statistics_for_type(alarm.statistic)
        if value is not None:
            points[begin] = Datapoint(begin, float(value), float(stats.calc_sample_count()))
    return points


def treatment(alarm: Any) -> str:
    """How the alarm treats missing data: AWS/DynamoDB alarms always ignore it."""
    if alarm.namespace == "AWS/DynamoDB":
        return "ignore"
    return alarm.treat_missing_data or "missing"


def _breaches(alarm: Any, value: float) -> bool:
    return _COMPARISONS[alarm.comparison_operator][1](value, float(alarm.threshold))


def decide(*, values: list[float | None], evaluation_periods: int, datapoints_to_alarm: int,
           treat: str, breaches: Any) -> tuple[str | None, list[int], int]:
    """AWS's decision over an evaluation range (oldest first, None = missing).

    Returns ``(state or None to keep the current one, indexes of the evaluated real
    datapoints, number of missing periods filled in)``.
    """
    n, m = evaluation_periods, datapoints_to_alarm
    existing = [i for i, v in enumerate(values) if v is not None]
    if len(existing) >= n:
        chosen = existing[-n:]
        breaching = sum(breaches(values[i]) for i in chosen)
        return ("ALARM" if breaching >= m else "OK"), chosen, 0
    fill = n - len(existing)
    breaching = sum(breaches(values[i]) for i in existing)
    if treat == "breaching":
        return ("ALARM" if breaching + fill >= m else "OK"), existing, fill
    if treat == "notBreaching":
        return ("ALARM" if breaching >= m else "OK"), existing, fill
    if breaching >= m:
        return "ALARM", existing, 0
    if breaching < len(existing):
        return "OK", existing, 0
    if treat == "ignore":
        return None, existing, 0
    if existing and len(values) - existing[0] >= m:  # premature transition to ALARM
        return "ALARM", existing, 0
    return "INSUFFICIENT_DATA", existing, 0


def evaluate(alarm: Any, backend: Any, now: dt.datetime, *,
             index: MetricIndex | None = None) -> Outcome:
    """Evaluate one alarm at ``now`` (naive UTC) against the backend's datapoints."""
    period = int(alarm.period)
    step = dt.timedelta(seconds=period)
    n = int(alarm.evaluation_periods)
    m = int(alarm.datapoints_to_alarm or n)
    width = n + EXTRA_PERIODS
    current = _period_start(now, period)
    # The open period is left out: AWS judges a period once it is over (its one-minute
    # aggregates are published after the minute ends), never a partial value.
    points = _datapoints(backend, alarm, current - step * width, current, index=index)
    newest = current - step
    slots = [newest - step * (width - 1 - i) for i in range(width)]
    values = [points[s].value if s in points else None for s in slots]
    treat = treatment(alarm)
    state, chosen, fill = decide(values=values, evaluation_periods=n, datapoints_to_alarm=m,
                                 treat=treat, breaches=lambda v: _breaches(alarm, v))
    missing = [i for i, v in enumerate(values) if v is None][-fill:] if fill else []
    evaluated = sorted(chosen + missing) if (chosen or missing) else list(range(width - n, width))
    return Outcome(state=state, slots=tuple(slots[i] for i in evaluated),
                   real=tuple(points[slots[i]] for i in chosen), filled=fill, treatment=treat)


# -- reasons ---------------------------------------------------------------------------------------

def _listing(points: Iterable[Datapoint]) -> str:
    return ", ".join(f"{java_double(p.value)} ({p.start:%d/%m/%y %H:%M:%S})" for p in points)


def state_reason(alarm: Any, outcome: Outcome, old_state: str) -> str:
    """StateReason for a transition to ``outcome.state``, worded as CloudWatch words it."""
    n = int(alarm.evaluation_periods)
    m = int(alarm.datapoints_to_alarm or n)
    new = outcome.state
    if new == "INSUFFICIENT_DATA":
        return f"Insufficient Data: {_plural(n, 'datapoint')} {_was(n)} unknown."
    kind = "[Breaching]" if outcome.treatment == "breaching" else "[NonBreaching]"
    filled = (f"{_plural(outcome.filled, 'missing datapoint')} {_was(outcome.filled)} "
              f"treated as {kind}")
    if not outcome.real:
        return (f"Threshold Crossed: no datapoints were received for {_plural(n, 'period')} "
                f"and {filled}.")
    words = _COMPARISONS[alarm.comparison_operator][0]
    if new == "OK":
        words = "not " + words
    crossed = [p for p in reversed(outcome.real) if _breaches(alarm, p.value) == (new == "ALARM")]
    count = len(crossed)
    threshold = f"the threshold ({java_double(alarm.threshold)})"
    and_filled = f" and {filled}" if outcome.filled else ""
    if old_state == "INSUFFICIENT_DATA":
        head, tail = f"{_plural(count, 'datapoint')}", ""
    else:
        needed = m if new == "ALARM" else n - m + 1
        head = f"{count} out of the last {n} datapoints"
        tail = (f" (minimum {_plural(needed, 'datapoint')} for "
                f"{'OK -> ALARM' if new == 'ALARM' else 'ALARM -> OK'} transition)")
    if not crossed:  # only the filled-in periods crossed (or stayed within) the threshold
        return f"Threshold Crossed: {filled}{tail}."
    if count > LISTED_DATAPOINTS:
        return (f"Threshold Crossed: {head} {_was(count)} {words} {threshold}. The most recent "
                f"datapoints which crossed the threshold: [{_listing(crossed[:LISTED_DATAPOINTS])}]"
                f"{and_filled}{tail}.")
    return (f"Threshold Crossed: {head} [{_listing(crossed)}] {_was(count)} {words} {threshold}"
            f"{and_filled}{tail}.")


def state_reason_data(alarm: Any, outcome: Outcome, now: dt.datetime) -> str:
    """StateReasonData: the JSON CloudWatch keeps with an evaluated state."""
    real = {p.start: p for p in outcome.real}
    data: dict[str, Any] = {"version": "1.0", "queryDate": aws_time(now)}
    if outcome.real and outcome.state != "INSUFFICIENT_DATA":
        data["startDate"] = aws_time(outcome.slots[0])
    if alarm.unit:
        data["unit"] = alarm.unit
    data["statistic"] = alarm.statistic
    data["period"] = int(alarm.period)
    data["recentDatapoints"] = [p.value for p in outcome.real]
    data["threshold"] = float(alarm.threshold)
    data["evaluatedDatapoints"] = [
        {"timestamp": aws_time(s), "sampleCount": real[s].samples, "value": real[s].value}
        if s in real else {"timestamp": aws_time(s)} for s in reversed(outcome.slots)]
    return json.dumps(data, separators=(",", ":"))


# -- history -------------------------------------------------------------------------------------

def _record(cloud: LocalCloud, alarm: Any, kind: str, summary: str, data: dict[str, Any],
            when: dt.datetime) -> None:
    state = _state(cloud)
    state["history"].append({
        "account": _account_of(alarm), "region": alarm.region_name,
        "sequence": next(state["sequence"]),
        "item": {"AlarmName": alarm.name, "AlarmType": "MetricAlarm", "Timestamp": when,
                 "HistoryItemType": kind, "HistorySummary": summary,
                 "HistoryData": json.dumps(data, separators=(",", ":"))},
    })


def _snapshot(alarm: Any) -> dict[str, Any]:
    """The alarm as a ConfigurationUpdate history item describes it."""
    data: dict[str, Any] = {
        "namespace": alarm.namespace, "threshold": float(alarm.threshold or 0.0),
        "metricName": alarm.metric_name, "period": int(alarm.period or 0),
        "dimensions": [{"name": d.name, "value": d.value} for d in alarm.dimensions],
        "stateValue": alarm.state_value, "alarmName": alarm.name,
        "okactions": list(alarm.ok_actions), "alarmActions": list(alarm.alarm_actions),
        "actionsEnabled": bool(alarm.actions_enabled),
        "evaluationPeriods": int(alarm.evaluation_periods or 0),
        "comparisonOperator": alarm.comparison_operator,
        "insufficientDataActions": list(alarm.insufficient_data_actions),
        "alarmDescription": alarm.description or "", "statistic": alarm.statistic,
        "alarmArn": alarm.alarm_arn,
        "alarmConfigurationUpdatedTimestamp": aws_time(alarm.configuration_updated_timestamp),
    }
    if alarm.datapoints_to_alarm:
        data["datapointsToAlarm"] = int(alarm.datapoints_to_alarm)
    if alarm.treat_missing_data:
        data["treatMissingData"] = alarm.treat_missing_data
    if alarm.unit:
        data["unit"] = alarm.unit
    return data


def _state_json(value: str, reason: str, reason_data: str | None) -> dict[str, Any]:
    state: dict[str, Any] = {"stateValue": value, "stateReason": reason}
    if reason_data:
        try:
            state["stateReasonData"] = json.loads(reason_data)
        except ValueError:
            pass
    return state


def history(cloud: LocalCloud, *, account_id: str, region: str, alarm_name: str | None = None,
            item_type: str | None = None, start: dt.datetime | None = None,
            end: dt.datetime | None = None, alarm_types: list[str] | None = None,
            oldest_first: bool = False) -> list[dict[str, Any]]:
    """Alarm history items of one account and region, newest first unless ``oldest_first``."""
    rows = [r for r in _state(cloud)["history"]
            if r["account"] == account_id and r["region"] == region]
    items = []
    for row in sorted(rows, key=lambda r: (r["item"]["Timestamp"], r["sequence"]),
                      reverse=not oldest_first):
        item = row["item"]
        if ((alarm_name and item["AlarmName"] != alarm_name)
                or (item_type and item["HistoryItemType"] != item_type)
                or (alarm_types and item["AlarmType"] not in alarm_types)
                or (start and item["Timestamp"] < _naive(start))
                or (end and item["Timestamp"] > _naive(end))):
            continue
        items.append(dict(item))
    return items


# -- transitions and actions -------------------------------------------------------------------

def transition(cloud: LocalCloud, alarm: Any, *, state: str, reason: str,
               reason_data: str | None) -> bool:
    """Move ``alarm`` to ``state``: history, then the actions. False when it already was there."""
    now = _now(cloud)
    old = alarm.state_value
    old_reason, old_data = alarm.state_reason, alarm.state_reason_data
    alarm.state_reason, alarm.state_reason_data = reason, reason_data
    alarm.state_updated_timestamp = now
    if old == state:
        return False
    alarm.state_value = state
    alarm.state_transitioned_timestamp = now
    _record(cloud, alarm, "StateUpdate", f"Alarm updated from {old} to {state}",
            {"version": "1.0", "oldState": _state_json(old, old_reason, old_data),
             "newState": _state_json(state, reason, reason_data)}, now)
    if alarm.actions_enabled:
        actions = {"OK": alarm.ok_actions, "ALARM": alarm.alarm_actions,
                   "INSUFFICIENT_DATA": alarm.insufficient_data_actions}[state]
        for arn in list(actions):
            _run_action(cloud, alarm, arn, old, now)
    return True


def alarm_message(alarm: Any, *, old_state: str, account_id: str) -> dict[str, Any]:
    """The JSON CloudWatch publishes to SNS on a state change, keys in AWS's order."""
    trigger: dict[str, Any] = {
        "MetricName": alarm.metric_name, "Namespace": alarm.namespace,
        "StatisticType": "Statistic", "Statistic": (alarm.statistic or "").upper(),
        "Unit": alarm.unit or None,
        "Dimensions": [{"value": d.value, "name": d.name} for d in alarm.dimensions],
        "Period": int(alarm.period), "EvaluationPeriods": int(alarm.evaluation_periods),
    }
    if alarm.datapoints_to_alarm:
        trigger["DatapointsToAlarm"] = int(alarm.datapoints_to_alarm)
    trigger.update({
        "ComparisonOperator": alarm.comparison_operator, "Threshold": float(alarm.threshold),
        "TreatMissingData": alarm.treat_missing_data or "missing",
        "EvaluateLowSampleCountPercentile": alarm.evaluate_low_sample_count_percentile or "",
    })
    return {
        "AlarmName": alarm.name, "AlarmDescription": alarm.description or None,
        "AWSAccountId": account_id,
        "AlarmConfigurationUpdatedTimestamp": aws_time(alarm.configuration_updated_timestamp),
        "NewStateValue": alarm.state_value, "NewStateReason": alarm.state_reason,
        "StateChangeTime": aws_time(alarm.state_updated_timestamp),
        "Region": region_name(alarm.region_name), "AlarmArn": alarm.alarm_arn,
        "OldStateValue": old_state, "OKActions": list(alarm.ok_actions),
        "AlarmActions": list(alarm.alarm_actions),
        "InsufficientDataActions": list(alarm.insufficient_data_actions), "Trigger": trigger,
    }


def alarm_subject(alarm: Any) -> str:
    """``ALARM: "<name>" in US East (N. Virginia)`` (SNS subjects stop at 100 characters)."""
    return f'{alarm.state_value}: "{alarm.name}" in {region_name(alarm.region_name)}'[:100]


def alarm_email(alarm: Any, *, old_state: str, account_id: str) -> str:
    """The text CloudWatch mails to ``email`` subscribers (SNS adds its footer)."""
    region = alarm.region_name
    when = _mail_time(alarm.state_updated_timestamp)
    name = urllib.parse.quote(alarm.name, safe="")
    n = int(alarm.evaluation_periods)
    m = int(alarm.datapoints_to_alarm or n)
    dims = " ".join(f"[{d.name} = {d.value}]" for d in alarm.dimensions)

    def row(label: str, value: Any, width: int = 30) -> str:
        return (f"- {label}:".ljust(width) + f"{value}").rstrip()

    def actions(label: str, arns: list[str]) -> str:
        return f"- {label}:" + "".join(f" [{arn}]" for arn in arns)

    return "\n".join([
        f'You are receiving this email because your Amazon CloudWatch Alarm "{alarm.name}" in '
        f"the {region_name(region)} region has entered the {alarm.state_value} state, because "
        f'"{alarm.state_reason}" at "{when}".', "",
        "View this alarm in the AWS Management Console:",
        f"https://{region}.console.aws.amazon.com/cloudwatch/deeplink.js?region={region}"
        f"#alarmsV2:alarm/{name}", "",
        "Alarm Details:", row("Name", alarm.name), row("Description", alarm.description or ""),
        row("State Change", f"{old_state} -> {alarm.state_value}"),
        row("Reason for State Change", alarm.state_reason), row("Timestamp", when),
        row("AWS Account", account_id), row("Alarm Arn", alarm.alarm_arn), "",
        "Threshold:",
        f"- The alarm is in the ALARM state when the metric is {alarm.comparison_operator} "
        f"{java_double(alarm.threshold)} for at least {m} of the last {n} period(s) of "
        f"{int(alarm.period)} seconds.", "",
        "Monitored Metric:", row("MetricNamespace", alarm.namespace, 39),
        row("MetricName", alarm.metric_name, 39), row("Dimensions", dims, 39),
        row("Period", f"{int(alarm.period)} seconds", 39), row("Statistic", alarm.statistic, 39),
        row("Unit", alarm.unit or "not specified", 39),
        row("TreatMissingData", alarm.treat_missing_data or "missing", 39), "", "",
        "State Change Actions:", actions("OK", alarm.ok_actions),
        actions("ALARM", alarm.alarm_actions),
        actions("INSUFFICIENT_DATA", alarm.insufficient_data_actions), "",
    ])


def _run_action(cloud: LocalCloud, alarm: Any, arn: str, old_state: str,
                now: dt.datetime) -> None:
    """Publish the notification to one SNS topic; record the Action history item."""
    account = _account_of(alarm)
    message = json.dumps(alarm_message(alarm, old_state=old_state, account_id=account),
                         separators=(",", ":"), ensure_ascii=False)
    published = json.dumps({"default": message, "email": alarm_email(
        alarm, old_state=old_state, account_id=account)}, ensure_ascii=False)
    stamp = int((now - _EPOCH).total_seconds() * 1000)
    parts = arn.split(":")
    error = None
    if len(parts) < 6 or parts[2] != "sns":
        error = "Only SNS topic actions run in the local cloud"
    else:
        from moto.sns.models import sns_backends

        try:
            sns_backends[parts[4]][parts[3]].publish(
                published, arn=arn, subject=alarm_subject(alarm), message_structure="json")
        except Exception as failure:  # any SNS error is the action's failure, as on AWS
            error = getattr(failure, "message", None) or str(failure) or type(failure).__name__
    if error is None:
        _record(cloud, alarm, "Action", f"Successfully executed action {arn}",
                {"actionState": "Succeeded", "stateUpdateTimestamp": stamp,
                 "notificationResource": arn, "publishedMessage": published}, now)
    else:
        _record(cloud, alarm, "Action", f"Failed to execute action {arn}. Received error: "
                f'"{error}"', {"actionState": "Failed", "stateUpdateTimestamp": stamp,
                               "notificationResource": arn, "publishedMessage": None,
                               "error": error}, now)


# -- when evaluation happens ---------------------------------------------------------------------

def evaluate_alarm(cloud: LocalCloud, alarm: Any, backend: Any) -> None:
    """Evaluate ``alarm`` now and apply the outcome (a transition, or nothing)."""
    now = _now(cloud)
    _state(cloud)["evaluated"][alarm.alarm_arn] = now
    if not is_evaluable(alarm):
        return
    indexes = _state(cloud).setdefault("indexes", {})
    index = indexes.setdefault((backend.account_id, backend.region_name), MetricIndex())
    outcome = evaluate(alarm, backend, now, index=index)
    if outcome.state is None or outcome.state == alarm.state_value:
        return
    transition(cloud, alarm, state=outcome.state,
               reason=state_reason(alarm, outcome, alarm.state_value),
               reason_data=state_reason_data(alarm, outcome, now))


def evaluate_due(cloud: LocalCloud, backend: Any) -> None:
    """Evaluate the backend's alarms not yet evaluated in the current clock minute."""
    minute = _period_start(_now(cloud), 60)
    with _state(cloud)["lock"]:
        evaluated = _state(cloud)["evaluated"]
        for alarm in list(backend.alarms.values()):
            last = evaluated.get(alarm.alarm_arn)
            if last is None or _period_start(last, 60) < minute:
                evaluate_alarm(cloud, alarm, backend)


def _on_metric(cloud: LocalCloud, *, region: str, namespace: str, name: str,
               dimensions: dict[str, str]) -> None:
    """A datapoint arrived: evaluate the alarms watching exactly that metric.

    Its own minute is still open, so it counts once the minute is over: an evaluation is
    scheduled at that boundary (and at the following ones while it is in an alarm's range).
    """
    backend = _backend(cloud.account_id, region)
    with _state(cloud)["lock"]:
        _state(cloud)["backends"].add((cloud.account_id, region))
        watching = False
        for alarm in list(backend.alarms.values()):
            if _matches(alarm, namespace, name, dimensions):
                watching = True
                evaluate_alarm(cloud, alarm, backend)
        if watching:
            _keep_evaluating(cloud, backend)


def _keep_evaluating(cloud: LocalCloud, backend: Any) -> None:
    """Evaluate at each minute boundary until what happened now has left every alarm's range.

    After that, every evaluation sees the same (absent) data as the last one did, so the clock
    need not stop at each minute of a long ``advance`` (a TTL lesson moves two days).
    """
    state = _state(cloud)
    widths = [(int(a.evaluation_periods or 1) + EXTRA_PERIODS + 1) * int(a.period or 60)
              for a in backend.alarms.values() if is_evaluable(a)]
    if not widths:
        return
    state["busy_until"] = max(state.get("busy_until") or _EPOCH,
                              _now(cloud) + dt.timedelta(seconds=max(widths)))
    _schedule_minute(cloud)


def _schedule_minute(cloud: LocalCloud) -> None:
    """Schedule one evaluation of every alarm when the current clock minute ends."""
    state = _state(cloud)
    if state.get("scheduled"):
        return
    boundary = _period_start(_now(cloud), 60) + dt.timedelta(minutes=1)
    state["scheduled"] = True
    cloud.clock.call_at(boundary.replace(tzinfo=dt.timezone.utc), lambda: _minute_over(cloud))


def _minute_over(cloud: LocalCloud) -> None:
    """A clock task at a minute boundary: evaluate every alarm with the clock at that time."""
    state = _state(cloud)
    with state["lock"]:
        state["scheduled"] = False
        for account_id, region in sorted(state["backends"]):
            backend = _backend(account_id, region)
            evaluate_due(cloud, backend)
        if state.get("busy_until") and _now(cloud) < state["busy_until"]:
            _schedule_minute(cloud)


def _on_tick(cloud: LocalCloud, now: dt.datetime) -> None:
    for account_id, region in sorted(_state(cloud)["backends"]):
        evaluate_due(cloud, _backend(account_id, region))


# -- the hooks -------------------------------------------------------------------------------------

def _install_model_hooks(cloud: LocalCloud) -> None:
    original_put_alarm = hooks.original(_MODELS + "CloudWatchBackend.put_metric_alarm")
    original_put_data = hooks.original(_MODELS + "CloudWatchBackend.put_metric_data")
    original_delete = hooks.original(_MODELS + "CloudWatchBackend.delete_alarms")

    def put_metric_alarm(backend: Any, *args: Any, **kwargs: Any) -> Any:
        name = kwargs["name"] if "name" in kwargs else args[0]
        previous = backend.alarms.get(name)
        alarm = original_put_alarm(backend, *args, **kwargs)
        with _state(cloud)["lock"]:
            _state(cloud)["backends"].add((backend.account_id, backend.region_name))
            if previous is not None:  # AWS keeps the state of an updated alarm
                for attribute in ("state_value", "state_reason", "state_reason_data",
                                  "state_updated_timestamp", "state_transitioned_timestamp"):
                    setattr(alarm, attribute, getattr(previous, attribute, None))
                _record(cloud, alarm, "ConfigurationUpdate", f'Alarm "{name}" updated',
                        {"version": "1.0", "type": "Update", "originalAlarm": _snapshot(previous),
                         "updatedAlarm": _snapshot(alarm)}, alarm.configuration_updated_timestamp)
            else:
                alarm.state_value, alarm.state_reason = "INSUFFICIENT_DATA", INITIAL_REASON
                alarm.state_reason_data = None
                alarm.state_transitioned_timestamp = alarm.state_updated_timestamp
                _record(cloud, alarm, "ConfigurationUpdate", f'Alarm "{name}" created',
                        {"version": "1.0", "type": "Create", "createdAlarm": _snapshot(alarm)},
                        alarm.configuration_updated_timestamp)
            evaluate_alarm(cloud, alarm, backend)
            _keep_evaluating(cloud, backend)
        return alarm

    def put_metric_data(backend: Any, namespace: str, metric_data: list[dict[str, Any]]) -> None:
        original_put_data(backend, namespace, metric_data)
        seen = []
        for member in metric_data:
            dims = {d["Name"]: d["Value"] for d in member.get("Dimensions") or ()}
            if (member["MetricName"], dims) not in seen:
                seen.append((member["MetricName"], dims))
        if backend.account_id != cloud.account_id:
            return
        for name, dims in seen:
            for listener in list(cloud.metric_listeners):
                listener(region=backend.region_name, namespace=namespace, name=name,
                         dimensions=dims)

    def delete_alarms(backend: Any, alarm_names: list[str]) -> None:
        with _state(cloud)["lock"]:
            for name in alarm_names:
                alarm = backend.alarms.get(name)
                if alarm is not None:
                    _record(cloud, alarm, "ConfigurationUpdate", f'Alarm "{name}" deleted',
                            {"version": "1.0", "type": "Delete", "deletedAlarm": _snapshot(alarm)},
                            _now(cloud))
                    _state(cloud)["evaluated"].pop(alarm.alarm_arn, None)
            original_delete(backend, alarm_names)

    def update_state(alarm: Any, reason: str, reason_data: str | None, state_value: str) -> None:
        # SetAlarmState: the state holds until the next evaluation (a new minute or new data).
        with _state(cloud)["lock"]:
            _state(cloud)["evaluated"][alarm.alarm_arn] = _now(cloud)
            transition(cloud, alarm, state=state_value, reason=reason, reason_data=reason_data)

    hooks.patch(_MODELS + "utcnow", lambda: _now(cloud))
    hooks.patch(_MODELS + "CloudWatchBackend.put_metric_alarm", put_metric_alarm)
    hooks.patch(_MODELS + "CloudWatchBackend.put_metric_data", put_metric_data)
    hooks.patch(_MODELS + "CloudWatchBackend.delete_alarms", delete_alarms)
    hooks.patch(_MODELS + "Alarm.update_state", update_state)


def _history_response(cloud: LocalCloud, response: Any) -> dict[str, Any]:
    """The DescribeAlarmHistory answer for one request."""
    from moto.cloudwatch.exceptions import InvalidParameterValue

    backend = response.cloudwatch_backend
    evaluate_due(cloud, backend)
    items = history(
        cloud, account_id=backend.account_id, region=backend.region_name,
        alarm_name=response._get_param("AlarmName"),
        item_type=response._get_param("HistoryItemType"),
        start=response._get_param("StartDate"), end=response._get_param("EndDate"),
        alarm_types=response._get_param("AlarmTypes"),
        oldest_first=response._get_param("ScanBy") == "TimestampAscending")
    size = int(response._get_param("MaxRecords") or HISTORY_PAGE)
    token = response._get_param("NextToken")
    if token is not None and (not str(token).isdigit() or int(token) > len(items)):
        raise InvalidParameterValue(f"The value {token} for parameter NextToken is invalid.")
    offset = int(token or 0)
    result: dict[str, Any] = {"AlarmHistoryItems": items[offset:offset + size]}
    if offset + size < len(items):
        result["NextToken"] = str(offset + size)
    return result


def _install_response_hooks(cloud: LocalCloud) -> None:
    from moto.core.exceptions import ServiceException
    from moto.core.responses import ActionResult

    original_describe = hooks.original(_RESPONSES + "describe_alarms")
    original_for_metric = hooks.original(_RESPONSES + "describe_alarms_for_metric")
    original_call = hooks.original(_RESPONSES + "call_action")

    def describe_alarms(response: Any) -> Any:
        evaluate_due(cloud, response.cloudwatch_backend)
        return original_describe(response)

    def describe_alarms_for_metric(response: Any) -> Any:
        evaluate_due(cloud, response.cloudwatch_backend)
        return original_for_metric(response)

    def call_action(response: Any) -> Any:
        if response._get_action() != "DescribeAlarmHistory":
            return original_call(response)
        try:
            status, headers, body = response.serialized(
                ActionResult(_history_response(cloud, response)))
        except ServiceException as error:
            status, headers, body = response.serialized(ActionResult(error))
            headers["status"] = status
        headers, body = response._enrich_response(headers, body)
        return status, headers, body

    hooks.patch(_RESPONSES + "describe_alarms", describe_alarms)
    hooks.patch(_RESPONSES + "describe_alarms_for_metric", describe_alarms_for_metric)
    hooks.patch(_RESPONSES + "call_action", call_action)


def install(cloud: LocalCloud) -> None:
    """Evaluate alarms on metric arrival, clock ticks and reads; notify SNS on state changes."""
    cloud.state["alarms"] = {"lock": threading.RLock(), "history": [], "evaluated": {},
                             "backends": set(), "sequence": itertools.count()}
    _install_model_hooks(cloud)
    _install_response_hooks(cloud)
    cloud.metric_listeners.append(
        lambda **metric: _on_metric(cloud, **metric))
    cloud.clock.on_tick(lambda now: _on_tick(cloud, now))
