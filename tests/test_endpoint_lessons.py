"""The endpoint backend answers every lesson with ✓ or one ✗ sentence, never a traceback (issue 11).

Lessons 00–03 run headless, one after the other as a learner would, against a bare moto server
(``EVENTLAB_BACKEND=http://127.0.0.1:<port>``). A bare moto server stores Lambda functions but runs
them only with Docker: every wait for what a function does ends at once with one ✗ sentence.
"""

from __future__ import annotations

import os
import time

import nbformat
import pytest
from nbclient import NotebookClient

import lab
from lab import awslambda, endpoint, iam, logs, verify, workbook
from lab.errors import FunctionsNotRun

LESSONS = ["00_welcome_and_setup", "01_sns_alerts_topic", "02_dynamodb_table", "03_iam_role"]
TRACEBACK = "Traceback (most recent call last)"


@pytest.fixture
def on_endpoint(monkeypatch, moto_endpoint):
    for name in [n for n in os.environ if n.startswith("EVENTLAB_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("EVENTLAB_BACKEND", moto_endpoint)  # the kernels inherit it
    return moto_endpoint


def _run(name: str) -> list[tuple[int, str]]:
    """Run one lesson (errors allowed); return (cell index, what it showed) for each traceback."""
    path = workbook.NOTEBOOKS_DIR / f"{name}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=120, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(path.parent)}},
                   extra_arguments=["--IPKernelApp.log_level=ERROR"]).execute()
    found = []
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                found.append((index, f"{output['ename']}: {output['evalue']}"))
            elif TRACEBACK in output.get("text", ""):
                found.append((index, output["text"][-500:]))
    return found


def test_lessons_00_to_03_show_no_traceback_on_a_moto_server(on_endpoint):
    started = time.monotonic()
    shown = {name: _run(name) for name in LESSONS}
    assert shown == {name: [] for name in LESSONS}
    assert time.monotonic() - started < 120  # about 40 s on an idle machine


def test_waiting_for_a_function_a_moto_server_does_not_run_is_one_sentence_at_once(on_endpoint):
    cloud = lab.connect(quiet=True)
    assert cloud.backend == "endpoint"
    assert endpoint.moto_server_config(cloud) is not None  # moto's /moto-api/config answers
    iam.ensure_role(cloud, quiet=True)
    logs.ensure_log_group(cloud, quiet=True)
    awslambda.ensure_function(cloud, quiet=True)
    started = time.monotonic()
    with pytest.raises(FunctionsNotRun) as raised:
        logs.newest_invocation(cloud)
    sentence = str(raised.value)
    assert sentence.startswith(f"{on_endpoint} does not run Lambda functions")
    assert "\n" not in sentence and "LocalStack" in sentence
    # The answer is kept for the connection: the next wait does not ask again.
    with pytest.raises(FunctionsNotRun, match="the items of the uploaded files will never come"):
        verify.wait_for_items(cloud, ["a.txt"])
    assert time.monotonic() - started < 20  # not the 60 s timeout of each wait


def test_other_backends_are_not_asked(lab_moto):
    assert endpoint.runs_functions(lab_moto)  # the local cloud runs the deployed zip itself


def test_an_html_error_page_becomes_one_sentence():
    """A moto server answers an operation it does not implement (DescribeAlarmHistory) with
    Flask's HTML page and status 500; botocore puts that page in the error's Message."""
    from botocore.exceptions import ClientError

    from lab.aws import error_message
    from lab.connection import friendly_sentence

    page = ("<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n"
            "<h1>Internal Server Error</h1>\n")
    error = ClientError({"Error": {"Code": "500", "Message": page},
                         "ResponseMetadata": {"HTTPStatusCode": 500}}, "DescribeAlarmHistory")
    assert error_message(error) == ("the endpoint answered with an HTML error page (HTTP 500) "
                                    "instead of an AWS answer: it does not implement this operation")
    assert "\n" not in friendly_sentence(error) and "<" not in friendly_sentence(error)
