"""Every resource name the lab uses: the seed lab's names by default, each overridable."""

from __future__ import annotations

import dataclasses
import os
import re

SEED_BUCKET_PREFIX = "event-driven-lab"
DEFAULT_EMAIL = "learner@example.com"

# A class sharing one account: EVENTLAB_PREFIX=alice- begins every name the lab makes.
PREFIX_VARIABLE = "EVENTLAB_PREFIX"
PREFIX_LIMIT = 16
# The characters every service accepts in a name: S3 bucket names are lower-case letters, digits,
# hyphens and dots, and begin with a letter or digit (S3 User Guide, "General purpose bucket naming
# rules"); Lambda function names allow letters, digits, hyphens and underscores (Lambda API
# Reference, CreateFunction, FunctionName); SNS topic names the same (SNS API Reference,
# CreateTopic, Name); SQS queue names the same (SQS API Reference, CreateQueue, QueueName). What
# all of them allow: lower-case letters, digits and hyphens. 16 characters leave room for every
# name's limit (a function or role name has at most 64 characters; a bucket 63, and the lab's
# bucket name holds the account id and a region of up to 14 characters).
_PREFIX_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")

# Which lesson creates each resource: the sentence a learner gets when one is missing.
LESSON_OF = {
    "topic": "01_sns_alerts_topic",
    "subscription": "01_sns_alerts_topic",
    "table": "02_dynamodb_table",
    "role": "03_iam_role",
    "function": "04_lambda_function",
    "log_group": "04_lambda_function",
    "bucket": "05_s3_trigger",
    "activity_alarm": "06_cloudwatch_alarms",
    "throttle_alarm": "06_cloudwatch_alarms",
}


@dataclasses.dataclass(frozen=True)
class Names:
    """Names of the pipeline's resources (seed names unless overridden)."""

    topic: str = "event-driven-alerts"
    table: str = "S3ObjectEvents"
    role: str = "Lambda-S3-DDB-Role"
    least_privilege_policy: str = "S3ToDynamoProcessor-least-privilege"
    function: str = "S3ToDynamoProcessor"
    bucket: str = ""
    activity_alarm: str = "DynamoDBWriteActivityAlert"
    throttle_alarm: str = "DynamoDBWriteThrottleAlert"
    email: str = DEFAULT_EMAIL
    prefix: str = ""  # what begins every name above but the email (EVENTLAB_PREFIX); "" for none

    @property
    def log_group(self) -> str:
        """The Lambda's log group, as Lambda names it."""
        return f"/aws/lambda/{self.function}"

    def as_dict(self) -> dict[str, str]:
        """All names, the log group included, in pipeline order (the prefix is in each of them)."""
        names = dataclasses.asdict(self)
        del names["prefix"]
        names["log_group"] = self.log_group
        return names


def bucket_name_for(account_id: str, region: str) -> str:
    """A bucket name unique per account and region, stable across kernel restarts.

    The seed used a personal suffix (``event-driven-lab-pauljancen``); S3 names are global,
    so the lab suffixes the account id and region instead of a random string.
    """
    return f"{SEED_BUCKET_PREFIX}-{account_id}-{region}"


# The names a prefix begins: every resource the lab makes (the log group follows the function,
# the SQS queues of lessons 10/11 and the reliability suite are named ``<function>-…``).
PREFIXED = ("topic", "table", "role", "least_privilege_policy", "function", "bucket",
            "activity_alarm", "throttle_alarm")


def prefix_problem(prefix: str) -> str | None:
    """Why ``prefix`` cannot begin the lab's resource names (None when it can; "" is no prefix)."""
    from lab.settings import RESERVED_BUCKET_PREFIXES

    if prefix == "":
        return None
    bucket = prefix + SEED_BUCKET_PREFIX
    reserved = [r for r in RESERVED_BUCKET_PREFIXES if bucket.startswith(r)]
    if reserved:
        return (f"{PREFIX_VARIABLE}={prefix!r} would begin the bucket's name with {reserved[0]}, "
                "which S3 reserves: choose another prefix, such as alice-, restart the kernel "
                "and run the cell again")
    if len(prefix) <= PREFIX_LIMIT and _PREFIX_PATTERN.match(prefix):
        return None
    return (f"{PREFIX_VARIABLE}={prefix!r} cannot begin every resource name: use at most "
            f"{PREFIX_LIMIT} lower-case letters, digits and hyphens, starting with a letter or "
            "digit, such as alice- (S3 bucket names are lower-case, and Lambda, SNS and SQS "
            "names allow no dots), restart the kernel and run the cell again")


def names_for(account_id: str, region: str, **overrides: str) -> Names:
    """Seed names, then ``EVENTLAB_BUCKET`` / ``EVENTLAB_EMAIL``, then explicit overrides.

    ``EVENTLAB_PREFIX`` (or ``prefix=``) begins every name the lab chooses itself, so that
    learners sharing one account never meet each other's resources; a name set explicitly
    (``EVENTLAB_BUCKET``, ``table=...``) is used as given.

    Raises:
        ConfigurationError: the prefix breaks a service's naming rules (one sentence).
    """
    from lab.errors import ConfigurationError

    unknown = set(overrides) - {f.name for f in dataclasses.fields(Names)}
    if unknown:
        raise TypeError(f"unknown resource name(s): {', '.join(sorted(unknown))}")
    prefix = overrides.pop("prefix", None) or os.environ.get(PREFIX_VARIABLE, "").strip()
    problem = prefix_problem(prefix)
    if problem:
        raise ConfigurationError(problem + ".")
    defaults = Names(bucket=bucket_name_for(account_id, region))
    values: dict[str, str] = {field: prefix + getattr(defaults, field) for field in PREFIXED}
    values["prefix"] = prefix
    values["email"] = os.environ.get("EVENTLAB_EMAIL") or DEFAULT_EMAIL
    if os.environ.get("EVENTLAB_BUCKET"):
        values["bucket"] = os.environ["EVENTLAB_BUCKET"]
    values.update({k: v for k, v in overrides.items() if v})
    return Names(**values)
