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
    """AWS's own message of a botocore ClientError (str(error) for anything else).

    An endpoint that fails inside (a moto server on an operation it does not implement) answers
    with an HTML page instead of an AWS error: that becomes one sentence, not the page.
    """
    response = getattr(error, "response", None) or {}
    message = str(response.get("Error", {}).get("Message", "")) or str(error)
    if "<html" in message.lower() or message.lstrip().lower().startswith("<!doctype"):
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode", "an error")
        return (f"the endpoint answered with an HTML error page (HTTP {status}) instead of an AWS "
                "answer: it does not implement this operation")
    return message


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


def local_clock() -> Any:
    """The local cloud's clock while the moto mock runs in this process, else None.

    While the mock runs, every boto3 call of the process talks to the local cloud (``lab.mock``),
    so every wait of the lab is a wait on that clock.
    """
    from lab import mock

    if not mock.is_active():
        return None
    from lab import localcloud

    cloud = localcloud._current
    return cloud.clock if cloud is not None else None


def pause(seconds: float) -> None:
    """Let ``seconds`` pass: advance the local clock on the moto backend, sleep on AWS.

    The one primitive every wait of ``lab/`` is built on (:func:`wait_until`, :func:`retrying`,
    boto3's waiters on the local cloud): offline, waiting costs no real time, and what the local
    cloud finishes later (a Pending function, a log event) becomes due as the clock moves.
    """
    if seconds <= 0:
        return
    clock = local_clock()
    if clock is None:
        time.sleep(seconds)
    else:
        clock.advance(seconds=seconds)


def _elapsed_since(clock: Any, start: float) -> float:
    return (clock.time() if clock is not None else time.monotonic()) - start


def _to_next_change(clock: Any) -> bool:
    """On the local cloud, move the clock to the next moment something AWS accepted finishes
    (a function Active, logs delivered, …); False when nothing is pending.

    The number of polls a wait makes then does not depend on real time, so the seeded ids of the
    requests that follow are the same on every run.
    """
    from lab.localcloud import consistency

    state = consistency.current()
    moment = state.next_change() if state is not None and state.enabled else None
    if moment is None:
        return False
    clock.advance(seconds=max(0.0, (moment - clock.now()).total_seconds()) + 0.001)
    return True


def wait_until(check: Callable[[], T | None], *, what: str, timeout: float = 120.0,
               interval: float = 1.0) -> T:
    """Call ``check`` until it returns something truthy; raise WaitTimeout after ``timeout`` s.

    The one polling helper of the lab. Between calls it waits through :func:`pause` (0.05 s, then
    doubling up to ``interval``): on the moto backend the local clock advances instead of real
    time passing, and ``timeout`` is measured on that clock.
    """
    clock = local_clock()
    start = clock.time() if clock is not None else time.monotonic()
    delay = min(interval, 0.05)
    while True:
        result = check()
        if result:
            return result
        if _elapsed_since(clock, start) >= timeout:
            raise WaitTimeout(f"Timed out after {timeout:.0f} s waiting for {what}.")
        if clock is None or not _to_next_change(clock):
            pause(delay)
        delay = min(delay * 2, interval)


def retrying(call: Callable[[], T], *, retry_if: Callable[[BaseException], bool], what: str,
             timeout: float, interval: float = 2.0) -> T:
    """``call()``, called again (through :func:`wait_until`) while it raises an error that
    ``retry_if`` accepts, for at most ``timeout`` s; the last such error is raised after that.

    For AWS's eventual consistency: a role not assumable yet, an update in progress, a
    permission S3 cannot see yet, a bucket name still being released.
    """
    last: list[BaseException] = []

    def attempt() -> Any:
        try:
            return (call(),)
        except Exception as error:  # noqa: BLE001 - retry_if decides; others are raised below
            if not retry_if(error):
                raise
            last[:] = [error]
            return None

    try:
        return wait_until(attempt, what=what, timeout=timeout, interval=interval)[0]
    except WaitTimeout:
        if last:
            raise last[0] from None
        raise


def settled(listing: Callable[[], T], *, rounds: int = 6, interval: float = 2.0) -> T:
    """``listing()`` until two calls in a row agree (at most ``rounds`` more calls).

    AWS's listings are eventually consistent: a resource deleted or detached a moment ago may
    still be listed (S3 User Guide, "Amazon S3 data consistency model"; IAM User Guide, "Changes
    that I make are not always immediately visible"). Between disagreeing calls it waits through
    :func:`pause`; when the first two agree, nothing waits.
    """
    last = listing()
    for _ in range(rounds):
        again = listing()
        if again == last:
            break
        last = again
        pause(interval)
    return last


def first(items: list[Any] | tuple[Any, ...]) -> Any:
    """The first element, or None."""
    return items[0] if items else None
