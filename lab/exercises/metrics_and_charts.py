"""Exercises of lesson 08 · Metrics and charts: a per-minute frame, and the Free Tier table."""

from __future__ import annotations

import numbers
from typing import Any

from lab.checks import Exercise, Wrong

BUSIEST_MINUTE_WCU = 12  # the lesson's traffic: 3, 6, 12, 2, 0 and 4 uploads of 1 WCU each
TRAFFIC_TOTAL = 27


def _busiest_minute(answer: Any) -> str:
    """Pass for 12: the largest per-minute Sum of consumed WCU in the lesson's traffic."""
    if hasattr(answer, "columns") or hasattr(answer, "index"):
        raise Wrong("that is a whole column or table; reduce it to one number, e.g. with .max().")
    if isinstance(answer, bool) or not isinstance(answer, numbers.Real):
        raise Wrong("give one number, e.g. answer = wcu[\"ConsumedWriteCapacityUnits\"].max().")
    if answer != answer:  # NaN
        raise Wrong("that is NaN, a minute without a datapoint: take the largest value instead.")
    if answer == TRAFFIC_TOTAL:
        raise Wrong(f"{TRAFFIC_TOTAL} is the total over every minute (.sum()); the question asks "
                    "for the busiest single minute.")
    if answer != BUSIEST_MINUTE_WCU:
        raise Wrong(f"no: {answer:g} is not the largest value in the ConsumedWriteCapacityUnits "
                    "column. Which pandas method returns the largest value of a Series?")
    return ("12.0 WCU: the burst minute, the only bar above the alarm's threshold of 10 — "
            "Series.max() skips the NaN minutes for you.")


def _within_free_tier(usage: Any) -> str:
    """Pass when every measure of ``charts.free_tier_usage(cloud)`` is under 100 %."""
    columns = {"service", "measure", "percent_used"}
    if not hasattr(usage, "columns") or not columns <= set(usage.columns):
        raise Wrong("pass the DataFrame from charts.free_tier_usage(cloud), e.g. "
                    "ex.free_tier.check(usage).")
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
    hints=("usage = charts.free_tier_usage(cloud) makes the table; pass it to the check.",
           "A row at 100 % or more of its allowance would be billed."),
    solution_text="usage = charts.free_tier_usage(cloud)\nex.free_tier.check(usage)",
)
