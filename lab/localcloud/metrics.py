"""Emit the AWS/* metrics that AWS services publish themselves, stamped by the local clock."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lab.localcloud import LocalCloud


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
    backend = cloudwatch_backends[cloud.account_id][region]
    backend.metric_data.append(MetricDatum(
        namespace=namespace, name=name, value=float(value),
        dimensions=[{"Name": k, "Value": v} for k, v in dimensions.items()],
        timestamp=moment, unit=unit,
    ))
    for listener in list(cloud.metric_listeners):
        listener(region=region, namespace=namespace, name=name, dimensions=dimensions)
