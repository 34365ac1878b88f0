"""Build-it-yourself exercises: ____ never reaches AWS, a skipped build is done by the helper,
AWS errors and wrong resources become sentences, and the learner never sees a traceback."""

from __future__ import annotations

import json

import pytest

import lab
from lab import sns
from lab.checks import ____, BuildExercise, NotAttempted, Wrong, blank_paths, holds_blank
from lab.connection import friendly_sentence


def _topic_exists(cloud):
    if sns.get_topic(cloud) is None:
        raise Wrong("there is no topic yet.")
    return "the topic exists."


def _exercise(**changes):
    built = []

    def build(cloud):
        built.append(sns.ensure_topic(cloud))

    exercise = BuildExercise(title="Make a topic", test=_topic_exists, build=build,
                             hints=("one", "two"), solution_text="create_topic(Name=...)",
                             **changes)
    return exercise, built


def _requests_sent(client):
    sent = []
    client.meta.events.register("before-send", lambda request, **_: sent.append(request.url))
    return sent


@pytest.mark.parametrize("value, paths", [
    (____, ["the value"]),
    ({"Name": ____}, ["Name"]),
    ({"KeySchema": [{"AttributeName": "objectId", "KeyType": ____}]}, ["KeySchema[0].KeyType"]),
    ({"Policy": json.dumps({"Principal": {"Service": ____}})}, ["Policy"]),
    ({"Arn": f"arn:aws:sns:{____}:1:t"}, ["Arn"]),
    ({"Name": "event-driven-alerts", "Tags": [{"Key": "k", "Value": "v"}], "N": 5}, []),
])
def test_blanks_are_found_wherever_they_stand(value, paths):
    assert blank_paths(value) == paths
    assert holds_blank(value) is bool(paths)


def test_a_call_with_a_blank_is_refused_before_anything_is_sent(lab_moto):
    client = lab_moto.client("sns")
    sent = _requests_sent(client)
    with pytest.raises(NotAttempted, match=r"CreateTopic still has ____ in Name"):
        client.create_topic(Name=____)
    with pytest.raises(NotAttempted, match=r"Attributes\.DisplayName"):
        client.create_topic(Name="t", Attributes={"DisplayName": f"x{____}"})
    assert sent == []
    client.create_topic(Name="complete")
    assert len(sent) == 1


def test_a_skipped_build_says_not_attempted_and_the_helper_builds_it(lab_moto, capsys):
    exercise, built = _exercise()
    with exercise.attempt(lab_moto) as attempt:
        lab_moto.client("sns").create_topic(Name=____)
        print("never printed")
    assert attempt.outcome.status == "not attempted"
    assert built == [sns.get_topic(lab_moto)]
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "… Make a topic: not attempted yet — replace each ____ and run the cell again. Meanwhile "
        "the lab",
        "  builds it:",
        "✓ Created topic event-driven-alerts",
    ]


def test_a_blank_that_breaks_python_before_boto3_still_counts_as_not_attempted(lab_moto):
    exercise, built = _exercise()
    with exercise.attempt(lab_moto) as attempt:
        float(____)
    assert attempt.outcome.status == "not attempted" and built


def test_the_right_call_is_graded_through_the_api_and_can_run_twice(lab_moto, capsys):
    exercise, built = _exercise()
    for _ in range(2):
        with exercise.attempt(lab_moto) as attempt:
            lab_moto.client("sns").create_topic(Name=lab_moto.names.topic)
        assert attempt.outcome.status == "correct"
    assert built == []
    assert capsys.readouterr().out.count("✓ Make a topic: the topic exists.") == 2


def test_an_aws_error_is_explained_or_quoted_in_one_sentence(lab_moto, capsys):
    plain, _ = _exercise()
    with plain.attempt(lab_moto) as attempt:
        lab_moto.client("sns").create_topic(Name="has spaces")
    assert attempt.outcome.status == "wrong"
    assert attempt.outcome.message.startswith("Make a topic: AWS refused the call with InvalidParameter")
    explained, _ = _exercise(explain=lambda code, message, cloud: f"code {code}: use cloud.names.topic.")
    with explained.attempt(lab_moto) as attempt:
        lab_moto.client("sns").create_topic(Name="has spaces")
    assert attempt.outcome.message == "Make a topic: code InvalidParameter: use cloud.names.topic."
    assert "Traceback" not in capsys.readouterr().out


def test_an_already_exists_code_grades_what_is_there(lab_moto):
    exercise, _ = _exercise(exists=("ResourceInUseException",))
    sns.ensure_topic(lab_moto, quiet=True)
    with exercise.attempt(lab_moto) as attempt:
        lab_moto.client("dynamodb").describe_table(TableName="absent")  # ResourceNotFound: not listed
    assert attempt.outcome.status == "wrong"
    from botocore.exceptions import ClientError

    error = ClientError({"Error": {"Code": "ResourceInUseException", "Message": "exists"}}, "CreateTable")
    assert exercise.outcome_of(lab_moto, error).status == "correct"


def test_the_learners_own_python_error_is_one_sentence(lab_moto):
    exercise, built = _exercise()
    with exercise.attempt(lab_moto) as attempt:
        response = lab_moto.client("sns").create_topic(Name=lab_moto.names.topic)
        response["TopicARN"]  # a typo in the key
    assert attempt.outcome.status == "wrong"
    assert attempt.outcome.message == ("Make a topic: your code stopped with KeyError: 'TopicARN'. "
                                       "Fix it and run the cell again; hint() helps.")
    assert built == []


def test_a_keyboard_interrupt_is_not_swallowed(lab_moto):
    exercise, _ = _exercise()
    with pytest.raises(KeyboardInterrupt):
        with exercise.attempt(lab_moto):
            raise KeyboardInterrupt


def test_attempt_without_the_connection_says_how_to_pass_it(capsys):
    exercise, built = _exercise()
    with exercise.attempt("cloud") as attempt:
        pass
    assert attempt.outcome.status == "wrong"
    assert "pass the connection made by connect()" in attempt.outcome.message
    assert exercise.evaluate(None).status == "wrong" and built == []


def test_solutions_can_be_turned_off_for_a_class(monkeypatch, capsys):
    exercise, _ = _exercise()
    exercise.solution()
    monkeypatch.setenv("EVENTLAB_SOLUTIONS", "off")
    exercise.solution()
    from lab.exercises import sns_alerts_topic

    sns_alerts_topic.q1.solution()
    out = capsys.readouterr().out
    assert out.count("create_topic(Name=...)") == 1
    assert out.count("Solutions are turned off for this class (EVENTLAB_SOLUTIONS=off)") == 2
    assert "arn:aws:sns:{cloud.region}" not in out


def test_friendly_sentences_for_lost_variables_and_botocore_errors():
    from botocore.exceptions import ClientError, ParamValidationError

    assert friendly_sentence(NameError("name 'cloud' is not defined", name="cloud")).startswith(
        "'cloud' is not defined in this kernel: run the lesson's first code cell")
    error = ClientError({"Error": {"Code": "ResourceInUseException", "Message": "Table exists"}},
                        "CreateTable")
    assert friendly_sentence(error) == "AWS refused CreateTable with ResourceInUseException: Table exists"
    assert friendly_sentence(ParamValidationError(report="Invalid type for parameter Threshold")) \
        .startswith("boto3 refused the call before sending it: Parameter validation failed")


@pytest.mark.parametrize("address", ["not-an-email", "learner@", "me@example", "a b@example.com"])
def test_connect_refuses_an_invalid_eventlab_email_before_creating_anything(monkeypatch, address):
    monkeypatch.setenv("EVENTLAB_EMAIL", address)
    with pytest.raises(lab.InvalidEmail, match=r"EVENTLAB_EMAIL=.* is not an email address SNS can "
                                                r"deliver to: set it to the form name@example.com"):
        lab.connect("moto", quiet=True)


def test_connect_accepts_a_valid_eventlab_email(monkeypatch):
    from lab import mock

    mock.stop()
    monkeypatch.setenv("EVENTLAB_EMAIL", "student.one@school.example.org")
    try:
        assert lab.connect("moto", quiet=True).names.email == "student.one@school.example.org"
    finally:
        mock.stop()


def test_a_build_check_called_without_the_connection_says_how_to_pass_it(capsys):
    exercise, built = _exercise()
    assert exercise.check().status == "wrong"
    with exercise.attempt() as attempt:
        pass
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "✗ Make a topic: pass the connection made by connect(), e.g. check(cloud)."
    assert out[1].startswith("✗ Make a topic: pass the connection made by connect(), e.g. with ")
    assert attempt.outcome.status == "wrong" and built == []


def test_boto3s_own_refusal_reaches_explain_or_is_quoted(lab_moto):
    explained, _ = _exercise(explain=lambda code, message, cloud:
                             f"{code}: the name is text." if code == "ParamValidationError" else None)
    with explained.attempt(lab_moto) as attempt:
        lab_moto.client("sns").create_topic(Name=42)
    assert attempt.outcome.message == "Make a topic: ParamValidationError: the name is text."
    plain, _ = _exercise()
    with plain.attempt(lab_moto) as attempt:
        lab_moto.client("sns").create_topic(Name=42)
    assert attempt.outcome.message == (
        "Make a topic: boto3 refused a value before sending it: Invalid type for parameter Name, "
        "value: 42, type: <class 'int'>, valid types: <class 'str'> Fix it and run the cell again.")


@pytest.mark.parametrize("region", ["us-east1", "useast-1", "eu-west-9"])
def test_connect_refuses_a_region_typo_in_one_sentence(monkeypatch, region):
    monkeypatch.setenv("EVENTLAB_REGION", region)
    with pytest.raises(lab.ConfigurationError, match=rf"EVENTLAB_REGION: '{region}' is not an AWS "
                                                     r"region with every service of the pipeline"):
        lab.connect("moto", quiet=True)


@pytest.mark.parametrize("region", ["cn-north-1", "us-gov-west-1", "eu-central-1"])
def test_regions_of_every_partition_are_known(region):
    from lab.settings import region_problem

    assert region_problem(region) is None


def test_data_that_merely_contains_four_underscores_is_sent(lab_moto):
    """A file may be called '____' (the fuzz found it): only the placeholder itself is a blank."""
    client = lab_moto.client("s3")
    client.create_bucket(Bucket="data-bucket")
    client.put_object(Bucket="data-bucket", Key="____", Body=b"____")
    assert client.get_object(Bucket="data-bucket", Key="____")["Body"].read() == b"____"
    with pytest.raises(NotAttempted, match=r"PutObject still has ____ in Key"):
        client.put_object(Bucket="data-bucket", Key=____, Body=b"x")
    with pytest.raises(NotAttempted, match=r"Bucket"):
        client.put_object(Bucket=f"data-{____}", Key="k", Body=b"x")
