"""Waiting for the pipeline to act: the same calls on the local cloud (instant) and real AWS (polling)."""

from __future__ import annotations

from typing import Any

from lab.aws import pause, wait_until
from lab.connection import Lab
from lab.endpoint import require_functions_run


def pass_time(lab: Lab, **duration: float) -> None:
    """Let time pass: advance the local clock on moto; really wait on AWS (with a progress line).

    Keyword arguments are those of ``datetime.timedelta`` (``minutes=2``).
    """
    import datetime as dt

    if lab.is_local:
        lab.clock.advance(**duration)
        return
    seconds = dt.timedelta(**duration).total_seconds()
    print(f"Waiting {seconds:.0f} s of real time (the local cloud would skip this)…")
    pause(seconds)


def wait_for_items(lab: Lab, keys: list[str], *, timeout: float = 60.0) -> list[dict[str, Any]]:
    """Wait until the table holds an item for every key in ``keys``; returns those items."""
    from lab import dynamodb

    def found() -> list[dict[str, Any]] | None:
        items = [i for i in dynamodb.scan_items(lab) if i.get("objectKey") in keys]
        return items if {i["objectKey"] for i in items} >= set(keys) else None

    require_functions_run(lab, "the items of the uploaded files")
    return wait_until(found, what=f"items for {len(keys)} uploaded key(s)", timeout=timeout,
                      interval=2)


def wait_for_alarm(lab: Lab, name: str, state: str, *, timeout: float = 600.0) -> dict[str, Any]:
    """Wait until alarm ``name`` is in ``state`` (ALARM, OK, INSUFFICIENT_DATA); returns it."""
    from lab import alarms

    def reached() -> dict[str, Any] | None:
        alarm = alarms.get_alarm(lab, name)
        return alarm if alarm and alarm["StateValue"] == state else None

    require_functions_run(lab, f"the writes that move alarm {name}")
    return wait_until(reached, what=f"alarm {name} to be {state}", timeout=timeout, interval=15)


def wait_for_email(lab: Lab, subject_starts: str, *, timeout: float = 60.0) -> dict[str, Any] | None:
    """The newest email whose subject starts with ``subject_starts`` (local inbox only).

    On real AWS the learner's mailbox is the inbox: this prints where to look and returns None.
    """
    if not lab.is_local:
        print(f"Check the mailbox of {lab.names.email} for an email whose subject starts with "
              f"{subject_starts!r}.")
        return None

    def arrived() -> dict[str, Any] | None:
        matching = [m for m in lab.inbox() if m["subject"].startswith(subject_starts)]
        return matching[-1] if matching else None

    return wait_until(arrived, what=f"an email {subject_starts!r}", timeout=timeout)


def wait_for_minute_room(lab: Lab, seconds: float = 20.0) -> None:
    """Make sure at least ``seconds`` remain in the current clock minute (lessons 07 and 08).

    CloudWatch sums datapoints per clock minute: a burst that straddles a minute boundary is split
    in two smaller sums. When less than ``seconds`` remain, let time pass to one second after the
    next minute starts (instantly on the local cloud, real waiting on AWS); else do nothing.
    """
    from lab import charts

    now = charts.now(lab)
    left = 60 - now.second - now.microsecond / 1e6
    if left < seconds:
        pass_time(lab, seconds=left + 1)
