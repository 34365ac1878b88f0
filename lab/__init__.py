"""Event-Driven Integration Lab: helpers for the workbook's S3 → Lambda → DynamoDB → CloudWatch → SNS lessons.

Start with ``lab = lab.connect()``; see the README for the backends.
"""

from lab.connection import Lab, connect
from lab.errors import (
    AwsError,
    BucketNameTaken,
    ConfigurationError,
    CredentialsMissing,
    InvalidEmail,
    LabError,
    LocalCloudOnly,
    MissingResource,
    NetworkBlocked,
    RealAwsNotAllowed,
    WaitTimeout,
)
from lab.names import Names

__all__ = [
    "AwsError", "BucketNameTaken", "ConfigurationError", "CredentialsMissing", "InvalidEmail",
    "Lab", "LabError", "LocalCloudOnly", "MissingResource", "Names", "NetworkBlocked",
    "RealAwsNotAllowed", "WaitTimeout", "connect",
]
