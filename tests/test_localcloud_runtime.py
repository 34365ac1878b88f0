"""The local cloud's Lambda runtime: the deployed zip runs in-process, as AWS Lambda runs it."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import math
import os
import re
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from lab import localcloud
from lab.localcloud import runtime


@pytest.fixture(autouse=True)
def _instant_cloud(monkeypatch):
    """About the runtime, not AWS's delays (test_eventual_consistency.py): instant cloud."""
    monkeypatch.setenv("EVENTLAB_DELAYS", "off")


HANDLER = '''
import json, logging, os, sys, time
import boto3
import helper

STATE = {"count": 0, "init_greeting": os.environ.get("GREETING"),
         "init_name": os.environ.get("AWS_LAMBDA_FUNCTION_NAME")}
print("init", helper.WORD)

STANDARD = ("AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_LOG_GROUP_NAME",
            "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_REGION", "AWS_DEFAULT_REGION",
            "AWS_EXECUTION_ENV", "LAMBDA_TASK_ROOT", "_HANDLER", "GREETING")


def handler(event, context):
    STATE["count"] += 1
    vendor_seen = "/opt/vendored" in sys.path  # kept by a warm environment, like a real one
    if not vendor_seen:
        sys.path.append("/opt/vendored")
    os.environ["HANDLER_WAS_HERE"] = "yes"
    queue_url = os.environ["QUEUE_URL"]
    mode = event.get("mode", "ok") if isinstance(event, dict) else "ok"
    if event.get("Records", [{}])[0].get("eventSource") == "aws:dynamodb":
        mode = "records"
    print("count", STATE["count"])
    print("two\\nlines")
    logging.getLogger("fn").warning("careful %s", STATE["count"])
    if mode == "fail":
        raise ValueError("boom")
    if mode == "exit":
        sys.exit(3)
    if mode == "sleep":
        for _ in range(26):
            time.sleep(0.05)
        STATE["woke"] = True
        boto3.client("sqs").send_message(QueueUrl=queue_url, MessageBody="woke up")
    if mode == "nested":  # waits for another function that outlives this one's timeout
        boto3.client("lambda").invoke(FunctionName="inner", Payload=json.dumps({"mode": "sleep"}))
        boto3.client("sqs").send_message(QueueUrl=queue_url, MessageBody="back")
    if mode == "loop":  # writes to the bucket that triggers it
        bucket = event["Records"][0]["s3"]["bucket"]["name"]
        boto3.client("s3").put_object(Bucket=bucket, Key=f"loop-{STATE['count']}", Body=b"")
    if mode == "records":
        boto3.client("sqs").send_message(QueueUrl=queue_url, MessageBody=json.dumps(event))
        if any("fail" in r["dynamodb"].get("NewImage", {}) for r in event["Records"]):
            raise RuntimeError("bad record")
    return {
        "count": STATE["count"],
        "vendor_seen": vendor_seen,
        "init_greeting": STATE["init_greeting"],
        "init_name": STATE["init_name"],
        "env": {name: os.environ.get(name) for name in STANDARD},
        "now": time.time(),
        "context": {
            "aws_request_id": context.aws_request_id,
            "function_name": context.function_name,
            "function_version": context.function_version,
            "invoked_function_arn": context.invoked_function_arn,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "log_group_name": context.log_group_name,
            "log_stream_name": context.log_stream_name,
            "remaining": context.get_remaining_time_in_millis(),
        },
    }
'''

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
STREAM = re.compile(r"^(\d{4})/(\d{2})/(\d{2})/\[\$LATEST\][0-9a-f]{32}$")
START = re.compile(rf"^START RequestId: ({UUID}) Version: \$LATEST$")
# AWS (python runtimes, 2023 on): the cold start's first line names the runtime version.
INIT_START = re.compile(r"^INIT_START Runtime Version: python:3\.12\.v\d+\t"
                        r"Runtime Version ARN: arn:aws:lambda:us-east-1::runtime:[0-9a-f]{64}$")
END = re.compile(rf"^END RequestId: ({UUID})$")
REPORT = re.compile(
    rf"^REPORT RequestId: ({UUID})\tDuration: (\d+\.\d\d) ms\tBilled Duration: (\d+) ms\t"
    r"Memory Size: 128 MB\tMax Memory Used: (\d+) MB(\tInit Duration: (\d+\.\d\d) ms)?"
    r"(\tStatus: timeout)?$")
ISO_MS = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


def package(source: str = HANDLER, word: str = "hello") -> bytes:
    """A deployment zip: the handler module and a sibling module it imports."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("lambda_function.py", source)
        archive.writestr("helper.py", f"WORD = {word!r}\n")
    return buffer.getvalue()


def make_function(lab: Any, name: str = "fn", *, timeout: int = 3, code: bytes | None = None,
                  **extra: Any) -> str:
    """Role, queue (QUEUE_URL) and function; returns the queue URL."""
    iam = lab.client("iam")
    try:
        role = iam.create_role(RoleName="runtime-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    except ClientError:
        role = iam.get_role(RoleName="runtime-role")["Role"]["Arn"]
    queue_url = lab.client("sqs").create_queue(QueueName=f"{name}-out")["QueueUrl"]
    lab.client("lambda").create_function(
        FunctionName=name, Runtime="python3.12", Role=role, Handler="lambda_function.handler",
        Code={"ZipFile": code or package()}, Timeout=timeout,
        Environment={"Variables": {"GREETING": "hi", "QUEUE_URL": queue_url}}, **extra)
    return queue_url


def invoke(lab: Any, payload: Any = None, name: str = "fn", **kwargs: Any) -> dict[str, Any]:
    response = lab.client("lambda").invoke(FunctionName=name, Payload=json.dumps(payload or {}),
                                           LogType="Tail", **kwargs)
    response["Body"] = response["Payload"].read()
    return response


def log_events(lab: Any, name: str = "fn") -> dict[str, list[dict[str, Any]]]:
    """Each stream's events; every raw message ends in a newline as AWS writes it (checked here,
    then dropped so that the tests compare lines)."""
    logs = lab.client("logs")
    group = f"/aws/lambda/{name}"
    streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
    found = {s["logStreamName"]: logs.get_log_events(logGroupName=group,
                                                     logStreamName=s["logStreamName"])["events"]
             for s in streams}
    for events in found.values():
        for event in events:
            assert event["message"].endswith("\n"), event["message"]
            event["message"] = event["message"][:-1]
    return found


def messages(lab: Any, queue_url: str) -> list[dict[str, Any]]:
    found = []
    while True:
        batch = lab.client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10,
                                                  MessageAttributeNames=["All"]).get("Messages", [])
        if not batch:
            return found
        found += batch
        for message in batch:
            lab.client("sqs").delete_message(QueueUrl=queue_url,
                                             ReceiptHandle=message["ReceiptHandle"])


def metric_sum(lab: Any, metric: str, name: str = "fn", statistic: str = "Sum") -> float:
    now = lab.clock.now()
    points = lab.client("cloudwatch").get_metric_statistics(
        Namespace="AWS/Lambda", MetricName=metric,
        Dimensions=[{"Name": "FunctionName", "Value": name}],
        StartTime=now - dt.timedelta(hours=1), EndTime=now + dt.timedelta(minutes=1),
        Period=60, Statistics=[statistic])["Datapoints"]
    return sum(point[statistic] for point in points)


def wait_for(lab: Any, queue_url: str, seconds: float = 5.0) -> list[str]:
    """The bodies of the next messages on a queue, waiting for a handler thread to send them."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = [message["Body"] for message in messages(lab, queue_url)]
        if found:
            return found
        time.sleep(0.05)
    return []


def starts(lab: Any, name: str = "fn") -> list[str]:
    return [START.match(e["message"]).group(1) for events in log_events(lab, name).values()
            for e in events if START.match(e["message"])]


def client(lab: Any, service: str, **config: Any) -> Any:
    """A boto3 client with a custom botocore Config (the mock answers it like any other)."""
    import boto3

    return boto3.client(service, region_name=lab.region, config=Config(**config))


# -- function state, logs, context, warm and cold starts --------------------------------------

def test_each_invocation_is_framed_in_one_stream_per_warm_environment(lab_moto: Any) -> None:
    make_function(lab_moto)
    lambda_client = lab_moto.client("lambda")
    lambda_client.get_waiter("function_active_v2").wait(FunctionName="fn")
    configuration = lambda_client.get_function(FunctionName="fn")["Configuration"]
    assert (configuration["State"], configuration["LastUpdateStatus"]) == ("Active", "Successful")
    before = int(lab_moto.clock.now().timestamp() * 1000)
    first, second = invoke(lab_moto), invoke(lab_moto)
    after = int(lab_moto.clock.now().timestamp() * 1000)

    [(stream, events)] = log_events(lab_moto).items()
    assert STREAM.match(stream).groups() == tuple(lab_moto.clock.now().strftime("%Y %m %d").split())
    lines = [event["message"] for event in events]
    assert len(lines) == 16
    assert INIT_START.match(lines[0])  # a cold start: INIT_START before START, once per environment
    lines = lines[1:]
    assert lines[1:5] == ["init hello", "count 1", "two", "lines"]
    assert lines[9:12] == ["count 2", "two", "lines"]
    first_id, second_id = START.match(lines[0]).group(1), START.match(lines[8]).group(1)
    assert first_id != second_id
    assert re.fullmatch(rf"\[WARNING\]\t{ISO_MS}\t{first_id}\tcareful 1", lines[5])
    assert re.fullmatch(rf"\[WARNING\]\t{ISO_MS}\t{second_id}\tcareful 2", lines[12])
    assert END.match(lines[6]).group(1) == REPORT.match(lines[7]).group(1) == first_id
    assert END.match(lines[13]).group(1) == REPORT.match(lines[14]).group(1) == second_id
    cold, warm = REPORT.match(lines[7]), REPORT.match(lines[14])
    assert cold.group(5) and not warm.group(5)  # Init Duration only on the cold start
    # AWS bills the INIT phase of ZIP functions on managed runtimes since 2025-08-01.
    assert int(cold.group(3)) == math.ceil(float(cold.group(2)) + float(cold.group(6)))
    assert int(warm.group(3)) == math.ceil(float(warm.group(2)))
    for report in (cold, warm):
        assert 1 <= int(report.group(4)) <= 128 and report.group(7) is None
    assert all(before <= event["timestamp"] <= after for event in events)
    assert base64.b64decode(second["LogResult"]).decode().splitlines() == lines[8:]
    assert base64.b64decode(second["LogResult"]).decode().endswith("\n")

    context = json.loads(first["Body"])["context"]
    assert context.pop("aws_request_id") == first_id
    assert 0 < context.pop("remaining") <= 3000
    assert context == {"function_name": "fn", "function_version": "$LATEST",
                       "invoked_function_arn": lab_moto.arn("lambda", "function:fn"),
                       "memory_limit_in_mb": "128", "log_group_name": "/aws/lambda/fn",
                       "log_stream_name": stream}


def test_module_state_is_kept_warm_until_the_code_or_configuration_changes(lab_moto: Any) -> None:
    from moto.moto_api._internal import mock_random

    queue_url = make_function(lab_moto)
    bodies = [json.loads(invoke(lab_moto)["Body"]) for _ in range(3)]
    assert [(body["count"], body["vendor_seen"]) for body in bodies] == [
        (1, False), (2, True), (3, True)]
    assert "/opt/vendored" not in sys.path
    request_ids = []
    for _ in range(2):  # request ids come from moto's seeded random: reproducible
        mock_random.seed(7)
        request_ids.append(json.loads(invoke(lab_moto)["Body"])["context"]["aws_request_id"])
    assert request_ids[0] == request_ids[1]

    lab_moto.client("lambda").update_function_code(FunctionName="fn",
                                                   ZipFile=package(word="bonjour"))
    assert json.loads(invoke(lab_moto)["Body"])["count"] == 1
    streams = log_events(lab_moto)
    assert len(streams) == 2
    newest = max(streams.values(), key=lambda events: events[0]["timestamp"])
    lines = [event["message"] for event in newest]
    assert INIT_START.match(lines[0])
    assert lines[2] == "init bonjour"  # the new sibling module, not the cached one
    assert REPORT.match(lines[-1]).group(5)
    assert "helper" not in sys.modules and "lambda_function" not in sys.modules

    lab_moto.client("lambda").update_function_configuration(
        FunctionName="fn", Environment={"Variables": {"GREETING": "salut", "QUEUE_URL": queue_url}})
    body = json.loads(invoke(lab_moto)["Body"])
    assert (body["count"], body["init_greeting"], body["env"]["GREETING"]) == (1, "salut", "salut")


def test_environment_and_time_are_the_function_s_only_during_the_run(
        lab_moto: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    make_function(lab_moto)
    monkeypatch.setenv("GREETING", "outer")
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    before, original_time, stdout = dict(os.environ), time.time, sys.stdout
    lab_moto.clock.advance(days=2)

    body = json.loads(invoke(lab_moto)["Body"])

    assert dict(os.environ) == before
    assert time.time is original_time and sys.stdout is stdout
    env = body["env"]
    assert {k: v for k, v in env.items() if k != "LAMBDA_TASK_ROOT"} == {
        "AWS_LAMBDA_FUNCTION_NAME": "fn", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128", "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/fn",
        "AWS_LAMBDA_LOG_STREAM_NAME": body["context"]["log_stream_name"],
        "AWS_REGION": lab_moto.region, "AWS_DEFAULT_REGION": lab_moto.region,
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12", "_HANDLER": "lambda_function.handler",
        "GREETING": "hi"}
    assert (body["init_greeting"], body["init_name"]) == ("hi", "fn")  # at import time too
    assert abs(body["now"] - lab_moto.clock.time()) < 5  # time.time() followed the local clock
    assert abs(body["now"] - original_time() - 2 * 86400) < 5

    root = Path(env["LAMBDA_TASK_ROOT"])
    assert (root / "lambda_function.py").is_file() and (root / "helper.py").is_file()
    from lab import mock

    mock.stop()  # uninstall removes the unpacked code
    assert not root.exists() and not root.parent.exists()


# -- errors, exits, timeouts ------------------------------------------------------------------

def test_unhandled_errors_return_the_error_payload_and_are_logged_as_python312(
        lab_moto: Any) -> None:
    make_function(lab_moto)
    response = invoke(lab_moto, {"mode": "fail"})

    assert (response["StatusCode"], response["FunctionError"]) == (200, "Unhandled")
    assert response["ExecutedVersion"] == "$LATEST"
    error = json.loads(response["Body"])
    assert set(error) == {"errorMessage", "errorType", "requestId", "stackTrace"}
    assert (error["errorMessage"], error["errorType"]) == ("boom", "ValueError")
    assert error["stackTrace"][0].startswith('  File "/var/task/lambda_function.py", line ')
    assert "lab/localcloud" not in "".join(error["stackTrace"])  # the runtime's own frames are hidden
    lines = base64.b64decode(response["LogResult"]).decode().splitlines()
    assert INIT_START.match(lines[0]) and START.match(lines[1]).group(1) == error["requestId"]
    at = lines.index("[ERROR] ValueError: boom")
    assert lines[at + 1] == "Traceback (most recent call last):"
    assert lines[at + 2].startswith('\u00a0\u00a0File "/var/task/lambda_function.py", line ')
    assert json.loads(invoke(lab_moto)["Body"])["count"] == 2  # an exception keeps the environment


def test_sys_exit_is_a_runtime_exit_error_and_the_next_call_is_cold(lab_moto: Any) -> None:
    make_function(lab_moto)
    invoke(lab_moto)
    exited = invoke(lab_moto, {"mode": "exit"})
    assert exited["FunctionError"] == "Unhandled"
    error = json.loads(exited["Body"])
    assert set(error) == {"errorMessage", "errorType"}
    assert error["errorType"] == "Runtime.ExitError"
    assert re.fullmatch(rf"RequestId: {UUID} Error: Runtime exited with error: exit status 3",
                        error["errorMessage"])
    assert json.loads(invoke(lab_moto)["Body"])["count"] == 1  # sys.exit: a cold start follows
    assert len(log_events(lab_moto)) == 2
    assert lab_moto.client("s3").list_buckets()["Buckets"] == []  # moto still answers


def test_import_and_handler_faults_are_reported_as_the_runtime_does(lab_moto: Any) -> None:
    make_function(lab_moto, code=package("import not_a_module\n"))
    assert json.loads(invoke(lab_moto)["Body"]) == {
        "errorMessage": "Unable to import module 'lambda_function': No module named 'not_a_module'",
        "errorType": "Runtime.ImportModuleError", "requestId": "", "stackTrace": []}
    lab_moto.client("lambda").update_function_configuration(FunctionName="fn",
                                                            Handler="nope.handler")
    assert json.loads(invoke(lab_moto)["Body"])["errorMessage"] == (
        "Unable to import module 'nope': No module named 'nope'")
    lab_moto.client("lambda").update_function_code(FunctionName="fn", ZipFile=package())
    lab_moto.client("lambda").update_function_configuration(FunctionName="fn",
                                                            Handler="lambda_function.missing")
    response = invoke(lab_moto)
    assert response["FunctionError"] == "Unhandled"
    error = json.loads(response["Body"])
    assert (error["errorType"], error["errorMessage"]) == (
        "Runtime.HandlerNotFound", "Handler 'missing' missing on module 'lambda_function'")
    assert "[ERROR] Runtime.HandlerNotFound: Handler 'missing' missing on module " \
           "'lambda_function'" in base64.b64decode(response["LogResult"]).decode()


def test_timeout_is_logged_discards_the_environment_and_is_retried(
        lab_moto: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    queue_url = make_function(lab_moto, timeout=1)
    inner_queue = make_function(lab_moto, "inner")
    lambda_client = lab_moto.client("lambda")
    failures = lab_moto.client("sqs").create_queue(QueueName="failures")["QueueUrl"]
    lambda_client.put_function_event_invoke_config(
        FunctionName="fn", MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": lab_moto.arn("sqs", "failures")}})
    monkeypatch.delenv("GREETING", raising=False)
    before, original_time = dict(os.environ), time.time

    started = time.perf_counter()
    lambda_client.invoke(FunctionName="fn", InvocationType="Event",
                         Payload=json.dumps({"mode": "nested"}))
    assert 0.9 < time.perf_counter() - started < 2.5
    assert wait_for(lab_moto, inner_queue) == ["woke up"]  # "inner" outlived "fn"'s timeout
    time.sleep(0.2)
    assert messages(lab_moto, queue_url) == []  # "fn" was stopped: it never sent "back"
    assert dict(os.environ) == before and time.time is original_time  # inner restored nothing
    lab_moto.clock.advance(minutes=1)  # the retry: a cold start, timed out again
    assert wait_for(lab_moto, inner_queue) == ["woke up"]

    [(_, first), (_, second)] = sorted(log_events(lab_moto).items(),
                                       key=lambda item: item[1][0]["timestamp"])
    for events in (first, second):
        lines = [event["message"] for event in events]
        assert INIT_START.match(lines[0])
        request_id = START.match(lines[1]).group(1)
        report = REPORT.match(lines[-1])
        # AWS since 2025: no "Task timed out" line; REPORT ends with "Status: timeout".
        assert report.group(1) == request_id and report.group(7) == "\tStatus: timeout"
        assert report.group(5) and float(report.group(2)) == 1000.0  # cold, timed out
        assert not any("Task timed out" in line for line in lines)
    [record] = [json.loads(m["Body"]) for m in messages(lab_moto, failures)]
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert record["responsePayload"]["errorType"] == "Sandbox.Timedout"
    assert re.fullmatch(rf"RequestId: {UUID} Error: Task timed out after 1.00 seconds",
                        record["responsePayload"]["errorMessage"])
    assert metric_sum(lab_moto, "Errors") == 2
    assert dict(os.environ) == before and time.time is original_time
    assert localcloud.current().state["runtime"].sandboxes == []


# -- invocation types -------------------------------------------------------------------------

def test_invocation_types_dry_run_event_and_invalid_payload(lab_moto: Any) -> None:
    from moto.awslambda.utils import get_backend

    make_function(lab_moto)
    lambda_client = lab_moto.client("lambda")
    dry = lambda_client.invoke(FunctionName="fn", InvocationType="DryRun", Payload=b"{}")
    assert (dry["StatusCode"], dry["Payload"].read()) == (204, b"")
    assert lab_moto.client("logs").describe_log_groups()["logGroups"] == []

    event = lambda_client.invoke(FunctionName="fn", InvocationType="Event", Payload=b"{}")
    assert (event["StatusCode"], event["Payload"].read()) == (202, b"")
    assert len(starts(lab_moto)) == 1  # ran at once, before invoke returned
    assert metric_sum(lab_moto, "AsyncEventsReceived") == 1

    with pytest.raises(ClientError) as raised:
        lambda_client.invoke(FunctionName="fn", Payload=b"{not json")
    assert raised.value.response["Error"]["Code"] == "InvalidRequestContentException"

    function = get_backend(lab_moto.account_id, lab_moto.region).get_function("fn")
    cloud = localcloud.current()
    result, error = runtime.invoke_sync(cloud, function, {})
    assert (result["count"], error) == (2, None)
    result, error = runtime.invoke_sync(cloud, function, {"mode": "fail"})
    assert (result, error["errorType"]) == (None, "ValueError")
    assert metric_sum(lab_moto, "Invocations") == 3


# -- asynchronous retries, destinations, dead letters ----------------------------------------

def test_failed_async_events_are_retried_on_the_clock_then_sent_on_or_dropped(
        lab_moto: Any) -> None:
    lambda_client = lab_moto.client("lambda")
    failures = lab_moto.client("sqs").create_queue(QueueName="failures")["QueueUrl"]
    dead = lab_moto.client("sqs").create_queue(QueueName="dead")["QueueUrl"]
    dead_arn = lab_moto.arn("sqs", "dead")
    make_function(lab_moto)  # an on-failure destination, the default two retries
    make_function(lab_moto, "dlq", DeadLetterConfig={"TargetArn": dead_arn})
    make_function(lab_moto, "plain")  # nowhere to go
    lambda_client.put_function_event_invoke_config(
        FunctionName="fn",
        DestinationConfig={"OnFailure": {"Destination": lab_moto.arn("sqs", "failures")}})
    for name in ("dlq", "plain"):
        lambda_client.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0)
    assert lambda_client.get_function_configuration(FunctionName="dlq")["DeadLetterConfig"] == {
        "TargetArn": dead_arn}
    assert "DeadLetterConfig" not in lambda_client.get_function_configuration(FunctionName="fn")

    for name in ("fn", "dlq", "plain"):
        lambda_client.invoke(FunctionName=name, InvocationType="Event",
                             Payload=json.dumps({"mode": "fail"}))
    assert len(starts(lab_moto)) == 1
    lab_moto.clock.advance(seconds=59)
    assert len(starts(lab_moto)) == 1
    lab_moto.clock.advance(seconds=1)
    assert len(starts(lab_moto)) == 2
    assert messages(lab_moto, failures) == []
    lab_moto.clock.advance(minutes=2)
    ids = starts(lab_moto)
    assert len(ids) == 3 and len(set(ids)) == 1  # a retry keeps the event's request id
    assert lab_moto.clock.pending() == 0

    [message] = messages(lab_moto, failures)
    record = json.loads(message["Body"])
    assert set(record) == {"version", "timestamp", "requestContext", "requestPayload",
                           "responseContext", "responsePayload"}
    assert record["version"] == "1.0" and re.fullmatch(ISO_MS, record["timestamp"])
    assert record["requestContext"] == {
        "requestId": ids[0], "functionArn": lab_moto.arn("lambda", "function:fn:$LATEST"),
        "condition": "RetriesExhausted", "approximateInvokeCount": 3}
    assert record["requestPayload"] == {"mode": "fail"}
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST",
                                         "functionError": "Unhandled"}
    assert set(record["responsePayload"]) == {"errorMessage", "errorType", "requestId",
                                              "stackTrace"}
    assert record["responsePayload"]["requestId"] == ids[0]

    [message] = messages(lab_moto, dead)
    assert json.loads(message["Body"]) == {"mode": "fail"}  # only the event, as AWS sends it
    attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
    assert attributes == {"RequestID": starts(lab_moto, "dlq")[0], "ErrorCode": "200",
                          "ErrorMessage": "boom"}
    assert runtime.async_counts(localcloud.current()) == {
        "succeeded": 0, "on_failure": 1, "dead_lettered": 1, "dropped": 1}
    assert localcloud.current().state["runtime"].dropped == 1
    assert [metric_sum(lab_moto, "AsyncEventsDropped", name) for name in ("fn", "dlq", "plain")
            ] == [1, 1, 1]
    assert metric_sum(lab_moto, "Errors") == 3


# -- metrics and throttling -------------------------------------------------------------------

def test_metrics_and_throttling(lab_moto: Any) -> None:
    make_function(lab_moto)
    for payload in ({}, {"mode": "fail"}, {}):
        invoke(lab_moto, payload)
    assert metric_sum(lab_moto, "Invocations") == 3
    assert metric_sum(lab_moto, "Errors") == 1
    assert metric_sum(lab_moto, "Errors", statistic="SampleCount") == 3
    assert metric_sum(lab_moto, "Duration", statistic="SampleCount") == 3
    assert metric_sum(lab_moto, "Throttles") == 0

    lab_moto.client("lambda").put_function_concurrency(FunctionName="fn",
                                                       ReservedConcurrentExecutions=0)
    with pytest.raises(ClientError) as raised:
        client(lab_moto, "lambda", retries={"total_max_attempts": 1}).invoke(FunctionName="fn")
    assert raised.value.response["Error"]["Code"] == "TooManyRequestsException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert metric_sum(lab_moto, "Throttles") == 1
    assert metric_sum(lab_moto, "Invocations") == 3  # a throttled call never ran
    lab_moto.client("lambda").invoke(FunctionName="fn", InvocationType="Event", Payload=b"{}")
    assert metric_sum(lab_moto, "Throttles") == 2
    lab_moto.client("lambda").delete_function_concurrency(FunctionName="fn")
    lab_moto.clock.advance(seconds=2)  # the queued event runs once the function may run again
    assert metric_sum(lab_moto, "Invocations") == 4


# -- isolation --------------------------------------------------------------------------------

def test_s3_upload_runs_the_function_before_put_object_returns_and_survives_its_failures(
        lab_moto: Any) -> None:
    make_function(lab_moto)
    s3 = lab_moto.client("s3")
    s3.create_bucket(Bucket="uploads")
    lab_moto.client("lambda").add_permission(
        FunctionName="fn", StatementId="s3", Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com", SourceArn="arn:aws:s3:::uploads")
    s3.put_bucket_notification_configuration(Bucket="uploads", NotificationConfiguration={
        "LambdaFunctionConfigurations": [{
            "LambdaFunctionArn": lab_moto.arn("lambda", "function:fn"),
            "Events": ["s3:ObjectCreated:*"]}]})
    environment, stdout = dict(os.environ), sys.stdout

    s3.put_object(Bucket="uploads", Key="a.txt", Body=b"x")
    assert len(starts(lab_moto)) == 1

    for mode in ("exit", "fail"):
        lab_moto.client("lambda").update_function_code(
            FunctionName="fn", ZipFile=package(HANDLER.replace('event.get("mode", "ok")', f'"{mode}"')))
        s3.put_object(Bucket="uploads", Key=f"{mode}.txt", Body=b"y")

    assert [o["Key"] for o in s3.list_objects_v2(Bucket="uploads")["Contents"]] == [
        "a.txt", "exit.txt", "fail.txt"]
    assert len(starts(lab_moto)) == 3
    assert dict(os.environ) == environment and sys.stdout is stdout
    assert metric_sum(lab_moto, "Errors") == 2

    lab_moto.client("lambda").update_function_code(
        FunctionName="fn", ZipFile=package(HANDLER.replace('event.get("mode", "ok")', '"loop"')))
    s3.put_object(Bucket="uploads", Key="start-the-loop.txt", Body=b"")
    assert len(starts(lab_moto)) == 3 + 16  # Lambda stops a recursive loop after 16 calls
    assert len(s3.list_objects_v2(Bucket="uploads")["Contents"]) == 4 + 16
    assert metric_sum(lab_moto, "RecursiveInvocationsDropped") == 1


# -- DynamoDB stream event source mappings ----------------------------------------------------

def test_stream_mapping_delivers_new_records_and_keeps_a_failed_batch(lab_moto: Any) -> None:
    queue_url = make_function(lab_moto)
    dynamodb = lab_moto.client("dynamodb")
    stream_arn = dynamodb.create_table(
        TableName="items", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )["TableDescription"]["LatestStreamArn"]
    dynamodb.put_item(TableName="items", Item={"id": {"S": "before"}})
    lab_moto.client("lambda").create_event_source_mapping(
        FunctionName="fn", EventSourceArn=stream_arn, StartingPosition="LATEST")

    def put(key: str, *extra: str) -> None:
        item = {"id": {"S": key}, **{name: {"S": "1"} for name in extra}}
        dynamodb.put_item(TableName="items", Item=item)

    def delivered() -> list[list[str]]:
        return [[r["dynamodb"]["Keys"]["id"]["S"] for r in json.loads(m["Body"])["Records"]]
                for m in messages(lab_moto, queue_url)]

    put("one")
    assert delivered() == [["one"]]  # LATEST: not the record written before the mapping
    put("two", "fail")
    assert delivered() == [["two"]]
    put("three")
    assert delivered() == []  # the failed batch blocks the shard until its retry
    streams = lab_moto.client("dynamodbstreams")
    shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]
    iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard["ShardId"],
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator)["Records"]
    assert [r["dynamodb"]["Keys"]["id"]["S"] for r in records] == ["before", "one", "two", "three"]

    lab_moto.clock.advance(seconds=10)  # the retry fails again: the same batch
    assert delivered() == [["two"]]
    lab_moto.client("lambda").update_function_code(
        FunctionName="fn",
        ZipFile=package(HANDLER.replace('raise RuntimeError("bad record")', "pass")))
    lab_moto.clock.advance(seconds=10)
    assert delivered() == [["two"], ["three"]]  # the failed batch alone, then the rest
    put("four")
    [[record]] = [json.loads(m["Body"])["Records"] for m in messages(lab_moto, queue_url)]
    assert set(record) == {"eventID", "eventName", "eventVersion", "eventSource", "awsRegion",
                           "dynamodb", "eventSourceARN"}
    assert (record["eventName"], record["eventSourceARN"]) == ("INSERT", stream_arn)
    assert record["dynamodb"]["NewImage"]["id"] == {"S": "four"}
    assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], (int, float))
