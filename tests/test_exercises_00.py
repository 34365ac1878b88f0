"""Lesson 00's exercises and setting checks: blank, each likely wrong value, the right answer.

The self-test cell that used to sit in the notebook lives here, with more cases.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import re
from pathlib import Path

import nbformat
import pytest

import lab
from lab import settings, workbook
from lab.checks import ____
from lab.errors import InvalidEmail
from lab.exercises import welcome_and_setup as ex

RIGHT = ["S3", "Lambda", "DynamoDB", "CloudWatch", "SNS"]
NOTEBOOK = workbook.NOTEBOOKS_DIR / "00_welcome_and_setup.ipynb"


@pytest.fixture
def clean(monkeypatch):
    """No EVENTLAB_* variable set, so the connection is the plain moto default."""
    for name in [n for n in os.environ if n.startswith("EVENTLAB_")]:
        monkeypatch.delenv(name)


@pytest.fixture(scope="module")
def _mock():
    """One moto connection for the module: these tests read settings and create nothing."""
    from lab import mock

    mock.stop()
    saved = {n: os.environ.pop(n) for n in list(os.environ) if n.startswith("EVENTLAB_")}
    yield lab.connect("moto", quiet=True)
    os.environ.update(saved)
    mock.stop()


@pytest.fixture
def cloud(clean, _mock):
    """A copy of the module's connection, whose settings a test may change (clients are shared)."""
    return copy.copy(_mock)


def _rename(cloud, **names):
    cloud.names = dataclasses.replace(cloud.names, **names)
    return cloud


def _failing(cloud):
    return {s.name: s.sentence for s in settings.review(cloud) if not s.ok}


# -- q1: the order of the pipeline -----------------------------------------------------------------

def test_q1_blank_is_not_attempted():
    outcome = ex.q1.evaluate(____)
    assert outcome.status == "not attempted"
    assert "replace ____" in outcome.message


@pytest.mark.parametrize("answer, sentence", [
    (["SNS", "S3", "Lambda", "DynamoDB", "CloudWatch"],
     "the first service is where everything starts: the upload lands in the bucket"),
    (["CloudWatch", "DynamoDB", "Lambda", "S3", "SNS"],  # alphabetical, as the cell's comment lists
     "the first service is where everything starts"),
    (["SNS", "CloudWatch", "DynamoDB", "Lambda", "S3"],  # backwards, from the email to the upload
     "the first service is where everything starts"),
    (["S3", "DynamoDB", "Lambda", "CloudWatch", "SNS"],
     "the first one is right, position 2 is not: after S3, the bucket's event notification "
     "invokes the function"),
    (["S3", "Lambda", "CloudWatch", "DynamoDB", "SNS"],
     "the first 2 are right, position 3 is not: after Lambda, the function writes one item"),
    (["S3", "Lambda", "DynamoDB", "SNS", "CloudWatch"],
     "the first 3 are right, position 4 is not: after DynamoDB, the table's write metrics"),
    (["S3", "Lambda", "DynamoDB", "CloudWatch"], "each of the five services appears exactly once "
     "(missing SNS)"),
    (["S3", "Lambda", "DynamoDB", "CloudWatch", "SNS", "Email"],
     "not one of the five services: 'Email'"),
    (["S3", "IAM", "Lambda", "DynamoDB", "CloudWatch"], "not one of the five services: 'IAM'"),
    (["S3", "S3", "Lambda", "DynamoDB", "CloudWatch"], "(missing SNS; S3 more than once)"),
    ("S3 → Lambda → DynamoDB → CloudWatch → SNS", "give a list of five service names"),
    ("S3, Lambda, DynamoDB, CloudWatch, SNS", "give a list of five service names"),
    (5, "give a list of five service names"),
])
def test_q1_likely_wrong_orders_each_get_their_sentence(answer, sentence):
    outcome = ex.q1.evaluate(answer)
    assert outcome.status == "wrong"
    assert sentence in outcome.message


@pytest.mark.parametrize("answer", [
    RIGHT,
    tuple(RIGHT),
    ["s3", "lambda", "dynamodb", "cloudwatch", "sns"],
    ["Amazon S3", "AWS Lambda", "DynamoDB table", "CloudWatch alarms", "SNS topic"],
    [" S3 ", "Lambda function", "Amazon DynamoDB", "Amazon CloudWatch", "Amazon SNS"],
])
def test_q1_right_order_in_any_spelling_is_correct(answer, capsys):
    outcome = ex.q1.check(answer)
    assert outcome.status == "correct"
    assert "S3 → Lambda → DynamoDB → CloudWatch → SNS" in capsys.readouterr().out


def test_q1_has_progressive_hints_and_the_solution(capsys):
    ex.q1._hints_shown = 0
    for _ in range(4):
        ex.q1.hint()
    ex.q1.solution()
    out = capsys.readouterr().out
    assert "Hint 1/3" in out and out.count("Hint 3/3") == 2
    assert ex.q1.solution_text in out
    namespace: dict = {}
    exec(ex.q1.solution_text, namespace)  # noqa: S102 - the solution is code the learner runs
    assert ex.q1.evaluate(namespace["answer"]).passed


# -- the environment check -------------------------------------------------------------------------

def test_environment_without_its_argument_says_how_to_call_it(capsys):
    outcome = ex.environment.check()
    assert outcome.status == "wrong"
    assert outcome.message == ("Environment check: pass the connection made by connect(), "
                               "e.g. ex.environment.check(cloud).")
    assert capsys.readouterr().out.startswith("✗ Environment check: pass the connection")


@pytest.mark.parametrize("value", ["cloud", None, ____])
def test_environment_given_something_else_says_how_to_call_it(value):
    outcome = ex.environment.evaluate(value)
    assert outcome.status in ("wrong", "not attempted")
    if outcome.status == "wrong":
        assert outcome.message.endswith("e.g. ex.environment.check(cloud).")


def test_environment_passes_on_the_default_moto_backend(cloud, capsys):
    outcome = ex.environment.check(cloud)
    assert outcome.passed
    assert capsys.readouterr().out == (
        "✓ Environment check: moto answers in us-east-1 as account 123456789012; every setting is "
        "usable.\n")


def test_environment_names_the_first_bad_setting_and_counts_the_others(cloud):
    _rename(cloud, email="me@gmail", bucket="My_Bucket")
    outcome = ex.environment.evaluate(cloud)
    assert outcome.status == "wrong"
    assert "email: 'me@gmail' is not an address SNS can deliver to" in outcome.message
    assert outcome.message.endswith("(1 more: settings.show(cloud) lists them)")


def test_environment_hints_and_solution_name_the_call(capsys):
    ex.environment._hints_shown = 0
    ex.environment.hint()
    ex.environment.hint()
    ex.environment.solution()
    out = capsys.readouterr().out
    assert "ex.environment.check(cloud)" in out and "settings.show(cloud)" in out


# -- settings: every line, and each likely mistake -------------------------------------------------

def test_settings_show_one_line_each_on_the_default_backend(cloud, capsys):
    settings.show(cloud)
    assert capsys.readouterr().out.splitlines() == [
        "✓ python   3.11 or newer: with boto3, moto, pandas, matplotlib and tqdm",
        "✓ backend  moto: in-process moto plus the local cloud; offline, nothing costs money",
        "✓ region   us-east-1: every regional resource of the lab is created here",
        "✓ account  123456789012: GetCallerIdentity answers; moto's fixed test account",
        "✓ email    learner@example.com: alerts go to the local cloud's inbox, cloud.inbox()",
        "✓ prefix   (none): the lab's own names (classes sharing an account set EVENTLAB_PREFIX)",
        "✓ bucket   event-driven-lab-123456789012-us-east-1: yours alone, and stable across "
        "restarts",
    ]


def test_settings_show_without_the_connection_says_how_to_call_it(capsys):
    settings.show()
    assert capsys.readouterr().out == (
        "✗ pass the connection made by connect(), e.g. settings.show(cloud).\n")


def test_printed_lines_stay_short(cloud, monkeypatch, capsys):
    monkeypatch.setenv("EVENTLAB_ALLOW_REAL_AWS", "1")
    _rename(cloud, email="not an address", bucket="My_Bucket")
    cloud.region = "us-east1"
    settings.show(cloud)
    lines = capsys.readouterr().out.splitlines()
    assert sum(line.startswith("✗") for line in lines) == 4
    assert max(map(len, lines)) <= settings.WIDTH


@pytest.mark.parametrize("email", ["me@gmail", "me.example.com", "me@@example.com",
                                   "me @example.com", "<me@example.com>", "@example.com"])
def test_an_email_sns_would_refuse_is_one_sentence(cloud, email):
    assert _failing(_rename(cloud, email=email))["email"] == (
        f"{email!r} is not an address SNS can deliver to: set EVENTLAB_EMAIL=name@example.com "
        "where you start Jupyter, then start it again.")


def test_connect_refuses_an_invalid_eventlab_email_before_anything_is_created(clean, _mock,
                                                                             monkeypatch):
    monkeypatch.setenv("EVENTLAB_EMAIL", "me@gmail")
    with pytest.raises(InvalidEmail, match=r"EVENTLAB_EMAIL='me@gmail' is not an email address"):
        lab.connect("moto", quiet=True)


def test_the_placeholder_address_is_refused_on_real_aws_only(cloud):
    assert "email" not in _failing(cloud)  # moto: the local inbox reads it
    cloud.backend = "aws"
    assert _failing(cloud)["email"].startswith(
        "learner@example.com is the lab's placeholder, and on real AWS nobody reads it")
    assert "email" not in _failing(_rename(cloud, email="me@example.org"))


def test_an_email_changed_after_connect_asks_to_run_the_first_cell_again(cloud, monkeypatch):
    monkeypatch.setenv("EVENTLAB_EMAIL", "me@example.org")
    assert _failing(cloud)["email"] == (
        "EVENTLAB_EMAIL is 'me@example.org', but alerts of this connection go to "
        "learner@example.com: run the first cell again, so that connect() reads it.")


@pytest.mark.parametrize("region, guess", [("us-east1", "us-east-1"), ("US-EAST-1", "us-east-1"),
                                           ("eu-west", "eu-west-1"), ("virginia", None)])
def test_a_region_typo_is_caught_with_a_guess(cloud, region, guess):
    cloud.region = region
    sentence = _failing(cloud)["region"]
    assert sentence.startswith(f"{region!r} is not an AWS region with every service of the "
                               "pipeline")
    assert (f"(did you mean {guess}?)" in sentence) if guess else ("did you mean" not in sentence)
    assert "set EVENTLAB_REGION to one such as us-east-1 (or unset it)" in sentence


def test_a_region_changed_after_connect_needs_a_new_start(cloud, monkeypatch):
    monkeypatch.setenv("EVENTLAB_REGION", "eu-west-1")
    assert "a kernel keeps its region" in _failing(cloud)["region"]
    monkeypatch.setenv("EVENTLAB_REGION", "us-east-1")
    assert "region" not in _failing(cloud)


@pytest.mark.parametrize("bucket, problem", [
    ("My_Bucket", "it may hold only lower-case letters, digits, hyphens and dots"),
    ("Event-Driven-Lab", "it may hold only lower-case letters, digits, hyphens and dots"),
    ("my bucket", "it may hold only lower-case letters, digits, hyphens and dots"),
    ("ab", "it has 2 characters, and a bucket name has 3 to 63"),
    ("b" * 64, "it has 64 characters, and a bucket name has 3 to 63"),
    ("-my-bucket", "it must begin and end with a letter or a digit"),
    ("my-bucket-", "it must begin and end with a letter or a digit"),
    ("my..bucket", "it may not hold two dots in a row"),
    ("192.168.5.4", "it may not look like an IP address"),
    ("xn--bucket", "S3 reserves names that begin with xn--"),
    ("my-bucket-s3alias", "S3 reserves names that end with -s3alias"),
])
def test_a_bucket_name_s3_would_refuse_names_the_rule(cloud, bucket, problem):
    sentence = _failing(_rename(cloud, bucket=bucket))["bucket"]
    assert sentence.startswith(f"S3 would refuse {bucket!r}: {problem}. Set EVENTLAB_BUCKET")


def test_a_chosen_bucket_name_is_fine_and_said_to_be_global(cloud, monkeypatch):
    monkeypatch.setenv("EVENTLAB_BUCKET", "my-own-event-lab")
    good = {s.name: s for s in settings.review(_rename(cloud, bucket="my-own-event-lab"))}
    assert good["bucket"].ok and "names are global" in good["bucket"].sentence
    monkeypatch.setenv("EVENTLAB_BUCKET", "another-name")
    assert "run the first cell again" in _failing(cloud)["bucket"]


def test_the_opt_in_without_the_aws_backend_is_a_half_done_switch(cloud, monkeypatch):
    monkeypatch.setenv("EVENTLAB_ALLOW_REAL_AWS", "1")
    assert _failing(cloud)["backend"].startswith(
        "EVENTLAB_ALLOW_REAL_AWS=1 is set, but the backend is moto, so nothing reaches your AWS "
        "account. To use it, also set EVENTLAB_BACKEND=aws")


@pytest.mark.parametrize("chosen, sentence", [
    ("aws", "EVENTLAB_BACKEND is 'aws', but this kernel is connected to the moto backend"),
    ("http://localhost:4566", "EVENTLAB_BACKEND is 'http://localhost:4566', but this kernel"),
    ("amazon", "EVENTLAB_BACKEND='amazon': Unknown backend 'amazon'"),
])
def test_a_backend_variable_that_disagrees_with_the_kernel_is_caught(cloud, monkeypatch, chosen,
                                                                       sentence):
    monkeypatch.setenv("EVENTLAB_BACKEND", chosen)
    assert sentence in _failing(cloud)["backend"]


@pytest.mark.parametrize("chosen", ["moto", "MOTO", " moto "])
def test_the_moto_backend_variable_agrees(cloud, monkeypatch, chosen):
    monkeypatch.setenv("EVENTLAB_BACKEND", chosen)
    assert _failing(cloud) == {}


def test_the_aws_backend_line_says_it_costs_money(cloud):
    cloud.backend = "aws"
    lines = {s.name: str(s) for s in settings.review(_rename(cloud, email="me@example.org"))}
    assert lines["backend"].startswith("✓ backend  aws: a real AWS account")
    assert "09_cleanup" in lines["backend"]
    assert lines["account"].endswith("your credentials' account")
    assert "lesson 01 asks you to confirm" in lines["email"]


def test_an_account_that_changed_is_caught(cloud):
    cloud.account_id = "111122223333"
    assert "the backend now answers as account 123456789012" in _failing(cloud)["account"]


def test_a_backend_that_does_not_answer_is_one_sentence(cloud, monkeypatch):
    class Refusing:
        def get_caller_identity(self):
            from botocore.exceptions import EndpointConnectionError

            raise EndpointConnectionError(endpoint_url="http://localhost:4566")

    monkeypatch.setattr(cloud, "client", lambda service: Refusing())
    sentence = _failing(cloud)["account"]
    assert sentence.startswith("Could not ask the backend who you are (GetCallerIdentity)")


def test_a_missing_package_or_an_old_python_is_caught(cloud, monkeypatch):
    import importlib.util
    import types

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "tqdm" else real(name, *a))
    assert _failing(cloud)["python"].startswith(
        "tqdm cannot be imported in this kernel: run `make lab`")
    monkeypatch.setattr(settings, "sys", types.SimpleNamespace(version_info=(3, 10, 4)))
    assert _failing(cloud)["python"].startswith(
        "this kernel runs Python 3.10, and the lab needs 3.11 or newer")


# -- the notebook ----------------------------------------------------------------------------------

def _cells(kind: str) -> list[str]:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    return [cell.source for cell in notebook.cells if cell.cell_type == kind]


def test_the_notebook_shows_no_solution_and_no_self_test():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    text = nbformat.writes(notebook)
    for exercise in (ex.q1, ex.environment):
        assert exercise.solution_text not in text
    assert '"S3", "Lambda", "DynamoDB", "CloudWatch", "SNS"' not in text
    assert not [c for c in notebook.cells if "self-test" in c.metadata.get("tags", [])]


def test_every_import_is_in_the_first_code_cell():
    first, *rest = _cells("code")
    assert "cloud = connect()" in first and 'pipeline.prepare_lesson(cloud, "00")' in first
    for source in rest:
        assert not re.search(r"^\s*(import|from \S+ import)\s", source, re.MULTILINE), source


def test_the_lesson_list_names_every_lesson_notebook():
    listed = "\n".join(_cells("markdown"))
    for path in workbook.lessons():
        number = path.name[:2]
        assert re.search(rf"^\| {number} \|", listed, re.MULTILINE), f"{number} is not listed"


def test_the_goal_gives_a_time_estimate():
    assert re.search(r"\*\*Time\.\*\* About \d+ minutes\.", _cells("markdown")[0])


def test_region_and_bucket_rules_can_be_asked_without_a_connection():
    assert settings.region_problem("us-east-1") is None
    assert settings.region_problem("eu-west1") == (
        "'eu-west1' is not an AWS region with every service of the pipeline "
        "(did you mean eu-west-1?)")
    assert settings.bucket_name_problem("event-driven-lab-123456789012-us-east-1") is None


def test_the_lesson_list_gives_each_lesson_the_time_its_goal_gives():
    listed = "\n".join(_cells("markdown"))
    for path in workbook.lessons():
        goal = nbformat.read(path, as_version=4).cells[0].source
        minutes = re.search(r"\*\*Time\.\*\* About (\d+) minutes", goal)
        assert minutes, f"{path.name} gives no time estimate"
        row = re.search(rf"^\| {path.name[:2]} \|.*\| about (\d+) min \|$", listed, re.MULTILINE)
        assert row and row.group(1) == minutes.group(1), (
            f"lesson 00 lists {path.name[:2]} at {row and row.group(1)} min, its goal says "
            f"{minutes.group(1)}: update the list in lesson 00")
