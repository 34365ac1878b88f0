"""Shared fixtures: a fresh moto backend (with the local cloud) per test."""

from __future__ import annotations

import pytest

import lab
from lab import mock


@pytest.fixture
def lab_moto() -> lab.Lab:
    """A connection to a brand-new moto mock with the local cloud installed; stopped afterwards."""
    mock.stop()
    connection = lab.connect("moto", quiet=True)
    yield connection
    mock.stop()
