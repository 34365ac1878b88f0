"""Lesson 06's exercises: blank, likely wrong and right values for each (what the notebook hides)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from lab import alarms, dynamodb, sns
from lab.checks import ____
from lab.exercises import cloudwatch_alarms as ex

RIGHT = {"Namespace": "AWS/DynamoDB", "MetricName": "ConsumedWriteCapacityUnits",
         "Threshold": 10.0, "ComparisonOperator": "GreaterThanThreshold"}


@pytest.fixture
def cloud(lab_moto):
    """Lessons 01–02 as the alarms need them: the topic (with its subscription) and the table."""
    sns.ensure_topic(lab_moto, quiet=True)
    sns.ensure_email_subscription(lab_moto, quiet=True)
    dynamodb.ensure_table(lab_moto, quiet=True)
    return lab_moto


def _put_activity_alarm(cloud, topic_arn=None, **blanks):
    """The notebook's exercise cell, with ``blanks`` filled in (the right answer by default)."""
    values = {**RIGHT, **blanks}
    with ex.build_activity_alarm.attempt(cloud) as attempt:
        topic_arn = sns.get_topic(cloud) if topic_arn is None else topic_arn
        cloud.client("cloudwatch").put_metric_alarm(
            AlarmName=cloud.names.activity_alarm,
            AlarmDescription=("More than 10 write capacity units consumed in a minute on "
                              f"{cloud.names.table}"),
            Namespace=values["Namespace"],
            MetricName=values["MetricName"],
            Dimensions=[{"Name": "TableName", "Value": cloud.names.table}],
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            DatapointsToAlarm=1,
            Threshold=values["Threshold"],
            ComparisonOperator=values["ComparisonOperator"],
            TreatMissingData="notBreaching",
            ActionsEnabled=True,
            AlarmActions=[topic_arn],
            OKActions=[topic_arn],
        )
    return attempt.outcome


def _metric_alarms(cloud):
    return cloud.client("cloudwatch").describe_alarms()["MetricAlarms"]


# --- build_activity_alarm -------------------------------------------------------------------------

def test_blank_is_not_attempted_and_the_helper_creates_the_activity_alarm_only(cloud, capsys):
    outcome = _put_activity_alarm(cloud, topic_arn=____, Namespace=____, MetricName=____,
                                  Threshold=____, ComparisonOperator=____)
    assert outcome.status == "not attempted"
    out = capsys.readouterr().out
    assert out.startswith("… Create the activity alarm: not attempted yet")
    assert out.splitlines()[-1] == "✓ Created alarm DynamoDBWriteActivityAlert"
    assert [a["AlarmName"] for a in _metric_alarms(cloud)] == [cloud.names.activity_alarm]
    assert ex.build_activity_alarm.evaluate(cloud).passed


@pytest.mark.parametrize("blank", ["topic_arn", "Namespace", "MetricName", "Threshold",
                                   "ComparisonOperator"])
def test_any_one_blank_left_is_not_attempted(cloud, blank):
    assert _put_activity_alarm(cloud, **{blank: ____}).status == "not attempted"


def test_right_answer_passes_and_matches_the_helper(cloud, capsys):
    outcome = _put_activity_alarm(cloud)
    assert outcome.passed
    assert outcome.message == (
        "Create the activity alarm: DynamoDBWriteActivityAlert sums ConsumedWriteCapacityUnits of "
        "S3ObjectEvents per minute, goes to ALARM above 10 and emails through event-driven-alerts "
        "on ALARM and OK.")
    capsys.readouterr()
    alarms.ensure_alarms(cloud)
    assert capsys.readouterr().out.splitlines() == [
        "✓ Alarm DynamoDBWriteActivityAlert already exists",
        "✓ Created alarm DynamoDBWriteThrottleAlert",
    ]
    assert ex.alarms.evaluate(cloud).passed


def test_right_answer_twice_still_passes_and_duplicates_nothing(cloud):
    assert _put_activity_alarm(cloud).passed
    assert _put_activity_alarm(cloud).passed
    assert len(_metric_alarms(cloud)) == 1


def test_threshold_as_an_int_is_right_too(cloud):
    assert _put_activity_alarm(cloud, Threshold=10).passed


@pytest.mark.parametrize("blanks, sentence", [
    ({"ComparisonOperator": "GreaterThanOrEqualToThreshold"},
     "would make exactly 10 writes in a minute alarm; the lab's alarm fires only above 10"),
    ({"ComparisonOperator": "GreaterThan"},
     "ComparisonOperator 'GreaterThan' is not a valid value: AWS refuses it"),
    ({"ComparisonOperator": "greaterthanthreshold"},
     "ComparisonOperator 'greaterthanthreshold' is not a valid value: AWS refuses it"),
    ({"ComparisonOperator": "LessThanThreshold"},
     "would fire when writes are few, not when there are too many"),
    ({"Threshold": 1}, "Threshold is 1: the alarm would fire on any minute with more than 1 write unit"),
    ({"Threshold": 100}, "Threshold is 100: it would take more than 100 uploads in one minute"),
    ({"Namespace": "DynamoDB"},
     "every AWS service publishes its metrics under 'AWS/<service>', with the prefix"),
    ({"Namespace": "AWS/Dynamo"},
     "Namespace is 'AWS/Dynamo': AWS services publish under 'AWS/' and their full name"),
    ({"Namespace": "aws/dynamodb"}, "namespaces are case-sensitive"),
    ({"MetricName": "WriteThrottleEvents"},
     "MetricName 'WriteThrottleEvents' is the metric of the other alarm (DynamoDBWriteThrottleAlert)"),
    ({"MetricName": "ConsumedReadCapacityUnits"}, "counts reads, but the pipeline writes"),
    ({"MetricName": "consumedWriteCapacityUnits"}, "metric names are case-sensitive"),
    ({"MetricName": "WriteCapacityUnits"}, "DynamoDB publishes no metric called 'WriteCapacityUnits'"),
    ({"topic_arn": "arn:aws:sns:us-east-1::event-driven-alerts"},
     "an ARN without its account id (nothing between the last two colons)"),
    ({"topic_arn": "event-driven-alerts"},
     "AlarmActions holds 'event-driven-alerts', which is the topic's name, not its ARN"),
    ({"topic_arn": "arn:aws:sns:us-east-1:123456789012:alerts"},
     "that is not the lab's topic 'event-driven-alerts'"),
])
def test_likely_wrong_values_each_get_their_sentence(cloud, blanks, sentence):
    outcome = _put_activity_alarm(cloud, **blanks)
    assert outcome.status == "wrong"
    assert sentence in outcome.message
    assert "run the cell again" in outcome.message


def test_a_wrong_alarm_is_fixed_by_running_the_cell_again(cloud):
    assert _put_activity_alarm(cloud, Namespace="DynamoDB").status == "wrong"
    assert _put_activity_alarm(cloud).passed
    assert len(_metric_alarms(cloud)) == 1


def test_threshold_as_a_string_is_refused_by_botocore_and_translated(cloud):
    outcome = _put_activity_alarm(cloud, Threshold="10")
    assert outcome.status == "wrong"
    assert "boto3 refused the call before sending it: Threshold is a number, and you gave a " \
           "string (in quotes)" in outcome.message
    assert _metric_alarms(cloud) == []


def test_a_list_for_topic_arn_is_refused_by_botocore_and_translated(cloud):
    outcome = _put_activity_alarm(cloud, topic_arn=[sns.get_topic(cloud)])
    assert outcome.status == "wrong"
    assert "topic_arn must be one ARN, a string" in outcome.message


@pytest.mark.parametrize("message, sentence", [
    ("1 validation error detected: Value 'GreaterThan' at 'comparisonOperator' failed to satisfy "
     "constraint: Member must satisfy enum value set: [GreaterThanThreshold]",
     "AWS refused ComparisonOperator: it is not a valid value"),
    ("Invalid arn syntax: event-driven-alerts", "AWS refused the alarm's actions: they take the "
                                                "topic's full ARN"),
    ("", "AWS refused the alarm's actions"),
])
def test_aws_refusals_of_the_learners_values_are_explained(cloud, message, sentence):
    with ex.build_activity_alarm.attempt(cloud) as attempt:
        raise ClientError({"Error": {"Code": "ValidationError", "Message": message}},
                          "PutMetricAlarm")
    assert attempt.outcome.status == "wrong"
    assert sentence in attempt.outcome.message


def test_the_check_without_an_alarm_says_to_run_the_cell(cloud):
    outcome = ex.build_activity_alarm.evaluate(cloud)
    assert outcome.status == "wrong"
    assert "there is no alarm DynamoDBWriteActivityAlert yet" in outcome.message


def test_hints_and_solution_name_the_blanks(capsys):
    ex.build_activity_alarm.hint()
    ex.build_activity_alarm.solution()
    out = capsys.readouterr().out
    assert out.startswith("Hint 1/3:")
    for value in RIGHT.values():
        assert str(value) in out


# --- the two alarms (the check after the helper) ---------------------------------------------------

def test_alarms_check_passes_after_the_helper(cloud):
    alarms.ensure_alarms(cloud, quiet=True)
    assert ex.alarms.evaluate(cloud).passed


def test_alarms_check_names_a_missing_alarm(cloud):
    alarms.ensure_activity_alarm(cloud, quiet=True)
    outcome = ex.alarms.evaluate(cloud)
    assert outcome.status == "wrong"
    assert "there is no alarm DynamoDBWriteThrottleAlert yet" in outcome.message


def test_alarms_check_names_a_wrong_setting(cloud):
    alarms.ensure_alarms(cloud, quiet=True)
    _put_activity_alarm(cloud, MetricName="WriteThrottleEvents")
    outcome = ex.alarms.evaluate(cloud)
    assert outcome.status == "wrong"
    assert "DynamoDBWriteActivityAlert has MetricName 'WriteThrottleEvents'" in outcome.message


def test_the_helper_puts_a_wrong_activity_alarm_back(cloud, capsys):
    _put_activity_alarm(cloud, ComparisonOperator="GreaterThanOrEqualToThreshold")
    capsys.readouterr()
    alarms.ensure_alarms(cloud)
    assert capsys.readouterr().out.splitlines()[0] == (
        "✓ Alarm DynamoDBWriteActivityAlert already exists (updated its settings)")
    assert ex.build_activity_alarm.evaluate(cloud).passed


# --- the states, as printed by the notebook --------------------------------------------------------

def test_print_states_shows_each_alarm_with_its_reason(cloud, capsys):
    alarms.print_states(cloud)
    assert capsys.readouterr().out == "Neither alarm exists yet.\n"
    alarms.ensure_alarms(cloud, quiet=True)
    alarms.print_states(cloud)
    assert capsys.readouterr().out.splitlines() == [
        "DynamoDBWriteActivityAlert   INSUFFICIENT_DATA",
        "    reason: Unchecked: Initial alarm creation",
        "DynamoDBWriteThrottleAlert   INSUFFICIENT_DATA",
        "    reason: Unchecked: Initial alarm creation",
    ]


# --- q1: two out of three --------------------------------------------------------------------------

def _m_out_of_n(sums, *, m, n, threshold):
    """The notebook's rule, as the lesson writes it."""
    return "ALARM" if sum(v > threshold for v in sums[-n:]) >= m else "OK"


def test_q1_blank_is_not_attempted():
    assert ex.q1.evaluate(____).status == "not attempted"


def test_q1_the_rule_of_the_lesson_gives_the_right_answer():
    answer = _m_out_of_n(list(ex.SERIES), m=ex.DATAPOINTS_TO_ALARM, n=ex.EVALUATION_PERIODS,
                         threshold=ex.THRESHOLD)
    assert ex.q1.evaluate(answer).passed


@pytest.mark.parametrize("answer", ["OK", "ok", " Ok "])
def test_q1_right(answer):
    outcome = ex.q1.evaluate(answer)
    assert outcome.passed
    assert "the two big minutes at the start are outside the window" in outcome.message.lower()


@pytest.mark.parametrize("answer, sentence", [
    ("ALARM", "looks only at the 3 most recent"),
    ("INSUFFICIENT_DATA", "every one of the 3 evaluated minutes has a datapoint"),
    ("insufficient data", "every one of the 3 evaluated minutes has a datapoint"),
    ("RED", "'RED' is not an alarm state"),
    (1, "give a state as a string"),
])
def test_q1_wrong(answer, sentence):
    outcome = ex.q1.evaluate(answer)
    assert outcome.status == "wrong"
    assert sentence in outcome.message


# --- q2: ten quiet minutes -------------------------------------------------------------------------

def test_q2_blank_is_not_attempted():
    assert ex.q2.evaluate(____).status == "not attempted"


def test_q2_right():
    outcome = ex.q2.evaluate("ALARM")
    assert outcome.passed
    assert "always treat missing data as 'ignore'" in outcome.message


@pytest.mark.parametrize("answer, sentence", [
    ("OK", "what TreatMissingData=notBreaching would do on most metrics"),
    ("INSUFFICIENT_DATA", "what TreatMissingData=missing does on most metrics"),
    (None, "give a state as a string"),
])
def test_q2_wrong(answer, sentence):
    outcome = ex.q2.evaluate(answer)
    assert outcome.status == "wrong"
    assert sentence in outcome.message
