"""lab.sqs and lab.destinations: queues, a bounded wait for a message, lesson 11's destination."""

from __future__ import annotations

import json
import time

import pytest

from lab import destinations, pipeline, sqs


def test_ensure_queue_is_get_or_create_and_returns_the_arn(lab_moto, capsys):
    arn = sqs.ensure_queue(lab_moto, "jobs")
    assert arn == f"arn:aws:sqs:{lab_moto.region}:{lab_moto.account_id}:jobs"
    assert sqs.ensure_queue(lab_moto, "jobs") == arn
    assert capsys.readouterr().out.splitlines() == ["✓ Created queue jobs",
                                                    "✓ Queue jobs already exists"]
    assert sqs.get_queue_url(lab_moto, "jobs").endswith(f"/{lab_moto.account_id}/jobs")
    assert sqs.delete_queue(lab_moto, "jobs") is True
    assert sqs.delete_queue(lab_moto, "jobs") is False
    assert sqs.get_queue_url(lab_moto, "jobs") is None and sqs.get_queue_arn(lab_moto, "jobs") is None


def test_wait_for_message_returns_a_message_and_keeps_it_visible(lab_moto):
    sqs.ensure_queue(lab_moto, "jobs", quiet=True)
    url = sqs.get_queue_url(lab_moto, "jobs")
    for body in ("one", "two"):
        lab_moto.client("sqs").send_message(QueueUrl=url, MessageBody=body)
        time.sleep(0.01)  # SentTimestamp counts milliseconds
    assert sqs.wait_for_message(lab_moto, "jobs", match=lambda m: m["Body"] == "one")["Body"] == "one"
    assert sqs.wait_for_message(lab_moto, "jobs", match=lambda m: m["Body"] == "one")["Body"] == "one"
    assert sqs.wait_for_message(lab_moto, "jobs")["Body"] == "two"  # the newest
    taken = sqs.receive_messages(lab_moto, "jobs", keep=False)
    assert sorted(m["Body"] for m in taken) == ["one", "two"]
    assert sqs.receive_messages(lab_moto, "jobs") == []  # hidden for the visibility timeout


def test_wait_for_message_gives_up_with_one_line_instead_of_an_index_error(lab_moto, capsys):
    sqs.ensure_queue(lab_moto, "jobs", quiet=True)
    capsys.readouterr()
    started = time.monotonic()
    assert sqs.wait_for_message(lab_moto, "jobs", timeout=0.3, advice="Try again.") is None
    assert time.monotonic() - started < 5
    assert capsys.readouterr().out == "✗ No message arrived in jobs. Try again.\n"
    assert sqs.wait_for_message(lab_moto, "missing") is None
    assert capsys.readouterr().out == "✗ There is no queue missing.\n"


def test_on_aws_the_wait_long_polls_and_is_bounded(lab_moto, capsys, monkeypatch):
    sqs.ensure_queue(lab_moto, "jobs", quiet=True)
    capsys.readouterr()
    waits = []
    original = sqs.receive_messages

    def receive(lab, name, *, wait_seconds=0, keep=True):
        waits.append(wait_seconds)
        return original(lab, name, wait_seconds=0, keep=keep)  # moto would really sleep

    monkeypatch.setattr(type(lab_moto), "is_local", property(lambda self: False))
    monkeypatch.setattr(sqs, "receive_messages", receive)
    monkeypatch.setattr(sqs, "AWS_WAIT_SECONDS", 1.2)
    started = time.monotonic()
    assert sqs.wait_for_message(lab_moto, "jobs") is None
    assert time.monotonic() - started < 5
    assert waits[0] == 1 and all(0 <= w <= sqs.LONG_POLL_SECONDS for w in waits)
    assert capsys.readouterr().out == "✗ No message arrived in jobs after waiting 1 s.\n"


def test_a_second_put_of_the_asynchronous_settings_replaces_the_first(lab_moto):
    """The local cloud keeps only the latest PutFunctionEventInvokeConfig, as AWS does."""
    pipeline.build_pipeline(lab_moto, quiet=True)
    client, name = lab_moto.client("lambda"), lab_moto.names.function
    for retries in (0, 1):
        client.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=retries)
    assert client.get_function_event_invoke_config(FunctionName=name)["MaximumRetryAttempts"] == 1
    assert len(client.list_function_event_invoke_configs(
        FunctionName=name)["FunctionEventInvokeConfigs"]) == 1


def test_the_destination_helpers_build_and_remove_everything_idempotently(lab_moto, capsys):
    pipeline.build_pipeline(lab_moto, quiet=True)
    arn = destinations.ensure_on_failure(lab_moto)  # builds the queue and the permission too
    assert arn == destinations.failure_queue_arn(lab_moto)
    assert destinations.ensure_on_failure(lab_moto) == arn
    out = capsys.readouterr().out.splitlines()
    assert out == ["✓ S3ToDynamoProcessor now sends events that fail 3 attempts to "
                   "S3ToDynamoProcessor-failures",
                   "✓ S3ToDynamoProcessor already sends events that fail 3 attempts to "
                   "S3ToDynamoProcessor-failures"]
    policy = lab_moto.client("iam").get_role_policy(RoleName=lab_moto.names.role,
                                                    PolicyName=destinations.policy_name(lab_moto))
    assert policy["PolicyDocument"] == destinations.send_policy(arn)
    destinations.remove(lab_moto, quiet=True)
    assert destinations.get_async_config(lab_moto) is None
    assert destinations.failure_queue_arn(lab_moto) is None


def test_failure_record_reads_only_invocation_records(lab_moto, capsys):
    destinations.ensure_failure_queue(lab_moto, quiet=True)
    url = sqs.get_queue_url(lab_moto, destinations.queue_name(lab_moto))
    lab_moto.client("sqs").send_message(QueueUrl=url, MessageBody="not json")
    assert destinations.failure_record(lab_moto) is None
    assert "only after the third failed attempt" in capsys.readouterr().out
    record = {"requestContext": {}, "requestPayload": {"Records": [
        {"s3": {"object": {"key": "a+b%2Bc.txt"}}}]}}
    lab_moto.client("sqs").send_message(QueueUrl=url, MessageBody=json.dumps(record))
    assert destinations.failure_record(lab_moto, key="a b+c.txt") == record
    assert destinations.event_keys(record["requestPayload"]) == ["a b+c.txt"]
    assert destinations.event_keys(None) == []


@pytest.mark.parametrize("config,target", [
    (None, None), ({}, None), ({"DestinationConfig": {"OnFailure": {}}}, None),
    ({"DestinationConfig": {"OnFailure": {"Destination": "arn:x"}}}, "arn:x"),
])
def test_on_failure_target(config, target):
    assert destinations.on_failure_target(config) == target
