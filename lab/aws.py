"""Shared plumbing of the service modules: AWS error codes, friendly errors, waiting, ✓ lines."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from lab.errors import AwsError, MissingResource, WaitTimeout
from lab.names import LESSON_OF

T = TypeVar("T")


def error_code(error: BaseException) -> str:
    """The AWS error code of a botocore ClientError ('' for anything else)."""
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def error_message(error: BaseException) -> str:
    """AWS's own message of a botocore ClientError (str(error) for anything else)."""
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Message", "")) or str(error)


def translated(error: BaseException, action: str) -> AwsError:
    """One sentence for a botocore error: what the lab tried, AWS's code and message."""
    code = error_code(error)
    if code:
        return AwsError(f"Could not {action}: {code}: {error_message(error)}", code=code)
    return AwsError(f"Could not {action}: {error}")


@contextlib.contextmanager
def friendly(action: str) -> Iterator[None]:
    """Turn a botocore error inside the block into one LabError sentence naming ``action``."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except (ClientError, BotoCoreError) as error:
        raise translated(error, action) from None


def get_or_none(call: Callable[[], T], *, absent: str, action: str) -> T | None:
    """``call()``, or None when AWS answers the error code ``absent`` (the resource is not there).

    Any other AWS error becomes one LabError sentence naming ``action``.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return call()
    except ClientError as error:
        if error_code(error) == absent:
            return None
        raise translated(error, action) from None
    except BotoCoreError as error:
        raise translated(error, action) from None


def missing(kind: str, name: str, resource: str) -> MissingResource:
    """The error for a resource an earlier lesson creates; names the lesson to run."""
    lesson = LESSON_OF[resource]
    return MissingResource(
        f"The {kind} {name} does not exist yet: run notebook {lesson} first "
        "(or lab.connect().build_pipeline() to build everything).",
        lesson=lesson,
    )


def report(created: bool, kind: str, name: str, *, quiet: bool = False) -> None:
    """Print the one status line of an ensure_* helper."""
    if quiet:
        return
    from lab.text import say

    if created:
        say(f"✓ Created {kind} {name}")
    else:
        say(f"✓ {kind[:1].upper()}{kind[1:]} {name} already exists")


def wait_until(check: Callable[[], T | None], *, what: str, timeout: float = 120.0,
               interval: float = 1.0) -> T:
    """Call ``check`` until it returns something truthy; raise WaitTimeout after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    delay = min(interval, 0.05)
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise WaitTimeout(f"Timed out after {timeout:.0f} s waiting for {what}.")
        time.sleep(delay)
        delay = min(delay * 2, interval)


def first(items: list[Any] | tuple[Any, ...]) -> Any:
    """The first element, or None."""
    return items[0] if items else None
