"""AWS's eventual consistency in the local cloud (issue 11), and the lab waiting for it.

Sources (AWS documentation): Lambda Developer Guide, "Lambda function states" (Pending before
Active; LastUpdateStatus InProgress; "Any invocations or other API actions that operate on the
function will fail" while Pending); IAM User Guide, "Changes that I make are not always immediately
visible"; S3 User Guide, event notifications ("Unable to validate the following destination
configurations"); Lambda "Capturing records of asynchronous invocations".
"""

from __future__ import annotations

import json
import time

import pytest
from botocore.exceptions import ClientError

import lab
from lab import awslambda, aws, iam, logs, mock, s3, sqs
from lab.localcloud import consistency


def _role(cloud) -> str:
    return iam.ensure_role(cloud, quiet=True)  # waits until IAM has spread it


def _create_raw(cloud, role_arn: str, name: str | None = None) -> dict:
    return cloud.client("lambda").create_function(
        FunctionName=name or cloud.names.function, Runtime=awslambda.RUNTIME, Role=role_arn,
        Handler=awslambda.HANDLER, Code={"ZipFile": awslambda.build_zip()},
        Environment={"Variables": awslambda.environment(cloud)})


def _code_and_message(raised) -> tuple[str, str]:
    error = raised.value.response["Error"]
    return error["Code"], error["Message"]


# -- Deliver 1: the delays themselves --------------------------------------------------------------

def test_a_new_function_is_pending_and_refuses_invokes_until_active(lab_moto):
    response = _create_raw(lab_moto, _role(lab_moto))
    assert (response["State"], response["StateReasonCode"]) == ("Pending", "Creating")
    assert awslambda.get_function(lab_moto)["State"] == "Pending"
    with pytest.raises(ClientError) as raised:
        lab_moto.client("lambda").invoke(FunctionName=lab_moto.names.function, Payload=b"{}")
    assert _code_and_message(raised) == (
        "ResourceConflictException", "The operation cannot be performed at this time. The "
        "function is currently in the following state: Pending")
    lab_moto.clock.advance(seconds=consistency.FUNCTION_PENDING.total_seconds())
    function = awslambda.get_function(lab_moto)
    assert (function["State"], function["LastUpdateStatus"]) == ("Active", "Successful")


def test_an_update_is_in_progress_and_a_second_update_conflicts(lab_moto):
    awslambda.ensure_function(lab_moto, _role(lab_moto), quiet=True)
    client, name = lab_moto.client("lambda"), lab_moto.names.function
    updated = client.update_function_configuration(FunctionName=name, Timeout=11)
    assert updated["LastUpdateStatus"] == "InProgress"
    with pytest.raises(ClientError) as raised:
        client.update_function_configuration(FunctionName=name, Timeout=12)
    arn = awslambda.get_function(lab_moto)["FunctionArn"]
    assert _code_and_message(raised) == (
        "ResourceConflictException", "The operation cannot be performed at this time. An "
        f"update is in progress for resource: {arn}")
    # AWS: invocations during an update run the configuration in place before it.
    assert client.invoke(FunctionName=name, Payload=b"{}")["StatusCode"] == 200
    lab_moto.clock.advance(seconds=consistency.FUNCTION_UPDATE.total_seconds())
    assert awslambda.get_function(lab_moto)["LastUpdateStatus"] == "Successful"
    client.update_function_configuration(FunctionName=name, Timeout=12)


def test_a_new_role_cannot_be_assumed_by_lambda_for_a_few_seconds(lab_moto):
    role_arn = lab_moto.client("iam").create_role(
        RoleName=lab_moto.names.role,
        AssumeRolePolicyDocument=json.dumps(iam.TRUST_POLICY))["Role"]["Arn"]
    with pytest.raises(ClientError) as raised:
        _create_raw(lab_moto, role_arn)
    assert _code_and_message(raised) == (
        "InvalidParameterValueException", "The role defined for the function cannot be assumed "
        "by Lambda.")
    lab_moto.clock.advance(seconds=consistency.ROLE_PROPAGATION.total_seconds())
    assert _create_raw(lab_moto, role_arn)["State"] == "Pending"


def test_a_new_permission_is_not_yet_visible_to_s3s_destination_check(lab_moto):
    function_arn = awslambda.ensure_function(lab_moto, _role(lab_moto), quiet=True)
    s3.ensure_bucket(lab_moto, quiet=True)
    s3.allow_s3_to_invoke(lab_moto)
    configuration = {"LambdaFunctionConfigurations": [
        {"LambdaFunctionArn": function_arn, "Events": s3.CREATED_EVENTS}]}
    with pytest.raises(ClientError) as raised:
        lab_moto.client("s3").put_bucket_notification_configuration(
            Bucket=lab_moto.names.bucket, NotificationConfiguration=configuration)
    assert _code_and_message(raised) == (
        "InvalidArgument", "Unable to validate the following destination configurations")
    lab_moto.clock.advance(seconds=consistency.PERMISSION_PROPAGATION.total_seconds())
    lab_moto.client("s3").put_bucket_notification_configuration(
        Bucket=lab_moto.names.bucket, NotificationConfiguration=configuration)


def test_log_events_are_readable_seconds_after_the_run(lab_moto):
    awslambda.ensure_function(lab_moto, _role(lab_moto), quiet=True)
    run = awslambda.invoke(lab_moto, awslambda.sample_event(lab_moto))
    assert run["LogTail"][-1].startswith("REPORT RequestId: ")  # the tail comes with the reply
    assert not any(e["message"].startswith(f"START RequestId: {run['RequestId']}")
                   for e in logs.log_events(lab_moto))
    lab_moto.clock.advance(seconds=consistency.LOG_DELIVERY.total_seconds())
    assert logs.invocation_lines(lab_moto, run["RequestId"], timeout=0)[0].startswith("START")


def test_a_delayed_delivery_arrives_when_real_time_passes_too(lab_moto):
    """Reads of SQS make what is due: real time passing delivers, not only clock.advance()."""
    url = sqs.create_queue(lab_moto, "S3ToDynamoProcessor-late")
    state = consistency.state(__import__("lab.localcloud", fromlist=["current"]).current())
    state.later(consistency.DESTINATION_DELIVERY, lambda: lab_moto.client("sqs").send_message(
        QueueUrl=url, MessageBody="late"))
    assert sqs.receive_messages(lab_moto, "S3ToDynamoProcessor-late") == []
    time.sleep(consistency.DESTINATION_DELIVERY.total_seconds() + 0.1)
    assert [m["Body"] for m in sqs.receive_messages(lab_moto, "S3ToDynamoProcessor-late")] == ["late"]


def test_delays_off_gives_the_instant_cloud(monkeypatch):
    monkeypatch.setenv("EVENTLAB_DELAYS", "off")
    mock.stop()
    try:
        cloud = lab.connect("moto", quiet=True)
        role_arn = cloud.client("iam").create_role(
            RoleName=cloud.names.role,
            AssumeRolePolicyDocument=json.dumps(iam.TRUST_POLICY))["Role"]["Arn"]
        assert _create_raw(cloud, role_arn)["State"] == "Active"
    finally:
        mock.stop()


def test_waits_advance_the_clock_instead_of_sleeping(lab_moto):
    started, before = time.monotonic(), lab_moto.clock.now()
    with pytest.raises(lab.WaitTimeout):
        aws.wait_until(lambda: None, what="nothing", timeout=300, interval=30)
    assert (lab_moto.clock.now() - before).total_seconds() >= 300
    assert time.monotonic() - started < 5


def test_boto3_waiters_wait_on_the_local_clock(lab_moto):
    _create_raw(lab_moto, _role(lab_moto))
    started = time.monotonic()
    lab_moto.client("lambda").get_waiter("function_active_v2").wait(
        FunctionName=lab_moto.names.function)  # sleeps 1 s between polls: on the clock here
    assert awslambda.get_function(lab_moto)["State"] == "Active"
    assert time.monotonic() - started < 1.0
