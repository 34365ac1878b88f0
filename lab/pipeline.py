"""The whole pipeline: build every seed resource in the seed's order; tear it down in reverse."""

from __future__ import annotations

from typing import Any

from lab import alarms, awslambda, dynamodb, iam, logs, s3, sns, sqs
from lab.aws import pause
from lab.connection import Lab
from lab.text import say

# AWS Lambda Developer Guide, "Sending Lambda function logs to CloudWatch Logs": a run's logs
# arrive seconds after it (the local cloud: lab.localcloud.consistency.LOG_DELIVERY, 3 s).
LATE_LOGS_SECONDS = 5.0


def build_pipeline(lab: Lab, *, activity_threshold: float = alarms.ACTIVITY_THRESHOLD,
                   least_privilege: bool = False, quiet: bool = False) -> dict[str, Any]:
    """Create (or find) every resource of the seed lab in its order; idempotent.

    Returns a summary: each resource's name or ARN and the email subscription's status.
    """
    summary: dict[str, Any] = {}
    summary["topic"] = sns.ensure_topic(lab, quiet=quiet)
    summary["subscription"] = sns.ensure_email_subscription(lab, quiet=quiet)
    summary["table"] = dynamodb.ensure_table(lab, quiet=quiet)
    summary["role"] = iam.ensure_role(lab, least_privilege=least_privilege, quiet=quiet)
    summary["log_group"] = logs.ensure_log_group(lab, quiet=quiet)
    summary["function"] = awslambda.ensure_function(lab, summary["role"], quiet=quiet)
    summary["bucket"] = s3.ensure_bucket(lab, quiet=quiet)
    s3.ensure_trigger(lab, quiet=quiet)
    summary["alarms"] = alarms.ensure_alarms(lab, activity_threshold=activity_threshold, quiet=quiet)
    return summary


# The seed's steps in order, each with the lesson that teaches it.
STEPS: tuple[tuple[str, str], ...] = (
    ("01", "SNS topic + email subscription"),
    ("02", "DynamoDB table"),
    ("03", "IAM role"),
    ("04", "Lambda function"),
    ("05", "S3 bucket + trigger"),
    ("06", "CloudWatch alarms"),
)


def _step_present(lab: Lab, number: str) -> bool:
    """True when every resource lesson ``number`` creates exists already."""
    if number == "01":
        return sns.get_topic(lab) is not None and sns.get_email_subscription(lab) is not None
    if number == "02":
        return dynamodb.get_table(lab) is not None
    if number == "03":
        return iam.get_role(lab) is not None
    if number == "04":
        return awslambda.get_function(lab) is not None
    if number == "05":
        return s3.get_bucket(lab) is not None and s3.get_trigger(lab) is not None
    return all(alarms.get_alarm(lab, name) is not None
               for name in (lab.names.activity_alarm, lab.names.throttle_alarm))


def _build_step(lab: Lab, number: str, *, confirm_email: bool) -> None:
    if number == "01":
        sns.ensure_topic(lab, quiet=True)
        status = sns.ensure_email_subscription(lab, quiet=True)
        if confirm_email and lab.is_local and status == sns.PENDING:
            lab.confirm_email()
    elif number == "02":
        dynamodb.ensure_table(lab, quiet=True)
    elif number == "03":
        iam.ensure_role(lab, quiet=True)
    elif number == "04":
        logs.ensure_log_group(lab, quiet=True)
        awslambda.ensure_function(lab, quiet=True)
    elif number == "05":
        s3.ensure_bucket(lab, quiet=True)
        s3.ensure_trigger(lab, quiet=True)
    elif number == "06":
        alarms.ensure_alarms(lab, quiet=True)


def _lessons(steps: list[tuple[str, str]]) -> str:
    numbers = [number for number, _ in steps]
    span = numbers[0] if len(numbers) == 1 else f"{numbers[0]}–{numbers[-1]}"
    return f"lesson{'s' if len(numbers) > 1 else ''} {span} ({', '.join(w for _, w in steps)})"


def prepare_lesson(lab: Lab, lesson: str, *, confirm_email: bool = True) -> None:
    """Make sure every step before ``lesson`` (e.g. "05") exists; say in one line what it found.

    Lets a notebook run alone. On the moto backend each notebook's kernel holds its own local
    cloud, which starts empty, so the earlier lessons are rebuilt there; on AWS (or an endpoint)
    what the learner built is found and only what is missing is created. On the moto backend the
    email subscription is also confirmed (``confirm_email=False`` keeps it pending).
    """
    before = [(number, what) for number, what in STEPS if number < lesson]
    found, built = [], []
    for number, what in before:
        present = _step_present(lab, number)
        _build_step(lab, number, confirm_email=confirm_email)
        (found if present else built).append((number, what))
    if not before:
        say("✓ Nothing to prepare: this is the first step")
    elif not built:
        say(f"✓ Earlier steps in place: {_lessons(found)}")
    elif not found and lab.is_local:
        say(f"✓ This kernel's local cloud starts empty, so the lab built {_lessons(built)}")
    elif not found:
        say(f"✓ Nothing of the earlier lessons was there, so the lab built {_lessons(built)}")
    else:
        say(f"✓ Found {_lessons(found)}; built the missing {_lessons(built)}")


def teardown(lab: Lab, *, quiet: bool = False) -> dict[str, list[str]]:
    """Delete everything the lab creates, in reverse order; idempotent.

    Returns ``{"deleted": [...], "absent": [...]}`` — what was deleted and what was already gone.
    """
    deleted: list[str] = []
    absent: list[str] = []

    def step(what: str, done: Any) -> None:
        (deleted if done not in (False, None) else absent).append(what)
        if not quiet and done not in (False, None):
            print(f"✓ Deleted {what}")

    names = lab.names
    present_alarms = alarms.delete_alarms(lab)
    for alarm in (names.activity_alarm, names.throttle_alarm):
        step(f"alarm {alarm}", alarm in present_alarms)
    # Lesson 11's failure queue (and the reliability suite's), when there are any: the pipeline
    # itself builds none, so a missing queue is not reported as absent.
    for queue in sqs.lab_queues(lab):
        step(f"queue {queue}", sqs.delete_queue(lab, queue))
    removed = s3.delete_bucket(lab)
    # None: there was no bucket; 0: an empty bucket was deleted (0 == False, so say it plainly).
    step(f"bucket {names.bucket}" + (f" ({removed} object versions)" if removed else ""),
         removed is not None)
    function_deleted = awslambda.delete_function(lab)
    step(f"function {names.function}", function_deleted)
    if function_deleted:
        # The last runs' log events reach CloudWatch Logs seconds after the run (and make the
        # group again when it is gone): let them land, then delete the group.
        pause(LATE_LOGS_SECONDS)
    step(f"log group {names.log_group}", logs.delete_log_group(lab))
    step(f"role {names.role}", iam.delete_role(lab))
    step(f"table {names.table}", dynamodb.delete_table(lab))
    step(f"topic {names.topic} and its subscriptions", sns.delete_topic(lab))
    if not quiet and not deleted:
        print("✓ Nothing to delete: the lab's resources are all gone")
    return {"deleted": deleted, "absent": absent}
