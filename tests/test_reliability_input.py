"""Reliability · bad input: fuzzed S3 keys and malformed records, through the real pipeline on moto."""

from __future__ import annotations

import itertools
import json
import unicodedata

import pytest
from hypothesis import HealthCheck, example, find, given, settings
from hypothesis import strategies as st

from lab import awslambda, logs, mock, reliability, s3

SIZE = reliability.sizes()


def fuzz(examples: int) -> settings:
    """Hypothesis settings for pipeline runs: no deadline (a run's time varies), the given size."""
    return settings(max_examples=examples, deadline=None, suppress_health_check=[
        HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])

SERIALS = itertools.count(1)


@pytest.fixture(scope="module")
def lab():
    """One lab for the module: the pipeline built, the email confirmed."""
    connection = reliability.fresh_lab()
    yield connection
    mock.stop()


@pytest.mark.slow
@fuzz(SIZE["key_examples"])
@given(keys=st.lists(reliability.key_strategy(), min_size=1, max_size=6, unique=True))
@example(keys=["hello world.txt", "a+b=c.csv", "100% sure.txt", "%2B+%20 literal", "dir/sub dir/ü.txt"])
@example(keys=["e\u0301te\u0301.md", "\u00e9t\u00e9.md", "🎉👩‍💻 party.png", "中文/עברית/x"])
@example(keys=[reliability.pad_to_limit("é ü/"), "x" * 1024])
def test_every_fuzzed_key_is_stored_once_byte_equal(lab, keys):
    figures = reliability.upload_keys(lab, keys)
    assert figures == {"keys": len(keys), "longest_bytes": max(len(k.encode()) for k in keys),
                       "stored": len(keys), "lost": 0, "duplicates": 0, "mismatched": 0}


@pytest.mark.parametrize("kind, wanted", [
    ("a space", lambda key: " " in key),
    ("a plus", lambda key: "+" in key),
    ("a percent", lambda key: "%" in key),
    ("a folder", lambda key: "/" in key),
    ("an emoji", lambda key: any(ord(c) > 0xFFFF for c in key)),
    ("a combining mark", lambda key: any(unicodedata.category(c) == "Mn" for c in key)),
    ("exactly 1024 bytes with multi-byte characters",
     lambda key: len(key.encode()) == 1024 and any(ord(c) > 0x7F for c in key)),
])
def test_the_key_strategy_reaches_every_kind_of_awkward_key(kind, wanted):
    found = find(reliability.key_strategy(), wanted, settings=settings(max_examples=2000, database=None))
    assert wanted(found), kind


@settings(max_examples=300, database=None)
@given(key=reliability.key_strategy())
def test_generated_keys_are_valid_s3_keys(key):
    encoded = key.encode("utf-8")  # no surrogates: every key is UTF-8
    assert 0 < len(encoded) <= reliability.S3_KEY_LIMIT
    assert not any(unicodedata.category(c) == "Cc" for c in key)


def testpad_to_limit_never_splits_a_character():
    padded = reliability.pad_to_limit("🎉" * 300)  # 1200 bytes: cut to 256 emoji, no padding
    assert len(padded.encode()) == 1024 and padded == "🎉" * 256
    assert reliability.pad_to_limit("ab") == "ab" + "x" * 1022
    three = reliability.pad_to_limit("中" * 400)  # 3-byte characters: 341 of them, then one x
    assert three == "中" * 341 + "x"


def test_upload_keys_counts_a_duplicate_and_a_loss(lab):
    # The same key uploaded twice is two S3 events, so two items: counted as a duplicate.
    assert reliability.upload_keys(lab, ["twice/same.txt", "twice/same.txt"]) == {
        "keys": 2, "longest_bytes": 14, "stored": 0, "lost": 0, "duplicates": 2, "mismatched": 0}
    # Without the trigger nothing is stored: every key is lost.
    lab.client("s3").put_bucket_notification_configuration(
        Bucket=lab.names.bucket, NotificationConfiguration={})
    try:
        assert reliability.upload_keys(lab, ["untriggered/a.txt", "untriggered/b c.txt"]) == {
            "keys": 2, "longest_bytes": 19, "stored": 0, "lost": 2, "duplicates": 0, "mismatched": 0}
    finally:
        s3.ensure_trigger(lab, quiet=True)


@pytest.mark.slow
@fuzz(SIZE["malformed_examples"])
@given(slots=st.lists(st.one_of(st.none(), reliability.malformed_record_strategy()), min_size=1, max_size=10))
def test_malformed_records_are_logged_with_a_reason_and_good_ones_stored(lab, slots):
    good = sum(1 for slot in slots if slot is None)
    bad = len(slots) - good
    figures = reliability.malformed_batch(lab, slots, serial=next(SERIALS))
    assert figures == {"records": len(slots), "good": good, "malformed": bad, "crashes": 0,
                       "stored": good, "lost": 0, "duplicates": 0, "logged": bad, "unexplained": [],
                       "reported_skipped": bad, "reported_stored": good}


def test_a_skipped_record_is_one_json_warning_line_with_its_reason(lab):
    serial = next(SERIALS)
    good = reliability.good_record(lab, f"explained/{serial}/ok.txt", serial)
    missing_key = reliability.good_record(lab, f"explained/{serial}/bad.txt", serial + 1)
    del missing_key["s3"]["object"]["key"]
    foreign = dict(good, eventSource="aws:sqs")
    answer = awslambda.invoke(lab, {"Records": [good, missing_key, foreign, 42]})
    assert answer["FunctionError"] is None
    assert answer["Result"]["stored"] == 1 and answer["Result"]["skipped"] == 3
    warnings = [json.loads(line) for line in logs.invocation_lines(lab, answer["RequestId"])
                if line.startswith('{"level": "WARNING"')]
    assert warnings == [
        {"level": "WARNING", "message": "skipped record", "reason": "s3.object.key is missing", "index": 1},
        {"level": "WARNING", "message": "skipped record",
         "reason": "eventSource is 'aws:sqs', not 'aws:s3'", "index": 2},
        {"level": "WARNING", "message": "skipped record", "reason": "record is a int, not a JSON object",
         "index": 3},
    ]


def test_malformed_batch_counts_a_crash_and_what_it_lost(lab):
    # A handler that raises (the suite's poison variant) fails the whole batch: figures say so.
    with reliability.function_variant(lab, faults=True):
        figures = reliability.malformed_batch(
            lab, [None, lambda good: dict(good, s3={"bucket": {"name": "b"}, "object": {"key": "poison/x"}})],
            serial=next(SERIALS))
    assert figures["crashes"] == 1 and figures["stored"] == 0 and figures["lost"] == 1


def test_every_mutation_names_a_field_of_a_real_record(lab):
    record = reliability.good_record(lab, "shape.txt", 7)
    for path, _ in reliability.MUTATIONS:
        target = record
        for part in path.split("."):
            assert part in target, path
            target = target[part]


def test_only_keys_moto_misreads_are_left_out_of_the_fuzz():
    misread = ["///" + "x" * 64, "/0//" + "x" * 64, "/a//b"]
    kept = ["/lead", "//x" + "y" * 64, "a//b", "a///" + "x" * 64, "dir/", "/"]
    assert all(reliability.MOTO_MISREAD_KEY.match(key) for key in misread)
    assert not any(reliability.MOTO_MISREAD_KEY.match(key) for key in kept)
