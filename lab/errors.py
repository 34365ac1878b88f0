"""The lab's exception tree: every error raised on purpose is a LabError with a sentence for people."""

from __future__ import annotations


class LabError(Exception):
    """Root of every error the lab raises on purpose; its message says what to do next."""


class ConfigurationError(LabError):
    """The backend, region or environment variables are not usable as set."""


class RealAwsNotAllowed(ConfigurationError):
    """The aws backend was chosen without the explicit opt-in."""


class CredentialsMissing(ConfigurationError):
    """The aws backend found no usable credentials."""


class InvalidEmail(LabError, ValueError):
    """An email address that SNS would reject."""


class BucketNameTaken(LabError):
    """The bucket name is owned by another account (S3 names are global)."""


class MissingResource(LabError):
    """A resource an earlier lesson creates does not exist (the lesson was skipped)."""

    def __init__(self, message: str, *, lesson: str | None = None) -> None:
        super().__init__(message)
        self.lesson = lesson


class NetworkBlocked(LabError):
    """The moto backend refused a request that would have left the machine."""


class LocalCloudOnly(LabError):
    """A convenience that exists only on the moto backend's local cloud (clock, inbox)."""


class WaitTimeout(LabError):
    """A resource did not reach the expected state in time."""


class AwsError(LabError):
    """An AWS error the lab could not translate, with its code and AWS's own message."""

    def __init__(self, message: str, *, code: str = "") -> None:
        super().__init__(message)
        self.code = code


class FunctionsNotRun(LabError):
    """The endpoint stores Lambda functions but does not run them (a moto server without Docker)."""
