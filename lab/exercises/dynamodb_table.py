"""Exercises of lesson 02 · DynamoDB table: the seed's table and the write units of an item."""

from __future__ import annotations

from typing import Any

from lab import dynamodb
from lab.checks import Exercise, Wrong, require_connection

FREE_TIER_UNITS = 25  # provisioned RCU and WCU each, per account and Region, always free
WRITE_UNIT_BYTES = 1024
# The lesson's long item: the worked example's 226 bytes with its 17-character objectKey
# replaced by a 984-character one (226 - 17 + 984), by the documented size rules.
LONG_ITEM_BYTES = 1193
LONG_ITEM_WCU = 2  # ⌈1193 / 1024⌉


def _table(cloud: Any) -> str:
    """Pass when the table has the seed's key, NEW_IMAGE stream, TTL and free-tier capacity."""
    require_connection(cloud, example="ex.table.check(cloud)")
    name = cloud.names.table
    table = dynamodb.get_table(cloud)
    if table is None:
        raise Wrong(f"there is no table {name} yet: run the create_table cell above, or "
                    "dynamodb.ensure_table(cloud).")
    rebuild = ("a table's key cannot be changed: delete it (dynamodb.delete_table(cloud)) "
               "and create it again.")
    key = [(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]]
    if key != [(dynamodb.PARTITION_KEY, "HASH")]:
        raise Wrong(f"its key is {key}, but the handler writes objectId as the only key "
                    f"(partition key, HASH); {rebuild}")
    types = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
    if types.get(dynamodb.PARTITION_KEY) != "S":
        raise Wrong(f"objectId is of type {types.get(dynamodb.PARTITION_KEY)!r}, but the handler "
                    f"stores a string (S); {rebuild}")
    stream = table.get("StreamSpecification") or {}
    if not stream.get("StreamEnabled") or stream.get("StreamViewType") != "NEW_IMAGE":
        raise Wrong(f"its stream is {stream.get('StreamViewType') or 'off'}, the seed turned on a "
                    "NEW_IMAGE stream: update_table(TableName=…, StreamSpecification="
                    "{'StreamEnabled': True, 'StreamViewType': 'NEW_IMAGE'}).")
    ttl = dynamodb.get_ttl(cloud)
    if ttl.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING") or \
            ttl.get("AttributeName") != dynamodb.TTL_ATTRIBUTE:
        raise Wrong(f"TTL is {ttl.get('TimeToLiveStatus', 'DISABLED')} "
                    f"(attribute {ttl.get('AttributeName')!r}); turn it on for the attribute "
                    "'ttl' with dynamodb.enable_ttl(cloud).")
    mode = (table.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED")
    if mode != "PROVISIONED":
        raise Wrong(f"it is in {mode} mode; the lab provisions 5 read and 5 write units so the "
                    "throttle alarm has a limit to watch. Delete and create it again.")
    throughput = table["ProvisionedThroughput"]
    rcu, wcu = throughput["ReadCapacityUnits"], throughput["WriteCapacityUnits"]
    if rcu > FREE_TIER_UNITS or wcu > FREE_TIER_UNITS:
        raise Wrong(f"it provisions {rcu} RCU / {wcu} WCU, more than the Free Tier's "
                    f"{FREE_TIER_UNITS} + {FREE_TIER_UNITS}: lower them "
                    "(dynamodb.set_write_capacity(cloud, 5)).")
    return (f"key objectId (S), NEW_IMAGE stream, TTL on 'ttl', {rcu} RCU / {wcu} WCU "
            f"provisioned (the Free Tier covers {FREE_TIER_UNITS} of each).")


def _long_item_wcu(answer: Any) -> str:
    """Pass when ``answer`` is the write units of one PutItem of the long item."""
    if isinstance(answer, bool) or not isinstance(answer, (int, float)):
        raise Wrong(f"give a number of write capacity units, e.g. 3; you gave {answer!r}.")
    if answer == LONG_ITEM_WCU:
        return (f"the item is {LONG_ITEM_BYTES:,} bytes, over 1 KB, so one write costs "
                f"⌈{LONG_ITEM_BYTES:,} / {WRITE_UNIT_BYTES:,}⌉ = {LONG_ITEM_WCU} WCU.")
    if answer == 1:
        raise Wrong("1 WCU pays for an item of up to 1,024 bytes. Count every attribute name "
                    "and value of long_item, not only the key's characters: is it still "
                    "under 1 KB?")
    if answer > 100:
        raise Wrong(f"{answer:,} looks like a size in bytes. Convert it: one WCU per started "
                    "1,024 bytes.")
    if answer != int(answer):
        raise Wrong(f"{answer} is not a whole number: DynamoDB rounds a write up to the next "
                    "whole unit.")
    raise Wrong(f"{answer:g} WCU would pay for up to {int(answer) * WRITE_UNIT_BYTES:,} bytes; "
                "add up long_item's attribute names and values again.")


table = Exercise(
    title="The S3ObjectEvents table",
    test=_table,
    hints=(
        "Run the cells above that create the table and turn on TTL.",
        "dynamodb.ensure_table(cloud) creates it as the seed did and turns on TTL.",
    ),
    solution_text="from lab import dynamodb\ndynamodb.ensure_table(cloud)",
)

q1 = Exercise(
    title="Write units of the long item",
    test=_long_item_wcu,
    hints=(
        "One WCU writes an item of up to 1 KB (1,024 bytes); each started KB more costs one more.",
        "Start from the worked example's 226 bytes: only objectKey changed, from 17 characters "
        "to len(long_key).",
        "226 - 17 + 984 = 1,193 bytes. How many started KB is that?",
    ),
    solution_text=("answer = 2   # 226 - 17 + 984 = 1,193 bytes; ⌈1193 / 1024⌉ = 2\n"
                   "# or: math.ceil(item_bytes(long_item) / 1024)"),
)
