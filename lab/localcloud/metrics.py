"""Emit the AWS/* metrics that AWS services publish themselves (stamped by the local clock); read them fast.

Reading follows CloudWatch's rule that a metric is its namespace, name *and full set of
dimensions* ("CloudWatch concepts: Dimensions": "you must specify the same dimensions that were
used when the metrics were created"): GetMetricStatistics returns only the datapoints whose
dimensions are exactly the ones asked for, so a query without dimensions finds nothing of a
per-table metric (moto sums every datapoint of the name, or those holding the asked ones).
``AWS/Lambda`` metrics are published twice, per FunctionName and account-wide without a
dimension, as Lambda does ("Types of metrics for Lambda functions": aggregate metrics).
"""

from __future__ import annotations

import datetime as dt
import types
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from lab.localcloud import hooks

if TYPE_CHECKING:
    from lab.localcloud import LocalCloud

HOOK_POINTS = ("moto.cloudwatch.models:CloudWatchBackend.get_metric_statistics",)
ACCOUNT_WIDE = ("AWS/Lambda",)  # namespaces also aggregated without dimensions


def minute_of(moment: dt.datetime) -> dt.datetime:
    """The start of the minute holding ``moment``, as moto stores timestamps (naive UTC).

    AWS service metrics have 1-minute resolution: every datapoint of a minute shares its start.
    """
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return moment.replace(second=0, microsecond=0)


def put_datapoint(cloud: LocalCloud, *, namespace: str, name: str, value: float, unit: str,
                  dimensions: dict[str, str], region: str | None = None,
                  timestamp: dt.datetime | None = None) -> None:
    """Record one datapoint as the service would publish it, then tell the metric listeners.

    Args:
        cloud: the local cloud (its clock stamps the datapoint unless ``timestamp`` is given).
        namespace: e.g. ``"AWS/DynamoDB"``.
        name: e.g. ``"ConsumedWriteCapacityUnits"``.
        value: the datapoint's value; CloudWatch sums them per period for the Sum statistic.
        unit: e.g. ``"Count"``, ``"Milliseconds"``.
        dimensions: e.g. ``{"TableName": "S3ObjectEvents"}``.
        region: the region of the resource (default: the cloud's region).
        timestamp: when it happened (default: the clock's now).
    """
    from moto.cloudwatch.models import MetricDatum, cloudwatch_backends

    region = region or cloud.region
    moment = minute_of(timestamp or cloud.clock.now())
    backend = hooks.backend(cloudwatch_backends, cloud.account_id, region)
    sets = [dimensions] + ([{}] if namespace in ACCOUNT_WIDE and dimensions else [])
    for each in sets:
        backend.metric_data.append(MetricDatum(
            namespace=namespace, name=name, value=float(value),
            dimensions=[{"Name": k, "Value": v} for k, v in each.items()],
            timestamp=moment, unit=unit,
        ))
    for each in sets:
        for listener in list(cloud.metric_listeners):
            listener(region=region, namespace=namespace, name=name, dimensions=each)


def _exact_statistics(original: Any) -> Any:
    """GetMetricStatistics over the datapoints whose dimensions are exactly the asked ones."""

    def get_metric_statistics(backend: Any, namespace: str, metric_name: str,
                              start_time: dt.datetime, end_time: dt.datetime, period: int,
                              stats: list[str], dimensions: list[dict[str, str]] | None,
                              unit: str | None = None) -> Any:
        wanted = frozenset((d["Name"], d.get("Value")) for d in dimensions or ())
        exact = [datum for datum in backend.get_all_metrics()
                 if datum.namespace == namespace and datum.name == metric_name
                 and frozenset((d.name, d.value) for d in datum.dimensions) == wanted]
        view = types.SimpleNamespace(get_all_metrics=lambda: exact)  # moto reads only this
        return original(view, namespace, metric_name, start_time, end_time, period, stats, [],
                        unit)

    return get_metric_statistics


def install(cloud: LocalCloud) -> None:
    """Make GetMetricStatistics match dimensions exactly, as CloudWatch does."""
    point = HOOK_POINTS[0]
    hooks.patch(point, _exact_statistics(hooks.original(point)))


class Aggregate:
    """Running statistics of the datapoints of one metric in one minute (one unit)."""

    __slots__ = ("count", "total", "low", "high")

    def __init__(self) -> None:
        self.count, self.total, self.low, self.high = 0.0, 0.0, float("inf"), float("-inf")

    def add(self, datum: Any) -> None:
        """Fold in one of moto's datapoints: a single value or a StatisticValues set."""
        if hasattr(datum, "value"):
            value = float(datum.value)
            self.count, self.total = self.count + 1, self.total + value
            self.low, self.high = min(self.low, value), max(self.high, value)
        else:
            self.count += float(datum.sample_count)
            self.total += float(datum.sum)
            self.low, self.high = min(self.low, float(datum.min)), max(self.high, float(datum.max))

    def merge(self, other: Aggregate) -> None:
        """Fold in another aggregate (the minutes of one period)."""
        self.count, self.total = self.count + other.count, self.total + other.total
        self.low, self.high = min(self.low, other.low), max(self.high, other.high)

    def statistic(self, name: str) -> float:
        """Sum, Average, Minimum, Maximum or SampleCount."""
        return {"Sum": self.total, "Average": self.total / self.count if self.count else 0.0,
                "Minimum": self.low, "Maximum": self.high, "SampleCount": self.count}[name]


class MetricIndex:
    """moto's list of datapoints, aggregated by metric, unit and minute, read in O(minutes).

    moto keeps every datapoint of a region in one list and its readers scan all of it, so
    evaluating an alarm on every arrival would cost O(all datapoints) each time. The index
    follows the list incrementally (moto only appends; a new list after a reset is re-indexed).
    """

    def __init__(self) -> None:
        self._source: list[Any] | None = None
        self._seen = 0
        self._minutes: dict[tuple[str, str, frozenset[tuple[str, str]]],
                            dict[dt.datetime, dict[Any, Aggregate]]] = {}

    def _refresh(self, source: list[Any]) -> None:
        if source is not self._source or len(source) < self._seen:
            self._source, self._seen, self._minutes = source, 0, {}
        for datum in source[self._seen:]:
            key = (datum.namespace, datum.name,
                   frozenset((d.name, d.value) for d in datum.dimensions))
            units = self._minutes.setdefault(key, {}).setdefault(minute_of(datum.timestamp), {})
            units.setdefault(datum.unit, Aggregate()).add(datum)
        self._seen = len(source)

    def periods(self, source: list[Any], *, namespace: str, name: str,
                dimensions: frozenset[tuple[str, str]], start: dt.datetime, end: dt.datetime,
                period: int, unit: str | None = None) -> dict[dt.datetime, Aggregate]:
        """Aggregates per period in [start, end) (naive UTC, whole minutes; period a multiple of 60 s).

        Periods are aligned to the epoch, as CloudWatch aligns them; a period with no data is absent.
        """
        if period % 60:
            raise ValueError("the index aggregates whole minutes: period must be a multiple of 60")
        self._refresh(source)
        found: dict[dt.datetime, Aggregate] = {}
        epoch = dt.datetime(1970, 1, 1)
        for minute, units in _in_window(self._minutes.get((namespace, name, dimensions), {}),
                                        start, end):
            seconds = int((minute - epoch).total_seconds())
            begin = epoch + dt.timedelta(seconds=seconds - seconds % period)
            for datum_unit, aggregate in units.items():
                if unit and datum_unit != unit:
                    continue
                found.setdefault(begin, Aggregate()).merge(aggregate)
        return found


def _in_window(minutes: dict[dt.datetime, Any], start: dt.datetime,
               end: dt.datetime) -> Iterator[tuple[dt.datetime, Any]]:
    """The entries of ``minutes`` (keyed by minute start) in [start, end), in O(min(window, all)).

    An alarm looks at a few periods while a long session keeps days of minutes: looking up the
    window's minutes is then far cheaper than filtering them all.
    """
    step = dt.timedelta(minutes=1)
    first = start.replace(second=0, microsecond=0)
    if first < start:
        first += step
    if end <= first:
        return
    if (end - first) // step < len(minutes):
        moment = first
        while moment < end:
            if moment in minutes:
                yield moment, minutes[moment]
            moment += step
    else:
        yield from ((minute, units) for minute, units in minutes.items() if start <= minute < end)
