"""The moto backend's process-wide mock: started once, fake credentials forced, no request leaves.

This module owns the only global state of the lab: the one moto mock of this Python process.
Every boto3 client made in the process while it runs (the deployed handler's included) talks to
the in-memory moto backends, never to an AWS endpoint.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from lab.errors import NetworkBlocked

ACCOUNT_ID = "123456789012"  # moto's default account
SEED = 2026  # seeds moto's random ids so notebook outputs are reproducible

# Fake credentials for moto; real ones in the environment are set aside while the mock runs.
FAKE_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
    # botocore 1.44 addresses DynamoDB (Streams) by account id; moto answers only the classic hosts.
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    # Every request belongs to the lab's one account. This also spares moto from building IAM
    # (with every AWS managed policy) in all twelve partitions to map an access key to an account.
    "MOTO_ACCOUNT_ID": ACCOUNT_ID,
}
# Variables that could point a client at a real account or a real endpoint.
REMOVED_ENVIRONMENT = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ROLE_ARN",
                       "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                       "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_ENDPOINT_URL")

_lock = threading.Lock()
_mock: Any = None
_saved_environment: dict[str, str] | None = None  # the caller's AWS_* variables, restored by stop()


class _GuardedStubber:
    """moto's botocore stubber, plus a refusal of every request moto did not answer itself."""

    def __init__(self, stubber: Any) -> None:
        self.stubber = stubber

    def __call__(self, event_name: str, request: Any, **kwargs: Any) -> Any:
        from lab import faults

        injected = faults.before_send(request, event_name)  # EVENTLAB_FAULTS: instead of moto
        if injected is not None:
            return injected
        response = self.stubber(event_name, request, **kwargs)
        if response is None and self.stubber.enabled:
            raise NetworkBlocked(
                f"The moto backend refused a request to {request.url}: nothing leaves this "
                "machine on the moto backend. To use a real account, see the README's Backends."
            )
        return response


def _guard_moto_stubber() -> None:
    """Swap moto's before-send handler for the guarded one (once per process)."""
    from botocore.handlers import BUILTIN_HANDLERS
    from moto.core.models import botocore_stubber

    for index, entry in enumerate(BUILTIN_HANDLERS):
        if entry[1] is botocore_stubber:
            BUILTIN_HANDLERS[index] = (entry[0], _GuardedStubber(botocore_stubber), *entry[2:])


def _aws_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k.startswith(("AWS_", "MOTO_"))}


def _force_fake_environment(region: str) -> None:
    for name in REMOVED_ENVIRONMENT:
        os.environ.pop(name, None)
    for name in list(os.environ):
        if name.startswith("AWS_ENDPOINT_URL_"):
            del os.environ[name]
    os.environ.update(FAKE_ENVIRONMENT)
    os.environ["AWS_DEFAULT_REGION"] = region
    os.environ["AWS_REGION"] = region


def start(region: str) -> None:
    """Start the process-wide mock once (idempotent) with fake credentials and seeded ids."""
    global _mock, _saved_environment
    with _lock:
        if _mock is None:
            _saved_environment = _aws_environment()
        _force_fake_environment(region)
        if _mock is not None:
            return
        import boto3
        from moto import mock_aws
        from moto.moto_api._internal import mock_random

        _guard_moto_stubber()
        from lab import faults

        faults.install()  # EVENTLAB_FAULTS=ci: AWS's transient errors, ahead of moto's answers
        # AWS managed policies (the seed attaches three); Lambda never tries Docker.
        mock = mock_aws(config={"iam": {"load_aws_managed_policies": True},
                                "lambda": {"use_docker": False}})
        mock.start()
        _force_fake_environment(region)  # moto sets its own fake keys; ours win
        mock_random.seed(SEED)
        boto3.DEFAULT_SESSION = None
        _mock = mock
        from lab import localcloud

        localcloud.install(account_id=ACCOUNT_ID, region=region)


def is_active() -> bool:
    """True while the process-wide mock intercepts boto3 requests."""
    if _mock is None:
        return False
    from moto.core.models import botocore_stubber

    return bool(botocore_stubber.enabled)


def stop() -> None:
    """Stop the mock and drop all its data (tests use this; notebooks never need it)."""
    global _mock, _saved_environment
    with _lock:
        if _mock is None:
            return
        from lab import localcloud

        localcloud.uninstall()
        from lab import faults

        faults.uninstall()
        _mock.stop()
        _mock = None
        for name in _aws_environment():
            del os.environ[name]
        os.environ.update(_saved_environment or {})
        _saved_environment = None
