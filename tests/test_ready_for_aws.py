"""Issue 11's bugs: the lab waits for AWS, reads what AWS answers, and works in every partition.

Each test fails on the code before its fix. AWS sources are named where a behaviour comes from.
"""

from __future__ import annotations

import io
import json
import re
import time
import tomllib
from pathlib import Path

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.response import StreamingBody

import lab
from lab import awslambda, charts, destinations, iam, mock, s3, sqs
from lab.errors import AwsError, BucketNameTaken, ConfigurationError

ROOT = Path(__file__).resolve().parent.parent


class _Http:
    """The HTTP half of a before-call answer: only the status code is read."""

    def __init__(self, status: int) -> None:
        self.status_code = status
        self.headers: dict[str, str] = {}


def _refuse(client, operation: str, code: str, message: str, *, status: int = 400,
            times: int | None = None, until=None):
    """Make ``client`` answer ``operation`` with an AWS error (``times`` times, or until ``until()``)."""
    calls = {"n": 0}

    def handler(**kwargs):
        calls["n"] += 1
        if (times is not None and calls["n"] > times) or (until is not None and until()):
            return None
        return _Http(status), {"Error": {"Code": code, "Message": message},
                               "ResponseMetadata": {"HTTPStatusCode": status}}

    client.meta.events.register(f"before-call.{client.meta.service_model.service_name}"
                                f".{operation}", handler)
    return calls


def _role(cloud) -> str:
    return iam.ensure_role(cloud, quiet=True)


# (1) ensure_function and a function still Pending / being updated ---------------------------------

def test_ensure_function_waits_for_a_pending_function_before_and_after_updating(lab_moto):
    role = _role(lab_moto)
    lab_moto.client("lambda").create_function(  # a learner's CreateFunction: Pending for seconds
        FunctionName=lab_moto.names.function, Runtime=awslambda.RUNTIME, Role=role,
        Handler=awslambda.HANDLER, Code={"ZipFile": awslambda.build_zip()}, Timeout=3)
    awslambda.ensure_function(lab_moto, quiet=True)  # must update Timeout: AWS refuses while Pending
    function = awslambda.get_function(lab_moto)
    assert function["Timeout"] == awslambda.TIMEOUT_SECONDS
    assert (function["State"], function["LastUpdateStatus"]) == ("Active", "Successful")


def test_ensure_function_retries_an_update_refused_while_another_is_in_progress(lab_moto):
    awslambda.ensure_function(lab_moto, _role(lab_moto), quiet=True)
    client = lab_moto.client("lambda")
    client.update_function_configuration(FunctionName=lab_moto.names.function, Timeout=4)
    # The Lambda Console's update of a moment ago is still InProgress.
    awslambda.ensure_function(lab_moto, quiet=True)
    assert awslambda.get_function(lab_moto)["Timeout"] == awslambda.TIMEOUT_SECONDS


# (2) allow_s3_to_invoke: "already exists" is not "update in progress" -----------------------------

def test_allow_s3_to_invoke_retries_an_update_in_progress(lab_moto):
    awslambda.ensure_function(lab_moto, _role(lab_moto), quiet=True)
    lab_moto.client("lambda").update_function_configuration(
        FunctionName=lab_moto.names.function, Timeout=5)
    assert s3.allow_s3_to_invoke(lab_moto) is True  # added, after the update finished
    assert s3.get_permission(lab_moto) is not None
    assert s3.allow_s3_to_invoke(lab_moto) is False  # there already


def test_allow_s3_to_invoke_takes_a_racing_duplicate_as_already_there(lab_moto):
    awslambda.ensure_function(lab_moto, _role(lab_moto), quiet=True)
    # Another kernel added the statement between our GetPolicy and AddPermission (Lambda's words).
    _refuse(lab_moto.client("lambda"), "AddPermission", "ResourceConflictException",
            f"The statement id ({s3.permission_statement_id(lab_moto)}) provided already exists. "
            "Please provide a new statement id, or remove the existing statement.", status=409)
    assert s3.allow_s3_to_invoke(lab_moto) is False


# (3) the notification configuration, retried while S3 cannot see the permission -------------------

def test_set_trigger_retries_until_s3_sees_a_new_permission_at_no_real_cost(lab_moto):
    function_arn = awslambda.ensure_function(lab_moto, _role(lab_moto), quiet=True)
    s3.ensure_bucket(lab_moto, quiet=True)
    s3.allow_s3_to_invoke(lab_moto)  # just added: not visible to S3 for a few seconds
    started = time.monotonic()
    s3.set_trigger(lab_moto, function_arn)
    assert time.monotonic() - started < 3.0  # retried on the local clock, not with real sleeps
    assert s3.get_trigger(lab_moto)["LambdaFunctionArn"] == function_arn


def test_set_trigger_keeps_the_buckets_other_notifications(lab_moto):
    """PutBucketNotificationConfiguration replaces the whole configuration (S3 API Reference)."""
    lab_moto.build_pipeline(quiet=True)
    client = lab_moto.client("s3")
    queue_arn = sqs.ensure_queue(lab_moto, "S3ToDynamoProcessor-audit", quiet=True)
    audit = {"Id": "audit", "QueueArn": queue_arn, "Events": ["s3:ObjectRemoved:*"]}
    current = client.get_bucket_notification_configuration(Bucket=lab_moto.names.bucket)
    client.put_bucket_notification_configuration(
        Bucket=lab_moto.names.bucket,
        NotificationConfiguration={"QueueConfigurations": [audit], "LambdaFunctionConfigurations": [
            {"Id": "old-events", "LambdaFunctionArn": current["LambdaFunctionConfigurations"][0][
                "LambdaFunctionArn"], "Events": ["s3:ObjectCreated:Copy"]}]})
    s3.ensure_trigger(lab_moto, quiet=True)
    after = client.get_bucket_notification_configuration(Bucket=lab_moto.names.bucket)
    assert [q["Id"] for q in after["QueueConfigurations"]] == ["audit"]
    assert sorted(f["Id"] for f in after["LambdaFunctionConfigurations"]) == [
        "old-events", s3.TRIGGER_ID]


# (4) partitions ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("region", "partition"), [("cn-north-1", "aws-cn"),
                                                    ("us-gov-west-1", "aws-us-gov"),
                                                    ("eu-west-1", "aws")])
def test_arns_follow_the_regions_partition(region, partition):
    """IAM User Guide, "IAM identifiers": arn:partition:service:region:account:resource."""
    cloud = lab.Lab(backend="aws", region=region, account_id="123456789012",
                    names=lab.names.names_for("123456789012", region), session=None)
    assert s3.bucket_arn(cloud) == f"arn:{partition}:s3:::{cloud.names.bucket}"
    assert all(arn.startswith(f"arn:{partition}:iam::aws:policy/")
               for arn in iam.seed_policies(cloud))
    resources = [s["Resource"] for s in iam.least_privilege_policy(cloud)["Statement"]]
    assert all(r.startswith(f"arn:{partition}:") for r in resources), resources
    assert all(r["arn"].startswith(f"arn:{partition}:") for r in iam.sample_requests(cloud)
               if r["arn"].startswith("arn:"))
    event = awslambda.sample_event(cloud)
    assert event["Records"][0]["s3"]["bucket"]["arn"].startswith(f"arn:{partition}:s3:::")


def test_the_role_gets_the_china_partitions_managed_policies():
    mock.stop()
    try:
        cloud = lab.connect("moto", region="cn-north-1", quiet=True)
        iam.ensure_role(cloud, quiet=True)
        assert iam.attached_policies(cloud) == sorted(
            f"arn:aws-cn:iam::aws:policy/{name}" for name in iam.SEED_POLICY_NAMES)
        from lab.exercises import iam_role as ex

        assert ex.build_policies.evaluate(cloud).passed
    finally:
        mock.stop()


# (5) reading logs and the failure queue waits --------------------------------------------------

def test_newest_invocation_waits_for_logs_that_arrive_late(lab_moto):
    from lab import logs

    lab_moto.build_pipeline(quiet=True)
    s3.upload(lab_moto, "late/logs.txt", "x")
    run = logs.newest_invocation(lab_moto, containing="late/logs.txt")
    assert run["complete"]


def test_wait_for_message_waits_for_a_late_record_without_a_key_error(lab_moto):
    from lab.localcloud import consistency, current

    url = sqs.create_queue(lab_moto, destinations.queue_name(lab_moto))
    consistency.state(current()).later(
        consistency.DESTINATION_DELIVERY,
        lambda: lab_moto.client("sqs").send_message(QueueUrl=url, MessageBody="record"))
    assert sqs.wait_for_message(lab_moto, destinations.queue_name(lab_moto))["Body"] == "record"


# (6) teardown and the inventory know the lab's queues ---------------------------------------------

def test_teardown_and_inventory_include_lesson_11s_failure_queue(lab_moto):
    lab_moto.build_pipeline(quiet=True)
    destinations.ensure_on_failure(lab_moto, quiet=True)
    inventory = charts.inventory(lab_moto)
    assert inventory[inventory["service"] == "SQS"]["count"].tolist() == [1]
    report = lab_moto.teardown(quiet=True)
    assert f"queue {destinations.queue_name(lab_moto)}" in report["deleted"]
    assert sqs.get_queue_url(lab_moto, destinations.queue_name(lab_moto)) is None
    assert charts.inventory(lab_moto)["count"].sum() == 0


# (7) connect("aws") while the moto mock runs ------------------------------------------------------

def test_connect_aws_refuses_in_one_sentence_while_the_mock_runs(lab_moto, monkeypatch):
    monkeypatch.setenv("EVENTLAB_ALLOW_REAL_AWS", "1")
    with pytest.raises(ConfigurationError) as raised:
        lab.connect("aws", quiet=True)
    message = str(raised.value)
    assert "restart the kernel" in message and message.count(". ") == 0, message


# (8) a reply that is not JSON ---------------------------------------------------------------------

def test_invoke_turns_a_non_json_reply_into_one_sentence(lab_moto):
    awslambda.ensure_function(lab_moto, _role(lab_moto), quiet=True)

    def html(parsed, **kwargs):
        body = b"<html><body>502 Bad Gateway</body></html>"
        parsed["Payload"] = StreamingBody(io.BytesIO(body), len(body))

    lab_moto.client("lambda").meta.events.register("after-call.lambda.Invoke", html)
    with pytest.raises(AwsError) as raised:
        awslambda.invoke(lab_moto, {})
    assert "not JSON" in str(raised.value) and "502 Bad Gateway" in str(raised.value)
    assert "\n" not in str(raised.value)


# (9) the lowest boto3 declared has the ListBuckets paginator --------------------------------------

def test_the_lowest_boto3_declared_has_the_list_buckets_paginator():
    """botocore added ListBuckets pagination in 1.34.162 (its data/s3 paginators-1.json of that
    release; 1.34.161 has none); boto3 1.34.162 requires it. Lesson 09 paginates ListBuckets."""
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    boto3_range = next(d for d in dependencies if d.startswith("boto3"))
    lowest = tuple(int(n) for n in re.search(r">=([\d.]+)", boto3_range).group(1).split("."))
    assert lowest >= (1, 34, 162), boto3_range
    assert boto3.client("s3", region_name="us-east-1").can_paginate("list_buckets")


# likely bugs ------------------------------------------------------------------------------------

def test_a_403_from_headbucket_names_both_causes(lab_moto):
    _refuse(lab_moto.client("s3"), "HeadBucket", "403", "Forbidden", status=403)
    with pytest.raises(BucketNameTaken) as raised:
        s3.get_bucket(lab_moto)
    assert "another AWS account" in str(raised.value) and "s3:ListBucket" in str(raised.value)


def test_re_creating_a_just_deleted_bucket_name_is_retried(lab_moto):
    """S3 answers OperationAborted ("A conflicting conditional operation is currently in progress
    against this resource. Please try again.") while a deleted name is being released."""
    calls = _refuse(lab_moto.client("s3"), "CreateBucket", "OperationAborted",
                    "A conflicting conditional operation is currently in progress against this "
                    "resource. Please try again.", status=409, times=3)
    started = time.monotonic()
    s3.ensure_bucket(lab_moto, quiet=True)
    assert s3.get_bucket(lab_moto) is not None and calls["n"] == 4
    assert time.monotonic() - started < 3.0


def test_role_propagation_is_waited_for_two_minutes_at_no_real_cost(lab_moto):
    role = _role(lab_moto)
    start = lab_moto.clock.now()
    _refuse(lab_moto.client("lambda"), "CreateFunction", "InvalidParameterValueException",
            "The role defined for the function cannot be assumed by Lambda.",
            until=lambda: (lab_moto.clock.now() - start).total_seconds() > 90)
    started = time.monotonic()
    awslambda.ensure_function(lab_moto, role, quiet=True)
    assert awslambda.get_function(lab_moto)["State"] == "Active"
    assert time.monotonic() - started < 5.0


def test_a_bucket_in_another_region_is_refused_in_one_sentence(lab_moto):
    other = boto3.client("s3", region_name="us-west-2")
    other.create_bucket(Bucket="lab-bucket-in-oregon",
                        CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    cloud = lab.connect("moto", quiet=True, bucket="lab-bucket-in-oregon")
    with pytest.raises(AwsError) as raised:
        s3.ensure_bucket(cloud, quiet=True)
    assert "us-west-2" in str(raised.value) and "us-east-1" in str(raised.value)


def test_empty_bucket_reports_keys_s3_refused_to_delete(lab_moto):
    s3.ensure_bucket(lab_moto, quiet=True)
    s3.upload(lab_moto, "locked.txt", "x")

    def refuse_one(parsed, **kwargs):
        parsed["Errors"] = [{"Key": "locked.txt", "Code": "AccessDenied", "Message": "Access Denied"}]

    lab_moto.client("s3").meta.events.register("after-call.s3.DeleteObjects", refuse_one)
    with pytest.raises(AwsError) as raised:
        s3.empty_bucket(lab_moto)
    assert "'locked.txt'" in str(raised.value) and "AccessDenied" in str(raised.value)


def test_aws_region_alone_chooses_the_region(monkeypatch):
    from moto import mock_aws

    mock.stop()
    for name in ("EVENTLAB_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("EVENTLAB_ALLOW_REAL_AWS", "1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():  # answers STS, as AWS would; the lab's own mock is not running
        assert lab.connect("aws", quiet=True).region == "eu-west-1"


def test_throttled_log_reads_back_off_and_succeed(lab_moto, monkeypatch):
    """CloudWatch Logs throttles FilterLogEvents (ThrottlingException, "Rate exceeded"); the lab's
    clients retry it with backoff, more often than botocore's legacy 5 attempts."""
    from moto.core.botocore_stubber import MockRawResponse

    from lab import logs

    logs.ensure_log_group(lab_moto, quiet=True)
    throttled = {"n": 0}

    def throttle(request, **kwargs):
        if throttled["n"] >= 6:
            return None
        throttled["n"] += 1
        body = b'{"__type": "ThrottlingException", "message": "Rate exceeded"}'
        return AWSResponse(request.url, 400, {"x-amzn-requestid": "t"}, MockRawResponse(body))

    client = lab_moto.client("logs")
    client.meta.events.register_first("before-send.cloudwatch-logs.FilterLogEvents", throttle)
    slept = []
    monkeypatch.setattr(time, "sleep", slept.append)  # botocore's backoff sleeps: recorded only
    events = client.filter_log_events(logGroupName=lab_moto.names.log_group)["events"]
    assert events == [] and throttled["n"] == 6 and len(slept) == 6
