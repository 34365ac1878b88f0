"""Tests of handler/lambda_function.py: pure parsing and ids, then writes against plain moto."""

from __future__ import annotations

import importlib.util
import json
import re
import time
import types
import unicodedata
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import given, settings
from hypothesis import strategies as st
from moto import mock_aws

HANDLER_PATH = Path(__file__).resolve().parent.parent / "handler" / "lambda_function.py"
REGION = "us-east-1"
ACCOUNT = "123456789012"
BUCKET = f"event-driven-lab-{ACCOUNT}"
UUID5 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
ITEM_KEYS = {"objectId", "bucket", "objectKey", "timestamp", "ttl", "size", "eTag", "eventName", "eventTime"}
FIXED_NOW = 1_764_060_207  # 2025-11-25T08:43:27Z


def load_handler(name: str = "lambda_function") -> types.ModuleType:
    """Load handler/lambda_function.py as a new module object: a cold start with an empty cache."""
    spec = importlib.util.spec_from_file_location(name, HANDLER_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # not registered in sys.modules: the handler must not need it
    return module


@pytest.fixture
def fn() -> types.ModuleType:
    """A freshly loaded handler module."""
    return load_handler()


@pytest.fixture(scope="module")
def shared_fn() -> types.ModuleType:
    """One handler module for property tests (hypothesis runs many examples per test)."""
    return load_handler()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch):
    """Plain moto (no local cloud) in us-east-1 with no handler environment variables set."""
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.delenv("TABLE_NAME", raising=False)
    monkeypatch.delenv("TTL_SECONDS", raising=False)
    with mock_aws():
        yield boto3.resource("dynamodb", region_name=REGION)


def create_table(dynamodb: Any, name: str = "S3ObjectEvents") -> Any:
    """Create the seed's table (partition key objectId) and return it."""
    return dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "objectId", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "objectId", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def s3_record(
    key: str,
    *,
    bucket: str = BUCKET,
    event_name: str = "ObjectCreated:Put",
    event_time: str = "2025-11-25T08:43:27.123Z",
    size: int | None = 11,
    etag: str | None = "5eb63bbbe01eeed093cb22bb8f5acdc3",
    sequencer: str | None = "0069256C1F1D5B2A4E",
    version_id: str | None = None,
) -> dict[str, Any]:
    """An S3 event record as S3 sends it (notification-content-structure, eventVersion 2.1)."""
    obj: dict[str, Any] = {"key": quote_plus(key, safe="/")}
    for name, value in (("size", size), ("eTag", etag), ("versionId", version_id), ("sequencer", sequencer)):
        if value is not None:
            obj[name] = value
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": REGION,
        "eventTime": event_time,
        "eventName": event_name,
        "userIdentity": {"principalId": "AWS:AIDAJDPLRKLG7UEXAMPLE"},
        "requestParameters": {"sourceIPAddress": "203.0.113.7"},
        "responseElements": {
            "x-amz-request-id": "C3D13FE58DE4C810",
            "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD",
        },
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "S3ToDynamoProcessorTrigger",
            "bucket": {
                "name": bucket,
                "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                "arn": f"arn:aws:s3:::{bucket}",
            },
            "object": obj,
        },
    }


def s3_test_event(bucket: str = BUCKET) -> dict[str, Any]:
    """The message S3 sends once when a notification is configured (it has no Records)."""
    return {
        "Service": "Amazon S3",
        "Event": "s3:TestEvent",
        "Time": "2025-11-25T08:43:27.123Z",
        "Bucket": bucket,
        "RequestId": "C3D13FE58DE4C810",
        "HostId": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD",
    }


def log_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """Every line the handler printed, each parsed as JSON (fails when a line is not JSON)."""
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def items(table: Any) -> list[dict[str, Any]]:
    """Every item of a table, sorted by key for stable comparisons."""
    return sorted(table.scan()["Items"], key=lambda item: (item["objectKey"], item["eventTime"]))


# --- pure functions: no AWS --------------------------------------------------------------------

@pytest.mark.parametrize(
    ("key", "encoded"),
    [
        ("my file.txt", "my+file.txt"),
        ("a+b.txt", "a%2Bb.txt"),
        ("100%.txt", "100%25.txt"),
        ("café/été.csv", "caf%C3%A9/%C3%A9t%C3%A9.csv"),
        ("party 🎉.png", "party+%F0%9F%8E%89.png"),
        ("cafe\u0301.txt", "cafe%CC%81.txt"),  # é as e + COMBINING ACUTE ACCENT (NFD)
        ("dir/sub dir/x=1&y=2?.txt", "dir/sub+dir/x%3D1%26y%3D2%3F.txt"),
    ],
)
def test_parse_record_decodes_the_url_encoded_key(fn: types.ModuleType, key: str, encoded: str) -> None:
    record = s3_record(key)
    assert record["s3"]["object"]["key"] == encoded  # what S3 puts in the event
    assert fn.parse_record(record).key == key


def test_an_encoded_slash_decodes_too(fn: types.ModuleType) -> None:
    record = s3_record("x")
    record["s3"]["object"]["key"] = quote_plus("dir/sub dir/a b.txt")  # moto also encodes "/" as %2F
    assert record["s3"]["object"]["key"] == "dir%2Fsub+dir%2Fa+b.txt"
    assert fn.parse_record(record).key == "dir/sub dir/a b.txt"


def test_combining_marks_are_kept_not_normalised(fn: types.ModuleType) -> None:
    decomposed = "cafe\u0301.txt"
    key = fn.parse_record(s3_record(decomposed)).key
    assert key == decomposed
    assert key != unicodedata.normalize("NFC", decomposed)  # S3 keys are bytes: NFC would be another object


def test_a_1024_byte_key_the_s3_maximum_round_trips(fn: types.ModuleType) -> None:
    key = "k/" + "é" * 511
    assert len(key.encode("utf-8")) == 1024
    assert fn.parse_record(s3_record(key)).key == key


def test_the_seed_stored_the_encoded_key(fn: types.ModuleType) -> None:
    record = s3_record("my file.txt")
    seed_key = record["s3"]["object"]["key"]  # the seed's record['s3']['object']['key']
    assert seed_key == "my+file.txt"
    assert fn.parse_record(record).key == "my file.txt"


@settings(max_examples=200, deadline=None)
@given(key=st.text(alphabet=st.characters(exclude_categories=("Cs",)), min_size=1, max_size=60))
def test_any_key_round_trips_through_s3_encoding(shared_fn: types.ModuleType, key: str) -> None:
    assert shared_fn.parse_record(s3_record(key)).key == key


def test_parse_record_reads_every_field(fn: types.ModuleType) -> None:
    record = s3_record("reports/q3 2025.csv", version_id="3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY")
    assert fn.parse_record(record) == fn.ObjectEvent(
        bucket=BUCKET,
        key="reports/q3 2025.csv",
        event_name="ObjectCreated:Put",
        event_time="2025-11-25T08:43:27.123Z",
        size=11,
        etag="5eb63bbbe01eeed093cb22bb8f5acdc3",
        version_id="3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY",
        sequencer="0069256C1F1D5B2A4E",
    )


def test_parse_record_accepts_a_removed_event_without_size_or_etag(fn: types.ModuleType) -> None:
    record = s3_record("gone.txt", event_name="ObjectRemoved:Delete", size=None, etag=None)
    parsed = fn.parse_record(record)
    assert (parsed.key, parsed.event_name, parsed.size, parsed.etag) == ("gone.txt", "ObjectRemoved:Delete", None, None)


def _without(path: tuple[str, ...]) -> dict[str, Any]:
    record = s3_record("a.txt")
    parent = record
    for name in path[:-1]:
        parent = parent[name]
    del parent[path[-1]]
    return record


def _with(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    record = s3_record("a.txt")
    parent = record
    for name in path[:-1]:
        parent = parent[name]
    parent[path[-1]] = value
    return record


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (None, "record is a NoneType, not a JSON object"),
        ("ObjectCreated:Put a.txt", "record is a str, not a JSON object"),
        ([s3_record("a.txt")], "record is a list, not a JSON object"),
        (s3_test_event(), "s3:TestEvent (S3 sends it once when a notification is configured)"),
        ({}, "eventSource is None, not 'aws:s3'"),
        (_with(("eventSource",), "aws:sqs"), "eventSource is 'aws:sqs', not 'aws:s3'"),
        (_without(("eventSource",)), "eventSource is None, not 'aws:s3'"),
        (_with(("eventName",), "ObjectRestore:Completed"),
         "eventName 'ObjectRestore:Completed' is not an ObjectCreated/ObjectRemoved event"),
        (_with(("eventName",), "ObjectTagging:Put"),
         "eventName 'ObjectTagging:Put' is not an ObjectCreated/ObjectRemoved event"),
        (_with(("eventName",), 7), "eventName is a int, not a string"),
        (_without(("s3",)), "s3 is missing"),
        (_with(("s3",), "bucket"), "s3 is a str, not a JSON object"),
        (_without(("s3", "bucket")), "s3.bucket is missing"),
        (_without(("s3", "bucket", "name")), "s3.bucket.name is missing"),
        (_with(("s3", "bucket", "name"), ""), "s3.bucket.name is empty"),
        (_without(("s3", "object")), "s3.object is missing"),
        (_without(("s3", "object", "key")), "s3.object.key is missing"),
        (_with(("s3", "object", "key"), None), "s3.object.key is missing"),
        (_with(("s3", "object", "key"), ""), "s3.object.key is empty"),
        (_with(("s3", "object", "key"), 42), "s3.object.key is a int, not a string"),
        (_with(("s3", "object", "size"), "11"), "s3.object.size is a str, not a integer"),
        (_with(("s3", "object", "size"), -1), "s3.object.size is -1, not a byte count"),
        (_with(("s3", "object", "size"), True), "s3.object.size is True, not a byte count"),
        (_with(("s3", "object", "eTag"), ["x"]), "s3.object.eTag is a list, not a string"),
        (_with(("s3", "object", "sequencer"), 17), "s3.object.sequencer is a int, not a string"),
    ],
)
def test_parse_record_skips_what_is_not_an_s3_object_event(fn: types.ModuleType, record: Any, reason: str) -> None:
    with pytest.raises(fn.SkipRecord) as skipped:
        fn.parse_record(record)
    assert str(skipped.value) == reason


def test_records_of(fn: types.ModuleType) -> None:
    first, second = s3_record("a.txt"), s3_record("b.txt")
    assert fn.records_of({"Records": [first, second]}) == [first, second]
    assert fn.records_of({"Records": []}) == []
    assert fn.records_of(s3_test_event()) == [s3_test_event()]  # no Records: the message is one record
    assert fn.records_of({"Records": "nope"}) == [{"Records": "nope"}]
    assert fn.records_of(None) == [None]


def test_object_id_is_a_deterministic_uuid5(fn: types.ModuleType) -> None:
    event = fn.parse_record(s3_record("a.txt"))
    assert UUID5.match(fn.object_id(event))
    assert fn.object_id(event) == fn.object_id(fn.parse_record(s3_record("a.txt")))
    loaded_again = load_handler()  # another cold start computes the same id
    assert loaded_again.object_id(loaded_again.parse_record(s3_record("a.txt"))) == fn.object_id(event)


def test_object_id_tells_events_apart(fn: types.ModuleType) -> None:
    def oid(key: str = "a.txt", **fields: Any) -> str:
        return fn.object_id(fn.parse_record(s3_record(key, **fields)))

    ids = {
        oid(),
        oid(sequencer="0069256C1F1D5B2A4F"),  # a second upload of the same key
        oid(version_id="v2"),
        oid(bucket="other-bucket"),
        oid("b.txt"),
        oid("A.txt"),
    }
    assert len(ids) == 6
    assert oid(event_time="2030-01-01T00:00:00.000Z", etag="ffff") == oid()  # sequencer wins when present
    # bucket and key are kept apart: "ab" + "c" is not "a" + "bc"
    assert oid("c", bucket="ab") != oid("bc", bucket="a")


def test_object_id_falls_back_to_event_time_and_etag_without_a_sequencer(fn: types.ModuleType) -> None:
    def oid(**fields: Any) -> str:
        return fn.object_id(fn.parse_record(s3_record("a.txt", sequencer=None, **fields)))

    assert oid() == oid()
    assert oid(event_time="2025-11-25T08:43:28.000Z") != oid()
    assert oid(etag="0" * 32) != oid()
    assert oid(event_name="ObjectRemoved:Delete", etag=None, size=None) != oid(etag=None, size=None)


def test_item_for_has_the_seed_fields_and_the_event_fields(fn: types.ModuleType) -> None:
    event = fn.parse_record(s3_record("my file.txt"))
    item = fn.item_for(event, now=FIXED_NOW, ttl_seconds=86400)
    assert set(item) == ITEM_KEYS
    assert item == {
        "objectId": fn.object_id(event),
        "bucket": BUCKET,
        "objectKey": "my file.txt",
        "timestamp": FIXED_NOW,
        "ttl": FIXED_NOW + 86400,
        "size": 11,
        "eTag": "5eb63bbbe01eeed093cb22bb8f5acdc3",
        "eventName": "ObjectCreated:Put",
        "eventTime": "2025-11-25T08:43:27.123Z",
    }
    assert type(item["timestamp"]) is int and type(item["ttl"]) is int


def test_item_for_leaves_out_what_the_record_lacks(fn: types.ModuleType) -> None:
    event = fn.parse_record(s3_record("gone.txt", event_name="ObjectRemoved:Delete", size=None, etag=None))
    assert set(fn.item_for(event, now=FIXED_NOW, ttl_seconds=60)) == ITEM_KEYS - {"size", "eTag"}


def test_settings_defaults_and_overrides(fn: types.ModuleType) -> None:
    assert fn.settings({}) == ("S3ObjectEvents", 86400)
    assert fn.settings({"TABLE_NAME": "", "TTL_SECONDS": ""}) == ("S3ObjectEvents", 86400)
    assert fn.settings({"TABLE_NAME": "Other", "TTL_SECONDS": "60"}) == ("Other", 60)


@pytest.mark.parametrize("ttl", ["abc", "0", "-5", "1.5"])
def test_settings_rejects_a_bad_ttl(fn: types.ModuleType, ttl: str) -> None:
    with pytest.raises(ValueError, match=rf"^TTL_SECONDS must be a positive whole number of seconds, got '{ttl}'$"):
        fn.settings({"TTL_SECONDS": ttl})


# --- against moto ------------------------------------------------------------------------------

def test_a_mixed_batch_stores_the_good_records_and_logs_the_skipped(
    fn: types.ModuleType, aws: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    table = create_table(aws)
    monkeypatch.setattr(fn, "time", types.SimpleNamespace(time=lambda: FIXED_NOW + 0.9))
    event = {
        "Records": [
            s3_record("my file.txt"),
            {**s3_record("queued.txt"), "eventSource": "aws:sqs"},
            "not a record",
            _without(("s3", "object", "key")),
            s3_record("café 🎉.txt", sequencer="0069256C1F1D5B2A50", event_time="2025-11-25T08:43:28.000Z"),
        ]
    }

    result = fn.lambda_handler(event, None)

    assert result == {
        "statusCode": 200,
        "stored": 2,
        "duplicates": 0,
        "skipped": 3,
        "body": json.dumps("2 item(s) stored, 0 duplicate(s), 3 skipped"),
    }
    stored = items(table)
    assert [item["objectKey"] for item in stored] == ["café 🎉.txt", "my file.txt"]
    for item in stored:
        assert set(item) == ITEM_KEYS
        assert UUID5.match(item["objectId"])
        assert (item["timestamp"], item["ttl"]) == (FIXED_NOW, FIXED_NOW + 86400)

    lines = log_lines(capsys)
    assert len(lines) == 5  # one line per record
    warnings = [line for line in lines if line["level"] == "WARNING"]
    assert warnings == [
        {"level": "WARNING", "message": "skipped record", "reason": "eventSource is 'aws:sqs', not 'aws:s3'", "index": 1},
        {"level": "WARNING", "message": "skipped record", "reason": "record is a str, not a JSON object", "index": 2},
        {"level": "WARNING", "message": "skipped record", "reason": "s3.object.key is missing", "index": 3},
    ]
    infos = [line for line in lines if line["level"] == "INFO"]
    ids = {item["objectKey"]: item["objectId"] for item in stored}
    assert infos == [
        {"level": "INFO", "message": "stored object event", "objectId": ids["my file.txt"],
         "bucket": BUCKET, "key": "my file.txt"},
        {"level": "INFO", "message": "stored object event", "objectId": ids["café 🎉.txt"],
         "bucket": BUCKET, "key": "café 🎉.txt"},
    ]


def test_the_s3_test_event_is_skipped_without_touching_dynamodb(
    fn: types.ModuleType, aws: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # No table exists: any DynamoDB call would raise ResourceNotFoundException.
    result = fn.lambda_handler(s3_test_event(), None)

    assert (result["stored"], result["duplicates"], result["skipped"]) == (0, 0, 1)
    assert log_lines(capsys) == [{
        "level": "WARNING",
        "message": "skipped record",
        "reason": "s3:TestEvent (S3 sends it once when a notification is configured)",
        "index": 0,
    }]


def test_a_duplicate_delivery_stores_one_item(
    fn: types.ModuleType, aws: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    table = create_table(aws)
    event = {"Records": [s3_record("report.pdf")]}

    first = fn.lambda_handler(event, None)
    again = fn.lambda_handler(json.loads(json.dumps(event)), None)  # redelivered: an equal, new object

    assert (first["stored"], first["duplicates"]) == (1, 0)
    assert (again["stored"], again["duplicates"], again["skipped"]) == (0, 1, 0)
    assert again["body"] == json.dumps("0 item(s) stored, 1 duplicate(s), 0 skipped")
    [item] = items(table)
    stored_line, duplicate_line = log_lines(capsys)
    assert stored_line["message"] == "stored object event"
    assert duplicate_line == {"level": "INFO", "message": "duplicate event, already stored",
                              "objectId": item["objectId"], "bucket": BUCKET, "key": "report.pdf"}


def test_a_record_repeated_inside_one_batch_is_a_duplicate(fn: types.ModuleType, aws: Any) -> None:
    table = create_table(aws)
    result = fn.lambda_handler({"Records": [s3_record("x.txt"), s3_record("x.txt")]}, None)
    assert (result["stored"], result["duplicates"]) == (1, 1)
    assert len(items(table)) == 1


def test_two_uploads_of_the_same_key_are_two_items(fn: types.ModuleType, aws: Any) -> None:
    table = create_table(aws)
    fn.lambda_handler({"Records": [s3_record("data.csv", sequencer="0069256C1F1D5B2A4E")]}, None)
    fn.lambda_handler({"Records": [s3_record("data.csv", sequencer="0069256C1F1D5B2A6F",
                                             event_time="2025-11-25T08:44:01.456Z", etag="0" * 32)]}, None)

    stored = items(table)
    assert [item["objectKey"] for item in stored] == ["data.csv", "data.csv"]
    assert stored[0]["objectId"] != stored[1]["objectId"]
    assert [item["eventTime"] for item in stored] == ["2025-11-25T08:43:27.123Z", "2025-11-25T08:44:01.456Z"]


def test_defaults_are_the_seed_table_and_one_day(fn: types.ModuleType, aws: Any) -> None:
    table = create_table(aws)
    fn.lambda_handler({"Records": [s3_record("a.txt")]}, None)
    [item] = items(table)
    assert item["ttl"] - item["timestamp"] == 86400


def test_table_name_and_ttl_come_from_the_environment_at_each_invocation(
    fn: types.ModuleType, aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = create_table(aws, "EventsA"), create_table(aws, "EventsB")
    monkeypatch.setattr(fn, "time", types.SimpleNamespace(time=lambda: float(FIXED_NOW)))

    monkeypatch.setenv("TABLE_NAME", "EventsA")
    monkeypatch.setenv("TTL_SECONDS", "60")
    fn.lambda_handler({"Records": [s3_record("a.txt")]}, None)
    monkeypatch.setenv("TABLE_NAME", "EventsB")  # same warm module, new configuration
    monkeypatch.setenv("TTL_SECONDS", "3600")
    fn.lambda_handler({"Records": [s3_record("b.txt")]}, None)

    [a] = items(first)
    [b] = items(second)
    assert (a["objectKey"], a["timestamp"], a["ttl"]) == ("a.txt", FIXED_NOW, FIXED_NOW + 60)
    assert (b["objectKey"], b["timestamp"], b["ttl"]) == ("b.txt", FIXED_NOW, FIXED_NOW + 3600)


def test_timestamp_is_the_clock_at_invocation(fn: types.ModuleType, aws: Any) -> None:
    table = create_table(aws)
    before = int(time.time())
    fn.lambda_handler({"Records": [s3_record("a.txt")]}, None)
    after = int(time.time())
    [item] = items(table)
    assert before <= item["timestamp"] <= after
    assert item["ttl"] == item["timestamp"] + 86400


def test_the_table_is_created_once_per_name_and_reused_warm(fn: types.ModuleType, aws: Any) -> None:
    assert fn.table_for("EventsA", REGION) is fn.table_for("EventsA", REGION)
    assert fn.table_for("EventsA", REGION) is not fn.table_for("EventsB", REGION)
    assert fn.table_for("EventsA", REGION).name == "EventsA"


def test_a_bad_ttl_fails_the_invocation_before_any_write(
    fn: types.ModuleType, aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = create_table(aws)
    monkeypatch.setenv("TTL_SECONDS", "one day")
    with pytest.raises(ValueError, match="TTL_SECONDS"):
        fn.lambda_handler({"Records": [s3_record("a.txt")]}, None)
    assert items(table) == []


def test_a_missing_table_raises_so_lambda_retries(
    fn: types.ModuleType, aws: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ClientError) as raised:
        fn.lambda_handler({"Records": [s3_record("a.txt")]}, None)
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert log_lines(capsys) == []  # nothing claims to be stored


def test_a_throttled_write_raises_and_the_retry_completes_the_batch(
    fn: types.ModuleType, aws: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    table = create_table(aws)
    handler_table = fn.table_for("S3ObjectEvents", REGION)  # the very object the handler will use
    real_put_item = handler_table.put_item
    calls: list[str] = []

    def put_item_throttled_on_second_call(**kwargs: Any) -> Any:
        calls.append(kwargs["Item"]["objectKey"])
        if len(calls) == 2:
            raise ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException",
                           "Message": "The level of configured provisioned throughput for the table was exceeded."}},
                "PutItem",
            )
        return real_put_item(**kwargs)

    monkeypatch.setattr(handler_table, "put_item", put_item_throttled_on_second_call)
    event = {"Records": [s3_record("one.txt"), s3_record("two.txt", sequencer="0069256C1F1D5B2A99")]}

    with pytest.raises(ClientError) as raised:
        fn.lambda_handler(event, None)
    assert raised.value.response["Error"]["Code"] == "ProvisionedThroughputExceededException"
    assert [item["objectKey"] for item in items(table)] == ["one.txt"]

    retried = fn.lambda_handler(event, None)  # Lambda's retry of the same event

    assert (retried["stored"], retried["duplicates"], retried["skipped"]) == (1, 1, 0)
    assert [item["objectKey"] for item in items(table)] == ["one.txt", "two.txt"]
    assert calls == ["one.txt", "two.txt", "one.txt", "two.txt"]
    assert [line["message"] for line in log_lines(capsys)] == [
        "stored object event", "duplicate event, already stored", "stored object event"]


def test_only_conditional_check_failures_count_as_duplicates(fn: types.ModuleType) -> None:
    class Table:
        def __init__(self, code: str) -> None:
            self.code = code

        def put_item(self, **kwargs: Any) -> None:
            assert kwargs["ConditionExpression"] == "attribute_not_exists(objectId)"
            raise ClientError({"Error": {"Code": self.code, "Message": "x"}}, "PutItem")

    assert fn.put_once(Table("ConditionalCheckFailedException"), {"objectId": "x"}) is False
    for code in ("ValidationException", "ProvisionedThroughputExceededException", "AccessDeniedException"):
        with pytest.raises(ClientError):
            fn.put_once(Table(code), {"objectId": "x"})


def test_every_line_of_the_handler_fits_a_jupyterlab_code_view():
    """Lesson 04 shows the file: lines over ~92 characters wrap mid-word in JupyterLab."""
    from pathlib import Path

    source = Path(__file__).resolve().parent.parent / "handler" / "lambda_function.py"
    long_lines = [(number, len(line)) for number, line in
                  enumerate(source.read_text(encoding="utf-8").splitlines(), 1) if len(line) > 88]
    assert long_lines == []
