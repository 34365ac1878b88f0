"""Benchmark: the first start, from a fresh clone to a usable JupyterLab page, with uv and with pip.

The target (issue 10): a usable JupyterLab page at most 30 s after `make lab` on a fresh clone of
a 2-core machine. For each installer this clones the repository's current commit into a temporary
folder, points UV_CACHE_DIR and PIP_CACHE_DIR at empty folders (cold caches: every package is
downloaded), hides any uv on PATH (`UV=`: uv comes from PyPI, as for a newcomer), and runs

    make lab INSTALLER=<uv|pip> LAB_ARGS="--no-browser --port=<free port>"

with a token of its own (JUPYTER_TOKEN). It times the install (until `.venv/bin/.installed`
appears) and the whole first start (until GET /lab?token=… answers 200), then stops the server by
the pid in its runtime file. A second `make lab` in the uv clone, installed by then, times a later
start. The runs write bytecode as Python does by default (PYTHONDONTWRITEBYTECODE is dropped from
their environment). The figures come from one run on this machine: a busy machine stretches the
times, so the script prints the load average and the CPU seconds each run used (its processes'
user + system time), which load changes little.

Usage: python bench/setup_time.py [uv] [pip]      (both by default; the pip install takes minutes)
       --keep    leave the temporary folder (clones, logs) in place
"""

from __future__ import annotations

import json
import os
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 20 * 60  # seconds: a pip install on a slow network takes minutes


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def _server_pid(runtime: Path, port: int) -> int | None:
    """The pid of the server listening on `port`, from the runtime file it writes on start."""
    for info in runtime.glob("jpserver-*.json"):
        try:
            data = json.loads(info.read_text())
        except (OSError, ValueError):
            continue
        if data.get("port") == port:
            return int(data["pid"])
    return None


def _stop(make: subprocess.Popen, runtime: Path, port: int) -> None:
    """Stop the server by its pid (make then exits by itself); if anything lingers, the process
    group this script started `make` in."""
    pid = _server_pid(runtime, port)
    if pid is not None:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    try:
        make.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(make.pid, signal.SIGKILL)
        make.wait()


def first_start(clone: Path, installer: str, scratch: Path, label: str) -> dict:
    """Run `make lab` in the clone; seconds until installed and until the page answers."""
    port, token = _free_port(), secrets.token_hex(16)
    runtime = scratch / f"runtime-{label}"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(
        UV_CACHE_DIR=str(scratch / f"uv-cache-{label}"),
        PIP_CACHE_DIR=str(scratch / f"pip-cache-{label}"),
        JUPYTER_TOKEN=token,
        JUPYTER_RUNTIME_DIR=str(runtime),
        # the run's own JupyterLab settings and workspace: none of the user's is read or changed
        JUPYTERLAB_SETTINGS_DIR=str(scratch / f"settings-{label}"),
        JUPYTERLAB_WORKSPACES_DIR=str(scratch / f"workspaces-{label}"),
    )
    stamp = clone / ".venv" / "bin" / ".installed"
    already = stamp.exists()
    log = scratch / f"make-lab-{label}.log"
    command = ["make", "lab", f"INSTALLER={installer}", "UV=",
               f"LAB_ARGS=--no-browser --port={port} --ServerApp.port_retries=0"]
    url = f"http://127.0.0.1:{port}/lab?token={token}"
    cpu_before = _children_cpu()
    with log.open("w") as out:
        started = time.perf_counter()
        make = subprocess.Popen(command, cwd=clone, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        installed = 0.0 if already else None
        page = None
        try:
            while time.perf_counter() - started < TIMEOUT:
                now = time.perf_counter() - started
                if installed is None and stamp.exists():
                    installed = now
                if make.poll() is not None:
                    break
                if installed is not None and _answers(url):
                    page = time.perf_counter() - started
                    break
                time.sleep(0.2)
        finally:
            _stop(make, runtime, port)
    if page is None:
        tail = log.read_text()[-2000:]
        raise SystemExit(f"{label}: no usable page (make exited {make.returncode}); log:\n{tail}")
    return {"install": installed, "page": page, "cpu": _children_cpu() - cpu_before}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str]) -> int:
    keep = "--keep" in argv
    installers = [a for a in argv if a in ("uv", "pip")] or ["uv", "pip"]
    scratch = Path(tempfile.mkdtemp(prefix="eventlab-setup-time-"))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True, check=True).stdout.strip()
    load_before = os.getloadavg()
    print(f"commit {commit}, {os.cpu_count()} cores, load average {load_before[0]:.1f}; "
          f"cold caches, uv hidden from PATH; scratch folder {scratch}", flush=True)
    rows = {}
    try:
        for installer in installers:
            clone = scratch / f"clone-{installer}"
            subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
            rows[installer] = first_start(clone, installer, scratch, installer)
            print(f"  {installer}: installed after {rows[installer]['install']:.1f} s, usable page "
                  f"after {rows[installer]['page']:.1f} s", flush=True)
        again_label = installers[0]
        again = first_start(scratch / f"clone-{again_label}", again_label, scratch, "again")
    finally:
        if not keep:
            shutil.rmtree(scratch, ignore_errors=True)
    load_after = os.getloadavg()

    print()
    print(f"{'fresh clone, cold cache':32s} {'make setup':>11s} {'server start':>13s} "
          f"{'make lab → usable page':>23s} {'CPU used':>9s}")
    for installer, row in rows.items():
        print(f"{installer:32s} {row['install']:9.1f} s {row['page'] - row['install']:11.1f} s "
              f"{row['page']:21.1f} s {row['cpu']:7.1f} s")
    if "uv" in rows and "pip" in rows:
        uv, pip = rows["uv"], rows["pip"]
        print(f"{'ratio uv/pip':32s} {uv['install'] / pip['install']:11.2f} "
              f"{'':13s} {uv['page'] / pip['page']:23.2f} {uv['cpu'] / pip['cpu']:9.2f}")
    again_row = f"make lab again ({again_label}, installed)"
    print(f"{again_row:32s} {'':11s} {again['page']:11.1f} s {'':23s} {again['cpu']:7.1f} s")
    verdict = "met" if rows.get("uv", {"page": 0})["page"] <= 30 else "NOT met"
    if "uv" in rows:
        print(f"target: usable page ≤ 30 s after make lab on a fresh clone: {verdict}")
    print(f"load average {load_before[0]:.1f} before, {load_after[0]:.1f} after "
          f"(on {os.cpu_count()} cores; above that, the machine was shared)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
