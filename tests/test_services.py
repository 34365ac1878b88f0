"""The service helpers on the moto backend: get/create/ensure/delete, idempotency, learner errors."""

from __future__ import annotations

import json
import shutil

import pytest

import lab
from lab import alarms, awslambda, dynamodb, iam, logs, s3, sns


def test_topic_ensure_twice_creates_once(lab_moto, capsys):
    first = sns.ensure_topic(lab_moto)
    second = sns.ensure_topic(lab_moto)
    assert first == second == "arn:aws:sns:us-east-1:123456789012:event-driven-alerts"
    assert capsys.readouterr().out.splitlines() == [
        "✓ Created topic event-driven-alerts",
        "✓ Topic event-driven-alerts already exists",
    ]
    assert sns.delete_topic(lab_moto) is True
    assert sns.delete_topic(lab_moto) is False
    assert sns.get_topic(lab_moto) is None


@pytest.mark.parametrize("address", ["learner", "learner@", "@example.com", "a b@example.com",
                                     "learner@example", ""])
def test_invalid_email_gets_a_sentence(lab_moto, address):
    sns.ensure_topic(lab_moto, quiet=True)
    with pytest.raises(lab.InvalidEmail, match="name@example.com"):
        sns.ensure_email_subscription(lab_moto, address)
    assert sns.list_subscriptions(lab_moto) == []


def test_email_subscription_is_pending_until_confirmed_and_not_duplicated(lab_moto, capsys):
    sns.ensure_topic(lab_moto, quiet=True)
    assert sns.ensure_email_subscription(lab_moto) == "pending confirmation"
    assert sns.ensure_email_subscription(lab_moto) == "pending confirmation"
    assert len(sns.list_subscriptions(lab_moto)) == 1
    lab_moto.confirm_email()
    assert sns.ensure_email_subscription(lab_moto) == "confirmed"
    assert capsys.readouterr().out.splitlines() == [
        "✓ Subscribed learner@example.com to event-driven-alerts (pending confirmation)",
        "✓ Email subscription learner@example.com already exists (pending confirmation)",
        "✓ Email subscription learner@example.com already exists (confirmed)",
    ]


def test_subscribing_without_the_topic_names_lesson_01(lab_moto):
    with pytest.raises(lab.MissingResource, match="run notebook 01_sns_alerts_topic") as raised:
        sns.subscribe_email(lab_moto)
    assert raised.value.lesson == "01_sns_alerts_topic"


def test_table_has_the_seed_settings_and_ensure_is_idempotent(lab_moto, capsys):
    arn = dynamodb.ensure_table(lab_moto)
    assert dynamodb.ensure_table(lab_moto) == arn
    table = dynamodb.get_table(lab_moto)
    assert table["KeySchema"] == [{"AttributeName": "objectId", "KeyType": "HASH"}]
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    assert table["ProvisionedThroughput"]["WriteCapacityUnits"] == 5
    assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 5
    assert dynamodb.get_ttl(lab_moto) == {"TimeToLiveStatus": "ENABLED", "AttributeName": "ttl"}
    assert dynamodb.enable_ttl(lab_moto) is False
    assert capsys.readouterr().out.splitlines() == [
        "✓ Created table S3ObjectEvents", "✓ Table S3ObjectEvents already exists"]
    assert dynamodb.set_write_capacity(lab_moto, 1) is True
    assert dynamodb.set_write_capacity(lab_moto, 1) is False
    assert dynamodb.get_table(lab_moto)["ProvisionedThroughput"]["WriteCapacityUnits"] == 1
    assert dynamodb.delete_table(lab_moto) is True
    assert dynamodb.delete_table(lab_moto) is False


def test_scanning_a_missing_table_names_lesson_02(lab_moto):
    with pytest.raises(lab.MissingResource, match="S3ObjectEvents does not exist yet: run notebook 02"):
        dynamodb.scan_items(lab_moto)


def test_role_trusts_lambda_and_has_the_seed_policies(lab_moto, capsys):
    arn = iam.ensure_role(lab_moto)
    assert iam.ensure_role(lab_moto) == arn == "arn:aws:iam::123456789012:role/Lambda-S3-DDB-Role"
    role = iam.get_role(lab_moto)
    statement = role["AssumeRolePolicyDocument"]["Statement"][0]
    assert statement["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert statement["Action"] == "sts:AssumeRole"
    assert iam.attached_policies(lab_moto) == sorted(iam.SEED_POLICIES)
    assert iam.inline_policies(lab_moto) == []
    assert capsys.readouterr().out.splitlines() == [
        "✓ Created role Lambda-S3-DDB-Role", "✓ Role Lambda-S3-DDB-Role already exists"]


def test_least_privilege_replaces_the_managed_policies_and_back(lab_moto):
    iam.ensure_role(lab_moto, quiet=True)
    iam.ensure_role(lab_moto, least_privilege=True, quiet=True)
    assert iam.attached_policies(lab_moto) == []
    assert iam.inline_policies(lab_moto) == ["S3ToDynamoProcessor-least-privilege"]
    document = lab_moto.client("iam").get_role_policy(
        RoleName="Lambda-S3-DDB-Role", PolicyName="S3ToDynamoProcessor-least-privilege")["PolicyDocument"]
    resources = {s["Sid"]: s["Resource"] for s in document["Statement"]}
    assert resources == {
        "WriteEventItems": "arn:aws:dynamodb:us-east-1:123456789012:table/S3ObjectEvents",
        "ReadUploadedObjects": "arn:aws:s3:::event-driven-lab-123456789012-us-east-1/*",
        "CreateLogGroup": "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/S3ToDynamoProcessor",
        "WriteLogs": "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/S3ToDynamoProcessor:*",
    }
    assert all("*" not in s["Action"][0] for s in document["Statement"])
    iam.ensure_role(lab_moto, quiet=True)
    assert iam.attached_policies(lab_moto) == sorted(iam.SEED_POLICIES)
    assert iam.inline_policies(lab_moto) == []
    assert iam.delete_role(lab_moto) is True
    assert iam.delete_role(lab_moto) is False


def test_zip_is_reproducible_and_holds_the_handler():
    import io
    import zipfile

    first, second = awslambda.build_zip(), awslambda.build_zip()
    assert first == second
    assert awslambda.code_sha256(first) == awslambda.code_sha256(second)
    names = zipfile.ZipFile(io.BytesIO(first)).namelist()
    assert "lambda_function.py" in names
    assert not any("__pycache__" in n for n in names)


def _ready_for_function(connection):
    dynamodb.ensure_table(connection, quiet=True)
    return iam.ensure_role(connection, quiet=True)


def test_function_settings_and_code_updates(lab_moto, capsys, tmp_path, monkeypatch):
    role_arn = _ready_for_function(lab_moto)
    arn = awslambda.ensure_function(lab_moto, role_arn)
    assert awslambda.ensure_function(lab_moto, role_arn) == arn
    config = awslambda.get_function(lab_moto)
    assert (config["Runtime"], config["Handler"], config["Role"]) == (
        "python3.12", "lambda_function.lambda_handler", role_arn)
    assert config["Environment"]["Variables"] == {"TABLE_NAME": "S3ObjectEvents", "TTL_SECONDS": "86400"}
    assert config["CodeSha256"] == awslambda.code_sha256(awslambda.build_zip())
    assert config["State"] == "Active"

    changed = tmp_path / "handler"
    shutil.copytree(awslambda.HANDLER_DIR, changed)
    source = changed / "lambda_function.py"
    source.write_text(source.read_text() + "\n# a change\n")
    monkeypatch.setattr(awslambda, "HANDLER_DIR", changed)
    monkeypatch.setattr(awslambda.build_zip, "__defaults__", (changed,))
    awslambda.ensure_function(lab_moto, role_arn)
    assert awslambda.get_function(lab_moto)["CodeSha256"] == awslambda.code_sha256(
        awslambda.build_zip(changed))
    assert capsys.readouterr().out.splitlines() == [
        "✓ Created function S3ToDynamoProcessor",
        "✓ Function S3ToDynamoProcessor already exists",
        "✓ Function S3ToDynamoProcessor already exists (updated its code)",
    ]
    assert awslambda.delete_function(lab_moto) is True
    assert awslambda.delete_function(lab_moto) is False


def test_function_without_role_names_lesson_03(lab_moto):
    with pytest.raises(lab.MissingResource, match="run notebook 03_iam_role"):
        awslambda.ensure_function(lab_moto)


def test_log_group_gets_a_retention(lab_moto, capsys):
    logs.ensure_log_group(lab_moto)
    logs.ensure_log_group(lab_moto)
    assert logs.get_log_group(lab_moto)["retentionInDays"] == 7
    assert capsys.readouterr().out.splitlines() == [
        "✓ Created log group /aws/lambda/S3ToDynamoProcessor",
        "✓ Log group /aws/lambda/S3ToDynamoProcessor already exists",
    ]
    assert logs.delete_log_group(lab_moto) is True
    assert logs.delete_log_group(lab_moto) is False


def test_bucket_trigger_has_a_scoped_permission(lab_moto, capsys):
    role_arn = _ready_for_function(lab_moto)
    function_arn = awslambda.ensure_function(lab_moto, role_arn, quiet=True)
    s3.ensure_bucket(lab_moto)
    s3.ensure_bucket(lab_moto)
    assert s3.ensure_trigger(lab_moto) == function_arn
    assert s3.ensure_trigger(lab_moto) == function_arn
    policy = json.loads(lab_moto.client("lambda").get_policy(FunctionName="S3ToDynamoProcessor")["Policy"])
    [statement] = policy["Statement"]
    assert statement["Principal"] == {"Service": "s3.amazonaws.com"}
    assert statement["Condition"]["ArnLike"]["AWS:SourceArn"] == (
        "arn:aws:s3:::event-driven-lab-123456789012-us-east-1")
    assert statement["Condition"]["StringEquals"]["AWS:SourceAccount"] == "123456789012"
    trigger = s3.get_trigger(lab_moto)
    assert trigger["Events"] == ["s3:ObjectCreated:*"]
    assert capsys.readouterr().out.splitlines() == [
        "✓ Created bucket event-driven-lab-123456789012-us-east-1",
        "✓ Bucket event-driven-lab-123456789012-us-east-1 already exists",
        "✓ Created trigger event-driven-lab-123456789012-us-east-1 → S3ToDynamoProcessor",
        "✓ Trigger event-driven-lab-123456789012-us-east-1 → S3ToDynamoProcessor already exists",
    ]


def test_trigger_without_function_names_lesson_04(lab_moto):
    s3.ensure_bucket(lab_moto, quiet=True)
    with pytest.raises(lab.MissingResource, match="run notebook 04_lambda_function"):
        s3.ensure_trigger(lab_moto)


def test_upload_without_bucket_names_lesson_05(lab_moto):
    with pytest.raises(lab.MissingResource, match="run notebook 05_s3_trigger"):
        s3.upload(lab_moto, "hello.txt", "hi")


def test_bucket_name_owned_by_another_account_is_one_sentence(lab_moto):
    from moto.s3.models import s3_backends

    s3_backends["111111111111"]["aws"].create_bucket(lab_moto.names.bucket, "us-east-1")
    with pytest.raises(lab.BucketNameTaken, match="set EVENTLAB_BUCKET"):
        s3.ensure_bucket(lab_moto)
    with pytest.raises(lab.BucketNameTaken, match="belongs to another AWS account"):
        s3.create_bucket(lab_moto)


def test_alarms_watch_the_table_and_notify_the_topic(lab_moto, capsys):
    topic_arn = sns.ensure_topic(lab_moto, quiet=True)
    dynamodb.ensure_table(lab_moto, quiet=True)
    first = alarms.ensure_alarms(lab_moto)
    assert alarms.ensure_alarms(lab_moto) == first
    described = {a["AlarmName"]: a for a in lab_moto.client("cloudwatch").describe_alarms()["MetricAlarms"]}
    activity = described["DynamoDBWriteActivityAlert"]
    throttle = described["DynamoDBWriteThrottleAlert"]
    for alarm in (activity, throttle):
        assert alarm["Namespace"] == "AWS/DynamoDB"
        assert alarm["Dimensions"] == [{"Name": "TableName", "Value": "S3ObjectEvents"}]
        assert (alarm["Statistic"], alarm["Period"], alarm["EvaluationPeriods"]) == ("Sum", 60, 1)
        assert alarm["AlarmActions"] == alarm["OKActions"] == [topic_arn]
    assert activity["MetricName"] == "ConsumedWriteCapacityUnits"
    assert (activity["ComparisonOperator"], activity["Threshold"]) == ("GreaterThanThreshold", 10.0)
    assert throttle["MetricName"] == "WriteThrottleEvents"
    assert (throttle["ComparisonOperator"], throttle["Threshold"]) == (
        "GreaterThanOrEqualToThreshold", 1.0)
    alarms.ensure_alarms(lab_moto, activity_threshold=4)
    assert alarms.get_alarm(lab_moto, "DynamoDBWriteActivityAlert")["Threshold"] == 4.0
    assert capsys.readouterr().out.splitlines() == [
        "✓ Created alarm DynamoDBWriteActivityAlert",
        "✓ Created alarm DynamoDBWriteThrottleAlert",
        "✓ Alarm DynamoDBWriteActivityAlert already exists",
        "✓ Alarm DynamoDBWriteThrottleAlert already exists",
        "✓ Alarm DynamoDBWriteActivityAlert already exists (updated its settings)",
        "✓ Alarm DynamoDBWriteThrottleAlert already exists",
    ]
    assert alarms.delete_alarms(lab_moto) == ["DynamoDBWriteActivityAlert", "DynamoDBWriteThrottleAlert"]
    assert alarms.delete_alarms(lab_moto) == []


def test_alarms_without_topic_name_lesson_01(lab_moto):
    with pytest.raises(lab.MissingResource, match="run notebook 01_sns_alerts_topic"):
        alarms.ensure_alarms(lab_moto)


def _lab_resources(connection) -> dict[str, list[str]]:
    """Everything of the lab that exists, listed through the APIs."""
    c = connection.client
    return {
        "topics": [t["TopicArn"] for t in c("sns").list_topics()["Topics"]],
        "subscriptions": [s["SubscriptionArn"] for s in c("sns").list_subscriptions()["Subscriptions"]],
        "tables": c("dynamodb").list_tables()["TableNames"],
        "roles": [r["RoleName"] for r in c("iam").list_roles()["Roles"]],
        "functions": [f["FunctionName"] for f in c("lambda").list_functions()["Functions"]],
        "log_groups": [g["logGroupName"] for g in c("logs").describe_log_groups()["logGroups"]],
        "buckets": [b["Name"] for b in c("s3").list_buckets()["Buckets"]],
        "alarms": [a["AlarmName"] for a in c("cloudwatch").describe_alarms()["MetricAlarms"]],
    }


def test_build_then_teardown_leaves_nothing_and_both_are_idempotent(lab_moto):
    summary = lab_moto.build_pipeline(quiet=True)
    assert set(summary) == {"topic", "subscription", "table", "role", "log_group", "function",
                            "bucket", "alarms"}
    assert lab_moto.build_pipeline(quiet=True) == summary
    built = _lab_resources(lab_moto)
    assert all(built[kind] for kind in built), built
    client = lab_moto.client("s3")
    client.put_bucket_versioning(Bucket=lab_moto.names.bucket,
                                 VersioningConfiguration={"Status": "Enabled"})
    for version in range(3):
        client.put_object(Bucket=lab_moto.names.bucket, Key="same key.txt", Body=str(version).encode())
    client.delete_object(Bucket=lab_moto.names.bucket, Key="same key.txt")

    result = lab_moto.teardown(quiet=True)
    assert result["absent"] == []
    assert len(result["deleted"]) == 8
    assert f"bucket {lab_moto.names.bucket} (4 object versions)" in result["deleted"]
    assert _lab_resources(lab_moto) == {kind: [] for kind in built}
    again = lab_moto.teardown(quiet=True)
    assert again["deleted"] == []
    assert len(again["absent"]) == 8


def test_invoke_returns_the_runs_request_id_and_result(lab_moto):
    lab_moto.build_pipeline(quiet=True)
    event = {"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": "2026-11-25T08:43:27.192Z", "eventName": "ObjectCreated:Put",
        "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": lab_moto.names.bucket},
               "object": {"key": "my+file.txt", "size": 5, "eTag": "abc", "sequencer": "0A1B"}}}]}
    response = awslambda.invoke(lab_moto, event)
    assert response["StatusCode"] == 200
    assert response["FunctionError"] is None
    assert (response["Result"]["stored"], response["Result"]["skipped"]) == (1, 0)
    # Log events are readable a few seconds after the run (the local cloud delays them as AWS
    # does): wait up to 10 s of the local clock, which costs no real time.
    lines = logs.invocation_lines(lab_moto, response["RequestId"], timeout=10)
    assert lines[0] == f"START RequestId: {response['RequestId']} Version: $LATEST"
    assert lines[-1].startswith(f"REPORT RequestId: {response['RequestId']}\t")
    assert response["LogTail"][-1] == lines[-1]
    assert [i["objectKey"] for i in dynamodb.scan_items(lab_moto)] == ["my file.txt"]


def test_invoking_a_missing_function_names_lesson_04(lab_moto):
    with pytest.raises(lab.MissingResource, match="run notebook 04_lambda_function"):
        awslambda.invoke(lab_moto, {})


def test_a_repeated_statement_id_is_refused_as_aws_does(lab_moto):
    lab_moto.build_pipeline(quiet=True)
    client = lab_moto.client("lambda")
    with pytest.raises(client.exceptions.ResourceConflictException,
                       match=r"The statement id \(s3-invoke-.*\) provided already exists"):
        client.add_permission(
            FunctionName=lab_moto.names.function, StatementId=s3.permission_statement_id(lab_moto),
            Action="lambda:InvokeFunction", Principal="s3.amazonaws.com")
    policy = json.loads(client.get_policy(FunctionName=lab_moto.names.function)["Policy"])
    assert len(policy["Statement"]) == 1
    assert s3.allow_s3_to_invoke(lab_moto) is False
