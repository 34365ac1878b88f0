"""The local clock: real time plus an offset; due tasks run in order, each at its own time."""

from __future__ import annotations

import datetime as dt

import pytest

from lab.localcloud.clock import Clock


def test_now_follows_real_time_plus_the_offset():
    clock = Clock()
    before = dt.datetime.now(dt.timezone.utc)
    moved = clock.advance(hours=49)
    assert clock.offset == dt.timedelta(hours=49)
    assert dt.timedelta(hours=49) <= moved - before < dt.timedelta(hours=49, seconds=5)
    assert abs(clock.time() - clock.now().timestamp()) < 1


def test_the_clock_only_moves_forward():
    with pytest.raises(ValueError, match="only moves forward"):
        Clock().advance(minutes=-1)


def test_a_task_runs_at_its_own_time_and_its_follow_up_within_the_same_advance():
    clock = Clock()
    start = clock.now()
    seen: list[tuple[str, dt.timedelta]] = []

    def retry(name: str, then: dt.timedelta | None) -> None:
        seen.append((name, clock.now() - start))
        if then is not None:
            clock.call_later(then, lambda: retry("second", None))

    clock.call_later(dt.timedelta(minutes=1), lambda: retry("first", dt.timedelta(minutes=2)))
    clock.advance(minutes=3, seconds=1)
    assert [name for name, _ in seen] == ["first", "second"]
    assert dt.timedelta(minutes=1) <= seen[0][1] < dt.timedelta(minutes=1, seconds=1)
    assert dt.timedelta(minutes=3) <= seen[1][1] < dt.timedelta(minutes=3, seconds=1)
    assert clock.now() - start >= dt.timedelta(minutes=3, seconds=1)
    assert clock.pending() == 0


def test_tasks_not_yet_due_wait_and_tickers_run_after_each_advance():
    clock = Clock()
    ran: list[str] = []
    ticks: list[dt.datetime] = []
    clock.call_later(dt.timedelta(minutes=10), lambda: ran.append("late"))
    clock.on_tick(ticks.append)
    clock.advance(minutes=5)
    assert ran == [] and clock.pending() == 1 and len(ticks) == 1
    clock.advance(minutes=5)
    assert ran == ["late"] and len(ticks) == 2
