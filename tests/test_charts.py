"""lab.charts: frames from DynamoDB and CloudWatch, Free Tier table, inventory and figures."""

from __future__ import annotations

import datetime as dt
import math
import re

import matplotlib
import pandas as pd
import pytest
from matplotlib.colors import to_hex

import lab
from lab import charts, mock, s3
from lab.errors import MissingResource
from lab.names import names_for

TRAFFIC = [3, 6, 12, 2, 0, 4]  # uploads in each minute, as lesson 08 makes them
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
GREY, GREEN, RED = (charts.STATE_COLOURS[s] for s in ("INSUFFICIENT_DATA", "OK", "ALARM"))


def to_top_of_minute(cloud):
    """Advance the local clock to one second past the next minute boundary."""
    now = cloud.clock.now()
    cloud.clock.advance(seconds=61 - now.second - now.microsecond / 1e6)


@pytest.fixture(scope="module")
def cloud():
    """One pipeline with six minutes of lesson 08's traffic (then one quiet minute)."""
    mock.stop()
    connection = lab.connect("moto", quiet=True)
    connection.build_pipeline(quiet=True)
    connection.confirm_email()
    to_top_of_minute(connection)
    for minute, count in enumerate(TRAFFIC):
        for n in range(count):
            s3.upload(connection, f"traffic/minute-{minute}/file-{n:02d}.csv", "id,value\n1,42\n")
        connection.clock.advance(minutes=1)
    yield connection
    mock.stop()


# -- time ------------------------------------------------------------------------------------------

def test_now_is_the_local_clock_on_moto_and_real_time_elsewhere(cloud):
    local = charts.now(cloud)
    assert local.tzinfo is not None and local.utcoffset() == dt.timedelta(0)
    assert abs(local - cloud.clock.now()) < dt.timedelta(seconds=1)
    assert local - dt.datetime.now(dt.timezone.utc) > dt.timedelta(minutes=6)  # advanced
    remote = lab.Lab(backend="aws", region="us-east-1", account_id="111122223333",
                     names=names_for("111122223333", "us-east-1"))
    assert abs(charts.now(remote) - dt.datetime.now(dt.timezone.utc)) < dt.timedelta(seconds=1)


def test_minute_range_ends_with_the_current_minute(cloud):
    index = charts.minute_range(cloud, 4)
    assert index.name == "minute" and len(index) == 4 and str(index.tz) == "UTC"
    assert index[-1] == pd.Timestamp(cloud.clock.now()).floor("min")
    assert list(index.to_series().diff().dropna()) == [pd.Timedelta(minutes=1)] * 3


@pytest.mark.parametrize("minutes", [0, -3, 1.5, True, "5"])
def test_minute_range_rejects_anything_but_a_positive_whole_number(cloud, minutes):
    with pytest.raises(ValueError, match="minutes must be a whole number of at least 1"):
        charts.minute_range(cloud, minutes)


# -- DynamoDB --------------------------------------------------------------------------------------

def test_items_frame_has_one_sorted_row_per_upload(cloud):
    items = charts.items_frame(cloud)
    assert list(items.columns) == charts.ITEM_COLUMNS
    assert len(items) == sum(TRAFFIC)
    assert isinstance(items["written"].dtype, pd.DatetimeTZDtype)
    assert str(items["written"].dtype.tz) == "UTC"
    assert items["written"].is_monotonic_increasing
    assert (items["expires"] - items["written"] == pd.Timedelta(days=1)).all()
    assert set(items["eventName"]) == {"ObjectCreated:Put"}
    assert str(items["size"].dtype) == "Int64" and set(items["size"]) == {len("id,value\n1,42\n")}
    assert all(UUID.match(object_id) for object_id in items["objectId"])
    assert items["objectId"].is_unique
    first_minute = items[items["written"].dt.floor("min") == items["written"].min().floor("min")]
    assert list(first_minute["objectKey"]) == [f"traffic/minute-0/file-0{n}.csv" for n in range(3)]


def test_items_per_minute_counts_every_minute_including_empty_ones(cloud):
    per_minute = charts.items_per_minute(cloud, minutes=10)
    assert list(per_minute.columns) == ["items"] and per_minute.index.name == "minute"
    assert per_minute.index.equals(charts.minute_range(cloud, 10))
    assert per_minute["items"].tolist() == [0, 0, 0] + TRAFFIC + [0]
    assert str(per_minute["items"].dtype) == "int64"


# -- CloudWatch metrics ----------------------------------------------------------------------------

def test_metric_frame_reads_one_sum_per_minute_with_gaps_as_nan(cloud):
    wcu = charts.metric_frame(cloud, "AWS/DynamoDB", "ConsumedWriteCapacityUnits",
                              {"TableName": cloud.names.table}, minutes=10)
    assert list(wcu.columns) == ["ConsumedWriteCapacityUnits"]
    assert wcu.index.equals(charts.minute_range(cloud, 10))
    values = wcu["ConsumedWriteCapacityUnits"].tolist()
    expected = [None, None, None, 3.0, 6.0, 12.0, 2.0, None, 4.0, None]
    assert [None if math.isnan(v) else v for v in values] == expected


def test_metric_frame_other_statistics_and_unknown_metrics(cloud):
    function = {"FunctionName": cloud.names.function}
    count = charts.metric_frame(cloud, "AWS/Lambda", "Invocations", function, stat="SampleCount",
                                minutes=10)["Invocations"].dropna().tolist()
    assert count == [3.0, 6.0, 12.0, 2.0, 4.0]
    nothing = charts.metric_frame(cloud, "AWS/Lambda", "NoSuchMetric", function, minutes=3)
    assert list(nothing.columns) == ["NoSuchMetric"] and nothing["NoSuchMetric"].isna().all()


@pytest.mark.parametrize("stat", ["sum", "p99", "Total"])
def test_metric_frame_rejects_unknown_statistics(cloud, stat):
    with pytest.raises(ValueError, match="stat must be one of Sum, Average, Minimum, Maximum"):
        charts.metric_frame(cloud, "AWS/Lambda", "Invocations", {}, stat=stat)


def test_lambda_frame_counts_invocations_errors_and_durations(cloud):
    frame = charts.lambda_frame(cloud, minutes=10)
    assert list(frame.columns) == ["Invocations", "Errors", "Duration avg (ms)",
                                   "Duration max (ms)"]
    busy = frame.dropna()
    assert busy["Invocations"].tolist() == [3.0, 6.0, 12.0, 2.0, 4.0]
    assert busy["Errors"].tolist() == [0.0] * 5
    assert (busy["Duration avg (ms)"] > 0).all()
    assert (busy["Duration avg (ms)"] <= busy["Duration max (ms)"]).all()


# -- alarm history ---------------------------------------------------------------------------------

def test_alarm_timeline_lists_the_state_changes_oldest_first(cloud):
    timeline = charts.alarm_timeline(cloud)
    assert list(timeline.columns) == charts.TIMELINE_COLUMNS
    assert isinstance(timeline["time"].dtype, pd.DatetimeTZDtype)
    assert timeline["time"].is_monotonic_increasing
    assert (timeline["time"] == timeline["time"].dt.floor("s")).all()  # to the second
    rows = timeline[["alarm", "from", "to"]].values.tolist()
    activity = cloud.names.activity_alarm
    assert rows == [[activity, "INSUFFICIENT_DATA", "OK"], [activity, "OK", "ALARM"],
                    [activity, "ALARM", "OK"]]
    reasons = timeline["reason"].tolist()
    assert re.fullmatch(r"Threshold Crossed: 1 datapoint \[3\.0 \(\d\d/\d\d/\d\d \d\d:\d\d:00\)\] "
                        r"was not greater than the threshold \(10\.0\)\.", reasons[0])
    assert re.fullmatch(r"Threshold Crossed: 1 out of the last 1 datapoints \[1[12]\.0 \(.*\)\] "
                        r"was greater than the threshold \(10\.0\) \(minimum 1 datapoint for "
                        r"OK -> ALARM transition\)\.", reasons[1])
    assert "[2.0 (" in reasons[2] and "ALARM -> OK" in reasons[2]


# -- figures ---------------------------------------------------------------------------------------

def bars(axes):
    return [p for p in axes.patches if isinstance(p, matplotlib.patches.Rectangle)]


def test_plot_write_capacity_colours_the_minutes_above_the_threshold(cloud):
    figure = charts.plot_write_capacity(cloud, minutes=10)
    assert tuple(figure.get_size_inches()) == charts.FIGSIZE and len(figure.axes) == 1
    axes = figure.axes[0]
    heights = [bar.get_height() for bar in bars(axes)]
    assert heights == [3.0, 6.0, 12.0, 2.0, 4.0]
    assert [to_hex(bar.get_facecolor()) for bar in bars(axes)].count(RED.lower()) == 1
    assert list(axes.lines[0].get_ydata()) == [10.0, 10.0]
    labels = [text.get_text() for text in axes.get_legend().get_texts()]
    assert sorted(labels) == ["alarm threshold (10)", "consumed WCU (Sum per minute)"]
    lower = charts.plot_write_capacity(cloud, 5, minutes=10).axes[0]
    assert [to_hex(b.get_facecolor()) for b in bars(lower)].count(RED.lower()) == 2


def test_plot_lambda_metrics_has_counts_and_durations_side_by_side(cloud):
    figure = charts.plot_lambda_metrics(cloud, minutes=10)
    assert tuple(figure.get_size_inches()) == charts.FIGSIZE and len(figure.axes) == 2
    counts, durations = figure.axes
    assert [b.get_height() for b in bars(counts)] == [3.0, 6.0, 12.0, 2.0, 4.0] + [0.0] * 5
    assert [line.get_label() for line in durations.lines] == ["average", "maximum"]
    assert cloud.names.function in figure.get_suptitle()


def test_plot_alarm_timeline_draws_one_band_per_alarm_in_state_colours(cloud):
    figure = charts.plot_alarm_timeline(cloud, minutes=12)
    assert tuple(figure.get_size_inches()) == charts.FIGSIZE and len(figure.axes) == 1
    axes = figure.axes[0]
    labels = [label.get_text() for label in axes.get_yticklabels()]
    assert labels == [cloud.names.activity_alarm, cloud.names.throttle_alarm]
    colours = [(round(b.get_y() + b.get_height() / 2), to_hex(b.get_facecolor()))
               for b in bars(axes)]
    assert [c for row, c in colours if row == 0] == [GREY.lower(), GREEN.lower(), RED.lower(),
                                                     GREEN.lower()]
    assert [c for row, c in colours if row == 1] == [GREY.lower()]


def test_figures_are_not_kept_by_pyplot(cloud):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    charts.plot_write_capacity(cloud)
    charts.plot_lambda_metrics(cloud)
    charts.plot_alarm_timeline(cloud)
    assert plt.get_fignums() == before


# -- the Free Tier and the inventory ---------------------------------------------------------------

def test_free_tier_usage_compares_every_measure_with_its_allowance(cloud):
    usage = charts.free_tier_usage(cloud)
    assert list(usage.columns) == charts.USAGE_COLUMNS
    assert usage[["service", "measure"]].values.tolist() == [
        ["Lambda", "requests"], ["Lambda", "compute"], ["DynamoDB", "write capacity"],
        ["DynamoDB", "read capacity"], ["S3", "PUT requests"], ["SNS", "email deliveries"],
        ["CloudWatch", "alarms"]]
    used = dict(zip(usage["measure"], usage["used"]))
    assert used["requests"] == used["PUT requests"] == sum(TRAFFIC)
    assert used["write capacity"] == used["read capacity"] == 5.0
    assert used["email deliveries"] == 3.0  # OK, ALARM, OK; the confirmation is not counted
    assert used["alarms"] == 2.0
    durations = charts.lambda_frame(cloud, minutes=10)
    summed_ms = (durations["Duration avg (ms)"] * durations["Invocations"]).sum()
    assert used["compute"] == pytest.approx(summed_ms / 1000 * 128 / 1024, rel=1e-6)
    assert usage["free_tier"].tolist() == [1_000_000, 400_000, 25, 25, 2_000, 1_000, 10]
    assert usage["percent_used"].tolist() == pytest.approx(
        (100 * usage["used"] / usage["free_tier"]).tolist())
    assert set(usage["offer"]) == {"always free", "first 12 months"}


# -- fresh clouds (each stops the shared one; they run last) ------------------------------

def test_items_frame_needs_the_table(lab_moto):
    with pytest.raises(MissingResource, match="run notebook 02_dynamodb_table first"):
        charts.items_frame(lab_moto)


def test_alarm_timeline_is_empty_without_alarms(lab_moto):
    timeline = charts.alarm_timeline(lab_moto)
    assert timeline.empty and list(timeline.columns) == charts.TIMELINE_COLUMNS


def test_plot_write_capacity_without_traffic_still_draws_the_threshold(lab_moto):
    lab_moto.build_pipeline(quiet=True)
    axes = charts.plot_write_capacity(lab_moto, threshold=10).axes[0]
    assert bars(axes) == [] and axes.get_ylim() == (0.0, 12.5)


def test_free_tier_usage_of_an_empty_account_is_zero(lab_moto):
    usage = charts.free_tier_usage(lab_moto)
    assert usage["used"].tolist() == [0.0] * 7 and usage["percent_used"].tolist() == [0.0] * 7


def test_inventory_counts_the_lab_resources_until_teardown(lab_moto):
    empty = charts.inventory(lab_moto)
    assert list(empty.columns) == charts.INVENTORY_COLUMNS
    assert empty[["service", "resource"]].values.tolist() == [
        ["CloudWatch", "alarms"], ["CloudWatch Logs", "log group"], ["DynamoDB", "table"],
        ["IAM", "role"], ["Lambda", "event source mappings"], ["Lambda", "function"],
        ["S3", "bucket"], ["S3", "object versions"], ["SNS", "subscriptions"], ["SNS", "topic"],
        ["SQS", "queues"]]  # lesson 11's failure queue
    assert empty["count"].tolist() == [0] * 11
    lab_moto.build_pipeline(quiet=True)
    s3.upload(lab_moto, "one.txt", "1")
    s3.upload(lab_moto, "one.txt", "1 again")  # the bucket is not versioned: still one version
    lab_moto.client("sns").create_topic(Name="someone-elses-topic")  # not the lab's: not counted
    built = charts.inventory(lab_moto)
    assert built["count"].tolist() == [2, 1, 1, 1, 0, 1, 1, 1, 1, 1, 0]
    lab_moto.teardown(quiet=True)
    assert charts.inventory(lab_moto)["count"].tolist() == [0] * 11


def test_free_tier_counts_are_whole_numbers_and_compute_a_fraction(lab_moto):
    from lab import s3

    lab_moto.build_pipeline(quiet=True)
    for number in range(3):
        s3.upload(lab_moto, f"counted/{number}.txt", b"x")
    usage = charts.free_tier_usage(lab_moto)
    used = dict(zip(usage["measure"], usage["used"]))
    assert all(type(used[m]) is int for m in used if m != "compute")
    assert isinstance(used["compute"], float)
    shown = usage.round({"percent_used": 2}).astype({"used": int}).to_string()  # as lesson 08 shows it
    assert " 3.0 " not in shown and " 3 " in shown


def test_the_alarm_names_the_same_value_as_the_minutes_sum(lab_moto):
    """AWS: a one-minute period is judged once it is over, so the reason's datapoint is its Sum."""
    from lab import s3, verify

    lab_moto.build_pipeline(quiet=True)
    lab_moto.confirm_email()
    assert charts.alarm_against_chart(lab_moto) is None
    verify.wait_for_minute_room(lab_moto)  # the burst inside one clock minute
    for number in range(12):
        s3.upload(lab_moto, f"burst/{number}.txt", b"x")
    lab_moto.clock.advance(minutes=1)
    found = charts.alarm_against_chart(lab_moto)
    assert found is not None
    assert found["alarm_value"] == found["chart_sum"] == 12.0
