"""S3 bucket ownership: HEAD on another account's bucket answers 403, as AWS does (moto says 200)."""

from __future__ import annotations

from typing import Any

from lab.localcloud import hooks

HOOK_POINTS = ("moto.s3.responses:S3Response.head_bucket",)


def install(cloud: Any) -> None:
    """Make HeadBucket refuse callers that do not own the bucket."""
    original = hooks.patch(HOOK_POINTS[0], lambda response: _head_bucket(response, original))


def _head_bucket(response: Any, original: Any) -> Any:
    status, headers, body = original(response)
    if status == 200:
        bucket = response.backend.get_bucket(response.bucket_name)
        if bucket.account_id != response.current_account:
            return 403, {}, ""
    return status, headers, body
