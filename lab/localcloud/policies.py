"""Lambda resource policies: a StatementId already in the policy is refused, as AWS does (moto adds a copy)."""

from __future__ import annotations

import json
from typing import Any

from lab.localcloud import hooks

HOOK_POINTS = ("moto.awslambda.policy:Policy.add_statement",)


def install(cloud: Any) -> None:
    """Make AddPermission answer ResourceConflictException for a repeated StatementId."""
    original = hooks.patch(
        HOOK_POINTS[0],
        lambda policy, raw, qualifier=None: _add_statement(policy, raw, qualifier, original))


def _add_statement(policy: Any, raw: str, qualifier: str | None, original: Any) -> Any:
    from moto.awslambda.exceptions import LambdaClientError

    statement_id = json.loads(raw).get("StatementId")
    if statement_id and any(s.get("Sid") == statement_id for s in policy.statements):
        error = LambdaClientError(
            "ResourceConflictException",
            f"The statement id ({statement_id}) provided already exists. Please provide a new "
            "statement id, or remove the existing statement.")
        error.code = 409
        raise error
    return original(policy, raw, qualifier)
