"""Learner checks: not attempted ≠ wrong, never a traceback, progressive hints; prepare_lesson."""

from __future__ import annotations

import pytest

import lab
from lab import pipeline, sns
from lab.checks import ____, Exercise, Wrong


def _answer_is_42(value):
    if value != 42:
        raise Wrong(f"found {value!r}; think of the answer to everything.")
    return "exactly."


EXERCISE = Exercise("The answer", _answer_is_42, hints=("It is a number.", "Between 40 and 45."),
                    solution_text="answer = 42")


def test_blank_is_not_attempted_not_wrong(capsys):
    outcome = EXERCISE.check(____)
    assert outcome.status == "not attempted"
    assert not outcome.passed
    assert capsys.readouterr().out == (
        "… The answer: not attempted yet — replace ____ with your answer, then run the check again.\n")


def test_wrong_and_correct_answers_are_sentences(capsys):
    assert EXERCISE.check(41).status == "wrong"
    assert EXERCISE.check(42).passed
    assert capsys.readouterr().out.splitlines() == [
        "✗ The answer: found 41; think of the answer to everything.",
        "✓ The answer: exactly.",
    ]


def test_a_crashing_test_is_shown_as_wrong_without_traceback(capsys):
    crashing = Exercise("Division", lambda value: str(1 / value))
    outcome = crashing.check(0)
    assert outcome.status == "wrong"
    out = capsys.readouterr().out
    assert "ZeroDivisionError: division by zero" in out and "Traceback" not in out
    assert "hint()" in out


def test_a_lab_error_is_shown_as_its_sentence():
    def needs_table(_):
        raise lab.MissingResource("The DynamoDB table S3ObjectEvents does not exist yet: run notebook 02.")

    outcome = Exercise("Table", needs_table).evaluate(1)
    assert outcome.status == "wrong"
    assert outcome.message == "Table: The DynamoDB table S3ObjectEvents does not exist yet: run notebook 02."


def test_hints_are_progressive_then_repeat_the_last(capsys):
    exercise = Exercise("Hints", _answer_is_42, hints=("first", "second"))
    for _ in range(3):
        exercise.hint()
    exercise.solution()
    Exercise("No hints", _answer_is_42).hint()
    assert capsys.readouterr().out.splitlines() == [
        "Hint 1/2: first", "Hint 2/2: second", "Hint 2/2: second",
        "Solution — Hints:", "", "No hint for No hints: try solution().",
    ]


def test_prepare_lesson_builds_what_comes_before_and_says_so(lab_moto, capsys):
    pipeline.prepare_lesson(lab_moto, "01")
    pipeline.prepare_lesson(lab_moto, "02")
    assert sns.get_email_subscription(lab_moto)["pending"] is False  # confirmed on moto
    pipeline.prepare_lesson(lab_moto, "02")
    pipeline.prepare_lesson(lab_moto, "07")
    out = capsys.readouterr().out.replace("\n  ", " ").splitlines()  # wrapped at spaces
    assert out == [
        "✓ Nothing to prepare: this is the first step",
        "✓ This kernel's local cloud starts empty, so the lab built lesson 01 (SNS topic + email "
        "subscription)",
        "✓ Earlier steps in place: lesson 01 (SNS topic + email subscription)",
        "✓ Found lesson 01 (SNS topic + email subscription); built the missing lessons 02–06 "
        "(DynamoDB table, IAM role, Lambda function, S3 bucket + trigger, CloudWatch alarms)",
    ]
    assert set(lab_moto.build_pipeline(quiet=True)) >= {"topic", "table", "role", "function", "bucket"}


def test_prepare_lesson_on_aws_says_what_it_found_not_a_local_cloud(lab_moto, monkeypatch, capsys):
    monkeypatch.setattr(lab_moto, "backend", "aws")
    pipeline.prepare_lesson(lab_moto, "03")
    assert capsys.readouterr().out == ("✓ Nothing of the earlier lessons was there, so the lab built "
                                       "lessons 01–02 (SNS topic + email\n  subscription, DynamoDB "
                                       "table)\n")


def test_prepare_lesson_can_leave_the_subscription_pending(lab_moto):
    pipeline.prepare_lesson(lab_moto, "02", confirm_email=False)
    assert sns.get_email_subscription(lab_moto)["pending"] is True


@pytest.mark.parametrize("value", [None, 0, "", [], {}])
def test_falsy_answers_are_attempts(value):
    assert Exercise("Any", lambda v: "fine").evaluate(value).status == "correct"


def test_a_check_given_something_else_than_the_connection_says_how_to_pass_it():
    from lab.checks import require_connection
    from lab.exercises import s3_trigger

    outcome = s3_trigger.trigger.evaluate("cloud")
    assert outcome.status == "wrong"
    assert outcome.message.endswith("pass the connection made by connect(), e.g. check(cloud).")
    with pytest.raises(Wrong, match=r"e\.g\. ex\.table\.check\(cloud\)"):
        require_connection(None, example="ex.table.check(cloud)")


def test_a_check_called_without_its_connection_says_how_to_call_it():
    from lab.exercises import sns_alerts_topic

    outcome = sns_alerts_topic.topic.evaluate()
    assert outcome.status == "wrong"
    assert outcome.message == ("The alerts topic: this check needs cloud: call it as check(cloud), "
                               "with the connection made by connect().")
    outcome = sns_alerts_topic.q1.evaluate("arn:aws:sns:us-east-1:123456789012:event-driven-alerts")
    assert "call it as check(answer, cloud)" in outcome.message
    assert "TypeError" not in outcome.message
