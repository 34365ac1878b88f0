"""SQS queues: get, create, delete, and waiting (boundedly) for a message (lesson 11)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from lab.aws import error_code, friendly, report, translated
from lab.connection import Lab

ABSENT = ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")
DELETED_RECENTLY = ("AWS.SimpleQueueService.QueueDeletedRecently", "QueueDeletedRecently")
RECREATE_WAIT_SECONDS = 70.0  # AWS refuses a queue's name for 60 s after the queue was deleted
LONG_POLL_SECONDS = 20  # the longest WaitTimeSeconds ReceiveMessage accepts
AWS_WAIT_SECONDS = 60.0  # how long wait_for_message waits on AWS unless told otherwise


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

    deadline = time.monotonic() + RECREATE_WAIT_SECONDS
    told = False
    while True:
        try:
            return lab.client("sqs").create_queue(QueueName=name)["QueueUrl"]
        except ClientError as error:
            if error_code(error) not in DELETED_RECENTLY or time.monotonic() > deadline:
                raise translated(error, f"create SQS queue {name}") from None
            if not told:
                print(f"SQS keeps the name {name} for 60 s after a deletion: waiting until it "
                      "may be used again…")
                told = True
            time.sleep(5)


def ensure_queue(lab: Lab, name: str, *, quiet: bool = False) -> str:
    """Get or create the queue; print one ✓ line; return its ARN."""
    created = get_queue_url(lab, name) is None
    if created:
        create_queue(lab, name)
    report(created, "queue", name, quiet=quiet)
    arn = get_queue_arn(lab, name)
    assert arn is not None  # it was just found or created
    return arn


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

    On AWS the queue is long-polled until the deadline (``timeout`` defaults to 60 s); on the
    local cloud messages arrive as its clock moves, so it looks once unless ``timeout`` is given.
    When nothing comes, prints one ✗ line (ending with ``advice``) and returns None — it never
    raises because a message is late. Messages stay visible (and in the queue): a reader that has
    dealt with one deletes it with ``DeleteMessage`` and the message's ``ReceiptHandle``.
    """
    if timeout is None:
        timeout = 0.0 if lab.is_local else AWS_WAIT_SECONDS
    deadline = time.monotonic() + timeout
    if get_queue_url(lab, name) is None:
        print(f"✗ There is no queue {name}." + (f" {advice}" if advice else ""))
        return None
    while True:
        left = deadline - time.monotonic()
        wait = 0 if lab.is_local else max(0, min(LONG_POLL_SECONDS, int(left)))
        found = [m for m in receive_messages(lab, name, wait_seconds=wait)
                 if match is None or match(m)]
        if found:
            return max(found, key=lambda m: int(m.get("Attributes", {}).get("SentTimestamp", 0)))
        if time.monotonic() >= deadline:
            waited = f" after waiting {timeout:.0f} s" if timeout >= 1 else ""
            print(f"✗ No message arrived in {name}{waited}." + (f" {advice}" if advice else ""))
            return None
        if lab.is_local:
            time.sleep(min(0.05, max(0.0, left)))
