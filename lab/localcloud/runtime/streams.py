"""DynamoDB stream event source mappings: deliver new records in batches, keep a failed batch.

Lambda polls a shard and invokes the function with what is available, up to BatchSize records
("Using AWS Lambda with Amazon DynamoDB": BatchSize, default 100). Here a poll follows each
DynamoDB request (and each TTL sweep): the records one BatchWriteItem, TransactWriteItems or
sweep adds go out together, one invocation per BatchSize of them, not one per record.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from lab.localcloud.runtime.invocation import _run
from lab.localcloud.runtime.model import STREAM_RETRY_DELAY, StreamPosition, _log, _state

if TYPE_CHECKING:
    from lab.localcloud import LocalCloud


# -- DynamoDB stream event source mappings ----------------------------------------------------

def _deliver_stream(cloud: LocalCloud, backend: Any, function_arn: str, items: list[Any],
                    source: str) -> None:
    """``send_dynamodb_items``: a record was added to a shard; deliver what is new."""
    try:
        state = _state(cloud)
        for mapping in backend.list_event_source_mappings(source, None):
            if mapping.function_arn != function_arn:
                continue
            position = state.streams.get(mapping.uuid)
            if position is None:
                position = state.streams[mapping.uuid] = StreamPosition(items=items)
                if mapping.starting_position == "LATEST" and items:
                    # LATEST: from the first record written after the mapping (this one), even
                    # when it is delivered together with the ones that follow it.
                    position.sequence = int(items[-1].to_json()["dynamodb"]["SequenceNumber"]) - 1
            position.items = items
            if getattr(state.holding, "depth", 0):
                state.holding.pending[mapping.uuid] = (backend, mapping)
            else:
                _poll(cloud, backend, mapping)
    except Exception:
        _log.exception("The local cloud could not deliver stream records to %s", function_arn)


@contextmanager
def batching(cloud: LocalCloud) -> Iterator[None]:
    """Hold stream deliveries until the block ends (a request, a sweep), then poll once.

    The records written meanwhile reach each mapping's function in batches of up to BatchSize.
    Blocks nest on a thread: only the outermost one polls.
    """
    holding = _state(cloud).holding
    depth = getattr(holding, "depth", 0)
    if depth == 0:
        holding.pending = {}
    holding.depth = depth + 1
    try:
        yield
    finally:
        holding.depth = depth
        if depth == 0:
            pending, holding.pending = holding.pending, {}
            for backend, mapping in pending.values():
                try:
                    _poll(cloud, backend, mapping)
                except Exception:
                    _log.exception("The local cloud could not deliver stream records")


def _poll(cloud: LocalCloud, backend: Any, mapping: Any, *, retry: bool = False) -> None:
    """Deliver the shard's undelivered records in batches.

    A failed batch blocks the shard: it is retried, the same batch, on the local clock (every
    10 s of clock time) until it succeeds or MaximumRetryAttempts is spent; new records wait.
    """
    state = _state(cloud)
    position = state.streams.get(mapping.uuid)
    function = backend.get_function_by_arn(mapping.function_arn)
    if position is None or position.busy or not mapping.enabled or function is None:
        return
    if position.failures and not retry:
        return
    position.busy = True
    try:
        records = [_stream_record(item, backend.region_name, mapping.event_source_arn)
                   for item in list(position.items)]
        if not records:
            return
        if position.sequence is None:  # first delivery: LATEST skips what came before
            latest = mapping.starting_position == "LATEST"
            position.sequence = _sequence(records[-1]) - 1 if latest else -1
        pending = [record for record in records if _sequence(record) > position.sequence]
        size = int(mapping.batch_size or 100)
        while pending:
            end = position.failed_batch_end
            batch = [r for r in pending[:size] if end is None or _sequence(r) <= end]
            pending = pending[len(batch):]
            outcome = _run(cloud, function, {"Records": batch})
            if outcome.error is not None:
                position.failures += 1
                position.failed_batch_end = _sequence(batch[-1])
                limit = mapping.max_retry_attempts
                if limit is None or int(limit) < 0 or position.failures <= int(limit):
                    _schedule_poll(cloud, backend, mapping, STREAM_RETRY_DELAY)
                    return
                state.discarded_batches += 1
            position.sequence = _sequence(batch[-1])
            position.failures = 0
            position.failed_batch_end = None
        if position.items and len(position.items) > len(records):  # written during the poll
            _schedule_poll(cloud, backend, mapping, dt.timedelta(0))
    finally:
        position.busy = False


def _schedule_poll(cloud: LocalCloud, backend: Any, mapping: Any, delay: dt.timedelta) -> None:
    position = _state(cloud).streams[mapping.uuid]
    if position.scheduled:
        return
    position.scheduled = True

    def poll() -> None:
        position.scheduled = False
        try:
            _poll(cloud, backend, mapping, retry=True)
        except Exception:
            _log.exception("The local cloud could not poll a stream")

    cloud.clock.call_later(delay, poll)


def _stream_record(item: Any, region: str, source: str) -> dict[str, Any]:
    """A shard record as Lambda delivers it (ApproximateCreationDateTime in epoch seconds)."""
    from moto.core.utils import unix_time

    record = item.to_json()
    dynamodb = dict(record["dynamodb"])
    if isinstance(dynamodb.get("ApproximateCreationDateTime"), dt.datetime):
        dynamodb["ApproximateCreationDateTime"] = unix_time(dynamodb["ApproximateCreationDateTime"])
    event = {key: record[key] for key in ("eventID", "eventName", "eventVersion", "eventSource")}
    event.update({"awsRegion": region, "dynamodb": dynamodb, "eventSourceARN": source})
    if "userIdentity" in record:
        event["userIdentity"] = lambda_identity(record["userIdentity"])
    return event


def lambda_identity(identity: dict[str, Any]) -> dict[str, Any]:
    """A record's userIdentity as Lambda spells it: ``{"type": …, "principalId": …}``.

    GetRecords answers with the API's member names (``{"PrincipalId": …, "Type": …}``), a Lambda
    event with camel case, type first (Lambda Developer Guide, "Using AWS Lambda with Amazon
    DynamoDB", the TTL example; Powertools' DynamoDBStreamModel requires this spelling).
    """
    spelled = {"type": identity.get("Type", identity.get("type")),
               "principalId": identity.get("PrincipalId", identity.get("principalId"))}
    return {key: value for key, value in spelled.items() if value is not None}


def _sequence(record: dict[str, Any]) -> int:
    return int(record["dynamodb"]["SequenceNumber"])
