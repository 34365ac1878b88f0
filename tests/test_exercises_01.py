"""Lesson 01's exercises: blank, likely wrong and right values for each (what the notebook hides)."""

from __future__ import annotations

import pytest

from lab import sns
from lab.checks import ____
from lab.exercises import sns_alerts_topic as ex


def _create_topic(cloud, name):
    with ex.build_topic.attempt(cloud) as attempt:
        cloud.client("sns").create_topic(Name=name)
    return attempt.outcome


def test_build_topic_blank_is_not_attempted_and_the_helper_creates_it(lab_moto):
    assert _create_topic(lab_moto, ____).status == "not attempted"
    assert sns.get_topic(lab_moto) is not None
    assert ex.build_topic.evaluate(lab_moto).status == "correct"


def test_build_topic_right_name_passes_twice(lab_moto):
    assert _create_topic(lab_moto, lab_moto.names.topic).passed
    assert _create_topic(lab_moto, lab_moto.names.topic).passed
    assert len(lab_moto.client("sns").list_topics()["Topics"]) == 1


@pytest.mark.parametrize("typo", ["event-driven-alert", "Event-Driven-Alerts", "event_driven_alerts"])
def test_build_topic_a_near_miss_name_is_named(lab_moto, typo):
    outcome = _create_topic(lab_moto, typo)
    assert outcome.status == "wrong"
    assert f"you created a topic called {typo!r}, but the lab's topic is 'event-driven-alerts'" \
        in outcome.message
    assert f"sns.delete_topic(cloud, {typo!r})" in outcome.message


def test_build_topic_a_name_aws_refuses_is_explained(lab_moto):
    outcome = _create_topic(lab_moto, "event driven alerts")
    assert outcome.status == "wrong"
    assert "topic names hold only letters, digits, hyphens and underscores (no spaces)" in outcome.message


def test_build_topic_an_unrelated_name_says_what_to_pass(lab_moto):
    outcome = _create_topic(lab_moto, "x")
    assert outcome.message.endswith("there is no topic called event-driven-alerts yet: pass "
                                    "Name=cloud.names.topic to create_topic and run the cell again.")


def _subscribe(cloud, topic_arn, protocol, endpoint=None):
    with ex.build_subscription.attempt(cloud) as attempt:
        cloud.client("sns").subscribe(TopicArn=topic_arn, Protocol=protocol,
                                      Endpoint=endpoint or cloud.names.email)
    return attempt.outcome


def test_build_subscription_blank_is_not_attempted_and_the_helper_subscribes(lab_moto):
    sns.ensure_topic(lab_moto, quiet=True)
    assert _subscribe(lab_moto, ____, ____).status == "not attempted"
    assert sns.get_email_subscription(lab_moto)["pending"] is True


def test_build_subscription_right_values_pass_and_stay_pending(lab_moto):
    arn = sns.ensure_topic(lab_moto, quiet=True)
    outcome = _subscribe(lab_moto, arn, "email")
    assert outcome.passed and outcome.message.endswith("by email (pending confirmation).")
    assert _subscribe(lab_moto, arn, "email").passed
    assert len(sns.list_subscriptions(lab_moto)) == 1


def test_build_subscription_arn_without_account_id(lab_moto):
    sns.ensure_topic(lab_moto, quiet=True)
    outcome = _subscribe(lab_moto, f"arn:aws:sns:{lab_moto.region}::{lab_moto.names.topic}", "email")
    assert outcome.status == "wrong"
    assert "check that the account id is there" in outcome.message


def test_build_subscription_email_json_is_not_plain_email(lab_moto):
    arn = sns.ensure_topic(lab_moto, quiet=True)
    outcome = _subscribe(lab_moto, arn, "email-json")
    assert outcome.status == "wrong"
    assert "protocol 'email-json', which is not plain email" in outcome.message


def test_build_subscription_before_the_topic_exists(lab_moto):
    outcome = _subscribe(lab_moto, lab_moto.arn("sns", lab_moto.names.topic), "email")
    assert outcome.status == "wrong"


def test_build_subscription_bad_endpoint_is_explained(lab_moto):
    arn = sns.ensure_topic(lab_moto, quiet=True)
    outcome = _subscribe(lab_moto, arn, "email", endpoint="learner-at-example.com")
    assert outcome.status == "wrong" and "Use Endpoint=cloud.names.email" in outcome.message


def test_q1_topic_arn(lab_moto):
    sns.ensure_topic(lab_moto, quiet=True)
    right = f"arn:aws:sns:{lab_moto.region}:{lab_moto.account_id}:{lab_moto.names.topic}"
    assert ex.q1.evaluate(____, lab_moto).status == "not attempted"
    assert ex.q1.evaluate(f"arn:aws:sns:{____}", lab_moto).status == "not attempted"
    wrong_region = ex.q1.evaluate(right.replace(lab_moto.region, "xx-nowhere-1"), lab_moto)
    assert wrong_region.status == "wrong" and "the region part is 'xx-nowhere-1'" in wrong_region.message
    no_account = ex.q1.evaluate(f"arn:aws:sns:{lab_moto.region}::{lab_moto.names.topic}", lab_moto)
    assert "the account id part is ''" in no_account.message
    assert "6 parts" in ex.q1.evaluate("arn:aws:sns:event-driven-alerts", lab_moto).message
    assert ex.q1.evaluate(42, lab_moto).status == "wrong"
    assert ex.q1.evaluate(right, lab_moto).passed


@pytest.mark.parametrize("answer, status, words", [
    (____, "not attempted", "not attempted yet"),
    (3, "wrong", "right for a confirmed subscription"),
    (4, "wrong", "not one of the three"),
    (1, "wrong", "is not it"),
    ("0", "wrong", "give a number"),
    (True, "wrong", "give a number"),
    (0, "correct", "SNS sends nothing"),
])
def test_q2_pending_deliveries(answer, status, words):
    outcome = ex.q2.evaluate(answer)
    assert outcome.status == status and words in outcome.message


def test_subscription_check_pending_then_confirmed(lab_moto):
    sns.ensure_topic(lab_moto, quiet=True)
    assert "there is no" not in ex.subscription.evaluate(lab_moto).message
    sns.ensure_email_subscription(lab_moto, quiet=True)
    assert "still pending confirmation" in ex.subscription.evaluate(lab_moto).message
    lab_moto.confirm_email()
    assert ex.subscription.evaluate(lab_moto).passed
