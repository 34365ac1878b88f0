"""The metrics AWS services publish, and CloudWatch's exact match of dimensions when reading them.

Sources: Amazon DynamoDB Developer Guide, "DynamoDB metrics and dimensions"
(SuccessfulRequestLatency: TableName, Operation, Milliseconds; ConditionalCheckFailedRequests:
TableName; ThrottledRequests: TableName, Operation; TimeToLiveDeletedItemCount: TableName);
AWS Lambda Developer Guide, "Types of metrics for Lambda functions" (aggregate metrics across
all functions have no dimension); Amazon CloudWatch User Guide, "CloudWatch concepts:
Dimensions" ("you must specify the same dimensions that were used when the metrics were
created" — a query without dimensions finds no per-table datapoint).
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError


@pytest.fixture(autouse=True)
def _instant_cloud(monkeypatch):
    """About the published metrics, not AWS's delays (test_eventual_consistency.py): instant cloud."""
    monkeypatch.setenv("EVENTLAB_DELAYS", "off")


TABLE = "MeteredTable"


def statistics(lab: Any, namespace: str, name: str, dimensions: dict[str, str],
               statistic: str = "Sum") -> float | None:
    """The statistic over the last hour (one period), or None when CloudWatch finds no data."""
    now = lab.clock.now()
    points = lab.client("cloudwatch").get_metric_statistics(
        Namespace=namespace, MetricName=name, Period=3600, Statistics=[statistic],
        Dimensions=[{"Name": k, "Value": v} for k, v in dimensions.items()],
        StartTime=now - dt.timedelta(minutes=59), EndTime=now + dt.timedelta(minutes=1),
    )["Datapoints"]
    return sum(p[statistic] for p in points) if points else None


def make_table(lab: Any, **capacity: Any) -> Any:
    dynamodb = lab.client("dynamodb")
    billing = {"BillingMode": "PROVISIONED", "ProvisionedThroughput": capacity} if capacity else {
        "BillingMode": "PAY_PER_REQUEST"}
    dynamodb.create_table(TableName=TABLE, KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                          **billing)
    return dynamodb


def test_successful_requests_publish_their_latency_per_table_and_operation(lab_moto: Any) -> None:
    dynamodb = make_table(lab_moto)
    for key in ("a", "b", "c"):
        dynamodb.put_item(TableName=TABLE, Item={"k": {"S": key}})
    dynamodb.get_item(TableName=TABLE, Key={"k": {"S": "a"}})
    put = {"TableName": TABLE, "Operation": "PutItem"}
    get = {"TableName": TABLE, "Operation": "GetItem"}
    assert statistics(lab_moto, "AWS/DynamoDB", "SuccessfulRequestLatency", put,
                      "SampleCount") == 3.0
    assert statistics(lab_moto, "AWS/DynamoDB", "SuccessfulRequestLatency", get,
                      "SampleCount") == 1.0
    assert statistics(lab_moto, "AWS/DynamoDB", "SuccessfulRequestLatency", put, "Minimum") > 0
    listed = lab_moto.client("cloudwatch").list_metrics(
        Namespace="AWS/DynamoDB", MetricName="SuccessfulRequestLatency")["Metrics"]
    assert {tuple(sorted((d["Name"], d["Value"]) for d in m["Dimensions"])) for m in listed} == {
        (("Operation", "PutItem"), ("TableName", TABLE)),
        (("Operation", "GetItem"), ("TableName", TABLE))}


def test_a_redelivered_event_s_conditional_put_counts_as_a_failed_condition(lab_moto: Any) -> None:
    dynamodb = make_table(lab_moto)
    item = {"k": {"S": "event-1"}}
    for _ in range(2):  # the same event twice: the handler's put only if the id is new
        try:
            dynamodb.put_item(TableName=TABLE, Item=item,
                              ConditionExpression="attribute_not_exists(k)")
        except ClientError as error:
            assert error.response["Error"]["Code"] == "ConditionalCheckFailedException"
    table = {"TableName": TABLE}
    assert statistics(lab_moto, "AWS/DynamoDB", "ConditionalCheckFailedRequests", table) == 1.0
    put = {"TableName": TABLE, "Operation": "PutItem"}
    assert statistics(lab_moto, "AWS/DynamoDB", "SuccessfulRequestLatency", put,
                      "SampleCount") == 1.0  # the refused put is no successful request


def test_a_throttled_request_counts_once_per_request_with_its_operation(lab_moto: Any) -> None:
    make_table(lab_moto, ReadCapacityUnits=1, WriteCapacityUnits=1)
    # No retries by botocore: each refused attempt is a request of its own.
    dynamodb = boto3.client("dynamodb", region_name=lab_moto.region,
                            config=Config(retries={"total_max_attempts": 1}))
    throttled = 0
    for n in range(40):  # a 1-WCU table holds about 10 s of capacity, then throttles
        try:
            dynamodb.put_item(TableName=TABLE, Item={"k": {"S": f"item-{n}"}})
        except ClientError as error:
            assert error.response["Error"]["Code"] == "ProvisionedThroughputExceededException"
            throttled += 1
    assert throttled > 0
    put = {"TableName": TABLE, "Operation": "PutItem"}
    assert statistics(lab_moto, "AWS/DynamoDB", "ThrottledRequests", put) == float(throttled)
    assert statistics(lab_moto, "AWS/DynamoDB", "ThrottledRequests", {"TableName": TABLE}) is None


def test_ttl_deletions_are_counted_per_table(lab_moto: Any) -> None:
    dynamodb = make_table(lab_moto)
    dynamodb.update_time_to_live(TableName=TABLE, TimeToLiveSpecification={
        "Enabled": True, "AttributeName": "expires"})
    past = int(lab_moto.clock.time()) - 60
    for key in ("a", "b", "c"):
        dynamodb.put_item(TableName=TABLE, Item={"k": {"S": key}, "expires": {"N": str(past)}})
    lab_moto.clock.advance(seconds=5)
    assert statistics(lab_moto, "AWS/DynamoDB", "TimeToLiveDeletedItemCount",
                      {"TableName": TABLE}) == 3.0


def test_a_query_s_dimensions_must_match_exactly(lab_moto: Any) -> None:
    dynamodb = make_table(lab_moto)
    dynamodb.put_item(TableName=TABLE, Item={"k": {"S": "a"}})
    table = {"TableName": TABLE}
    assert statistics(lab_moto, "AWS/DynamoDB", "ConsumedWriteCapacityUnits", table) == 1.0
    assert statistics(lab_moto, "AWS/DynamoDB", "ConsumedWriteCapacityUnits", {}) is None
    assert statistics(lab_moto, "AWS/DynamoDB", "SuccessfulRequestLatency", table) is None
    assert statistics(lab_moto, "AWS/DynamoDB", "ConsumedWriteCapacityUnits",
                      {"TableName": "Other"}) is None


@pytest.mark.parametrize("functions", [("one",), ("one", "two")])
def test_lambda_metrics_are_published_per_function_and_account_wide(
        lab_moto: Any, functions: tuple[str, ...]) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("lambda_function.py", "def handler(event, context):\n    return 1\n")
    role = lab_moto.client("iam").create_role(RoleName="metrics-role",
                                              AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lab_moto.clock.advance(seconds=10)  # IAM: a new role is assumable after a few seconds
    lam = lab_moto.client("lambda")
    for name in functions:
        lam.create_function(FunctionName=name, Runtime="python3.12", Role=role,
                            Handler="lambda_function.handler", Code={"ZipFile": buffer.getvalue()})
        lam.get_waiter("function_active_v2").wait(FunctionName=name)
        lam.invoke(FunctionName=name, Payload=b"{}")
    for name in functions:
        assert statistics(lab_moto, "AWS/Lambda", "Invocations", {"FunctionName": name}) == 1.0
    assert statistics(lab_moto, "AWS/Lambda", "Invocations", {}) == float(len(functions))
    assert statistics(lab_moto, "AWS/Lambda", "Duration", {}, "SampleCount") == len(functions)
