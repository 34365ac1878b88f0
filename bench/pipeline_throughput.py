"""Benchmark: uploads through the local cloud's S3 → Lambda → DynamoDB against raw moto, in one run.

Prints uploads per second for
  a. raw moto ``put_object`` (no notification, no local cloud),
  b. raw moto ``put_item`` of the handler's item (no local cloud),
  c. the lab pipeline on the moto backend: ``put_object`` → S3 event → the deployed Lambda zip run
     in-process → ``put_item`` with capacity metering, logs, metrics and alarm evaluation on,
and the ratio of (c) to the raw limit 1 / (1/a + 1/b) — the best a pipeline doing both calls in
one process could reach. Then the warm-invoke overhead of the runtime:
  - Invoke API on a no-op handler, minus a direct call of that handler (what the issue asks), and
  - the runtime's own share: the same Invoke through moto's stubbed Lambda (no local cloud), so
    botocore's and moto's request handling cancel out.

Usage: python bench/pipeline_throughput.py [--uploads 300] [--invokes 300]
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import time
import zipfile

NOOP_SOURCE = "def handler(event, context):\n    return None\n"


def _noop_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("noop.py", NOOP_SOURCE)
    return buffer.getvalue()


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds else float("inf")


def raw_moto(uploads: int) -> tuple[float, float]:
    """(put_object/s, put_item/s) on plain moto, without the local cloud."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        s3.create_bucket(Bucket="raw-bench")
        ddb.create_table(TableName="RawBench", KeySchema=[{"AttributeName": "objectId", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "objectId", "AttributeType": "S"}],
                         BillingMode="PAY_PER_REQUEST")
        for i in range(20):  # warm-up
            s3.put_object(Bucket="raw-bench", Key=f"warm/{i}.txt", Body=b"x")
        started = time.perf_counter()
        for i in range(uploads):
            s3.put_object(Bucket="raw-bench", Key=f"file {i}.txt", Body=b"benchmark body")
        put_object = _rate(uploads, time.perf_counter() - started)
        started = time.perf_counter()
        for i in range(uploads):
            ddb.put_item(TableName="RawBench", Item={
                "objectId": {"S": f"id-{i:08d}-0000-0000-0000-000000000000"},
                "bucket": {"S": "raw-bench"}, "objectKey": {"S": f"file {i}.txt"},
                "timestamp": {"N": "1764060000"}, "ttl": {"N": "1764146400"},
                "size": {"N": "14"}, "eTag": {"S": "0123456789abcdef0123456789abcdef"},
                "eventName": {"S": "ObjectCreated:Put"}, "eventTime": {"S": "2026-11-25T08:43:27.192Z"},
            }, ConditionExpression="attribute_not_exists(objectId)")
        put_item = _rate(uploads, time.perf_counter() - started)
    return put_object, put_item


def lab_pipeline(uploads: int) -> tuple[float, int]:
    """(uploads/s, items stored) through the whole local-cloud pipeline."""
    import lab
    from lab import dynamodb, mock

    mock.stop()
    cloud = lab.connect("moto")
    cloud.build_pipeline(quiet=True)
    # Plenty of write capacity: this measures the pipeline, not throttling (lesson 10 shows that).
    dynamodb.set_write_capacity(cloud, 100_000)
    s3 = cloud.client("s3")
    for i in range(20):  # warm-up: the first upload is the Lambda's cold start
        s3.put_object(Bucket=cloud.names.bucket, Key=f"warm/{i}.txt", Body=b"x")
    started = time.perf_counter()
    for i in range(uploads):
        s3.put_object(Bucket=cloud.names.bucket, Key=f"file {i}.txt", Body=b"benchmark body")
    rate = _rate(uploads, time.perf_counter() - started)
    stored = len(dynamodb.scan_items(cloud))
    mock.stop()
    return rate, stored - 20


def _invoke_times(client, name: str, count: int) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        client.invoke(FunctionName=name, Payload=b"{}")
        times.append(time.perf_counter() - started)
    return times


def _noop_function(client, iam) -> str:
    role = iam.create_role(RoleName="bench-role", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                 "Principal": {"Service": "lambda.amazonaws.com"}}]}))
    client.create_function(FunctionName="noop", Runtime="python3.12", Handler="noop.handler",
                           Role=role["Role"]["Arn"], Code={"ZipFile": _noop_zip()})
    return "noop"


def invoke_overhead(invokes: int) -> dict[str, float]:
    """Median times (ms) of: direct call, Invoke API on the local cloud, Invoke API on stubbed moto."""
    import boto3
    from moto import mock_aws

    import lab
    from lab import mock

    namespace: dict = {}
    exec(NOOP_SOURCE, namespace)
    handler = namespace["handler"]
    direct = []
    for _ in range(invokes):
        started = time.perf_counter()
        handler({}, None)
        direct.append(time.perf_counter() - started)

    mock.stop()
    cloud = lab.connect("moto")
    client = cloud.client("lambda")
    name = _noop_function(client, cloud.client("iam"))
    _invoke_times(client, name, 10)  # cold start + warm-up
    local = _invoke_times(client, name, invokes)
    mock.stop()

    with mock_aws(config={"lambda": {"use_docker": False}}):
        stub_client = boto3.client("lambda", region_name="us-east-1")
        _noop_function(stub_client, boto3.client("iam", region_name="us-east-1"))
        _invoke_times(stub_client, "noop", 10)
        stubbed = _invoke_times(stub_client, "noop", invokes)
    ms = 1000.0
    return {"direct": statistics.median(direct) * ms, "local": statistics.median(local) * ms,
            "stubbed": statistics.median(stubbed) * ms}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=300)
    parser.add_argument("--invokes", type=int, default=300)
    args = parser.parse_args()

    put_object, put_item = raw_moto(args.uploads)
    limit = 1 / (1 / put_object + 1 / put_item)
    pipeline, stored = lab_pipeline(args.uploads)
    print(f"uploads measured                    {args.uploads}")
    print(f"a. raw moto put_object              {put_object:8.1f} /s")
    print(f"b. raw moto put_item                {put_item:8.1f} /s")
    print(f"   raw limit 1/(1/a + 1/b)          {limit:8.1f} /s")
    print(f"c. lab pipeline (S3→Lambda→DynamoDB) {pipeline:7.1f} uploads/s  ({stored} items stored)")
    print(f"   ratio c / raw limit              {pipeline / limit:8.2f}   (target ≥ 0.85)")
    if stored != args.uploads:
        raise SystemExit(f"✗ {args.uploads - stored} uploads were not stored")

    times = invoke_overhead(args.invokes)
    print(f"invokes measured (median)           {args.invokes}")
    print(f"   direct call of a no-op handler   {times['direct']:8.3f} ms")
    print(f"   Invoke API, local cloud          {times['local']:8.3f} ms")
    print(f"   Invoke API, moto stub (no run)   {times['stubbed']:8.3f} ms")
    print(f"   Invoke API − direct call         {times['local'] - times['direct']:8.3f} ms")
    print(f"   runtime's own overhead           {times['local'] - times['stubbed'] - times['direct']:8.3f} ms"
          "   (local − stub − direct; target < 1 ms)")


if __name__ == "__main__":
    main()
