"""The CI fault profile (lab.faults): each kind injected as AWS spells it, counted, seeded, off by
default, never without the moto mock."""

from __future__ import annotations

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

import lab
from lab import faults, mock

NO_RETRY = Config(retries={"mode": "standard", "total_max_attempts": 1})


@pytest.fixture
def faulty(monkeypatch: pytest.MonkeyPatch) -> lab.Lab:
    """A fresh moto backend started with EVENTLAB_FAULTS=ci; stopped afterwards."""
    mock.stop()
    monkeypatch.setenv(faults.SETTING, "ci")
    connection = lab.connect("moto", quiet=True)
    faults.reset_counts()
    yield connection
    mock.stop()


def raw_client(cloud: lab.Lab, service: str):
    """A client that does not retry: the first answer is the one the caller sees."""
    return cloud._session.client(service, region_name=cloud.region, config=NO_RETRY)


def refusal(call) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as caught:
        call()
    response = caught.value.response
    return (response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"],
            response["Error"]["Message"])


def test_off_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(faults.SETTING, raising=False)
    mock.stop()
    try:
        faults.reset_counts()
        cloud = lab.connect("moto", quiet=True)
        assert not faults.active()
        response = raw_client(cloud, "dynamodb").list_tables()
        assert response["ResponseMetadata"]["RetryAttempts"] == 0
        assert sum(faults.counts().values()) == 0
    finally:
        mock.stop()


def test_an_unknown_profile_is_one_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(faults.SETTING, "chaos")
    with pytest.raises(lab.LabError, match="EVENTLAB_FAULTS='chaos' is not a fault profile"):
        faults.profile_from_environment()


# Throttling as each service spells it (see lab.faults.THROTTLING for the AWS pages).
@pytest.mark.parametrize(("service", "call", "expected"), [
    ("dynamodb", lambda c: c.list_tables(), ("ThrottlingException", 400)),
    ("dynamodb", lambda c: c.scan(TableName="t"), ("ProvisionedThroughputExceededException", 400)),
    ("lambda", lambda c: c.list_functions(), ("TooManyRequestsException", 429)),
    ("s3", lambda c: c.list_buckets(), ("SlowDown", 503)),
    ("iam", lambda c: c.list_roles(), ("Throttling", 400)),
    ("sns", lambda c: c.list_topics(), ("Throttling", 400)),
    ("sqs", lambda c: c.list_queues(), ("RequestThrottled", 400)),
    ("cloudwatch", lambda c: c.describe_alarms(), ("Throttling", 400)),
    ("logs", lambda c: c.describe_log_groups(), ("ThrottlingException", 400)),
    ("sts", lambda c: c.get_caller_identity(), ("Throttling", 400)),
])
def test_throttling_on_every_service(faulty: lab.Lab, service, call, expected) -> None:
    client = raw_client(faulty, service)
    code, status, _ = refusal(lambda: call(client))
    assert (code, status) == expected
    assert faults.counts()[faults.THROTTLING_KIND] == 1
    try:  # the retry after an injected error passes (it may meet the resource's absence)
        call(client)
    except ClientError as error:
        assert error.response["Error"]["Code"] == "ResourceNotFoundException"
    # and botocore's own retries absorb it: the lab's clients never see it
    response = call(faulty.client(service)) if service != "dynamodb" else None
    assert response is None or response["ResponseMetadata"]["RetryAttempts"] in (0, 1)


def test_the_lab_client_retries_a_throttle_without_sleeping(
        faulty: lab.Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    response = faulty.client("sns").list_topics()
    assert response["ResponseMetadata"]["RetryAttempts"] == 1
    assert slept == []  # botocore's backoff after an injected throttle is not slept


def test_consistency_errors_go_to_the_lab_code_only(faulty: lab.Lab,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    s3 = raw_client(faulty, "s3")
    # a notebook's (here a test's) own call gets throttling only
    with pytest.raises(ClientError, match="SlowDown"):
        s3.create_bucket(Bucket="from-a-cell")
    s3.create_bucket(Bucket="from-a-cell")
    monkeypatch.setattr(faults, "_called_by_lab", lambda: True)
    assert refusal(lambda: s3.create_bucket(Bucket="from-the-lab"))[:2] == ("OperationAborted", 409)
    assert faults.counts()[faults.ABORTED_KIND] == 1


def test_each_consistency_error_as_aws_sends_it(faulty: lab.Lab,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(faults, "_called_by_lab", lambda: True)
    lam, s3 = raw_client(faulty, "lambda"), raw_client(faulty, "s3")
    code, status, message = refusal(lambda: lam.create_function(
        FunctionName="f", Runtime="python3.12", Role="arn:aws:iam::123456789012:role/r",
        Handler="h.h", Code={"ZipFile": b"zip"}))
    assert (code, status, message) == ("InvalidParameterValueException", 400,
                                       "The role defined for the function cannot be assumed by Lambda.")
    code, status, message = refusal(lambda: lam.update_function_configuration(
        FunctionName="f", Timeout=3))
    assert (code, status) == ("ResourceConflictException", 409)
    assert message.endswith("An update is in progress for resource: "
                            "arn:aws:lambda:us-east-1:123456789012:function:f")
    assert refusal(lambda: lam.update_function_code(FunctionName="f", ZipFile=b"z"))[0] == \
        "ResourceConflictException"
    code, status, message = refusal(lambda: s3.put_bucket_notification_configuration(
        Bucket="b", NotificationConfiguration={}))
    assert (code, status, message) == ("InvalidArgument", 400,
                                       "Unable to validate the following destination configurations")
    counted = faults.counts()
    assert counted[faults.ROLE_KIND] == 1 and counted[faults.DESTINATION_KIND] == 1
    assert counted[faults.CONFLICT_KIND] == 2


def test_a_listing_after_a_delete_shows_the_item_once(faulty: lab.Lab,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    sqs = faulty.client("sqs")
    url = sqs.create_queue(QueueName="gone-soon")["QueueUrl"]
    assert sqs.list_queues()["QueueUrls"] == [url]
    sqs.delete_queue(QueueUrl=url)
    # a test's own listing is exact
    assert sqs.list_queues().get("QueueUrls", []) == []
    url = sqs.create_queue(QueueName="gone-soon")["QueueUrl"]
    monkeypatch.setattr(faults, "_called_by_lab", lambda: True)
    assert sqs.list_queues()["QueueUrls"] == [url]
    sqs.delete_queue(QueueUrl=url)
    assert sqs.list_queues()["QueueUrls"] == [url]  # still listed, once
    assert sqs.list_queues().get("QueueUrls", []) == []
    assert faults.counts()[faults.LISTING_KIND] == 1


def test_seeded_and_deterministic() -> None:
    def choices(seed: int) -> list[bool]:
        injector = faults.Injector(faults.Profile("t", seed=seed, rate=0.3))
        picked = []
        for _ in range(200):
            picked.append(injector.chosen(faults.THROTTLING_KIND, "s3", "PutObject"))
        return picked

    first = choices(1)
    assert first == choices(1)
    assert first != choices(2)
    assert first[0] and not first[1]  # the first call fails once, its retry passes
    assert 0.15 < sum(first) / len(first) < 0.45
    assert not any(a and b for a, b in zip(first, first[1:]))  # never twice in a row


def test_never_without_the_moto_mock(monkeypatch: pytest.MonkeyPatch) -> None:
    mock.stop()
    injector = faults.Injector(faults.PROFILES["ci"])

    class Request:
        url = "https://s3.amazonaws.com/"
        headers: dict[str, str] = {}

    # no mock (the aws or an endpoint backend): the handler answers nothing, counts nothing
    assert injector.before_send(Request(), "before-send.s3.ListBuckets") is None
    assert sum(injector.injected.values()) == 0
    monkeypatch.setenv(faults.SETTING, "ci")
    assert not faults.active()  # only lab.mock.start installs it
