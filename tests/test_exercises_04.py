"""Lesson 04's exercises: blank, likely wrong and right values for each (what the notebook hides)."""

from __future__ import annotations

import json
import urllib.parse

import pytest

from lab import awslambda, dynamodb, iam, source
from lab.checks import ____
from lab.exercises import lambda_function as ex


def _flat(text):
    """The sentence with its line wrapping undone."""
    return " ".join(text.split())


@pytest.fixture
def cloud(lab_moto):
    """What creating the function needs of lesson 03 (the role); no function yet."""
    iam.ensure_role(lab_moto, quiet=True)
    return lab_moto


@pytest.fixture
def with_table(cloud):
    """The role and lesson 02's table, which the function writes to."""
    dynamodb.ensure_table(cloud, quiet=True)
    return cloud


def _create_function(cloud, runtime, role, handler):
    """The notebook's exercise cell, with the three blanks filled in."""
    with ex.build_function.attempt(cloud) as attempt:
        lambda_client = cloud.client("lambda")
        response = lambda_client.create_function(
            FunctionName=cloud.names.function,
            Runtime=runtime,
            Role=role,
            Handler=handler,
            Code={"ZipFile": awslambda.build_zip()},
            Timeout=10,
            MemorySize=128,
            Environment={"Variables": {"TABLE_NAME": cloud.names.table, "TTL_SECONDS": "86400"}},
            Description="Stores one DynamoDB item per S3 object-created event",
        )
        print(response["FunctionArn"], response["State"])
        lambda_client.get_waiter("function_active_v2").wait(FunctionName=cloud.names.function)
        print("Active")
    return attempt.outcome


def _role_arn(cloud):
    return iam.get_role(cloud)["Arn"]


RIGHT_RUNTIME, RIGHT_HANDLER = "python3.12", "lambda_function.lambda_handler"


# -- build_function -------------------------------------------------------------------------------

def test_build_function_blank_is_not_attempted_and_the_helper_creates_it(cloud, capsys):
    outcome = _create_function(cloud, ____, ____, ____)
    assert outcome.status == "not attempted"
    printed = capsys.readouterr().out
    assert "not attempted yet" in printed and "✓ Created function S3ToDynamoProcessor" in printed
    assert ex.build_function.evaluate(cloud).passed


@pytest.mark.parametrize("blanks", [
    dict(runtime=RIGHT_RUNTIME, role=____, handler=RIGHT_HANDLER),
    dict(runtime=____, role=None, handler=RIGHT_HANDLER),
    dict(runtime=RIGHT_RUNTIME, role=None, handler=f"lambda_function.{____}"),
])
def test_build_function_one_blank_left_sends_nothing(cloud, blanks):
    role = blanks["role"] if blanks["role"] is not None else _role_arn(cloud)
    assert _create_function(cloud, blanks["runtime"], role, blanks["handler"]).status \
        == "not attempted"
    # the helper built the function, with the lab's settings, not the learner's half-filled ones
    assert awslambda.get_function(cloud)["Handler"] == RIGHT_HANDLER


def test_build_function_right_values_pass_and_a_rerun_grades_what_is_there(cloud, capsys):
    for _ in range(2):
        outcome = _create_function(cloud, RIGHT_RUNTIME, _role_arn(cloud), RIGHT_HANDLER)
        assert outcome.passed, outcome.message
        assert "S3ToDynamoProcessor is Active with the lab's handler, runtime, role" \
            in _flat(outcome.message)
    printed = capsys.readouterr().out
    assert printed.splitlines().count("Active") == 1  # run 2 stopped at "Function already exist"
    names = [f["FunctionName"] for f in cloud.client("lambda").list_functions()["Functions"]]
    assert names == ["S3ToDynamoProcessor"]


def test_build_function_role_built_from_its_parts_passes(cloud):
    role = f"arn:aws:iam::{cloud.account_id}:role/{cloud.names.role}"
    assert _create_function(cloud, RIGHT_RUNTIME, role, RIGHT_HANDLER).passed


def test_build_function_printed_lines_stay_short(cloud, capsys):
    _create_function(cloud, RIGHT_RUNTIME, _role_arn(cloud), "lambda_handler")
    assert max(len(line) for line in capsys.readouterr().out.splitlines()) <= 110


@pytest.mark.parametrize("handler, words", [
    ("lambda_handler", "a function name alone: a handler is <file without .py>.<function name>"),
    ("lambda_function.py.lambda_handler", "with the .py Lambda imports a module called "
                                          "'lambda_function.py'"),
    ("lambda_function.handler", "lambda_function.py has no function called 'handler'"),
    ("handler.lambda_handler", "handler/ is the folder the zip was made from, not a file in it"),
    ("main.handler", "Lambda would import main.py, but the zip holds lambda_function.py"),
])
def test_build_function_wrong_handler_is_named_and_fixable_in_place(cloud, handler, words):
    outcome = _create_function(cloud, RIGHT_RUNTIME, _role_arn(cloud), handler)
    message = _flat(outcome.message)
    assert outcome.status == "wrong"
    assert f"its handler is {handler!r}" in message and words in message
    assert ("lambda_client.update_function_configuration(FunctionName=cloud.names.function, "
            "Handler=…)") in message
    # the fix it names works: in place, then a re-run of the right cell grades what is there
    cloud.client("lambda").update_function_configuration(FunctionName=cloud.names.function,
                                                         Handler=RIGHT_HANDLER)
    assert _create_function(cloud, RIGHT_RUNTIME, _role_arn(cloud), RIGHT_HANDLER).passed


@pytest.mark.parametrize("runtime, words", [
    ("python3.9", "an older Python than the seed's 3.12"),
    ("python3.8", "type hints like str | None need Python 3.10 or later"),
    ("python3", "'python3' names no version"),
    ("python3.13", "The handler would work there, but the seed chose Python 3.12"),
    ("Python 3.12", "is how the Console writes it; the API's runtime identifiers are lower case"),
    ("nodejs20.x", "not Python: the handler is a Python file"),
])
def test_build_function_wrong_runtime_is_named_and_fixable_in_place(cloud, runtime, words):
    outcome = _create_function(cloud, runtime, _role_arn(cloud), RIGHT_HANDLER)
    message = _flat(outcome.message)
    assert outcome.status == "wrong" and words in message
    assert "update_function_configuration(FunctionName=cloud.names.function, Runtime=…)" in message


def test_build_function_role_name_instead_of_arn(cloud):
    outcome = _create_function(cloud, RIGHT_RUNTIME, cloud.names.role, RIGHT_HANDLER)
    message = _flat(outcome.message)
    assert outcome.status == "wrong"
    assert "'Lambda-S3-DDB-Role' is the role's name, but Role takes the role's ARN" in message
    assert awslambda.get_function(cloud) is None  # AWS (and moto) refused: nothing was created


def test_build_function_role_arn_without_account_id(cloud):
    outcome = _create_function(cloud, RIGHT_RUNTIME, "arn:aws:iam::role/Lambda-S3-DDB-Role",
                               RIGHT_HANDLER)
    assert outcome.status == "wrong"
    assert "has no account id: an IAM ARN leaves the region empty but not the account" \
        in _flat(outcome.message)


def test_build_function_role_id_instead_of_arn(cloud):
    outcome = _create_function(cloud, RIGHT_RUNTIME, iam.get_role(cloud)["RoleId"], RIGHT_HANDLER)
    assert "is the role's RoleId; Role takes its ARN" in _flat(outcome.message)


def test_build_function_a_role_that_does_not_exist(cloud):
    outcome = _create_function(cloud, RIGHT_RUNTIME,
                               f"arn:aws:iam::{cloud.account_id}:role/Lambda-Role", RIGHT_HANDLER)
    assert outcome.status == "wrong"
    assert "Lambda cannot assume the role you passed" in _flat(outcome.message)


def test_build_function_a_function_with_another_role_is_named(cloud):
    other = cloud.client("iam").create_role(
        RoleName="Other-Role", AssumeRolePolicyDocument=json.dumps(iam.TRUST_POLICY))["Role"]
    iam.settle(cloud)  # IAM spreads a new role within seconds (free on the local clock)
    outcome = _create_function(cloud, RIGHT_RUNTIME, other["Arn"], RIGHT_HANDLER)
    message = _flat(outcome.message)
    assert outcome.status == "wrong" and "it should be the ARN of lesson 03's role" in message
    assert "Role=…" in message


@pytest.mark.parametrize("code, message, words", [
    ("ValidationException", "1 validation error detected: Value 'python3' at 'runtime' failed to "
     "satisfy constraint: Member must satisfy enum value set: [python3.12, python3.13]",
     "'python3' names no version"),
    ("InvalidParameterValueException", "Value Python 3.12 at 'runtime' failed to satisfy "
     "constraint: Member must satisfy enum value set: [python3.12] or be a valid ARN",
     "'Python 3.12' is how the Console writes it"),
    ("InvalidParameterValueException", "The runtime parameter of python3.8 is no longer supported "
     "for creating or updating AWS Lambda functions. We recommend you use a supported runtime "
     "while creating or updating functions.", "no longer lets anyone create functions on python3.8"),
    ("InvalidParameterValueException", "The role defined for the function cannot be assumed by "
     "Lambda.", "IAM has not finished spreading it: wait ten seconds"),
])
def test_build_function_aws_only_refusals_are_explained(lab_moto, code, message, words):
    assert words in _flat(ex._explain_create_function(code, message, lab_moto))


def test_build_function_other_settings_changed_by_the_learner(cloud):
    awslambda.ensure_function(cloud, quiet=True)
    lambda_client = cloud.client("lambda")
    lambda_client.update_function_configuration(FunctionName=cloud.names.function, Timeout=3)
    assert "the lab uses 128 MB and 10 s" in _flat(ex.build_function.evaluate(cloud).message)
    awslambda.wait_until_ready(cloud)  # Lambda refuses an update while the last one is InProgress
    lambda_client.update_function_configuration(
        FunctionName=cloud.names.function, Timeout=10,
        Environment={"Variables": {"TABLE_NAME": "S3ObjectEvent"}})
    assert "its environment variables are" in ex.build_function.evaluate(cloud).message
    awslambda.ensure_function(cloud, quiet=True)
    assert ex.build_function.evaluate(cloud).passed


def test_build_function_check_before_anything_was_built(cloud):
    outcome = ex.build_function.evaluate(cloud)
    assert outcome.status == "wrong" and "there is no function S3ToDynamoProcessor yet" \
        in _flat(outcome.message)


def test_build_function_hints_and_solution(capsys):
    exercise = ex.build_function
    exercise._hints_shown = 0
    for _ in exercise.hints:
        exercise.hint()
    exercise.solution()
    printed = capsys.readouterr().out
    assert "Hint 3/3" in printed and 'Runtime="python3.12"' in printed
    assert 'Handler="lambda_function.lambda_handler"' in printed


# -- test_item ------------------------------------------------------------------------------------

def test_test_item_before_and_after_the_invoke(with_table):
    cloud = with_table
    awslambda.ensure_function(cloud, quiet=True)
    assert "no item for 'samples/my file.txt' yet" in ex.test_item.evaluate(cloud).message
    result = awslambda.invoke(cloud, awslambda.sample_event(cloud))
    assert result["Result"]["stored"] == 1
    assert ex.test_item.evaluate(cloud).passed


def test_test_item_names_the_seeds_encoded_key(with_table):
    cloud = with_table
    awslambda.ensure_function(cloud, quiet=True)
    cloud.client("dynamodb").put_item(TableName=cloud.names.table, Item={
        "objectId": {"S": "x"}, "objectKey": {"S": ex.SAMPLE_RAW_KEY}})
    assert "the key still URL-encoded" in ex.test_item.evaluate(cloud).message


def test_test_item_without_the_function(cloud):
    assert "does not exist yet" in ex.test_item.evaluate(cloud).message


# -- q1: decode a key -----------------------------------------------------------------------------

@pytest.mark.parametrize("answer, status, words", [
    (____, "not attempted", "not attempted yet"),
    (ex.RAW_KEY, "wrong", "exactly as the event carries it"),
    (urllib.parse.unquote(ex.RAW_KEY), "wrong", "a '+' in the encoded text stands for a space"),
    (ex.RAW_KEY.replace("+", " "), "wrong", "One escape is left"),
    (" " + ex.DECODED_KEY, "wrong", "leading or trailing spaces"),
    ("photos/summer 2025/beach sun.jpg", "wrong", "is not the uploaded name"),
    (42, "wrong", "write the object's name as a string"),
    (ex.DECODED_KEY, "correct", "'+' was a space and '%2B' a real plus sign"),
])
def test_q1_decoded_key(answer, status, words):
    outcome = ex.q1.evaluate(answer)
    assert outcome.status == status and words in outcome.message


def test_q1_answer_is_what_the_handler_stores(lab_moto):
    handler = source.load_module()
    record = awslambda.sample_event(lab_moto, ex.RAW_KEY)["Records"][0]
    assert ex.q1.evaluate(handler.parse_record(record).key).passed


def test_sample_event_is_the_lessons_key(lab_moto):
    event = awslambda.sample_event(lab_moto)
    assert event["Records"][0]["s3"]["object"]["key"] == ex.SAMPLE_RAW_KEY
    assert urllib.parse.unquote_plus(ex.SAMPLE_RAW_KEY) == ex.SAMPLE_KEY


# -- the helpers the lesson's log cells use -------------------------------------------------------

def test_report_figures_reads_a_cold_start_report():
    line = ("REPORT RequestId: 3f6a\tDuration: 15.74 ms\tBilled Duration: 22 ms\tMemory Size: 128 MB"
            "\tMax Memory Used: 56 MB\tInit Duration: 5.82 ms\n")
    assert awslambda.report_figures(line) == {
        "RequestId": "3f6a", "Duration": 15.74, "Billed Duration": 22.0, "Memory Size": 128.0,
        "Max Memory Used": 56.0, "Init Duration": 5.82}
    assert awslambda.report_figures(
        "REPORT RequestId: r\tDuration: 1000.00 ms\tBilled Duration: 1000 ms\tMemory Size: 128 MB"
        "\tMax Memory Used: 40 MB\tStatus: timeout")["Status"] == "timeout"


def test_the_lessons_billing_cell_holds_for_the_local_clouds_report_lines(with_table):
    """Cold start: Billed = ⌈Duration + Init Duration⌉ with an INIT_START first; warm: ⌈Duration⌉."""
    import math

    from lab import logs

    cloud = with_table
    logs.ensure_log_group(cloud, quiet=True)
    awslambda.ensure_function(cloud, quiet=True)
    for _ in range(2):
        awslambda.invoke(cloud, awslambda.sample_event(cloud))
    # log events are readable seconds after the run, as on AWS: wait for the second (duplicate) run
    logs.newest_invocation(cloud, containing="duplicate event")
    cold, warm = logs.invocations(logs.log_events(cloud))
    assert cold["cold"] and cold["lines"][0].startswith("INIT_START Runtime Version: python:3.12.v")
    assert not warm["cold"] and warm["lines"][0].startswith("START RequestId: ")
    assert cold["stream"] == warm["stream"]
    first, second = (awslambda.report_figures(run["lines"][-1]) for run in (cold, warm))
    assert first["Billed Duration"] == math.ceil(first["Duration"] + first["Init Duration"])
    assert "Init Duration" not in second
    assert second["Billed Duration"] == math.ceil(second["Duration"])
