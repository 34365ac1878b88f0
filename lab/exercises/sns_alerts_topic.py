"""Exercises of lesson 01 · SNS alerts topic: the topic, its ARN, the email subscription."""

from __future__ import annotations

from typing import Any

import difflib

from lab import sns
from lab.checks import BuildExercise, Exercise, Wrong, require_connection
from lab.connection import Lab

_ARN_PARTS = ("arn", "partition", "service", "region", "account id", "topic name")


def _topic_names(cloud: Lab) -> list[str]:
    client = cloud.client("sns")
    return [topic["TopicArn"].rsplit(":", 1)[-1]
            for page in client.get_paginator("list_topics").paginate() for topic in page["Topics"]]


def _built_topic(cloud: Lab) -> str:
    """Pass when the learner's CreateTopic made the topic with the lab's exact name."""
    wanted = cloud.names.topic
    if sns.get_topic(cloud) is not None:
        return f"topic {wanted} exists; CreateTopic answered with its ARN."
    near = difflib.get_close_matches(wanted, _topic_names(cloud), n=1, cutoff=0.6)
    if near:
        raise Wrong(f"you created a topic called {near[0]!r}, but the lab's topic is {wanted!r} "
                    "(cloud.names.topic) and names must match exactly. Run the cell again with "
                    f"Name=cloud.names.topic; sns.delete_topic(cloud, {near[0]!r}) removes the "
                    "other one.")
    raise Wrong(f"there is no topic called {wanted} yet: pass Name=cloud.names.topic to "
                "create_topic and run the cell again.")


def _explain_create_topic(code: str, message: str, cloud: Lab) -> str | None:
    if code in ("InvalidParameter", "InvalidParameterException"):
        return ("AWS refused the name: topic names hold only letters, digits, hyphens and "
                f"underscores (no spaces), 1–256 characters. Use Name=cloud.names.topic "
                f"({cloud.names.topic!r}).")
    return None


def _built_subscription(cloud: Lab) -> str:
    """Pass when the lab's address has an email (not email-json) subscription to the topic."""
    topic_arn = sns.get_topic(cloud)
    if topic_arn is None:
        raise Wrong(f"there is no topic {cloud.names.topic} to subscribe to: run the "
                    "create_topic exercise above first.")
    email = cloud.names.email
    mine = [s for s in sns.list_subscriptions(cloud, topic_arn) if s["Endpoint"] == email]
    if not mine:
        raise Wrong(f"{email} has no subscription to {cloud.names.topic} yet: pass the topic's "
                    "ARN, Protocol='email' and Endpoint=cloud.names.email to subscribe.")
    protocols = sorted({s["Protocol"] for s in mine})
    if "email" not in protocols:
        raise Wrong(f"{email} is subscribed with protocol {protocols[0]!r}, which is not plain "
                    "email ('email-json' mails raw JSON). Subscribe again with Protocol='email'.")
    status = "pending confirmation" if any(s["pending"] for s in mine if s["Protocol"] == "email") \
        else "confirmed"
    return f"{email} is subscribed to {cloud.names.topic} by email ({status})."


def _explain_subscribe(code: str, message: str, cloud: Lab) -> str | None:
    if code in ("NotFound", "NotFoundException"):
        return ("no topic has that TopicArn. A topic's ARN reads arn:aws:sns:<region>:"
                "<account id>:<name> — check that the account id is there, or pass "
                "sns.get_topic(cloud).")
    if code in ("InvalidParameter", "InvalidParameterException") and "mail" in message:
        return (f"AWS refused the endpoint: {message}. Use Endpoint=cloud.names.email "
                f"({cloud.names.email}).")
    if code in ("InvalidParameter", "InvalidParameterException"):
        return (f"AWS refused a parameter: {message}. Protocol is 'email' (lower case) and "
                "TopicArn is the topic's full ARN.")
    return None



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


build_topic = BuildExercise(
    title="Create the topic",
    test=_built_topic,
    build=sns.ensure_topic,
    explain=_explain_create_topic,
    hints=(
        "create_topic needs only the topic's name.",
        "The lab keeps every resource name in cloud.names.",
    ),
    solution_text='cloud.client("sns").create_topic(Name=cloud.names.topic)',
)

build_subscription = BuildExercise(
    title="Subscribe your address",
    test=_built_subscription,
    build=sns.ensure_email_subscription,
    explain=_explain_subscribe,
    hints=(
        "subscribe takes the topic's ARN, a protocol and an endpoint.",
        "sns.get_topic(cloud) returns the topic's ARN; the protocol for a mailbox is a "
        "lower-case word.",
    ),
    solution_text=('cloud.client("sns").subscribe(TopicArn=sns.get_topic(cloud), '
                   'Protocol="email", Endpoint=cloud.names.email)'),
)

topic = Exercise(
    title="The alerts topic",
    test=_topic,
    hints=("Run the cells above that create the topic.",
           "sns.ensure_topic(cloud) creates it if it is missing."),
    solution_text=("Run the 'Your turn: create the topic' cell with its blank filled in "
                   "(ex.build_topic.solution() shows the call); a blank run lets the lab's "
                   "helper create it."),
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
    solution_text='answer = f"arn:{cloud.partition}:sns:{cloud.region}:{cloud.account_id}:{cloud.names.topic}"',
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
    solution_text=("Subscribe with the 'Your turn: subscribe your address' cell "
                   "(ex.build_subscription.solution() shows the call), then confirm: on the moto "
                   "backend run the 'Confirming' cell; on AWS click 'Confirm subscription' in "
                   "the email."),
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
