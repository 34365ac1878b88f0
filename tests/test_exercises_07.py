"""Lesson 07's exercises and helpers: blank, likely wrong and right values (what the notebook hides)."""

from __future__ import annotations

import pytest

from lab import alarms, charts, dynamodb, logs, pipeline, s3, verify
from lab.checks import ____
from lab.connection import friendly_sentence
from lab.errors import LabError, MissingResource, WaitTimeout
from lab.exercises import end_to_end_verification as ex

KEY = "verification/hello world.txt"


@pytest.fixture
def cloud(lab_moto):
    """The pipeline of lessons 01–06 with a confirmed subscription, as lesson 07's first cell has it."""
    pipeline.prepare_lesson(lab_moto, "07")
    return lab_moto


def _new_minute(cloud):
    verify.pass_time(cloud, seconds=61 - charts.now(cloud).second)


def _burst(cloud, count=12):
    verify.wait_for_minute_room(cloud, seconds=20)
    for n in range(count):
        s3.upload(cloud, f"verification/burst-{n:02d}.txt", "x")


def _calm(cloud):
    _new_minute(cloud)
    s3.upload(cloud, "verification/calm again.txt", "x")
    verify.pass_time(cloud, minutes=1)


# -- q1 · the fewest uploads that fire the alarm ---------------------------------------------------

def test_q1_blank_is_not_attempted():
    assert ex.q1.evaluate(____).status == "not attempted"


@pytest.mark.parametrize("answer, sentence", [
    (10, "10.0 is not greater than 10.0"),
    (12, "12 uploads do fire the alarm, but fewer would too"),
    (20, "20 uploads do fire the alarm, but fewer would too"),
    (5, "5 small uploads cost 5 WCU in that minute, not more than 10"),
    (1, "1 small uploads cost 1 WCU"),
    (11.5, "give a whole number of uploads"),
    ("11", "give a whole number of uploads"),
    (True, "give a whole number of uploads"),
])
def test_q1_wrong_answers_get_their_own_sentence(answer, sentence):
    outcome = ex.q1.evaluate(answer)
    assert outcome.status == "wrong"
    assert sentence in outcome.message


@pytest.mark.parametrize("answer", [11, 11.0])
def test_q1_eleven_is_right(answer):
    outcome = ex.q1.evaluate(answer)
    assert outcome.passed
    assert "the smallest Sum greater than the threshold of 10.0" in outcome.message


# -- check 1 · the upload became an item ----------------------------------------------------------

def test_item_stored_blank_key_is_not_attempted(lab_moto):
    assert ex.item_stored.evaluate(lab_moto, ____).status == "not attempted"


def test_item_stored_needs_the_connection_and_a_string_key(cloud):
    assert "pass the connection made by connect()" in ex.item_stored.evaluate("cloud", KEY).message
    assert "pass the key you uploaded, as a string" in ex.item_stored.evaluate(cloud, 42).message
    assert "pass the key you uploaded, as a string" in ex.item_stored.evaluate(cloud, "").message


def test_item_stored_before_the_upload_says_upload_first(cloud):
    outcome = ex.item_stored.evaluate(cloud, KEY)
    assert outcome.status == "wrong"
    assert "the bucket has no object 'verification/hello world.txt': upload it first" in outcome.message


def test_item_stored_an_object_without_item_points_at_the_trigger(cloud):
    cloud.client("s3").put_bucket_notification_configuration(
        Bucket=cloud.names.bucket, NotificationConfiguration={})
    s3.upload(cloud, KEY, "x")
    outcome = ex.item_stored.evaluate(cloud, KEY)
    assert outcome.status == "wrong"
    assert "is in the bucket but the table has no item for it: check the trigger" in outcome.message


def test_item_stored_an_encoded_key_points_at_unquote_plus(cloud):
    cloud.client("dynamodb").put_item(TableName=cloud.names.table, Item={
        "objectId": {"S": "seed-style"}, "objectKey": {"S": "verification/hello+world.txt"},
        "bucket": {"S": cloud.names.bucket}, "timestamp": {"N": "1"}, "ttl": {"N": "86401"}})
    outcome = ex.item_stored.evaluate(cloud, KEY)
    assert outcome.status == "wrong"
    assert "the key as S3 encodes it" in outcome.message
    assert "urllib.parse.unquote_plus" in outcome.message


def test_item_stored_passes_after_the_upload_and_counts_a_second_one(cloud):
    s3.upload(cloud, KEY, "Hello from lesson 07!\n")
    outcome = ex.item_stored.evaluate(cloud, KEY)
    assert outcome.passed
    assert "1 item(s) for 'verification/hello world.txt'" in outcome.message
    assert "expires 24 h after it was written" in outcome.message
    s3.upload(cloud, KEY, "Hello from lesson 07!\n")
    assert "2 item(s)" in ex.item_stored.evaluate(cloud, KEY).message


# -- check 2 · the logs show a successful run ------------------------------------------------------

def test_logs_show_success_blank_key_is_not_attempted(lab_moto):
    assert ex.logs_show_success.evaluate(lab_moto, ____).status == "not attempted"


def test_logs_show_success_without_a_run_says_what_to_do(cloud):
    outcome = ex.logs_show_success.evaluate(cloud, KEY)
    assert outcome.status == "wrong"
    assert "no invocation logged 'stored object event' for 'verification/hello world.txt'" \
        in outcome.message


def _fake_run(lines, stream="2026/12/03/[$LATEST]abc"):
    return [{"timestamp": 1_000 + n, "message": line, "stream": stream}
            for n, line in enumerate(lines)]


STORED = '{"message": "stored object event", "objectId": "id-1", "key": "%s"}' % KEY


def test_logs_show_success_an_unfinished_run_asks_to_wait(cloud, monkeypatch):
    monkeypatch.setattr(logs, "recent_events", lambda *a, **k: _fake_run(
        ["START RequestId: r-1 Version: $LATEST", STORED]))
    outcome = ex.logs_show_success.evaluate(cloud, KEY)
    assert "the run r-1 has not logged its REPORT line yet" in outcome.message


def test_logs_show_success_a_run_with_an_error_is_named(cloud, monkeypatch):
    monkeypatch.setattr(logs, "recent_events", lambda *a, **k: _fake_run(
        ["START RequestId: r-2 Version: $LATEST", STORED,
         "[ERROR] ClientError: An error occurred (ProvisionedThroughputExceededException)",
         "END RequestId: r-2", "REPORT RequestId: r-2\tDuration: 3.00 ms"]))
    outcome = ex.logs_show_success.evaluate(cloud, KEY)
    assert outcome.status == "wrong"
    assert "the run r-2 logged an error: [ERROR] ClientError" in outcome.message


def test_logs_show_success_waits_for_the_logs_then_passes(cloud):
    s3.upload(cloud, KEY, "x")
    outcome = ex.logs_show_success.evaluate(cloud, KEY)   # log events arrive seconds after the run
    assert "upload it, wait a few seconds, and look at the log group" in outcome.message
    verify.pass_time(cloud, seconds=5)
    outcome = ex.logs_show_success.evaluate(cloud, KEY)
    assert outcome.passed
    assert "logged START, 'stored object event'" in outcome.message


# -- check 3 · the alarm fired and the email arrived -----------------------------------------------

def test_alarm_email_without_the_alarm_names_lesson_06(cloud):
    alarms.delete_alarms(cloud)
    outcome = ex.alarm_email.evaluate(cloud)
    assert "there is no alarm DynamoDBWriteActivityAlert: run notebook 06_cloudwatch_alarms" \
        in outcome.message


def test_alarm_email_before_the_burst_says_how_many_uploads(cloud):
    s3.upload(cloud, KEY, "x")
    _new_minute(cloud)
    outcome = ex.alarm_email.evaluate(cloud)
    assert outcome.status == "wrong"
    assert "has never been in ALARM: upload more than 10 files within one clock minute" \
        in outcome.message


def test_alarm_email_with_ten_uploads_is_still_not_in_alarm(cloud):
    _burst(cloud, count=10)
    _new_minute(cloud)
    assert "has never been in ALARM" in ex.alarm_email.evaluate(cloud).message


def test_alarm_email_with_a_pending_subscription_explains_confirmation(lab_moto):
    pipeline.prepare_lesson(lab_moto, "07", confirm_email=False)
    _burst(lab_moto)
    verify.wait_for_alarm(lab_moto, lab_moto.names.activity_alarm, "ALARM", timeout=120)
    outcome = ex.alarm_email.evaluate(lab_moto)
    assert outcome.status == "wrong"
    assert "its subscription is pending confirmation, and SNS delivers nothing" in outcome.message


def test_alarm_email_passes_after_the_burst(cloud):
    _burst(cloud)
    verify.wait_for_alarm(cloud, cloud.names.activity_alarm, "ALARM", timeout=120)
    outcome = ex.alarm_email.evaluate(cloud)
    assert outcome.passed
    assert "went to ALARM and the email 'ALARM: \"DynamoDBWriteActivityAlert\"" in outcome.message
    assert "reached learner@example.com" in outcome.message


# -- check 4 · back to OK --------------------------------------------------------------------------

def test_back_to_ok_before_the_burst_asks_for_check_3(cloud):
    outcome = ex.back_to_ok.evaluate(cloud)
    assert "has not been in ALARM yet, so it cannot come back: do check 3 first" in outcome.message


def test_back_to_ok_after_quiet_minutes_explains_missing_data(cloud):
    _burst(cloud)
    verify.pass_time(cloud, minutes=2)
    outcome = ex.back_to_ok.evaluate(cloud)
    assert outcome.status == "wrong"
    assert "is still in ALARM, not back to OK" in outcome.message
    assert "Silence does not clear it" in outcome.message


def test_back_to_ok_passes_after_a_calm_minute_and_again(cloud):
    _burst(cloud)
    _calm(cloud)
    outcome = ex.back_to_ok.evaluate(cloud)
    assert outcome.passed
    assert "went from ALARM back to OK and the email 'OK: \"DynamoDBWriteActivityAlert\"" \
        in outcome.message
    assert ex.back_to_ok.evaluate(cloud).passed


def test_the_checks_have_hints_and_keep_their_solutions_out_of_sight():
    for exercise in (ex.q1, ex.item_stored, ex.logs_show_success, ex.alarm_email, ex.back_to_ok):
        assert exercise.hints and exercise.solution_text


# -- logs.newest_invocation: the lesson's log cell -------------------------------------------------

def test_newest_invocation_of_an_empty_group_is_one_sentence(cloud):
    with pytest.raises(WaitTimeout) as raised:
        logs.newest_invocation(cloud, timeout=0)
    sentence = friendly_sentence(raised.value)
    assert "\n" not in sentence
    assert sentence == ("The log group /aws/lambda/S3ToDynamoProcessor is empty after 0 s: the "
                        "function has not run yet. Upload a file, then run this cell again.")


def test_newest_invocation_without_the_group_names_lesson_04(cloud):
    logs.delete_log_group(cloud)
    with pytest.raises(MissingResource) as raised:
        logs.newest_invocation(cloud, timeout=0)
    assert "run notebook 04_lambda_function first" in str(raised.value)


def test_newest_invocation_of_another_key_says_which_text_is_missing(cloud):
    s3.upload(cloud, "other.txt", "x")
    verify.pass_time(cloud, seconds=5)
    with pytest.raises(LabError) as raised:
        logs.newest_invocation(cloud, containing=KEY, timeout=0)
    assert str(raised.value).startswith(
        "No complete invocation that logged 'verification/hello world.txt' in "
        "/aws/lambda/S3ToDynamoProcessor after 0 s")


def test_newest_invocation_returns_the_newest_run_start_to_report(cloud):
    s3.upload(cloud, KEY, "first")
    first = logs.newest_invocation(cloud, containing=KEY)
    assert first["cold"] and first["complete"]
    assert first["lines"][0].startswith("INIT_START Runtime Version: python:3.12")
    assert first["lines"][1].startswith(f"START RequestId: {first['request_id']}")
    assert first["lines"][-1].startswith(f"REPORT RequestId: {first['request_id']}")
    assert "\tInit Duration: " in first["lines"][-1]
    s3.upload(cloud, KEY, "second")
    newest = max(dynamodb.scan_items(cloud), key=lambda item: item["timestamp"])
    second = logs.newest_invocation(cloud, containing=newest["objectId"])   # waits for its logs
    assert second["request_id"] != first["request_id"]
    assert not second["cold"] and second["lines"][0].startswith("START RequestId: ")
    assert logs.newest_invocation(cloud)["request_id"] == second["request_id"]


def test_invocations_groups_interleaved_streams():
    events = sorted(_fake_run(["START RequestId: a Version: $LATEST", "one", "END RequestId: a",
                               "REPORT RequestId: a\tDuration: 1.00 ms"], stream="s1")
                    + _fake_run(["START RequestId: b Version: $LATEST", "two"], stream="s2"),
                    key=lambda event: event["timestamp"])
    runs = logs.invocations(events)
    assert [(run["request_id"], run["complete"], len(run["lines"])) for run in runs] == [
        ("a", True, 4), ("b", False, 2)]


def test_cold_starts_lists_only_runs_with_an_init_duration(cloud):
    s3.upload(cloud, "one.txt", "x")
    s3.upload(cloud, "two.txt", "x")
    verify.pass_time(cloud, seconds=5)
    assert len(logs.cold_starts(cloud)) == 1
    verify.pass_time(cloud, minutes=11)
    assert logs.cold_starts(cloud, minutes=10) == []


# -- verify.wait_for_minute_room -------------------------------------------------------------------

def _at_second(cloud, second):
    now = charts.now(cloud)
    step = (second - now.second) % 60 - now.microsecond / 1e6
    cloud.clock.advance(seconds=step if step > 0 else step + 60)


def test_wait_for_minute_room_moves_to_the_next_minute_when_little_is_left(lab_moto):
    _at_second(lab_moto, 50)
    before = charts.now(lab_moto)
    verify.wait_for_minute_room(lab_moto, seconds=20)
    after = charts.now(lab_moto)
    assert after.minute == (before.minute + 1) % 60 and 1 <= after.second <= 2


def test_wait_for_minute_room_does_nothing_when_enough_is_left(lab_moto):
    _at_second(lab_moto, 5)
    before = charts.now(lab_moto)
    verify.wait_for_minute_room(lab_moto, seconds=20)
    assert (charts.now(lab_moto) - before).total_seconds() < 1
