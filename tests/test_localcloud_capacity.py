"""DynamoDB capacity in the local cloud: item sizes, ConsumedCapacity, metrics and throttling."""

from __future__ import annotations

import datetime as dt

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

import lab
from lab import localcloud, mock
from lab.localcloud import capacity, hooks
from lab.localcloud.capacity import (
    Bucket, attribute_size, item_size, number_size, read_units, write_units,
)

THROTTLE_MESSAGE = ("The level of configured provisioned throughput for the table was exceeded. "
                    "Consider increasing your provisioning level with the UpdateTable API.")
KB = 1024


@pytest.fixture(scope="module")
def cloud():
    """One moto mock for the module (starting one costs ~0.6 s); each test uses its own tables."""
    mock.stop()
    connection = lab.connect("moto", quiet=True)
    yield connection
    mock.stop()


@pytest.fixture
def name(request):
    """A table name of this test's own, so tests sharing the mock do not meet."""
    return request.node.name.replace("test_", "", 1)[:200]


def make_table(conn, name, *, wcu=5, on_demand=False, **extra):
    kwargs = dict(TableName=name, KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                  AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}], **extra)
    if on_demand:
        kwargs["BillingMode"] = "PAY_PER_REQUEST"
    else:
        kwargs["ProvisionedThroughput"] = {"ReadCapacityUnits": 5, "WriteCapacityUnits": wcu}
    conn.client("dynamodb").create_table(**kwargs)
    return name


def sized(key, size):
    """An item of exactly ``size`` bytes: key ``k`` plus a padding string ``p``."""
    base = item_size({"k": {"S": key}}) + len("p")
    return {"k": {"S": key}, "p": {"S": "x" * (size - base)}}


def no_retries(conn):
    """A DynamoDB client that shows throttling instead of retrying (total_max_attempts=1)."""
    return boto3.client("dynamodb", region_name=conn.region,
                        config=Config(retries={"mode": "standard", "total_max_attempts": 1}))


def metric_sum(conn, metric, table):
    now = conn.clock.now()
    points = conn.client("cloudwatch").get_metric_statistics(
        Namespace="AWS/DynamoDB", MetricName=metric,
        Dimensions=[{"Name": "TableName", "Value": table}],
        StartTime=now - dt.timedelta(minutes=30), EndTime=now + dt.timedelta(minutes=1),
        Period=60, Statistics=["Sum"])["Datapoints"]
    return sum(point["Sum"] for point in points) if points else None


def burst(client, count, table, prefix="b"):
    """Write ``count`` 1-unit items quickly; return (stored keys, throttling errors)."""
    stored, errors = [], []
    for i in range(count):
        try:
            client.put_item(TableName=table, Item={"k": {"S": f"{prefix}{i}"}})
            stored.append(f"{prefix}{i}")
        except ClientError as error:
            errors.append(error)
    return stored, errors


def moto_table(conn, name):
    """moto's own Table object (to look at what the local cloud keeps)."""
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[conn.account_id][conn.region].get_table(name)


# -- sizes: "DynamoDB item sizes and formats" ------------------------------------------------

@pytest.mark.parametrize(("number", "size"), [
    ("7", 2), ("-7", 2), ("12", 2), ("123", 3), ("12.30", 3), ("1000", 2), ("0.00123", 3),
    ("100.001", 4), ("1.5E3", 2), ("0", 1), ("9" * 38, 20),
])
def test_number_size_is_one_byte_per_two_significant_digits_plus_one(number, size):
    assert number_size(number) == size


@pytest.mark.parametrize(("value", "size"), [
    ({"S": "hello"}, 5),
    ({"S": "héllo"}, 6),  # é is two UTF-8 bytes
    ({"S": "数据"}, 6),
    ({"S": "🙂"}, 4),
    ({"B": b"\x00\x01\x02"}, 3),
    ({"B": "AAEC"}, 3),  # base64 on the wire, raw bytes counted
    ({"BOOL": False}, 1),
    ({"NULL": True}, 1),
    ({"SS": ["ab", "c"]}, 3),
    ({"NS": ["1", "22", "333"]}, 7),
    ({"BS": [b"ab", b"c"]}, 3),
    ({"L": []}, 3),
    ({"M": {}}, 3),
    ({"L": [{"S": "ab"}, {"N": "1"}]}, 3 + (1 + 2) + (1 + 2)),
    ({"M": {"a": {"BOOL": True}}}, 3 + 1 + 1 + 1),
    ({"M": {"list": {"L": [{"M": {"é": {"S": "x"}}}]}}}, 3 + 1 + 4 + (3 + 1 + (3 + 1 + 2 + 1))),
])
def test_attribute_sizes(value, size):
    assert attribute_size(value) == size


def test_item_size_adds_utf8_names_to_value_sizes():
    item = {"objectId": {"S": "0" * 36}, "bucket": {"S": "event-driven-lab"},
            "objectKey": {"S": "photos/cat 1.jpg"}, "timestamp": {"N": "1764060000"},
            "ttl": {"N": "1764146400"}, "größe": {"N": "1024"}}
    # 1764060000 keeps 6 significant digits (4 bytes), 1764146400 keeps 8 (5 bytes).
    assert item_size(item) == (8 + 36) + (6 + 16) + (9 + 16) + (9 + 4) + (3 + 5) + (7 + 3)
    assert item_size({}) == 0
    assert item_size({"id": {"S": "uniqueIdString"}}) == 2 + 14
    assert item_size({"caféName": {"S": "Mocca"}}) == 9 + 5  # bytes, not characters


def test_stored_items_measure_the_same_as_dynamodb_json(cloud, name):
    make_table(cloud, name)
    item = {"k": {"S": "ü"}, "n": {"N": "-12.50"}, "b": {"B": b"\xff" * 5},
            "m": {"M": {"l": {"L": [{"SS": ["a", "bb"]}, {"NULL": True}]}}}}
    cloud.client("dynamodb").put_item(TableName=name, Item=item)
    from moto.dynamodb.models.dynamo_type import DynamoType

    table = moto_table(cloud, name)
    expected = (1 + 2) + (1 + 3) + (1 + 5) + (1 + 3 + (1 + 1 + 3 + (1 + 3) + (1 + 1)))
    assert item_size(table.get_item(DynamoType({"S": "ü"})).attrs) == item_size(item) == expected


@pytest.mark.parametrize("value", [{"X": "?"}, {"S": "a", "N": "1"}, "plain", 3])
def test_attribute_size_rejects_what_is_not_an_attribute_value(value):
    with pytest.raises(ValueError):
        attribute_size(value)


def test_documented_unit_examples():
    # Writes: one unit per started KB, at least one; transactions double it.
    assert write_units(0) == write_units(500) == write_units(KB) == 1.0
    assert write_units(KB + 1) == 2.0
    assert write_units(3500) == 4.0
    assert write_units(KB, transactional=True) == 2.0
    # Reads: "reading a 3,500-byte item consumes the same throughput as reading a 4 KB item".
    assert read_units(3500, consistent=True) == read_units(4 * KB, consistent=True) == 1.0
    assert read_units(3500) == 0.5
    # "If your item size is 8 KB, you require 2 read units ... 1 ... 4 for a transactional read".
    assert read_units(8 * KB, consistent=True) == 2.0
    assert read_units(8 * KB) == 1.0
    assert read_units(8 * KB, transactional=True) == 4.0
    # "If you read a 10 KB item, DynamoDB rounds the item size to 12 KB."
    assert read_units(10 * KB, consistent=True) == 3.0
    # BatchGetItem of 1.5 KB + 6.5 KB: 4 KB + 8 KB = 12 KB, not 8 KB.
    per_item = read_units(1536, consistent=True) + read_units(6656, consistent=True)
    assert per_item == 3.0 != read_units(1536 + 6656, consistent=True)


def test_bucket_refills_at_wcu_per_second_up_to_300_seconds():
    bucket = Bucket(table=None, wcu=2, tokens=0.0, stamp=100.0)
    bucket.refill(103.5)
    assert bucket.tokens == 7.0
    bucket.refill(10_000.0)
    assert bucket.tokens == 600.0
    bucket.refill(9_000.0)  # time never runs backwards for the bucket
    assert bucket.tokens == 600.0


def test_every_hook_point_resolves_and_is_patched(cloud):
    for point in capacity.HOOK_POINTS:
        hooks.resolve(point)
        assert hooks.is_patched(point), point


# -- ReturnConsumedCapacity ------------------------------------------------------------------

def test_put_item_answers_the_larger_of_old_and_new_item(cloud, name):
    make_table(cloud, name)
    ddb = cloud.client("dynamodb")
    first = ddb.put_item(TableName=name, Item=sized("a", 2500), ReturnConsumedCapacity="TOTAL")
    assert first["ConsumedCapacity"] == {"TableName": name, "CapacityUnits": 3.0}
    smaller = ddb.put_item(TableName=name, Item=sized("a", 100), ReturnConsumedCapacity="INDEXES")
    assert smaller["ConsumedCapacity"] == {"TableName": name, "CapacityUnits": 3.0,
                                           "Table": {"CapacityUnits": 3.0}}
    again = ddb.put_item(TableName=name, Item=sized("a", 100), ReturnConsumedCapacity="TOTAL")
    assert again["ConsumedCapacity"]["CapacityUnits"] == 1.0
    assert "ConsumedCapacity" not in ddb.put_item(TableName=name, Item=sized("b", 10))


def test_update_item_answers_the_larger_image_and_nothing_unless_asked(cloud, name):
    make_table(cloud, name)
    ddb = cloud.client("dynamodb")
    ddb.put_item(TableName=name, Item={"k": {"S": "a"}})
    grow = ddb.update_item(TableName=name, Key={"k": {"S": "a"}}, UpdateExpression="SET p = :p",
                           ExpressionAttributeValues={":p": {"S": "x" * 2100}},
                           ReturnConsumedCapacity="TOTAL")
    assert grow["ConsumedCapacity"] == {"TableName": name, "CapacityUnits": 3.0}
    shrink = ddb.update_item(TableName=name, Key={"k": {"S": "a"}}, UpdateExpression="REMOVE p",
                             ReturnConsumedCapacity="TOTAL")
    assert shrink["ConsumedCapacity"]["CapacityUnits"] == 3.0  # the old image was larger
    quiet = ddb.update_item(TableName=name, Key={"k": {"S": "a"}}, UpdateExpression="SET q = :q",
                            ExpressionAttributeValues={":q": {"N": "1"}})
    assert set(quiet) == {"ResponseMetadata"}  # moto alone always answered ConsumedCapacity


def test_delete_item_answers_the_deleted_item_or_one_unit(cloud, name):
    make_table(cloud, name)
    ddb = cloud.client("dynamodb")
    ddb.put_item(TableName=name, Item=sized("a", 3 * KB))
    gone = ddb.delete_item(TableName=name, Key={"k": {"S": "a"}}, ReturnConsumedCapacity="TOTAL")
    assert gone["ConsumedCapacity"] == {"TableName": name, "CapacityUnits": 3.0}
    absent = ddb.delete_item(TableName=name, Key={"k": {"S": "a"}}, ReturnConsumedCapacity="TOTAL")
    assert absent["ConsumedCapacity"]["CapacityUnits"] == 1.0


def test_batch_write_counts_each_item_on_its_own(cloud, name):
    make_table(cloud, name)
    other = make_table(cloud, name + "-other")
    ddb = cloud.client("dynamodb")
    ddb.put_item(TableName=name, Item=sized("old", 1500))
    answer = ddb.batch_write_item(RequestItems={
        name: [{"PutRequest": {"Item": sized("a", 600)}},
                   {"PutRequest": {"Item": sized("b", 2500)}},
                   {"DeleteRequest": {"Key": {"k": {"S": "old"}}}}],
        other: [{"PutRequest": {"Item": sized("c", 10)}}],
    }, ReturnConsumedCapacity="TOTAL")
    assert answer["ConsumedCapacity"] == [{"TableName": name, "CapacityUnits": 6.0},
                                          {"TableName": other, "CapacityUnits": 1.0}]
    assert answer["UnprocessedItems"] == {}
    quiet = ddb.batch_write_item(RequestItems={name: [{"PutRequest": {"Item": sized("d", 5)}}]})
    assert "ConsumedCapacity" not in quiet


def test_transact_write_costs_twice(cloud, name):
    make_table(cloud, name)
    ddb = cloud.client("dynamodb")
    answer = ddb.transact_write_items(TransactItems=[
        {"Put": {"TableName": name, "Item": sized("a", 1500)}},
        {"Put": {"TableName": name, "Item": sized("b", 100)}},
    ], ReturnConsumedCapacity="TOTAL")
    assert answer["ConsumedCapacity"] == [{"TableName": name, "CapacityUnits": 6.0}]
    assert metric_sum(cloud, "ConsumedWriteCapacityUnits", name) == 6.0


def test_reads_answer_read_units(cloud, name):
    make_table(cloud, name)
    ddb = cloud.client("dynamodb")
    for key, size in (("a", 1536), ("b", 6656), ("c", 2048)):
        ddb.put_item(TableName=name, Item=sized(key, size))
    get = ddb.get_item(TableName=name, Key={"k": {"S": "b"}}, ReturnConsumedCapacity="TOTAL")
    assert get["ConsumedCapacity"] == {"TableName": name, "CapacityUnits": 1.0}
    missing = ddb.get_item(TableName=name, Key={"k": {"S": "zz"}}, ConsistentRead=True,
                           ReturnConsumedCapacity="TOTAL")
    assert missing["ConsumedCapacity"]["CapacityUnits"] == 1.0
    batch = ddb.batch_get_item(RequestItems={name: {
        "Keys": [{"k": {"S": "a"}}, {"k": {"S": "b"}}], "ConsistentRead": True}},
        ReturnConsumedCapacity="TOTAL")
    assert batch["ConsumedCapacity"] == [{"TableName": name, "CapacityUnits": 3.0}]
    # A scan pays for every item it reads, also those its filter then drops: 10 KB → 12 KB.
    scan = ddb.scan(TableName=name, FilterExpression="k = :k", ConsistentRead=True,
                    ExpressionAttributeValues={":k": {"S": "a"}}, ReturnConsumedCapacity="TOTAL")
    assert scan["Count"] == 1 and scan["ScannedCount"] == 3
    assert scan["ConsumedCapacity"] == {"TableName": name, "CapacityUnits": 3.0}
    query = ddb.query(TableName=name, KeyConditionExpression="k = :k",
                      ExpressionAttributeValues={":k": {"S": "c"}},
                      ReturnConsumedCapacity="INDEXES")
    assert query["ConsumedCapacity"] == {"TableName": name, "CapacityUnits": 0.5,
                                         "Table": {"CapacityUnits": 0.5}}
    assert metric_sum(cloud, "ConsumedReadCapacityUnits", name) == 1.0 + 1.0 + 3.0 + 3.0 + 0.5


def test_query_on_a_global_index_answers_the_index(cloud, name):
    ddb = cloud.client("dynamodb")
    ddb.create_table(
        TableName=name, KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"},
                              {"AttributeName": "bucket", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        GlobalSecondaryIndexes=[{"IndexName": "byBucket",
                                 "KeySchema": [{"AttributeName": "bucket", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "ALL"}}])
    ddb.put_item(TableName=name, Item={"k": {"S": "a"}, "bucket": {"S": "lab"}})
    answer = ddb.query(TableName=name, IndexName="byBucket", KeyConditionExpression="bucket = :b",
                       ExpressionAttributeValues={":b": {"S": "lab"}},
                       ReturnConsumedCapacity="INDEXES")
    assert answer["Count"] == 1
    assert answer["ConsumedCapacity"] == {
        "TableName": name, "CapacityUnits": 0.5, "Table": {"CapacityUnits": 0.0},
        "GlobalSecondaryIndexes": {"byBucket": {"CapacityUnits": 0.5}}}


# -- metrics ---------------------------------------------------------------------------------

def test_write_metrics_sum_the_units_per_minute(cloud, name):
    make_table(cloud, name)
    ddb = cloud.client("dynamodb")
    ddb.put_item(TableName=name, Item=sized("a", 2 * KB + 1))
    ddb.put_item(TableName=name, Item=sized("b", 10))
    ddb.delete_item(TableName=name, Key={"k": {"S": "nothing"}})
    assert metric_sum(cloud, "ConsumedWriteCapacityUnits", name) == 5.0
    assert metric_sum(cloud, "WriteThrottleEvents", name) is None  # only when throttling happens
    cloud.clock.advance(minutes=2)
    ddb.put_item(TableName=name, Item=sized("c", 10))
    now = cloud.clock.now()
    points = cloud.client("cloudwatch").get_metric_statistics(
        Namespace="AWS/DynamoDB", MetricName="ConsumedWriteCapacityUnits",
        Dimensions=[{"Name": "TableName", "Value": name}], Unit="Count",
        StartTime=now - dt.timedelta(minutes=10), EndTime=now + dt.timedelta(minutes=1),
        Period=60, Statistics=["Sum", "SampleCount"])["Datapoints"]
    by_minute = sorted((p["Timestamp"], p["Sum"], p["SampleCount"]) for p in points)
    assert [(s, n) for _, s, n in by_minute] == [(5.0, 3.0), (1.0, 1.0)]
    assert by_minute[1][0] - by_minute[0][0] == dt.timedelta(minutes=2)
    metrics = cloud.client("cloudwatch").list_metrics(
        Namespace="AWS/DynamoDB", Dimensions=[{"Name": "TableName", "Value": name}])["Metrics"]
    # ListMetrics returns every metric holding the filter's dimensions (AWS: "match all of the
    # specified filter dimensions"): the request latency has an Operation dimension besides.
    assert {m["MetricName"] for m in metrics} == {"ConsumedWriteCapacityUnits",
                                                  "SuccessfulRequestLatency"}
    assert all(m["Dimensions"] == [{"Name": "TableName", "Value": name}] for m in metrics
               if m["MetricName"] == "ConsumedWriteCapacityUnits")


def test_failed_condition_still_consumes_the_existing_items_units(cloud, name):
    make_table(cloud, name)
    ddb = cloud.client("dynamodb")
    ddb.put_item(TableName=name, Item=sized("a", 2 * KB))
    with pytest.raises(ClientError) as caught:
        ddb.put_item(TableName=name, Item=sized("a", 10),
                     ConditionExpression="attribute_not_exists(k)")
    assert caught.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert metric_sum(cloud, "ConsumedWriteCapacityUnits", name) == 2.0 + 2.0


def test_errors_before_the_write_consume_nothing(cloud, name):
    make_table(cloud, name)
    ddb = cloud.client("dynamodb")
    with pytest.raises(ClientError) as caught:
        ddb.put_item(TableName="Missing", Item={"k": {"S": "a"}})
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as caught:
        ddb.put_item(TableName=name, Item={"other": {"S": "a"}})
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert metric_sum(cloud, "ConsumedWriteCapacityUnits", name) is None


# -- throttling ------------------------------------------------------------------------------

def test_a_burst_throttles_a_one_wcu_table(cloud, name):
    make_table(cloud, name, wcu=1)
    client = no_retries(cloud)
    stored, errors = burst(client, 20, name)
    assert 10 <= len(stored) <= 12 and len(errors) == 20 - len(stored)  # 10 s of 1 WCU, + real time
    error = errors[0].response["Error"]
    assert error == {"Code": "ProvisionedThroughputExceededException", "Message": THROTTLE_MESSAGE}
    assert errors[0].response["ResponseMetadata"]["HTTPStatusCode"] == 400
    throttled = {f"b{i}" for i in range(20)} - set(stored)
    for key in throttled:  # a throttled write is not applied
        assert "Item" not in client.get_item(TableName=name, Key={"k": {"S": key}})
    assert metric_sum(cloud, "WriteThrottleEvents", name) == len(errors)
    assert metric_sum(cloud, "ConsumedWriteCapacityUnits", name) == len(stored)


def test_the_bucket_refills_as_the_clock_advances(cloud, name):
    make_table(cloud, name, wcu=1)
    client = no_retries(cloud)
    burst(client, 15, name)
    cloud.clock.advance(seconds=5)
    stored, errors = burst(client, 8, name, prefix="after")
    assert 5 <= len(stored) <= 7 and errors  # 5 s of 1 WCU (+ real time)
    cloud.clock.advance(minutes=10)  # burst capacity: at most 300 s of unused capacity
    bucket = capacity.bucket(localcloud.current(), moto_table(cloud, name))
    assert 299.0 <= bucket.tokens <= 300.0


def test_on_demand_and_five_wcu_tables_take_a_lesson_burst(cloud, name):
    on_demand = make_table(cloud, name + "-od", on_demand=True)
    seed = make_table(cloud, name + "-seed", wcu=5)
    client = no_retries(cloud)
    assert burst(client, 40, on_demand)[1] == []
    assert burst(client, 12, seed)[1] == []
    assert metric_sum(cloud, "WriteThrottleEvents", seed) is None
    assert metric_sum(cloud, "ConsumedWriteCapacityUnits", on_demand) == 40.0


def test_update_table_changes_the_throttle(cloud, name):
    make_table(cloud, name, wcu=1)
    ddb, client = cloud.client("dynamodb"), no_retries(cloud)
    assert burst(client, 15, name)[1]
    ddb.update_table(TableName=name,
                     ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5})
    assert burst(client, 12, name, prefix="five")[1] == []
    ddb.update_table(TableName=name, BillingMode="PAY_PER_REQUEST")
    assert burst(client, 60, name, prefix="od")[1] == []
    ddb.update_table(TableName=name, BillingMode="PROVISIONED",
                     ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1})
    stored, errors = burst(client, 15, name, prefix="one")
    assert 10 <= len(stored) <= 12 and errors


def test_batch_write_returns_throttled_items_unprocessed(cloud, name):
    make_table(cloud, name, wcu=1)
    client = no_retries(cloud)
    requests = [{"PutRequest": {"Item": {"k": {"S": f"i{i}"}}}} for i in range(15)]
    answer = client.batch_write_item(RequestItems={name: requests}, ReturnConsumedCapacity="TOTAL")
    unprocessed = answer["UnprocessedItems"].get(name, [])
    assert 3 <= len(unprocessed) <= 5 and unprocessed == requests[15 - len(unprocessed):]
    applied = 15.0 - len(unprocessed)
    assert answer["ConsumedCapacity"] == [{"TableName": name, "CapacityUnits": applied}]
    assert client.scan(TableName=name)["Count"] == 15 - len(unprocessed)
    assert metric_sum(cloud, "WriteThrottleEvents", name) == len(unprocessed)
    with pytest.raises(ClientError) as caught:
        client.batch_write_item(RequestItems={name: requests[:3]})
    assert caught.value.response["Error"]["Code"] == "ProvisionedThroughputExceededException"


def test_boto3_retries_wait_for_the_bucket_to_refill(cloud, name):
    make_table(cloud, name, wcu=4)  # 40 units to start, 4 more each real second
    stored, errors = burst(no_retries(cloud), 60, name)
    assert errors
    patient = boto3.client("dynamodb", region_name=cloud.region,
                           config=Config(retries={"mode": "standard", "max_attempts": 10}))
    answer = patient.put_item(TableName=name, Item={"k": {"S": "patient"}})
    retries = answer["ResponseMetadata"]["RetryAttempts"]
    assert retries >= 1
    assert "Item" in patient.get_item(TableName=name, Key={"k": {"S": "patient"}})
    assert metric_sum(cloud, "WriteThrottleEvents", name) == len(errors) + retries
