"""DynamoDB TTL in the local cloud: the sweep on clock ticks, its records, moto's records fixed."""

from __future__ import annotations

import datetime as dt
import re

import boto3
import pytest
from botocore.config import Config

import lab
from lab import localcloud, mock
from lab.localcloud import hooks, ttl

RECORD_KEYS = {"eventID", "eventName", "eventVersion", "eventSource", "awsRegion", "dynamodb"}


@pytest.fixture(scope="module")
def cloud():
    """One moto mock in eu-west-1 for the module; each test uses its own table."""
    mock.stop()
    connection = lab.connect("moto", region="eu-west-1", quiet=True)
    yield connection
    mock.stop()


@pytest.fixture
def name(request):
    return request.node.name.replace("test_", "", 1)[:200]


def make_table(conn, name, *, view="NEW_AND_OLD_IMAGES", enable_ttl=True):
    ddb = conn.client("dynamodb")
    ddb.create_table(TableName=name, KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST",
                     StreamSpecification={"StreamEnabled": True, "StreamViewType": view})
    if enable_ttl:
        ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={
            "Enabled": True, "AttributeName": "ttl"})
    return ddb


def put(ddb, table, key, **attributes):
    ddb.put_item(TableName=table, Item={"k": {"S": key}, **attributes})


def keys(ddb, table):
    items = ddb.scan(TableName=table, ConsistentRead=True)["Items"]
    return sorted(item["k"]["S"] for item in items)


def stream_records(conn, table):
    """Every record of the table's stream shard, through the DynamoDB Streams API."""
    # botocore 1.44 addresses streams at <account>.streams-ddb.<region>, which moto 5.2.5 does
    # not route; the classic endpoint reaches the same moto backend.
    streams = boto3.client("dynamodbstreams", region_name=conn.region,
                           config=Config(account_id_endpoint_mode="disabled"))
    arn = conn.client("dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    return streams.get_records(ShardIterator=iterator)["Records"]


def write_units(conn, table):
    now = conn.clock.now()
    points = conn.client("cloudwatch").get_metric_statistics(
        Namespace="AWS/DynamoDB", MetricName="ConsumedWriteCapacityUnits",
        Dimensions=[{"Name": "TableName", "Value": table}], Period=60, Statistics=["Sum"],
        StartTime=now - dt.timedelta(days=3), EndTime=now + dt.timedelta(minutes=1))["Datapoints"]
    return sum(point["Sum"] for point in points)


def test_hook_point_resolves_and_is_patched(cloud):
    for point in ttl.HOOK_POINTS:
        hooks.resolve(point)
        assert hooks.is_patched(point), point


def test_is_expired_follows_the_aws_rules():
    now = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.timezone.utc)
    epoch = now.timestamp()
    assert ttl.is_expired(epoch - 1, now)
    assert not ttl.is_expired(epoch, now)  # expired means strictly before now
    assert not ttl.is_expired(epoch + 86400, now)
    assert not ttl.is_expired(None, now)
    assert ttl.is_expired(epoch - 5 * 365 * 86400, now)
    assert not ttl.is_expired(epoch - 5 * 365 * 86400 - 1, now)  # > 5 years ago: ignored


def test_expired_items_stay_readable_until_a_tick_sweeps_them(cloud, name):
    ddb = make_table(cloud, name)
    now = int(cloud.clock.time())
    put(ddb, name, "expired", ttl={"N": str(now - 60)})
    put(ddb, name, "tomorrow", ttl={"N": str(now + 86400)})
    put(ddb, name, "text", ttl={"S": str(now - 60)})
    put(ddb, name, "set", ttl={"NS": [str(now - 60)]})
    put(ddb, name, "none")
    put(ddb, name, "ancient", ttl={"N": str(now - 6 * 365 * 86400)})
    put(ddb, name, "decimal", ttl={"N": f"{now - 1}.5"})
    assert "Item" in ddb.get_item(TableName=name, Key={"k": {"S": "expired"}})
    cloud.clock.advance(seconds=1)
    assert keys(ddb, name) == ["ancient", "none", "set", "text", "tomorrow"]
    cloud.clock.advance(days=1, seconds=1)
    assert keys(ddb, name) == ["ancient", "none", "set", "text"]


def test_ttl_deletions_write_service_remove_records_and_consume_nothing(cloud, name):
    ddb = make_table(cloud, name)
    now = int(cloud.clock.time())
    put(ddb, name, "a", ttl={"N": str(now + 3600)}, size={"N": "42"})
    units_before = write_units(cloud, name)
    ddb.delete_item(TableName=name, Key={"k": {"S": "by-hand"}})  # a user's delete: 1 unit
    cloud.clock.advance(hours=2)
    assert keys(ddb, name) == []
    assert write_units(cloud, name) == units_before + 1.0  # the user's delete only
    inserted, removed = stream_records(cloud, name)
    assert inserted["eventName"] == "INSERT" and set(inserted) == RECORD_KEYS
    assert set(removed) == RECORD_KEYS | {"userIdentity"}
    assert removed["userIdentity"] == {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}
    assert removed["eventName"] == "REMOVE"
    assert removed["eventSource"] == "aws:dynamodb" and removed["eventVersion"] == "1.1"
    assert removed["awsRegion"] == "eu-west-1"
    assert re.fullmatch(r"[0-9a-f]{32}", removed["eventID"])
    body = removed["dynamodb"]
    assert set(body) == {"ApproximateCreationDateTime", "Keys", "OldImage", "SequenceNumber",
                         "SizeBytes", "StreamViewType"}
    assert body["Keys"] == {"k": {"S": "a"}}
    assert body["OldImage"] == {"k": {"S": "a"}, "ttl": {"N": str(now + 3600)}, "size": {"N": "42"}}
    assert body["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert int(body["SequenceNumber"]) > int(inserted["dynamodb"]["SequenceNumber"])
    swept_at = body["ApproximateCreationDateTime"]
    assert abs(swept_at - cloud.clock.now()) < dt.timedelta(seconds=5)  # the local clock's time
    assert swept_at.microsecond == 0
    assert swept_at - inserted["dynamodb"]["ApproximateCreationDateTime"] >= dt.timedelta(hours=2)


def test_new_image_streams_remove_records_carry_keys_only(cloud, name):
    ddb = make_table(cloud, name, view="NEW_IMAGE")  # the seed's stream view
    put(ddb, name, "a", ttl={"N": str(int(cloud.clock.time()) - 5)})
    cloud.clock.advance(seconds=1)
    removed = stream_records(cloud, name)[-1]
    assert removed["eventName"] == "REMOVE" and "userIdentity" in removed
    assert set(removed["dynamodb"]) == {"ApproximateCreationDateTime", "Keys", "SequenceNumber",
                                        "SizeBytes", "StreamViewType"}


def test_tables_without_ttl_keep_expired_items(cloud, name):
    ddb = make_table(cloud, name, enable_ttl=False)
    put(ddb, name, "old", ttl={"N": str(int(cloud.clock.time()) - 5)})
    cloud.clock.advance(days=3)
    assert keys(ddb, name) == ["old"]
    assert "userIdentity" not in stream_records(cloud, name)[-1]


def test_every_stream_record_names_the_tables_region_and_stream(cloud, name):
    ddb = make_table(cloud, name)
    put(ddb, name, "a")
    ddb.update_item(TableName=name, Key={"k": {"S": "a"}}, UpdateExpression="SET v = :v",
                    ExpressionAttributeValues={":v": {"N": "1"}})
    records = stream_records(cloud, name)
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY"]
    assert {r["awsRegion"] for r in records} == {"eu-west-1"}  # moto alone writes us-east-1
    assert all(set(r) == RECORD_KEYS for r in records)
    from moto.dynamodb.models import dynamodb_backends

    table = dynamodb_backends[cloud.account_id][cloud.region].get_table(name)
    arn = ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    assert {r.record["eventSourceARN"] for r in table.stream_shard.items} == {arn}


def test_sweeps_run_at_most_once_a_second_of_clock_time(cloud, name):
    ddb = make_table(cloud, name)
    cloud.clock.advance(seconds=1)  # a sweep just ran
    put(ddb, name, "soon", ttl={"N": str(int(cloud.clock.time()) - 1)})
    cloud.clock.run_due()  # a tick within the same second: no second sweep yet
    assert keys(ddb, name) == ["soon"]
    assert ttl.sweep(localcloud.current()) == 1  # an explicit sweep does not wait
    assert keys(ddb, name) == []


def test_writes_that_a_removal_triggers_are_not_the_services(cloud, name, monkeypatch):
    ddb = make_table(cloud, name)
    put(ddb, name, "trigger", ttl={"N": str(int(cloud.clock.time()) - 5)})
    from moto.dynamodb.models import dynamodb_backends

    table = dynamodb_backends[cloud.account_id][cloud.region].get_table(name)
    shard, add = table.stream_shard, table.stream_shard.add

    def add_then_react(old, new):  # like a function the REMOVE record invokes, writing back
        add(old, new)
        if new is None:
            table.put_item({"k": {"S": "reaction"}})

    monkeypatch.setattr(shard, "add", add_then_react)
    cloud.clock.advance(seconds=1)
    removed, reaction = stream_records(cloud, name)[-2:]
    assert removed["eventName"] == "REMOVE" and "userIdentity" in removed
    assert reaction["eventName"] == "INSERT" and "userIdentity" not in reaction
