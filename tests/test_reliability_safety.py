"""Reliability · safety: no connection leaves the machine, no real account without opt-in, no tracebacks."""

from __future__ import annotations

import os
import re
import socket
import threading

import pytest

import lab as package
from lab import mock, reliability
from lab import reliability_kernels as kernels
from lab.workbook import lessons


@pytest.fixture
def guard():
    with kernels.NetworkGuard() as network:
        yield network


def test_the_guard_refuses_and_records_every_connection_that_is_not_loopback(guard):
    with pytest.raises(OSError, match="blocked a lookup of dynamodb.us-east-1.amazonaws.com"):
        socket.getaddrinfo("dynamodb.us-east-1.amazonaws.com", 443)
    with pytest.raises(OSError, match="blocked a lookup"):
        socket.create_connection(("sts.amazonaws.com", 443), timeout=1)
    with socket.socket() as raw:
        with pytest.raises(OSError, match="blocked a connection"):
            raw.connect(("192.0.2.10", 443))
    with socket.socket() as raw:
        with pytest.raises(OSError, match="blocked a connection"):
            raw.connect_ex(("198.51.100.7", 80))
    assert guard.attempts == ["lookup dynamodb.us-east-1.amazonaws.com", "lookup sts.amazonaws.com",
                              "connect 192.0.2.10:443", "connect 198.51.100.7:80"]


def test_the_guard_lets_loopback_through_and_puts_socket_back():
    originals = (socket.getaddrinfo, socket.socket.connect, socket.socket.connect_ex)
    server = socket.create_server(("127.0.0.1", 0))
    accepted = threading.Thread(target=lambda: server.accept()[0].close(), daemon=True)
    accepted.start()
    with kernels.NetworkGuard() as network:
        assert (socket.getaddrinfo, socket.socket.connect) != originals[:2]
        with socket.create_connection(server.getsockname(), timeout=5):
            pass
        assert socket.getaddrinfo("localhost", 80)
    accepted.join(5)
    server.close()
    assert network.attempts == []
    assert (socket.getaddrinfo, socket.socket.connect, socket.socket.connect_ex) == originals


def test_the_pipeline_under_real_looking_credentials_opens_no_connection(guard):
    with kernels.real_looking_credentials():
        lab = reliability.fresh_lab()
        try:
            assert os.environ["AWS_ACCESS_KEY_ID"] == "testing"  # the mock's, never the caller's
            assert "AWS_PROFILE" not in os.environ
            assert reliability.upload_keys(lab, ["safety/one.txt", "safety/two 2.txt"])["stored"] == 2
            assert reliability.poison_files(lab, good=2, poison=1)["in_destination"] == 1
            assert lab.teardown(quiet=True)["deleted"]
        finally:
            mock.stop()
        assert os.environ["AWS_ACCESS_KEY_ID"] == kernels.REAL_LOOKING_CREDENTIALS["AWS_ACCESS_KEY_ID"]
        assert os.environ["AWS_PROFILE"] == "production"
    assert guard.attempts == []


def test_the_aws_backend_refuses_without_the_opt_in_and_sends_nothing(guard, monkeypatch):
    mock.stop()
    monkeypatch.delenv("EVENTLAB_ALLOW_REAL_AWS", raising=False)
    monkeypatch.setenv("EVENTLAB_BACKEND", "aws")
    with kernels.real_looking_credentials():
        with pytest.raises(package.RealAwsNotAllowed) as refused:
            package.connect()
    message = str(refused.value)
    assert "real AWS account" in message and "can cost money" in message
    assert "To opt in, set EVENTLAB_ALLOW_REAL_AWS=1 (and EVENTLAB_BACKEND=aws)" in message
    assert guard.attempts == []


def test_real_looking_credentials_are_restored_exactly(monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "mine")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    with kernels.real_looking_credentials():
        assert os.environ["AWS_PROFILE"] == "production"
        assert os.environ["AWS_SESSION_TOKEN"] == "IQoJb3JpZ2luX2VjEXAMPLE"
    assert os.environ["AWS_PROFILE"] == "mine"
    assert "AWS_SESSION_TOKEN" not in os.environ


@pytest.mark.slow
def test_a_learner_who_skipped_a_lesson_gets_one_sentence_naming_it_not_a_traceback():
    figures = kernels.learner_mistakes()
    assert figures["error"] is None and figures["attempts"] == 0
    for (code, words), shown in zip(kernels.MISTAKES, figures["outputs"]):
        # One sentence for people (no exception class name), wrapped at spaces into lines of at
        # most 100 characters with indented continuations, nothing else shown.
        assert re.fullmatch(r"✗ The [^\n]+(\n  [^\n]+)*\.\n", shown), (code, shown)
        assert all(len(line) <= 100 for line in shown.splitlines()), (code, shown)
        assert words in shown.replace("\n  ", " "), (code, shown)
    assert figures["sentences"] == figures["mistakes"] == len(kernels.MISTAKES)
    assert reliability.held("learner mistakes", figures)


def test_every_lesson_a_sentence_names_exists():
    named = {re.search(r"run notebook (\S+) first", words).group(1)
             for _, words in kernels.MISTAKES if "run notebook" in words}
    assert named == {"01_sns_alerts_topic", "02_dynamodb_table", "03_iam_role", "04_lambda_function",
                     "05_s3_trigger"}
    assert named <= {path.stem for path in lessons()}
