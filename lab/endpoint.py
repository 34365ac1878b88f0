"""What an AWS-compatible endpoint can do: whether it runs Lambda functions (the endpoint backend).

A bare moto server stores functions but runs their code only through Docker; without it, an
invoke answers with moto's error text instead of the handler's JSON, and nothing a function
would do (items, log events, destination records, the alarms they drive) ever happens. Every
wait for such an effect asks :func:`require_functions_run` first, so that on such an endpoint it
ends at once with one ✗ sentence instead of a minute-long timeout.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from lab.connection import Lab
from lab.errors import FunctionsNotRun

PROBE_EVENT: dict[str, Any] = {"Records": []}  # the handler stores nothing and answers JSON


def moto_server_config(lab: Lab) -> dict[str, Any] | None:
    """The moto server's configuration (``GET /moto-api/config``), or None for another endpoint."""
    try:
        with urllib.request.urlopen(f"{lab.endpoint_url}/moto-api/config", timeout=5) as reply:
            config = json.loads(reply.read())
    except (OSError, ValueError):
        return None
    return config if isinstance(config, dict) and "lambda" in config else None


def runs_functions(lab: Lab) -> bool:
    """True unless ``lab`` is a moto server that does not run the lab's function.

    Asked once per connection. A moto server configured without Docker answers every invoke with
    a stub; one with Docker is asked with one synchronous invoke of an empty batch (the handler
    writes nothing for it), which an unreachable Docker answers with an error text, not JSON.
    Other endpoints (LocalStack runs functions) and moto and AWS are not asked: True; True also
    when there is no function yet (the caller's own wait then says what is missing).
    """
    if lab.backend != "endpoint":
        return True
    known = getattr(lab, "_runs_functions", None)
    if known is not None:
        return known
    from botocore.exceptions import BotoCoreError, ClientError

    from lab import awslambda

    config = moto_server_config(lab)
    if config is None:
        return True
    runs = True
    if config.get("lambda", {}).get("use_docker") is False:
        runs = False
    elif awslambda.get_function(lab) is not None:
        try:
            response = lab.client("lambda").invoke(
                FunctionName=lab.names.function, InvocationType="RequestResponse",
                Payload=json.dumps(PROBE_EVENT).encode())
            json.loads(response["Payload"].read().decode("utf-8", "replace") or "null")
        except ValueError:
            runs = False
        except (ClientError, BotoCoreError):
            return True  # no sign of a missing runner: the wait itself reports what it finds
    else:
        return True
    lab._runs_functions = runs  # type: ignore[attr-defined]
    return runs


def require_functions_run(lab: Lab, what: str) -> None:
    """Raise FunctionsNotRun (one sentence) when ``what`` depends on a function the endpoint will
    not run; do nothing elsewhere."""
    if not runs_functions(lab):
        raise FunctionsNotRun(
            f"{lab.endpoint_url} does not run Lambda functions (it answers an invoke without "
            f"running the handler), so {what} will never come: run this lesson on the moto "
            "backend (the default) or on an endpoint that runs functions, such as LocalStack "
            "(README, Backends).")
