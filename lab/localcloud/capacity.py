"""DynamoDB as AWS meters it: item sizes, capacity units, ConsumedCapacity, metrics, throttling.

Every write through the DynamoDB API costs what AWS charges (PutItem/UpdateItem: the larger of
the old and new item, DeleteItem: the deleted item, BatchWriteItem: each item on its own,
TransactWriteItems: twice). The figures go to ``ReturnConsumedCapacity`` answers and to the
``AWS/DynamoDB`` metrics ConsumedWriteCapacityUnits / ConsumedReadCapacityUnits (one datapoint
per request and table, unit Count, so the Sum per minute is the units spent in that minute).

Provisioned tables throttle writes with a token bucket per table that follows the local clock:
it refills at the table's WriteCapacityUnits per second and holds at most 300 seconds of them
(AWS's burst capacity). AWS does not document the balance of a new table; here a table starts
with ``INITIAL_BURST_SECONDS`` (10) seconds of its capacity, and starts again from there
whenever its provisioned WCU changes (``update_table``). So a lesson's burst of about 12 uploads
fits a 5-WCU table (50 units), while 20 quick writes to a 1-WCU table throttle after 10.
Advancing the clock refills the bucket (five minutes fill it), exactly as idle time does on AWS.
A throttled write raises ProvisionedThroughputExceededException, is not applied, and adds one
WriteThrottleEvents datapoint (BatchWriteItem: one per throttled item, which come back in
UnprocessedItems). Real time is part of the clock, so boto3's own retries (which sleep for real)
let the bucket refill and usually succeed. On-demand (PAY_PER_REQUEST) tables never throttle;
reads are metered but never throttled.

The request metrics AWS publishes follow each request too ("DynamoDB metrics and dimensions"):
``SuccessfulRequestLatency`` (TableName, Operation; Milliseconds, one datapoint per successful
request: here the time moto took, so far below AWS's few milliseconds), ``ThrottledRequests``
(TableName, Operation; one per request refused with ProvisionedThroughputExceededException; a
BatchWriteItem only when every item was throttled) and ``ConditionalCheckFailedRequests``
(TableName; one per PutItem, UpdateItem or DeleteItem whose condition failed, e.g. a redelivered
event's ``attribute_not_exists`` put). ``TimeToLiveDeletedItemCount`` comes from ``ttl``.
"""

from __future__ import annotations

import base64
import binascii
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lab.localcloud import hooks
from lab.localcloud.metrics import put_datapoint

if TYPE_CHECKING:
    from lab.localcloud import LocalCloud

_RESPONSES = "moto.dynamodb.responses:DynamoHandler."
HOOK_POINTS = tuple(_RESPONSES + name for name in (
    "put_item", "update_item", "delete_item", "batch_write_item", "transact_write_items",
    "get_item", "batch_get_item", "query", "scan", "transact_get_items",
)) + ("moto.dynamodb.models:get_filter_expression",)

NAMESPACE = "AWS/DynamoDB"
WRITE_UNIT_BYTES = 1024
READ_UNIT_BYTES = 4096
BURST_SECONDS = 300  # AWS keeps up to five minutes of unused capacity
INITIAL_BURST_SECONDS = 10  # our choice: AWS does not document a new table's balance
THROTTLE_MESSAGE = ("The level of configured provisioned throughput for the table was exceeded. "
                    "Consider increasing your provisioning level with the UpdateTable API.")


# -- sizes and units, as documented in "DynamoDB item sizes and formats" ---------------------

def number_size(number: str) -> int:
    """Bytes of a number: 1 per two significant digits (zeros trimmed at both ends) + 1."""
    mantissa = str(number).strip().lstrip("+-").lower().partition("e")[0].replace(".", "")
    return (len(mantissa.strip("0")) + 1) // 2 + 1


def _binary_length(value: Any) -> int:
    if isinstance(value, (bytes, bytearray)):
        return len(value)
    try:
        return len(base64.b64decode(value, validate=True))
    except (binascii.Error, ValueError):
        return len(str(value).encode("utf-8"))


def attribute_size(value: Any) -> int:
    """Bytes of one attribute value, ``{"S": "x"}`` or a moto ``DynamoType`` (name excluded).

    Strings count their UTF-8 bytes, binaries their raw bytes, booleans and nulls 1, numbers
    :func:`number_size`; sets the sum of their elements (AWS documents no set overhead); lists
    and maps 3 bytes plus 1 byte per element plus the elements (map keys count their UTF-8 bytes).

    Raises:
        ValueError: not a DynamoDB attribute value.
    """
    if hasattr(value, "type") and hasattr(value, "value"):
        kind, data = value.type, value.value
    elif isinstance(value, Mapping) and len(value) == 1:
        kind, data = next(iter(value.items()))
    else:
        raise ValueError(f"Not a DynamoDB attribute value: {value!r}")
    if kind == "S":
        return len(data.encode("utf-8"))
    if kind == "N":
        return number_size(data)
    if kind == "B":
        return _binary_length(data)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(element.encode("utf-8")) for element in data)
    if kind == "NS":
        return sum(number_size(element) for element in data)
    if kind == "BS":
        return sum(_binary_length(element) for element in data)
    if kind == "L":
        return 3 + sum(1 + attribute_size(element) for element in data)
    if kind == "M":
        return 3 + sum(1 + len(key.encode("utf-8")) + attribute_size(element)
                       for key, element in data.items())
    raise ValueError(f"Unknown DynamoDB type {kind!r} in {value!r}")


def item_size(item: Mapping[str, Any]) -> int:
    """Bytes of an item in DynamoDB JSON: Σ UTF-8 bytes of each name + :func:`attribute_size`."""
    return sum(len(name.encode("utf-8")) + attribute_size(value) for name, value in item.items())


def write_units(size: int, *, transactional: bool = False) -> float:
    """Write units for ``size`` bytes: one per started KB (at least 1), twice in a transaction."""
    units = max(1, math.ceil(size / WRITE_UNIT_BYTES))
    return float(units * (2 if transactional else 1))


def read_units(size: int, *, consistent: bool = False, transactional: bool = False) -> float:
    """Read capacity units for reading ``size`` bytes: one per started 4 KB (at least 1).

    Eventually consistent reads (the default) cost half; transactional reads cost double.
    """
    units = max(1, math.ceil(size / READ_UNIT_BYTES))
    if transactional:
        return float(units * 2)
    return float(units if consistent else units / 2)


# -- the throttle: one token bucket per provisioned table ----------------------------------

@dataclass
class Bucket:
    """Write units a provisioned table may spend now; refills at ``wcu`` per clock second."""

    table: Any
    wcu: float
    tokens: float
    stamp: float
    throughput: Any = None  # the table's throughput setting it was made for (UpdateTable replaces it)

    def refill(self, now: float) -> None:
        """Add the units earned since the last look, up to the burst capacity."""
        earned = max(0.0, now - self.stamp) * self.wcu
        self.tokens = min(self.wcu * BURST_SECONDS, self.tokens + earned)
        self.stamp = now


def bucket(cloud: LocalCloud, table: Any) -> Bucket | None:
    """The table's write bucket, refilled to the clock's now; None for on-demand tables."""
    if getattr(table, "billing_mode", "PROVISIONED") == "PAY_PER_REQUEST":
        return None
    wcu = float((table.throughput or {}).get("WriteCapacityUnits") or 0)
    if wcu <= 0:
        return None
    now = cloud.clock.time()
    buckets = cloud.state["capacity"]["buckets"]
    current = buckets.get(table.table_arn)
    if (current is None or current.table is not table or current.wcu != wcu
            or current.throughput is not table.throughput):  # any UpdateTable since: start again
        current = Bucket(table=table, wcu=wcu, tokens=wcu * INITIAL_BURST_SECONDS, stamp=now,
                         throughput=table.throughput)
        buckets[table.table_arn] = current
    else:
        current.refill(now)
    return current


def _throttle_error() -> Exception:
    """DynamoDB's ProvisionedThroughputExceededException, as moto raises its errors (HTTP 400)."""
    from moto.dynamodb.exceptions import ERROR_TYPE_PREFIX, DynamodbException

    return DynamodbException(ERROR_TYPE_PREFIX + "ProvisionedThroughputExceededException",
                             THROTTLE_MESSAGE)


def _emit(cloud: LocalCloud, table: Any, name: str, value: float,
          index: str | None = None) -> None:
    dimensions = {"TableName": table.name}
    if index:
        dimensions["GlobalSecondaryIndexName"] = index
    put_datapoint(cloud, namespace=NAMESPACE, name=name, value=value, unit="Count",
                  dimensions=dimensions, region=table.region_name)


def _admit(cloud: LocalCloud, charges: Mapping[Any, float]) -> list[Any]:
    """Tables in ``charges`` whose bucket cannot pay their units now (none for on-demand)."""
    short = []
    with cloud.state["capacity"]["lock"]:
        for table, units in charges.items():
            current = bucket(cloud, table)
            if current is not None and current.tokens < units:
                short.append(table)
    return short


def _spend(cloud: LocalCloud, charges: Mapping[Any, float], metric: str) -> None:
    """Take units from the buckets (writes) and publish one datapoint per table."""
    if metric == "ConsumedWriteCapacityUnits":
        with cloud.state["capacity"]["lock"]:
            for table, units in charges.items():
                current = bucket(cloud, table)
                if current is not None:
                    current.tokens -= units
    for table, units in charges.items():
        _emit(cloud, table, metric, units)


# -- reading moto's tables -------------------------------------------------------------------

def _table(handler: Any, name: Any) -> Any:
    from moto.core.exceptions import JsonRESTError

    try:
        return handler.dynamodb_backend.get_table(name)
    except (JsonRESTError, KeyError, TypeError):
        return None


def _stored(table: Any, attributes: Mapping[str, Any]) -> Any:
    """The stored item with the key found in ``attributes`` (a key or a whole item), or None."""
    from moto.dynamodb.exceptions import DynamodbException
    from moto.dynamodb.models.dynamo_type import DynamoType

    try:
        hash_key = DynamoType(attributes[table.hash_key_attr])
        range_key = DynamoType(attributes[table.range_key_attr]) if table.range_key_attr else None
        return table.get_item(hash_key, range_key)
    except (KeyError, TypeError, IndexError, DynamodbException):
        return None


def _stored_size(table: Any, attributes: Mapping[str, Any]) -> int:
    stored = _stored(table, attributes)
    return item_size(stored.attrs) if stored is not None else 0


def _consumed(table: Any, units: float, *, index: str | None = None,
              mode: str = "TOTAL") -> dict[str, Any]:
    """A ConsumedCapacity entry as AWS answers it for TOTAL or INDEXES."""
    entry: dict[str, Any] = {"TableName": table.name, "CapacityUnits": float(units)}
    if mode == "INDEXES":
        if index is None:
            entry["Table"] = {"CapacityUnits": float(units)}
        else:
            kind = ("GlobalSecondaryIndexes" if any(i.name == index for i in table.global_indexes)
                    else "LocalSecondaryIndexes")
            entry["Table"] = {"CapacityUnits": 0.0}
            entry[kind] = {index: {"CapacityUnits": float(units)}}
    return entry


def _answer(result: Any, handler: Any, charges: Mapping[Any, float], *, many: bool,
            index: str | None = None) -> Any:
    """Put the true ConsumedCapacity in moto's answer, or drop moto's when none was asked for."""
    body = result.result
    body.pop("ConsumedCapacityUnits", None)  # moto's invented key on DeleteItem
    mode = handler.body.get("ReturnConsumedCapacity", "NONE")
    entries = [_consumed(table, units, index=index, mode=mode) for table, units in charges.items()]
    if mode in ("TOTAL", "INDEXES") and entries:
        body["ConsumedCapacity"] = entries if many else entries[0]
    else:
        body.pop("ConsumedCapacity", None)
    return result


# -- the hooks -------------------------------------------------------------------------------

def _single_write(cloud: LocalCloud, original: Callable[[Any], Any], handler: Any,
                  table: Any, estimate: float, actual: Callable[[], float],
                  on_condition_failure: float) -> Any:
    """Admit, apply and meter one PutItem/UpdateItem/DeleteItem."""
    from moto.dynamodb.exceptions import ConditionalCheckFailed

    if _admit(cloud, {table: estimate}):
        _emit(cloud, table, "WriteThrottleEvents", 1)
        raise _throttle_error()
    try:
        result = original(handler)
    except ConditionalCheckFailed:
        _spend(cloud, {table: on_condition_failure}, "ConsumedWriteCapacityUnits")
        raise
    charges = {table: actual()}
    _spend(cloud, charges, "ConsumedWriteCapacityUnits")
    return _answer(result, handler, charges, many=False)


def _put_item(cloud: LocalCloud, original: Callable[[Any], Any], handler: Any) -> Any:
    table = _table(handler, handler.body.get("TableName"))
    try:
        new = item_size(handler.body["Item"])
    except (KeyError, TypeError, ValueError, AttributeError):
        table = None
    if table is None:
        return original(handler)
    old = _stored_size(table, handler.body["Item"])
    units = write_units(max(old, new))
    return _single_write(cloud, original, handler, table, units, lambda: units, write_units(old))


def _update_item(cloud: LocalCloud, original: Callable[[Any], Any], handler: Any) -> Any:
    table = _table(handler, handler.body.get("TableName"))
    key = handler.body.get("Key")
    if table is None or not isinstance(key, Mapping):
        return original(handler)
    old = _stored_size(table, key)
    return _single_write(cloud, original, handler, table, write_units(old),
                         lambda: write_units(max(old, _stored_size(table, key))), write_units(old))


def _delete_item(cloud: LocalCloud, original: Callable[[Any], Any], handler: Any) -> Any:
    table = _table(handler, handler.body.get("TableName"))
    key = handler.body.get("Key")
    if table is None or not isinstance(key, Mapping):
        return original(handler)
    units = write_units(_stored_size(table, key))
    return _single_write(cloud, original, handler, table, units, lambda: units, units)


def _batch_write_item(cloud: LocalCloud, original: Callable[[Any], Any], handler: Any) -> Any:
    requests = handler.body.get("RequestItems")
    if not isinstance(requests, Mapping):
        return original(handler)
    admitted: dict[str, list[Any]] = {}
    unprocessed: dict[str, list[Any]] = {}
    charges: dict[Any, float] = {}
    for name, table_requests in requests.items():
        table = _table(handler, name)
        if table is None:
            return original(handler)
        spent = 0.0
        for request in table_requests:
            try:
                if "PutRequest" in request:
                    item = request["PutRequest"]["Item"]
                    units = write_units(max(item_size(item), _stored_size(table, item)))
                else:
                    units = write_units(_stored_size(table, request["DeleteRequest"]["Key"]))
            except (KeyError, TypeError, ValueError, AttributeError):
                return original(handler)
            if _admit(cloud, {table: spent + units}):
                unprocessed.setdefault(name, []).append(request)
                continue
            spent += units
            admitted.setdefault(name, []).append(request)
        charges[table] = spent
        throttled = len(unprocessed.get(name, ()))
        if throttled:
            _emit(cloud, table, "WriteThrottleEvents", throttled)
    if not admitted:
        raise _throttle_error()
    handler.body["RequestItems"] = admitted
    try:
        result = original(handler)
    finally:
        handler.body["RequestItems"] = requests
    charges = {table: units for table, units in charges.items() if units}
    _spend(cloud, charges, "ConsumedWriteCapacityUnits")
    result.result["UnprocessedItems"] = unprocessed
    return _answer(result, handler, charges, many=True)


def _transact_write_items(cloud: LocalCloud, original: Callable[[Any], Any], handler: Any) -> Any:
    actions = handler.body.get("TransactItems")
    if not isinstance(actions, list):
        return original(handler)
    planned: list[tuple[Any, Mapping[str, Any], int, str]] = []
    charges: dict[Any, float] = {}
    for action in actions:
        try:
            kind, operation = next(iter(action.items()))
            table = _table(handler, operation["TableName"])
            key = operation["Item"] if kind == "Put" else operation["Key"]
            new = item_size(key) if kind == "Put" else 0
        except (KeyError, TypeError, ValueError, AttributeError, StopIteration):
            return original(handler)
        if table is None:
            return original(handler)
        old = _stored_size(table, key)
        planned.append((table, key, old, kind))
        charges[table] = charges.get(table, 0.0) + write_units(max(old, new), transactional=True)
    short = _admit(cloud, charges)
    if short:
        for table in short:
            _emit(cloud, table, "WriteThrottleEvents", 1)
        raise _throttle_error()
    result = original(handler)
    charges = {}
    for table, key, old, kind in planned:
        after = _stored_size(table, key) if kind in ("Put", "Update") else 0
        charges[table] = charges.get(table, 0.0) + write_units(max(old, after), transactional=True)
    _spend(cloud, charges, "ConsumedWriteCapacityUnits")
    return _answer(result, handler, charges, many=True)


def _get_item(cloud: LocalCloud, original: Callable[[Any], Any], handler: Any) -> Any:
    result = original(handler)
    table = _table(handler, handler.body.get("TableName"))
    if table is None:
        return result
    size = _stored_size(table, handler.body.get("Key") or {})
    charges = {table: read_units(size, consistent=bool(handler.body.get("ConsistentRead")))}
    _spend(cloud, charges, "ConsumedReadCapacityUnits")
    return _answer(result, handler, charges, many=False)


class _Counting:
    """A filter that records the size of every item DynamoDB reads before filtering it."""

    def __init__(self, condition: Any, sizes: list[int]) -> None:
        self.condition = condition
        self.sizes = sizes

    def expr(self, item: Any) -> Any:
        self.sizes.append(item_size(item.attrs))
        return self.condition.expr(item)


def _read_many(cloud: LocalCloud, original: Callable[[Any], Any], handler: Any) -> Any:
    """Query and Scan: the items read (before any filter) summed, then rounded to 4 KB."""
    reading = cloud.state["capacity"]["reading"]
    reading.sizes = []
    try:
        result = original(handler)
        sizes = reading.sizes
    finally:
        reading.sizes = None
    table = _table(handler, handler.body.get("TableName"))
    if table is None:
        return result
    index = handler.body.get("IndexName")
    units = read_units(sum(sizes), consistent=bool(handler.body.get("ConsistentRead")))
    is_global = index is not None and any(i.name == index for i in table.global_indexes)
    _emit(cloud, table, "ConsumedReadCapacityUnits", units, index if is_global else None)
    return _answer(result, handler, {table: units}, many=False, index=index)


def _counting_filter(cloud: LocalCloud, original: Callable[..., Any], *args: Any,
                     **kwargs: Any) -> Any:
    condition = original(*args, **kwargs)
    sizes = getattr(cloud.state["capacity"]["reading"], "sizes", None)
    return condition if sizes is None else _Counting(condition, sizes)


def _batch_get_item(cloud: LocalCloud, original: Callable[[Any], Any], handler: Any) -> Any:
    result = original(handler)
    charges: dict[Any, float] = {}
    for name, request in (handler.body.get("RequestItems") or {}).items():
        table = _table(handler, name)
        if table is None:
            continue
        consistent = bool(request.get("ConsistentRead"))
        charges[table] = sum(read_units(_stored_size(table, key), consistent=consistent)
                             for key in request.get("Keys", ()))
    _spend(cloud, charges, "ConsumedReadCapacityUnits")
    return _answer(result, handler, charges, many=True)


def _transact_get_items(cloud: LocalCloud, original: Callable[[Any], Any], handler: Any) -> Any:
    result = original(handler)
    charges: dict[Any, float] = {}
    for action in handler.body.get("TransactItems") or ():
        get = action.get("Get", {})
        table = _table(handler, get.get("TableName"))
        if table is not None:
            units = read_units(_stored_size(table, get.get("Key") or {}), transactional=True)
            charges[table] = charges.get(table, 0.0) + units
    _spend(cloud, charges, "ConsumedReadCapacityUnits")
    return _answer(result, handler, charges, many=True)


# The Operation dimension of each metered request, as AWS names it.
OPERATIONS = {
    "put_item": "PutItem", "update_item": "UpdateItem", "delete_item": "DeleteItem",
    "batch_write_item": "BatchWriteItem", "transact_write_items": "TransactWriteItems",
    "get_item": "GetItem", "batch_get_item": "BatchGetItem", "query": "Query", "scan": "Scan",
    "transact_get_items": "TransactGetItems",
}


def _table_names(handler: Any) -> list[str]:
    """The tables one request names (one, or those of a batch or transaction), in order."""
    body = handler.body if isinstance(getattr(handler, "body", None), Mapping) else {}
    if isinstance(body.get("TableName"), str):
        return [body["TableName"]]
    if isinstance(body.get("RequestItems"), Mapping):
        return [str(name) for name in body["RequestItems"]]
    names: list[str] = []
    for action in body.get("TransactItems") or ():
        for operation in action.values() if isinstance(action, Mapping) else ():
            name = operation.get("TableName") if isinstance(operation, Mapping) else None
            if isinstance(name, str) and name not in names:
                names.append(name)
    return names


def _request_metric(cloud: LocalCloud, handler: Any, name: str, value: float, unit: str,
                    operation: str | None) -> None:
    for table_name in _table_names(handler):
        table = _table(handler, table_name)
        if table is None:
            continue
        dimensions = {"TableName": table.name}
        if operation:
            dimensions["Operation"] = operation
        put_datapoint(cloud, namespace=NAMESPACE, name=name, value=value, unit=unit,
                      dimensions=dimensions, region=table.region_name)


def _metered(cloud: LocalCloud, method: str, replacement: Callable[..., Any]) -> Callable[..., Any]:
    """Publish the request metrics of one DynamoDB operation around its metered replacement."""
    from moto.dynamodb.exceptions import ConditionalCheckFailed

    operation = OPERATIONS[method]

    def request(handler: Any) -> Any:
        started = time.perf_counter()
        try:
            result = replacement(handler)
        except ConditionalCheckFailed:
            if operation in ("PutItem", "UpdateItem", "DeleteItem"):
                _request_metric(cloud, handler, "ConditionalCheckFailedRequests", 1, "Count", None)
            raise
        except Exception as error:
            if "ProvisionedThroughputExceeded" in str(getattr(error, "error_type", "")):
                _request_metric(cloud, handler, "ThrottledRequests", 1, "Count", operation)
            raise
        elapsed = (time.perf_counter() - started) * 1000
        _request_metric(cloud, handler, "SuccessfulRequestLatency", round(elapsed, 2),
                        "Milliseconds", operation)
        return result

    request.__name__ = replacement.__name__
    request.__doc__ = replacement.__doc__
    return request


_HANDLERS: dict[str, Callable[..., Any]] = {
    "put_item": _put_item, "update_item": _update_item, "delete_item": _delete_item,
    "batch_write_item": _batch_write_item, "transact_write_items": _transact_write_items,
    "get_item": _get_item, "batch_get_item": _batch_get_item, "query": _read_many,
    "scan": _read_many, "transact_get_items": _transact_get_items,
}


def _bind(cloud: LocalCloud, hook: Callable[..., Any],
          original: Callable[..., Any]) -> Callable[..., Any]:
    def replacement(*args: Any, **kwargs: Any) -> Any:
        return hook(cloud, original, *args, **kwargs)

    replacement.__name__ = getattr(original, "__name__", hook.__name__)
    replacement.__doc__ = hook.__doc__
    return replacement


def install(cloud: LocalCloud) -> None:
    """Meter and throttle DynamoDB in moto for this local cloud."""
    cloud.state["capacity"] = {"buckets": {}, "lock": threading.RLock(),
                               "reading": threading.local()}
    for name, hook in _HANDLERS.items():
        point = _RESPONSES + name
        hooks.patch(point, _metered(cloud, name, _bind(cloud, hook, hooks.original(point))))
    point = "moto.dynamodb.models:get_filter_expression"
    hooks.patch(point, _bind(cloud, _counting_filter, hooks.original(point)))
