"""Reliability · cleanup: after build, uploads and failures, teardown leaves nothing in any service."""

from __future__ import annotations

import pytest

from lab import MissingResource, alarms, reliability, s3

EVERY_LISTING = {"s3 buckets", "dynamodb tables", "lambda functions", "lambda event source mappings",
                 "logs log groups", "iam roles", "iam policies", "iam users", "sns topics",
                 "sns subscriptions", "cloudwatch alarms", "sqs queues"}


def test_the_inventory_lists_every_resource_the_lab_builds(lab_moto):
    lab = lab_moto
    empty = reliability.inventory(lab)
    assert set(empty) == EVERY_LISTING
    assert all(names == [] for names in empty.values())  # a new account holds nothing of its own
    lab.build_pipeline(quiet=True)
    lab.confirm_email()
    built = reliability.inventory(lab)
    topic = f"arn:aws:sns:us-east-1:123456789012:{lab.names.topic}"
    assert {k: v for k, v in built.items() if k != "sns subscriptions"} == {
        "s3 buckets": [lab.names.bucket], "dynamodb tables": [lab.names.table],
        "lambda functions": [lab.names.function], "lambda event source mappings": [],
        "logs log groups": [lab.names.log_group], "iam roles": [lab.names.role], "iam policies": [],
        "iam users": [], "sns topics": [topic], "cloudwatch alarms": sorted(alarms.alarm_states(lab)),
        "sqs queues": [],
    }
    [subscription] = built["sns subscriptions"]
    assert subscription.startswith(topic + ":")


@pytest.mark.slow
def test_teardown_after_build_uploads_and_faults_leaves_nothing_and_twice_is_a_no_op(lab_moto):
    lab = reliability.fresh_lab()  # a new mock (the fixture stops it): built, email confirmed
    for key in ("first upload.txt", "reports/2026/q4 summary.pdf", "café ☕.txt"):
        s3.upload(lab, key, b"content")
    reliability.poison_files(lab, good=3, poison=2)
    reliability.duplicate_deliveries(lab, objects=2, deliveries=3)
    reliability.throttle_burst(lab, uploads=15)
    reliability.handler_timeout(lab, good=1, slow=1)
    figures = reliability.cleanup(lab)
    # Before: bucket, table, function, log group, role, topic, subscription, two alarms. Deleted:
    # the same, the subscription with its topic. The suite's queues went with their scenarios.
    assert figures == {"resources_before": 9, "deleted": 8, "left": 0, "left_by_service": {},
                       "second_teardown_deleted": 0}
    assert reliability.held("cleanup", figures)
    assert lab.teardown(quiet=True) == {"deleted": [], "absent": [
        f"alarm {lab.names.activity_alarm}", f"alarm {lab.names.throttle_alarm}",
        f"bucket {lab.names.bucket}",
        f"function {lab.names.function}", f"log group {lab.names.log_group}", f"role {lab.names.role}",
        f"table {lab.names.table}", f"topic {lab.names.topic} and its subscriptions"]}


def test_cleanup_reports_what_teardown_left_behind(lab_moto):
    lab = lab_moto
    lab.build_pipeline(quiet=True)
    # a queue the lab did not make (its own queues are named after the function): teardown keeps it
    url = lab.client("sqs").create_queue(QueueName="scratch-dlq")["QueueUrl"]
    figures = reliability.cleanup(lab)
    assert figures["left"] == 1
    assert figures["left_by_service"] == {"sqs queues": [url]}
    assert not reliability.held("cleanup", figures)


def test_a_variant_needs_the_function_and_says_which_lesson_builds_it(lab_moto):
    with pytest.raises(MissingResource, match="run notebook 04_lambda_function first"):
        with reliability.function_variant(lab_moto, faults=True):
            pass


def test_teardown_empties_a_bucket_of_more_than_one_listing_page(lab_moto):
    # S3 lists at most 1000 versions a page; the full reliability run leaves about 1400 objects.
    lab = lab_moto
    lab.build_pipeline(quiet=True)
    lab.client("s3").put_bucket_notification_configuration(Bucket=lab.names.bucket,
                                                           NotificationConfiguration={})
    for n in range(1001):
        lab.client("s3").put_object(Bucket=lab.names.bucket, Key=f"page/{n:04d}", Body=b"")
    assert f"bucket {lab.names.bucket} (1001 object versions)" in lab.teardown(quiet=True)["deleted"]
    assert all(names == [] for names in reliability.settled_inventory(lab).values())
