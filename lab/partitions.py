"""AWS partitions: which ``arn:<partition>:`` a region's resources live in."""

from __future__ import annotations

# AWS: "Partitions" in the IAM User Guide (ARN format). China and GovCloud regions are their own
# partitions; everything else is "aws". ISO partitions are outside what the lab supports.
_PREFIXES = (("cn-", "aws-cn"), ("us-gov-", "aws-us-gov"))


def partition_of(region: str) -> str:
    """``aws``, ``aws-cn`` or ``aws-us-gov`` for ``region`` (e.g. cn-north-1 → aws-cn)."""
    for prefix, partition in _PREFIXES:
        if region.startswith(prefix):
            return partition
    return "aws"
