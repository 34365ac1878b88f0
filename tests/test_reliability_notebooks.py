"""Reliability · idempotent lessons: each runs twice in a row in a fresh kernel, under the network guard."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from lab import reliability
from lab import reliability_kernels as kernels
from lab.workbook import lessons

PATHS = lessons()
FULL = reliability.sizes() == reliability.FULL


def _code_cells(stem: str) -> int:
    path = next(path for path in PATHS if path.stem == stem)
    return sum(1 for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code")


@pytest.mark.slow
def test_every_lesson_runs_twice_in_a_fresh_kernel_opening_no_connection_and_leaving_nothing():
    assert PATHS, "no lesson notebooks in notebooks/"
    runs = kernels.run_kernels(kernels.kernel_plan(PATHS, full=FULL))
    for run in runs:
        where = ", ".join(run["notebooks"])
        assert run["error"] is None, f"{where}: {run['error']}"
        assert run["attempts"] == [], f"{where} tried to reach the network: {run['attempts']}"
        assert (run["left"], run["left_by_service"]) == (0, {}), f"{where} left {run['left_by_service']}"
        assert run["second_teardown_deleted"] == 0
        assert run["cells"] == 2 * sum(_code_cells(stem) for stem in run["notebooks"])  # all ran, twice
        print(f"{where}: {run['cells']} cells in {run['seconds']} s")
    assert {stem for run in runs for stem in run["notebooks"]} == {path.stem for path in PATHS}


def test_the_sample_plan_splits_the_workbook_in_three_parts_and_the_full_plan_runs_each_alone_too():
    paths = [Path(f"{n:02d}_lesson.ipynb") for n in range(11)]
    # Lesson n weighs n + 1 (it prepares every earlier step): the parts shrink towards the end.
    assert kernels.kernel_plan(paths, full=False) == [paths[:6], paths[6:9], paths[9:]]
    assert kernels.kernel_plan(paths[:3], full=False) == [[paths[0]], [paths[1]], [paths[2]]]
    assert kernels.kernel_plan(paths[:1], full=False) == [paths[:1]]
    assert kernels.kernel_plan(paths, full=True) == [[path] for path in paths] + [paths]
    assert kernels.kernel_plan(paths[:1], full=True) == [paths[:1]]
    for size in range(1, 30):
        many = [Path(f"{n:02d}_lesson.ipynb") for n in range(size)]
        plan = kernels.kernel_plan(many, full=False)
        assert [path for group in plan for path in group] == many  # each once, in order
        assert 1 <= len(plan) <= 3


def test_a_kernel_run_reports_the_failing_cell_every_connection_and_what_was_left(tmp_path):
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# A lesson with three mistakes"),
        nbformat.v4.new_code_cell("from lab import connect\ncloud = connect()\n"
                                  "cloud.client('sqs').create_queue(QueueName='left-behind')"),
        nbformat.v4.new_code_cell("import socket\ntry:\n"
                                  "    socket.create_connection(('192.0.2.1', 443), timeout=1)\n"
                                  "except OSError:\n    pass"),
        nbformat.v4.new_code_cell("import os\nassert 'ONCE' not in os.environ, 'not idempotent'\n"
                                  "os.environ['ONCE'] = '1'"),
    ])
    path = tmp_path / "99_mistakes.ipynb"
    nbformat.write(notebook, path)
    run = kernels.run_notebooks([path])
    assert run["error"] == "99_mistakes.ipynb, run 2, cell 4: AssertionError: not idempotent"
    assert run["cells"] == 5  # three in the first run, two in the second before the failure
    assert run["attempts"] == ["lookup 192.0.2.1", "lookup 192.0.2.1"]
    assert run["left"] == 1
    queue = "https://sqs.us-east-1.amazonaws.com/123456789012/left-behind"
    assert run["left_by_service"] == {"sqs queues": [queue]}
    assert run["notebooks"] == ["99_mistakes"]
