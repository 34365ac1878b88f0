"""Where handlers run: the caller's thread for the outermost run, environment threads for nested
runs, and the watchdog that stops either at its timeout."""

from __future__ import annotations

import io
import json
import os
import re
import sys
import threading
import time
import zipfile
from typing import Any

import pytest

from lab import localcloud
from lab.localcloud.runtime.watchdog import Watchdog, absorb
from lab.localcloud.runtime.workers import MAX_IDLE, WorkerPool


@pytest.fixture(autouse=True)
def _instant_cloud(monkeypatch):
    """About the runtime's threads, not AWS's delays (test_eventual_consistency.py): instant cloud."""
    monkeypatch.setenv("EVENTLAB_DELAYS", "off")


SOURCE = '''
import json, threading, time
import boto3


def handler(event, context):
    mode = event.get("mode")
    if mode == "outer":  # two synchronous invokes of "inner" from inside this run
        client = boto3.client("lambda")
        inner = [json.loads(client.invoke(FunctionName="inner", Payload=b"{}")["Payload"].read())
                 for _ in range(2)]
        return {"thread": threading.get_ident(), "inner": inner}
    if mode == "sleep":
        time.sleep(event["seconds"])
        return "woke up"
    if mode == "stubborn":  # swallows the first stop, not the second; gives up after 5 s
        end, swallowed = time.monotonic() + 5, 0
        while time.monotonic() < end:
            try:
                while time.monotonic() < end:
                    pass
            except BaseException:
                swallowed += 1
                if swallowed > 1:
                    raise
        return "survived"
    if mode == "interrupt":
        raise KeyboardInterrupt
    return {"thread": threading.get_ident()}
'''
# AWS since 2025: the caller gets {"errorType": "Sandbox.Timedout", "errorMessage": "RequestId: … Error: …"}.
TIMED_OUT = re.compile(r"RequestId: [0-9a-f-]{36} Error: Task timed out after 1\.00 seconds")


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("lambda_function.py", SOURCE)
    return buffer.getvalue()


def _deploy(lab: Any, *names: str, timeout: int = 3) -> None:
    role = lab.client("iam").create_role(RoleName="threads-role", AssumeRolePolicyDocument="{}")
    for name in names:
        lab.client("lambda").create_function(
            FunctionName=name, Runtime="python3.12", Role=role["Role"]["Arn"],
            Handler="lambda_function.handler", Code={"ZipFile": _zip()}, Timeout=timeout)


def _invoke(lab: Any, name: str, payload: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    response = lab.client("lambda").invoke(FunctionName=name, Payload=json.dumps(payload))
    return response, json.loads(response["Payload"].read())


def _no_stop_lands_later() -> None:
    """Python code after a run: a stop exception still pending or fired again would land here."""
    deadline = time.monotonic() + 0.3
    while time.monotonic() < deadline:
        sum(range(100))


def _process_is_restored(before: dict[str, str], real_sleep: Any, real_time: Any) -> None:
    assert dict(os.environ) == before
    assert time.sleep is real_sleep and time.time is real_time
    state = localcloud.current().state["runtime"]
    assert state.sandboxes == [] and state.routes == {}


# -- where runs execute -----------------------------------------------------------------------

def test_the_outermost_run_is_on_the_callers_thread_and_nested_runs_reuse_a_thread(lab_moto: Any):
    _deploy(lab_moto, "outer", "inner")
    _, result = _invoke(lab_moto, "outer", {"mode": "outer"})
    assert result["thread"] == threading.get_ident()
    first, second = (run["thread"] for run in result["inner"])
    assert first == second != threading.get_ident()  # the warm environment kept its thread
    _, again = _invoke(lab_moto, "outer", {"mode": "outer"})
    assert {run["thread"] for run in again["inner"]} == {first}


def test_a_sleeping_handler_is_stopped_at_its_timeout_and_leaves_nothing_behind(lab_moto: Any):
    _deploy(lab_moto, "fn", timeout=1)
    before, real_sleep, real_time = dict(os.environ), time.sleep, time.time
    started = time.perf_counter()
    response, error = _invoke(lab_moto, "fn", {"mode": "sleep", "seconds": 30})
    assert 0.9 < time.perf_counter() - started < 3  # not 30 s: the sleep woke at the deadline
    assert response["FunctionError"] == "Unhandled" and TIMED_OUT.fullmatch(error["errorMessage"])
    _no_stop_lands_later()
    _process_is_restored(before, real_sleep, real_time)
    _, result = _invoke(lab_moto, "fn", {})  # a cold start on the caller's thread, which is fine
    assert result == {"thread": threading.get_ident()}


def test_a_handler_that_swallows_the_stop_gets_it_again(lab_moto: Any):
    _deploy(lab_moto, "fn", timeout=1)
    started = time.perf_counter()
    response, error = _invoke(lab_moto, "fn", {"mode": "stubborn"})
    assert 0.9 < time.perf_counter() - started < 3
    assert TIMED_OUT.fullmatch(error["errorMessage"])
    _no_stop_lands_later()


def test_a_nested_run_outlives_its_stopped_caller_on_its_own_thread(lab_moto: Any):
    _deploy(lab_moto, "outer", timeout=1)
    _deploy_inner_sleeper(lab_moto)
    started = time.perf_counter()
    _, error = _invoke(lab_moto, "outer", {"mode": "outer"})
    assert TIMED_OUT.fullmatch(error["errorMessage"])
    assert 0.9 < time.perf_counter() - started < 1.6  # the caller did not wait for "inner"
    _no_stop_lands_later()


def _deploy_inner_sleeper(lab: Any) -> None:
    """An "inner" function that sleeps 2 s whatever it is asked (timeout 3 s)."""
    source = SOURCE.replace('mode = event.get("mode")', 'mode, event = "sleep", {"seconds": 2}')
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("lambda_function.py", source)
    role = lab.client("iam").get_role(RoleName="threads-role")["Role"]["Arn"]
    lab.client("lambda").create_function(
        FunctionName="inner", Runtime="python3.12", Role=role, Timeout=3,
        Handler="lambda_function.handler", Code={"ZipFile": buffer.getvalue()})


def test_keyboard_interrupt_in_a_handler_stops_the_caller_and_restores_the_process(lab_moto: Any):
    _deploy(lab_moto, "fn")
    before, real_sleep, real_time = dict(os.environ), time.sleep, time.time
    stdout = sys.stdout
    with pytest.raises(KeyboardInterrupt):
        lab_moto.client("lambda").invoke(FunctionName="fn", Payload=json.dumps({"mode": "interrupt"}))
    _process_is_restored(before, real_sleep, real_time)
    assert sys.stdout is stdout
    _, result = _invoke(lab_moto, "fn", {})
    assert result == {"thread": threading.get_ident()}


# -- the watchdog and the worker threads on their own ------------------------------------------

class Stop(BaseException):
    """The exception these tests ask the watchdog to raise."""


def test_the_watchdog_stops_a_busy_loop_at_its_deadline_and_fires_no_more_once_released():
    watchdog = Watchdog()
    try:
        watch = watchdog.watch(time.monotonic() + 0.2, Stop)
        started = time.monotonic()
        with pytest.raises(Stop):
            while True:
                pass
        assert 0.15 < time.monotonic() - started < 1.0
        assert watchdog.release(watch) is True
        absorb(Stop)
        _no_stop_lands_later()
        assert watchdog.current(threading.get_ident()) is None
    finally:
        watchdog.close()


def test_a_watch_released_in_time_never_fires():
    watchdog = Watchdog()
    try:
        watch = watchdog.watch(time.monotonic() + 0.1, Stop)
        assert watchdog.current(threading.get_ident()) is watch
        assert watchdog.release(watch) is False
        _no_stop_lands_later()  # past the deadline: nothing lands
        assert not watch.fired.is_set()
    finally:
        watchdog.close()


def test_worker_pool_reuses_idle_threads_keeps_at_most_max_idle_and_abandons_late_ones():
    pool = WorkerPool("test")
    done = threading.Semaphore(0)
    seen: list[int] = []

    def record() -> None:
        seen.append(threading.get_ident())
        done.release()

    first = pool.run(record)
    done.acquire()
    _until(lambda: pool.idle_count() == 1)
    second = pool.run(record)
    done.acquire()
    assert first is second and seen[0] == seen[1] != threading.get_ident()

    release = threading.Event()
    busy = [pool.run(lambda: (release.wait(5), done.release())) for _ in range(MAX_IDLE + 2)]
    late = busy[0]
    assert pool.abandon(late) is True
    release.set()
    for _ in busy:
        done.acquire()
    _until(lambda: pool.idle_count() == MAX_IDLE)
    assert not late.thread.is_alive() or late.abandoned
    _until(lambda: not late.thread.is_alive())
    assert pool.abandon(first) is False  # idle: nothing to abandon
    pool.close()
    _until(lambda: pool.idle_count() == 0 and not first.thread.is_alive())


def _until(condition: Any, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


# -- the environment a run leaves behind -------------------------------------------------------

def _change_everything() -> None:
    os.environ["EVENTLAB_TEST_CHANGED"] = "changed"
    del os.environ["EVENTLAB_TEST_DELETED"]
    os.environ["EVENTLAB_TEST_ADDED"] = "new"


def test_environ_snapshot_puts_back_changed_deleted_and_added_variables(
        monkeypatch: pytest.MonkeyPatch):
    from lab.localcloud.runtime.sandbox import EnvironSnapshot

    monkeypatch.setenv("EVENTLAB_TEST_CHANGED", "before")
    monkeypatch.setenv("EVENTLAB_TEST_DELETED", "kept")
    monkeypatch.delenv("EVENTLAB_TEST_ADDED", raising=False)
    before = dict(os.environ)
    snapshot = EnvironSnapshot()
    _change_everything()
    snapshot.restore()
    assert dict(os.environ) == before
    assert os.getenv("EVENTLAB_TEST_CHANGED") == "before"  # the process environment follows
    snapshot.restore()  # nothing differs: nothing to do
    assert dict(os.environ) == before


def test_environ_snapshot_works_where_os_environ_keeps_no_encoded_data(
        monkeypatch: pytest.MonkeyPatch):
    from lab.localcloud.runtime.sandbox import EnvironSnapshot

    plain = {"EVENTLAB_TEST_CHANGED": "before", "EVENTLAB_TEST_DELETED": "kept", "PATH": "/bin"}
    monkeypatch.setattr(os, "environ", dict(plain))
    snapshot = EnvironSnapshot()
    _change_everything()
    snapshot.restore()
    assert os.environ == plain
