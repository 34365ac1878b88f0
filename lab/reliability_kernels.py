"""The reliability suite in fresh Jupyter kernels: lessons run twice, learner mistakes, a network guard.

Part of the reliability suite (``lab.reliability`` runs the in-process scenarios and prints the
figures). Every kernel starts with real-looking AWS credentials in its environment and the
:class:`NetworkGuard` on, and ends with a probe: teardown, twice, and what is left.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from types import MappingProxyType
from typing import Any

REAL_LOOKING_CREDENTIALS = MappingProxyType({
    "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "AWS_SESSION_TOKEN": "IQoJb3JpZ2luX2VjEXAMPLE",
    "AWS_PROFILE": "production",
    "AWS_DEFAULT_REGION": "eu-west-1",
})


# -- the network guard -------------------------------------------------------------------------

def _is_loopback(host: Any) -> bool:
    text = str(host).split("%")[0]
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return text == "localhost"


class NetworkGuard:
    """Refuse and record every DNS lookup and connection that is not to loopback.

    A context manager, or ``start()``/``stop()`` (a kernel starts it in a first cell);
    ``attempts`` lists what was refused, e.g. ``"lookup sts.amazonaws.com"``.
    """

    def __init__(self) -> None:
        self.attempts: list[str] = []
        self._saved: tuple[Any, Any, Any] | None = None

    def start(self) -> NetworkGuard:
        """Patch ``socket`` so that non-loopback lookups and connections raise OSError."""
        if self._saved is None:
            self._saved = (socket.getaddrinfo, socket.socket.connect, socket.socket.connect_ex)
            lookup, connect, connect_ex = self._saved
            socket.getaddrinfo = self._guarded(lookup, "lookup")  # type: ignore[assignment]
            socket.socket.connect = self._guarded(connect, "connect")  # type: ignore[method-assign]
            socket.socket.connect_ex = self._guarded(connect_ex, "connect")  # type: ignore[method-assign]
        return self

    def _guarded(self, call: Any, kind: str) -> Any:
        def guarded(*args: Any, **kwargs: Any) -> Any:
            target = args[0] if kind == "lookup" else args[1]
            host = target if kind == "lookup" else (target[0] if isinstance(target, tuple) else None)
            if host is not None and not _is_loopback(host):
                where = host if kind == "lookup" else f"{host}:{target[1]}"
                self.attempts.append(f"{kind} {where}")
                what = "a lookup of" if kind == "lookup" else "a connection to"
                raise OSError(f"the reliability suite blocked {what} {where}")
            return call(*args, **kwargs)

        return guarded

    def stop(self) -> None:
        """Put ``socket`` back as it was."""
        if self._saved is not None:
            socket.getaddrinfo, socket.socket.connect, socket.socket.connect_ex = self._saved
            self._saved = None

    def __enter__(self) -> NetworkGuard:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def real_looking_credentials() -> Iterator[None]:
    """Real-looking AWS credentials and profile in the environment; the previous values after."""
    saved = {name: os.environ.get(name) for name in REAL_LOOKING_CREDENTIALS}
    os.environ.update(REAL_LOOKING_CREDENTIALS)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


# -- lessons and learner mistakes in fresh kernels ----------------------------------------------

MARKER = "EVENTLAB-RELIABILITY "
GUARD_CELL = f"""\
import os as _os
_os.environ.update({dict(REAL_LOOKING_CREDENTIALS)!r})
from lab.reliability_kernels import NetworkGuard as _NetworkGuard
_eventlab_guard = _NetworkGuard().start()
"""
PROBE_CELL = f"""\
import json as _json
from lab import connect as _connect
from lab.reliability import cleanup as _cleanup
_report = _cleanup(_connect("moto", quiet=True))
_eventlab_guard.stop()
print({MARKER!r} + _json.dumps(dict(_report, attempts=_eventlab_guard.attempts)))
"""


def _fresh_kernel(cells: list[Any], *, cwd: Path, timeout: int = 600) -> tuple[int, Any]:
    """Execute ``cells`` in order in a new kernel until one fails; the last cell (a probe) always runs.

    Returns how many ran without error (the probe excluded) and the CellExecutionError, if any.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    notebook = nbformat.v4.new_notebook(cells=cells)
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(cwd)}})
    done, failure = 0, None
    with client.setup_kernel():
        try:
            for index, cell in enumerate(cells[:-1]):
                client.execute_cell(cell, index)
                done += 1
        except CellExecutionError as error:
            failure = error
        client.execute_cell(cells[-1], len(cells) - 1)
    return done, failure


def _printed(cell: Any) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")


def run_notebooks(paths: list[Path], *, repeat: int = 2) -> dict[str, Any]:
    """In ONE fresh kernel: the guard, each notebook's code cells ``repeat`` times in a row, then teardown.

    With one notebook this proves it runs alone in a fresh kernel and again in the same kernel;
    with the whole workbook it is a learner's full run. Real-looking credentials are in the
    kernel's environment and every non-loopback connection is refused and recorded.

    Returns ``notebooks``, ``cells`` (run without error), ``error`` (where the first failure
    was), ``seconds``, the :func:`lab.reliability.cleanup` figures and ``attempts`` (the
    refused connections).
    """
    import copy

    import nbformat

    started = time.perf_counter()
    cells, places = [nbformat.v4.new_code_cell(GUARD_CELL)], [("guard cell", 1, 1)]
    for path in paths:
        notebook = nbformat.read(path, as_version=4)
        for run in range(1, repeat + 1):
            for number, cell in enumerate(notebook.cells, 1):
                if cell.cell_type == "code":
                    cells.append(copy.deepcopy(cell))
                    cells[-1]["id"] = f"cell-{len(cells)}"  # ids are unique within a notebook
                    places.append((path.name, run, number))
    cells.append(nbformat.v4.new_code_cell(PROBE_CELL))
    done, failure = _fresh_kernel(cells, cwd=paths[0].parent)
    error = None
    if failure is not None:
        name, run, number = places[done]
        error = f"{name}, run {run}, cell {number}: {failure.ename}: {failure.evalue}"
    text = _printed(cells[-1])
    report = next((json.loads(line[len(MARKER):]) for line in text.splitlines()
                   if line.startswith(MARKER)), {"probe": text[-500:]})
    return {"notebooks": [p.stem for p in paths], "cells": max(0, done - 1), "error": error, **report,
            "seconds": round(time.perf_counter() - started, 1)}


# What a learner who skipped a lesson might run, and what the answer must name.
MISTAKES = (
    ("s3.upload(cloud, 'notes.txt', 'hello')", "run notebook 05_s3_trigger first"),
    ("dynamodb.scan_items(cloud)", "run notebook 02_dynamodb_table first"),
    ("awslambda.invoke(cloud, {'Records': []})", "run notebook 04_lambda_function first"),
    ("awslambda.ensure_function(cloud)", "run notebook 03_iam_role first"),
    ("s3.ensure_trigger(cloud)", "run notebook 04_lambda_function first"),
    ("alarms.ensure_alarms(cloud)", "run notebook 01_sns_alerts_topic first"),
    ("connect('aws')", "set EVENTLAB_ALLOW_REAL_AWS=1"),
)
MISTAKES_SETUP = """\
import os
os.environ.pop("EVENTLAB_ALLOW_REAL_AWS", None)
from lab import alarms, awslambda, connect, dynamodb, s3
cloud = connect()
"""


def learner_mistakes() -> dict[str, Any]:
    """Run :data:`MISTAKES` in a fresh kernel under the guard; each must print one ✗ sentence.

    Returns ``mistakes``, ``sentences`` (answered with one ✗ line containing the expected
    words and no traceback), ``outputs`` (what each printed) and ``attempts``.
    """
    import nbformat

    cells = [nbformat.v4.new_code_cell(GUARD_CELL), nbformat.v4.new_code_cell(MISTAKES_SETUP)]
    # Tagged: the kernel reports the (friendly) exception; what matters is what the learner sees.
    cells += [nbformat.v4.new_code_cell(code, metadata={"tags": ["raises-exception"]})
              for code, _ in MISTAKES]
    cells.append(nbformat.v4.new_code_cell(f"print({MARKER!r} + str(len(_eventlab_guard.attempts)))"))
    done, failure = _fresh_kernel(cells, cwd=Path.cwd())
    answers = [_printed(cell) + "".join(f"[{o.get('output_type')} output: {o.get('ename')}]"
                                        for o in cell.outputs if o.get("output_type") != "stream")
               for cell in cells[2:-1]]
    # One sentence, wrapped at spaces (lab.text) into lines whose continuations are indented.
    unwrapped = [answer.replace("\n  ", " ") for answer in answers]
    good = [answer.startswith("✗ ") and answer.count("\n") == 1 and words in answer
            and "Traceback" not in answer for answer, (_, words) in zip(unwrapped, MISTAKES)]
    attempts = _printed(cells[-1]).strip().removeprefix(MARKER)
    return {"mistakes": len(MISTAKES), "sentences": sum(good), "outputs": answers,
            "attempts": int(attempts) if attempts.isdigit() else -1,
            "error": None if failure is None else f"{failure.ename}: {failure.evalue}"}


def kernel_plan(paths: list[Path], *, full: bool, parts: int = 3) -> list[list[Path]]:
    """The kernels to start, each with the notebooks it runs twice in a row.

    Sample (CI): the workbook in ``parts`` consecutive parts, one fresh kernel each, so every
    lesson runs twice in one kernel and the first of each part alone in a fresh one (nbval runs
    each lesson alone too). Later lessons cost more (``prepare_lesson`` builds every earlier
    step), so lesson ``n`` weighs ``n + 1`` and the parts shrink towards the end.
    Full: every lesson alone in its own fresh kernel, then the whole workbook in one kernel.
    """
    if full:
        return [[path] for path in paths] + ([list(paths)] if len(paths) > 1 else [])
    total = len(paths) * (len(paths) + 1) / 2
    groups: list[list[Path]] = [[] for _ in range(parts)]
    for n, path in enumerate(paths):
        middle = (n + 1) ** 2 / 2  # the weight of the lessons before, plus half of this one's
        groups[min(parts - 1, int(middle * parts / total))].append(path)
    return [group for group in groups if group]


def run_kernels(groups: list[list[Path]], *, repeat: int = 2, workers: int = 3) -> list[dict[str, Any]]:
    """:func:`run_notebooks` for each group, ``workers`` kernels at a time (much of a run waits)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda group: run_notebooks(group, repeat=repeat), groups))
