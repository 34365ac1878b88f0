"""The one place the local cloud patches moto: named hook points, patched and restored together.

Each behaviour module lists the moto attributes it replaces as ``HOOK_POINTS`` (strings like
``"moto.awslambda.models:LambdaFunction.invoke"``) and patches them only through :func:`patch`.
``tests/test_localcloud_hooks.py`` resolves every listed point, so a moto upgrade that moves one
fails loudly instead of silently turning a behaviour off.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from lab.errors import LabError


class HookPointMissing(LabError):
    """A moto attribute the local cloud replaces is not where this version of the lab expects."""


_originals: list[tuple[Any, str, Any]] = []


def resolve(point: str) -> tuple[Any, str, Any]:
    """Return ``(owner, attribute, current value)`` for ``"module:Owner.attr"``."""
    module_name, _, path = point.partition(":")
    try:
        owner: Any = importlib.import_module(module_name)
        *parents, attribute = path.split(".")
        for parent in parents:
            owner = getattr(owner, parent)
        return owner, attribute, getattr(owner, attribute)
    except (ImportError, AttributeError) as error:
        import moto

        raise HookPointMissing(
            f"moto {moto.__version__} has no {point} ({error}); the local cloud supports the "
            "moto versions pinned in pyproject.toml."
        ) from None


def original(point: str) -> Any:
    """The unpatched value of a hook point (what moto itself would run)."""
    owner, attribute, value = resolve(point)
    for patched_owner, patched_attribute, saved in _originals:
        if patched_owner is owner and patched_attribute == attribute:
            return saved
    return value


def patch(point: str, replacement: Callable[..., Any] | Any) -> Any:
    """Replace a hook point; returns moto's original so the replacement can delegate to it."""
    owner, attribute, value = resolve(point)
    saved = original(point)
    if value is saved:
        _originals.append((owner, attribute, value))
    setattr(owner, attribute, replacement)
    return saved


def restore_all() -> None:
    """Put every patched attribute back, newest first."""
    while _originals:
        owner, attribute, value = _originals.pop()
        setattr(owner, attribute, value)


def is_patched(point: str) -> bool:
    """True while ``point`` is replaced by the local cloud."""
    owner, attribute, _ = resolve(point)
    return any(o is owner and a == attribute for o, a, _ in _originals)


@contextmanager
def suspended() -> Iterator[None]:
    """Run a block on plain moto: every hook point holds moto's original until the block ends.

    For measuring the local cloud against moto itself in one process (``bench/``); the local
    cloud's state is untouched and its replacements come back afterwards, even on an error.
    """
    replacements = [(owner, attribute, getattr(owner, attribute))
                    for owner, attribute, _ in _originals]
    for owner, attribute, value in reversed(_originals):
        setattr(owner, attribute, value)
    try:
        yield
    finally:
        for owner, attribute, value in replacements:
            setattr(owner, attribute, value)


def backend(backends: Any, account_id: str, region: str) -> Any:
    """moto's backend of one account and region, e.g. ``backend(cloudwatch_backends, acct, region)``.

    The same object as ``backends[account_id][region]``, without the bookkeeping moto does on every
    such lookup (it scans all its registered services, about 9 µs), which the local cloud would pay
    several times per upload. A backend moto has not created yet comes from moto's own lookup.
    """
    accounts = dict.get(backends, account_id)
    if accounts is not None:
        found = dict.get(accounts, region)
        if found is not None:
            return found
    return backends[account_id][region]
