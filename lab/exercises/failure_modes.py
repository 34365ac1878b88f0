"""Exercises of lesson 10 · Failure modes: a throttled burst, a poison event, duplicates, TTL."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import unquote_plus

from lab import alarms, awslambda, dynamodb, iam
from lab.checks import Exercise, Wrong, require_connection
from lab.connection import Lab
from lab.localcloud.capacity import INITIAL_BURST_SECONDS

BURST_WCU = 1  # the table's write capacity during the burst
BURST_UPLOADS = 12
WRITTEN_AT_ONCE = INITIAL_BURST_SECONDS * BURST_WCU  # the bucket's starting balance: 10 units
RECORD_KEYS = ("requestContext", "requestPayload", "responseContext", "responsePayload",
               "timestamp", "version")
ATTEMPTS = 3  # the first attempt and Lambda's two retries
SEED_ITEMS_FOR_TWO_DELIVERIES = 2  # the seed's uuid4 ids: every delivery is a new item
SERVICE_PRINCIPAL = "dynamodb.amazonaws.com"



def _went_to_alarm(cloud: Lab, name: str) -> bool:
    paginator = cloud.client("cloudwatch").get_paginator("describe_alarm_history")
    for page in paginator.paginate(AlarmName=name, HistoryItemType="StateUpdate"):
        for item in page["AlarmHistoryItems"]:
            if json.loads(item["HistoryData"])["newState"]["stateValue"] == "ALARM":
                return True
    return False


def _throttled(cloud: Any) -> str:
    """Pass when the throttle alarm fired, its email arrived, and the table is back to 5 WCU."""
    cloud = require_connection(cloud)
    name = cloud.names.throttle_alarm
    if alarms.get_alarm(cloud, name) is None:
        raise Wrong(f"there is no alarm {name}: run notebook 06_cloudwatch_alarms first.")
    if not _went_to_alarm(cloud, name):
        raise Wrong(f"{name} has never been in ALARM: lower the table to {BURST_WCU} WCU "
                    f"(dynamodb.set_write_capacity(cloud, {BURST_WCU})) and upload a dozen files "
                    "in quick succession.")
    if cloud.is_local:
        subject = f'ALARM: "{name}"'
        if not any(mail["subject"].startswith(subject) for mail in cloud.inbox(cloud.names.email)):
            raise Wrong(f"{name} went to ALARM but no email starting {subject!r} reached "
                        f"{cloud.names.email}: is the subscription confirmed (lesson 01)?")
    units = dynamodb.require_table(cloud)["ProvisionedThroughput"]["WriteCapacityUnits"]
    if units != dynamodb.DEFAULT_CAPACITY:
        raise Wrong(f"{cloud.names.table} still has {units} WCU: put it back with "
                    f"dynamodb.set_write_capacity(cloud, {dynamodb.DEFAULT_CAPACITY}), or every "
                    "busy minute will be throttled.")
    return (f"{name} went to ALARM when writes were throttled, its email reached "
            f"{cloud.names.email}, and {cloud.names.table} is back to "
            f"{dynamodb.DEFAULT_CAPACITY} WCU.")


def _written_at_once(answer: Any) -> str:
    """Pass for 10: the uploads a 1-WCU table with a 10-unit starting balance writes unthrottled."""
    if isinstance(answer, bool) or not isinstance(answer, (int, float)) or answer != int(answer):
        raise Wrong("give a whole number of uploads, e.g. answer = 7.")
    answer = int(answer)
    if answer == BURST_WCU:
        raise Wrong(f"{BURST_WCU} WCU is how fast the bucket refills (one unit per second), but "
                    f"it does not start empty: it starts with {INITIAL_BURST_SECONDS} seconds' "
                    "worth of capacity.")
    if answer == BURST_UPLOADS:
        raise Wrong(f"all {BURST_UPLOADS} would need {BURST_UPLOADS} units at once; the bucket "
                    f"starts with fewer.")
    if answer == dynamodb.DEFAULT_CAPACITY * INITIAL_BURST_SECONDS:
        raise Wrong(f"that is the balance at {dynamodb.DEFAULT_CAPACITY} WCU; the burst runs "
                    f"at {BURST_WCU} WCU.")
    if answer != WRITTEN_AT_ONCE:
        raise Wrong(f"{answer} is not it: each upload takes 1 unit from a bucket that starts "
                    f"with {INITIAL_BURST_SECONDS} seconds × {BURST_WCU} WCU.")
    return (f"{INITIAL_BURST_SECONDS} s × {BURST_WCU} WCU = {WRITTEN_AT_ONCE} units, one per "
            f"small upload: the 11th write finds the bucket empty and is throttled.")


def _destination(cloud: Any, record: Any) -> str:
    """Pass for the on-failure record of an S3 event that failed all three attempts."""
    cloud = require_connection(cloud)
    if not isinstance(record, dict):
        raise Wrong("pass the invocation record as a dict: json.loads(message['Body']) of the "
                    "message received from the queue.")
    missing = [key for key in RECORD_KEYS if key not in record]
    if missing:
        raise Wrong(f"that is not a Lambda invocation record: it lacks {', '.join(missing)}. "
                    "Pass json.loads(message['Body']), not the SQS message itself.")
    context = record["requestContext"]
    condition = context.get("condition")
    if condition != "RetriesExhausted":
        raise Wrong(f"the record's condition is {condition!r}, not 'RetriesExhausted': this "
                    "event was given up for another reason (EventAgeExceeded: it waited in "
                    "Lambda's queue longer than MaximumEventAgeInSeconds).")
    count = context.get("approximateInvokeCount")
    if count != ATTEMPTS:
        raise Wrong(f"the record says {count} attempt(s), not {ATTEMPTS}: put "
                    "MaximumRetryAttempts=2 back in put_function_event_invoke_config.")
    if record["responseContext"].get("functionError") != "Unhandled":
        raise Wrong("the record has no functionError: it was not a failed invocation.")
    records = (record["requestPayload"] or {}).get("Records") or [{}]
    if records[0].get("eventSource") != "aws:s3":
        raise Wrong("the record's requestPayload is not an S3 event: upload a file to the "
                    "bucket while the function is broken, not a hand-made event.")
    config = _event_invoke_config(cloud)
    target = ((config or {}).get("DestinationConfig") or {}).get("OnFailure", {}).get("Destination")
    if not target:
        raise Wrong(f"{cloud.names.function} has no on-failure destination any more: the next "
                    "poison event would be dropped after its retries.")
    key = unquote_plus(records[0]["s3"]["object"]["key"])
    error = (record.get("responsePayload") or {}).get("errorType", "an error")
    return (f"Lambda tried {count} times, then sent the S3 event of {key!r} to "
            f"{target.rsplit(':', 1)[-1]} (condition RetriesExhausted, {error}).")


def _event_invoke_config(cloud: Lab) -> dict[str, Any] | None:
    from lab.aws import get_or_none

    return get_or_none(
        lambda: cloud.client("lambda").get_function_event_invoke_config(
            FunctionName=cloud.names.function),
        absent="ResourceNotFoundException", action="read the asynchronous invocation settings")


def _one_item(cloud: Any, event: Any) -> str:
    """Pass when exactly one item stands for the S3 event, however often it was delivered."""
    cloud = require_connection(cloud)
    try:
        record = event["Records"][0]
        key = unquote_plus(record["s3"]["object"]["key"])
        event_time = record["eventTime"]
    except (KeyError, IndexError, TypeError):
        raise Wrong("pass the S3 event itself: record['requestPayload'] of the invocation "
                    "record, with its Records list.") from None
    copies = [item for item in dynamodb.scan_items(cloud)
              if item.get("objectKey") == key and item.get("eventTime") == event_time]
    if not copies:
        table = awslambda.require_function(cloud).get("Environment", {}).get(
            "Variables", {}).get("TABLE_NAME")
        if table != cloud.names.table:
            raise Wrong(f"the function still writes to {table!r}: fix its TABLE_NAME "
                        "(awslambda.ensure_function(cloud)), then deliver the event again.")
        raise Wrong(f"no item for {key!r} yet: deliver the event with "
                    "awslambda.invoke(cloud, event).")
    if len(copies) > 1:
        raise Wrong(f"{len(copies)} items for one event: the function must derive objectId "
                    "from the event and write only if it is new (lesson 04).")
    return (f"one item for the upload of {key!r}: a redelivered event gets the same objectId, "
            "and the conditional write stores nothing the second time.")


def _seed_items(answer: Any) -> str:
    """Pass for 2: the seed's random ids store every delivery of the same event."""
    if isinstance(answer, bool) or not isinstance(answer, (int, float)) or answer != int(answer):
        raise Wrong("give a whole number of items, e.g. answer = 5.")
    answer = int(answer)
    if answer == 1:
        raise Wrong("1 is what the lab's handler stores. The seed's handler took a new "
                    "uuid.uuid4() as objectId on every run, and wrote without a condition.")
    if answer != SEED_ITEMS_FOR_TWO_DELIVERIES:
        raise Wrong(f"{answer} is not it: count the deliveries, and remember that each "
                    "uuid.uuid4() is new.")
    return ("2: every delivery draws a new uuid4, so the condition-free put_item stores a "
            "second item for the same upload. Counting uploads from the table would be wrong.")


def _stream_records(cloud: Lab) -> list[dict[str, Any]]:
    """Every record of the table's latest stream, shard by shard, oldest first."""
    arn = dynamodb.stream_arn(cloud)
    if arn is None:
        return []
    streams = cloud.client("dynamodbstreams")
    records: list[dict[str, Any]] = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator)
            records.extend(page["Records"])
            iterator = page.get("NextShardIterator") if page["Records"] else None
    return records


def _ttl_expired(cloud: Any) -> str:
    """Pass when no expired item is left and the stream names DynamoDB itself as the deleter."""
    cloud = require_connection(cloud)
    now = cloud.clock.now() if cloud.is_local else dt.datetime.now(dt.timezone.utc)
    expired = [item for item in dynamodb.scan_items(cloud)
               if isinstance(item.get("ttl"), (int, float)) and item["ttl"] < now.timestamp()]
    if expired:
        where = ("let the clock run past the TTL sweep: verify.pass_time(cloud, hours=49)"
                 if cloud.is_local else "DynamoDB deletes them within a few days: come back later")
        raise Wrong(f"{len(expired)} expired item(s) are still readable: {where}.")
    removed = [record for record in _stream_records(cloud) if record["eventName"] == "REMOVE"
               and record.get("userIdentity", {}).get("PrincipalId") == SERVICE_PRINCIPAL]
    if not removed:
        raise Wrong(f"the stream of {cloud.names.table} has no REMOVE record made by "
                    f"{SERVICE_PRINCIPAL}: no item has expired and been deleted by TTL yet.")
    return (f"no expired item is left in {cloud.names.table}, and its stream shows the "
            f"deletions as REMOVE records made by the service {SERVICE_PRINCIPAL}.")


def _cleaned_up(cloud: Any) -> str:
    """Pass when the queue, inline policy and invoke config of lesson 10 are gone again."""
    cloud = require_connection(cloud)
    name = cloud.names.function
    if _event_invoke_config(cloud) is not None:
        raise Wrong(f"{name} still has asynchronous invocation settings: "
                    "delete_function_event_invoke_config removes them.")
    extra = [policy for policy in iam.inline_policies(cloud)
             if policy != cloud.names.least_privilege_policy]
    if extra:
        raise Wrong(f"the role {cloud.names.role} still has the inline policy {extra[0]}: "
                    "delete_role_policy removes it.")
    queues = cloud.client("sqs").list_queues(QueueNamePrefix=name).get("QueueUrls", [])
    if queues:
        raise Wrong(f"the queue {queues[0].rsplit('/', 1)[-1]} still exists: delete_queue "
                    "removes it.")
    variables = awslambda.require_function(cloud).get("Environment", {}).get("Variables", {})
    if variables != awslambda.environment(cloud):
        raise Wrong(f"{name} does not have the lab's settings ({variables}): "
                    "awslambda.ensure_function(cloud) puts them back.")
    units = dynamodb.require_table(cloud)["ProvisionedThroughput"]["WriteCapacityUnits"]
    if units != dynamodb.DEFAULT_CAPACITY:
        raise Wrong(f"{cloud.names.table} has {units} WCU: "
                    f"dynamodb.set_write_capacity(cloud, {dynamodb.DEFAULT_CAPACITY}).")
    return (f"no queue, no extra policy, no asynchronous settings; {name} writes to "
            f"{cloud.names.table} at {dynamodb.DEFAULT_CAPACITY} WCU again.")


throttled = Exercise(
    title="Section 1 · throttled, alarmed, restored",
    test=_throttled,
    hints=("Lower the table with dynamodb.set_write_capacity(cloud, 1), then upload a dozen "
           "files in a loop.",
           "After the alarm's email, restore the table: dynamodb.set_write_capacity(cloud, 5)."),
    solution_text="dynamodb.set_write_capacity(cloud, 1)\n"
                  "for n in range(12):\n"
                  "    s3.upload(cloud, f'failure-modes/burst-{n:02d}.txt', 'x')\n"
                  "verify.wait_for_alarm(cloud, cloud.names.throttle_alarm, 'ALARM')\n"
                  "dynamodb.set_write_capacity(cloud, 5)\n"
                  "ex.throttled.check(cloud)",
)

q1 = Exercise(
    title="Uploads written before the first throttle",
    test=_written_at_once,
    hints=("Each small upload costs 1 write unit; the table's bucket of units refills at 1 per "
           "second.",
           "The local cloud starts the bucket with 10 seconds of the table's capacity "
           "(INITIAL_BURST_SECONDS in lab/localcloud/capacity.py)."),
    solution_text="answer = 10   # 10 s × 1 WCU in the bucket; the 11th write is throttled",
)

destination = Exercise(
    title="Section 2 · the poison event reached the destination",
    test=_destination,
    hints=("Receive the message from the queue and parse its body: "
           "record = json.loads(message['Body']).",
           "The record only arrives after the third attempt: verify.pass_time(cloud, minutes=1), "
           "then verify.pass_time(cloud, minutes=2), let both retries run."),
    solution_text="verify.pass_time(cloud, minutes=1)\n"
                  "verify.pass_time(cloud, minutes=2)\n"
                  "message = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=20)"
                  "['Messages'][0]\n"
                  "record = json.loads(message['Body'])\n"
                  "ex.destination.check(cloud, record)",
)

one_item = Exercise(
    title="Section 3 · two deliveries, one item",
    test=_one_item,
    hints=("The event to deliver is record['requestPayload']: exactly what S3 sent.",
           "Fix TABLE_NAME first (awslambda.ensure_function(cloud)), then call "
           "awslambda.invoke(cloud, event) twice."),
    solution_text="awslambda.ensure_function(cloud)\n"
                  "event = record['requestPayload']\n"
                  "awslambda.invoke(cloud, event)\n"
                  "awslambda.invoke(cloud, event)\n"
                  "ex.one_item.check(cloud, event)",
)

q2 = Exercise(
    title="Items the seed's handler would store",
    test=_seed_items,
    hints=("The seed's handler wrote item = {'objectId': str(uuid.uuid4()), …} with a plain "
           "put_item.",
           "Two deliveries, two runs of the handler, two different uuid4 values."),
    solution_text="answer = 2   # a new uuid4 per run and no condition: one item per delivery",
)

ttl_expired = Exercise(
    title="Section 4 · expired items removed by the service",
    test=_ttl_expired,
    hints=("Items expire 24 hours after they were written; let more than a day pass.",
           "verify.pass_time(cloud, hours=49), then read the stream's REMOVE records."),
    solution_text="verify.pass_time(cloud, hours=49)\n"
                  "ex.ttl_expired.check(cloud)",
)

cleaned_up = Exercise(
    title="Lesson 10 · cleaned up",
    test=_cleaned_up,
    hints=("Undo in reverse: the asynchronous invocation settings, the inline policy, the queue.",
           "lambda delete_function_event_invoke_config, iam delete_role_policy, sqs delete_queue."),
    solution_text="cloud.client('lambda').delete_function_event_invoke_config("
                  "FunctionName=cloud.names.function)\n"
                  "cloud.client('iam').delete_role_policy(RoleName=cloud.names.role, "
                  "PolicyName=policy_name)\n"
                  "cloud.client('sqs').delete_queue(QueueUrl=queue_url)\n"
                  "ex.cleaned_up.check(cloud)",
)
