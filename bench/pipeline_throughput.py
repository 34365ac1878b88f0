"""Benchmark: uploads through the local cloud's S3 → Lambda → DynamoDB against raw moto, in one run.

Everything runs in one process, on one moto mock, in interleaved rounds, so that a machine that
speeds up or slows down during the run (a shared CI box) moves both sides of every ratio alike.
Each round times one block of each of
  a. raw moto ``put_object`` to a bucket without notifications,
  b. raw moto ``put_item`` of the handler's item, with its condition, to a table with a
     NEW_IMAGE stream like the pipeline's (moto writes the stream record itself: that cost is
     moto's, not the local cloud's),
  c. the lab pipeline: ``put_object`` → S3 event → the deployed Lambda zip run in-process →
     ``put_item`` with capacity metering, logs, metrics and alarm evaluation on,
  d. raw moto ``put_object`` and ``put_item`` alternating, one pair per upload: the pipeline's two
     calls with nothing in between,
  e. uploads to a bucket that triggers a no-op function: S3 event, runtime, logs and metrics,
     without the handler's work,
where "raw" means the local cloud's hooks are suspended (``hooks.suspended()``): plain moto.
It prints uploads per second and the ratio of (c) to the raw limit 1 / (1/a + 1/b), the best a
pipeline doing both calls in one process could reach: the median of the rounds' ratios and their
range (a round swings far either way when one of Python's full garbage collections, about 0.1 s
with moto's data in memory, lands in one of its blocks; the median is the figure). The ratio of
(c) to (d) is printed too: alternating two calls runs each slower than a loop
of one (less of each stays in the CPU's caches), so (d) is what no overhead at all would reach.
From (a), (b), (c) and (e) it prints where an upload's time goes, in ms per upload. Then the warm-invoke overhead, also in interleaved rounds (medians of single calls):
  - Invoke API on a no-op handler, minus a direct call of that handler (what the issue asks), and
  - the runtime's own share: minus moto's own Invoke too (hooks suspended: moto answers without
    running anything), so botocore's and moto's request handling cancel out.

Usage: python bench/pipeline_throughput.py [--rounds 10] [--uploads 60] [--invokes 100]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import statistics
import time
import zipfile
from collections.abc import Callable
from typing import Any

NOOP_SOURCE = "def handler(event, context):\n    return None\n"
RAW_BUCKET = "raw-bench"
RAW_TABLE = "RawBench"
NOOP_BUCKET = "noop-trigger-bench"


def _noop_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("noop.py", NOOP_SOURCE)
    return buffer.getvalue()


def _deploy_noop(cloud: Any) -> str:
    """The no-op function (its own role); returns its ARN."""
    role = cloud.client("iam").create_role(
        RoleName="bench-role", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": "sts:AssumeRole",
                "Principal": {"Service": "lambda.amazonaws.com"}}]}))
    function = cloud.client("lambda").create_function(
        FunctionName="noop", Runtime="python3.12", Handler="noop.handler",
        Role=role["Role"]["Arn"], Code={"ZipFile": _noop_zip()})
    return function["FunctionArn"]


def _noop_trigger(cloud: Any) -> None:
    """A bucket whose uploads invoke the no-op function, as the lab's bucket invokes its own."""
    arn = _deploy_noop(cloud)
    cloud.client("lambda").add_permission(
        FunctionName="noop", StatementId="s3-invoke", Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com", SourceArn=f"arn:aws:s3:::{NOOP_BUCKET}")
    s3 = cloud.client("s3")
    s3.create_bucket(Bucket=NOOP_BUCKET)
    s3.put_bucket_notification_configuration(Bucket=NOOP_BUCKET, NotificationConfiguration={
        "LambdaFunctionConfigurations": [{"LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"]}]})


def _block_rate(operation: Callable[[int], Any], numbers: range) -> float:
    """Operations per second over one block."""
    started = time.perf_counter()
    for number in numbers:
        operation(number)
    return len(numbers) / (time.perf_counter() - started)


def _raw_item(number: int) -> dict[str, Any]:
    """An item like the handler's (same attributes and sizes), as the low-level client sends it."""
    return {
        "objectId": {"S": f"{number:08x}-0000-5000-8000-000000000000"},
        "bucket": {"S": RAW_BUCKET}, "objectKey": {"S": f"file {number}.txt"},
        "timestamp": {"N": "1764060000"}, "ttl": {"N": "1764146400"},
        "size": {"N": "14"}, "eTag": {"S": "0123456789abcdef0123456789abcdef"},
        "eventName": {"S": "ObjectCreated:Put"}, "eventTime": {"S": "2026-11-25T08:43:27.192Z"},
    }


def _rotated(names: list[str], round_number: int) -> list[str]:
    """The sides in the order of this round: each goes first in turn."""
    shift = round_number % len(names)
    return names[shift:] + names[:shift]


def throughput(rounds: int, uploads: int) -> dict[str, Any]:
    """Rates (per second) of raw put_object, raw put_item and the pipeline, per round."""
    import lab
    from lab import dynamodb, mock
    from lab.localcloud import hooks

    mock.stop()
    cloud = lab.connect("moto", quiet=True)
    cloud.build_pipeline(quiet=True)
    # Plenty of write capacity: this measures the pipeline, not throttling (lesson 10 shows that).
    dynamodb.set_write_capacity(cloud, 100_000)
    _noop_trigger(cloud)
    s3, ddb = cloud.client("s3"), cloud.client("dynamodb")
    with hooks.suspended():
        s3.create_bucket(Bucket=RAW_BUCKET)
        ddb.create_table(TableName=RAW_TABLE, BillingMode="PAY_PER_REQUEST",
                         KeySchema=[{"AttributeName": "objectId", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "objectId", "AttributeType": "S"}],
                         StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})

    def raw_put_object(number: int) -> None:
        s3.put_object(Bucket=RAW_BUCKET, Key=f"file {number}.txt", Body=b"benchmark body")

    def raw_put_item(number: int) -> None:
        ddb.put_item(TableName=RAW_TABLE, Item=_raw_item(number),
                     ConditionExpression="attribute_not_exists(objectId)")

    def upload(number: int) -> None:
        s3.put_object(Bucket=cloud.names.bucket, Key=f"file {number}.txt", Body=b"benchmark body")

    def raw_pair(number: int) -> None:
        raw_put_object(number)
        raw_put_item(number)

    def trigger(number: int) -> None:
        s3.put_object(Bucket=NOOP_BUCKET, Key=f"file {number}.txt", Body=b"benchmark body")

    sides = {"put_object": (raw_put_object, True), "put_item": (raw_put_item, True),
             "pipeline": (upload, False), "pairs": (raw_pair, True), "trigger": (trigger, False)}
    rates: dict[str, list[float]] = {name: [] for name in sides}
    warm_up = 20  # the first upload is the Lambda's cold start
    pair_offset = 10**6  # the pairs' keys and ids differ from the single calls'
    for name, (operation, raw) in sides.items():
        offset = pair_offset if name == "pairs" else 0
        with hooks.suspended() if raw else contextlib.nullcontext():
            _block_rate(operation, range(offset, offset + warm_up))
    for round_number in range(rounds):
        order = _rotated(list(sides), round_number)
        start = warm_up + round_number * uploads
        for name in order:
            operation, raw = sides[name]
            offset = pair_offset if name == "pairs" else 0
            with hooks.suspended() if raw else contextlib.nullcontext():
                rates[name].append(_block_rate(operation, range(offset + start, offset + start + uploads)))
    stored = len(dynamodb.scan_items(cloud))
    mock.stop()
    return {"rates": rates, "expected": warm_up + rounds * uploads, "stored": stored}


def invoke_overhead(rounds: int, invokes: int) -> dict[str, float]:
    """Median single-call times (ms): direct call, Invoke on the local cloud, Invoke on plain moto."""
    import lab
    from lab import mock
    from lab.localcloud import hooks

    namespace: dict[str, Any] = {}
    exec(NOOP_SOURCE, namespace)
    handler = namespace["handler"]

    mock.stop()
    cloud = lab.connect("moto", quiet=True)
    _deploy_noop(cloud)
    client = cloud.client("lambda")

    def direct() -> None:
        handler({}, None)

    def invoke() -> None:
        client.invoke(FunctionName="noop", Payload=b"{}")

    def times(operation: Callable[[], None], count: int) -> list[float]:
        result = []
        for _ in range(count):
            started = time.perf_counter()
            operation()
            result.append(time.perf_counter() - started)
        return result

    times(invoke, 10)  # cold start and warm-up
    sides = {"direct": (direct, False), "local": (invoke, False), "stubbed": (invoke, True)}
    medians: dict[str, list[float]] = {name: [] for name in sides}
    for round_number in range(rounds):
        for name in _rotated(list(sides), round_number):
            operation, raw = sides[name]
            with hooks.suspended() if raw else contextlib.nullcontext():
                medians[name].append(statistics.median(times(operation, invokes)))
    mock.stop()
    return {name: statistics.median(values) * 1000 for name, values in medians.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10, help="interleaved rounds (default 10)")
    parser.add_argument("--uploads", type=int, default=60, help="uploads per block (default 60)")
    parser.add_argument("--invokes", type=int, default=100, help="invokes per block (default 100)")
    args = parser.parse_args()

    result = throughput(args.rounds, args.uploads)
    rates = result["rates"]
    limits = [1 / (1 / a + 1 / b) for a, b in zip(rates["put_object"], rates["put_item"])]
    ratios = [c / limit for c, limit in zip(rates["pipeline"], limits)]
    pair_ratios = [c / d for c, d in zip(rates["pipeline"], rates["pairs"])]
    median = statistics.median
    print(f"rounds × uploads per block          {args.rounds} × {args.uploads}")
    print(f"a. raw moto put_object              {median(rates['put_object']):8.1f} /s")
    print(f"b. raw moto put_item                {median(rates['put_item']):8.1f} /s")
    print(f"   raw limit 1/(1/a + 1/b)          {median(limits):8.1f} /s")
    print(f"c. lab pipeline (S3→Lambda→DynamoDB) {median(rates['pipeline']):7.1f} uploads/s  "
          f"({result['stored']} items stored)")
    print(f"   ratio c / raw limit              {median(ratios):8.2f}   "
          f"(rounds {min(ratios):.2f}–{max(ratios):.2f}; target ≥ 0.85)")
    print(f"d. raw put_object + put_item alternating {median(rates['pairs']):5.1f} pairs/s")
    print(f"   ratio c / d                      {median(pair_ratios):8.2f}   "
          f"(rounds {min(pair_ratios):.2f}–{max(pair_ratios):.2f})")
    print(f"e. upload triggering a no-op function {median(rates['trigger']):6.1f} uploads/s")
    ms = {name: median(1000 / rate for rate in values) for name, values in rates.items()}
    print("where an upload's time goes (ms per upload, medians of the rounds)")
    print(f"   put_object itself (a)            {ms['put_object']:8.3f}")
    print(f"   S3 event, runtime, logs, metrics {ms['trigger'] - ms['put_object']:8.3f}   (e − a)")
    print(f"   the handler's run (c − e)        {ms['pipeline'] - ms['trigger']:8.3f}   "
          f"(its put_item alone, raw: {ms['put_item']:.3f})")
    if result["stored"] != result["expected"]:
        raise SystemExit(f"✗ {result['expected'] - result['stored']} uploads were not stored")

    times = invoke_overhead(args.rounds, args.invokes)
    print(f"rounds × invokes per block (medians) {args.rounds} × {args.invokes}")
    print(f"   direct call of a no-op handler   {times['direct']:8.3f} ms")
    print(f"   Invoke API, local cloud          {times['local']:8.3f} ms")
    print(f"   Invoke API, plain moto (no run)  {times['stubbed']:8.3f} ms")
    print(f"   Invoke API − direct call         {times['local'] - times['direct']:8.3f} ms"
          "   (target < 1 ms)")
    print(f"   runtime's own overhead           {times['local'] - times['stubbed'] - times['direct']:8.3f} ms"
          "   (local − plain moto − direct)")


if __name__ == "__main__":
    main()
