"""lab.connect(): backend choice, the aws opt-in, the endpoint backend, names, and moto's safety."""

from __future__ import annotations

import http.server
import ipaddress
import socket
import threading

import pytest

import lab
from lab import mock

REAL_LOOKING = {
    "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "AWS_SESSION_TOKEN": "IQoJb3JpZ2luX2VjEXAMPLE",
    "AWS_PROFILE": "production",
    "AWS_DEFAULT_REGION": "eu-west-1",
}


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return host == "localhost"


@pytest.fixture
def blocked_network(monkeypatch):
    """Refuse (and record) every DNS lookup or connection that is not to loopback."""
    attempts: list[object] = []
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect

    def getaddrinfo(host, *args, **kwargs):
        if host is not None and not _is_loopback(str(host)):
            attempts.append(host)
            raise OSError(f"test blocked a lookup of {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    def connect(self, address):
        if isinstance(address, tuple) and not _is_loopback(str(address[0])):
            attempts.append(address)
            raise OSError(f"test blocked a connection to {address}")
        return real_connect(self, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    return attempts


@pytest.fixture
def clean_aws_environment(monkeypatch):
    """No AWS configuration at all: no keys, no profile, no config files, no instance metadata."""
    mock.stop()
    import os

    for name in [n for n in os.environ if n.startswith(("AWS_", "EVENTLAB_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    yield
    mock.stop()


def test_moto_is_the_default_backend(clean_aws_environment):
    connection = lab.connect()
    assert connection.backend == "moto"
    assert connection.region == "us-east-1"
    assert connection.account_id == "123456789012"
    assert connection.client("sts").get_caller_identity()["Account"] == "123456789012"


def test_unknown_backend_says_what_to_use(clean_aws_environment):
    with pytest.raises(lab.ConfigurationError, match="use 'moto'.*'aws'.*http"):
        lab.connect("azure")


def test_aws_backend_without_opt_in_refuses_and_sends_nothing(clean_aws_environment,
                                                              blocked_network, monkeypatch):
    for name, value in REAL_LOOKING.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("EVENTLAB_BACKEND", "aws")
    with pytest.raises(lab.RealAwsNotAllowed, match="EVENTLAB_ALLOW_REAL_AWS=1"):
        lab.connect()
    assert blocked_network == []


def test_aws_backend_opt_in_must_be_exactly_1(clean_aws_environment, blocked_network, monkeypatch):
    monkeypatch.setenv("EVENTLAB_ALLOW_REAL_AWS", "yes")
    with pytest.raises(lab.RealAwsNotAllowed):
        lab.connect("aws")
    assert blocked_network == []


def test_aws_backend_without_credentials_says_how_to_configure(clean_aws_environment,
                                                               blocked_network, monkeypatch):
    monkeypatch.setenv("EVENTLAB_ALLOW_REAL_AWS", "1")
    with pytest.raises(lab.CredentialsMissing, match="aws configure"):
        lab.connect("aws")
    assert blocked_network == []


def test_moto_backend_with_real_credentials_opens_no_connection(clean_aws_environment,
                                                                blocked_network, monkeypatch):
    for name, value in REAL_LOOKING.items():
        monkeypatch.setenv(name, value)
    connection = lab.connect("moto")
    import os

    assert os.environ["AWS_ACCESS_KEY_ID"] != REAL_LOOKING["AWS_ACCESS_KEY_ID"]
    assert "AWS_PROFILE" not in os.environ
    sns = connection.client("sns")
    arn = sns.create_topic(Name="t")["TopicArn"]
    assert arn.startswith("arn:aws:sns:us-east-1:123456789012:")
    import boto3

    # A client made outside the lab (as the deployed handler does) talks to the mock too.
    assert boto3.client("sts").get_caller_identity()["Account"] == "123456789012"
    assert blocked_network == []
    mock.stop()
    # The caller's own variables come back when the mock stops.
    assert os.environ["AWS_ACCESS_KEY_ID"] == REAL_LOOKING["AWS_ACCESS_KEY_ID"]
    assert os.environ["AWS_PROFILE"] == "production"


def test_moto_backend_refuses_a_request_moto_cannot_answer(clean_aws_environment, blocked_network):
    lab.connect()
    import boto3

    client = boto3.client("dynamodb", region_name="us-east-1", endpoint_url="https://example.com")
    with pytest.raises(lab.NetworkBlocked, match="refused a request to https://example.com"):
        client.list_tables()
    assert blocked_network == []


def test_client_refuses_when_the_mock_was_stopped(clean_aws_environment):
    connection = lab.connect()
    mock.stop()
    with pytest.raises(lab.ConfigurationError, match="mock is not running"):
        connection.client("s3")


def test_names_are_the_seed_names_with_a_stable_bucket(clean_aws_environment):
    first = lab.connect().names
    mock.stop()
    again = lab.connect().names
    assert first == again
    assert (first.topic, first.table, first.role, first.function) == (
        "event-driven-alerts", "S3ObjectEvents", "Lambda-S3-DDB-Role", "S3ToDynamoProcessor")
    assert (first.activity_alarm, first.throttle_alarm) == (
        "DynamoDBWriteActivityAlert", "DynamoDBWriteThrottleAlert")
    assert first.bucket == "event-driven-lab-123456789012-us-east-1"
    assert first.log_group == "/aws/lambda/S3ToDynamoProcessor"


def test_names_can_be_overridden(clean_aws_environment, monkeypatch):
    monkeypatch.setenv("EVENTLAB_BUCKET", "my-own-bucket")
    monkeypatch.setenv("EVENTLAB_EMAIL", "me@example.org")
    connection = lab.connect(table="MyEvents")
    assert (connection.names.bucket, connection.names.email, connection.names.table) == (
        "my-own-bucket", "me@example.org", "MyEvents")
    with pytest.raises(TypeError, match="unknown resource name"):
        lab.connect(tabel="typo")


def test_local_cloud_conveniences_are_moto_only(clean_aws_environment):
    offline = lab.connect()
    remote = lab.Lab(backend="aws", region="us-east-1", account_id="1", names=offline.names)
    with pytest.raises(lab.LocalCloudOnly, match="only on the moto backend"):
        remote.inbox()
    with pytest.raises(lab.LocalCloudOnly):
        remote.clock.advance(minutes=1)


class _StsHandler(http.server.BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_POST(self):  # noqa: N802 - http.server's naming
        length = int(self.headers["Content-Length"])
        self.requests.append(self.rfile.read(length).decode())
        body = (b'<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
                b"<GetCallerIdentityResult><Arn>arn:aws:iam::000000000000:root</Arn>"
                b"<UserId>000000000000</UserId><Account>000000000000</Account>"
                b"</GetCallerIdentityResult></GetCallerIdentityResponse>")
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_endpoint_backend_sends_every_call_to_the_endpoint(clean_aws_environment, blocked_network):
    server = http.server.HTTPServer(("127.0.0.1", 0), _StsHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        connection = lab.connect(url)
        assert connection.backend == "endpoint"
        assert connection.endpoint_url == url
        assert connection.account_id == "000000000000"
        assert connection.names.bucket == "event-driven-lab-000000000000-us-east-1"
        assert connection.client("s3").meta.endpoint_url == url
        assert any("GetCallerIdentity" in body for body in _StsHandler.requests)
        assert blocked_network == []
    finally:
        server.shutdown()
