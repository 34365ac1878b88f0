"""One clock: what moto stamps itself (S3 LastModified, SNS Timestamp, log ingestionTime) follows it.

DESIGN.md "Time": after ``clock.advance(minutes=5)`` every time a learner can see agrees. The
formats come from the AWS documentation: "Event message structure" (S3 User Guide: eventTime, and
``responseElements.x-amz-request-id``, "the Amazon S3 host that processed the request"),
"HTTP/HTTPS notification JSON format" (SNS Developer Guide: Timestamp "the time (GMT) when the
notification was published") and GetLogEvents / FilterLogEvents (ingestionTime, "the time the
event was ingested", after the event's own timestamp).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from typing import Any

import pytest
from botocore.exceptions import ClientError


@pytest.fixture(autouse=True)
def _instant_cloud(monkeypatch):
    """About the one clock, not AWS's delays (test_eventual_consistency.py): instant cloud."""
    monkeypatch.setenv("EVENTLAB_DELAYS", "off")


UTC = dt.timezone.utc
BUCKET = "one-clock-bucket"


def queue(lab: Any, name: str) -> tuple[str, str]:
    sqs = lab.client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def received(lab: Any, url: str) -> list[dict[str, Any]]:
    messages = lab.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in messages.get("Messages", [])]


def parse_ms(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def test_s3_last_modified_and_the_event_time_follow_the_advanced_clock(lab_moto: Any) -> None:
    s3 = lab_moto.client("s3")
    url, arn = queue(lab_moto, "s3-events")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration={
        "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]})
    received(lab_moto, url)  # the s3:TestEvent
    lab_moto.clock.advance(minutes=5)
    before = lab_moto.clock.now()
    response = s3.put_object(Bucket=BUCKET, Key="late.txt", Body=b"hello")
    after = lab_moto.clock.now()
    listed = s3.list_objects_v2(Bucket=BUCKET)["Contents"][0]["LastModified"]
    head = s3.head_object(Bucket=BUCKET, Key="late.txt")["LastModified"]
    assert before.replace(microsecond=0) <= listed <= after
    assert head == listed.replace(microsecond=0)
    [body] = received(lab_moto, url)
    record = body["Records"][0]
    # The event names the object's LastModified (S3 keeps it to the second in its listings).
    assert parse_ms(record["eventTime"]).replace(microsecond=0) == listed.replace(microsecond=0)
    # The event names the request that caused it: the PutObject response's request id.
    assert record["responseElements"]["x-amz-request-id"] == response["ResponseMetadata"]["RequestId"]
    assert record["responseElements"]["x-amz-id-2"] == response["ResponseMetadata"]["HostId"]


def test_s3_answers_with_its_own_request_id_headers(lab_moto: Any) -> None:
    # AWS S3 API Reference, "Common Response Headers": x-amz-request-id and x-amz-id-2;
    # S3 sends no x-amzn-requestid. A request id is 16 upper-case hex digits.
    s3 = lab_moto.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    headers = s3.put_object(Bucket=BUCKET, Key="k", Body=b"")["ResponseMetadata"]["HTTPHeaders"]
    assert "x-amzn-requestid" not in headers
    assert len(headers["x-amz-request-id"]) == 16 and headers["x-amz-request-id"].isupper()
    try:
        s3.head_object(Bucket=BUCKET, Key="absent")
    except ClientError as error:
        assert len(error.response["ResponseMetadata"]["RequestId"]) == 16
    else:
        raise AssertionError("HeadObject of an absent key succeeded")


def test_sns_messages_delivered_to_sqs_carry_the_clock_time(lab_moto: Any) -> None:
    sns = lab_moto.client("sns")
    topic = sns.create_topic(Name="clock-topic")["TopicArn"]
    url, arn = queue(lab_moto, "sns-copies")
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    lab_moto.clock.advance(hours=2)
    before = lab_moto.clock.now()
    sns.publish(TopicArn=topic, Message="hello")
    [envelope] = received(lab_moto, url)
    stamp = parse_ms(envelope["Timestamp"])
    assert before - dt.timedelta(milliseconds=1) <= stamp <= lab_moto.clock.now()


def test_log_ingestion_follows_the_clock_and_never_precedes_the_event(lab_moto: Any) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("lambda_function.py", "def handler(event, context):\n    print('hi')\n")
    role = lab_moto.client("iam").create_role(
        RoleName="clock-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lab_moto.clock.advance(seconds=10)  # IAM: a new role is assumable after a few seconds
    lam = lab_moto.client("lambda")
    lam.create_function(FunctionName="clock-fn", Runtime="python3.12", Role=role,
                        Handler="lambda_function.handler", Code={"ZipFile": buffer.getvalue()})
    lam.get_waiter("function_active_v2").wait(FunctionName="clock-fn")
    lab_moto.clock.advance(minutes=5)
    before = lab_moto.clock.now()
    lam.invoke(FunctionName="clock-fn", Payload=b"{}")
    lab_moto.clock.advance(seconds=10)  # log events become readable a few seconds after the run
    events = lab_moto.client("logs").filter_log_events(logGroupName="/aws/lambda/clock-fn")["events"]
    assert len(events) >= 4  # INIT_START, START, hi, END, REPORT
    floor = int(before.timestamp() * 1000) - 1
    for event in events:
        assert event["timestamp"] >= floor, event
        assert event["ingestionTime"] >= event["timestamp"], event
        assert event["ingestionTime"] <= lab_moto.clock.time() * 1000 + 1
