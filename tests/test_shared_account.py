"""Classes sharing one account: EVENTLAB_PREFIX keeps learners' resources apart (issue 11, item 4).

Every name the lab makes begins with the learner's prefix; teardown and the inventory find
resources by those names only. The last test runs two prefixed learners at once, in two processes,
against one moto server (one account), next to an unprefixed learner's resources.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time

import boto3
import pytest

import lab
from lab import settings
from lab.errors import ConfigurationError
from lab.names import PREFIXED, names_for, prefix_problem

ACCOUNT, REGION = "123456789012", "us-east-1"


@pytest.fixture
def clean(monkeypatch):
    for name in [n for n in os.environ if n.startswith("EVENTLAB_")]:
        monkeypatch.delenv(name)


def test_the_prefix_begins_every_name_the_lab_makes(clean, monkeypatch):
    plain = names_for(ACCOUNT, REGION)
    monkeypatch.setenv("EVENTLAB_PREFIX", "alice-")
    alice = names_for(ACCOUNT, REGION)
    assert alice.prefix == "alice-" and plain.prefix == ""
    for field in PREFIXED:
        assert getattr(alice, field) == "alice-" + getattr(plain, field), field
    # The log group follows the function; lesson 11's queue is named after the function.
    assert alice.log_group == "/aws/lambda/alice-S3ToDynamoProcessor"
    assert alice.email == plain.email  # an address, not a resource
    # Every resource the lab names is covered: nothing but the email is left unprefixed.
    assert set(PREFIXED) | {"email", "prefix"} == set(alice.__dataclass_fields__)
    listed = alice.as_dict()  # lesson 00's table of names: resources only
    assert set(listed) == set(PREFIXED) | {"email", "log_group"}
    assert all("alice-" in name for kind, name in listed.items() if kind != "email")


def test_an_explicit_name_is_used_as_given(clean, monkeypatch):
    monkeypatch.setenv("EVENTLAB_PREFIX", "bob-")
    monkeypatch.setenv("EVENTLAB_BUCKET", "bobs-own-bucket")
    names = names_for(ACCOUNT, REGION, table="BobsTable")
    assert (names.bucket, names.table, names.topic) == (
        "bobs-own-bucket", "BobsTable", "bob-event-driven-alerts")
    assert names_for(ACCOUNT, REGION, prefix="carol-").function == "carol-S3ToDynamoProcessor"


def _longest_names(prefix: str) -> dict[str, str]:
    # The longest region any partition has today (14 characters) makes the longest bucket name.
    names = names_for(ACCOUNT, "ap-southeast-2", prefix=prefix)
    return {field: getattr(names, field) for field in PREFIXED}


def test_the_longest_allowed_prefix_fits_every_services_limits(clean):
    """Limits: S3 bucket 3–63 (S3 User Guide, bucket naming rules); Lambda FunctionName 64
    (CreateFunction); IAM role name 64 and policy name 128 (IAM quotas); SNS topic 256
    (CreateTopic); DynamoDB table 255 (naming rules); CloudWatch AlarmName 255 (PutMetricAlarm);
    SQS queue name 80 (CreateQueue), for lesson 11's ``<function>-failures``."""
    names = _longest_names("a" * 15 + "-")
    assert settings.bucket_name_problem(names["bucket"]) is None
    assert len(names["function"]) <= 64 and len(names["role"]) <= 64
    assert len(names["least_privilege_policy"]) <= 128
    assert len(names["topic"]) <= 256 and len(names["table"]) <= 255
    assert len(names["function"] + "-failures") <= 80


@pytest.mark.parametrize("prefix", [
    "Alice-",   # S3 bucket names are lower-case
    "alice_",   # S3 refuses underscores
    "alice.",   # Lambda, SNS and SQS refuse dots
    "-alice",   # a bucket name begins with a letter or digit
    "alice bob-", "élise-", "a" * 17,
])
def test_a_prefix_some_service_would_refuse_is_one_sentence(clean, monkeypatch, prefix):
    problem = prefix_problem(prefix)
    assert problem is not None
    assert problem.startswith(f"EVENTLAB_PREFIX={prefix!r} cannot begin every resource name")
    assert "\n" not in problem and problem.count(". ") == 0
    monkeypatch.setenv("EVENTLAB_PREFIX", prefix)
    with pytest.raises(ConfigurationError, match="lower-case letters, digits and hyphens"):
        names_for(ACCOUNT, REGION)


@pytest.mark.parametrize("prefix", ["xn--", "sthree-", "amzn-s3-demo-"])
def test_a_prefix_making_a_reserved_bucket_name_is_refused(clean, prefix):
    """S3 User Guide, "General purpose bucket naming rules": these prefixes are reserved."""
    assert f"begin the bucket's name with {prefix}" in prefix_problem(prefix)


def test_connect_refuses_a_bad_prefix_before_reaching_the_backend(clean, monkeypatch):
    monkeypatch.setenv("EVENTLAB_PREFIX", "Alice_")
    # An endpoint nobody listens on: the prefix is refused before any request is made.
    with pytest.raises(ConfigurationError, match=r"^EVENTLAB_PREFIX='Alice_' cannot begin"):
        lab.connect("http://127.0.0.1:9", quiet=True)


def test_lesson_00_shows_the_prefix(clean, monkeypatch):
    from lab import mock

    mock.stop()
    monkeypatch.setenv("EVENTLAB_PREFIX", "alice-")
    try:
        cloud = lab.connect("moto", quiet=True)
        rows = {s.name: s for s in settings.review(cloud)}
        assert rows["prefix"].ok and rows["prefix"].value == "alice-"
        assert "alice-S3ObjectEvents" in rows["prefix"].sentence
        assert rows["bucket"].ok and rows["bucket"].sentence.startswith("yours alone")
        monkeypatch.setenv("EVENTLAB_PREFIX", "bob-")  # changed after connect() read it
        row = next(s for s in settings.review(cloud) if s.name == "prefix")
        assert not row.ok and "with 'alice-'" in row.sentence
        monkeypatch.setenv("EVENTLAB_PREFIX", "Bob")
        row = next(s for s in settings.review(cloud) if s.name == "prefix")
        assert not row.ok and row.sentence.startswith("EVENTLAB_PREFIX='Bob' cannot begin")
    finally:
        mock.stop()


# -- two learners at once in one account ----------------------------------------------------------

# One learner's process: build what a bare moto server can hold (it stores a function but does not
# run it, so no S3 trigger; an event source mapping from the table's stream instead), write items
# and upload objects, wait until every learner has built,
# look (inventory, own table and bucket, and the raw account listings), wait until every learner
# has looked, tear down, look again.
LEARNER = textwrap.dedent("""
    import json, os, pathlib, sys, time
    import lab
    from lab import alarms, awslambda, charts, destinations, dynamodb, iam, logs, pipeline, s3, sns

    barrier, learners = pathlib.Path(sys.argv[1]), sys.argv[2].split(",")
    cloud = lab.connect()
    names, prefix = cloud.names, cloud.names.prefix
    sns.ensure_topic(cloud, quiet=True)
    sns.ensure_email_subscription(cloud, quiet=True)
    dynamodb.ensure_table(cloud, quiet=True)
    iam.ensure_role(cloud, quiet=True)
    logs.ensure_log_group(cloud, quiet=True)
    s3.ensure_bucket(cloud, quiet=True)
    alarms.ensure_alarms(cloud, quiet=True)
    destinations.ensure_failure_queue(cloud, quiet=True)
    awslambda.ensure_function(cloud, quiet=True)
    mapping = cloud.client("lambda").create_event_source_mapping(
        EventSourceArn=dynamodb.stream_arn(cloud), FunctionName=names.function,
        StartingPosition="LATEST")["UUID"]
    for i in range(3):
        cloud.client("dynamodb").put_item(TableName=names.table,
                                          Item={dynamodb.PARTITION_KEY: {"S": f"{prefix}{i}"}})
    for i in range(2):
        cloud.client("s3").put_object(Bucket=names.bucket, Key=f"{prefix}{i}.txt", Body=b"x")

    def meet(step):  # wait until every learner has reached step (a file per learner and step)
        (barrier / f"{prefix}{step}").touch()
        deadline = time.monotonic() + 60
        while not all((barrier / f"{other}{step}").exists() for other in learners):
            assert time.monotonic() < deadline, f"another learner never {step}"
            time.sleep(0.1)

    meet("built")

    def counts():
        table = charts.inventory(cloud)
        return {f"{r.service} {r.resource}": int(r.count) for r in table.itertuples()}

    seen = {
        "inventory": counts(),
        "items": sorted(i[dynamodb.PARTITION_KEY]["S"] for i in cloud.client("dynamodb").scan(
            TableName=names.table)["Items"]),
        "objects": sorted(o["Key"] for o in cloud.client("s3").list_objects_v2(
            Bucket=names.bucket).get("Contents", [])),
        "tables": cloud.client("dynamodb").list_tables()["TableNames"],
    }
    meet("looked")  # so that both look while both have everything; then both tear down at once
    # The lab makes no event source mapping itself (so teardown deletes none): this one goes first.
    cloud.client("lambda").delete_event_source_mapping(UUID=mapping)
    report = pipeline.teardown(cloud, quiet=True)
    print(json.dumps({"seen": seen, "report": report, "after": counts()}))
""")

EXPECTED_BEFORE = {
    "CloudWatch alarms": 2, "CloudWatch Logs log group": 1, "DynamoDB table": 1, "IAM role": 1,
    "Lambda event source mappings": 1, "Lambda function": 1, "S3 bucket": 1,
    "S3 object versions": 2, "SNS subscriptions": 1, "SNS topic": 1, "SQS queues": 1,
}


def _account_listing(url: str) -> dict[str, set[str]]:
    """Every resource name the account holds, read with plain boto3 (not the lab's filters)."""
    def client(service):
        return boto3.client(service, endpoint_url=url, region_name=REGION,
                            aws_access_key_id="test", aws_secret_access_key="test")
    return {
        "topics": {t["TopicArn"].rsplit(":", 1)[-1] for t in client("sns").list_topics()["Topics"]},
        "subscriptions": {s["TopicArn"].rsplit(":", 1)[-1]
                          for s in client("sns").list_subscriptions()["Subscriptions"]},
        "tables": set(client("dynamodb").list_tables()["TableNames"]),
        "roles": {r["RoleName"] for r in client("iam").list_roles()["Roles"]},
        "buckets": {b["Name"] for b in client("s3").list_buckets()["Buckets"]},
        "alarms": {a["AlarmName"] for a in client("cloudwatch").describe_alarms()["MetricAlarms"]},
        "log groups": {g["logGroupName"] for g in client("logs").describe_log_groups()["logGroups"]},
        "queues": {u.rsplit("/", 1)[-1] for u in client("sqs").list_queues().get("QueueUrls", [])},
        "functions": {f["FunctionName"] for f in client("lambda").list_functions()["Functions"]},
        "mappings": {m["UUID"] for m in
                     client("lambda").list_event_source_mappings()["EventSourceMappings"]},
    }


def _build_bystander(url: str) -> lab.Lab:
    """An unprefixed learner's resources (the seed names), whose names end every prefixed name."""
    from lab import alarms, destinations, dynamodb, iam, logs, s3, sns

    cloud = lab.connect(url, quiet=True)
    sns.ensure_topic(cloud, quiet=True)
    sns.ensure_email_subscription(cloud, quiet=True)
    dynamodb.ensure_table(cloud, quiet=True)
    iam.create_role(cloud, cloud.names.role)  # the raw call: no wait for IAM to spread
    logs.ensure_log_group(cloud, quiet=True)
    s3.ensure_bucket(cloud, quiet=True)
    alarms.ensure_alarms(cloud, quiet=True)
    destinations.ensure_failure_queue(cloud, quiet=True)
    cloud.client("dynamodb").put_item(TableName=cloud.names.table,
                                      Item={dynamodb.PARTITION_KEY: {"S": "seed"}})
    cloud.client("s3").put_object(Bucket=cloud.names.bucket, Key="seed.txt", Body=b"x")
    return cloud


def test_two_prefixed_learners_share_one_account_without_meeting(clean, moto_endpoint, tmp_path):
    started = time.monotonic()
    bystander = _build_bystander(moto_endpoint)
    seed = _account_listing(moto_endpoint)
    learners = ["alice-", "bob-"]
    env = {name: value for name, value in os.environ.items() if not name.startswith("EVENTLAB_")}
    processes = {
        prefix: subprocess.Popen(
            [sys.executable, "-c", LEARNER, str(tmp_path), ",".join(learners)],
            env={**env, "EVENTLAB_BACKEND": moto_endpoint, "EVENTLAB_PREFIX": prefix},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for prefix in learners
    }
    results = {}
    for prefix, process in processes.items():
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err[-3000:]
        results[prefix] = json.loads(out.strip().splitlines()[-1])

    for prefix, other in (("alice-", "bob-"), ("bob-", "alice-")):
        seen, report = results[prefix]["seen"], results[prefix]["report"]
        # Both learners' tables (and the bystander's) were there at once…
        assert {f"{prefix}S3ObjectEvents", f"{other}S3ObjectEvents", "S3ObjectEvents"} <= set(
            seen["tables"])
        # …yet each saw exactly its own resources, items and objects.
        assert seen["inventory"] == EXPECTED_BEFORE
        assert seen["items"] == [f"{prefix}0", f"{prefix}1", f"{prefix}2"]
        assert seen["objects"] == [f"{prefix}0.txt", f"{prefix}1.txt"]
        # Its teardown deleted only its own resources, and left none of them behind.
        assert report["deleted"] and all(prefix in what for what in report["deleted"])
        assert not any(other in what for what in report["deleted"] + report["absent"])
        assert set(results[prefix]["after"].values()) == {0}

    # The account holds exactly the bystander's resources again, its data untouched.
    assert _account_listing(moto_endpoint) == seed
    items = bystander.client("dynamodb").scan(TableName=bystander.names.table)["Items"]
    assert [i["objectId"]["S"] for i in items] == ["seed"]
    keys = bystander.client("s3").list_objects_v2(Bucket=bystander.names.bucket)["Contents"]
    assert [o["Key"] for o in keys] == ["seed.txt"]
    bystander.teardown(quiet=True)
    assert time.monotonic() - started < 90
