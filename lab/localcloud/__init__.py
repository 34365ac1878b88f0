"""The local cloud: what moto does not do itself, so the pipeline *happens* offline.

Loaded only by the moto backend (``lab.mock``). One module per behaviour: ``runtime`` (run the
deployed Lambda zip in-process), ``events`` (complete S3 event records, notification checks),
``capacity`` (DynamoDB item sizes, WCU, throttling, metrics), ``alarms`` (evaluate CloudWatch
alarms, notify SNS), ``mail`` (SNS email confirmation and inboxes), ``ttl`` (expire items) and
``clock`` (the time everything follows, moto's own stamps included), ``consistency`` (AWS's
delays: Pending functions, updates in progress, IAM and permission propagation, late logs).
``hooks`` is the one place moto is patched.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from lab.errors import LabError
from lab.localcloud import hooks
from lab.localcloud.clock import Clock

BEHAVIOURS = ("clock", "metrics", "runtime", "events", "capacity", "alarms", "mail", "ttl",
              "ownership", "policies", "consistency")


class LocalCloud:
    """State of the local cloud for one moto mock: the clock, the mailroom, metric listeners."""

    def __init__(self, *, account_id: str, region: str) -> None:
        self.account_id = account_id
        self.region = region
        self.clock = Clock()
        self.metric_listeners: list[Callable[..., Any]] = []
        self.modules: dict[str, Any] = {}
        self.state: dict[str, Any] = {}  # per-behaviour state, keyed by module name

    def inbox(self, address: str | None = None) -> list[dict[str, Any]]:
        """Emails delivered to confirmed email subscriptions (one address or all), oldest first."""
        return self.modules["mail"].inbox(self, address)

    def confirm_email(self, address: str) -> list[str]:
        """Confirm pending email subscriptions of ``address``; returns the confirmed ARNs."""
        return self.modules["mail"].confirm_email(self, address)


_current: LocalCloud | None = None


def install(*, account_id: str, region: str) -> LocalCloud:
    """Patch moto with every behaviour (once per mock) and return the local cloud."""
    global _current
    if _current is not None:
        return _current
    cloud = LocalCloud(account_id=account_id, region=region)
    try:
        for name in BEHAVIOURS:
            module = importlib.import_module(f"lab.localcloud.{name}")
            module.install(cloud)
            cloud.modules[name] = module
    except Exception:
        hooks.restore_all()
        raise
    _current = cloud
    return cloud


def uninstall() -> None:
    """Restore moto as it was, let each behaviour clean up (``uninstall(cloud)``), forget the state."""
    global _current
    hooks.restore_all()
    if _current is not None:
        for module in _current.modules.values():
            cleanup = getattr(module, "uninstall", None)
            if cleanup is not None:
                cleanup(_current)
    _current = None


def current() -> LocalCloud:
    """The installed local cloud (the moto backend installs it in ``lab.connect()``)."""
    if _current is None:
        raise LabError("The local cloud is not running: call lab.connect() on the moto backend first.")
    return _current
