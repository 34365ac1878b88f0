"""connect(): choose the backend, own the boto3 clients, and name every resource."""

from __future__ import annotations

import os
from typing import Any

from lab.errors import ConfigurationError, CredentialsMissing, LocalCloudOnly, RealAwsNotAllowed
from lab.names import Names, names_for

BACKENDS = ("moto", "aws", "endpoint")
DEFAULT_REGION = "us-east-1"
OPT_IN_VARIABLE = "EVENTLAB_ALLOW_REAL_AWS"
RETRY_ATTEMPTS = 10  # per call, throttling included (botocore's legacy default is 5)


class Lab:
    """A connection to one backend: clients, region, account, resource names and the pipeline verbs.

    Make one with :func:`connect`. The service modules (``lab.sns``, ``lab.dynamodb``, …) take it
    as their first argument.
    """

    def __init__(self, *, backend: str, region: str, account_id: str, names: Names,
                 endpoint_url: str | None = None, session: Any = None) -> None:
        self.backend = backend
        self.region = region
        self.account_id = account_id
        self.names = names
        self.endpoint_url = endpoint_url
        self._session = session
        self._clients: dict[str, Any] = {}

    def __repr__(self) -> str:
        where = self.endpoint_url or ("in-process moto" if self.backend == "moto" else "AWS")
        return (f"<Lab backend={self.backend} region={self.region} "
                f"account={self.account_id} ({where})>")

    @property
    def is_local(self) -> bool:
        """True on the moto backend, where the local cloud (clock, inbox) exists."""
        return self.backend == "moto"

    def client(self, service: str) -> Any:
        """The boto3 client for ``service`` on this backend (made once, then reused)."""
        if self.backend == "moto":
            from lab import mock

            if not mock.is_active():
                raise ConfigurationError(
                    "The moto mock is not running in this process, so a client could reach AWS. "
                    "Call lab.connect() again to restart it."
                )
        if service not in self._clients:
            from lab.checks import guard_blanks

            from botocore.config import Config

            # Throttling (FilterLogEvents allows a few requests per second per account, many
            # list calls too) is retried with the standard mode's capped exponential backoff and
            # jitter, up to 10 attempts (AWS SDKs and Tools Reference Guide, "Retry behavior").
            kwargs: dict[str, Any] = {"region_name": self.region, "config": Config(
                retries={"mode": "standard", "max_attempts": RETRY_ATTEMPTS})}
            if self.endpoint_url:
                kwargs["endpoint_url"] = self.endpoint_url
            self._clients[service] = guard_blanks(self._session.client(service, **kwargs))
        return self._clients[service]

    @property
    def partition(self) -> str:
        """The ARN partition of the region: ``aws``, ``aws-cn`` or ``aws-us-gov``."""
        from lab.partitions import partition_of

        return partition_of(self.region)

    def arn(self, service: str, resource: str, *, region: bool = True) -> str:
        """An ARN in this account (``region=False`` for global services such as IAM)."""
        return (f"arn:{self.partition}:{service}:{self.region if region else ''}:"
                f"{self.account_id}:{resource}")

    # -- the local cloud's conveniences (moto backend only) ------------------------------------
    def _local_cloud(self, what: str) -> Any:
        if not self.is_local:
            raise LocalCloudOnly(
                f"{what} exists only on the moto backend's local cloud. On real AWS, "
                "wait for real time to pass and read your own mailbox instead."
            )
        from lab import localcloud

        return localcloud.current()

    @property
    def clock(self) -> Any:
        """The local cloud's clock: ``clock.now()``, ``clock.advance(minutes=5)``."""
        return self._local_cloud("The clock").clock

    def inbox(self, address: str | None = None) -> list[dict[str, Any]]:
        """Emails delivered to email subscribers (all addresses, or one), oldest first."""
        return self._local_cloud("The inbox").inbox(address)

    def confirm_email(self, address: str | None = None) -> list[str]:
        """Click the confirmation link of pending email subscriptions; returns confirmed ARNs."""
        return self._local_cloud("confirm_email()").confirm_email(address or self.names.email)

    # -- the whole pipeline --------------------------------------------------------------------
    def build_pipeline(self, **options: Any) -> dict[str, str]:
        """Create every resource of the seed lab, in the seed's order; see lab.pipeline."""
        from lab import pipeline

        return pipeline.build_pipeline(self, **options)

    def teardown(self, **options: Any) -> dict[str, list[str]]:
        """Delete every resource of the lab in reverse order; see lab.pipeline."""
        from lab import pipeline

        return pipeline.teardown(self, **options)


def _choose_backend(backend: str | None) -> tuple[str, str | None]:
    chosen = (backend or os.environ.get("EVENTLAB_BACKEND") or "moto").strip()
    if chosen.startswith(("http://", "https://")):
        return "endpoint", chosen
    if chosen.lower() in ("moto", "aws"):
        return chosen.lower(), None
    raise ConfigurationError(
        f"Unknown backend {chosen!r}: use 'moto' (offline, the default), 'aws' (a real account) "
        "or an http(s):// endpoint such as http://localhost:4566."
    )


def connect(backend: str | None = None, *, region: str | None = None,
            quiet: bool = False, **names: str) -> Lab:
    """Connect to a backend and return a :class:`Lab`.

    Args:
        backend: ``"moto"`` (default), ``"aws"`` or an ``http(s)://`` endpoint; when omitted,
            ``EVENTLAB_BACKEND`` decides.
        region: the AWS region; default ``EVENTLAB_REGION``, then (aws and endpoint backends)
            the usual AWS configuration, then us-east-1.
        quiet: do not print which account and region the aws backend uses.
        **names: override resource names, e.g. ``table="MyEvents"``; ``prefix="alice-"``
            (default ``EVENTLAB_PREFIX``) begins every name the lab chooses itself.

    Raises:
        RealAwsNotAllowed: the aws backend without ``EVENTLAB_ALLOW_REAL_AWS=1``.
        CredentialsMissing: the aws backend found no credentials.
    """
    import boto3

    kind, endpoint_url = _choose_backend(backend)
    # EVENTLAB_REGION first; then AWS_REGION, which other AWS SDKs and the Lambda runtime read,
    # while botocore reads only AWS_DEFAULT_REGION: a learner who set AWS_REGION alone means it.
    region = region or os.environ.get("EVENTLAB_REGION") or _aws_region(kind)
    _install_friendly_errors()
    _check_email(names.get("email") or os.environ.get("EVENTLAB_EMAIL"))
    _check_prefix(names.get("prefix") or os.environ.get("EVENTLAB_PREFIX", "").strip())
    _check_region(region)
    if kind == "moto":
        from lab import mock

        region = region or DEFAULT_REGION
        mock.start(region)
        session = boto3.Session(region_name=region)
        return Lab(backend="moto", region=region, account_id=mock.ACCOUNT_ID,
                   names=names_for(mock.ACCOUNT_ID, region, **names), session=session)
    if kind == "endpoint":
        session = boto3.Session(
            aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
            aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
            region_name=region or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION,
        )
        account_id = _account_id(session, endpoint_url)
        return Lab(backend="endpoint", region=session.region_name, account_id=account_id,
                   names=names_for(account_id, session.region_name, **names),
                   endpoint_url=endpoint_url, session=session)
    if os.environ.get(OPT_IN_VARIABLE) != "1":
        raise RealAwsNotAllowed(
            "The aws backend creates resources in a real AWS account, which can cost money. "
            f"To opt in, set {OPT_IN_VARIABLE}=1 (and EVENTLAB_BACKEND=aws) and connect again; "
            "to stay offline, use lab.connect() without a backend."
        )
    from lab import mock

    if mock.is_active():
        raise ConfigurationError(
            "The moto backend's mock already runs in this Python process (an earlier "
            "lab.connect()) and would answer every request with fake credentials instead of "
            "AWS: restart the kernel and call lab.connect('aws') before any lab.connect()."
        )
    session = boto3.Session(region_name=region)
    if not session.region_name:
        session = boto3.Session(region_name=DEFAULT_REGION)
    account_id = _account_id(session, None)
    if not quiet:
        print(f"⚠ Using the REAL AWS account {account_id} in region {session.region_name}. "
              "Run 09_cleanup when you are done.")
    return Lab(backend="aws", region=session.region_name, account_id=account_id,
               names=names_for(account_id, session.region_name, **names), session=session)


def _check_region(region: str | None) -> None:
    """Refuse a region that cannot hold the pipeline (moto would fail later with a KeyError)."""
    from lab.settings import region_problem

    problem = region_problem(region) if region else None
    if problem:
        raise ConfigurationError(f"EVENTLAB_REGION: {problem}: set it to a region such as "
                                 "us-east-1 (or unset it), restart the kernel and run the cell "
                                 "again.")


def _check_prefix(prefix: str) -> None:
    """Refuse an EVENTLAB_PREFIX that a service would reject, before anything is reached."""
    from lab.names import prefix_problem

    problem = prefix_problem(prefix)
    if problem:
        raise ConfigurationError(problem + ".")


def _aws_region(kind: str) -> str | None:
    """AWS_REGION for the aws and endpoint backends (None on moto, where it is the lab's own)."""
    if kind == "moto":
        return None
    return os.environ.get("AWS_REGION") or None


def _check_email(address: str | None) -> None:
    """Refuse an EVENTLAB_EMAIL that SNS would reject, before anything is created."""
    from lab.errors import InvalidEmail
    from lab.sns import validate_email

    if address is None or address == "":
        return
    try:
        validate_email(address)
    except InvalidEmail:
        raise InvalidEmail(
            f"EVENTLAB_EMAIL={address!r} is not an email address SNS can deliver to: set it to "
            "the form name@example.com (or unset it), restart the kernel and run the cell again."
        ) from None


def _account_id(session: Any, endpoint_url: str | None) -> str:
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    try:
        sts = session.client("sts", endpoint_url=endpoint_url)
        return sts.get_caller_identity()["Account"]
    except NoCredentialsError:
        raise CredentialsMissing(
            "No AWS credentials found for the aws backend: run `aws configure` (or set "
            "AWS_PROFILE / AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) and connect again."
        ) from None
    except (ClientError, BotoCoreError) as error:
        where = endpoint_url or "AWS"
        raise ConfigurationError(f"Could not reach {where} to read the account id: {error}") from None


def friendly_sentence(error: BaseException) -> str:
    """The one ✗ sentence a notebook shows for ``error`` instead of a traceback."""
    from lab.aws import error_code, error_message

    if isinstance(error, NameError):
        name = getattr(error, "name", None) or str(error)
        return (f"{name!r} is not defined in this kernel: run the lesson's first code cell and "
                "the cells above this one again (a kernel restart forgets every variable).")
    code = error_code(error)
    if code:
        operation = getattr(error, "operation_name", "the call")
        return f"AWS refused {operation} with {code}: {error_message(error)}"
    if type(error).__module__.startswith("botocore"):
        return f"boto3 refused the call before sending it: {error}"
    return str(error)


def _install_friendly_errors() -> None:
    """In IPython, show a LabError, a botocore error or a lost variable as one ✗ line."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return
    from botocore.exceptions import BotoCoreError, ClientError

    from lab.errors import LabError

    def show(shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: Any = None) -> None:
        from lab.text import say

        say(f"✗ {friendly_sentence(value)}")

    shell.set_custom_exc((LabError, ClientError, BotoCoreError, NameError), show)
    _show_whole_values()


def _show_whole_values() -> None:
    """pandas prints whole ARNs and ids in notebooks (no ``arn:aws:sns:…drive...``)."""
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a core dependency
        return
    pd.set_option("display.max_colwidth", None)
    pd.set_option("display.width", 100)
