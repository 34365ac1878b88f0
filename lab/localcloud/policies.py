"""Lambda settings moto keeps wrongly: a repeated StatementId, a replaced asynchronous configuration.

AWS refuses a StatementId already in the function's policy (moto adds a copy), and
PutFunctionEventInvokeConfig *replaces* the function's asynchronous settings (moto appends them and
GetFunctionEventInvokeConfig keeps answering with the first ones).
"""

from __future__ import annotations

import json
from typing import Any

from lab.localcloud import hooks

HOOK_POINTS = ("moto.awslambda.policy:Policy.add_statement",
               "moto.awslambda.models:LambdaBackend.put_function_event_invoke_config")


def install(cloud: Any) -> None:
    """Make AddPermission refuse a repeated StatementId, and PutFunctionEventInvokeConfig replace."""
    original = hooks.patch(
        HOOK_POINTS[0],
        lambda policy, raw, qualifier=None: _add_statement(policy, raw, qualifier, original))
    put = hooks.patch(
        HOOK_POINTS[1],
        lambda backend, function_name, config: _put_invoke_config(backend, function_name, config, put))


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


def _put_invoke_config(backend: Any, function_name: str, config: Any, original: Any) -> Any:
    """moto's put (it validates, then appends); only the new settings are kept, as on AWS."""
    response = original(backend, function_name, config)
    function = backend.get_function(function_name)
    function.event_invoke_config = function.event_invoke_config[-1:]
    return response
