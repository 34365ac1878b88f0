"""Every resource name the lab uses: the seed lab's names by default, each overridable."""

from __future__ import annotations

import dataclasses
import os

SEED_BUCKET_PREFIX = "event-driven-lab"
DEFAULT_EMAIL = "learner@example.com"

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

    @property
    def log_group(self) -> str:
        """The Lambda's log group, as Lambda names it."""
        return f"/aws/lambda/{self.function}"

    def as_dict(self) -> dict[str, str]:
        """All names, the log group included, in pipeline order."""
        names = dataclasses.asdict(self)
        names["log_group"] = self.log_group
        return names


def bucket_name_for(account_id: str, region: str) -> str:
    """A bucket name unique per account and region, stable across kernel restarts.

    The seed used a personal suffix (``event-driven-lab-pauljancen``); S3 names are global,
    so the lab suffixes the account id and region instead of a random string.
    """
    return f"{SEED_BUCKET_PREFIX}-{account_id}-{region}"


def names_for(account_id: str, region: str, **overrides: str) -> Names:
    """Seed names, then ``EVENTLAB_BUCKET`` / ``EVENTLAB_EMAIL``, then explicit overrides."""
    unknown = set(overrides) - {f.name for f in dataclasses.fields(Names)}
    if unknown:
        raise TypeError(f"unknown resource name(s): {', '.join(sorted(unknown))}")
    values: dict[str, str] = {
        "bucket": os.environ.get("EVENTLAB_BUCKET") or bucket_name_for(account_id, region),
        "email": os.environ.get("EVENTLAB_EMAIL") or DEFAULT_EMAIL,
    }
    values.update({k: v for k, v in overrides.items() if v})
    return Names(**values)
