"""Exercises of lesson 08 · Metrics and charts: the busiest minute, and the Free Tier table."""

from __future__ import annotations

import datetime as dt
import math
import numbers
from typing import Any

from lab.checks import Exercise, Wrong, require_connection

WINDOW_MINUTES = 10  # the lesson's frames and charts cover the last ten minutes
WCU = "ConsumedWriteCapacityUnits"


def _wcu_column(cloud: Any) -> Any:
    """The table's consumed WCU per minute over the lesson's window, as the exercise cell has it."""
    from lab import charts

    return charts.metric_frame(cloud, "AWS/DynamoDB", WCU, {"TableName": cloud.names.table},
                               minutes=WINDOW_MINUTES)[WCU]


def _threshold(cloud: Any) -> float:
    from lab import alarms

    alarm = alarms.get_alarm(cloud, cloud.names.activity_alarm)
    return float(alarm["Threshold"]) if alarm else alarms.ACTIVITY_THRESHOLD


def _same(answer: float, value: float) -> bool:
    return math.isclose(float(answer), float(value), rel_tol=1e-9, abs_tol=1e-9)


def _busiest_minute(answer: Any, cloud: Any) -> str:
    """Pass when ``answer`` is the largest per-minute Sum of consumed WCU in the window found."""
    cloud = require_connection(cloud, example="ex.q1.check(answer, cloud)")
    column = _wcu_column(cloud)
    present = column.dropna()
    if present.empty:
        raise Wrong(f"{cloud.names.table} has no {WCU} datapoint in the last {WINDOW_MINUTES} "
                    "minutes: run the traffic cell at the top of the lesson, then this cell again.")
    import pandas as pd

    if isinstance(answer, (dt.datetime, dt.date)):
        raise Wrong("that is the minute of the busiest value (.idxmax()); the question asks for "
                    "the value itself.")
    if isinstance(answer, pd.DataFrame):
        raise Wrong(f"that is a whole table; take its column wcu[\"{WCU}\"] and reduce it to one "
                    "number.")
    if isinstance(answer, pd.Series):
        raise Wrong("that is a Series, not one number (wcu.max() gives one value per column): "
                    f"reduce the column itself, wcu[\"{WCU}\"].")
    if isinstance(answer, bool) or not isinstance(answer, numbers.Real):
        raise Wrong(f"give one number, e.g. answer = wcu[\"{WCU}\"].min(); you gave {answer!r}.")
    if answer != answer:  # NaN
        raise Wrong("that is NaN, a minute without a datapoint: take the largest value instead.")
    busiest, minute, threshold = present.max(), present.idxmax(), _threshold(cloud)
    if _same(answer, busiest):
        above = (f"above the alarm's threshold of {threshold:g}: its bar is the red one"
                 if busiest > threshold else f"not above the alarm's threshold of {threshold:g}")
        return (f"{busiest:g} WCU, in the minute {minute:%H:%M} UTC — {above}. Series.max() "
                "skips the NaN minutes for you.")
    wrong = [
        (present.sum(), f"{answer:g} is the total over every minute (.sum()); the question asks "
                        "for the busiest single minute."),
        (len(column), f"{answer:g} is the number of rows of wcu (len), one per minute; the "
                      "question asks for a value of the column."),
        (present.count(), f"{answer:g} is how many minutes have a datapoint (.count()); the "
                          "question asks for the largest value."),
        (present.mean(), f"{answer:g} is the average of the minutes with data (.mean()); the "
                         "question asks for the largest value."),
        (present.min(), f"{answer:g} is the quietest minute with data (.min()); the question asks "
                        "for the busiest."),
        (threshold, f"{answer:g} is the alarm's threshold, not a value from the data."),
    ]
    for value, sentence in wrong:
        if _same(answer, value):
            raise Wrong(sentence)
    raise Wrong(f"{answer:g} is not the largest value in the {WCU} column. Which pandas method "
                "returns the largest value of a Series?")


def _within_free_tier(value: Any) -> str:
    """Pass when every measure of the Free Tier table (made from ``cloud``) is under 100 %."""
    from lab import charts
    from lab.connection import Lab

    if isinstance(value, Lab):
        usage = charts.free_tier_usage(value)
    elif hasattr(value, "columns") and {"service", "measure", "percent_used"} <= set(value.columns):
        usage = value
    else:
        raise Wrong("pass the connection made by connect(), e.g. ex.free_tier.check(cloud).")
    if usage.empty:
        raise Wrong("the table is empty: run charts.free_tier_usage(cloud) again.")
    over = usage[usage["percent_used"] >= 100]
    if not over.empty:
        row = over.iloc[0]
        raise Wrong(f"{row['service']} {row['measure']} is at {row['percent_used']:.0f} % of the "
                    "Free Tier: beyond 100 % it is billed. Run 09_cleanup when you are done.")
    top = usage.sort_values("percent_used", ascending=False, kind="stable").iloc[0]
    return (f"every measure is within the Free Tier; the closest to its limit is "
            f"{top['service']} {top['measure']} at {top['percent_used']:.0f} %.")


q1 = Exercise(
    title="The busiest minute",
    test=_busiest_minute,
    hints=("The frame `wcu` has one row per minute and one column, ConsumedWriteCapacityUnits.",
           "A pandas Series has .max(), .sum() and .idxmax(); which one gives the busiest value?"),
    solution_text='answer = wcu["ConsumedWriteCapacityUnits"].max()',
)

free_tier = Exercise(
    title="Within the Free Tier",
    test=_within_free_tier,
    hints=("The check builds the table with charts.free_tier_usage(cloud) and reads every row.",
           "A row at 100 % or more of its allowance would be billed: lower what it measures (or "
           "run 09_cleanup)."),
    solution_text="Nothing to write: a row at 100 % or more means that the lab uses too much of "
                  "it. Lower it (e.g. the table's provisioned capacity) or run 09_cleanup.",
)
