"""Lesson 08's exercises: blank, likely wrong and right values for each (what the notebook hides)."""

from __future__ import annotations

import pandas as pd
import pytest

from lab import charts, dynamodb, pipeline, s3, verify
from lab.checks import ____
from lab.exercises import metrics_and_charts as ex

TRAFFIC = [3, 6, 12, 2, 0, 4]   # the lesson's traffic cell


@pytest.fixture(scope="module")
def traffic():
    """Lesson 08 after its traffic cell: the rebuilt pipeline and six minutes of uploads.

    Built once for the module; the tests using ``lab_moto`` (which restarts the mock) come last.
    """
    from lab import connect, mock

    mock.stop()
    cloud = connect("moto", quiet=True)
    pipeline.prepare_lesson(cloud, "08")
    verify.pass_time(cloud, seconds=61 - charts.now(cloud).second)
    for minute, count in enumerate(TRAFFIC):
        for n in range(count):
            s3.upload(cloud, f"traffic/minute-{minute}/file-{n:02d}.csv", "id,value\n1,42\n")
        verify.pass_time(cloud, minutes=1)
    yield cloud
    mock.stop()


def _wcu(cloud):
    return charts.metric_frame(cloud, "AWS/DynamoDB", "ConsumedWriteCapacityUnits",
                               {"TableName": cloud.names.table}, minutes=10)


# -- q1 · the busiest minute -----------------------------------------------------------------------

def test_q1_blank_is_not_attempted(traffic):
    assert ex.q1.evaluate(____, traffic).status == "not attempted"


def test_q1_the_maximum_is_right(traffic):
    wcu = _wcu(traffic)
    outcome = ex.q1.evaluate(wcu["ConsumedWriteCapacityUnits"].max(), traffic)
    assert outcome.passed
    assert "12 WCU, in the minute" in outcome.message
    assert "above the alarm's threshold of 10: its bar is the red one" in outcome.message
    assert ex.q1.evaluate(12, traffic).passed


@pytest.mark.parametrize("reduce, sentence", [
    (lambda w: w["ConsumedWriteCapacityUnits"].sum(), "27 is the total over every minute (.sum())"),
    (lambda w: w["ConsumedWriteCapacityUnits"].idxmax(), "that is the minute of the busiest value"),
    (lambda w: len(w), "10 is the number of rows of wcu (len)"),
    (lambda w: w["ConsumedWriteCapacityUnits"].count(), "5 is how many minutes have a datapoint"),
    (lambda w: w["ConsumedWriteCapacityUnits"].mean(), "5.4 is the average of the minutes with data"),
    (lambda w: w["ConsumedWriteCapacityUnits"].min(), "2 is the quietest minute with data (.min())"),
    (lambda w: w, "that is a whole table"),
    (lambda w: w["ConsumedWriteCapacityUnits"], "that is a Series, not one number"),
    (lambda w: w.max(), "that is a Series, not one number (wcu.max() gives one value per column)"),
    (lambda w: w["ConsumedWriteCapacityUnits"].iloc[0], "that is NaN, a minute without a datapoint"),
    (lambda w: "12", "give one number"),
    (lambda w: 6, "6 is not the largest value in the ConsumedWriteCapacityUnits column"),
])
def test_q1_likely_wrong_answers_get_their_own_sentence(traffic, reduce, sentence):
    outcome = ex.q1.evaluate(reduce(_wcu(traffic)), traffic)
    assert outcome.status == "wrong"
    assert sentence in outcome.message


def test_q1_needs_the_connection(traffic):
    assert "pass the connection made by connect(), e.g. ex.q1.check(answer, cloud)" in \
        ex.q1.evaluate(12, "cloud").message


# -- free_tier · within the Free Tier --------------------------------------------------------------

def test_free_tier_blank_is_not_attempted():
    assert ex.free_tier.evaluate(____).status == "not attempted"


def test_free_tier_passes_with_the_lessons_usage(traffic):
    outcome = ex.free_tier.evaluate(traffic)
    assert outcome.passed
    assert "the closest to its limit is DynamoDB write capacity at 20 %" in outcome.message
    assert ex.free_tier.evaluate(charts.free_tier_usage(traffic)).passed   # the table works too


# -- tests with their own fresh mock (after every test of the module's traffic) ------------------

def test_q1_the_threshold_is_named_when_it_is_no_other_statistic(lab_moto):
    pipeline.prepare_lesson(lab_moto, "08")
    verify.pass_time(lab_moto, seconds=61 - charts.now(lab_moto).second)
    for n in range(3):
        s3.upload(lab_moto, f"traffic/{n}.csv", "x")
    verify.pass_time(lab_moto, minutes=1)
    outcome = ex.q1.evaluate(10.0, lab_moto)
    assert "10 is the number of rows of wcu" in outcome.message   # len(wcu) is also 10
    assert "not above the alarm's threshold" in ex.q1.evaluate(3, lab_moto).message


def test_q1_without_traffic_asks_for_the_traffic_cell(lab_moto):
    pipeline.prepare_lesson(lab_moto, "08")
    outcome = ex.q1.evaluate(12, lab_moto)
    assert outcome.status == "wrong"
    assert "no ConsumedWriteCapacityUnits datapoint in the last 10 minutes: run the traffic cell" \
        in outcome.message


def test_free_tier_names_a_row_over_its_allowance(lab_moto):
    pipeline.prepare_lesson(lab_moto, "08")
    dynamodb.set_write_capacity(lab_moto, 30)
    outcome = ex.free_tier.evaluate(lab_moto)
    assert outcome.status == "wrong"
    assert "DynamoDB write capacity is at 120 % of the Free Tier: beyond 100 % it is billed" \
        in outcome.message


def test_free_tier_needs_the_connection_or_the_table():
    assert "pass the connection made by connect(), e.g. ex.free_tier.check(cloud)" in \
        ex.free_tier.evaluate("usage").message
    empty = pd.DataFrame(columns=charts.USAGE_COLUMNS)
    assert "the table is empty" in ex.free_tier.evaluate(empty).message
