"""SNS email in the local cloud: confirmation, inboxes, AWS's email and email-json formats."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from botocore.exceptions import ClientError

from lab import mock
from lab.errors import LabError
from lab.localcloud import current, hooks, mail

ADDRESS = "learner@example.com"
MAIL_KEYS = {"to", "subject", "body", "time", "topic_arn", "message_id"}
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
FOOTER = (
    "\n\n--\nIf you wish to stop receiving notifications from this topic, please click or visit "
    "the link below to unsubscribe:\nhttps://sns.us-east-1.amazonaws.com/unsubscribe.html?"
    "SubscriptionArn={arn}&Endpoint={address}\n\nPlease do not reply directly to this email. If "
    "you have any questions or comments regarding this email, please contact us at "
    "https://aws.amazon.com/support")


@pytest.fixture(autouse=True)
def _named_account(monkeypatch):
    """Name moto's account up front, as moto allows: it then skips looking the access key up in
    IAM, which builds IAM with every AWS managed policy in each partition (~1 s per fresh mock)."""
    monkeypatch.setenv("MOTO_ACCOUNT_ID", mock.ACCOUNT_ID)


@pytest.fixture
def topic(lab_moto) -> str:
    return lab_moto.client("sns").create_topic(Name="event-driven-alerts")["TopicArn"]


def subscribe(lab, topic: str, protocol: str = "email", address: str = ADDRESS, **kwargs) -> str:
    return lab.client("sns").subscribe(TopicArn=topic, Protocol=protocol, Endpoint=address,
                                       **kwargs)["SubscriptionArn"]


def publish(lab, topic: str, message: str, **kwargs) -> str:
    return lab.client("sns").publish(TopicArn=topic, Message=message, **kwargs)["MessageId"]


def listed(lab, topic: str) -> list[dict]:
    return lab.client("sns").list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]


def attributes(lab, arn: str) -> dict:
    return lab.client("sns").get_subscription_attributes(SubscriptionArn=arn)["Attributes"]


# -- confirmation ----------------------------------------------------------------------------------

def test_email_subscription_is_pending_until_confirmed(lab_moto, topic):
    assert subscribe(lab_moto, topic) == "pending confirmation"
    [pending] = listed(lab_moto, topic)
    assert pending == {"SubscriptionArn": "PendingConfirmation", "Owner": lab_moto.account_id,
                       "Protocol": "email", "Endpoint": ADDRESS, "TopicArn": topic}
    assert lab_moto.client("sns").list_subscriptions()["Subscriptions"] == [pending]
    publish(lab_moto, topic, "nobody reads this")
    [confirmation] = lab_moto.inbox(ADDRESS)  # the confirmation request only
    assert confirmation["subject"] == "AWS Notification - Subscription Confirmation"

    [arn] = lab_moto.confirm_email(ADDRESS)
    assert re.fullmatch(re.escape(topic) + ":" + UUID, arn)
    assert listed(lab_moto, topic)[0]["SubscriptionArn"] == arn
    assert attributes(lab_moto, arn)["PendingConfirmation"] == "false"
    message_id = publish(lab_moto, topic, "Hello from the lab", Subject="Lab")
    delivered = lab_moto.inbox(ADDRESS)[-1]
    assert set(delivered) == MAIL_KEYS
    assert delivered["to"] == ADDRESS and delivered["subject"] == "Lab"
    assert delivered["body"] == "Hello from the lab" + FOOTER.format(arn=arn, address=ADDRESS)
    assert (delivered["topic_arn"], delivered["message_id"]) == (topic, message_id)
    assert delivered["time"].tzinfo is not None
    assert abs(delivered["time"] - lab_moto.clock.now()) < dt.timedelta(seconds=5)


def test_confirmation_email_looks_like_aws(lab_moto, topic):
    lab_moto.clock.advance(days=1)
    subscribe(lab_moto, topic)
    [confirmation] = lab_moto.inbox()
    assert set(confirmation) == MAIL_KEYS
    assert (confirmation["to"], confirmation["topic_arn"]) == (ADDRESS, topic)
    assert re.fullmatch(UUID, confirmation["message_id"])
    assert abs(confirmation["time"] - lab_moto.clock.now()) < dt.timedelta(seconds=5)
    assert re.fullmatch(
        "You have chosen to subscribe to the topic:\n" + re.escape(topic) + "\n\n"
        r"To confirm this subscription, click or visit the link below \(If this was in error no "
        r"action is necessary\):\nConfirm subscription <https://sns\.us-east-1\.amazonaws\.com/"
        r"confirmation\.html\?TopicArn=" + re.escape(topic) + "&Token=[0-9a-f]{256}&Endpoint="
        + re.escape(ADDRESS) + ">\n\nPlease do not reply directly to this email. If you wish to "
        "remove yourself from receiving all future SNS subscription confirmation requests please "
        "send an email to sns-opt-out <mailto:sns-opt-out@amazon.com>", confirmation["body"])


def test_pending_subscription_attributes_and_return_arn(lab_moto, topic):
    arn = subscribe(lab_moto, topic, ReturnSubscriptionArn=True)
    assert re.fullmatch(re.escape(topic) + ":" + UUID, arn)
    found = attributes(lab_moto, arn)
    assert (found["PendingConfirmation"], found["ConfirmationWasAuthenticated"]) == (
        "true", "false")
    assert (found["Protocol"], found["Endpoint"], found["TopicArn"]) == ("email", ADDRESS, topic)


def test_subscribing_again_resends_until_confirmed(lab_moto, topic):
    subscribe(lab_moto, topic)
    assert subscribe(lab_moto, topic) == "pending confirmation"
    assert len(lab_moto.inbox()) == 2 and len(listed(lab_moto, topic)) == 1
    [arn] = lab_moto.confirm_email(ADDRESS)
    assert subscribe(lab_moto, topic) == arn  # confirmed: the ARN, and no new email
    assert len(lab_moto.inbox()) == 2


def test_confirm_email_confirms_every_pending_subscription_of_the_address(lab_moto, topic):
    other = lab_moto.client("sns").create_topic(Name="second")["TopicArn"]
    subscribe(lab_moto, topic)
    subscribe(lab_moto, other, address=ADDRESS.upper())
    subscribe(lab_moto, topic, address="someone@example.com")
    confirmed = lab_moto.confirm_email(ADDRESS)
    assert [a.rsplit(":", 1)[0] for a in confirmed] == [topic, other]
    assert listed(lab_moto, topic)[1]["SubscriptionArn"] == "PendingConfirmation"


def test_confirm_email_without_anything_pending_says_so(lab_moto, topic):
    with pytest.raises(LabError, match="Nothing is pending confirmation for nobody@example.com"):
        lab_moto.confirm_email("nobody@example.com")
    subscribe(lab_moto, topic)
    lab_moto.confirm_email(ADDRESS)
    with pytest.raises(LabError, match="already confirmed"):
        lab_moto.confirm_email(ADDRESS)


def test_pending_subscription_of_a_deleted_topic_cannot_be_confirmed(lab_moto, topic):
    subscribe(lab_moto, topic)
    lab_moto.client("sns").delete_topic(TopicArn=topic)
    with pytest.raises(LabError, match="Nothing is pending"):
        lab_moto.confirm_email(ADDRESS)


def test_confirm_subscription_api_takes_the_token_from_the_email(lab_moto, topic):
    subscribe(lab_moto, topic)
    token = re.search(r"Token=([0-9a-f]+)", lab_moto.inbox()[0]["body"]).group(1)
    arn = lab_moto.client("sns").confirm_subscription(TopicArn=topic, Token=token)[
        "SubscriptionArn"]
    assert listed(lab_moto, topic)[0]["SubscriptionArn"] == arn
    publish(lab_moto, topic, "delivered")
    assert lab_moto.inbox()[-1]["body"].startswith("delivered\n\n--\n")


@pytest.mark.parametrize("address", ["not an email", "a@b", "first@example.com;x@example.com",
                                     "@example.com", ""])
def test_invalid_addresses_are_rejected_like_sns(lab_moto, topic, address):
    for protocol in mail.PROTOCOLS:
        with pytest.raises(ClientError) as raised:
            subscribe(lab_moto, topic, protocol, address)
        error = raised.value.response["Error"]
        assert (error["Code"], error["Message"]) == ("InvalidParameter",
                                                     "Invalid parameter: Email address")
    assert listed(lab_moto, topic) == [] and lab_moto.inbox() == []


def test_subscribing_to_a_missing_topic_is_not_found(lab_moto):
    missing = f"arn:aws:sns:us-east-1:{lab_moto.account_id}:missing"
    with pytest.raises(ClientError, match="NotFound"):
        subscribe(lab_moto, missing, address="not an email")


# -- delivery ----------------------------------------------------------------------------------

def test_publish_without_subject_gets_aws_default_subject(lab_moto, topic):
    subscribe(lab_moto, topic)
    lab_moto.confirm_email(ADDRESS)
    publish(lab_moto, topic, "no subject here")
    assert lab_moto.inbox()[-1]["subject"] == "AWS Notification Message"


def test_unsubscribe_stops_delivery(lab_moto, topic):
    subscribe(lab_moto, topic)
    [arn] = lab_moto.confirm_email(ADDRESS)
    publish(lab_moto, topic, "one")
    lab_moto.client("sns").unsubscribe(SubscriptionArn=arn)
    publish(lab_moto, topic, "two")
    assert [m["body"].split("\n")[0] for m in lab_moto.inbox()[1:]] == ["one"]


def test_inbox_filters_by_address_oldest_first(lab_moto, topic):
    subscribe(lab_moto, topic)
    subscribe(lab_moto, topic, address="boss@example.com")
    lab_moto.confirm_email(ADDRESS)
    lab_moto.confirm_email("boss@example.com")
    for text in ("first", "second"):
        publish(lab_moto, topic, text)
    mine = lab_moto.inbox(ADDRESS.upper())
    assert [m["to"] for m in mine] == [ADDRESS] * 3
    assert [m["body"].split("\n")[0] for m in mine[1:]] == ["first", "second"]
    assert len(lab_moto.inbox()) == 6
    assert current().inbox() == lab_moto.inbox()
    mine[0]["subject"] = "changed"  # the inbox hands out copies
    assert lab_moto.inbox(ADDRESS)[0]["subject"] != "changed"


def test_message_structure_json_picks_the_email_text(lab_moto, topic):
    subscribe(lab_moto, topic)
    lab_moto.confirm_email(ADDRESS)
    publish(lab_moto, topic, json.dumps({"default": "for everyone", "email": "for email"}),
            MessageStructure="json")
    publish(lab_moto, topic, json.dumps({"default": "only default"}), MessageStructure="json")
    assert [m["body"].split("\n")[0] for m in lab_moto.inbox()[1:]] == [
        "for email", "only default"]


def test_filter_policies_apply_to_email(lab_moto, topic):
    arn = subscribe(lab_moto, topic, ReturnSubscriptionArn=True,
                    Attributes={"FilterPolicy": json.dumps({"level": ["high"]})})
    lab_moto.confirm_email(ADDRESS)
    publish(lab_moto, topic, "low", MessageAttributes={
        "level": {"DataType": "String", "StringValue": "low"}})
    publish(lab_moto, topic, "high", MessageAttributes={
        "level": {"DataType": "String", "StringValue": "high"}})
    assert [m["body"].split("\n")[0] for m in lab_moto.inbox()[1:]] == ["high"]
    assert attributes(lab_moto, arn)["PendingConfirmation"] == "false"


def test_email_json_gets_the_sns_envelope(lab_moto, topic):
    assert subscribe(lab_moto, topic, "email-json") == "pending confirmation"
    confirmation = json.loads(lab_moto.inbox()[0]["body"])
    assert list(confirmation) == ["Type", "MessageId", "Token", "TopicArn", "Message",
                                  "SubscribeURL", "Timestamp", "SignatureVersion", "Signature",
                                  "SigningCertURL"]
    assert confirmation["Type"] == "SubscriptionConfirmation"
    assert confirmation["Message"] == (
        f"You have chosen to subscribe to the topic {topic}.\nTo confirm the subscription, "
        "visit the SubscribeURL included in this message.")
    assert confirmation["SubscribeURL"] == (
        "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn="
        f"{topic}&Token={confirmation['Token']}")
    [arn] = lab_moto.confirm_email(ADDRESS)
    message_id = publish(lab_moto, topic, "payload", Subject="Hi")
    publish(lab_moto, topic, "plain")
    with_subject, without = (m["body"] for m in lab_moto.inbox()[1:])
    assert with_subject.startswith('{\n  "Type" : "Notification",\n  "MessageId" : ')
    envelope = json.loads(with_subject)
    assert list(envelope) == ["Type", "MessageId", "TopicArn", "Subject", "Message", "Timestamp",
                              "SignatureVersion", "Signature", "SigningCertURL",
                              "UnsubscribeURL"]
    assert (envelope["MessageId"], envelope["TopicArn"], envelope["Subject"],
            envelope["Message"]) == (message_id, topic, "Hi", "payload")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", envelope["Timestamp"])
    assert envelope["SignatureVersion"] == "1" and len(envelope["Signature"]) == 344
    assert re.fullmatch(r"https://sns\.us-east-1\.amazonaws\.com/SimpleNotificationService-"
                        r"[0-9a-f]{32}\.pem", envelope["SigningCertURL"])
    assert envelope["UnsubscribeURL"] == (
        f"https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={arn}")
    assert "Subject" not in json.loads(without)


def test_other_protocols_are_left_to_moto(lab_moto, topic):
    sqs = lab_moto.client("sqs")
    queue = sqs.create_queue(QueueName="copies")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    arn = subscribe(lab_moto, topic, "sqs", queue_arn)
    assert arn.startswith(topic + ":")
    publish(lab_moto, topic, "to the queue")
    [received] = sqs.receive_message(QueueUrl=queue)["Messages"]
    assert json.loads(received["Body"])["Message"] == "to the queue"
    assert lab_moto.inbox() == []


def test_every_hook_point_is_patched(lab_moto):
    assert all(hooks.is_patched(point) for point in mail.HOOK_POINTS)
