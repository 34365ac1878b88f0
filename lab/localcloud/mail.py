"""SNS email as AWS runs it: pending until the link is clicked, then each publish lands in an inbox.

moto confirms ``email`` / ``email-json`` subscriptions at once and delivers nothing. Here:

* Subscribing an invalid address fails with InvalidParameter ("Invalid parameter: Email
  address"). A new subscription is PendingConfirmation: ``subscribe`` answers
  ``pending confirmation`` (unless ReturnSubscriptionArn), the listings show
  ``PendingConfirmation`` as its ARN, its attributes say PendingConfirmation "true", and the
  address receives AWS's "Subscription Confirmation" email (subscribing again resends it).
* :func:`confirm_email` is clicking the link: it confirms every pending subscription of the
  address. ConfirmSubscription with the token from the email does the same for one of them.
* Nothing is delivered before confirmation; afterwards each publish to the topic (the learner's,
  alarm actions, anything) becomes one email: for ``email`` the message text and SNS's footer
  with the unsubscribe link, for ``email-json`` the SNS JSON envelope. The subject is the
  publish's Subject or "AWS Notification Message". Unsubscribing stops delivery.

A ``lambda`` subscription gets SNS's Lambda event (:func:`lambda_event`, stamped by the local
clock; moto would send a 1970 placeholder), invoked asynchronously as SNS invokes functions.

Inboxes live in ``cloud.state["mail"]``; every email is a dict with exactly ``to``, ``subject``,
``body``, ``time`` (the local clock, timezone-aware), ``topic_arn`` and ``message_id``.
Signatures in JSON envelopes have AWS's shape but cannot be verified.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import logging
import re
import threading
from typing import TYPE_CHECKING, Any

from lab.errors import LabError
from lab.localcloud import hooks

if TYPE_CHECKING:
    from lab.localcloud import LocalCloud

_MODELS = "moto.sns.models:"
_RESPONSES = "moto.sns.responses:SNSResponse."
_log = logging.getLogger(__name__)
HOOK_POINTS = (
    _MODELS + "SNSBackend.subscribe",
    _MODELS + "SNSBackend.unsubscribe",
    _MODELS + "Subscription.publish",
    _RESPONSES + "subscribe",
    _RESPONSES + "list_subscriptions",
    _RESPONSES + "list_subscriptions_by_topic",
    _RESPONSES + "confirm_subscription",
)

PROTOCOLS = ("email", "email-json")
PENDING_ARN = "PendingConfirmation"  # what the listings show instead of a pending ARN
PENDING_ANSWER = "pending confirmation"  # what Subscribe answers for a pending subscription
DEFAULT_SUBJECT = "AWS Notification Message"
CONFIRMATION_SUBJECT = "AWS Notification - Subscription Confirmation"
INVALID_EMAIL = "Invalid parameter: Email address"
_EMAIL = re.compile(r"^[^@\s;,<>]+@[^@\s;,<>]+\.[^@\s;,<>.]+$")
_FOOTER = (
    "\n\n--\nIf you wish to stop receiving notifications from this topic, please click or visit "
    "the link below to unsubscribe:\n{url}\n\nPlease do not reply directly to this email. If you "
    "have any questions or comments regarding this email, please contact us at "
    "https://aws.amazon.com/support"
)
_CONFIRMATION = (
    "You have chosen to subscribe to the topic:\n{topic_arn}\n\n"
    "To confirm this subscription, click or visit the link below (If this was in error no "
    "action is necessary):\nConfirm subscription <{url}>\n\n"
    "Please do not reply directly to this email. If you wish to remove yourself from receiving "
    "all future SNS subscription confirmation requests please send an email to sns-opt-out "
    "<mailto:sns-opt-out@amazon.com>"
)


# -- state ---------------------------------------------------------------------------------------

def _state(cloud: LocalCloud) -> dict[str, Any]:
    return cloud.state["mail"]


def _is_pending(subscription: Any) -> bool:
    return subscription.protocol in PROTOCOLS and subscription.attributes.get(
        "PendingConfirmation") is True


def _region(subscription: Any) -> str:
    return subscription.topic.sns_backend.region_name


def _new_id() -> str:
    from moto.moto_api._internal import mock_random

    return str(mock_random.uuid4())


def _deliver(cloud: LocalCloud, *, to: str, subject: str, body: str, topic_arn: str,
             message_id: str) -> None:
    with _state(cloud)["lock"]:
        _state(cloud)["delivered"].append({
            "to": to, "subject": subject, "body": body, "time": cloud.clock.now(),
            "topic_arn": topic_arn, "message_id": message_id,
        })


# -- formats ------------------------------------------------------------------------------------

def is_valid_address(address: str) -> bool:
    """True if SNS accepts ``address`` as an email endpoint."""
    return isinstance(address, str) and bool(_EMAIL.match(address))


def unsubscribe_url(subscription: Any) -> str:
    """The link at the bottom of every ``email`` notification."""
    return (f"https://sns.{_region(subscription)}.amazonaws.com/unsubscribe.html?"
            f"SubscriptionArn={subscription.arn}&Endpoint={subscription.endpoint}")


def email_body(message: str, subscription: Any) -> str:
    """An ``email`` notification: the message, then SNS's footer."""
    return message + _FOOTER.format(url=unsubscribe_url(subscription))


def _timestamp(moment: dt.datetime) -> str:
    moment = moment.astimezone(dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _signed(envelope: dict[str, Any], fields: tuple[str, ...], region: str) -> dict[str, Any]:
    """Add SignatureVersion, Signature and SigningCertURL in AWS's shape (not verifiable)."""
    canonical = "".join(f"{k}\n{envelope[k]}\n" for k in fields if k in envelope)
    digest = b"".join(hashlib.sha256(bytes([i]) + canonical.encode()).digest() for i in range(8))
    certificate = hashlib.md5(region.encode()).hexdigest()
    return {**envelope, "SignatureVersion": "1",
            "Signature": base64.b64encode(digest).decode(),
            "SigningCertURL": f"https://sns.{region}.amazonaws.com/"
                              f"SimpleNotificationService-{certificate}.pem"}


def _pretty(envelope: dict[str, Any]) -> str:
    return json.dumps(envelope, indent=2, separators=(",", " : "), ensure_ascii=False)


def json_envelope(*, subscription: Any, message: str, message_id: str, subject: str | None,
                  when: dt.datetime, attributes: dict[str, Any] | None = None) -> str:
    """An ``email-json`` notification: the SNS JSON envelope, keys in AWS's order."""
    region = _region(subscription)
    envelope: dict[str, Any] = {"Type": "Notification", "MessageId": message_id,
                                "TopicArn": subscription.topic.arn}
    if subject:
        envelope["Subject"] = subject
    envelope.update({"Message": message, "Timestamp": _timestamp(when)})
    signed = _signed(envelope, ("Message", "MessageId", "Subject", "Timestamp", "TopicArn",
                                "Type"), region)
    signed["UnsubscribeURL"] = (f"https://sns.{region}.amazonaws.com/?Action=Unsubscribe&"
                                f"SubscriptionArn={subscription.arn}")
    if attributes:
        signed["MessageAttributes"] = {k: {"Type": v["Type"], "Value": v["Value"]}
                                       for k, v in attributes.items()}
    return _pretty(signed)


def lambda_event(*, subscription: Any, message: str, message_id: str, subject: str | None,
                 when: dt.datetime, attributes: dict[str, Any] | None = None) -> dict[str, Any]:
    """The event SNS invokes a subscribed function with (Lambda Developer Guide, "Using AWS
    Lambda with Amazon SNS", its sample event): one record, Timestamp on the local clock.

    moto sends a fixed placeholder (``"Timestamp": "1970-01-01T00:00:00.000Z"``, topic
    ``arn:aws:sns:EXAMPLE``); Subject is null when the message has none, as on AWS.
    """
    region = _region(subscription)
    envelope: dict[str, Any] = {"Type": "Notification", "MessageId": message_id,
                                "TopicArn": subscription.topic.arn, "Subject": subject,
                                "Message": message, "Timestamp": _timestamp(when)}
    signed = _signed({k: v for k, v in envelope.items() if v is not None},
                     ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"), region)
    sns = {"SignatureVersion": "1", "Timestamp": envelope["Timestamp"],
           "Signature": signed["Signature"], "SigningCertUrl": signed["SigningCertURL"],
           "MessageId": message_id, "Message": message,
           "MessageAttributes": {k: {"Type": v["Type"], "Value": v["Value"]}
                                 for k, v in (attributes or {}).items()},
           "Type": "Notification",
           "UnsubscribeUrl": f"https://sns.{region}.amazonaws.com/?Action=Unsubscribe&"
                             f"SubscriptionArn={subscription.arn}",
           "TopicArn": subscription.topic.arn, "Subject": subject}
    return {"Records": [{"EventVersion": "1.0", "EventSubscriptionArn": subscription.arn,
                         "EventSource": "aws:sns", "Sns": sns}]}


def _invoke_function(cloud: LocalCloud, subscription: Any, event: dict[str, Any]) -> None:
    """Invoke the subscribed function asynchronously, as SNS does; a failure is logged only."""
    from moto.awslambda.utils import get_backend

    runtime = cloud.modules.get("runtime")
    parts = subscription.endpoint.split(":")
    try:
        function = get_backend(parts[4], parts[3]).get_function(subscription.endpoint)
        if runtime is not None:
            runtime.invoke_async(cloud, function, event, source="aws:sns")
        else:
            function.invoke(json.dumps(event), {}, {})
    except Exception:  # noqa: BLE001 - SNS delivers asynchronously; never fail the publish
        _log.exception("SNS could not invoke %s", subscription.endpoint)


def confirmation_body(subscription: Any, token: str, when: dt.datetime) -> str:
    """The confirmation email AWS sends on subscribe (text for email, JSON for email-json)."""
    region, topic_arn = _region(subscription), subscription.topic.arn
    if subscription.protocol == "email":
        url = (f"https://sns.{region}.amazonaws.com/confirmation.html?TopicArn={topic_arn}"
               f"&Token={token}&Endpoint={subscription.endpoint}")
        return _CONFIRMATION.format(topic_arn=topic_arn, url=url)
    envelope = {
        "Type": "SubscriptionConfirmation", "MessageId": _new_id(), "Token": token,
        "TopicArn": topic_arn,
        "Message": f"You have chosen to subscribe to the topic {topic_arn}.\nTo confirm the "
                   "subscription, visit the SubscribeURL included in this message.",
        "SubscribeURL": f"https://sns.{region}.amazonaws.com/?Action=ConfirmSubscription&"
                        f"TopicArn={topic_arn}&Token={token}",
        "Timestamp": _timestamp(when),
    }
    return _pretty(_signed(envelope, ("Message", "MessageId", "SubscribeURL", "Timestamp",
                                      "Token", "TopicArn", "Type"), region))


# -- confirmation ------------------------------------------------------------------------------

def _send_confirmation(cloud: LocalCloud, subscription: Any) -> None:
    from moto.moto_api._internal import mock_random

    token = mock_random.get_random_hex(256)
    with _state(cloud)["lock"]:
        _state(cloud)["pending"][subscription.arn] = {
            "account": subscription.account_id, "region": _region(subscription), "token": token}
    _deliver(cloud, to=subscription.endpoint, subject=CONFIRMATION_SUBJECT,
             body=confirmation_body(subscription, token, cloud.clock.now()),
             topic_arn=subscription.topic.arn, message_id=_new_id())


def _pending_subscriptions(cloud: LocalCloud) -> list[tuple[Any, str]]:
    """``(subscription, token)`` for every subscription still waiting for its click."""
    from moto.sns.models import sns_backends

    found = []
    with _state(cloud)["lock"]:
        pending = _state(cloud)["pending"]
        for arn, entry in list(pending.items()):
            subscription = sns_backends[entry["account"]][entry["region"]].subscriptions.get(arn)
            if subscription is None or not _is_pending(subscription):
                pending.pop(arn)  # unsubscribed, or its topic was deleted
            else:
                found.append((subscription, entry["token"]))
    return found


def _confirm(cloud: LocalCloud, subscription: Any) -> None:
    subscription.attributes["PendingConfirmation"] = False
    subscription.confirmed = True
    _state(cloud)["pending"].pop(subscription.arn, None)


def confirm_email(cloud: LocalCloud, address: str) -> list[str]:
    """Click the confirmation link: confirm every pending subscription of ``address``.

    Returns:
        The ARNs of the subscriptions confirmed, in the order they were made.

    Raises:
        LabError: nothing is pending confirmation for ``address``.
    """
    wanted = str(address).strip().lower()
    confirmed = []
    with _state(cloud)["lock"]:
        for subscription, _ in _pending_subscriptions(cloud):
            if subscription.endpoint.lower() == wanted:
                _confirm(cloud, subscription)
                confirmed.append(subscription.arn)
    if not confirmed:
        raise LabError(
            f"Nothing is pending confirmation for {address}: it has no email subscription "
            "waiting for its link (it is not subscribed, or already confirmed). Subscribe it "
            "first, e.g. lab.sns.ensure_email_subscription(lab, email=...).")
    return confirmed


def inbox(cloud: LocalCloud, address: str | None = None) -> list[dict[str, Any]]:
    """Emails delivered so far (to ``address``, or to everyone), oldest first."""
    wanted = address.strip().lower() if address else None
    with _state(cloud)["lock"]:
        return [dict(mail) for mail in _state(cloud)["delivered"]
                if wanted is None or mail["to"].lower() == wanted]


# -- the hooks -------------------------------------------------------------------------------------

def _install_model_hooks(cloud: LocalCloud) -> None:
    from moto.sns.exceptions import SNSInvalidParameter

    original_subscribe = hooks.original(_MODELS + "SNSBackend.subscribe")
    original_unsubscribe = hooks.original(_MODELS + "SNSBackend.unsubscribe")
    original_publish = hooks.original(_MODELS + "Subscription.publish")

    def subscribe(backend: Any, topic_arn: str, endpoint: str, protocol: str) -> Any:
        if protocol not in PROTOCOLS:
            return original_subscribe(backend, topic_arn, endpoint, protocol)
        if not is_valid_address(endpoint):
            backend.get_topic(topic_arn)  # an unknown topic is still NotFound first
            raise SNSInvalidParameter(INVALID_EMAIL)
        existing = backend._find_subscription(topic_arn, endpoint, protocol)
        subscription = original_subscribe(backend, topic_arn, endpoint, protocol)
        if existing is None:
            subscription.attributes["PendingConfirmation"] = True
            subscription.attributes["ConfirmationWasAuthenticated"] = False
        if _is_pending(subscription):  # new, or subscribed again before the click: (re)send
            _send_confirmation(cloud, subscription)
        return subscription

    def unsubscribe(backend: Any, subscription_arn: str) -> None:
        original_unsubscribe(backend, subscription_arn)
        with _state(cloud)["lock"]:
            _state(cloud)["pending"].pop(subscription_arn, None)

    def publish(subscription: Any, message: str, message_id: str, subject: str | None = None,
                message_attributes: dict[str, Any] | None = None, group_id: str | None = None,
                deduplication_id: str | None = None, message_structure: str | None = None) -> None:
        if subscription.protocol == "lambda":
            matcher = subscription._filter_policy_matcher
            if matcher is not None and not matcher.matches(message_attributes, message):
                return None
            if message_structure == "json":
                message = subscription._parse_message_structure(message, subscription.protocol)
            _invoke_function(cloud, subscription, lambda_event(
                subscription=subscription, message=message, message_id=message_id,
                subject=subject, when=cloud.clock.now(), attributes=message_attributes))
            return None
        if subscription.protocol not in PROTOCOLS:
            return original_publish(subscription, message, message_id, subject=subject,
                                    message_attributes=message_attributes, group_id=group_id,
                                    deduplication_id=deduplication_id,
                                    message_structure=message_structure)
        matcher = subscription._filter_policy_matcher
        if matcher is not None and not matcher.matches(message_attributes, message):
            return None
        if _is_pending(subscription):
            return None  # SNS delivers nothing before the confirmation link is clicked
        if message_structure == "json":
            message = subscription._parse_message_structure(message, subscription.protocol)
        if subscription.protocol == "email":
            body = email_body(message, subscription)
        else:
            body = json_envelope(subscription=subscription, message=message,
                                 message_id=message_id, subject=subject, when=cloud.clock.now(),
                                 attributes=message_attributes)
        _deliver(cloud, to=subscription.endpoint, subject=subject or DEFAULT_SUBJECT, body=body,
                 topic_arn=subscription.topic.arn, message_id=message_id)
        return None

    hooks.patch(_MODELS + "SNSBackend.subscribe", subscribe)
    hooks.patch(_MODELS + "SNSBackend.unsubscribe", unsubscribe)
    hooks.patch(_MODELS + "Subscription.publish", publish)


def _listed(subscription: Any) -> Any:
    """A subscription as ListSubscriptions shows it (a pending one has no ARN yet)."""
    if not _is_pending(subscription):
        return subscription
    return {"SubscriptionArn": PENDING_ARN, "Owner": subscription.owner,
            "Protocol": subscription.protocol, "Endpoint": subscription.endpoint,
            "TopicArn": subscription.topic.arn}


def _install_response_hooks(cloud: LocalCloud) -> None:
    from moto.core.responses import ActionResult

    original_subscribe = hooks.original(_RESPONSES + "subscribe")
    original_list = hooks.original(_RESPONSES + "list_subscriptions")
    original_list_by_topic = hooks.original(_RESPONSES + "list_subscriptions_by_topic")
    original_confirm = hooks.original(_RESPONSES + "confirm_subscription")

    def subscribe(response: Any) -> Any:
        result = original_subscribe(response).result
        subscription = response.backend.subscriptions.get(result["SubscriptionArn"])
        wants_arn = str(response._get_param("ReturnSubscriptionArn")).lower() == "true"
        if subscription is not None and _is_pending(subscription) and not wants_arn:
            return ActionResult({"SubscriptionArn": PENDING_ANSWER})
        return ActionResult(result)

    def listing(original: Any) -> Any:
        def replacement(response: Any) -> Any:
            result = dict(original(response).result)
            result["Subscriptions"] = [_listed(s) for s in result["Subscriptions"]]
            return ActionResult(result)

        return replacement

    def confirm_subscription(response: Any) -> Any:
        topic_arn, token = response._get_param("TopicArn"), response._get_param("Token")
        with _state(cloud)["lock"]:
            for subscription, expected in _pending_subscriptions(cloud):
                if expected == token and subscription.topic.arn == topic_arn:
                    _confirm(cloud, subscription)
                    return ActionResult({"SubscriptionArn": subscription.arn})
        return original_confirm(response)

    hooks.patch(_RESPONSES + "subscribe", subscribe)
    hooks.patch(_RESPONSES + "list_subscriptions", listing(original_list))
    hooks.patch(_RESPONSES + "list_subscriptions_by_topic", listing(original_list_by_topic))
    hooks.patch(_RESPONSES + "confirm_subscription", confirm_subscription)


def install(cloud: LocalCloud) -> None:
    """Model email confirmation and keep an inbox per address in ``cloud.state["mail"]``."""
    cloud.state["mail"] = {"lock": threading.RLock(), "delivered": [], "pending": {}}
    _install_model_hooks(cloud)
    _install_response_hooks(cloud)
