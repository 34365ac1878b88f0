"""DynamoDB stream event source mappings: deliver new records in batches, keep a failed batch."""

from __future__ import annotations

import datetime as dt
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
            position = state.streams.setdefault(mapping.uuid, StreamPosition(items=items))
            position.items = items
            _poll(cloud, backend, mapping)
    except Exception:
        _log.exception("The local cloud could not deliver stream records to %s", function_arn)


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
        event["userIdentity"] = record["userIdentity"]
    return event


def _sequence(record: dict[str, Any]) -> int:
    return int(record["dynamodb"]["SequenceNumber"])
