"""Exercises of lesson 01 · SNS alerts topic: the topic, its ARN, the email subscription."""

from __future__ import annotations

from typing import Any

from lab import sns
from lab.checks import Exercise, Wrong, require_connection
from lab.connection import Lab

_ARN_PARTS = ("arn", "partition", "service", "region", "account id", "topic name")



def _topic(cloud: Any) -> str:
    """Pass when the alerts topic exists."""
    cloud = require_connection(cloud)
    arn = sns.get_topic(cloud)
    if arn is None:
        raise Wrong(f"there is no topic called {cloud.names.topic} yet: run the create_topic cell "
                    "above, or sns.ensure_topic(cloud).")
    return f"topic {cloud.names.topic} exists ({arn})."


def _expected_topic_arn(cloud: Lab) -> str:
    return sns.get_topic(cloud) or cloud.arn("sns", cloud.names.topic)


def _topic_arn(answer: Any, cloud: Any) -> str:
    """Pass when ``answer`` is the alerts topic's ARN, written from its parts."""
    cloud = require_connection(cloud)
    expected = _expected_topic_arn(cloud)
    if not isinstance(answer, str):
        raise Wrong(f"an ARN is a string like 'arn:aws:sns:…'; you gave {answer!r}.")
    given = answer.strip().split(":")
    wanted = expected.split(":")
    if len(given) != len(wanted):
        raise Wrong(f"a topic ARN has {len(wanted)} parts separated by ':' "
                    f"({', '.join(_ARN_PARTS)}); yours has {len(given)}.")
    for part, mine, right in zip(_ARN_PARTS, given, wanted):
        if mine != right:
            where = {"region": " (cloud.region)", "account id": " (cloud.account_id)",
                     "topic name": " (cloud.names.topic)"}.get(part, "")
            raise Wrong(f"the {part} part is {mine!r}, but it should be {right!r}{where}.")
    return f"{expected} — every SNS call that targets the topic uses this ARN."


def _subscription(cloud: Any) -> str:
    """Pass when the lab's email address has a confirmed subscription to the topic."""
    cloud = require_connection(cloud)
    if sns.get_topic(cloud) is None:
        raise Wrong(f"there is no topic {cloud.names.topic} yet, so nothing can subscribe to it: "
                    "create the topic first.")
    subscription = sns.get_email_subscription(cloud)
    email = cloud.names.email
    if subscription is None:
        raise Wrong(f"{email} has no email subscription to {cloud.names.topic} yet: run the "
                    "subscribe cell above, or sns.ensure_email_subscription(cloud).")
    if subscription["pending"]:
        how = ("cloud.confirm_email() clicks it for you on the moto backend"
               if cloud.is_local else f"open the mailbox of {email}")
        raise Wrong(f"{email} is subscribed but still pending confirmation, so SNS delivers "
                    f"nothing yet: click the link in the confirmation email ({how}).")
    return f"{email} is subscribed and confirmed: alerts will reach it."


def _pending_deliveries(answer: Any) -> str:
    """Pass when ``answer`` is 0: SNS delivers nothing to a pending subscription."""
    if isinstance(answer, bool) or not isinstance(answer, (int, float)):
        raise Wrong(f"give a number of emails, e.g. 2; you gave {answer!r}.")
    if answer == 0:
        return ("none — SNS sends nothing to an address until its owner confirms; the only email "
                "it gets before that is the confirmation request itself.")
    if answer == 3:
        raise Wrong("3 would be right for a confirmed subscription. What does SNS do with a "
                    "subscription whose owner has not clicked the link yet?")
    if answer == 4:
        raise Wrong("the confirmation email does arrive, but it is not one of the three "
                    "messages you published. How many of those three arrive?")
    raise Wrong(f"{answer} is not it. Think about what 'pending confirmation' protects against.")


topic = Exercise(
    title="The alerts topic",
    test=_topic,
    hints=("Run the cells above that create the topic.",
           "sns.ensure_topic(cloud) creates it if it is missing."),
    solution_text="from lab import sns\nsns.ensure_topic(cloud)",
)

q1 = Exercise(
    title="The topic's ARN",
    test=_topic_arn,
    hints=(
        "An ARN reads arn:partition:service:region:account-id:resource.",
        "The partition is 'aws', the service 'sns', and for a topic the resource is its name.",
        "The region, account id and topic name are cloud.region, cloud.account_id and "
        "cloud.names.topic.",
    ),
    solution_text='answer = f"arn:aws:sns:{cloud.region}:{cloud.account_id}:{cloud.names.topic}"',
)

subscription = Exercise(
    title="The email subscription",
    test=_subscription,
    hints=(
        "Subscribe the address first (sns.ensure_email_subscription(cloud)).",
        "A new email subscription stays 'pending confirmation' until the link in the "
        "confirmation email is clicked.",
        "On the moto backend, cloud.confirm_email() clicks it; on AWS, open the email.",
    ),
    solution_text=("from lab import sns\nsns.ensure_email_subscription(cloud)\n"
                   "cloud.confirm_email()   # on AWS: click 'Confirm subscription' in the email"),
)

q2 = Exercise(
    title="Publishing to a pending subscription",
    test=_pending_deliveries,
    hints=(
        "Why does SNS ask the owner of the address to confirm at all?",
        "Until the link is clicked, SNS must assume the address owner never asked for these "
        "emails.",
    ),
    solution_text="answer = 0   # SNS delivers nothing until the subscription is confirmed",
)
