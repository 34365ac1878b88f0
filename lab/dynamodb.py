"""DynamoDB: the table ``S3ObjectEvents`` (key objectId, stream NEW_IMAGE, TTL on ttl) — lesson 02."""

from __future__ import annotations

from typing import Any

from lab.aws import friendly, get_or_none, missing, report, wait_until
from lab.connection import Lab
from lab.errors import LabError

PARTITION_KEY = "objectId"
TTL_ATTRIBUTE = "ttl"
DEFAULT_CAPACITY = 5  # read and write units: inside the Free Tier's 25 + 25


def get_table(lab: Lab, name: str | None = None) -> dict[str, Any] | None:
    """The table's description (``describe_table()['Table']``), or None when it does not exist."""
    name = name or lab.names.table
    response = get_or_none(lambda: lab.client("dynamodb").describe_table(TableName=name),
                           absent="ResourceNotFoundException", action=f"describe table {name}")
    return response["Table"] if response else None


def require_table(lab: Lab) -> dict[str, Any]:
    """The table's description; MissingResource naming lesson 02 when it does not exist."""
    table = get_table(lab)
    if table is None:
        raise missing("DynamoDB table", lab.names.table, "table")
    return table


def create_table(lab: Lab, name: str | None = None, *, read_capacity: int = DEFAULT_CAPACITY,
                 write_capacity: int = DEFAULT_CAPACITY) -> dict[str, Any]:
    """Create the table as the seed did (the raw call of lesson 02); returns its description."""
    name = name or lab.names.table
    with friendly(f"create table {name}"):
        return lab.client("dynamodb").create_table(
            TableName=name,
            KeySchema=[{"AttributeName": PARTITION_KEY, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": PARTITION_KEY, "AttributeType": "S"}],
            BillingMode="PROVISIONED",
            ProvisionedThroughput={"ReadCapacityUnits": read_capacity,
                                   "WriteCapacityUnits": write_capacity},
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        )["TableDescription"]


def wait_for_table(lab: Lab, name: str | None = None) -> None:
    """Wait until the table is ACTIVE (what boto3's table_exists waiter checks, polled through
    lab.aws.wait_until: free on the local cloud)."""
    name = name or lab.names.table
    wait_until(lambda: (get_table(lab, name) or {}).get("TableStatus") == "ACTIVE",
               what=f"table {name} to be ACTIVE", timeout=120, interval=2)


def get_ttl(lab: Lab, name: str | None = None) -> dict[str, Any]:
    """The table's TTL settings: ``{"TimeToLiveStatus": …, "AttributeName": …}``."""
    name = name or lab.names.table
    with friendly(f"describe the TTL of table {name}"):
        return lab.client("dynamodb").describe_time_to_live(TableName=name)["TimeToLiveDescription"]


def enable_ttl(lab: Lab, name: str | None = None, *, attribute: str = TTL_ATTRIBUTE) -> bool:
    """Turn on TTL on ``attribute``; False when it already was (the call is not repeated)."""
    name = name or lab.names.table
    current = get_ttl(lab, name)
    if current.get("TimeToLiveStatus") in ("ENABLED", "ENABLING") and \
            current.get("AttributeName") == attribute:
        return False
    with friendly(f"enable TTL on table {name}"):
        lab.client("dynamodb").update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": attribute})
    return True


def disable_ttl(lab: Lab, name: str | None = None) -> bool:
    """Turn TTL off, whatever attribute it watches; False when it already was off.

    On AWS the next change of the table's TTL is accepted only after this one has settled
    (up to an hour).
    """
    name = name or lab.names.table
    current = get_ttl(lab, name)
    if current.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
        return False
    with friendly(f"disable TTL on table {name}"):
        lab.client("dynamodb").update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"Enabled": False, "AttributeName": current["AttributeName"]})
    return True


def ensure_ttl(lab: Lab, name: str | None = None, *, quiet: bool = False) -> str:
    """Turn on TTL for ``ttl`` unless it is on; print one ✓ line; return the attribute (lesson 02).

    Raises:
        LabError: TTL is on for another attribute (AWS allows one, and one change an hour).
    """
    name = name or lab.names.table
    if get_table(lab, name) is None:
        raise missing("DynamoDB table", name, "table")
    current = get_ttl(lab, name)
    other = current.get("AttributeName")
    if current.get("TimeToLiveStatus") in ("ENABLED", "ENABLING") and other != TTL_ATTRIBUTE:
        raise LabError(f"TTL of table {name} is on for the attribute {other!r}, not "
                       f"{TTL_ATTRIBUTE!r}: turn it off with dynamodb.disable_ttl(cloud) first "
                       "(on AWS, the next change is accepted once that has settled, up to an "
                       "hour).")
    changed = enable_ttl(lab, name)
    if not quiet:
        if changed:
            print(f"✓ Turned on time to live (attribute {TTL_ATTRIBUTE}) for table {name}")
        else:
            print(f"✓ Time to live (attribute {TTL_ATTRIBUTE}) is already on for table {name}")
    return TTL_ATTRIBUTE


def ensure_table(lab: Lab, name: str | None = None, *, write_capacity: int = DEFAULT_CAPACITY,
                 read_capacity: int = DEFAULT_CAPACITY, ttl: bool = True,
                 quiet: bool = False) -> str:
    """Get or create the table, wait until ACTIVE, enable TTL; print one ✓ line; return its ARN.

    ``ttl=False`` leaves TTL as it is (lesson 02 turns it on as an exercise of its own).
    """
    name = name or lab.names.table
    table = get_table(lab, name)
    created = table is None
    if created:
        table = create_table(lab, name, read_capacity=read_capacity, write_capacity=write_capacity)
    wait_for_table(lab, name)
    if ttl:
        enable_ttl(lab, name)
    report(created, "table", name, quiet=quiet)
    return table["TableArn"]


def set_write_capacity(lab: Lab, units: int, name: str | None = None) -> bool:
    """Change the table's provisioned write capacity; False when it already has ``units``."""
    table = get_table(lab, name) or require_table(lab)
    throughput = table["ProvisionedThroughput"]
    if throughput["WriteCapacityUnits"] == units:
        return False
    with friendly(f"update the capacity of table {table['TableName']}"):
        lab.client("dynamodb").update_table(
            TableName=table["TableName"],
            ProvisionedThroughput={"ReadCapacityUnits": throughput["ReadCapacityUnits"],
                                   "WriteCapacityUnits": units})
    wait_for_table(lab, table["TableName"])
    return True


def stream_arn(lab: Lab, name: str | None = None) -> str | None:
    """The ARN of the table's latest stream, or None."""
    table = get_table(lab, name)
    return table.get("LatestStreamArn") if table else None


def scan_items(lab: Lab, name: str | None = None) -> list[dict[str, Any]]:
    """Every item of the table as plain Python values, sorted by (timestamp, objectKey)."""
    from boto3.dynamodb.types import TypeDeserializer

    name = name or lab.names.table
    if get_table(lab, name) is None:
        raise missing("DynamoDB table", name, "table")
    deserialize = TypeDeserializer().deserialize
    items = []
    with friendly(f"scan table {name}"):
        for page in lab.client("dynamodb").get_paginator("scan").paginate(TableName=name):
            items.extend({k: _plain(deserialize(v)) for k, v in item.items()}
                         for item in page["Items"])
    return sorted(items, key=lambda i: (i.get("timestamp", 0), str(i.get("objectKey", "")),
                                        str(i.get(PARTITION_KEY, ""))))


def _plain(value: Any) -> Any:
    """Decimal → int/float so items print and chart naturally."""
    from decimal import Decimal

    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def delete_table(lab: Lab, name: str | None = None) -> bool:
    """Delete the table and wait until it is gone; True if it existed."""
    name = name or lab.names.table
    if get_table(lab, name) is None:
        return False
    client = lab.client("dynamodb")
    with friendly(f"delete table {name}"):
        client.delete_table(TableName=name)
    wait_until(lambda: get_table(lab, name) is None, what=f"table {name} to be deleted",
               timeout=120, interval=2)
    return True


# -- item size, as lesson 02 teaches it --------------------------------------------------------
def value_bytes(value: Any) -> int:
    """Bytes DynamoDB counts for a string or a whole number (the rules lesson 02 teaches)."""
    if isinstance(value, str):
        return len(value.encode("utf-8"))
    significant = str(abs(int(value))).strip("0")
    return (len(significant) + 1) // 2 + 1


def item_bytes(item: dict[str, Any]) -> int:
    """An item's size: over its attributes, the UTF-8 bytes of the name plus the value's bytes."""
    return sum(len(name.encode("utf-8")) + value_bytes(value) for name, value in item.items())


def example_item(object_key: str = "uploads/hello.txt") -> dict[str, Any]:
    """The item the handler writes for a 12-byte upload, with fixed values (lesson 02's example)."""
    return {
        "objectId": "2f1b8e9a-4c3d-5e6f-8a7b-9c0d1e2f3a4b",
        "bucket": "event-driven-lab-pauljancen",
        "objectKey": object_key,
        "timestamp": 1764057600,
        "ttl": 1764057600 + 86400,
        "size": 12,
        "eTag": "5d41402abc4b2a76b9719d911017c592",
        "eventName": "ObjectCreated:Put",
        "eventTime": "2025-11-25T08:00:00.000Z",
    }
