"""Reliability · the figure report: every promise's condition, the headline figures, the exit code."""

from __future__ import annotations

import copy
import sys

import pytest

from lab import cli, reliability, workbook
from lab import reliability_kernels as kernels

GOOD = {
    "keys fuzzed": {"keys": 10, "longest_bytes": 1024, "stored": 10, "lost": 0, "duplicates": 0,
                    "mismatched": 0, "seconds": 1.0},
    "malformed records": {"batches": 2, "records": 8, "good": 3, "malformed": 5, "crashes": 0, "stored": 3,
                          "lost": 0, "duplicates": 0, "logged": 5, "unexplained": 0, "seconds": 1.0},
    "throttled burst": {"objects": 25, "listed": 25, "stored": 24, "in_destination": 1, "lost": 0,
                        "duplicates": 0, "unknown": 0, "uploads": 25, "stored_first_attempt": 12,
                        "throttled_requests": 42, "failed_invocations": 13, "lambda_retries": 12,
                        "sdk_retries_that_succeeded": 3, "redriven": 1, "stored_after_redrive": 25,
                        "lost_after_redrive": 0, "duplicates_after_redrive": 0, "throttle_alarm_emails": 1,
                        "seconds": 2.7},
    "poison files": {"objects": 12, "listed": 12, "stored": 9, "in_destination": 3, "lost": 0,
                     "duplicates": 0, "unknown": 0, "good": 9, "poison": 3, "errors": 9, "invocations": 18,
                     "failed_keys_match": True, "attempts_per_failure": [3],
                     "conditions": ["RetriesExhausted"],
                     "error_types": ["PoisonFile"], "seconds": 0.2},
    "duplicate deliveries": {"objects": 5, "listed": 5, "stored": 5, "in_destination": 0, "lost": 0,
                             "duplicates": 0, "unknown": 0, "events_captured": 5, "deliveries": 15,
                             "redeliveries_answered_duplicate": 10, "redeliveries_stored": 0, "seconds": 0.2},
    "handler timeouts": {"objects": 4, "listed": 4, "stored": 4, "in_destination": 0, "lost": 0,
                         "duplicates": 0, "unknown": 0, "slow": 1, "good": 3, "timeout_lines": 1, "errors": 1,
                         "invocations": 5, "intact_items": 4, "seconds": 1.2},
    "cleanup": {"resources_before": 9, "deleted": 8, "left": 0, "left_by_service": {},
                "second_teardown_deleted": 0, "seconds": 0.1},
    "learner mistakes": {"mistakes": 7, "sentences": 7, "outputs": [], "attempts": 0, "error": None,
                         "seconds": 2.5},
    "notebooks": {"lessons": 10, "kernels": 2, "cells": 366, "failed": 0, "left": 0, "attempts": 0,
                  "errors": [], "seconds": 11.0},
}
IN_PROCESS = [name for name in GOOD if name not in ("learner mistakes", "notebooks")]


def test_every_promise_has_a_condition_and_holds_on_good_figures():
    assert list(reliability.PROMISES) == list(GOOD)
    assert all(reliability.held(name, figures) for name, figures in GOOD.items())


@pytest.mark.parametrize("name, change", [
    ("keys fuzzed", {"lost": 1}), ("keys fuzzed", {"stored": 9, "mismatched": 1}),
    ("malformed records", {"crashes": 1}), ("malformed records", {"logged": 4}),
    ("malformed records", {"stored": 2, "lost": 1}), ("malformed records", {"unexplained": 1}),
    ("throttled burst", {"duplicates": 1}), ("throttled burst", {"throttle_alarm_emails": 0}),
    ("throttled burst", {"lost_after_redrive": 1}), ("throttled burst", {"throttled_requests": 0}),
    ("throttled burst", {"lambda_retries": 13}), ("throttled burst", {"duplicates_after_redrive": 1}),
    ("poison files", {"errors": 8}), ("poison files", {"failed_keys_match": False}),
    ("poison files", {"unknown": 1}), ("poison files", {"attempts_per_failure": [1, 3]}),
    ("poison files", {"stored": 8, "lost": 1}),
    ("duplicate deliveries", {"stored": 4}), ("duplicate deliveries", {"redeliveries_stored": 1}),
    ("duplicate deliveries", {"duplicates": 1}),
    ("handler timeouts", {"timeout_lines": 0}), ("handler timeouts", {"intact_items": 3}),
    ("handler timeouts", {"errors": 2}),
    ("cleanup", {"left": 1}), ("cleanup", {"second_teardown_deleted": 1}), ("cleanup", {"deleted": 0}),
    ("learner mistakes", {"sentences": 6}), ("learner mistakes", {"attempts": 1}),
    ("notebooks", {"failed": 1}), ("notebooks", {"attempts": 1}), ("notebooks", {"left": 2}),
    ("notebooks", {"lessons": 0}),
])
def test_any_loss_duplicate_leftover_or_broken_promise_fails(name, change):
    assert not reliability.held(name, {**GOOD[name], **change})


def test_the_report_prints_each_scenario_and_the_headline_figures():
    text, ok = reliability.report(GOOD, 0)
    assert ok
    lines = text.splitlines()
    assert lines[0] == ("✓ keys fuzzed           10 keys, longest 1024 bytes  →  "
                        "10 stored once, byte-equal  (1.0 s)")
    assert all(line.startswith("✓ ") for line in lines[:len(GOOD)])
    assert lines[len(GOOD):] == [
        "",
        "  keys fuzzed                         10",
        "  malformed records                    5",
        "  faults injected                     56",  # 42 throttled + 3 poison + 10 redeliveries + 1 timeout
        "  objects reconciled                  46",  # 25 + 12 + 5 + 4
        "  lost                                 0",
        "  duplicates                           0",
        "  resources left after teardown        0",
        "  network connections attempted        0",
    ]


def test_the_report_fails_on_a_connection_attempt_or_a_loss():
    assert reliability.report(GOOD, 1)[1] is False
    lost = copy.deepcopy(GOOD)
    lost["throttled burst"]["lost_after_redrive"] = 1
    text, ok = reliability.report(lost, 0)
    assert not ok
    assert "✗ throttled burst" in text and "  lost                                 1" in text


@pytest.fixture
def scenarios(monkeypatch):
    """main() with the scenarios replaced by recorded figures (the scenarios have their own tests)."""
    results = {name: dict(GOOD[name]) for name in IN_PROCESS}
    monkeypatch.delenv("EVENTLAB_FULL", raising=False)
    monkeypatch.setattr(reliability, "run_all", lambda size: results)
    monkeypatch.setattr(kernels, "learner_mistakes", lambda: dict(GOOD["learner mistakes"]))
    monkeypatch.setattr(workbook, "lessons", lambda: ["00_a", "01_b"])
    monkeypatch.setattr(kernels, "run_kernels", lambda groups: [
        {"cells": 10, "error": None, "left": 0, "attempts": [], "seconds": 1.0} for _ in groups])
    return results


def test_eventlab_reliability_prints_the_figures_and_exits_0_when_every_promise_held(scenarios, capsys):
    assert cli.main(["reliability"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Reliability figures, CI sample sizes (EVENTLAB_FULL=1 for the full sizes)\n")
    assert "✓ notebooks             2 lessons, each twice in a row, 2 fresh kernels" in out
    assert "  resources left after teardown        0" in out
    assert out.splitlines()[-1].startswith("✓ every promise held (")


def test_eventlab_reliability_exits_1_on_a_duplicate(scenarios, capsys):
    scenarios["poison files"]["duplicates"] = 1
    assert reliability.main() == 1
    out = capsys.readouterr().out
    assert "✗ poison files" in out and "  duplicates                           1" in out
    assert out.splitlines()[-1].startswith("✗ a promise did not hold (")


def test_eventlab_reliability_without_the_test_tools_says_how_to_get_them(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "hypothesis", None)
    assert reliability.main() == 2
    assert capsys.readouterr().out == ("✗ The reliability report needs the test tools: "
                                       "pip install -e '.[dev]' (or make setup).\n")


def test_sizes_come_from_eventlab_full(monkeypatch):
    monkeypatch.delenv("EVENTLAB_FULL", raising=False)
    assert reliability.sizes() == reliability.SAMPLE
    monkeypatch.setenv("EVENTLAB_FULL", "1")
    assert reliability.sizes() == reliability.FULL
    monkeypatch.setenv("EVENTLAB_FULL", "yes")
    assert reliability.sizes() == reliability.SAMPLE
    assert all(reliability.FULL[k] >= reliability.SAMPLE[k] for k in reliability.SAMPLE)
