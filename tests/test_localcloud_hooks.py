"""The local cloud's hook points: every one resolves on the pinned moto, is patched, and is restored."""

from __future__ import annotations

import importlib

import pytest

from lab import localcloud, mock
from lab.localcloud import hooks


def _all_hook_points() -> list[tuple[str, str]]:
    points = []
    for name in localcloud.BEHAVIOURS:
        module = importlib.import_module(f"lab.localcloud.{name}")
        points.extend((name, point) for point in module.HOOK_POINTS)
    return points


def test_every_behaviour_declares_hook_points():
    by_behaviour = {name for name, _ in _all_hook_points()}
    assert by_behaviour == set(localcloud.BEHAVIOURS)


def test_the_points_that_put_moto_on_the_local_clock_and_aws_rules_are_declared():
    # Issue 12: every time moto stamps itself follows the one clock; S3 answers with its own
    # request ids; a stream mapping polls after a request; a metric query matches dimensions
    # exactly. Each is a hook point resolved (and patched) by the tests below.
    declared = set(_all_hook_points())
    for owner, point in [
        ("clock", "moto.s3.models:utcnow"), ("clock", "moto.logs.models:utcnow"),
        ("clock", "moto.sns.models:iso_8601_datetime_with_milliseconds"),
        ("events", "moto.s3.responses:S3Response.key_response"),
        ("events", "moto.s3.responses:S3Response.bucket_response"),
        ("runtime", "moto.dynamodb.responses:DynamoHandler.call_action"),
        ("metrics", "moto.cloudwatch.models:CloudWatchBackend.get_metric_statistics"),
    ]:
        assert (owner, point) in declared, point


@pytest.mark.parametrize("behaviour,point", _all_hook_points(), ids=lambda v: str(v))
def test_hook_point_exists_in_this_moto(behaviour, point):
    owner, attribute, value = hooks.resolve(point)
    assert value is not None, f"{behaviour}: {point}"


def test_install_patches_every_point_and_uninstall_restores_moto():
    mock.stop()
    originals = {point: hooks.resolve(point)[2] for _, point in _all_hook_points()}
    try:
        import lab

        lab.connect("moto")
        for _, point in _all_hook_points():
            assert hooks.is_patched(point), point
            assert hooks.original(point) is originals[point]
    finally:
        mock.stop()
    for point, value in originals.items():
        assert hooks.resolve(point)[2] is value, f"{point} was not restored"


def test_suspended_runs_a_block_on_plain_moto_and_puts_the_hooks_back():
    mock.stop()
    originals = {point: hooks.resolve(point)[2] for _, point in _all_hook_points()}
    try:
        import lab

        lab.connect("moto")
        patched = {point: hooks.resolve(point)[2] for point in originals}
        with pytest.raises(RuntimeError, match="inside"):
            with hooks.suspended():
                for point, value in originals.items():
                    assert hooks.resolve(point)[2] is value, point
                raise RuntimeError("an error inside the block")
        for point, value in patched.items():
            assert hooks.resolve(point)[2] is value, f"{point} was not patched again"
            assert value is not originals[point]
    finally:
        mock.stop()


def test_a_moved_hook_point_fails_loudly():
    with pytest.raises(hooks.HookPointMissing, match=r"moto \d+\.\d+\.\d+ has no moto.s3.models:S3Backend.gone"):
        hooks.resolve("moto.s3.models:S3Backend.gone")
    with pytest.raises(hooks.HookPointMissing, match="pinned in pyproject.toml"):
        hooks.patch("moto.nonexistent_module:thing", lambda: None)


def test_backend_lookup_is_moto_own_backend_and_follows_a_reset():
    from moto.cloudwatch.models import cloudwatch_backends
    from moto.logs.models import logs_backends

    mock.stop()
    try:
        import lab

        cloud = lab.connect("moto", quiet=True)
        account, region = cloud.account_id, cloud.region
        unused = "ap-southeast-2" if region != "ap-southeast-2" else "eu-west-1"
        created = hooks.backend(cloudwatch_backends, account, unused)  # moto creates it
        assert created is cloudwatch_backends[account][unused]
        assert hooks.backend(cloudwatch_backends, account, unused) is created
        assert hooks.backend(logs_backends, account, region) is logs_backends[account][region]
        other = hooks.backend(cloudwatch_backends, "111122223333", region)
        assert other is cloudwatch_backends["111122223333"][region]
        first = hooks.backend(cloudwatch_backends, account, region)
        assert first is cloudwatch_backends[account][region] and first is not other
        cloud.client("cloudwatch").put_metric_alarm(
            AlarmName="before-the-reset", Namespace="Lab", MetricName="M", Statistic="Sum",
            Period=60, EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")
        assert list(first.alarms) == ["before-the-reset"]
        mock.stop()
        lab.connect("moto", quiet=True)  # a new mock: moto's backends are new objects
        fresh = hooks.backend(cloudwatch_backends, account, region)
        assert fresh is cloudwatch_backends[account][region]
        assert fresh is not first and fresh.alarms == {}
    finally:
        mock.stop()
