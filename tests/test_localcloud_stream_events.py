"""What the local cloud delivers to a function: events a Powertools parser accepts, in batches.

Sources: AWS Lambda Developer Guide, "Using AWS Lambda with Amazon DynamoDB" (the sample stream
event: userIdentity ``{"type": "Service", "principalId": "dynamodb.amazonaws.com"}`` on a TTL
REMOVE, SizeBytes 26 / 59 / 38 for its INSERT / MODIFY / REMOVE records, BatchSize "the maximum
number of records in each batch that Lambda pulls from your stream", default 100) and
"Using AWS Lambda with Amazon S3" (the S3 event); Powertools for AWS Lambda (Python), parser
utility: ``parse(event=..., model=S3Model | DynamoDBStreamModel)``.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest

pytest.importorskip("aws_lambda_powertools.utilities.parser")

from aws_lambda_powertools.utilities.parser import parse  # noqa: E402
from aws_lambda_powertools.utilities.parser.models import (  # noqa: E402
    DynamoDBStreamModel, S3Model,
)

from lab.localcloud.ttl import stream_record_size  # noqa: E402


@pytest.fixture(autouse=True)
def _instant_cloud(monkeypatch):
    """About stream and SNS events, not AWS's delays (test_eventual_consistency.py): instant cloud."""
    monkeypatch.setenv("EVENTLAB_DELAYS", "off")


# A handler written with Powertools' parser: it validates each event with the model of its
# source and reports the verdict on a queue (an exception would only start retries).
HANDLER = '''
import json, os
import boto3
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamModel, S3Model, SnsModel

MODELS = {"aws:s3": S3Model, "aws:dynamodb": DynamoDBStreamModel, "aws:sns": SnsModel}


def handler(event, context):
    record = event["Records"][0]
    model = MODELS[record.get("eventSource") or record.get("EventSource")]
    try:
        parse(event=event, model=model)
        verdict = "accepted"
    except Exception as error:
        verdict = f"{type(error).__name__}: {error}"
    boto3.client("sqs").send_message(QueueUrl=os.environ["QUEUE_URL"], MessageBody=json.dumps(
        {"model": model.__name__, "verdict": verdict, "event": event}, default=str))
'''


def deploy(lab: Any, name: str = "parsed") -> str:
    """A function running HANDLER; returns the URL of the queue it reports to."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("lambda_function.py", HANDLER)
    queue_url = lab.client("sqs").create_queue(QueueName=f"{name}-verdicts")["QueueUrl"]
    role = lab.client("iam").create_role(RoleName=f"{name}-role",
                                         AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lab.clock.advance(seconds=10)  # IAM: a new role is assumable after a few seconds
    lab.client("lambda").create_function(
        FunctionName=name, Runtime="python3.12", Role=role, Handler="lambda_function.handler",
        Code={"ZipFile": buffer.getvalue()}, Timeout=10,
        Environment={"Variables": {"QUEUE_URL": queue_url}})
    lab.client("lambda").get_waiter("function_active_v2").wait(FunctionName=name)
    return queue_url


def verdicts(lab: Any, queue_url: str) -> list[dict[str, Any]]:
    found = []
    while True:
        batch = lab.client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
        if not batch.get("Messages"):
            return found
        for message in batch["Messages"]:
            found.append(json.loads(message["Body"]))
            lab.client("sqs").delete_message(QueueUrl=queue_url,
                                             ReceiptHandle=message["ReceiptHandle"])


def stream_table(lab: Any, name: str, *, ttl: bool = False, batch_size: int | None = None) -> str:
    dynamodb = lab.client("dynamodb")
    arn = dynamodb.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "Id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "Id", "AttributeType": "N"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]["LatestStreamArn"]
    if ttl:
        dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification={
            "Enabled": True, "AttributeName": "expires"})
    extra = {"BatchSize": batch_size} if batch_size else {}
    lab.client("lambda").create_event_source_mapping(
        FunctionName="parsed", EventSourceArn=arn, StartingPosition="LATEST", **extra)
    return arn


def test_a_powertools_handler_accepts_s3_insert_and_ttl_remove_events(lab_moto: Any) -> None:
    queue_url = deploy(lab_moto)
    bucket = "parsed-uploads"
    s3 = lab_moto.client("s3")
    s3.create_bucket(Bucket=bucket)
    lab_moto.client("lambda").add_permission(
        FunctionName="parsed", StatementId="s3", Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com", SourceArn=f"arn:aws:s3:::{bucket}")
    lab_moto.clock.advance(seconds=10)  # a new permission reaches S3's check after a moment
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "LambdaFunctionConfigurations": [{
            "LambdaFunctionArn": lab_moto.arn("lambda", "function:parsed"),
            "Events": ["s3:ObjectCreated:*"]}]})
    s3.put_object(Bucket=bucket, Key="reports/march 2026.csv", Body=b"a,b\n")
    stream_table(lab_moto, "Expiring", ttl=True)
    expires = int(lab_moto.clock.time()) + 60
    lab_moto.client("dynamodb").put_item(TableName="Expiring", Item={
        "Id": {"N": "101"}, "Message": {"S": "New item!"}, "expires": {"N": str(expires)}})
    lab_moto.clock.advance(minutes=2)  # the TTL sweep deletes it: a REMOVE by the service

    found = verdicts(lab_moto, queue_url)
    assert [v["verdict"] for v in found] == ["accepted"] * len(found)
    names = [(v["model"], r.get("eventName")) for v in found for r in v["event"]["Records"]]
    assert names == [("S3Model", "ObjectCreated:Put"), ("DynamoDBStreamModel", "INSERT"),
                     ("DynamoDBStreamModel", "REMOVE")]
    removed = found[-1]["event"]["Records"][0]
    # Lambda's spelling; GetRecords keeps {"PrincipalId": ..., "Type": ...} (tests/test_localcloud_ttl.py)
    assert removed["userIdentity"] == {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    assert list(removed["userIdentity"]) == ["type", "principalId"]


def test_size_bytes_follow_the_item_size_rule_of_the_aws_sample(lab_moto: Any) -> None:
    # The AWS sample event's three records, and their SizeBytes: 26, 59, 38.
    keys = {"Id": {"N": "101"}}
    new = {"Message": {"S": "New item!"}, "Id": {"N": "101"}}
    changed = {"Message": {"S": "This item has changed"}, "Id": {"N": "101"}}
    assert stream_record_size({"Keys": keys, "NewImage": new}) == 26
    assert stream_record_size({"Keys": keys, "NewImage": changed, "OldImage": new}) == 59
    assert stream_record_size({"Keys": keys, "OldImage": changed}) == 38

    queue_url = deploy(lab_moto)
    stream_table(lab_moto, "Sized")
    dynamodb = lab_moto.client("dynamodb")
    dynamodb.put_item(TableName="Sized", Item=new)
    dynamodb.put_item(TableName="Sized", Item=changed)
    dynamodb.delete_item(TableName="Sized", Key=keys)
    sizes = [r["dynamodb"]["SizeBytes"] for v in verdicts(lab_moto, queue_url)
             for r in v["event"]["Records"]]
    assert sizes == [26, 59, 38]


def test_a_mapping_invokes_once_per_batch_of_what_is_available(lab_moto: Any) -> None:
    queue_url = deploy(lab_moto)
    stream_table(lab_moto, "Batched", batch_size=10)
    dynamodb = lab_moto.client("dynamodb")
    dynamodb.batch_write_item(RequestItems={"Batched": [
        {"PutRequest": {"Item": {"Id": {"N": str(i)}}}} for i in range(25)]})
    batches = [[int(r["dynamodb"]["Keys"]["Id"]["N"]) for r in v["event"]["Records"]]
               for v in verdicts(lab_moto, queue_url)]
    assert batches == [list(range(10)), list(range(10, 20)), list(range(20, 25))]
    dynamodb.put_item(TableName="Batched", Item={"Id": {"N": "99"}})  # one request, one record
    assert [len(v["event"]["Records"]) for v in verdicts(lab_moto, queue_url)] == [1]


def test_an_sns_subscribed_function_gets_the_sns_event_on_the_local_clock(lab_moto: Any) -> None:
    # Lambda Developer Guide, "Using AWS Lambda with Amazon SNS": the sample event's fields;
    # Powertools' SnsModel validates them. The Timestamp follows the local clock (moto: 1970).
    from aws_lambda_powertools.utilities.parser.models import SnsModel

    queue_url = deploy(lab_moto)
    sns = lab_moto.client("sns")
    topic = sns.create_topic(Name="fanout")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="lambda",
                  Endpoint=lab_moto.arn("lambda", "function:parsed"))
    lab_moto.clock.advance(hours=3)
    before = lab_moto.clock.now()
    message_id = sns.publish(TopicArn=topic, Message="hello", Subject="greeting")["MessageId"]
    [found] = verdicts(lab_moto, queue_url)
    assert (found["model"], found["verdict"]) == ("SnsModel", "accepted")
    event = found["event"]
    parse(event=event, model=SnsModel)
    record = event["Records"][0]
    assert record["EventSource"] == "aws:sns"
    assert (record["Sns"]["TopicArn"], record["Sns"]["MessageId"]) == (topic, message_id)
    assert (record["Sns"]["Message"], record["Sns"]["Subject"]) == ("hello", "greeting")
    stamp = record["Sns"]["Timestamp"]
    assert before.strftime("%Y-%m-%dT%H:%M") <= stamp[:16] <= lab_moto.clock.now().strftime(
        "%Y-%m-%dT%H:%M")
