"""SQS queues: get, create, delete, and waiting (boundedly) for a message (lesson 11)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from lab.aws import error_code, friendly, report, retrying, translated, wait_until
from lab.connection import Lab
from lab.errors import WaitTimeout

ABSENT = ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")
DELETED_RECENTLY = ("AWS.SimpleQueueService.QueueDeletedRecently", "QueueDeletedRecently")
RECREATE_WAIT_SECONDS = 70.0  # AWS refuses a queue's name for 60 s after the queue was deleted
LONG_POLL_SECONDS = 20  # the longest WaitTimeSeconds ReceiveMessage accepts
AWS_WAIT_SECONDS = 60.0  # how long wait_for_message waits on AWS unless told otherwise
LOCAL_WAIT_SECONDS = 10.0  # … and on the local cloud's clock (costs no real time)


def get_queue_url(lab: Lab, name: str) -> str | None:
    """The queue's URL (how the SQS API addresses a queue), or None when there is no such queue."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return lab.client("sqs").get_queue_url(QueueName=name)["QueueUrl"]
    except ClientError as error:
        if error_code(error) in ABSENT:
            return None
        raise translated(error, f"look up SQS queue {name}") from None
    except BotoCoreError as error:
        raise translated(error, f"look up SQS queue {name}") from None


def get_queue_arn(lab: Lab, name: str) -> str | None:
    """The queue's ARN (how every other service names a queue), or None when it is absent."""
    url = get_queue_url(lab, name)
    if url is None:
        return None
    with friendly(f"read the attributes of SQS queue {name}"):
        return lab.client("sqs").get_queue_attributes(
            QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def create_queue(lab: Lab, name: str) -> str:
    """Create a standard queue (on AWS, wait out the minute after a deletion); return its URL."""
    from botocore.exceptions import ClientError

    told: list[bool] = []

    def deleted_recently(error: BaseException) -> bool:
        if error_code(error) not in DELETED_RECENTLY:
            return False
        if not told:
            print(f"SQS keeps the name {name} for 60 s after a deletion: waiting until it "
                  "may be used again…")
            told.append(True)
        return True

    try:
        return retrying(lambda: lab.client("sqs").create_queue(QueueName=name)["QueueUrl"],
                        retry_if=deleted_recently, what=f"SQS to release the name {name}",
                        timeout=RECREATE_WAIT_SECONDS, interval=5.0)
    except ClientError as error:
        raise translated(error, f"create SQS queue {name}") from None


def ensure_queue(lab: Lab, name: str, *, quiet: bool = False) -> str:
    """Get or create the queue; print one ✓ line; return its ARN."""
    created = get_queue_url(lab, name) is None
    if created:
        create_queue(lab, name)
    report(created, "queue", name, quiet=quiet)
    arn = get_queue_arn(lab, name)
    assert arn is not None  # it was just found or created
    return arn


def lab_queues(lab: Lab) -> list[str]:
    """Names of the queues the lab creates, sorted: every queue named ``<function>-…``.

    Lesson 11's failure queue (``<function>-failures``) and the reliability suite's queues; one
    paginated ListQueues with the prefix (SQS lists at most 1000 queues per page).
    """
    prefix = f"{lab.names.function}-"
    names = []
    with friendly(f"list the SQS queues named {prefix}…"):
        for page in lab.client("sqs").get_paginator("list_queues").paginate(QueueNamePrefix=prefix):
            names.extend(url.rsplit("/", 1)[-1] for url in page.get("QueueUrls", []))
    return sorted(name for name in names if name.startswith(prefix))


def delete_queue(lab: Lab, name: str) -> bool:
    """Delete the queue and every message in it; True if it existed."""
    url = get_queue_url(lab, name)
    if url is None:
        return False
    with friendly(f"delete SQS queue {name}"):
        lab.client("sqs").delete_queue(QueueUrl=url)
    return True


def receive_messages(lab: Lab, name: str, *, wait_seconds: int = 0,
                     keep: bool = True) -> list[dict[str, Any]]:
    """One ReceiveMessage of up to 10 messages, with their SentTimestamp ([] when none, or no queue).

    ``keep=True`` receives with a visibility timeout of 0: the messages stay visible, so a later
    call (or another reader) receives them again; ``keep=False`` hides them for the queue's
    visibility timeout, as a consumer that is about to delete them does.
    """
    url = get_queue_url(lab, name)
    if url is None:
        return []
    options: dict[str, Any] = {"VisibilityTimeout": 0} if keep else {}
    with friendly(f"receive messages from SQS queue {name}"):
        response = lab.client("sqs").receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds,
            MessageSystemAttributeNames=["SentTimestamp"], **options)
    return response.get("Messages", [])


def wait_for_message(lab: Lab, name: str, *, timeout: float | None = None,
                     match: Callable[[dict[str, Any]], bool] | None = None,
                     advice: str = "") -> dict[str, Any] | None:
    """The newest message of queue ``name`` (that ``match`` accepts), waiting at most ``timeout`` s.

    Polls through the lab's one wait helper (``lab.aws.wait_until``): on AWS ``timeout`` defaults
    to 60 s of real time, each look a long poll; on the local cloud to 10 s of its clock, which
    moves instead (a message Lambda sends a second after the last attempt is there). When
    nothing comes, prints
    one ✗ line (ending with ``advice``) and returns None — it never raises because a message is
    late (no KeyError on a missing ``Messages``). Messages stay visible (and in the queue): a
    reader that has dealt with one deletes it with ``DeleteMessage`` and its ``ReceiptHandle``.
    """
    if timeout is None:
        timeout = LOCAL_WAIT_SECONDS if lab.is_local else AWS_WAIT_SECONDS
    if get_queue_url(lab, name) is None:
        print(f"✗ There is no queue {name}." + (f" {advice}" if advice else ""))
        return None

    deadline = time.monotonic() + timeout

    def newest() -> dict[str, Any] | None:
        # On AWS each look is a long poll (up to 20 s, never past the deadline): fewer requests.
        wait = 0 if lab.is_local else max(0, min(LONG_POLL_SECONDS,
                                                 int(deadline - time.monotonic())))
        found = [m for m in receive_messages(lab, name, wait_seconds=wait)
                 if match is None or match(m)]
        if not found:
            return None
        return max(found, key=lambda m: int(m.get("Attributes", {}).get("SentTimestamp", 0)))

    try:
        return wait_until(newest, what=f"a message in {name}", timeout=timeout, interval=2.0)
    except WaitTimeout:
        waited = f" after waiting {timeout:.0f} s" if timeout >= 1 else ""
        print(f"✗ No message arrived in {name}{waited}." + (f" {advice}" if advice else ""))
        return None
