"""Lesson 09's exercises: blank, likely wrong and right values for each (what the notebook hides)."""

from __future__ import annotations

import itertools

import pytest

from lab import alarms, awslambda, charts, pipeline, s3
from lab.checks import ____
from lab.exercises import cleanup as ex

SAFE = ["bucket", "function", "role"]
UNSAFE = [list(order) for order in itertools.permutations(SAFE) if list(order) != SAFE]


@pytest.fixture
def cloud(lab_moto):
    """The pipeline of lessons 01–06, as lesson 09's first cell has it."""
    pipeline.prepare_lesson(lab_moto, "09")
    return lab_moto


# -- q1 · a safe order of deletion -----------------------------------------------------------------

def test_q1_blank_is_not_attempted(lab_moto):
    assert ex.q1.evaluate(____, lab_moto).status == "not attempted"
    assert ex.q1.evaluate([____, ____, ____], lab_moto).status == "not attempted"


@pytest.mark.parametrize("answer, sentence", [
    ("bucket, function, role", "give a list of the three words"),
    ({"bucket", "function", "role"}, "give a list of the three words"),
    (["bucket", "function"], "use each of 'bucket', 'function' and 'role' exactly once"),
    (["bucket", "bucket", "role"], "use each of 'bucket', 'function' and 'role' exactly once"),
    (["bucket", "lambda", "role"], "use each of 'bucket', 'function' and 'role' exactly once"),
    (["alarms", "bucket", "function", "role"], "exactly once"),
])
def test_q1_malformed_answers_say_what_to_give(lab_moto, answer, sentence):
    outcome = ex.q1.evaluate(answer, lab_moto)
    assert outcome.status == "wrong"
    assert sentence in outcome.message


def test_q1_needs_the_connection():
    assert "e.g. ex.q1.check(answer, cloud)" in ex.q1.evaluate(SAFE, "cloud").message


@pytest.mark.parametrize("order", UNSAFE, ids="-".join)
def test_q1_every_unsafe_order_names_the_link_found_in_the_account(cloud, order):
    outcome = ex.q1.evaluate(order, cloud)
    assert outcome.status == "wrong"
    if order.index("function") < order.index("bucket"):
        assert "here the function goes before the bucket, but in this account the bucket " \
               "event-driven-lab-123456789012-us-east-1 notifies the function S3ToDynamoProcessor" \
               in outcome.message
        assert "uploads in between would invoke a function that is gone" in outcome.message
    else:
        assert "here the role goes before the function, but in this account the function " \
               "S3ToDynamoProcessor runs with the role Lambda-S3-DDB-Role" in outcome.message
        assert "unable to assume a role that is gone" in outcome.message


def test_q1_an_unsafe_order_after_teardown_says_the_link_is_gone(cloud):
    cloud.teardown(quiet=True)
    outcome = ex.q1.evaluate(["role", "function", "bucket"], cloud)
    assert "the bucket uses the function (lesson 05 linked them; in this account the link is " \
           "gone already)" in outcome.message


@pytest.mark.parametrize("answer", [SAFE, tuple(SAFE), [" Bucket", "FUNCTION ", "Role"]])
def test_q1_the_safe_order_passes_and_describes_the_account(cloud, answer):
    outcome = ex.q1.evaluate(answer, cloud)
    assert outcome.passed
    assert outcome.message.startswith("A safe order of deletion: bucket → function → role")
    assert "In this account the bucket event-driven-lab-123456789012-us-east-1 notifies the " \
           "function S3ToDynamoProcessor" in outcome.message
    assert "the function S3ToDynamoProcessor runs with the role Lambda-S3-DDB-Role" in outcome.message


def test_q1_the_safe_order_while_cleaning_up_and_after(cloud):
    s3.delete_bucket(cloud)
    awslambda.delete_function(cloud)
    assert "In this account only the role still exists, unlinked." in \
        ex.q1.evaluate(SAFE, cloud).message
    cloud.teardown(quiet=True)
    assert "In this account all three are gone already." in ex.q1.evaluate(SAFE, cloud).message


# -- nothing_left ----------------------------------------------------------------------------------

def test_nothing_left_blank_is_not_attempted():
    assert ex.nothing_left.evaluate(____).status == "not attempted"


def test_nothing_left_needs_the_connection():
    assert "e.g. ex.nothing_left.check(cloud)" in ex.nothing_left.evaluate("cloud").message


def test_nothing_left_lists_what_is_still_there(cloud):
    outcome = ex.nothing_left.evaluate(cloud)
    assert outcome.status == "wrong"
    assert "still there: CloudWatch alarms (2), CloudWatch Logs log group (1)" in outcome.message
    assert "Run cloud.teardown() (it is safe to run again)" in outcome.message


def test_nothing_left_after_a_partial_cleanup_names_only_the_rest(cloud):
    alarms.delete_alarms(cloud)
    s3.delete_bucket(cloud)
    outcome = ex.nothing_left.evaluate(cloud)
    assert "CloudWatch alarms" not in outcome.message and "S3 bucket" not in outcome.message
    assert "Lambda function (1)" in outcome.message


def test_nothing_left_passes_after_teardown_and_again(cloud):
    cloud.teardown(quiet=True)
    outcome = ex.nothing_left.evaluate(cloud)
    assert outcome.passed
    assert f"all {len(charts.inventory(cloud))} listings are empty: nothing of the lab is left in " \
           "us-east-1" in outcome.message
    assert cloud.teardown(quiet=True)["deleted"] == []
    assert ex.nothing_left.evaluate(cloud).passed
