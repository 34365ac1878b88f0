"""Reliability · faults: throttling, poison files, redelivery and timeouts lose and duplicate nothing."""

from __future__ import annotations

import io
import json
import re
import zipfile

import pytest
from botocore.exceptions import ClientError

from lab import awslambda, dynamodb, logs, mock, reliability, s3

SIZE = reliability.sizes()
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
ISO_MS = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


@pytest.fixture(scope="module")
def lab():
    """One lab for the module, as ``eventlab reliability`` runs the scenarios one after the other."""
    connection = reliability.fresh_lab()
    yield connection
    mock.stop()


def _assert_function_is_the_real_one(lab):
    config = awslambda.get_function(lab)
    assert config["Handler"] == awslambda.HANDLER
    assert config["Timeout"] == awslambda.TIMEOUT_SECONDS
    assert config["Environment"]["Variables"] == awslambda.environment(lab)
    assert config["CodeSha256"] == awslambda.code_sha256(awslambda.build_zip())
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        lab.client("lambda").get_function_event_invoke_config(FunctionName=lab.names.function)
    assert lab.client("sqs").list_queues().get("QueueUrls", []) == []


@pytest.mark.slow
def test_a_throttled_burst_loses_nothing_and_the_throttle_alarm_emails(lab):
    uploads = SIZE["burst"]
    figures = reliability.throttle_burst(lab, uploads=uploads)
    assert (figures["objects"], figures["listed"]) == (uploads, uploads)
    assert (figures["lost"], figures["duplicates"], figures["unknown"]) == (0, 0, 0)
    assert figures["stored"] + figures["in_destination"] == uploads
    # The burst balance (10 s of 1 WCU) is spent: writes were throttled and Lambda retried.
    assert 10 <= figures["stored_first_attempt"] < uploads
    assert figures["throttled_requests"] > 0 and figures["failed_invocations"] > 0
    # Every throttled write was retried by the SDK; a run fails after 3 throttled attempts.
    assert figures["sdk_retries_that_succeeded"] >= 0
    assert figures["throttled_requests"] == (reliability.SDK_ATTEMPTS * figures["failed_invocations"]
                                             + figures["sdk_retries_that_succeeded"])
    # Each failed run was retried by Lambda or given up to the on-failure queue, then redriven.
    assert figures["failed_invocations"] == figures["lambda_retries"] + figures["redriven"]
    assert figures["redriven"] == figures["in_destination"]
    assert (figures["stored_after_redrive"], figures["lost_after_redrive"],
            figures["duplicates_after_redrive"]) == (uploads, 0, 0)
    assert figures["throttle_alarm_emails"] == 1
    subjects = [mail["subject"] for mail in lab.inbox()]
    assert 'ALARM: "DynamoDBWriteThrottleAlert" in US East (N. Virginia)' in subjects
    assert dynamodb.get_table(lab)["ProvisionedThroughput"]["WriteCapacityUnits"] == dynamodb.DEFAULT_CAPACITY
    _assert_function_is_the_real_one(lab)
    assert reliability.held("throttled burst", figures)


def test_poison_files_and_only_they_reach_the_on_failure_queue_after_three_attempts(lab):
    good, poison = SIZE["good"], SIZE["poison"]
    figures = reliability.poison_files(lab, good=good, poison=poison)
    assert figures == {
        "objects": good + poison, "listed": good + poison, "stored": good, "in_destination": poison,
        "lost": 0, "duplicates": 0, "unknown": 0, "good": good, "poison": poison,
        "errors": 3 * poison, "invocations": good + 3 * poison, "failed_keys_match": True,
        "attempts_per_failure": [3], "conditions": ["RetriesExhausted"], "error_types": ["PoisonFile"],
    }
    _assert_function_is_the_real_one(lab)
    assert reliability.held("poison files", figures)


def test_an_on_failure_record_is_lambdas_invocation_record(lab):
    key = "poison/format check.txt"
    with reliability.destinations(lab) as queues, reliability.function_variant(lab, faults=True):
        s3.upload(lab, key, b"refused")
        reliability.let_retries_run(lab)
        [record] = reliability.drain(lab, queues["OnFailure"])
        lines = [e["message"] for e in logs.log_events(lab, streams=20)]
    assert set(record) == {"version", "timestamp", "requestContext", "requestPayload", "responseContext",
                           "responsePayload"}
    assert record["version"] == "1.0" and re.fullmatch(ISO_MS, record["timestamp"])
    context = record["requestContext"]
    assert set(context) == {"requestId", "functionArn", "condition", "approximateInvokeCount"}
    assert re.fullmatch(UUID, context["requestId"])
    assert context["functionArn"] == (
        f"arn:aws:lambda:us-east-1:123456789012:function:{lab.names.function}:$LATEST")
    assert (context["condition"], context["approximateInvokeCount"]) == ("RetriesExhausted", 3)
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST",
                                         "functionError": "Unhandled"}
    assert set(record["responsePayload"]) == {"errorMessage", "errorType", "requestId", "stackTrace"}
    assert record["responsePayload"]["errorType"] == "PoisonFile"
    assert reliability.record_keys(record["requestPayload"]) == [key]
    # Three attempts of the same request id, each logging the error as the python runtime does.
    request = context["requestId"]
    assert sum(1 for line in lines if line == f"START RequestId: {request} Version: $LATEST") == 3
    errors = [line for line in lines if line.startswith(f"[ERROR] PoisonFile: refusing {key!r}")]
    assert len(errors) == 3
    assert errors[0].startswith("[ERROR] PoisonFile: refusing 'poison/format check.txt', a poison file "
                                "of the reliability suite\nTraceback (most recent call last):\n")


def test_the_same_event_delivered_again_and_again_is_one_item(lab):
    objects, deliveries = SIZE["redelivered"], SIZE["deliveries"]
    figures = reliability.duplicate_deliveries(lab, objects=objects, deliveries=deliveries)
    assert figures == {
        "objects": objects, "listed": objects, "stored": objects, "in_destination": 0, "lost": 0,
        "duplicates": 0, "unknown": 0, "events_captured": objects, "deliveries": objects * deliveries,
        "redeliveries_answered_duplicate": objects * (deliveries - 1), "redeliveries_stored": 0,
    }
    assert reliability.held("duplicate deliveries", figures)


@pytest.mark.slow
def test_a_timeout_is_logged_as_aws_logs_it_retried_and_corrupts_nothing(lab):
    good, slow = 3, SIZE["slow"]
    figures = reliability.handler_timeout(lab, good=good, slow=slow)
    assert figures == {
        "objects": good + slow, "listed": good + slow, "stored": good + slow, "in_destination": 0,
        "lost": 0, "duplicates": 0, "unknown": 0, "slow": slow, "good": good, "timeout_lines": slow,
        "errors": slow, "invocations": good + 2 * slow, "intact_items": good + slow,
    }
    lines = [e["message"] for e in logs.log_events(lab, streams=50)]
    assert not [line for line in lines if "Task timed out" in line]  # AWS's format since 2025
    timeouts = [line for line in lines if line.endswith("\tStatus: timeout")]
    assert len(timeouts) == slow
    for line in timeouts:
        # The timed-out attempt reports its (full) second; Lambda retries the event, same request id.
        report = (rf"REPORT RequestId: ({UUID})\tDuration: 1\d{{3}}\.\d\d ms\tBilled Duration: "
                  r"1\d{3} ms\tMemory Size: 128 MB\tMax Memory Used: \d+ MB"
                  r"(\tInit Duration: \d+\.\d\d ms)?\tStatus: timeout")
        match = re.fullmatch(report, line)
        assert match, line
        request = match.group(1)
        assert sum(1 for m in lines if m == f"START RequestId: {request} Version: $LATEST") == 2
    _assert_function_is_the_real_one(lab)
    assert reliability.held("handler timeouts", figures)


def test_reconcile_finds_a_loss_a_duplicate_and_an_unknown_item(lab):
    keys = ["recon/a.txt", "recon/b.txt", "recon/c.txt", "recon/d.txt"]
    for key in keys:
        s3.upload(lab, key, b"x")
    table = lab.client("dynamodb")
    items = {item["objectKey"]: item for item in dynamodb.scan_items(lab) if item["objectKey"] in keys}
    table.delete_item(TableName=lab.names.table, Key={"objectId": {"S": items["recon/a.txt"]["objectId"]}})
    for object_id, key in (("extra-b", "recon/b.txt"), ("ghost", "recon/ghost.txt")):
        table.put_item(TableName=lab.names.table,
                       Item={"objectId": {"S": object_id}, "objectKey": {"S": key}})
    lab.client("s3").delete_object(Bucket=lab.names.bucket, Key="recon/d.txt")
    failure = {"requestPayload": {"Records": [{"s3": {"object": {"key": "recon/c.txt"}}}]}}
    assert reliability.reconcile(lab, keys, [failure]) == {
        "objects": 4, "listed": 3, "stored": 1, "in_destination": 0,
        "lost": 2, "duplicates": 2, "unknown": 1,
    }


def test_the_fault_package_carries_the_real_handler_unchanged():
    package = reliability.fault_package()
    assert package == reliability.fault_package()  # reproducible
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        names = archive.namelist()
        assert names == ["lambda_function.py", "reliability_faults.py"]
        real = (awslambda.HANDLER_DIR / "lambda_function.py").read_bytes()
        assert archive.read("lambda_function.py") == real
        assert archive.read("reliability_faults.py").decode() == reliability.FAULT_SOURCE


def test_the_fault_variant_stores_ordinary_keys_like_the_real_handler(lab):
    with reliability.function_variant(lab, faults=True):
        answer = awslambda.invoke(lab, {"Records": [reliability.good_record(lab, "variant/plain+x.txt", 99)]})
    assert answer["FunctionError"] is None
    assert answer["Result"] == {"statusCode": 200, "stored": 1, "duplicates": 0, "skipped": 0,
                                "body": json.dumps("1 item(s) stored, 0 duplicate(s), 0 skipped")}
    _assert_function_is_the_real_one(lab)


def test_the_real_function_comes_back_even_when_the_scenario_fails(lab):
    with pytest.raises(RuntimeError, match="scenario broke"):
        with reliability.destinations(lab), reliability.function_variant(lab, faults=True, timeout=1):
            raise RuntimeError("scenario broke")
    _assert_function_is_the_real_one(lab)
