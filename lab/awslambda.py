"""Lambda: package ``handler/`` reproducibly and deploy ``S3ToDynamoProcessor`` (lesson 04)."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

from lab.aws import (error_code, error_message, friendly, get_or_none, missing, retrying,
                     wait_until)
from lab.connection import Lab
from lab.errors import AwsError

RUNTIME = "python3.12"
HANDLER = "lambda_function.lambda_handler"
TIMEOUT_SECONDS = 10  # the Console's default is 3 s; 10 s leaves room for SDK retries when throttled
MEMORY_MB = 128
TTL_SECONDS = 86400
HANDLER_DIR = Path(__file__).resolve().parent.parent / "handler"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed timestamps: same source → same zip → same CodeSha256


def build_zip(source: Path = HANDLER_DIR) -> bytes:
    """Zip the handler's ``*.py`` files with fixed timestamps and modes (a reproducible package)."""
    files = sorted(p for p in source.rglob("*.py") if "__pycache__" not in p.parts)
    if not files:
        raise AwsError(f"No Python files to package in {source}.")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in files:
            info = zipfile.ZipInfo(path.relative_to(source).as_posix(), date_time=_ZIP_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def code_sha256(package: bytes) -> str:
    """The CodeSha256 Lambda reports for a package: base64 of its SHA-256."""
    return base64.b64encode(hashlib.sha256(package).digest()).decode()


def environment(lab: Lab) -> dict[str, str]:
    """The function's environment variables."""
    return {"TABLE_NAME": lab.names.table, "TTL_SECONDS": str(TTL_SECONDS)}


def get_function(lab: Lab, name: str | None = None) -> dict[str, Any] | None:
    """The function's configuration, or None when it does not exist."""
    name = name or lab.names.function
    return get_or_none(lambda: lab.client("lambda").get_function_configuration(FunctionName=name),
                       absent="ResourceNotFoundException", action=f"read Lambda function {name}")


def require_function(lab: Lab) -> dict[str, Any]:
    """The function's configuration; MissingResource naming lesson 04 when it does not exist."""
    function = get_function(lab)
    if function is None:
        raise missing("Lambda function", lab.names.function, "function")
    return function


# How long the lab retries while IAM says a new role cannot be assumed yet. AWS: IAM is eventually
# consistent (IAM User Guide, "Changes that I make are not always immediately visible"); a role
# created moments ago has been seen to take a minute or two before Lambda may assume it.
ROLE_PROPAGATION_TIMEOUT = 120.0
# How long the lab waits for Pending → Active and InProgress → Successful (Lambda Developer Guide,
# "Lambda function states"; boto3's function_active_v2 waiter allows 300 s).
READY_TIMEOUT = 300.0


def _role_not_assumable_yet(error: BaseException) -> bool:
    return (error_code(error) == "InvalidParameterValueException"
            and "cannot be assumed" in error_message(error))


def _update_in_progress(error: BaseException) -> bool:
    """Lambda's ResourceConflictException for a function still Pending or being updated."""
    return (error_code(error) == "ResourceConflictException"
            and ("update is in progress" in error_message(error)
                 or "currently in the following state: Pending" in error_message(error)))


def _retry_role_propagation(call: Any, *, timeout: float = ROLE_PROPAGATION_TIMEOUT) -> Any:
    """Retry a call while IAM's eventual consistency says the new role cannot be assumed yet."""
    return retrying(call, retry_if=_role_not_assumable_yet, timeout=timeout, interval=5.0,
                    what="IAM to let Lambda assume the role")


def create_function(lab: Lab, role_arn: str, package: bytes | None = None) -> dict[str, Any]:
    """Create the function (the raw call of lesson 04); returns its configuration."""
    name = lab.names.function
    package = package if package is not None else build_zip()
    with friendly(f"create Lambda function {name}"):
        return _retry_role_propagation(lambda: lab.client("lambda").create_function(
            FunctionName=name, Runtime=RUNTIME, Handler=HANDLER, Role=role_arn,
            Code={"ZipFile": package}, Timeout=TIMEOUT_SECONDS, MemorySize=MEMORY_MB,
            Environment={"Variables": environment(lab)},
            Description="Stores one DynamoDB item per S3 object-created event",
        ))


def wait_until_ready(lab: Lab, name: str | None = None, *,
                     timeout: float = READY_TIMEOUT) -> dict[str, Any]:
    """Wait until the function is Active and its last update Successful; return its configuration.

    What boto3's function_active_v2 and function_updated_v2 waiters check, polled through the
    lab's one wait helper (on the moto backend the local clock moves instead of real time).
    Raises AwsError when Lambda says the function or its update Failed.
    """
    name = name or lab.names.function

    def ready() -> dict[str, Any] | None:
        function = get_function(lab, name)
        if function is None:
            raise missing("Lambda function", name, "function")
        if function.get("State") == "Failed" or function.get("LastUpdateStatus") == "Failed":
            reason = function.get("StateReason") or function.get("LastUpdateStatusReason") or ""
            raise AwsError(f"Lambda could not set up function {name}: {reason}",
                           code="Failed")
        done = (function.get("State", "Active") == "Active"
                and function.get("LastUpdateStatus", "Successful") == "Successful")
        return function if done else None

    return wait_until(ready, what=f"Lambda function {name} to be Active", timeout=timeout,
                      interval=2.0)


def _update(lab: Lab, call: Any, action: str) -> Any:
    """An update of the function, retried while Lambda says another one is still in progress."""
    with friendly(action):
        return retrying(call, retry_if=_update_in_progress, timeout=READY_TIMEOUT, interval=2.0,
                        what=f"the previous update of {lab.names.function} to finish")


def ensure_function(lab: Lab, role_arn: str | None = None, *, quiet: bool = False) -> str:
    """Get or create the function; update its code/settings when they changed; wait; return its ARN.

    Waits until the function is Active with its last update Successful before and after every
    update (Lambda refuses an update while another is in progress), so the function is ready to
    invoke when this returns. Prints one ✓ line: created, already exists, or updated.
    """
    from lab import iam

    name = lab.names.function
    role_arn = role_arn or iam.require_role(lab)["Arn"]
    package = build_zip()
    function = get_function(lab, name)
    if function is None:
        function = create_function(lab, role_arn, package)
        wait_until_ready(lab, name)
        if not quiet:
            print(f"✓ Created function {name}")
        return function["FunctionArn"]
    function = wait_until_ready(lab, name)  # still Pending, or another update in progress
    changes = []
    client = lab.client("lambda")
    if function["CodeSha256"] != code_sha256(package):
        _update(lab, lambda: client.update_function_code(FunctionName=name, ZipFile=package),
                f"update the code of {name}")
        wait_until_ready(lab, name)
        changes.append("code")
    settings = {"Role": role_arn, "Handler": HANDLER, "Runtime": RUNTIME,
                "Timeout": TIMEOUT_SECONDS, "MemorySize": MEMORY_MB}
    drift = {k: v for k, v in settings.items() if function.get(k) != v}
    current_env = function.get("Environment", {}).get("Variables", {})
    if current_env != environment(lab):
        drift["Environment"] = {"Variables": environment(lab)}
    if drift:
        _update(lab, lambda: _retry_role_propagation(lambda: client.update_function_configuration(
            FunctionName=name, **drift)), f"update the configuration of {name}")
        wait_until_ready(lab, name)
        changes.append("settings")
    if not quiet:
        if changes:
            print(f"✓ Function {name} already exists (updated its {' and '.join(changes)})")
        else:
            print(f"✓ Function {name} already exists")
    return function["FunctionArn"]


def invoke(lab: Lab, event: dict[str, Any], *, name: str | None = None) -> dict[str, Any]:
    """Invoke the function synchronously; returns status, request id, result, error and log tail.

    Waits first until the function is Active (Lambda refuses to invoke a Pending function). The
    request id is the invocation's own (read from the REPORT line of the log tail that
    ``LogType="Tail"`` returns), the one its START/END/REPORT lines carry. A reply that is not
    JSON raises AwsError with one sentence (an endpoint without a Lambda runner answers so).
    """
    name = name or lab.names.function
    wait_until_ready(lab, name)
    response = _update(lab, lambda: lab.client("lambda").invoke(
        FunctionName=name, InvocationType="RequestResponse", LogType="Tail",
        Payload=json.dumps(event).encode()), f"invoke {name}")
    payload = response["Payload"].read().decode("utf-8", "replace") or "null"
    tail = base64.b64decode(response.get("LogResult", "")).decode("utf-8", "replace")
    found = re.search(r"REPORT RequestId: (\S+)", tail)
    try:
        result = json.loads(payload)
    except ValueError:
        shown = " ".join(payload.split())
        shown = shown if len(shown) <= 80 else shown[:77] + "…"
        raise AwsError(
            f"{name} answered with a reply that is not JSON ({shown!r}), status "
            f"{response['StatusCode']}: the backend did not run the function's handler, which "
            "returns JSON; check that it runs Lambda functions (see the README's Backends).",
            code="NotJson") from None
    return {
        "StatusCode": response["StatusCode"],
        "RequestId": found.group(1) if found else response["ResponseMetadata"]["RequestId"],
        "FunctionError": response.get("FunctionError"),
        "Result": result,
        "LogTail": tail.splitlines(),
    }


def delete_function(lab: Lab, name: str | None = None) -> bool:
    """Delete the function (its resource policy goes with it); True if it existed."""
    name = name or lab.names.function
    if get_function(lab, name) is None:
        return False
    with friendly(f"delete Lambda function {name}"):
        lab.client("lambda").delete_function(FunctionName=name)
    return True


# -- the test event and the REPORT line (lesson 04) ------------------------------------------------

SAMPLE_KEY = "samples/my+file.txt"  # the key S3 sends for an upload named "samples/my file.txt"


def sample_event(lab: Lab, key: str = SAMPLE_KEY) -> dict[str, Any]:
    """The Console's **s3-put** test event for the lab's bucket, with ``key`` as S3 sends it.

    ``key`` must already be URL-encoded the way S3 encodes it (``quote_plus``); the object and
    the bucket need not exist, since the handler only reads the event.
    """
    bucket = lab.names.bucket
    return {"Records": [{
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": lab.region,
        "eventTime": "2025-11-25T08:00:00.000Z",
        "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "EXAMPLE"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": "EXAMPLE123456789",
                             "x-amz-id-2": "EXAMPLE123/5678abcdefghijklambdaisawesome/"
                                           "mnopqrstuvwxyzABCDEFGH"},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "testConfigRule",
            "bucket": {"name": bucket, "ownerIdentity": {"principalId": "EXAMPLE"},
                       "arn": f"arn:{lab.partition}:s3:::{bucket}"},
            "object": {"key": key, "size": 1024, "eTag": "0123456789abcdef0123456789abcdef",
                       "sequencer": "0A1B2C3D4E5F678901"},
        },
    }]}


def report_figures(line: str) -> dict[str, Any]:
    """The fields of a ``REPORT`` log line: numbers for ms/MB figures, text for the others.

    ``"REPORT RequestId: r\\tDuration: 15.74 ms\\tBilled Duration: 16 ms\\t…"`` gives
    ``{"RequestId": "r", "Duration": 15.74, "Billed Duration": 16.0, …}``; a cold start adds
    ``"Init Duration"``, a timeout ``"Status": "timeout"``.
    """
    figures: dict[str, Any] = {}
    for field in line.strip().removeprefix("REPORT ").split("\t"):
        name, _, value = field.partition(": ")
        number = re.fullmatch(r"([\d.]+) (?:ms|MB)", value.strip())
        figures[name.strip()] = float(number.group(1)) if number else value.strip()
    return figures
