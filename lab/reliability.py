"""Reliability scenarios: each proves a promise of the lab at a given size and returns its figures.

The lab promises that the pipeline never loses an upload, that mistakes get clear answers, that
it never spends money by accident and that cleanup leaves nothing. Every scenario here runs on
the moto backend against the real pipeline and returns a plain dict of figures (what was tried,
what held, ``lost``, ``duplicates`` …). ``tests/test_reliability*.py`` assert them; ``main()``
(``eventlab reliability``) prints them. ``EVENTLAB_FULL=1`` selects the full sizes.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import io
import json
import os
import re
import sys
import time
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import Any
from urllib.parse import unquote_plus

from lab import awslambda, dynamodb, logs, s3
from lab import reliability_kernels as kernels
from lab.aws import wait_until
from lab.connection import Lab
from lab.errors import WaitTimeout

SAMPLE = MappingProxyType({"key_examples": 25, "malformed_examples": 15, "burst": 25, "good": 9,
                           "poison": 3, "redelivered": 5, "deliveries": 3, "slow": 1})
FULL = MappingProxyType({"key_examples": 300, "malformed_examples": 150, "burst": 250, "good": 80,
                         "poison": 20, "redelivered": 50, "deliveries": 5, "slow": 3})
S3_KEY_LIMIT = 1024  # bytes of UTF-8
MOTO_MISREAD_KEY = re.compile(r"/[^/]*//")  # see key_strategy(): keys moto's parser can fail on
POISON_PREFIX, SLOW_PREFIX = "poison/", "slow/"
FAULT_MODULE = "reliability_faults"
FAULT_TIMEOUT_SECONDS = 1  # Lambda's minimum: a timed-out attempt costs one real second
LAMBDA_ATTEMPTS = 3  # the first try and Lambda's two async retries
# The throttle scenario's SDK retries: legacy mode retries DynamoDB after 50 and 100 ms (standard
# mode, the default, sleeps a random 0-1 s then 0-2 s of real time), then Lambda's retries take over.
SDK_RETRIES = MappingProxyType({"AWS_RETRY_MODE": "legacy", "AWS_MAX_ATTEMPTS": "3"})
SDK_ATTEMPTS = int(SDK_RETRIES["AWS_MAX_ATTEMPTS"])
# AWS since 2025: a timed-out run's REPORT line ends with "Status: timeout" (no "Task timed out").
TIMEOUT_LINE = re.compile(r"REPORT RequestId: [0-9a-f-]{36}\t.*\tStatus: timeout")

# The test-only function variant: the real handler code plus faults chosen by the object key.
FAULT_SOURCE = '''"""A test-only S3ToDynamoProcessor, deployed by lab.reliability and never by a lesson.

It loads the real handler shipped next to it. A key starting with poison/ raises PoisonFile
before anything is stored; a key starting with slow/ is stored, then the run outlasts the
function's timeout (only when this run stored it: a retry finds the item, and returns).
"""
import importlib.util
import sys
import time
from pathlib import Path

_SPEC = importlib.util.spec_from_file_location(
    "_eventlab_real_handler", Path(__file__).with_name("lambda_function.py"))
real = importlib.util.module_from_spec(_SPEC)
sys.modules[_SPEC.name] = real
_SPEC.loader.exec_module(real)


class PoisonFile(Exception):
    """This test handler refuses the object."""


def _key(record):
    try:
        return real.parse_record(record).key
    except real.SkipRecord:
        return ""


def lambda_handler(event, context):
    keys = [_key(record) for record in real.records_of(event)]
    poison = [key for key in keys if key.startswith("poison/")]
    if poison:
        raise PoisonFile(f"refusing {poison[0]!r}, a poison file of the reliability suite")
    result = real.lambda_handler(event, context)
    if result.get("stored") and any(key.startswith("slow/") for key in keys):
        while True:  # past the timeout, after the write: Lambda stops the run
            time.sleep(0.01)
    return result
'''


def sizes() -> dict[str, int]:
    """The scenario sizes: CI's bounded sample, or the full run when ``EVENTLAB_FULL=1``."""
    return dict(FULL if os.environ.get("EVENTLAB_FULL") == "1" else SAMPLE)


# -- a lab to test ----------------------------------------------------------------------------

def fresh_lab() -> Lab:
    """A new moto mock with the whole pipeline built and the alert email confirmed."""
    import lab as package
    from lab import mock

    mock.stop()
    connection = package.connect("moto", quiet=True)
    connection.build_pipeline(quiet=True)
    connection.confirm_email()
    return connection


def metric_sum(lab: Lab, namespace: str, name: str, dimension: tuple[str, str]) -> float:
    """The Sum of an AWS/* metric over the last 30 days of the local clock, read through CloudWatch."""
    now = lab.clock.now()
    points = lab.client("cloudwatch").get_metric_statistics(
        Namespace=namespace, MetricName=name, Dimensions=[{"Name": dimension[0], "Value": dimension[1]}],
        StartTime=now - dt.timedelta(days=30), EndTime=now + dt.timedelta(minutes=1),
        Period=86400, Statistics=["Sum"])["Datapoints"]
    return sum(point["Sum"] for point in points)


def _lambda_metrics(lab: Lab) -> dict[str, float]:
    function = ("FunctionName", lab.names.function)
    return {name: metric_sum(lab, "AWS/Lambda", name, function) for name in ("Invocations", "Errors")}


def _delta(after: dict[str, float], before: dict[str, float]) -> dict[str, int]:
    return {name: int(after[name] - before[name]) for name in after}


def let_retries_run(lab: Lab, *, minutes: int = 4) -> None:
    """Advance the clock a minute at a time: Lambda retries after 1 and then 2 more minutes."""
    for _ in range(minutes):
        lab.clock.advance(minutes=1)


def _items_by_key(lab: Lab) -> collections.Counter[str]:
    return collections.Counter(str(item.get("objectKey")) for item in dynamodb.scan_items(lab))


# -- 1. bad input ------------------------------------------------------------------------------

def key_strategy() -> Any:
    """A hypothesis strategy of S3 object keys a learner might upload, up to the 1024-byte limit.

    Spaces, ``+``, ``%``, ``/``, ``=``, ``&``, unicode (accents, CJK, emoji, combining marks,
    right-to-left text) and keys padded to exactly 1024 UTF-8 bytes. Control characters and
    surrogates are left out (S3 advises against the former; the latter are not UTF-8). So are
    keys like ``/a//name`` (a leading ``/``, one segment, then ``//``): moto parses the request
    path ``//a//name`` twice as a URL, takes ``name`` for a host name and fails with UnicodeError
    when it is not a valid one (longer than 63 characters, say). AWS stores such keys.
    """
    from hypothesis import strategies as st

    awkward = st.sampled_from([" ", "+", "%", "/", "=", "&", "%2B", "+%20", "é", "e\u0301",
                               "\u0301", "🎉", "👩‍💻", "中文", "עברית", "~", "'", ";", ".."])
    characters = st.characters(blacklist_categories=("Cs", "Cc"))
    pieces = st.lists(st.one_of(awkward, st.text(characters, min_size=1, max_size=8)),
                      min_size=1, max_size=12).map("".join)
    at_limit = pieces.map(pad_to_limit)
    return st.one_of(pieces, at_limit).filter(
        lambda key: 0 < len(key.encode("utf-8")) <= S3_KEY_LIMIT and not MOTO_MISREAD_KEY.match(key))


def pad_to_limit(key: str) -> str:
    """``key`` cut or padded with ``x`` to exactly the 1024-byte limit (never splitting a character)."""
    while len(key.encode("utf-8")) > S3_KEY_LIMIT:
        key = key[:-1]
    return key + "x" * (S3_KEY_LIMIT - len(key.encode("utf-8")))


def upload_keys(lab: Lab, keys: list[str]) -> dict[str, Any]:
    """Upload ``keys`` (distinct) through the real pipeline; count their new items by key.

    A minute passes first, so the table's write capacity is full (throttling is another scenario).
    ``stored`` counts keys with exactly one new item whose ``objectKey`` is byte-equal to the key.
    The new items are deleted afterwards: the table stays small, so every example costs the same.
    """
    lab.clock.advance(minutes=1)
    before = {item["objectId"] for item in dynamodb.scan_items(lab)}
    for key in keys:
        s3.upload(lab, key, f"reliability body of {len(key)} characters")
    new = [item for item in dynamodb.scan_items(lab) if item["objectId"] not in before]
    for item in new:
        lab.client("dynamodb").delete_item(TableName=lab.names.table,
                                           Key={"objectId": {"S": item["objectId"]}})
    found = collections.Counter(item["objectKey"].encode("utf-8") for item in new)
    wanted = [key.encode("utf-8") for key in keys]
    return {
        "keys": len(keys),
        "longest_bytes": max((len(key) for key in wanted), default=0),
        "stored": sum(1 for key in wanted if found[key] == 1),
        "lost": sum(1 for key in wanted if found[key] == 0),
        "duplicates": sum(1 for key in wanted if found[key] > 1),
        "mismatched": sum(count for key, count in found.items() if key not in set(wanted)),
    }


BAD_EVENT_NAMES = ("ObjectTagging:Put", "LifecycleExpiration:Delete", "s3:ObjectCreated:Put",
                   "ReducedRedundancyLostObject", "Replication:OperationFailedReplication", "")


def _set(record: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    *parents, last = path.split(".")
    target = record
    for parent in parents:
        target = target[parent]
    if value is _DELETE:
        del target[last]
    else:
        target[last] = value
    return record


_DELETE = object()
# Each mutation makes a valid S3 object record invalid: (path, replacement strategy name).
MUTATIONS = (
    ("eventSource", "delete"), ("eventSource", "other source"), ("eventName", "bad event name"),
    ("s3", "delete"), ("s3", "not an object"), ("s3.bucket", "delete"), ("s3.bucket.name", "delete"),
    ("s3.bucket.name", "empty"), ("s3.bucket.name", "not a string"), ("s3.object", "delete"),
    ("s3.object", "not an object"), ("s3.object.key", "delete"), ("s3.object.key", "empty"),
    ("s3.object.key", "not a string"), ("s3.object.size", "negative"), ("s3.object.size", "boolean"),
    ("s3.object.size", "not a number"), ("s3.object.eTag", "not a string"),
    ("eventTime", "not a string"), ("s3.object.sequencer", "not a string"),
)


def malformed_record_strategy() -> Any:
    """A hypothesis strategy of records the handler must skip: each a function of a good record.

    Returns a strategy of ``make(good_record) -> bad record``: a mutation of the good record
    (a required field deleted, emptied or of the wrong type, a foreign event source or event
    name), S3's ``s3:TestEvent`` message, arbitrary JSON that is not an object, or an object
    without an ``eventSource``.
    """
    from hypothesis import strategies as st

    scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                        st.text(max_size=10))
    json_values = st.recursive(scalars, lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
        max_leaves=6)
    not_string = st.one_of(st.integers(), st.booleans(), st.lists(scalars, max_size=2),
                           st.dictionaries(st.text(max_size=4), scalars, max_size=2))
    replacements = {
        "delete": st.just(_DELETE), "empty": st.just(""), "not a string": not_string,
        "not an object": st.one_of(scalars.filter(lambda v: v is not None), st.lists(scalars, max_size=2)),
        "other source": st.text(max_size=12).filter(lambda v: v != "aws:s3"),
        "bad event name": st.sampled_from(BAD_EVENT_NAMES),
        "negative": st.integers(max_value=-1), "boolean": st.booleans(),
        "not a number": st.one_of(st.text(max_size=5), st.floats(allow_nan=False)),
    }
    mutations = st.sampled_from(MUTATIONS).flatmap(
        lambda mutation: replacements[mutation[1]].map(
            lambda value, path=mutation[0]: lambda good: _set(good, path, value)))
    foreign = st.one_of(
        st.just(lambda good: {"Service": "Amazon S3", "Event": "s3:TestEvent",
                              "Bucket": good["s3"]["bucket"]["name"]}),
        json_values.filter(lambda v: not isinstance(v, dict)).map(lambda value: lambda good: value),
        st.dictionaries(st.text(max_size=8).filter(lambda k: k not in ("eventSource", "Event")),
                        json_values, max_size=4).map(lambda value: lambda good: value),
    )
    return st.one_of(mutations, foreign)


def good_record(lab: Lab, key: str, serial: int) -> dict[str, Any]:
    """A complete S3 ObjectCreated:Put record for ``key`` in the lab's bucket, as S3 sends it."""
    from lab.localcloud import events

    bucket = lab.names.bucket
    occurrence = {"time": events.event_time(lab.clock.now()),
                  "principal": events.requester_id(lab.account_id),
                  "request_id": f"{serial:016X}", "host_id": f"reliability-{serial}",
                  "sequencer": f"{serial + (1 << 60):018X}"}
    return events.build_record(
        event_name="ObjectCreated:Put", occurrence=occurrence, region=lab.region, bucket_name=bucket,
        bucket_arn=s3.bucket_arn(lab), owner=events.owner_id(lab.account_id),
        configuration_id=s3.TRIGGER_ID, key=key, size=serial, etag=f"{serial:032x}")


def malformed_batch(lab: Lab, slots: list[Any], *, serial: int = 0) -> dict[str, Any]:
    """Invoke the function with one batch mixing good records and malformed ones.

    ``slots`` holds ``None`` for a good record (a fresh key each) or a function turning a good
    record into a malformed one (see :func:`malformed_record_strategy`). Returns what was stored
    and what was logged: every bad record must be logged once with a reason, every good one stored.
    """
    import copy

    records, good_keys, bad_indexes = [], [], []
    for index, slot in enumerate(slots):
        key = f"malformed-run/{serial}/good {index}+ü.txt"
        record = good_record(lab, key, serial * 1000 + index)
        if slot is None:
            good_keys.append(key)
            records.append(record)
        else:
            bad_indexes.append(index)
            records.append(slot(copy.deepcopy(record)))
    before = _items_by_key(lab)
    answer = awslambda.invoke(lab, {"Records": records})
    after = _items_by_key(lab)
    warnings = {}
    for line in logs.invocation_lines(lab, answer["RequestId"]):
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("level") == "WARNING" and entry.get("reason"):
            warnings[entry["index"]] = entry["reason"]
    result = answer["Result"] if isinstance(answer["Result"], dict) else {}
    return {
        "records": len(records), "good": len(good_keys), "malformed": len(bad_indexes),
        "crashes": 0 if answer["FunctionError"] is None else 1,
        "stored": sum(1 for key in good_keys if after[key] - before[key] == 1),
        "lost": sum(1 for key in good_keys if after[key] == before[key]),
        "duplicates": sum(1 for key in good_keys if after[key] - before[key] > 1),
        "logged": sum(1 for index in bad_indexes if index in warnings),
        "unexplained": sorted(set(warnings) - set(bad_indexes)),
        "reported_skipped": result.get("skipped"), "reported_stored": result.get("stored"),
    }


# -- 2. faults: a test variant of the function and its destinations -----------------------------

def fault_package() -> bytes:
    """The handler's zip plus ``reliability_faults.py`` (handler ``reliability_faults.lambda_handler``)."""
    buffer = io.BytesIO(awslambda.build_zip())
    with zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo(f"{FAULT_MODULE}.py", date_time=(1980, 1, 1, 0, 0, 0))
        info.external_attr = 0o644 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, FAULT_SOURCE)
    return buffer.getvalue()


@contextlib.contextmanager
def function_variant(lab: Lab, *, faults: bool = False, timeout: int | None = None,
                     environment: Mapping[str, str] | None = None) -> Iterator[None]:
    """Deploy a variant of the function under its own name (Lambda APIs); put the real one back after.

    Args:
        faults: deploy :data:`FAULT_SOURCE` as the handler (poison/ and slow/ keys).
        timeout: the function's timeout in seconds.
        environment: variables added to the function's own.
    """
    client = lab.client("lambda")
    name = lab.names.function
    awslambda.wait_until_ready(lab)  # Lambda refuses an update while another is in progress
    try:
        if faults:  # retried while Lambda still says an update is in progress (as on AWS)
            awslambda._update(lab, lambda: client.update_function_code(
                FunctionName=name, ZipFile=fault_package()), f"deploy a variant of {name}")
            awslambda.wait_until_ready(lab)
        settings: dict[str, Any] = {}
        if faults:
            settings["Handler"] = f"{FAULT_MODULE}.lambda_handler"
        if timeout is not None:
            settings["Timeout"] = timeout
        if environment:
            settings["Environment"] = {"Variables": {**awslambda.environment(lab), **environment}}
        if settings:
            awslambda._update(lab, lambda: client.update_function_configuration(
                FunctionName=name, **settings), f"configure a variant of {name}")
            awslambda.wait_until_ready(lab)
        yield
    finally:
        if awslambda.get_function(lab) is not None:
            awslambda.ensure_function(lab, quiet=True)


@contextlib.contextmanager
def destinations(lab: Lab) -> Iterator[dict[str, str]]:
    """SQS queues as the function's on-failure and on-success destinations; removed afterwards.

    Yields ``{"OnFailure": queue url, "OnSuccess": queue url}``.
    """
    from botocore.exceptions import ClientError

    sqs, client = lab.client("sqs"), lab.client("lambda")
    urls: dict[str, str] = {}
    try:
        arns = {}
        for kind in ("OnFailure", "OnSuccess"):
            urls[kind] = sqs.create_queue(QueueName=f"{lab.names.function}-reliability-{kind}")["QueueUrl"]
            arns[kind] = sqs.get_queue_attributes(QueueUrl=urls[kind], AttributeNames=["QueueArn"])[
                "Attributes"]["QueueArn"]
        client.put_function_event_invoke_config(
            FunctionName=lab.names.function, MaximumRetryAttempts=LAMBDA_ATTEMPTS - 1,
            DestinationConfig={kind: {"Destination": arn} for kind, arn in arns.items()})
        yield urls
    finally:
        try:
            client.delete_function_event_invoke_config(FunctionName=lab.names.function)
        except ClientError:
            pass  # the function (and its configuration) is already gone
        for url in urls.values():
            sqs.delete_queue(QueueUrl=url)


def drain(lab: Lab, queue_url: str) -> list[dict[str, Any]]:
    """Receive and delete every message of a destination queue; the invocation records, parsed."""
    sqs = lab.client("sqs")
    records = []
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return records
        records.extend(json.loads(message["Body"]) for message in messages)
        sqs.delete_message_batch(QueueUrl=queue_url, Entries=[
            {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)])


def record_keys(event: Any) -> list[str]:
    """The decoded object keys of an S3 event (as the handler decodes them)."""
    records = event.get("Records", []) if isinstance(event, dict) else []
    return [unquote_plus(record["s3"]["object"]["key"]) for record in records
            if isinstance(record, dict) and "s3" in record]


def reconcile(lab: Lab, keys: Iterable[str], failures: list[dict[str, Any]]) -> dict[str, Any]:
    """Account for every uploaded object: listed in the bucket, then in the table or the on-failure queue.

    ``lost``: an object in neither (or not even listed); ``duplicates``: an object counted more
    than once (two items, or an item and a failure record); ``unknown``: failure records or items
    under the scenario's keys' prefixes for objects never uploaded.
    """
    keys = list(keys)
    listed = set(s3.list_keys(lab)) & set(keys)
    stored = _items_by_key(lab)
    failed = collections.Counter(key for record in failures for key in record_keys(record["requestPayload"]))
    prefixes = {key.split("/")[0] + "/" for key in keys}
    strays = {key for key in list(stored) + list(failed)
              if key not in set(keys) and any(key.startswith(p) for p in prefixes)}
    counts = {key: stored[key] + failed[key] for key in keys}
    return {
        "objects": len(keys), "listed": len(listed),
        "stored": sum(1 for key in keys if stored[key] == 1 and not failed[key]),
        "in_destination": sum(1 for key in keys if failed[key] == 1 and not stored[key]),
        "lost": sum(1 for key in keys if counts[key] == 0 or key not in listed),
        "duplicates": sum(1 for key in keys if counts[key] > 1),
        "unknown": len(strays),
    }


def throttle_burst(lab: Lab, *, uploads: int) -> dict[str, Any]:
    """A burst of uploads against a 1-WCU table: nothing lost, nothing duplicated, the alarm emails.

    The table's burst balance is spent after about ten writes; a throttled write is retried by
    the SDK (twice, see :data:`SDK_RETRIES`), then by Lambda (after 1 and 2 minutes of clock),
    then lands in the on-failure queue, from which it is redriven once capacity is back.
    """
    table = ("TableName", lab.names.table)
    throttles_before = metric_sum(lab, "AWS/DynamoDB", "WriteThrottleEvents", table)
    lambda_before = _lambda_metrics(lab)
    mails_before = len(lab.inbox())
    keys = [f"burst/{n:04d} upload.txt" for n in range(uploads)]
    with destinations(lab) as queues, function_variant(lab, environment=SDK_RETRIES):
        dynamodb.set_write_capacity(lab, 1)
        for key in keys:
            s3.upload(lab, key, b"burst")
        stored = _items_by_key(lab)
        stored_at_once = sum(1 for key in keys if stored[key])
        let_retries_run(lab)
        failures = drain(lab, queues["OnFailure"])
        figures = reconcile(lab, keys, failures)
        throttled = int(metric_sum(lab, "AWS/DynamoDB", "WriteThrottleEvents", table) - throttles_before)
        runs = _delta(_lambda_metrics(lab), lambda_before)
        dynamodb.set_write_capacity(lab, dynamodb.DEFAULT_CAPACITY)
        lab.clock.advance(minutes=5)  # the new capacity's burst balance fills up
        for record in failures:  # redrive: what the destination kept, once capacity is back
            lab.client("lambda").invoke(FunctionName=lab.names.function, InvocationType="Event",
                                        Payload=json.dumps(record["requestPayload"]).encode())
        let_retries_run(lab)
        after_redrive = reconcile(lab, keys, drain(lab, queues["OnFailure"]))
        drain(lab, queues["OnSuccess"])
    mails = [m["subject"] for m in lab.inbox()[mails_before:]]
    return {
        **figures, "uploads": uploads, "stored_first_attempt": stored_at_once,
        "throttled_requests": throttled, "failed_invocations": runs["Errors"],
        "lambda_retries": runs["Invocations"] - uploads,
        "sdk_retries_that_succeeded": throttled - SDK_ATTEMPTS * runs["Errors"],
        "redriven": len(failures), "stored_after_redrive": after_redrive["stored"],
        "lost_after_redrive": after_redrive["lost"], "duplicates_after_redrive": after_redrive["duplicates"],
        "throttle_alarm_emails": sum(1 for subject in mails
                                     if subject.startswith(f'ALARM: "{lab.names.throttle_alarm}"')),
    }


def poison_files(lab: Lab, *, good: int, poison: int) -> dict[str, Any]:
    """Uploads the handler partly refuses: exactly those reach the on-failure queue, after 3 attempts."""
    before = _lambda_metrics(lab)
    good_keys = [f"poison-run/{n:04d} fine.txt" for n in range(good)]
    poison_keys = [f"{POISON_PREFIX}{n:04d} bad+file.txt" for n in range(poison)]
    keys = _interleave(good_keys, poison_keys)
    with destinations(lab) as queues, function_variant(lab, faults=True):
        for key in keys:
            s3.upload(lab, key, b"poison or not")
        let_retries_run(lab)
        failures = drain(lab, queues["OnFailure"])
        drain(lab, queues["OnSuccess"])
        figures = reconcile(lab, keys, failures)
    runs = _delta(_lambda_metrics(lab), before)
    return {
        **figures, "good": good, "poison": poison, "errors": runs["Errors"],
        "invocations": runs["Invocations"],
        "failed_keys_match": sorted(key for r in failures for key in record_keys(r["requestPayload"]))
        == sorted(poison_keys),
        "attempts_per_failure": sorted({r["requestContext"]["approximateInvokeCount"] for r in failures}),
        "conditions": sorted({r["requestContext"]["condition"] for r in failures}),
        "error_types": sorted({(r.get("responsePayload") or {}).get("errorType", "") for r in failures}),
    }


def duplicate_deliveries(lab: Lab, *, objects: int, deliveries: int) -> dict[str, Any]:
    """The exact event S3 sent, delivered ``deliveries`` times in all (async and sync): one item each."""
    keys = [f"redelivered/{n:04d} same event.txt" for n in range(objects)]
    answers = collections.Counter()
    with destinations(lab) as queues:
        for key in keys:
            s3.upload(lab, key, b"delivered more than once")
        events: list[Any] = []

        def captured() -> bool:  # on-success records arrive a moment after each run, as on AWS
            events.extend(record["requestPayload"] for record in drain(lab, queues["OnSuccess"]))
            return len(events) >= objects

        wait_until(captured, what="the on-success records of the uploads", timeout=120.0)
        client = lab.client("lambda")
        for event in events:
            for n in range(deliveries - 1):
                kind = "Event" if n % 2 == 0 else "RequestResponse"
                response = client.invoke(FunctionName=lab.names.function, InvocationType=kind,
                                         Payload=json.dumps(event).encode())
                if kind == "RequestResponse":
                    answers.update({k: v for k, v in json.loads(response["Payload"].read()).items()
                                    if k in ("stored", "duplicates")})
        let_retries_run(lab)
        for record in drain(lab, queues["OnSuccess"]):
            answers.update({k: v for k, v in (record.get("responsePayload") or {}).items()
                            if k in ("stored", "duplicates")})
        figures = reconcile(lab, keys, drain(lab, queues["OnFailure"]))
    return {**figures, "events_captured": len(events), "deliveries": objects * deliveries,
            "redeliveries_answered_duplicate": answers["duplicates"],
            "redeliveries_stored": answers["stored"]}


def handler_timeout(lab: Lab, *, good: int, slow: int) -> dict[str, Any]:
    """Runs that outlast the timeout after writing: logged as AWS logs it, retried, one intact item each."""
    before = _lambda_metrics(lab)
    good_keys = [f"timeout-run/{n:04d} quick.txt" for n in range(good)]
    slow_keys = [f"{SLOW_PREFIX}{n:04d} takes long.txt" for n in range(slow)]
    keys = _interleave(good_keys, slow_keys)
    with destinations(lab) as queues, function_variant(lab, faults=True, timeout=FAULT_TIMEOUT_SECONDS):
        for key in keys:
            s3.upload(lab, key, b"slow or not")
        let_retries_run(lab)
        figures = reconcile(lab, keys, drain(lab, queues["OnFailure"]))
        drain(lab, queues["OnSuccess"])
        lines = [event["message"] for event in logs.log_events(lab, streams=50)]
    runs = _delta(_lambda_metrics(lab), before)
    items = [item for item in dynamodb.scan_items(lab) if item["objectKey"] in set(keys)]
    intact = [item for item in items
              if item["ttl"] == item["timestamp"] + awslambda.TTL_SECONDS
              and item["bucket"] == lab.names.bucket
              and item["eventName"] == "ObjectCreated:Put" and item["size"] == len(b"slow or not")]
    return {**figures, "slow": slow, "good": good,
            "timeout_lines": sum(1 for line in lines if TIMEOUT_LINE.fullmatch(line)),
            "errors": runs["Errors"], "invocations": runs["Invocations"], "intact_items": len(intact)}


def _interleave(first: list[str], second: list[str]) -> list[str]:
    """``second`` spread evenly through ``first``."""
    merged = list(first)
    for n, key in enumerate(second):
        merged.insert((n + 1) * (len(merged) + 1) // (len(second) + 1), key)
    return merged


# -- 4. cleanup --------------------------------------------------------------------------------

def inventory(lab: Lab) -> dict[str, list[str]]:
    """Every resource in the account, per service, listed through the APIs (paginated).

    AWS-managed IAM policies are not the account's and are left out.
    """
    def pages(service: str, operation: str, key: str, field: str | None, **kwargs: Any) -> list[str]:
        paginator = lab.client(service).get_paginator(operation)
        return [str(entry[field] if field else entry) for page in paginator.paginate(**kwargs)
                for entry in page.get(key, [])]

    return {
        "s3 buckets": pages("s3", "list_buckets", "Buckets", "Name"),
        "dynamodb tables": pages("dynamodb", "list_tables", "TableNames", None),
        "lambda functions": pages("lambda", "list_functions", "Functions", "FunctionName"),
        "lambda event source mappings": pages("lambda", "list_event_source_mappings",
                                              "EventSourceMappings", "UUID"),
        "logs log groups": pages("logs", "describe_log_groups", "logGroups", "logGroupName"),
        "iam roles": pages("iam", "list_roles", "Roles", "RoleName"),
        "iam policies": pages("iam", "list_policies", "Policies", "PolicyName", Scope="Local"),
        "iam users": pages("iam", "list_users", "Users", "UserName"),
        "sns topics": pages("sns", "list_topics", "Topics", "TopicArn"),
        "sns subscriptions": pages("sns", "list_subscriptions", "Subscriptions", "SubscriptionArn"),
        "cloudwatch alarms": pages("cloudwatch", "describe_alarms", "MetricAlarms", "AlarmName"),
        "sqs queues": pages("sqs", "list_queues", "QueueUrls", None),
    }


def settled_inventory(lab: Lab, *, timeout: float = 60.0) -> dict[str, list[str]]:
    """:func:`inventory` once its listings agree with the deletes: AWS may still list a resource
    a moment after deleting it (S3 User Guide, "Amazon S3 data consistency model"; IAM User Guide,
    "Changes that I make are not always immediately visible"), so a resource counts as left
    only when it is still listed after ``timeout`` s (of the local clock on the moto backend)."""
    last: list[dict[str, list[str]]] = []

    def empty() -> bool:
        last[:] = [inventory(lab)]
        return not any(last[0].values())

    try:
        wait_until(empty, what="the listings to drop what teardown deleted", timeout=timeout,
                   interval=5.0)
    except WaitTimeout:
        pass
    return last[0]


def cleanup(lab: Lab) -> dict[str, Any]:
    """Tear down twice: what existed, what is left (through every service's API), what the second did."""
    present = inventory(lab)
    first = lab.teardown(quiet=True)
    second = lab.teardown(quiet=True)
    left = {service: names for service, names in settled_inventory(lab).items() if names}
    return {"resources_before": sum(len(v) for v in present.values()), "deleted": len(first["deleted"]),
            "left": sum(len(v) for v in left.values()), "left_by_service": left,
            "second_teardown_deleted": len(second["deleted"])}


# -- 6. the figure report ----------------------------------------------------------------------

def _given(strategy: Any, examples: int, check: Any) -> None:
    """Run ``check`` on ``examples`` hypothesis examples (outside pytest: no example database)."""
    from hypothesis import HealthCheck, given, settings

    settings(max_examples=examples, deadline=None, database=None,
             suppress_health_check=list(HealthCheck))(given(strategy)(check))()


def fuzz(lab: Lab, what: str, examples: int) -> dict[str, Any]:
    """Run ``"keys"`` (:func:`upload_keys`, batches of 1–6 keys) or ``"records"``
    (:func:`malformed_batch`, batches of 1–10 records) on generated examples; the summed figures."""
    from hypothesis import strategies as st

    totals: collections.Counter[str] = collections.Counter()

    def check(batch: list[Any]) -> None:
        totals["batches"] += 1
        if what == "keys":
            figures = upload_keys(lab, batch)
            totals["longest_bytes"] = max(totals["longest_bytes"], figures.pop("longest_bytes"))
        else:
            figures = malformed_batch(lab, batch, serial=totals["batches"])
            figures["unexplained"] = len(figures["unexplained"])
            del figures["reported_skipped"], figures["reported_stored"]
        totals.update(figures)

    strategy = (st.lists(key_strategy(), min_size=1, max_size=6, unique=True) if what == "keys" else
                st.lists(st.one_of(st.none(), malformed_record_strategy()), min_size=1, max_size=10))
    _given(strategy, examples, check)
    return dict(totals)


def run_all(size: dict[str, int]) -> dict[str, dict[str, Any]]:
    """Every in-process scenario at ``size`` on one lab, in order, then cleanup; each with its seconds."""
    lab = fresh_lab()
    scenarios = {
        "keys fuzzed": lambda: fuzz(lab, "keys", size["key_examples"]),
        "malformed records": lambda: fuzz(lab, "records", size["malformed_examples"]),
        "throttled burst": lambda: throttle_burst(lab, uploads=size["burst"]),
        "poison files": lambda: poison_files(lab, good=size["good"], poison=size["poison"]),
        "duplicate deliveries": lambda: duplicate_deliveries(
            lab, objects=size["redelivered"], deliveries=size["deliveries"]),
        "handler timeouts": lambda: handler_timeout(lab, good=size["good"] // 3, slow=size["slow"]),
        "cleanup": lambda: cleanup(lab),
    }
    return {name: _timed(scenario) for name, scenario in scenarios.items()}


def _timed(scenario: Any) -> dict[str, Any]:
    started = time.perf_counter()
    return {**scenario(), "seconds": round(time.perf_counter() - started, 1)}


def notebook_figures(runs: list[dict[str, Any]], lessons: int) -> dict[str, Any]:
    """The kernels' results (see :func:`lab.reliability_kernels.run_notebooks`) summed for the report."""
    return {"lessons": lessons, "kernels": len(runs), "cells": sum(r["cells"] for r in runs),
            "failed": sum(1 for r in runs if r["error"]),
            "left": sum(r.get("left", 1) for r in runs),
            "attempts": sum(len(r.get("attempts", [None])) for r in runs),
            "errors": [r["error"] for r in runs if r["error"]]}


# Per scenario: the condition that must hold (the tests assert the same), what was tried, what held.
PROMISES: Mapping[str, tuple[Any, str, str]] = MappingProxyType({
    "keys fuzzed": (
        lambda f: f["stored"] == f["keys"] and f["mismatched"] == 0,
        "{keys} keys, longest {longest_bytes} bytes", "{stored} stored once, byte-equal"),
    "malformed records": (
        lambda f: f["crashes"] == 0 and f["stored"] == f["good"] and f["logged"] == f["malformed"]
        and f["unexplained"] == 0,
        "{malformed} malformed among {records} records",
        "{logged} logged with a reason, {stored}/{good} good stored, {crashes} crashes"),
    "throttled burst": (
        lambda f: f["throttled_requests"] > 0 and f["throttle_alarm_emails"] >= 1
        and f["failed_invocations"] == f["lambda_retries"] + f["redriven"]
        and f["stored_after_redrive"] == f["objects"] and f["lost_after_redrive"] == 0
        and f["duplicates_after_redrive"] == 0,
        "{uploads} uploads at 1 WCU, {throttled_requests} writes throttled",
        "{sdk_retries_that_succeeded} saved by SDK retries, {lambda_retries} Lambda retries, "
        "{redriven} redriven from on-failure; {throttle_alarm_emails} alarm email"),
    "poison files": (
        lambda f: f["in_destination"] == f["poison"] and f["stored"] == f["good"]
        and f["errors"] == LAMBDA_ATTEMPTS * f["poison"] and f["failed_keys_match"]
        and f["attempts_per_failure"] == [LAMBDA_ATTEMPTS],
        "{poison} poison files among {objects} uploads",
        "{in_destination} in on-failure after 3 attempts, Errors {errors}, {stored} others stored"),
    "duplicate deliveries": (
        lambda f: f["stored"] == f["objects"] == f["events_captured"] and f["redeliveries_stored"] == 0
        and f["redeliveries_answered_duplicate"] == f["deliveries"] - f["objects"],
        "{objects} events delivered {deliveries} times in all",
        "{stored} items; {redeliveries_answered_duplicate} redeliveries answered duplicate"),
    "handler timeouts": (
        lambda f: f["timeout_lines"] == f["slow"] == f["errors"] and f["intact_items"] == f["objects"]
        and f["stored"] == f["objects"],
        "{slow} of {objects} uploads outlast the 1 s timeout",
        "{timeout_lines} REPORT lines with 'Status: timeout', retried, {intact_items} intact items"),
    "cleanup": (
        lambda f: f["left"] == 0 and f["second_teardown_deleted"] == 0 and f["deleted"] > 0,
        "teardown after all the above ({resources_before} resources), twice",
        "{left} left in 12 service listings; second teardown deleted {second_teardown_deleted}"),
    "learner mistakes": (
        lambda f: f["sentences"] == f["mistakes"] and f["attempts"] == 0,
        "{mistakes} skipped lessons / no opt-in, in a kernel", "{sentences} answered by one ✗ sentence"),
    "notebooks": (
        lambda f: f["failed"] == 0 and f["left"] == 0 and f["attempts"] == 0 and f["lessons"] > 0,
        "{lessons} lessons, each twice in a row, {kernels} fresh kernels",
        "{failed} failed, {left} resources left, {attempts} connections"),
})


def held(name: str, figures: dict[str, Any]) -> bool:
    """Whether a scenario's figures keep its promise: nothing lost, duplicated or unknown, and more."""
    clean = all(figures.get(key, 0) == 0 for key in ("lost", "duplicates", "unknown"))
    return clean and bool(PROMISES[name][0](figures))


def totals(results: dict[str, dict[str, Any]], network_attempts: int) -> dict[str, int]:
    """The headline figures of a run (see the README's Reliability section)."""
    def get(name: str, key: str) -> int:
        return int(results.get(name, {}).get(key, 0))

    faults = ("throttled burst", "poison files", "duplicate deliveries", "handler timeouts")
    return {
        "keys fuzzed": get("keys fuzzed", "keys"),
        "malformed records": get("malformed records", "malformed"),
        "faults injected": get("throttled burst", "throttled_requests") + get("poison files", "poison")
        + get("duplicate deliveries", "deliveries") - get("duplicate deliveries", "objects")
        + get("handler timeouts", "slow"),
        "objects reconciled": sum(get(name, "objects") for name in faults),
        "lost": sum(get(name, "lost") for name in results) + get("throttled burst", "lost_after_redrive"),
        "duplicates": sum(get(name, "duplicates") for name in results)
        + get("throttled burst", "duplicates_after_redrive"),
        "resources left after teardown": get("cleanup", "left") + get("notebooks", "left"),
        "network connections attempted": network_attempts + get("learner mistakes", "attempts")
        + get("notebooks", "attempts"),
    }


def report(results: dict[str, dict[str, Any]], network_attempts: int) -> tuple[str, bool]:
    """The printed report and whether every promise held (and no connection was attempted)."""
    width = max(len(name) for name in results)
    lines = []
    for name, figures in results.items():
        _, tried, outcome = PROMISES[name]
        mark = "✓" if held(name, figures) else "✗"
        lines.append(f"{mark} {name:<{width}}  {tried.format(**figures)}  →  {outcome.format(**figures)}"
                     f"  ({figures.get('seconds', 0):.1f} s)")
    headline = totals(results, network_attempts)
    lines.append("")
    lines.extend(f"  {name:<31}{value:>7}" for name, value in headline.items())
    ok = all(held(name, figures) for name, figures in results.items()) and headline[
        "network connections attempted"] == 0
    return "\n".join(lines), ok


def fault_report(injected: dict[str, int], results: dict[str, dict[str, Any]],
                 network_attempts: int) -> str:
    """What the fault profile (``EVENTLAB_FAULTS``, see :mod:`lab.faults`) injected into the
    in-process scenarios, per kind, and what that cost: objects lost, scenarios that failed."""
    headline = totals(results, network_attempts)
    failed = sum(1 for name, figures in results.items() if not held(name, figures))
    lines = [f"Faults injected (EVENTLAB_FAULTS={os.environ.get('EVENTLAB_FAULTS', '').strip()}, "
             "in-process scenarios):"]
    lines.extend(f"  {kind:<31}{number:>7}" for kind, number in injected.items())
    lines.append(f"  {'in all':<31}{sum(injected.values()):>7}")
    lines.append(f"  → {headline['lost']} lost, {headline['duplicates']} duplicated, "
                 f"{failed} scenarios failed")
    return "\n".join(lines)


def main() -> int:
    """``eventlab reliability``: run every scenario, print what was tried and what held; 1 if any failed."""
    from lab import mock
    from lab.workbook import lessons

    try:
        import hypothesis  # noqa: F401
    except ImportError:
        print("✗ The reliability report needs the test tools: pip install -e '.[dev]' (or make setup).")
        return 2
    size = sizes()
    print("Reliability figures, " + ("full sizes" if size == FULL else
                                     "CI sample sizes (EVENTLAB_FULL=1 for the full sizes)"), flush=True)
    started = time.perf_counter()
    from lab import faults

    faults.reset_counts()
    with kernels.real_looking_credentials():
        with kernels.NetworkGuard() as guard:
            results = run_all(size)
            mock.stop()
        injected = faults.counts()
        results["learner mistakes"] = _timed(kernels.learner_mistakes)
        paths = lessons()
        results["notebooks"] = _timed(lambda: notebook_figures(
            kernels.run_kernels(kernels.kernel_plan(paths, full=size == FULL)) if paths else [], len(paths)))
    text, ok = report(results, len(guard.attempts))
    print(text)
    if faults.profile_from_environment() is not None:
        print(fault_report(injected, results, len(guard.attempts)))
    for error in results["notebooks"]["errors"]:
        print(f"✗ {error}", file=sys.stderr)
    print(f"{'✓ every promise held' if ok else '✗ a promise did not hold'} "
          f"({time.perf_counter() - started:.0f} s)")
    return 0 if ok else 1
