"""Lesson 11's exercises: the on-failure destination built with a real call, the poison event, the replay."""

from __future__ import annotations

import pytest

import lab
from lab import awslambda, destinations, iam, mock, pipeline, s3, sqs, verify
from lab.checks import ____
from lab.exercises import retries_and_destinations as ex

POISON_KEY = "failure-modes/invoice 0042.csv"


@pytest.fixture(scope="module")
def built():
    """One moto mock for the module with lessons 01–06 built (building them takes seconds)."""
    mock.stop()
    connection = lab.connect("moto", quiet=True)
    pipeline.prepare_lesson(connection, "11")
    yield connection
    mock.stop()


@pytest.fixture
def cloud(built, capsys):
    """Where the lesson's exercise starts: the lab's function, a new failure queue and the role's
    permission to send to it, no asynchronous settings."""
    destinations.remove(built, quiet=True)
    awslambda.ensure_function(built, quiet=True)
    destinations.ensure_failure_queue(built, quiet=True)
    destinations.ensure_send_permission(built, quiet=True)
    capsys.readouterr()
    return built


def _put(cloud, destination, retries=2):
    """The exercise cell, with ``destination`` in place of the blank."""
    with ex.build_destination.attempt(cloud) as attempt:
        response = cloud.client("lambda").put_function_event_invoke_config(
            FunctionName=cloud.names.function,
            MaximumRetryAttempts=retries,
            DestinationConfig={"OnFailure": {"Destination": destination}},
        )
        print(response["DestinationConfig"])
    return attempt.outcome


def _queue_url(cloud):
    return sqs.get_queue_url(cloud, destinations.queue_name(cloud))


def _function_arn(cloud):
    return awslambda.get_function(cloud)["FunctionArn"]


# -- build_destination ------------------------------------------------------------------------

def test_the_blank_form_is_not_attempted_and_the_helper_builds_the_destination(cloud, capsys):
    outcome = _put(cloud, ____)
    assert outcome.status == "not attempted"
    out = " ".join(capsys.readouterr().out.split())  # long sentences are wrapped
    assert "not attempted yet" in out
    assert "✓ S3ToDynamoProcessor now sends events that fail 3 attempts to" in out
    config = destinations.get_async_config(cloud)
    assert destinations.on_failure_target(config) == destinations.failure_queue_arn(cloud)
    assert config["MaximumRetryAttempts"] == 2
    assert ex.build_destination.evaluate(cloud).status == "correct"


def test_the_queue_arn_is_correct_and_a_second_run_changes_nothing(cloud, capsys):
    arn = destinations.failure_queue_arn(cloud)
    assert _put(cloud, arn).status == "correct"
    assert _put(cloud, arn).status == "correct"
    out = " ".join(capsys.readouterr().out.split())  # long sentences are wrapped
    assert out.count("✓ Send failed events to the queue: S3ToDynamoProcessor retries a failed "
                     "event 2 times, then sends it to S3ToDynamoProcessor-failures.") == 2
    configs = cloud.client("lambda").list_function_event_invoke_configs(
        FunctionName=cloud.names.function)["FunctionEventInvokeConfigs"]
    assert len(configs) == 1
    destinations.ensure_on_failure(cloud)
    assert "✓ S3ToDynamoProcessor already sends" in capsys.readouterr().out


def test_the_queue_url_gets_its_own_sentence(cloud):
    outcome = _put(cloud, _queue_url(cloud))
    assert outcome.status == "wrong"
    assert "that is the queue's URL" in outcome.message
    assert "names a queue by its ARN" in outcome.message
    assert destinations.get_async_config(cloud) is None  # AWS (and moto) refused it


def test_the_queue_name_gets_its_own_sentence(cloud):
    outcome = _put(cloud, destinations.queue_name(cloud))
    assert outcome.status == "wrong"
    assert "is the queue's name; Lambda needs the queue's full ARN" in outcome.message


def test_an_arn_without_the_account_id_gets_its_own_sentence(cloud):
    outcome = _put(cloud, f"arn:aws:sqs:{cloud.region}::{destinations.queue_name(cloud)}")
    assert outcome.status == "wrong"
    assert "the account id is missing" in outcome.message
    assert cloud.account_id in outcome.message
    assert "Running the cell again replaces the settings" in outcome.message


def test_the_functions_own_arn_gets_its_own_sentence(cloud):
    outcome = _put(cloud, _function_arn(cloud))
    assert outcome.status == "wrong"
    assert "the function itself" in outcome.message


def test_fewer_retries_get_their_own_sentence(cloud):
    outcome = _put(cloud, destinations.failure_queue_arn(cloud), retries=0)
    assert outcome.status == "wrong"
    assert "MaximumRetryAttempts is 0" in outcome.message
    assert "only 1 time(s)" in outcome.message


def test_more_retries_than_lambda_allows_are_explained(cloud):
    outcome = _put(cloud, destinations.failure_queue_arn(cloud), retries=3)
    assert outcome.status == "wrong"
    assert "MaximumRetryAttempts can be 0, 1 or 2, not 3" in outcome.message


def test_a_wrong_value_is_replaced_by_running_the_cell_again_with_the_arn(cloud):
    assert _put(cloud, _function_arn(cloud)).status == "wrong"
    assert _put(cloud, destinations.failure_queue_arn(cloud)).status == "correct"
    assert destinations.on_failure_target(destinations.get_async_config(cloud)) == \
        destinations.failure_queue_arn(cloud)


def test_another_queue_names_the_part_that_differs(cloud):
    outcome = _put(cloud, cloud.arn("sqs", "some-other-queue"))
    assert outcome.status == "wrong"
    assert "the queue name part of your ARN is 'some-other-queue'" in outcome.message


def test_a_destination_whose_queue_is_gone_is_wrong(cloud):
    arn = destinations.failure_queue_arn(cloud)
    assert _put(cloud, arn).status == "correct"
    sqs.delete_queue(cloud, destinations.queue_name(cloud))
    outcome = ex.build_destination.evaluate(cloud)
    assert outcome.status == "wrong" and "that queue does not exist" in outcome.message


def test_no_settings_at_all_is_wrong(cloud):
    outcome = ex.build_destination.evaluate(cloud)
    assert outcome.status == "wrong" and "no asynchronous invocation settings" in outcome.message


def test_awss_permission_answers_are_explained(cloud):
    # Real AWS answers so when the role's policy does not (yet) cover the Destination.
    refused = ("The function's execution role does not have permissions to call SendMessage on "
               "{}")
    arn = destinations.failure_queue_arn(cloud)
    sentence = ex._explain_put_config("InvalidParameterValueException", refused.format(arn), cloud)
    assert "wait ten seconds" in sentence  # the right ARN: IAM has not spread the policy yet
    no_account = f"arn:aws:sqs:{cloud.region}::{destinations.queue_name(cloud)}"
    sentence = ex._explain_put_config("InvalidParameterValueException",
                                      refused.format(no_account), cloud)
    assert "the account id is missing" in sentence
    sentence = ex._explain_put_config("InvalidParameterValueException",
                                      "The provided execution role does not have permissions to "
                                      "call SendMessage on SQS", cloud)
    assert "is the account id in it?" in sentence and "wait ten seconds" in sentence
    sentence = ex._explain_put_config(
        "InvalidParameterValueException",
        "The function's execution role does not have permissions to call InvokeFunction on "
        f"{_function_arn(cloud)}", cloud)
    assert "a Lambda function's ARN" in sentence


def test_the_solution_is_hidden_when_solutions_are_off(monkeypatch, capsys):
    monkeypatch.setenv("EVENTLAB_SOLUTIONS", "off")
    ex.build_destination.solution()
    assert "failure_queue_arn" not in capsys.readouterr().out


# -- the poison event, the replay and the clean-up ----------------------------------------------

def _poison(cloud):
    """The lesson's section 1: destination, bad deploy, upload, both retries."""
    destinations.ensure_on_failure(cloud, quiet=True)
    broken = {**awslambda.environment(cloud), "TABLE_NAME": "S3ObjectEvent"}
    cloud.client("lambda").update_function_configuration(FunctionName=cloud.names.function,
                                                         Environment={"Variables": broken})
    awslambda.wait_until_ready(cloud)
    s3.upload(cloud, POISON_KEY, "invoice,amount\n0042,19.99\n")
    verify.pass_time(cloud, minutes=1)
    verify.pass_time(cloud, minutes=2)
    verify.pass_time(cloud, seconds=30)  # the third attempt runs a little after 3 minutes


def test_the_poison_event_reaches_the_queue_and_stays_readable(cloud, capsys):
    assert "holds no invocation record yet" in ex.destination.evaluate(cloud).message
    _poison(cloud)
    outcome = ex.destination.evaluate(cloud)
    assert outcome.status == "correct", outcome.message
    assert "Lambda tried 3 times" in outcome.message and POISON_KEY in outcome.message
    for _ in range(3):  # every cell can read the record again: it stays in the queue
        record = destinations.failure_record(cloud, key=POISON_KEY)
        assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert destinations.failure_record(cloud, key="another/key.csv") is None
    assert "✗ No message arrived in S3ToDynamoProcessor-failures" in capsys.readouterr().out


def test_the_destination_check_without_a_queue_says_where_to_start(cloud):
    destinations.remove(cloud, quiet=True)
    outcome = ex.destination.evaluate(cloud)
    assert outcome.status == "wrong" and "there is no queue" in outcome.message


def test_the_replay_stores_one_item_however_often_it_is_delivered(cloud):
    _poison(cloud)
    assert "still writes to 'S3ObjectEvent'" in ex.one_item.evaluate(cloud).message
    awslambda.ensure_function(cloud, quiet=True)
    assert "no item for" in ex.one_item.evaluate(cloud).message
    event = destinations.failure_record(cloud)["requestPayload"]
    first, second = awslambda.invoke(cloud, event), awslambda.invoke(cloud, event)
    assert (first["Result"]["stored"], second["Result"]["duplicates"]) == (1, 1)
    outcome = ex.one_item.evaluate(cloud)
    assert outcome.status == "correct", outcome.message
    assert awslambda.invoke(cloud, event)["Result"]["stored"] == 0  # a re-run stores nothing
    assert ex.one_item.evaluate(cloud).status == "correct"


@pytest.mark.parametrize("answer,status,phrase", [
    (____, "not attempted", "not attempted yet"),
    (1, "wrong", "what the lab's handler stores"),
    (0, "wrong", "How many times did it run?"),
    (3, "wrong", "count the deliveries"),
    ("2", "wrong", "a whole number"),
    (2, "correct", "every delivery draws a new uuid4"),
])
def test_q2_items_the_seed_handler_would_store(answer, status, phrase):
    outcome = ex.q2.evaluate(answer)
    assert outcome.status == status and phrase in outcome.message


def test_the_clean_up_removes_what_the_lesson_added_and_is_safe_twice(cloud, capsys):
    _poison(cloud)
    outcome = ex.cleaned_up.evaluate(cloud)
    assert outcome.status == "wrong" and "asynchronous invocation settings" in outcome.message
    awslambda.ensure_function(cloud, quiet=True)
    capsys.readouterr()
    destinations.remove(cloud)
    assert capsys.readouterr().out.splitlines() == [
        "✓ Deleted the asynchronous invocation settings of S3ToDynamoProcessor",
        "✓ Deleted the inline policy S3ToDynamoProcessor-failures-send",
        "✓ Deleted the queue S3ToDynamoProcessor-failures"]
    destinations.remove(cloud)
    assert "Nothing to delete" in capsys.readouterr().out
    assert ex.cleaned_up.evaluate(cloud).status == "correct"
    assert iam.inline_policies(cloud) == []


def test_the_clean_up_check_wants_the_lab_settings_back(cloud):
    _poison(cloud)
    destinations.remove(cloud, quiet=True)
    outcome = ex.cleaned_up.evaluate(cloud)
    assert outcome.status == "wrong" and "awslambda.ensure_function(cloud)" in outcome.message


def test_a_hand_made_message_is_not_taken_for_the_record(cloud):
    cloud.client("sqs").send_message(QueueUrl=_queue_url(cloud), MessageBody="hello")
    outcome = ex.destination.evaluate(cloud)
    assert outcome.status == "wrong" and "not Lambda invocation records" in outcome.message
