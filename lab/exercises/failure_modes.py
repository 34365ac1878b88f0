"""Exercises of lesson 10 · Failure modes: a burst against provisioned capacity, TTL expiry."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from lab import alarms, dynamodb
from lab.checks import Exercise, Wrong, require_connection
from lab.connection import Lab
from lab.localcloud.capacity import INITIAL_BURST_SECONDS

BURST_WCU = 1  # the table's write capacity during the burst
BURST_UPLOADS = 12
WRITTEN_AT_ONCE = INITIAL_BURST_SECONDS * BURST_WCU  # the bucket's starting balance: 10 units
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


throttled = Exercise(
    title="Section 1 · throttled, alarmed, restored",
    test=_throttled,
    hints=("Lower the table with dynamodb.set_write_capacity(cloud, 1), then upload a dozen "
           "files in a loop.",
           "After the alarm's email, restore the table: dynamodb.set_write_capacity(cloud, 5)."),
    solution_text="Run the cells of section 1 in order: lower the table to 1 WCU, upload the "
                  "twelve files of the burst, wait for the alarm and its email, then put the "
                  "table back to 5 WCU and set the alarm to OK.",
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

ttl_expired = Exercise(
    title="Section 2 · expired items removed by the service",
    test=_ttl_expired,
    hints=("Items expire 24 hours after they were written; let more than a day pass.",
           "verify.pass_time(cloud, hours=49), then read the stream's REMOVE records."),
    solution_text="Let two days pass on the local clock (the cell of section 2 passes 49 hours), "
                  "then read the table's stream: every expired item has a REMOVE record.",
)
