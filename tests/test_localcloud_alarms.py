"""CloudWatch alarms in the local cloud: evaluation, reasons, history and SNS notifications."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from types import SimpleNamespace

import boto3
import botocore
import pytest
from botocore.exceptions import ClientError

from lab import mock
from lab.localcloud import alarms, current, hooks, metrics

TABLE = {"TableName": "S3ObjectEvents"}
EMAIL = "ops@example.com"
JSON_EMAIL = "robot@example.com"
STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000"


# -- helpers -----------------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def _named_account(monkeypatch):
    """Name moto's account up front, as moto allows: it then skips looking the access key up in
    IAM, which builds IAM with every AWS managed policy in each partition (~1 s per fresh mock)."""
    monkeypatch.setenv("MOTO_ACCOUNT_ID", mock.ACCOUNT_ID)


def align(lab) -> dt.datetime:
    """Move the clock to one second past the next minute, so a test has ~58 s of one minute."""
    now = lab.clock.now()
    target = now.replace(second=1, microsecond=0) + dt.timedelta(minutes=1)
    lab.clock.advance(target - now)
    return target


def minute(moment: dt.datetime) -> str:
    """A period start as alarm reasons print it: ``(25/11/26 08:43:00)``."""
    return moment.strftime("(%d/%m/%y %H:%M:00)")


def topic_with_inbox(lab, name: str = "alerts", *, region: str | None = None) -> str:
    """A topic with a confirmed email and a confirmed email-json subscriber; its ARN."""
    sns = boto3.client("sns", region_name=region or lab.region)
    arn = sns.create_topic(Name=name)["TopicArn"]
    sns.subscribe(TopicArn=arn, Protocol="email", Endpoint=EMAIL)
    sns.subscribe(TopicArn=arn, Protocol="email-json", Endpoint=JSON_EMAIL)
    lab.confirm_email(EMAIL)
    lab.confirm_email(JSON_EMAIL)
    return arn


def notifications(lab, address: str = EMAIL) -> list[dict]:
    """Alarm emails (confirmation emails left out)."""
    return [m for m in lab.inbox(address) if "Subscription Confirmation" not in m["subject"]]


def alarm_messages(lab) -> list[dict]:
    """The alarm JSON messages, as the email-json subscriber received them."""
    return [json.loads(json.loads(m["body"])["Message"]) for m in notifications(lab, JSON_EMAIL)]


def put_alarm(lab, topic: str | None = None, **overrides) -> dict:
    spec = {"AlarmName": "WriteActivity", "Namespace": "AWS/DynamoDB",
            "MetricName": "ConsumedWriteCapacityUnits",
            "Dimensions": [{"Name": "TableName", "Value": "S3ObjectEvents"}],
            "Statistic": "Sum", "Period": 60, "EvaluationPeriods": 1, "DatapointsToAlarm": 1,
            "Threshold": 10.0, "ComparisonOperator": "GreaterThanThreshold",
            "TreatMissingData": "notBreaching"}
    if topic:
        spec.update(AlarmActions=[topic], OKActions=[topic])
    spec.update(overrides)
    lab.client("cloudwatch").put_metric_alarm(**spec)
    return spec


def custom_alarm(lab, topic: str | None = None, **overrides) -> dict:
    return put_alarm(lab, topic, **{"AlarmName": "Uploads", "Namespace": "Lab/Uploads",
                                    "MetricName": "Files", "Dimensions": [], **overrides})


def writes(lab, units: float, *, dimensions: dict | None = None) -> None:
    metrics.put_datapoint(current(), namespace="AWS/DynamoDB", name="ConsumedWriteCapacityUnits",
                          value=units, unit="Count", dimensions=dimensions or TABLE)


def files(lab, value: float, *, minutes_ago: int | None = None) -> None:
    datum = {"MetricName": "Files", "Value": value, "Unit": "Count"}
    if minutes_ago is not None:
        datum["Timestamp"] = lab.clock.now() - dt.timedelta(minutes=minutes_ago)
    lab.client("cloudwatch").put_metric_data(Namespace="Lab/Uploads", MetricData=[datum])


def alarm(lab, name: str = "WriteActivity") -> dict:
    return lab.client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"][0]


def history(lab, **kwargs) -> list[dict]:
    return lab.client("cloudwatch").describe_alarm_history(**kwargs)["AlarmHistoryItems"]


# -- creation -------------------------------------------------------------------------------------

def test_new_alarm_starts_insufficient_data(lab_moto):
    lab_moto.clock.advance(days=3)  # every timestamp follows the local clock
    put_alarm(lab_moto)
    found = alarm(lab_moto)
    assert found["StateValue"] == "INSUFFICIENT_DATA"
    assert found["StateReason"] == "Unchecked: Initial alarm creation"
    assert "StateReasonData" not in found
    for stamp in ("StateUpdatedTimestamp", "AlarmConfigurationUpdatedTimestamp"):
        assert abs(found[stamp] - lab_moto.clock.now()) < dt.timedelta(seconds=5)
    [created] = history(lab_moto, AlarmName="WriteActivity")
    assert created["HistoryItemType"] == "ConfigurationUpdate"
    assert created["HistorySummary"] == 'Alarm "WriteActivity" created'
    data = json.loads(created["HistoryData"])
    assert (data["version"], data["type"]) == ("1.0", "Create")
    assert data["createdAlarm"]["stateValue"] == "INSUFFICIENT_DATA"
    assert data["createdAlarm"]["dimensions"] == [{"name": "TableName", "value": "S3ObjectEvents"}]


def test_updating_an_alarm_keeps_its_state(lab_moto):
    align(lab_moto)
    put_alarm(lab_moto)
    writes(lab_moto, 12)
    lab_moto.clock.advance(minutes=1)
    put_alarm(lab_moto, Threshold=11.0, AlarmDescription="now stricter")
    found = alarm(lab_moto)
    assert (found["StateValue"], found["Threshold"]) == ("ALARM", 11.0)
    assert [h["HistorySummary"] for h in history(lab_moto, HistoryItemType="ConfigurationUpdate")] \
        == ['Alarm "WriteActivity" updated', 'Alarm "WriteActivity" created']


# -- evaluation -----------------------------------------------------------------------------------

def test_a_burst_is_judged_once_its_minute_is_over_with_that_minute_s_sum(lab_moto):
    # AWS: DynamoDB "sends metrics to CloudWatch at one-minute intervals" (Monitoring DynamoDB
    # with CloudWatch); CloudWatch evaluates a period once it has ended ("Evaluating an alarm"),
    # so the reason names the whole minute's Sum, which GetMetricStatistics returns for it.
    topic = topic_with_inbox(lab_moto)
    start = align(lab_moto)
    put_alarm(lab_moto, topic)
    for _ in range(12):
        writes(lab_moto, 1)
        assert alarm(lab_moto)["StateValue"] == "INSUFFICIENT_DATA"  # the minute is still open
    lab_moto.clock.advance(seconds=30)
    assert alarm(lab_moto)["StateValue"] == "INSUFFICIENT_DATA"
    lab_moto.clock.advance(minutes=5)  # the minute ends during the advance
    found = alarm(lab_moto)
    assert found["StateValue"] == "ALARM"
    changes = history(lab_moto, HistoryItemType="StateUpdate")
    assert [c["HistorySummary"] for c in changes] == [
        "Alarm updated from INSUFFICIENT_DATA to ALARM"]
    end = start.replace(second=0) + dt.timedelta(minutes=1)
    assert end <= changes[0]["Timestamp"] < end + dt.timedelta(seconds=1)  # judged as it ended
    [message] = alarm_messages(lab_moto)
    assert f"[12.0 {minute(start)}]" in message["NewStateReason"]
    [stat] = lab_moto.client("cloudwatch").get_metric_statistics(
        Namespace="AWS/DynamoDB", MetricName="ConsumedWriteCapacityUnits",
        Dimensions=[{"Name": "TableName", "Value": "S3ObjectEvents"}],
        StartTime=start.replace(second=0), EndTime=end, Period=60,
        Statistics=["Sum"])["Datapoints"]
    assert stat["Sum"] == 12.0
    assert found["StateReason"] == (
        f"Threshold Crossed: 1 datapoint [12.0 {minute(start)}] was greater than the threshold "
        "(10.0).")
    data = json.loads(found["StateReasonData"])
    assert list(data) == ["version", "queryDate", "startDate", "statistic", "period",
                          "recentDatapoints", "threshold", "evaluatedDatapoints"]
    assert re.fullmatch(STAMP, data["queryDate"])
    assert data["startDate"] == start.strftime("%Y-%m-%dT%H:%M:00.000+0000")
    assert (data["statistic"], data["period"], data["threshold"]) == ("Sum", 60, 10.0)
    assert data["recentDatapoints"] == [12.0]
    assert data["evaluatedDatapoints"] == [
        {"timestamp": data["startDate"], "sampleCount": 12.0, "value": 12.0}]


def test_ok_to_alarm_and_back_use_the_m_of_n_wording(lab_moto):
    start = align(lab_moto)
    put_alarm(lab_moto)
    writes(lab_moto, 3)
    lab_moto.clock.advance(minutes=1)
    found = alarm(lab_moto)
    assert (found["StateValue"], found["StateReason"]) == (
        "OK", f"Threshold Crossed: 1 datapoint [3.0 {minute(start)}] was not greater than the "
              "threshold (10.0).")
    writes(lab_moto, 12)
    burst = start + dt.timedelta(minutes=1)
    lab_moto.clock.advance(minutes=1)
    assert alarm(lab_moto)["StateReason"] == (
        f"Threshold Crossed: 1 out of the last 1 datapoints [12.0 {minute(burst)}] was greater "
        "than the threshold (10.0) (minimum 1 datapoint for OK -> ALARM transition).")
    writes(lab_moto, 1)
    lab_moto.clock.advance(minutes=1)
    found = alarm(lab_moto)
    assert (found["StateValue"], found["StateReason"]) == (
        "OK", f"Threshold Crossed: 1 out of the last 1 datapoints [1.0 "
              f"{minute(burst + dt.timedelta(minutes=1))}] was not greater than the threshold "
              "(10.0) (minimum 1 datapoint for ALARM -> OK transition).")


def test_put_metric_data_api_on_a_custom_namespace(lab_moto):
    start = align(lab_moto)
    custom_alarm(lab_moto, TreatMissingData="missing")
    lab_moto.client("cloudwatch").put_metric_data(Namespace="Lab/Uploads", MetricData=[
        {"MetricName": "Files", "Values": [4.0, 5.0], "Counts": [1.0, 1.0], "Unit": "Count"},
        {"MetricName": "Files", "Value": 3.0, "Unit": "Count"}])
    lab_moto.clock.advance(minutes=1)
    found = alarm(lab_moto, "Uploads")
    assert (found["StateValue"], found["StateReason"]) == (
        "ALARM", f"Threshold Crossed: 1 datapoint [12.0 {minute(start)}] was greater than the "
                 "threshold (10.0).")


def test_datapoints_of_other_dimensions_or_units_are_not_counted(lab_moto):
    align(lab_moto)
    put_alarm(lab_moto, Unit="Count")
    writes(lab_moto, 50, dimensions={"TableName": "Other"})
    writes(lab_moto, 50, dimensions={"TableName": "S3ObjectEvents", "Extra": "x"})
    metrics.put_datapoint(current(), namespace="AWS/DynamoDB", name="ConsumedWriteCapacityUnits",
                          value=50, unit="Bytes", dimensions=TABLE)
    lab_moto.clock.advance(minutes=1)
    assert alarm(lab_moto)["StateValue"] == "INSUFFICIENT_DATA"


def test_statistics(lab_moto):
    start = align(lab_moto)
    cases = {"Average": ([4.0, 20.0], "ALARM", "12.0"), "Maximum": ([4.0, 11.0], "ALARM", "11.0"),
             "Minimum": ([4.0, 20.0], "OK", "4.0"), "SampleCount": ([1.0, 1.0], "OK", "2.0")}
    cloudwatch = lab_moto.client("cloudwatch")
    for statistic, (values, _, _) in cases.items():
        custom_alarm(lab_moto, AlarmName=statistic, MetricName=statistic, Statistic=statistic,
                     TreatMissingData="missing")
        cloudwatch.put_metric_data(Namespace="Lab/Uploads", MetricData=[
            {"MetricName": statistic, "Value": value} for value in values])
    lab_moto.clock.advance(minutes=1)
    for statistic, (_, state, shown) in cases.items():
        found = alarm(lab_moto, statistic)
        assert found["StateValue"] == state, statistic
        assert f"[{shown} {minute(start)}]" in found["StateReason"]


def test_m_out_of_n_needs_m_breaching_periods(lab_moto):
    start = align(lab_moto)
    custom_alarm(lab_moto, EvaluationPeriods=3, DatapointsToAlarm=2, TreatMissingData="missing")
    files(lab_moto, 1, minutes_ago=3)
    files(lab_moto, 50, minutes_ago=2)
    files(lab_moto, 1, minutes_ago=1)
    assert alarm(lab_moto, "Uploads")["StateValue"] == "OK"
    lab_moto.clock.advance(minutes=1)
    files(lab_moto, 50, minutes_ago=1)  # now 2 of the last 3 minutes breach
    found = alarm(lab_moto, "Uploads")
    assert found["StateValue"] == "ALARM"
    first, second = start - dt.timedelta(minutes=2), start
    assert found["StateReason"] == (
        f"Threshold Crossed: 2 out of the last 3 datapoints [50.0 {minute(second)}, 50.0 "
        f"{minute(first)}] were greater than the threshold (10.0) (minimum 2 datapoints for "
        "OK -> ALARM transition).")
    data = json.loads(found["StateReasonData"])
    assert data["recentDatapoints"] == [50.0, 1.0, 50.0]
    assert [p["value"] for p in data["evaluatedDatapoints"]] == [50.0, 1.0, 50.0]


# AWS's two documentation tables: data points oldest first, then the state per treatment
# (None: the current state is kept).
TABLES = [
    (3, 3, "0 - X - X", "OK", "OK", "OK", "OK"),
    (3, 3, "0 - - - -", "OK", "OK", "OK", "OK"),
    (3, 3, "- - - - -", "INSUFFICIENT_DATA", None, "ALARM", "OK"),
    (3, 3, "0 X X - X", "ALARM", "ALARM", "ALARM", "ALARM"),
    (3, 3, "- - - - X", "INSUFFICIENT_DATA", None, "ALARM", "OK"),
    (3, 3, "X - - - -", "ALARM", None, "ALARM", "OK"),
    (3, 2, "0 - X - X", "ALARM", "ALARM", "ALARM", "ALARM"),
    (3, 2, "0 0 X 0 X", "ALARM", "ALARM", "ALARM", "ALARM"),
    (3, 2, "0 - X - -", "OK", "OK", "ALARM", "OK"),
    (3, 2, "- - - - 0", "OK", "OK", "ALARM", "OK"),
    (3, 2, "- - - - X", "INSUFFICIENT_DATA", None, "ALARM", "OK"),
]


@pytest.mark.parametrize(("n", "m", "points", "missing", "ignore", "breaching", "not_breaching"),
                         TABLES)
def test_decisions_match_the_aws_documentation_tables(n, m, points, missing, ignore, breaching,
                                                      not_breaching):
    values = [{"0": 0.0, "X": 1.0, "-": None}[p] for p in points.split()]
    expected = {"missing": missing, "ignore": ignore, "breaching": breaching,
                "notBreaching": not_breaching}
    for treat, state in expected.items():
        decided, _, _ = alarms.decide(values=values, evaluation_periods=n, datapoints_to_alarm=m,
                                      treat=treat, breaches=lambda v: v > 0.5)
        assert decided == state, (points, treat)


def test_missing_goes_to_insufficient_data_after_the_evaluation_range(lab_moto):
    align(lab_moto)
    custom_alarm(lab_moto, TreatMissingData="missing")
    files(lab_moto, 12)
    lab_moto.clock.advance(minutes=2)  # the breach is still inside the 3-period range
    assert alarm(lab_moto, "Uploads")["StateValue"] == "ALARM"
    lab_moto.clock.advance(minutes=2)
    found = alarm(lab_moto, "Uploads")
    assert (found["StateValue"], found["StateReason"]) == (
        "INSUFFICIENT_DATA", "Insufficient Data: 1 datapoint was unknown.")
    data = json.loads(found["StateReasonData"])
    assert list(data) == ["version", "queryDate", "statistic", "period", "recentDatapoints",
                          "threshold", "evaluatedDatapoints"]
    assert data["recentDatapoints"] == [] and list(data["evaluatedDatapoints"][0]) == ["timestamp"]


def test_not_breaching_goes_ok_when_data_stops(lab_moto):
    align(lab_moto)
    custom_alarm(lab_moto, TreatMissingData="notBreaching")
    files(lab_moto, 12)
    lab_moto.clock.advance(minutes=1)
    assert alarm(lab_moto, "Uploads")["StateValue"] == "ALARM"
    lab_moto.clock.advance(minutes=10)
    found = alarm(lab_moto, "Uploads")
    assert (found["StateValue"], found["StateReason"]) == (
        "OK", "Threshold Crossed: no datapoints were received for 1 period and 1 missing "
              "datapoint was treated as [NonBreaching].")


def test_breaching_alarms_without_data_and_with_some(lab_moto):
    start = align(lab_moto)
    custom_alarm(lab_moto, TreatMissingData="breaching", EvaluationPeriods=3, DatapointsToAlarm=3)
    assert (alarm(lab_moto, "Uploads")["StateValue"], alarm(lab_moto, "Uploads")["StateReason"]) \
        == ("ALARM", "Threshold Crossed: no datapoints were received for 3 periods and 3 missing "
                     "datapoints were treated as [Breaching].")
    files(lab_moto, 1, minutes_ago=1)  # one good period, two missing ones count as breaching
    found = alarm(lab_moto, "Uploads")
    assert (found["StateValue"], found["StateReason"]) == (
        "OK", f"Threshold Crossed: 1 out of the last 3 datapoints [1.0 "
              f"{minute(start - dt.timedelta(minutes=1))}] was not greater than the threshold "
              "(10.0) and 2 missing datapoints were treated as [Breaching] (minimum 1 datapoint "
              "for ALARM -> OK transition).")


def test_ignore_keeps_the_state_through_silence(lab_moto):
    align(lab_moto)
    custom_alarm(lab_moto, TreatMissingData="ignore")
    files(lab_moto, 12)
    lab_moto.clock.advance(minutes=30)
    assert alarm(lab_moto, "Uploads")["StateValue"] == "ALARM"
    assert len(history(lab_moto, HistoryItemType="StateUpdate")) == 1


def test_dynamodb_alarms_ignore_missing_data_whatever_they_say(lab_moto):
    topic = topic_with_inbox(lab_moto)
    start = align(lab_moto)
    put_alarm(lab_moto, topic, TreatMissingData="notBreaching")
    writes(lab_moto, 12)
    lab_moto.clock.advance(minutes=1)
    assert alarm(lab_moto)["StateValue"] == "ALARM"
    lab_moto.clock.advance(minutes=9)
    assert alarm(lab_moto)["StateValue"] == "ALARM"  # silence does not clear it
    writes(lab_moto, 1)
    assert alarm(lab_moto)["StateValue"] == "ALARM"  # the open minute has not ended
    lab_moto.clock.advance(minutes=1)
    found = alarm(lab_moto)
    assert found["StateValue"] == "OK"
    low = start + dt.timedelta(minutes=10)
    assert found["StateReason"] == (
        f"Threshold Crossed: 1 out of the last 1 datapoints [1.0 {minute(low)}] was not greater "
        "than the threshold (10.0) (minimum 1 datapoint for ALARM -> OK transition).")
    assert [m["subject"] for m in notifications(lab_moto)] == [
        'ALARM: "WriteActivity" in US East (N. Virginia)',
        'OK: "WriteActivity" in US East (N. Virginia)']


# -- actions ---------------------------------------------------------------------------------------

def test_actions_run_only_on_a_state_change(lab_moto):
    topic = topic_with_inbox(lab_moto)
    align(lab_moto)
    put_alarm(lab_moto, topic)
    writes(lab_moto, 11)
    writes(lab_moto, 12)
    lab_moto.clock.advance(minutes=1)
    writes(lab_moto, 30)
    assert len(notifications(lab_moto)) == 1
    assert len(notifications(lab_moto, JSON_EMAIL)) == 1
    assert len(history(lab_moto, HistoryItemType="Action")) == 1


def test_alarm_message_has_aws_keys_in_aws_order(lab_moto):
    topic = topic_with_inbox(lab_moto)
    align(lab_moto)
    put_alarm(lab_moto, topic)
    writes(lab_moto, 12)
    lab_moto.clock.advance(minutes=1)  # the minute is judged once it is over
    [message] = alarm_messages(lab_moto)
    assert list(message) == [
        "AlarmName", "AlarmDescription", "AWSAccountId", "AlarmConfigurationUpdatedTimestamp",
        "NewStateValue", "NewStateReason", "StateChangeTime", "Region", "AlarmArn",
        "OldStateValue", "OKActions", "AlarmActions", "InsufficientDataActions", "Trigger"]
    assert list(message["Trigger"]) == [
        "MetricName", "Namespace", "StatisticType", "Statistic", "Unit", "Dimensions", "Period",
        "EvaluationPeriods", "DatapointsToAlarm", "ComparisonOperator", "Threshold",
        "TreatMissingData", "EvaluateLowSampleCountPercentile"]
    found = alarm(lab_moto)
    assert message["AlarmName"] == "WriteActivity" and message["AlarmDescription"] is None
    assert message["AWSAccountId"] == lab_moto.account_id
    assert re.fullmatch(STAMP, message["AlarmConfigurationUpdatedTimestamp"])
    assert re.fullmatch(STAMP, message["StateChangeTime"])
    assert (message["NewStateValue"], message["OldStateValue"]) == ("ALARM", "INSUFFICIENT_DATA")
    assert message["NewStateReason"] == found["StateReason"]
    assert message["Region"] == "US East (N. Virginia)"
    assert message["AlarmArn"] == (
        f"arn:aws:cloudwatch:us-east-1:{lab_moto.account_id}:alarm:WriteActivity")
    assert (message["OKActions"], message["AlarmActions"], message["InsufficientDataActions"]) \
        == ([topic], [topic], [])
    assert message["Trigger"] == {
        "MetricName": "ConsumedWriteCapacityUnits", "Namespace": "AWS/DynamoDB",
        "StatisticType": "Statistic", "Statistic": "SUM", "Unit": None,
        "Dimensions": [{"value": "S3ObjectEvents", "name": "TableName"}], "Period": 60,
        "EvaluationPeriods": 1, "DatapointsToAlarm": 1,
        "ComparisonOperator": "GreaterThanThreshold", "Threshold": 10.0,
        "TreatMissingData": "notBreaching", "EvaluateLowSampleCountPercentile": ""}


def test_alarm_message_without_optional_settings(lab_moto):
    topic = topic_with_inbox(lab_moto)
    align(lab_moto)
    lab_moto.client("cloudwatch").put_metric_alarm(
        AlarmName="Bare", Namespace="Lab/Uploads", MetricName="Files", Statistic="Maximum",
        Period=60, EvaluationPeriods=1, Threshold=5.0, Unit="Count", AlarmDescription="Big file",
        ComparisonOperator="GreaterThanOrEqualToThreshold", AlarmActions=[topic])
    files(lab_moto, 5)
    lab_moto.clock.advance(minutes=1)  # the minute is judged once it is over
    [message] = alarm_messages(lab_moto)
    assert message["AlarmDescription"] == "Big file"
    assert "DatapointsToAlarm" not in message["Trigger"]
    assert (message["Trigger"]["Unit"], message["Trigger"]["Statistic"]) == ("Count", "MAXIMUM")
    assert message["Trigger"]["TreatMissingData"] == "missing"
    assert message["NewStateReason"].endswith(
        "was greater than or equal to the threshold (5.0).")


def test_email_subscribers_get_cloudwatch_text(lab_moto):
    topic = topic_with_inbox(lab_moto)
    align(lab_moto)
    put_alarm(lab_moto, topic, AlarmDescription="Too many writes")
    writes(lab_moto, 12)
    lab_moto.clock.advance(minutes=1)  # the minute is judged once it is over
    [mail] = notifications(lab_moto)
    reason = alarm(lab_moto)["StateReason"]
    assert mail["subject"] == 'ALARM: "WriteActivity" in US East (N. Virginia)'
    assert mail["body"].startswith(
        'You are receiving this email because your Amazon CloudWatch Alarm "WriteActivity" in '
        f'the US East (N. Virginia) region has entered the ALARM state, because "{reason}" at "')
    for line in ("- Description:                Too many writes",
                 "- State Change:               INSUFFICIENT_DATA -> ALARM",
                 "- The alarm is in the ALARM state when the metric is GreaterThanThreshold 10.0 "
                 "for at least 1 of the last 1 period(s) of 60 seconds.",
                 "- Dimensions:                          [TableName = S3ObjectEvents]",
                 f"- ALARM: [{topic}]", "- INSUFFICIENT_DATA:"):
        assert line in mail["body"].splitlines()
    assert re.search(r'at "[A-Z][a-z]+day \d\d [A-Z][a-z]+, \d{4} \d\d:\d\d:\d\d UTC"\.',
                     mail["body"])
    assert "\n\n\n--\nIf you wish to stop receiving notifications" in mail["body"]


def test_subject_names_the_region(lab_moto):
    topic = topic_with_inbox(lab_moto, region="eu-west-1")
    align(lab_moto)
    cloudwatch = boto3.client("cloudwatch", region_name="eu-west-1")
    cloudwatch.put_metric_alarm(
        AlarmName="Dublin", Namespace="Lab/Uploads", MetricName="Files", Statistic="Sum",
        Period=60, EvaluationPeriods=1, Threshold=1.0, ComparisonOperator="GreaterThanThreshold",
        AlarmActions=[topic])
    cloudwatch.put_metric_data(Namespace="Lab/Uploads",
                               MetricData=[{"MetricName": "Files", "Value": 2.0}])
    lab_moto.clock.advance(minutes=1)  # the minute is judged once it is over
    [mail] = notifications(lab_moto)
    assert mail["subject"] == 'ALARM: "Dublin" in EU (Ireland)'
    [message] = alarm_messages(lab_moto)
    assert message["Region"] == "EU (Ireland)"
    assert message["AlarmArn"].startswith("arn:aws:cloudwatch:eu-west-1:")


def test_every_commercial_region_has_a_long_name():
    path = os.path.join(os.path.dirname(botocore.__file__), "data", "endpoints.json")
    with open(path) as handle:
        partition = next(p for p in json.load(handle)["partitions"] if p["partition"] == "aws")
    for code, region in partition["regions"].items():
        expected = region["description"].replace("Europe (", "EU (")
        assert alarms.region_name(code) == expected


def test_actions_disabled_change_state_silently(lab_moto):
    topic = topic_with_inbox(lab_moto)
    align(lab_moto)
    put_alarm(lab_moto, topic)
    lab_moto.client("cloudwatch").disable_alarm_actions(AlarmNames=["WriteActivity"])
    writes(lab_moto, 12)
    lab_moto.clock.advance(minutes=1)  # the minute is judged once it is over
    assert alarm(lab_moto)["StateValue"] == "ALARM"
    assert notifications(lab_moto) == []
    assert history(lab_moto, HistoryItemType="Action") == []


def test_a_missing_topic_is_a_failed_action(lab_moto):
    missing = f"arn:aws:sns:us-east-1:{lab_moto.account_id}:nowhere"
    align(lab_moto)
    put_alarm(lab_moto, missing)
    writes(lab_moto, 12)
    lab_moto.clock.advance(minutes=1)  # the minute is judged once it is over
    [action] = history(lab_moto, HistoryItemType="Action")
    assert action["HistorySummary"].startswith(f"Failed to execute action {missing}.")
    data = json.loads(action["HistoryData"])
    assert (data["actionState"], data["notificationResource"], data["publishedMessage"]) == (
        "Failed", missing, None)


def test_set_alarm_state_fires_actions_until_the_next_evaluation(lab_moto):
    topic = topic_with_inbox(lab_moto)
    align(lab_moto)
    put_alarm(lab_moto, topic, TreatMissingData="missing", Namespace="Lab/Uploads",
              MetricName="Files", Dimensions=[], InsufficientDataActions=[topic])
    lab_moto.client("cloudwatch").set_alarm_state(
        AlarmName="WriteActivity", StateValue="ALARM", StateReason="Testing the email path")
    found = alarm(lab_moto)
    assert (found["StateValue"], found["StateReason"]) == ("ALARM", "Testing the email path")
    lab_moto.clock.advance(minutes=1)
    assert alarm(lab_moto)["StateValue"] == "INSUFFICIENT_DATA"
    assert [m["subject"].split(":")[0] for m in notifications(lab_moto)] == [
        "ALARM", "INSUFFICIENT_DATA"]


def test_set_alarm_state_rejects_unknown_alarms_and_states(lab_moto):
    cloudwatch = lab_moto.client("cloudwatch")
    with pytest.raises(ClientError, match="ResourceNotFound"):
        cloudwatch.set_alarm_state(AlarmName="nope", StateValue="OK", StateReason="x")
    put_alarm(lab_moto)
    with pytest.raises(ClientError, match="ValidationError"):
        cloudwatch.set_alarm_state(AlarmName="WriteActivity", StateValue="BROKEN",
                                   StateReason="x")


# -- history ---------------------------------------------------------------------------------------

def test_describe_alarm_history(lab_moto):
    topic = topic_with_inbox(lab_moto)
    align(lab_moto)
    put_alarm(lab_moto, topic)
    writes(lab_moto, 12)
    lab_moto.clock.advance(minutes=1)  # the minute is judged once it is over
    items = history(lab_moto, AlarmName="WriteActivity")
    assert [(i["HistoryItemType"], i["HistorySummary"]) for i in items] == [
        ("Action", f"Successfully executed action {topic}"),
        ("StateUpdate", "Alarm updated from INSUFFICIENT_DATA to ALARM"),
        ("ConfigurationUpdate", 'Alarm "WriteActivity" created')]
    assert all(set(i) == {"AlarmName", "AlarmType", "Timestamp", "HistoryItemType",
                          "HistorySummary", "HistoryData"} for i in items)
    assert all(i["AlarmType"] == "MetricAlarm" for i in items)
    update = json.loads(items[1]["HistoryData"])
    assert update["oldState"] == {"stateValue": "INSUFFICIENT_DATA",
                                  "stateReason": "Unchecked: Initial alarm creation"}
    assert update["newState"]["stateValue"] == "ALARM"
    assert update["newState"]["stateReasonData"]["recentDatapoints"] == [12.0]
    action = json.loads(items[0]["HistoryData"])
    assert list(action) == ["actionState", "stateUpdateTimestamp", "notificationResource",
                            "publishedMessage"]
    assert json.loads(json.loads(action["publishedMessage"])["default"])["AlarmName"] == \
        "WriteActivity"
    oldest_first = history(lab_moto, ScanBy="TimestampAscending")
    assert [i["HistorySummary"] for i in oldest_first] == [i["HistorySummary"] for i in items][::-1]


def test_alarm_history_filters_and_pages(lab_moto):
    cloudwatch = lab_moto.client("cloudwatch")
    start = align(lab_moto)
    put_alarm(lab_moto)
    custom_alarm(lab_moto, TreatMissingData="missing")  # stays INSUFFICIENT_DATA
    lab_moto.clock.advance(hours=1)
    writes(lab_moto, 12)
    lab_moto.clock.advance(minutes=1)  # the minute is judged once it is over
    assert [i["AlarmName"] for i in history(lab_moto, AlarmName="Uploads")] == ["Uploads"]
    assert history(lab_moto, AlarmName="Nobody") == []
    later = history(lab_moto, StartDate=start + dt.timedelta(minutes=30))
    assert [i["HistorySummary"] for i in later] == [
        "Alarm updated from INSUFFICIENT_DATA to ALARM"]
    assert len(history(lab_moto, EndDate=start + dt.timedelta(minutes=30))) == 2
    page = cloudwatch.describe_alarm_history(MaxRecords=2)
    assert len(page["AlarmHistoryItems"]) == 2
    rest = cloudwatch.describe_alarm_history(MaxRecords=2, NextToken=page["NextToken"])
    assert len(rest["AlarmHistoryItems"]) == 1 and "NextToken" not in rest
    with pytest.raises(ClientError, match="NextToken"):
        cloudwatch.describe_alarm_history(NextToken="not-a-token")


def test_deleting_an_alarm_is_history_too(lab_moto):
    put_alarm(lab_moto)
    lab_moto.client("cloudwatch").delete_alarms(AlarmNames=["WriteActivity"])
    assert lab_moto.client("cloudwatch").describe_alarms()["MetricAlarms"] == []
    assert history(lab_moto)[0]["HistorySummary"] == 'Alarm "WriteActivity" deleted'
    assert json.loads(history(lab_moto)[0]["HistoryData"])["type"] == "Delete"


# -- formats and wiring ------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "text"), [
    (12, "12.0"), (0.5, "0.5"), (1.0166666666666666, "1.0166666666666666"), (0, "0.0"),
    (1e7, "1.0E7"), (12345678.9, "1.23456789E7"), (0.0001, "1.0E-4"), (-2.5, "-2.5"),
])
def test_numbers_print_as_java_doubles(value, text):
    assert alarms.java_double(value) == text


def test_more_than_five_datapoints_list_the_most_recent_five():
    alarm_like = SimpleNamespace(evaluation_periods=6, datapoints_to_alarm=6, threshold=1.0,
                                 comparison_operator="GreaterThanThreshold")
    base = dt.datetime(2026, 11, 25, 8, 0)
    points = tuple(alarms.Datapoint(base + dt.timedelta(minutes=i), float(i + 2), 1.0)
                   for i in range(6))
    outcome = alarms.Outcome(state="ALARM", slots=tuple(p.start for p in points), real=points,
                             filled=0, treatment="missing")
    assert alarms.state_reason(alarm_like, outcome, "OK") == (
        "Threshold Crossed: 6 out of the last 6 datapoints were greater than the threshold (1.0). "
        "The most recent datapoints which crossed the threshold: [7.0 (25/11/26 08:05:00), "
        "6.0 (25/11/26 08:04:00), 5.0 (25/11/26 08:03:00), 4.0 (25/11/26 08:02:00), "
        "3.0 (25/11/26 08:01:00)] (minimum 6 datapoints for OK -> ALARM transition).")


def test_every_hook_point_is_patched(lab_moto):
    assert all(hooks.is_patched(point) for point in alarms.HOOK_POINTS)
