"""Lesson 10's exercises: uploads written before the first throttle, the throttle alarm, TTL expiry."""

from __future__ import annotations

import pytest

import lab
from lab import charts, dynamodb, mock, pipeline, s3, verify
from lab.checks import ____
from lab.exercises import failure_modes as ex


@pytest.fixture(scope="module")
def cloud():
    """One moto mock for the module with lessons 01–06 built (the email subscription confirmed)."""
    mock.stop()
    connection = lab.connect("moto", quiet=True)
    pipeline.prepare_lesson(connection, "10")
    yield connection
    mock.stop()


@pytest.mark.parametrize("answer,status,phrase", [
    (____, "not attempted", "not attempted yet"),
    (1, "wrong", "how fast the bucket refills"),
    (12, "wrong", "the bucket starts with fewer"),
    (50, "wrong", "that is the balance at 5 WCU"),
    (7, "wrong", "each upload takes 1 unit"),
    (2.5, "wrong", "a whole number"),
    ("10", "wrong", "a whole number"),
    (10, "correct", "the 11th write finds the bucket empty"),
    (10.0, "correct", "the 11th write finds the bucket empty"),
])
def test_q1_uploads_written_before_the_first_throttle(answer, status, phrase):
    outcome = ex.q1.evaluate(answer)
    assert outcome.status == status and phrase in outcome.message


def test_the_throttle_check_follows_the_section(cloud):
    """Before the burst, during it (capacity still low) and after the restore, as the lesson runs."""
    name = cloud.names.throttle_alarm
    assert "has never been in ALARM" in ex.throttled.evaluate(cloud).message
    verify.pass_time(cloud, seconds=61 - charts.now(cloud).second)
    dynamodb.set_write_capacity(cloud, 1)
    for n in range(12):
        s3.upload(cloud, f"failure-modes/burst-{n:02d}.txt", "x\n")
    verify.wait_for_alarm(cloud, name, "ALARM")
    outcome = ex.throttled.evaluate(cloud)
    assert outcome.status == "wrong" and "still has 1 WCU" in outcome.message
    dynamodb.set_write_capacity(cloud, dynamodb.DEFAULT_CAPACITY)
    outcome = ex.throttled.evaluate(cloud)
    assert outcome.status == "correct", outcome.message
    assert ex.throttled.evaluate(cloud).status == "correct"  # checking again changes nothing


def test_the_ttl_check_wants_expired_items_gone_and_removed_by_the_service(cloud):
    s3.upload(cloud, "failure-modes/ttl.txt", "x\n")
    verify.wait_for_items(cloud, ["failure-modes/ttl.txt"])
    outcome = ex.ttl_expired.evaluate(cloud)
    assert outcome.status == "wrong" and "no REMOVE record" in outcome.message
    verify.pass_time(cloud, hours=49)
    outcome = ex.ttl_expired.evaluate(cloud)
    assert outcome.status == "correct", outcome.message
    assert "dynamodb.amazonaws.com" in outcome.message


def test_checks_need_the_connection():
    assert "pass the connection made by connect()" in ex.throttled.evaluate("cloud").message
    assert "pass the connection made by connect()" in ex.ttl_expired.evaluate(None).message


def test_a_second_burst_throttles_again_after_the_capacity_was_restored(cloud):
    """Running section 1 again: lowering the capacity again restarts the table's burst balance."""
    for _ in range(2):
        verify.pass_time(cloud, seconds=61 - charts.now(cloud).second)
        dynamodb.set_write_capacity(cloud, 1)
        cloud.client("cloudwatch").set_alarm_state(AlarmName=cloud.names.throttle_alarm,
                                                   StateValue="OK", StateReason="test")
        for n in range(12):
            s3.upload(cloud, f"failure-modes/again-{n:02d}.txt", "x\n")
        assert verify.wait_for_alarm(cloud, cloud.names.throttle_alarm, "ALARM", timeout=300)
        dynamodb.set_write_capacity(cloud, dynamodb.DEFAULT_CAPACITY)
