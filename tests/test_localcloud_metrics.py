"""The metric index agrees with CloudWatch's own statistics, for any mix of datapoints."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from lab.localcloud.metrics import Aggregate, MetricIndex

UTC = dt.timezone.utc


@pytest.mark.parametrize("period", [60, 300])
def test_index_aggregates_epoch_aligned_periods_like_cloudwatch(lab_moto, period):
    """Random datapoints through PutMetricData; the index's statistics equal a brute-force reference."""
    cloudwatch = lab_moto.client("cloudwatch")
    rng = random.Random(7)
    start = dt.datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    table = [{"Name": "TableName", "Value": "T"}]
    reference: dict[dt.datetime, list[float]] = {}
    for _ in range(120):
        moment = start + dt.timedelta(seconds=rng.randrange(0, 1800))
        value = rng.choice([0.5, 1, 2, 7])
        cloudwatch.put_metric_data(Namespace="Lab/Test", MetricData=[{
            "MetricName": "Writes", "Dimensions": table, "Timestamp": moment, "Value": value,
            "Unit": "Count"}])
        seconds = int(moment.timestamp())
        begin = dt.datetime.fromtimestamp(seconds - seconds % period, UTC).replace(tzinfo=None)
        reference.setdefault(begin, []).append(value)
    cloudwatch.put_metric_data(Namespace="Lab/Test", MetricData=[{  # other dimensions: not ours
        "MetricName": "Writes", "Dimensions": [{"Name": "TableName", "Value": "Other"}],
        "Timestamp": start, "Value": 1000, "Unit": "Count"}])
    cloudwatch.put_metric_data(Namespace="Lab/Test", MetricData=[{  # another unit: filtered out
        "MetricName": "Writes", "Dimensions": table, "Timestamp": start, "Value": 1000,
        "Unit": "Seconds"}])
    from moto.cloudwatch.models import cloudwatch_backends

    backend = cloudwatch_backends["123456789012"]["us-east-1"]
    periods = MetricIndex().periods(
        backend.metric_data, namespace="Lab/Test", name="Writes",
        dimensions=frozenset({("TableName", "T")}), start=start.replace(tzinfo=None),
        end=(start + dt.timedelta(minutes=30)).replace(tzinfo=None), period=period, unit="Count")
    assert set(periods) == set(reference)
    for begin, values in reference.items():
        aggregate = periods[begin]
        assert aggregate.statistic("Sum") == pytest.approx(sum(values))
        assert aggregate.statistic("SampleCount") == len(values)
        assert aggregate.statistic("Minimum") == min(values)
        assert aggregate.statistic("Maximum") == max(values)
        assert aggregate.statistic("Average") == pytest.approx(sum(values) / len(values))


def test_a_narrow_window_over_a_long_history_reads_only_its_minutes():
    """Days of minutes, windows of a few: the same aggregates as filtering every minute."""
    class Datum:
        def __init__(self, value, moment):
            self.namespace, self.name, self.dimensions, self.unit = "N", "M", [], "Count"
            self.value, self.timestamp = value, moment

    rng = random.Random(11)
    origin = dt.datetime(2026, 11, 20)
    source = [Datum(rng.choice([1, 2, 5]), origin + dt.timedelta(seconds=rng.randrange(3 * 86400)))
              for _ in range(3000)]
    index = MetricIndex()
    for _ in range(40):
        start = origin + dt.timedelta(minutes=rng.randrange(3 * 1440))
        width = dt.timedelta(minutes=rng.choice([1, 5, 15]))
        for begin, end in ((start, start + width), (start + dt.timedelta(seconds=30), start + width),
                           (start, start + dt.timedelta(days=4))):
            expected: dict[dt.datetime, float] = {}
            for datum in source:
                minute = datum.timestamp.replace(second=0, microsecond=0)
                if begin <= minute < end:
                    expected[minute] = expected.get(minute, 0) + datum.value
            found = index.periods(source, namespace="N", name="M", dimensions=frozenset(),
                                  start=begin, end=end, period=60)
            assert {minute: aggregate.total for minute, aggregate in found.items()} == expected


def test_statistic_values_sets_fold_in(lab_moto):
    cloudwatch = lab_moto.client("cloudwatch")
    moment = dt.datetime(2026, 11, 25, 8, 3, tzinfo=UTC)
    cloudwatch.put_metric_data(Namespace="Lab/Test", MetricData=[
        {"MetricName": "Writes", "Timestamp": moment, "Value": 6},
        {"MetricName": "Writes", "Timestamp": moment,
         "StatisticValues": {"SampleCount": 4, "Sum": 10, "Minimum": 1, "Maximum": 4}}])
    from moto.cloudwatch.models import cloudwatch_backends

    backend = cloudwatch_backends["123456789012"]["us-east-1"]
    [aggregate] = MetricIndex().periods(
        backend.metric_data, namespace="Lab/Test", name="Writes", dimensions=frozenset(),
        start=dt.datetime(2026, 11, 25, 8), end=dt.datetime(2026, 11, 25, 9), period=3600).values()
    assert (aggregate.statistic("Sum"), aggregate.statistic("SampleCount")) == (16, 5)
    assert (aggregate.statistic("Minimum"), aggregate.statistic("Maximum")) == (1, 6)


def test_index_follows_new_datapoints_and_a_reset_list():
    class Datum:
        def __init__(self, value, minute):
            self.namespace, self.name, self.dimensions, self.unit = "N", "M", [], "Count"
            self.value, self.timestamp = value, dt.datetime(2026, 1, 1, 0, minute, 30)

    source = [Datum(1, 0), Datum(2, 0)]
    index = MetricIndex()
    read = lambda data: index.periods(data, namespace="N", name="M", dimensions=frozenset(),  # noqa: E731
                                      start=dt.datetime(2026, 1, 1), end=dt.datetime(2026, 1, 1, 1),
                                      period=60)
    assert read(source)[dt.datetime(2026, 1, 1, 0, 0)].total == 3
    source.append(Datum(5, 0))
    assert read(source)[dt.datetime(2026, 1, 1, 0, 0)].total == 8
    assert {k: v.total for k, v in read([Datum(4, 1)]).items()} == {dt.datetime(2026, 1, 1, 0, 1): 4}
    with pytest.raises(ValueError, match="multiple of 60"):
        index.periods(source, namespace="N", name="M", dimensions=frozenset(),
                      start=dt.datetime(2026, 1, 1), end=dt.datetime(2026, 1, 1, 1), period=10)


def test_empty_aggregate_statistics():
    empty = Aggregate()
    assert empty.statistic("SampleCount") == 0
    assert empty.statistic("Average") == 0.0
