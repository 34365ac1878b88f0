"""Shared fixtures: a fresh moto backend (with the local cloud) per test."""

from __future__ import annotations

import os
import subprocess
import sys

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


# A bare moto server (what `EVENTLAB_BACKEND=http://…` talks to), in its own process as a shared
# account would be: moto's ThreadedMotoServer on a free loopback port (port 0: the OS chooses).
# MOTO_IAM_LOAD_MANAGED_POLICIES=true makes it know AWS's managed policies, which lesson 03 attaches.
_MOTO_SERVER = """
import sys
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()  # serve until the test closes stdin
"""


def start_moto_server() -> tuple[str, subprocess.Popen]:
    """Start a moto server process; return its endpoint URL and the process (stop_moto_server)."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("EVENTLAB_")}
    env["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    process = subprocess.Popen([sys.executable, "-c", _MOTO_SERVER], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                               env=env)  # stderr: the server's log of every request
    port = process.stdout.readline().strip()
    if not port.isdigit():
        process.kill()
        raise RuntimeError("the moto server did not start (is moto[server] installed?)")
    return f"http://127.0.0.1:{port}", process


def stop_moto_server(process: subprocess.Popen) -> None:
    process.stdin.close()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def moto_endpoint() -> str:
    """The URL of a fresh moto server shared by the module's tests; stopped afterwards."""
    mock.stop()  # this process's own mock would answer the endpoint's requests itself
    url, process = start_moto_server()
    yield url
    stop_moto_server(process)
