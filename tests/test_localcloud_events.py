"""The local cloud's S3 notifications: complete records, TestEvent, destination checks, async Lambda."""

from __future__ import annotations

import io
import json
import re
import zipfile
from urllib.parse import unquote_plus

import pytest
from botocore.exceptions import ClientError
from hypothesis import given
from hypothesis import strategies as st

from lab.localcloud import current, events


@pytest.fixture(autouse=True)
def _instant_cloud(monkeypatch):
    """About S3's event records, not AWS's delays (test_eventual_consistency.py): instant cloud."""
    monkeypatch.setenv("EVENTLAB_DELAYS", "off")


BUCKET = "events-lab-bucket"
BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"
ACCOUNT = "123456789012"
CREATED = ["s3:ObjectCreated:*"]

EVENT_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
REQUEST_ID = re.compile(r"^[0-9A-F]{16}$")
HOST_ID = re.compile(r"^[A-Za-z0-9+/]{75}=$")
SEQUENCER = re.compile(r"^[0-9A-F]{18}$")
PRINCIPAL = re.compile(r"^AWS:AIDA[A-Z2-7]{17}$")
OWNER = re.compile(r"^A[A-Z2-7]{13}$")

RECORD_KEYS = {
    "eventVersion", "eventSource", "awsRegion", "eventTime", "eventName", "userIdentity",
    "requestParameters", "responseElements", "s3",
}


def _keys(tree, prefix=""):
    """Every nested key path of a JSON object, e.g. ``s3.bucket.ownerIdentity.principalId``."""
    paths = set()
    for name, value in tree.items():
        paths.add(prefix + name)
        if isinstance(value, dict):
            paths |= _keys(value, f"{prefix}{name}.")
    return paths


ALL_KEYS_PUT = RECORD_KEYS | {
    "userIdentity.principalId", "requestParameters.sourceIPAddress",
    "responseElements.x-amz-request-id", "responseElements.x-amz-id-2",
    "s3.s3SchemaVersion", "s3.configurationId", "s3.bucket", "s3.bucket.name",
    "s3.bucket.ownerIdentity", "s3.bucket.ownerIdentity.principalId", "s3.bucket.arn",
    "s3.object", "s3.object.key", "s3.object.size", "s3.object.eTag", "s3.object.sequencer",
}


# --- helpers: raw boto3 on the lab's clients -------------------------------------------------

def make_bucket(lab, name=BUCKET, *, versioned=False):
    s3 = lab.client("s3")
    s3.create_bucket(Bucket=name)
    if versioned:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return s3


def make_queue(lab, name="events-queue"):
    sqs = lab.client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def drain(lab, url):
    """Every message body on the queue, parsed, in arrival order."""
    sqs = lab.client("sqs")
    bodies = []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            return bodies
        for message in batch:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def records(lab, url):
    """The S3 event records that reached the queue (TestEvents left out)."""
    return [record for body in drain(lab, url) if "Records" in body for record in body["Records"]]


def notify_queue(lab, queue_arn, *, bucket=BUCKET, config_id="to-queue", events_=CREATED):
    lab.client("s3").put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"QueueConfigurations": [
            {"Id": config_id, "QueueArn": queue_arn, "Events": events_}]})


HANDLER = """
import json, os
import boto3

def lambda_handler(event, context):
    boto3.client("sqs", region_name=os.environ["AWS_REGION"]).send_message(
        QueueUrl=os.environ["OUT_QUEUE"], MessageBody=json.dumps(event))
    return "ok"
"""


def make_function(lab, name="events-fn", *, out_queue=""):
    """A Python function whose handler forwards every event it gets to ``out_queue``."""
    role = lab.client("iam").create_role(
        RoleName=f"{name}-role", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("lambda_function.py", HANDLER)
    return lab.client("lambda").create_function(
        FunctionName=name, Runtime="python3.12", Role=role, Handler="lambda_function.lambda_handler",
        Code={"ZipFile": archive.getvalue()}, Environment={"Variables": {"OUT_QUEUE": out_queue}},
    )["FunctionArn"]


def allow_s3(lab, function="events-fn", **conditions):
    lab.client("lambda").add_permission(
        FunctionName=function, StatementId="s3-invoke", Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com", **conditions)


def notify_function(lab, function_arn, *, extra=None):
    configuration = {"LambdaFunctionConfigurations": [
        {"Id": "to-function", "LambdaFunctionArn": function_arn, "Events": CREATED}]}
    configuration.update(extra or {})
    lab.client("s3").put_bucket_notification_configuration(
        Bucket=BUCKET, NotificationConfiguration=configuration)


# --- the record --------------------------------------------------------------------------------

def test_record_through_sqs_is_complete_and_shared_by_every_destination(lab_moto):
    s3 = make_bucket(lab_moto)
    first_url, first_arn = make_queue(lab_moto, "first")
    second_url, second_arn = make_queue(lab_moto, "second")
    bridge_url, bridge_arn = make_queue(lab_moto, "bridge-target")
    bridge = lab_moto.client("events")
    bridge.put_rule(Name="s3-objects", EventPattern=json.dumps({"source": ["aws.s3"]}))
    bridge.put_targets(Rule="s3-objects", Targets=[{"Id": "queue", "Arn": bridge_arn}])
    s3.put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration={
        "QueueConfigurations": [
            {"Id": "to-queue", "QueueArn": first_arn, "Events": CREATED},
            {"Id": "other", "QueueArn": second_arn, "Events": ["s3:ObjectCreated:Put"]}],
        "EventBridgeConfiguration": {}})
    drain(lab_moto, first_url), drain(lab_moto, second_url)
    before = lab_moto.clock.advance(days=3)
    put = s3.put_object(Bucket=BUCKET, Key="report.csv", Body=b"a,b\n1,2\n")
    after = lab_moto.clock.now()

    [body] = drain(lab_moto, first_url)
    assert set(body) == {"Records"}
    [record] = body["Records"]
    assert _keys(record) == ALL_KEYS_PUT  # and so no versionId: the bucket is not versioned
    assert record["eventVersion"] == "2.1"
    assert record["eventSource"] == "aws:s3"
    assert record["awsRegion"] == "us-east-1"
    assert EVENT_TIME.match(record["eventTime"])
    assert events.event_time(before) <= record["eventTime"] <= events.event_time(after)
    assert record["eventName"] == "ObjectCreated:Put"
    assert PRINCIPAL.match(record["userIdentity"]["principalId"])
    assert record["requestParameters"] == {"sourceIPAddress": "127.0.0.1"}
    assert REQUEST_ID.match(record["responseElements"]["x-amz-request-id"])
    assert HOST_ID.match(record["responseElements"]["x-amz-id-2"])
    assert record["s3"]["s3SchemaVersion"] == "1.0"
    assert record["s3"]["configurationId"] == "to-queue"
    assert record["s3"]["bucket"]["name"] == BUCKET
    assert record["s3"]["bucket"]["arn"] == BUCKET_ARN
    assert OWNER.match(record["s3"]["bucket"]["ownerIdentity"]["principalId"])
    obj = record["s3"]["object"]
    assert (obj["key"], obj["size"]) == ("report.csv", 8)
    assert obj["eTag"] == put["ETag"].strip('"')
    assert SEQUENCER.match(obj["sequencer"])

    [other] = records(lab_moto, second_url)  # same request: same time, ids and sequencer
    assert other["s3"]["configurationId"] == "other"
    other["s3"]["configurationId"] = "to-queue"
    assert other == record

    # moto's EventBridge path is left as it was: it still gets its own event format
    [bridged] = [e for e in drain(lab_moto, bridge_url) if e["detail-type"] == "Object Created"]
    assert (bridged["source"], bridged["detail"]["object"]["key"]) == ("aws.s3", "report.csv")


def test_event_names_sequencer_and_version_id(lab_moto):
    s3 = make_bucket(lab_moto)
    make_bucket(lab_moto, "events-versioned", versioned=True)
    url, arn = make_queue(lab_moto)
    every = ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]
    notify_queue(lab_moto, arn, events_=every)
    notify_queue(lab_moto, arn, bucket="events-versioned", config_id="versioned", events_=every)
    for index in range(3):
        s3.put_object(Bucket=BUCKET, Key="src", Body=str(index).encode())
    s3.copy_object(Bucket=BUCKET, Key="copy", CopySource={"Bucket": BUCKET, "Key": "src"})
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key="big")["UploadId"]
    part = s3.upload_part(Bucket=BUCKET, Key="big", UploadId=upload, PartNumber=1, Body=b"z" * 10)
    s3.complete_multipart_upload(Bucket=BUCKET, Key="big", UploadId=upload, MultipartUpload={
        "Parts": [{"ETag": part["ETag"], "PartNumber": 1}]})
    version = s3.put_object(Bucket="events-versioned", Key="v.txt", Body=b"x")["VersionId"]
    s3.delete_object(Bucket=BUCKET, Key="src")

    got = records(lab_moto, url)
    assert [(r["eventName"], r["s3"]["object"]["key"]) for r in got] == [
        ("ObjectCreated:Put", "src")] * 3 + [
        ("ObjectCreated:Copy", "copy"), ("ObjectCreated:CompleteMultipartUpload", "big"),
        ("ObjectCreated:Put", "v.txt"), ("ObjectRemoved:Delete", "src")]
    assert got[4]["s3"]["object"]["size"] == 10
    assert list(got[-1]["s3"]["object"]) == ["key", "sequencer"]  # no size/eTag on delete
    assert all("versionId" not in r["s3"]["object"] for r in got if r["s3"]["bucket"]["name"] == BUCKET)
    versioned = got[5]["s3"]["object"]
    assert list(versioned) == ["key", "size", "eTag", "versionId", "sequencer"]
    assert versioned["versionId"] == version
    ours = [r["s3"]["object"]["sequencer"] for r in got if r["s3"]["bucket"]["name"] == BUCKET]
    assert len(ours) == 6 and all(SEQUENCER.match(s) for s in ours)
    assert all(int(a, 16) < int(b, 16) for a, b in zip(ours, ours[1:]))  # strictly increasing
    assert len({r["responseElements"]["x-amz-request-id"] for r in got}) == len(got)


KEYS = {
    "my report.csv": "my+report.csv",
    "a+b.txt": "a%2Bb.txt",
    "100%.txt": "100%25.txt",
    "uploads/2026/Grüße 1.txt": "uploads/2026/Gr%C3%BC%C3%9Fe+1.txt",
    "dt=2026-11-25/x:y.json": "dt%3D2026-11-25/x%3Ay.json",
}


def test_keys_are_url_encoded_as_aws_does(lab_moto):
    s3 = make_bucket(lab_moto)
    url, arn = make_queue(lab_moto)
    notify_queue(lab_moto, arn)
    for key in KEYS:
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")
    assert [r["s3"]["object"]["key"] for r in records(lab_moto, url)] == list(KEYS.values())
    assert [unquote_plus(encoded) for encoded in KEYS.values()] == list(KEYS)


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40))
def test_encoded_keys_decode_back_with_unquote_plus(key):
    encoded = events.encode_key(key)
    assert unquote_plus(encoded) == key
    assert re.fullmatch(r"[A-Za-z0-9_.\-~+%/]*", encoded)


def test_event_versions_and_fields_per_event_family():
    occurrence = {"time": "2026-11-25T08:43:27.123Z", "principal": "AWS:AIDAEXAMPLE",
                  "request_id": "0123456789ABCDEF", "host_id": "host", "sequencer": "00AB"}
    common = {"occurrence": occurrence, "region": "us-east-1", "bucket_name": BUCKET,
              "bucket_arn": BUCKET_ARN, "owner": "AEXAMPLE", "configuration_id": "c",
              "key": "k", "size": 3, "etag": "e"}
    tagging = events.build_record(event_name="ObjectTagging:Put", **common)
    assert (tagging["eventVersion"], tagging["s3"]["object"]) == ("2.3", {"key": "k", "eTag": "e"})
    replication = events.build_record(event_name="Replication:OperationNotTracked", **common)
    assert replication["eventVersion"] == "2.2"
    restore = events.build_record(event_name="ObjectRestore:Delete", **common)
    assert restore["eventVersion"] == "2.3"
    put = events.build_record(event_name="ObjectCreated:Post", version_id="v1", **common)
    assert put["eventVersion"] == "2.1"
    assert put["s3"]["object"] == {"key": "k", "size": 3, "eTag": "e", "versionId": "v1",
                                   "sequencer": "00AB"}


# --- the TestEvent -------------------------------------------------------------------------------

def test_queue_and_topic_destinations_get_the_s3_test_event(lab_moto):
    s3 = make_bucket(lab_moto)
    url, queue_arn = make_queue(lab_moto)
    topic_url, topic_queue_arn = make_queue(lab_moto, "topic-subscriber")
    sns = lab_moto.client("sns")
    topic = sns.create_topic(Name="events-topic")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=topic_queue_arn)
    s3.put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration={
        "QueueConfigurations": [{"Id": "to-queue", "QueueArn": queue_arn, "Events": CREATED}],
        "TopicConfigurations": [{"Id": "to-topic", "TopicArn": topic, "Events": CREATED}]})

    [message] = drain(lab_moto, url)
    assert list(message) == ["Service", "Event", "Time", "Bucket", "RequestId", "HostId"]
    assert message["Service"] == "Amazon S3"
    assert message["Event"] == "s3:TestEvent"
    assert message["Bucket"] == BUCKET
    assert EVENT_TIME.match(message["Time"])
    assert REQUEST_ID.match(message["RequestId"])
    assert HOST_ID.match(message["HostId"])

    s3.put_object(Bucket=BUCKET, Key="via sns.txt", Body=b"x")
    envelopes = drain(lab_moto, topic_url)
    assert [e["Subject"] for e in envelopes] == ["Amazon S3 Notification"] * 2
    test, event = (json.loads(e["Message"]) for e in envelopes)
    assert test == message  # one configuration request: one TestEvent per destination
    [record] = event["Records"]
    assert _keys(record) == ALL_KEYS_PUT
    assert (record["s3"]["configurationId"], record["s3"]["object"]["key"]) == ("to-topic", "via+sns.txt")


# --- Lambda destinations ---------------------------------------------------------------------------

def test_lambda_gets_no_test_event_and_each_upload_runs_it_with_the_record(lab_moto):
    s3 = make_bucket(lab_moto)
    out_url, _ = make_queue(lab_moto, "handler-output")
    url, arn = make_queue(lab_moto)
    function_arn = make_function(lab_moto, out_queue=out_url)
    allow_s3(lab_moto, SourceArn=BUCKET_ARN, SourceAccount=ACCOUNT)
    notify_function(lab_moto, function_arn, extra={"QueueConfigurations": [
        {"Id": "to-queue", "QueueArn": arn, "Events": CREATED}]})
    [entry] = s3.get_bucket_notification_configuration(Bucket=BUCKET)["LambdaFunctionConfigurations"]
    assert entry["LambdaFunctionArn"] == function_arn
    assert [m["Event"] for m in drain(lab_moto, url)] == ["s3:TestEvent"]
    assert drain(lab_moto, out_url) == []  # the function was not invoked by the configuration

    s3.put_object(Bucket=BUCKET, Key="incoming/data file.json", Body=b"{}")
    [record] = records(lab_moto, out_url)
    assert _keys(record) == ALL_KEYS_PUT
    assert record["s3"]["configurationId"] == "to-function"
    assert record["s3"]["object"]["key"] == "incoming/data+file.json"
    [beside] = records(lab_moto, url)
    assert beside["responseElements"] == record["responseElements"]

    # S3 delivers asynchronously: a function deleted since never fails an upload
    lab_moto.client("lambda").delete_function(FunctionName="events-fn")
    s3.put_object(Bucket=BUCKET, Key="orphan.txt", Body=b"x")
    assert len(records(lab_moto, url)) == 1
    [lost] = events.undelivered(current())
    assert lost["destination"] == function_arn
    assert "not found" in lost["error"].lower()
    assert EVENT_TIME.match(lost["time"])


# --- destination checks ---------------------------------------------------------------------------

def _rejection(call):
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response


def test_lambda_without_permission_is_rejected_with_aws_error(lab_moto):
    s3 = make_bucket(lab_moto)
    url, arn = make_queue(lab_moto)
    function_arn = make_function(lab_moto)
    response = _rejection(lambda: notify_function(lab_moto, function_arn, extra={
        "QueueConfigurations": [{"Id": "to-queue", "QueueArn": arn, "Events": CREATED}]}))
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert response["Error"] == {
        "Code": "InvalidArgument",
        "Message": "Unable to validate the following destination configurations",
        "ArgumentName1": f"{function_arn}, null",
        "ArgumentValue1": f"Not authorized to invoke function [{function_arn}]",
    }
    configuration = s3.get_bucket_notification_configuration(Bucket=BUCKET)
    assert "LambdaFunctionConfigurations" not in configuration
    assert "QueueConfigurations" not in configuration  # the whole configuration is refused
    assert drain(lab_moto, url) == []  # and nothing was sent

    gone_function = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:no-such-function"
    gone_queue = f"arn:aws:sqs:us-east-1:{ACCOUNT}:no-such-queue"
    gone_topic = f"arn:aws:sns:us-east-1:{ACCOUNT}:no-such-topic"
    error = _rejection(lambda: s3.put_bucket_notification_configuration(
        Bucket=BUCKET, NotificationConfiguration={
            "LambdaFunctionConfigurations": [{"LambdaFunctionArn": gone_function, "Events": CREATED}],
            "QueueConfigurations": [{"QueueArn": gone_queue, "Events": CREATED}],
            "TopicConfigurations": [{"TopicArn": gone_topic, "Events": CREATED}]}))["Error"]
    assert error == {
        "Code": "InvalidArgument",
        "Message": "Unable to validate the following destination configurations",
        "ArgumentName1": gone_topic, "ArgumentValue1": "The destination topic does not exist",
        "ArgumentName2": gone_queue, "ArgumentValue2": "The destination queue does not exist",
        "ArgumentName3": gone_function, "ArgumentValue3": "The destination Lambda does not exist",
    }


CONDITIONS = [
    ({"SourceArn": BUCKET_ARN, "SourceAccount": ACCOUNT}, True),
    ({}, True),
    ({"SourceArn": "arn:aws:s3:::events-lab-*"}, True),
    ({"SourceAccount": ACCOUNT}, True),
    ({"SourceArn": "arn:aws:s3:::another-bucket"}, False),
    ({"SourceArn": BUCKET_ARN, "SourceAccount": "210987654321"}, False),
]


def test_add_permission_conditions_must_match_the_bucket(lab_moto):
    make_bucket(lab_moto)
    outcomes = []
    for number, (conditions, _) in enumerate(CONDITIONS):
        name = f"events-fn-{number}"
        function_arn = make_function(lab_moto, name)
        allow_s3(lab_moto, name, **conditions)
        try:
            notify_function(lab_moto, function_arn)
            outcomes.append(True)
        except ClientError as error:
            assert error.response["Error"]["Code"] == "InvalidArgument"
            assert error.response["Error"]["ArgumentValue1"] == (
                f"Not authorized to invoke function [{function_arn}]")
            outcomes.append(False)
    assert outcomes == [accepted for _, accepted in CONDITIONS]


@pytest.mark.parametrize(("statement", "allowed"), [
    ({"Effect": "Allow", "Principal": "*", "Action": "lambda:*", "Resource": "*"}, True),
    ({"Effect": "Allow", "Principal": {"Service": ["sns.amazonaws.com"]},
      "Action": "lambda:InvokeFunction", "Resource": "*"}, False),
    ({"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
      "Action": "lambda:GetFunction", "Resource": "*"}, False),
    ({"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
      "Action": "lambda:InvokeFunction", "Resource": "arn:aws:lambda:us-east-1:1:function:other"}, False),
    ({"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "lambda:InvokeFunction",
      "Resource": "*", "Condition": {"ArnNotLike": {"AWS:SourceArn": "arn:aws:s3:::other-*"}}}, True),
    ({"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "lambda:InvokeFunction",
      "Resource": "*", "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1"}}}, False),
    ({"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "lambda:InvokeFunction",
      "Resource": "*", "Condition": {"NumericLessThan": {"AWS:SourceAccount": "1"}}}, False),
])
def test_policy_evaluation(statement, allowed):
    function_arn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:events-fn"
    policy = {"Statement": [statement]}
    assert events.s3_may_invoke(policy, function_arn=function_arn, bucket_arn=BUCKET_ARN,
                                bucket_account=ACCOUNT) is allowed


def test_a_deny_statement_wins_over_an_allow():
    function_arn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:events-fn"
    allow = {"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
             "Action": "lambda:InvokeFunction", "Resource": function_arn}
    deny = dict(allow, Effect="Deny")
    kwargs = {"function_arn": function_arn, "bucket_arn": BUCKET_ARN, "bucket_account": ACCOUNT}
    assert events.s3_may_invoke({"Statement": [allow]}, **kwargs) is True
    assert events.s3_may_invoke({"Statement": [allow, deny]}, **kwargs) is False
    assert events.s3_may_invoke(None, **kwargs) is False


def test_ids_and_sequencers_come_from_moto_seeded_random():
    from types import SimpleNamespace

    from moto.moto_api._internal import mock_random

    def draw():
        cloud = SimpleNamespace(state={"events": {"sequencers": {}}})
        ids = [events._request_ids() for _ in range(2)]
        sequencers = [events._next_sequencer(cloud, (ACCOUNT, BUCKET)) for _ in range(3)]
        return ids, sequencers

    saved = mock_random.getstate()
    try:
        mock_random.seed(2026)
        first = draw()
        mock_random.seed(2026)
        assert draw() == first  # same seed, same notebook output
    finally:
        mock_random.setstate(saved)
    (request_id, host_id), _ = first[0]
    assert REQUEST_ID.match(request_id) and HOST_ID.match(host_id)
    assert first[0][0] != first[0][1]
    assert all(SEQUENCER.match(s) for s in first[1]) and first[1] == sorted(first[1])
    assert events.requester_id(ACCOUNT) == events.requester_id(ACCOUNT) != events.requester_id("1")
