"""SNS: the alerts topic ``event-driven-alerts`` and its email subscription (lesson 01)."""

from __future__ import annotations

import re
from typing import Any

from lab.aws import friendly, get_or_none, missing, report
from lab.connection import Lab
from lab.errors import InvalidEmail

PENDING = "pending confirmation"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z0-9-]{2,}$")


def validate_email(address: str) -> str:
    """Return ``address`` if SNS can deliver to it; raise InvalidEmail saying what to fix."""
    if not isinstance(address, str) or not _EMAIL.match(address.strip()):
        raise InvalidEmail(
            f"{address!r} is not an email address SNS can deliver to: use the form "
            "name@example.com (set EVENTLAB_EMAIL or pass email=...)."
        )
    return address.strip()


def get_topic(lab: Lab, name: str | None = None) -> str | None:
    """The ARN of the topic called ``name`` (default: the alerts topic), or None."""
    name = name or lab.names.topic
    with friendly(f"list SNS topics looking for {name}"):
        for page in lab.client("sns").get_paginator("list_topics").paginate():
            for topic in page["Topics"]:
                if topic["TopicArn"].rsplit(":", 1)[-1] == name:
                    return topic["TopicArn"]
    return None


def require_topic(lab: Lab) -> str:
    """The alerts topic's ARN; MissingResource naming lesson 01 when it does not exist."""
    arn = get_topic(lab)
    if arn is None:
        raise missing("SNS topic", lab.names.topic, "topic")
    return arn


def create_topic(lab: Lab, name: str | None = None) -> str:
    """Create the topic (the raw call of lesson 01) and return its ARN."""
    name = name or lab.names.topic
    with friendly(f"create SNS topic {name}"):
        return lab.client("sns").create_topic(Name=name)["TopicArn"]


def ensure_topic(lab: Lab, name: str | None = None, *, quiet: bool = False) -> str:
    """Get or create the alerts topic; print one ✓ line; return its ARN."""
    name = name or lab.names.topic
    arn = get_topic(lab, name)
    created = arn is None
    if created:
        arn = create_topic(lab, name)
    report(created, "topic", name, quiet=quiet)
    return arn


def delete_topic(lab: Lab, name: str | None = None) -> bool:
    """Delete the topic and its subscriptions; True if it existed."""
    arn = get_topic(lab, name)
    if arn is None:
        return False
    # ListTopics may still list a topic deleted a moment ago, and DeleteTopic of a topic that
    # is gone succeeds: the topic's own attributes say whether it is still there.
    found = get_or_none(lambda: lab.client("sns").get_topic_attributes(TopicArn=arn),
                        absent="NotFound", action=f"read SNS topic {arn}")
    if found is None:
        return False
    with friendly(f"delete SNS topic {arn}"):
        lab.client("sns").delete_topic(TopicArn=arn)
    return True


def list_subscriptions(lab: Lab, topic_arn: str | None = None) -> list[dict[str, Any]]:
    """The topic's subscriptions: Protocol, Endpoint, SubscriptionArn, and ``pending``."""
    topic_arn = topic_arn or require_topic(lab)
    found = []
    with friendly(f"list the subscriptions of {topic_arn}"):
        paginator = lab.client("sns").get_paginator("list_subscriptions_by_topic")
        for page in paginator.paginate(TopicArn=topic_arn):
            for sub in page["Subscriptions"]:
                pending = not sub["SubscriptionArn"].startswith("arn:")
                found.append({"Protocol": sub["Protocol"], "Endpoint": sub["Endpoint"],
                              "SubscriptionArn": sub["SubscriptionArn"], "pending": pending})
    return found


def get_email_subscription(lab: Lab, email: str | None = None) -> dict[str, Any] | None:
    """The email subscription of ``email`` (default: the lab's address) to the topic, or None."""
    email = email or lab.names.email
    topic_arn = get_topic(lab)
    if topic_arn is None:
        return None
    for sub in list_subscriptions(lab, topic_arn):
        if sub["Protocol"] == "email" and sub["Endpoint"].lower() == email.lower():
            return sub
    return None


def subscribe_email(lab: Lab, email: str | None = None) -> str:
    """Subscribe ``email`` to the topic (the raw call); returns 'pending confirmation' or an ARN."""
    email = validate_email(lab.names.email if email is None else email)
    topic_arn = require_topic(lab)
    with friendly(f"subscribe {email} to {topic_arn}"):
        response = lab.client("sns").subscribe(
            TopicArn=topic_arn, Protocol="email", Endpoint=email, ReturnSubscriptionArn=False)
    return response["SubscriptionArn"]


def ensure_email_subscription(lab: Lab, email: str | None = None, *, quiet: bool = False) -> str:
    """Get or create the email subscription; print one ✓ line; return its status.

    Returns ``"confirmed"`` or ``"pending confirmation"`` (SNS sends nothing until the
    recipient clicks the link in the confirmation email).
    """
    email = validate_email(lab.names.email if email is None else email)
    existing = get_email_subscription(lab, email)
    if existing is None:
        arn = subscribe_email(lab, email)
        status = PENDING if arn == PENDING or not arn.startswith("arn:") else "confirmed"
        if not quiet:
            print(f"✓ Subscribed {email} to {lab.names.topic} ({status})")
        return status
    status = PENDING if existing["pending"] else "confirmed"
    if not quiet:
        print(f"✓ Email subscription {email} already exists ({status})")
    return status


def publish(lab: Lab, message: str, *, subject: str | None = None) -> str:
    """Publish a message to the alerts topic; returns the MessageId."""
    topic_arn = require_topic(lab)
    kwargs: dict[str, Any] = {"TopicArn": topic_arn, "Message": message}
    if subject:
        kwargs["Subject"] = subject
    with friendly(f"publish to {topic_arn}"):
        return lab.client("sns").publish(**kwargs)["MessageId"]
