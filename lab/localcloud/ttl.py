"""DynamoDB Time to Live: expired items vanish in a background sweep following the local clock.

AWS deletes expired items "typically within a few days" and they stay readable until then. Here
an item is *eligible* once its TTL attribute (the one named by ``update_time_to_live``) holds an
epoch-seconds number below the clock's now, and it is swept at the first clock tick after that
(``clock.advance(...)`` or ``clock.run_due()``; at most one sweep per second of clock time). Like
AWS, the sweep ignores items whose TTL value is missing, not a number, or more than five years in
the past. A TTL deletion consumes no capacity (no ConsumedWriteCapacityUnits datapoint) and writes
a REMOVE stream record whose ``userIdentity`` names the DynamoDB service: GetRecords answers it
as ``{"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}`` (the API's member names), a
Lambda event spells the same ``{"type": "Service", "principalId": …}``. Each sweep publishes
``TimeToLiveDeletedItemCount`` (AWS/DynamoDB, TableName): the items it deleted per table.

Every stream record moto writes is also corrected here: ``awsRegion`` is the table's region (moto
writes us-east-1), ``eventVersion`` is "1.1", ``ApproximateCreationDateTime`` follows the local
clock (whole seconds), ``SizeBytes`` follows DynamoDB's item-size rule over Keys, NewImage and
OldImage (moto counts JSON characters) and the record carries the ``eventSourceARN`` of its
stream for whoever delivers it to a function (GetRecords itself does not return that field).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Callable, Iterator
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from lab.localcloud import hooks
from lab.localcloud.metrics import put_datapoint

if TYPE_CHECKING:
    from lab.localcloud import LocalCloud

HOOK_POINTS = ("moto.dynamodb.models.table:StreamRecord.__init__",)

SERVICE_IDENTITY = {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}  # GetRecords form
MAX_AGE = dt.timedelta(days=5 * 365)  # AWS ignores TTL values more than five years in the past
SWEEP_EVERY = dt.timedelta(seconds=1)


def expiry(item: Any, attribute: str) -> float | None:
    """The epoch seconds in ``item``'s TTL attribute, or None when it is missing or not a number."""
    value = item.attrs.get(attribute)
    if value is None or value.type != "N":
        return None
    try:
        return float(Decimal(value.value))
    except (InvalidOperation, TypeError, ValueError):
        return None


def is_expired(expires_at: float | None, now: dt.datetime) -> bool:
    """True when a TTL value is in the past at ``now``, but not more than five years ago."""
    if expires_at is None:
        return False
    moment = now.timestamp()
    return moment - MAX_AGE.total_seconds() <= expires_at < moment


def _tables_with_ttl() -> Iterator[Any]:
    from moto.dynamodb.models import dynamodb_backends

    for account in list(dynamodb_backends.values()):
        for backend in list(account.values()):
            for table in list(backend.tables.values()):
                settings = table.ttl
                if settings.get("TimeToLiveStatus") == "ENABLED" and settings.get("AttributeName"):
                    yield table


def sweep(cloud: LocalCloud, now: dt.datetime | None = None) -> int:
    """Delete every expired item of every table with TTL enabled, as the DynamoDB service does.

    Returns:
        How many items were deleted.
    """
    now = now or cloud.clock.now()
    runtime = cloud.modules.get("runtime")
    with runtime.batching(cloud) if runtime is not None else contextlib.nullcontext():
        return _sweep(cloud, now)  # a stream mapping gets the sweep's REMOVE records in batches


def _sweep(cloud: LocalCloud, now: dt.datetime) -> int:
    local = cloud.state["ttl"]["deleting"]
    deleted = 0
    for table in _tables_with_ttl():
        attribute = table.ttl["AttributeName"]
        expired = [item for item in table.all_items() if is_expired(expiry(item, attribute), now)]
        swept = 0
        for item in expired:
            local.as_service = True  # the stream record of this one deletion names the service
            try:
                if table.delete_item(item.hash_key, item.range_key) is not None:
                    swept += 1
            finally:
                local.as_service = False
        if swept:
            # AWS/DynamoDB TimeToLiveDeletedItemCount (TableName): the items TTL deleted.
            put_datapoint(cloud, namespace="AWS/DynamoDB", name="TimeToLiveDeletedItemCount",
                          value=swept, unit="Count", dimensions={"TableName": table.name},
                          region=table.region_name)
        deleted += swept
    return deleted


def _on_tick(cloud: LocalCloud, now: dt.datetime) -> None:
    state = cloud.state["ttl"]
    if state["last_sweep"] is not None and now - state["last_sweep"] < SWEEP_EVERY:
        return
    state["last_sweep"] = now
    sweep(cloud, now)


def stream_record_size(dynamodb: dict[str, Any]) -> int:
    """A stream record's ``SizeBytes``: the item sizes of its Keys, NewImage and OldImage.

    AWS's sample Lambda event for DynamoDB (Lambda Developer Guide, "Using AWS Lambda with Amazon
    DynamoDB") bears it out: Keys ``{"Id": {"N": "101"}}`` with NewImage ``{"Message": {"S": "New
    item!"}, "Id": {"N": "101"}}`` is 5 + 21 = 26 bytes; its MODIFY record 59, its REMOVE 38.
    """
    from lab.localcloud.capacity import item_size

    return sum(item_size(dynamodb.get(part) or {}) for part in ("Keys", "NewImage", "OldImage"))


def _stream_record(cloud: LocalCloud, original: Callable[..., None]) -> Callable[..., None]:
    def __init__(record: Any, table: Any, *args: Any, **kwargs: Any) -> None:
        original(record, table, *args, **kwargs)
        body = record.record
        body["eventVersion"] = "1.1"
        body["awsRegion"] = table.region_name
        body["eventSourceARN"] = f"{table.table_arn}/stream/{table.latest_stream_label}"
        moment = cloud.clock.now().astimezone(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
        body["dynamodb"]["ApproximateCreationDateTime"] = moment
        body["dynamodb"]["SizeBytes"] = stream_record_size(body["dynamodb"])
        local = cloud.state["ttl"]["deleting"]
        if getattr(local, "as_service", False):
            local.as_service = False  # a function the record triggers writes as itself
            body["userIdentity"] = dict(SERVICE_IDENTITY)

    return __init__


def install(cloud: LocalCloud) -> None:
    """Sweep expired items on every clock tick and correct moto's stream records."""
    cloud.state["ttl"] = {"last_sweep": None, "deleting": threading.local()}
    point = HOOK_POINTS[0]
    hooks.patch(point, _stream_record(cloud, hooks.original(point)))
    cloud.clock.on_tick(lambda now: _on_tick(cloud, now))
