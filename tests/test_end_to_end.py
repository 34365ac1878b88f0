"""Issue 3's promise, end to end on the moto backend with no Docker: the pipeline *happens*."""

from __future__ import annotations

import datetime as dt
import re

from lab import alarms, dynamodb, logs, s3
from lab.aws import wait_until

AWKWARD_KEYS = [
    "hello world.txt", "a+b=c.csv", "100% sure.txt", "reports/2026/q4 summary.pdf",
    "café ☕.txt", "e\u0301te\u0301.md", "emoji 🎉 party.png", "x" * 1000 + ".log",
    "semi;colon & ampersand.txt", "tilde~and'quote.txt", "plain.txt", "UPPER lower.TXT",
]


def _metric_sum(connection, namespace, name, dimensions):
    now = connection.clock.now()
    datapoints = connection.client("cloudwatch").get_metric_statistics(
        Namespace=namespace, MetricName=name, Dimensions=dimensions,
        StartTime=now - dt.timedelta(hours=1), EndTime=now + dt.timedelta(minutes=1),
        Period=60, Statistics=["Sum"])["Datapoints"]
    return sum(d["Sum"] for d in datapoints)


def test_upload_burst_items_logs_metrics_alarm_email_ok_and_ttl(lab_moto):
    cloud = lab_moto
    cloud.build_pipeline(quiet=True)
    assert cloud.inbox()[0]["subject"] == "AWS Notification - Subscription Confirmation"
    assert len(cloud.confirm_email()) == 1
    assert alarms.alarm_states(cloud) == {"DynamoDBWriteActivityAlert": "INSUFFICIENT_DATA",
                                          "DynamoDBWriteThrottleAlert": "INSUFFICIENT_DATA"}

    now = cloud.clock.now()  # start the burst at the start of a minute: one minute holds it all
    cloud.clock.advance(now.replace(second=1, microsecond=0) + dt.timedelta(minutes=1) - now)
    for key in AWKWARD_KEYS:
        s3.upload(cloud, key, f"content of {key}")

    # One item per file, with the decoded key, byte for byte.
    items = dynamodb.scan_items(cloud)
    assert sorted(i["objectKey"] for i in items) == sorted(AWKWARD_KEYS)
    assert len({i["objectId"] for i in items}) == len(AWKWARD_KEYS)
    for item in items:
        assert item["bucket"] == cloud.names.bucket
        assert item["ttl"] == item["timestamp"] + 86400
        assert item["eventName"] == "ObjectCreated:Put"

    # Logs as AWS shows them: one START/END/REPORT per upload, Init Duration on the first only.
    def all_reported():  # log events are readable seconds after each run (AWS, and here)
        found = [e["message"] for e in logs.log_events(cloud)]
        done = sum(m.startswith("REPORT RequestId: ") for m in found) >= len(AWKWARD_KEYS)
        return found if done else None

    messages = wait_until(all_reported, what="every run's log lines", timeout=30)
    starts = [m for m in messages if m.startswith("START RequestId: ")]
    reports = [m for m in messages if m.startswith("REPORT RequestId: ")]
    assert len(starts) == len(reports) == len(AWKWARD_KEYS)
    assert all(re.fullmatch(r"START RequestId: [0-9a-f-]{36} Version: \$LATEST", m) for m in starts)
    report_line = (r"REPORT RequestId: [0-9a-f-]{36}\tDuration: \d+\.\d{2} ms\tBilled Duration: \d+ ms"
                   r"\tMemory Size: 128 MB\tMax Memory Used: \d+ MB")
    assert re.fullmatch(report_line + r"\tInit Duration: \d+\.\d{2} ms", reports[0])
    assert all(re.fullmatch(report_line, m) for m in reports[1:])

    # Metrics: one WCU per item under 1 KB; the 1004-byte key makes its item 2 WCU.
    # One invocation per upload, no errors, no throttles.
    table = [{"Name": "TableName", "Value": cloud.names.table}]
    function = [{"Name": "FunctionName", "Value": cloud.names.function}]
    assert _metric_sum(cloud, "AWS/DynamoDB", "ConsumedWriteCapacityUnits", table) == len(AWKWARD_KEYS) + 1
    assert _metric_sum(cloud, "AWS/Lambda", "Invocations", function) == len(AWKWARD_KEYS)
    assert _metric_sum(cloud, "AWS/Lambda", "Errors", function) == 0
    assert _metric_sum(cloud, "AWS/DynamoDB", "WriteThrottleEvents", table) == 0

    # The activity alarm crossed 10 WCU in the minute: ALARM once the minute is over (CloudWatch
    # judges a DynamoDB minute whole), and exactly one alarm email.
    assert alarms.alarm_states(cloud)["DynamoDBWriteActivityAlert"] == "INSUFFICIENT_DATA"
    cloud.clock.advance(minutes=1)
    assert alarms.alarm_states(cloud)["DynamoDBWriteActivityAlert"] == "ALARM"
    alarm_mails = [m for m in cloud.inbox() if m["subject"].startswith("ALARM")]
    assert [m["subject"] for m in alarm_mails] == [
        'ALARM: "DynamoDBWriteActivityAlert" in US East (N. Virginia)']
    assert alarm_mails[0]["to"] == "learner@example.com"
    assert "DynamoDBWriteActivityAlert" in alarm_mails[0]["body"]

    # Silence does not clear a DynamoDB alarm (missing data is ignored) ...
    cloud.clock.advance(minutes=5)
    assert alarms.alarm_states(cloud)["DynamoDBWriteActivityAlert"] == "ALARM"
    # ... a new datapoint below the threshold does, with a second email.
    s3.upload(cloud, "one more.txt", "calm again")
    cloud.clock.advance(minutes=1)
    assert alarms.alarm_states(cloud)["DynamoDBWriteActivityAlert"] == "OK"
    subjects = [m["subject"] for m in cloud.inbox() if not m["subject"].startswith("AWS Notification")]
    assert subjects == ['ALARM: "DynamoDBWriteActivityAlert" in US East (N. Virginia)',
                        'OK: "DynamoDBWriteActivityAlert" in US East (N. Virginia)']

    # TTL: after 49 hours every item is swept, each with a REMOVE stream record by the service.
    cloud.clock.advance(hours=49)
    assert dynamodb.scan_items(cloud) == []
    streams = cloud.client("dynamodbstreams")
    stream_arn = dynamodb.stream_arn(cloud)
    shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]
    iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard["ShardId"],
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]
    removes = [r for r in records if r["eventName"] == "REMOVE"]
    assert len(removes) == len(AWKWARD_KEYS) + 1
    assert all(r["userIdentity"] == {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}
               for r in removes)
    assert all(r["awsRegion"] == "us-east-1" for r in removes)
    assert set(alarm_mails[0]) == {"to", "subject", "body", "time", "topic_arn", "message_id"}
