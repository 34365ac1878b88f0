"""S3ToDynamoProcessor: record each S3 object event in DynamoDB exactly once.

S3 invokes this function with a batch of event records (``{"Records": [...]}``). For
every object-created or object-removed record it writes one item to the table named by
``TABLE_NAME`` (default ``S3ObjectEvents``) with the seed lab's attributes —
``objectId``, ``bucket``, ``objectKey``, ``timestamp`` and ``ttl`` (epoch seconds) —
plus ``size``, ``eTag``, ``eventName`` and ``eventTime`` when the record carries them.
DynamoDB's TTL deletes the item ``TTL_SECONDS`` (default 86400, one day) after it was
written.

What it improves over the seed's code (lesson 04 quotes both):

* The object key is URL-decoded. S3 sends keys URL-encoded with ``+`` for spaces, so the
  seed stored ``my+file.txt`` for ``my file.txt`` (and ``a%2Bb`` for ``a+b``).
* Writes are idempotent. S3 delivers an event at least once and Lambda retries a failed
  invocation twice, so the same record can arrive again. The seed's random ``uuid4``
  made every delivery a new item; here ``objectId`` is derived from the event itself and
  the write is conditional, so a redelivery is counted as a duplicate and stores
  nothing.
* Failures are loud, never lost. A record that is not an S3 object event (including the
  ``s3:TestEvent`` message S3 sends when notifications are set up) is skipped with one
  JSON warning line instead of crashing the whole batch; a DynamoDB error that survives
  boto3's retries is raised so that Lambda retries the event, and the records already
  stored come back as duplicates.
* Configuration comes from environment variables, read at every invocation, and each
  item's ``ttl`` is computed from the same clock reading as its ``timestamp``.

It imports only the standard library and boto3: it is deployed as a zip of ``handler/``
to the python3.12 runtime (handler ``lambda_function.lambda_handler``) and must not
depend on ``lab/``.
"""

# No `from __future__ import annotations`: a loader that does not register this file in
# sys.modules would make @dataclass fail on string annotations.
import functools
import json
import os
import time
import urllib.parse
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import ClientError

DEFAULT_TABLE_NAME = "S3ObjectEvents"
DEFAULT_TTL_SECONDS = 86400
HANDLED_EVENT_TYPES = ("ObjectCreated", "ObjectRemoved")
# Fixed, so that the same event always gets the same id.
OBJECT_ID_NAMESPACE = uuid.UUID("6f1e4f0c-5d3a-5b8e-9c47-2a1d3e5f7b90")


class SkipRecord(Exception):
    """A record this function does not handle; the message is the reason logged."""


@dataclass(frozen=True)
class ObjectEvent:
    """The fields of one S3 object event record that the function uses (key decoded)."""

    bucket: str
    key: str
    event_name: str | None = None
    event_time: str | None = None
    size: int | None = None
    etag: str | None = None
    version_id: str | None = None
    sequencer: str | None = None


def records_of(event: Any) -> list[Any]:
    """Return the records of an event; a message without ``Records`` is one record.

    S3's ``s3:TestEvent`` message and any other payload without a ``Records`` list are
    returned as a single record, so that they are skipped (and logged) like any other
    foreign record.
    """
    if isinstance(event, Mapping) and isinstance(event.get("Records"), list):
        return list(event["Records"])
    return [event]


def parse_record(record: Any) -> ObjectEvent:
    """Return the object event a record describes.

    Raises:
        SkipRecord: the record is not an S3 object-created/removed record; the message
            says why.
    """
    if not isinstance(record, Mapping):
        raise SkipRecord(f"record is a {type(record).__name__}, not a JSON object")
    if record.get("Event") == "s3:TestEvent":
        raise SkipRecord(
            "s3:TestEvent (S3 sends it once when a notification is configured)")
    source = record.get("eventSource")
    if source != "aws:s3":
        raise SkipRecord(f"eventSource is {source!r}, not 'aws:s3'")
    event_name = _optional(record, "eventName", str, "eventName")
    if event_name is not None and event_name.split(":")[0] not in HANDLED_EVENT_TYPES:
        raise SkipRecord(
            f"eventName {event_name!r} is not an ObjectCreated/ObjectRemoved event")
    s3 = _required(record, "s3", Mapping, "s3")
    bucket_info = _required(s3, "bucket", Mapping, "s3.bucket")
    bucket = _required(bucket_info, "name", str, "s3.bucket.name")
    obj = _required(s3, "object", Mapping, "s3.object")
    raw_key = _required(obj, "key", str, "s3.object.key")
    if not bucket:
        raise SkipRecord("s3.bucket.name is empty")
    if not raw_key:
        raise SkipRecord("s3.object.key is empty")
    size = _optional(obj, "size", int, "s3.object.size")
    if isinstance(size, bool) or (size is not None and size < 0):
        raise SkipRecord(f"s3.object.size is {size!r}, not a byte count")
    return ObjectEvent(
        bucket=bucket,
        # S3 encodes the key like an HTML form value (spaces become "+", a literal
        # "+" becomes "%2B"); unquote_plus reverses exactly that. The seed stored
        # the encoded form.
        key=urllib.parse.unquote_plus(raw_key),
        event_name=event_name,
        event_time=_optional(record, "eventTime", str, "eventTime"),
        size=size,
        etag=_optional(obj, "eTag", str, "s3.object.eTag"),
        version_id=_optional(obj, "versionId", str, "s3.object.versionId"),
        sequencer=_optional(obj, "sequencer", str, "s3.object.sequencer"),
    )


def object_id(event: ObjectEvent) -> str:
    """Return the item id of an event: a UUID derived from what identifies the event.

    Bucket, key and versionId name the object version; S3's sequencer orders the
    events of one key, so two uploads of the same key get two ids while a redelivered
    event gets the same id. Without a sequencer (older or hand-made events) the event
    name, time and eTag stand in.
    """
    if event.sequencer is not None:
        identity = [event.bucket, event.key, event.version_id, event.sequencer]
    else:
        identity = [event.bucket, event.key, event.version_id, event.event_name,
                    event.event_time, event.etag]
    name = json.dumps(identity, ensure_ascii=False)
    return str(uuid.uuid5(OBJECT_ID_NAMESPACE, name))


def item_for(event: ObjectEvent, *, now: int, ttl_seconds: int) -> dict[str, Any]:
    """Return the DynamoDB item for an event written at ``now`` (epoch seconds)."""
    item: dict[str, Any] = {
        "objectId": object_id(event),
        "bucket": event.bucket,
        "objectKey": event.key,
        "timestamp": now,
        "ttl": now + ttl_seconds,
    }
    optional = {
        "size": event.size,
        "eTag": event.etag,
        "eventName": event.event_name,
        "eventTime": event.event_time,
    }
    item.update({name: value for name, value in optional.items() if value is not None})
    return item


def settings(environ: Mapping[str, str]) -> tuple[str, int]:
    """Return ``(table_name, ttl_seconds)`` from the environment variables.

    Raises:
        ValueError: ``TTL_SECONDS`` is not a positive whole number of seconds.
    """
    table_name = environ.get("TABLE_NAME") or DEFAULT_TABLE_NAME
    raw_ttl = environ.get("TTL_SECONDS") or str(DEFAULT_TTL_SECONDS)
    try:
        ttl_seconds = int(raw_ttl)
    except ValueError:
        ttl_seconds = 0
    if ttl_seconds <= 0:
        raise ValueError(
            f"TTL_SECONDS must be a positive whole number of seconds, got {raw_ttl!r}")
    return table_name, ttl_seconds


@functools.lru_cache(maxsize=None)
def table_for(name: str, region: str | None = None) -> Any:
    """Return the boto3 Table for a table name, made once and reused when warm."""
    return boto3.resource("dynamodb", region_name=region).Table(name)


def put_once(table: Any, item: Mapping[str, Any]) -> bool:
    """Write an item unless its ``objectId`` is stored already; False for a duplicate.

    Raises:
        botocore.exceptions.ClientError: any other DynamoDB error, after boto3's own
            retries.
    """
    try:
        table.put_item(Item=dict(item),
                       ConditionExpression="attribute_not_exists(objectId)")
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code")
        if code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def log(level: str, message: str, **fields: Any) -> None:
    """Print one JSON log line (CloudWatch Logs keeps each line as one event)."""
    print(json.dumps({"level": level, "message": message, **fields}))


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    """Store every S3 object event of the batch once; skip and log other records."""
    table_name, ttl_seconds = settings(os.environ)
    counts = {"stored": 0, "duplicates": 0, "skipped": 0}
    for index, record in enumerate(records_of(event)):
        try:
            parsed = parse_record(record)
        except SkipRecord as skip:
            log("WARNING", "skipped record", reason=str(skip), index=index)
            counts["skipped"] += 1
            continue
        item = item_for(parsed, now=int(time.time()), ttl_seconds=ttl_seconds)
        fields = {"objectId": item["objectId"], "bucket": parsed.bucket,
                  "key": parsed.key}
        if put_once(table_for(table_name, os.environ.get("AWS_REGION")), item):
            log("INFO", "stored object event", **fields)
            counts["stored"] += 1
        else:
            log("INFO", "duplicate event, already stored", **fields)
            counts["duplicates"] += 1
    body = ("{stored} item(s) stored, {duplicates} duplicate(s), "
            "{skipped} skipped").format(**counts)
    return {"statusCode": 200, **counts, "body": json.dumps(body)}


def _required(mapping: Mapping[str, Any], name: str, kind: type, path: str) -> Any:
    """Return ``mapping[name]``; SkipRecord when missing or not of the given kind."""
    if name not in mapping or mapping[name] is None:
        raise SkipRecord(f"{path} is missing")
    return _checked(mapping[name], kind, path)


def _optional(mapping: Mapping[str, Any], name: str, kind: type, path: str) -> Any:
    """Return ``mapping[name]``, None when absent; SkipRecord when of the wrong kind."""
    value = mapping.get(name)
    return None if value is None else _checked(value, kind, path)


def _checked(value: Any, kind: type, path: str) -> Any:
    """Return the value when it is of the given kind; raise SkipRecord otherwise."""
    if not isinstance(value, kind):
        names = {"Mapping": "JSON object", "str": "string", "int": "integer"}
        expected = names.get(kind.__name__, kind.__name__)
        raise SkipRecord(f"{path} is a {type(value).__name__}, not a {expected}")
    return value
