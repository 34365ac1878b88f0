"""Exercises of lesson 05 · S3 trigger: the bucket, the invoke permission, the notification, the first item."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from lab import awslambda, dynamodb, s3
from lab.aws import error_code, friendly
from lab.checks import Exercise, Wrong, require_connection
from lab.connection import Lab

# The S3 API calls the "Your turn" asks about, and the event each one sends (None: no event).
CANDIDATES = {
    "PutObject": "s3:ObjectCreated:Put",
    "CopyObject": "s3:ObjectCreated:Copy",
    "CompleteMultipartUpload": "s3:ObjectCreated:CompleteMultipartUpload",
    "DeleteObject": "s3:ObjectRemoved:Delete",
    "GetObject": None,
    "PutObjectTagging": "s3:ObjectTagging:Put",
}
TRIGGERING = frozenset(name for name, event in CANDIDATES.items()
                       if event and event.startswith("s3:ObjectCreated:"))
_WHY_NOT = {
    "DeleteObject": "DeleteObject sends s3:ObjectRemoved:Delete, and the trigger listens only to "
                    "s3:ObjectCreated:*",
    "GetObject": "GetObject only reads: S3 sends no event notification for reads",
    "PutObjectTagging": "PutObjectTagging changes the tags of an existing object and sends "
                        "s3:ObjectTagging:Put, which is not an ObjectCreated event",
}
_WHY = {
    "PutObject": "PutObject (a plain upload) creates an object: s3:ObjectCreated:Put",
    "CopyObject": "CopyObject creates a new object from an existing one: s3:ObjectCreated:Copy",
    "CompleteMultipartUpload": "CompleteMultipartUpload creates the object a large upload was "
                               "sent in parts for: s3:ObjectCreated:CompleteMultipartUpload",
}



def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _s3_statements(cloud: Lab) -> list[dict[str, Any]]:
    """The statements of the function's resource policy that allow S3 to invoke it."""
    from botocore.exceptions import ClientError

    try:
        raw = cloud.client("lambda").get_policy(FunctionName=cloud.names.function)["Policy"]
    except ClientError as error:
        if error_code(error) == "ResourceNotFoundException":
            return []
        raise
    allowing = []
    for statement in _as_list(json.loads(raw).get("Statement", [])):
        principal = statement.get("Principal") or {}
        services = _as_list(principal.get("Service", [])) if isinstance(principal, dict) else []
        if statement.get("Effect") == "Allow" and "s3.amazonaws.com" in services and \
                "lambda:InvokeFunction" in _as_list(statement.get("Action", [])):
            allowing.append(statement)
    return allowing


def _source_arns(statement: dict[str, Any]) -> list[str]:
    arns = []
    for operator in ("ArnLike", "ArnEquals", "StringEquals", "StringLike"):
        for name, value in (statement.get("Condition") or {}).get(operator, {}).items():
            if name.lower() == "aws:sourcearn":
                arns.extend(_as_list(value))
    return arns


def _trigger(cloud: Any) -> str:
    """Pass when the bucket exists, S3 may invoke the function for it, and it notifies on creates."""
    cloud = require_connection(cloud)
    bucket, name = cloud.names.bucket, cloud.names.function
    if s3.get_bucket(cloud) is None:
        raise Wrong(f"there is no bucket {bucket} yet: run the create_bucket cell above, or "
                    "s3.ensure_bucket(cloud).")
    if awslambda.get_function(cloud) is None:
        raise Wrong(f"the function {name} does not exist: run lesson 04 first.")
    bucket_arn = f"arn:aws:s3:::{bucket}"
    statements = _s3_statements(cloud)
    if not statements:
        raise Wrong(f"the resource policy of {name} does not let s3.amazonaws.com call "
                    "lambda:InvokeFunction, so S3 could not invoke it: run the add_permission "
                    "cell above, or s3.allow_s3_to_invoke(cloud).")
    scoped = [s for s in statements if bucket_arn in _source_arns(s)]
    if not scoped:
        raise Wrong(f"S3 may invoke {name}, but not on behalf of {bucket}: the statement's "
                    f"AWS:SourceArn condition should be {bucket_arn} "
                    "(s3.allow_s3_to_invoke(cloud) adds such a statement).")
    with friendly(f"read the notifications of bucket {bucket}"):
        config = cloud.client("s3").get_bucket_notification_configuration(Bucket=bucket)
    entries = [e for e in config.get("LambdaFunctionConfigurations", [])
               if e["LambdaFunctionArn"].split(":")[6] == name]
    if not entries:
        raise Wrong(f"{bucket} has no event notification for {name} yet: run the "
                    "put_bucket_notification_configuration cell above, or s3.ensure_trigger(cloud).")
    events = sorted({event for entry in entries for event in entry["Events"]})
    if "s3:ObjectCreated:*" not in events:
        raise Wrong(f"the notification listens to {', '.join(events)}; the seed chose *All object "
                    "create events*, s3:ObjectCreated:* (s3.ensure_trigger(cloud) sets it).")
    return (f"S3 may invoke {name} for {bucket} only, and the bucket notifies it of every "
            "object-created event (s3:ObjectCreated:*).")


def _first_item(cloud: Any, key: Any) -> str:
    """Pass when the table holds an item whose objectKey is the uploaded key, decoded."""
    cloud = require_connection(cloud)
    if not isinstance(key, str) or not key:
        raise Wrong(f"pass the key you uploaded, e.g. check(cloud, key); you gave {key!r}.")
    if key not in s3.list_keys(cloud):
        raise Wrong(f"there is no object {key!r} in {cloud.names.bucket}: run the upload cell "
                    "above first.")
    keys = [item.get("objectKey") for item in dynamodb.scan_items(cloud)]
    if key in keys:
        return (f"{keys.count(key)} item(s) for {key!r}: the upload triggered the function, "
                "which stored the key as it was uploaded.")
    if urllib.parse.quote_plus(key, safe="/") in keys:
        raise Wrong(f"the table holds {urllib.parse.quote_plus(key, safe='/')!r}, the key still "
                    "URL-encoded (the seed's bug): deploy the lab's handler with "
                    "awslambda.ensure_function(cloud) and upload again.")
    raise Wrong(f"no item for {key!r} yet. Is the trigger in place (ex.trigger.check(cloud))? "
                "On AWS, give it a few seconds: verify.wait_for_items(cloud, [key]) waits.")


def _triggering_calls(answer: Any) -> str:
    """Pass when ``answer`` names exactly the candidate calls that send an ObjectCreated event."""
    if isinstance(answer, str) or not isinstance(answer, (set, frozenset, list, tuple)):
        raise Wrong('give a set of call names, e.g. {"PutObject", "GetObject"}; '
                    f"you gave {answer!r}.")
    canonical = {name.lower(): name for name in CANDIDATES}
    unknown = [a for a in answer if not isinstance(a, str) or a.strip().lower() not in canonical]
    if unknown:
        raise Wrong(f"{unknown[0]!r} is not one of the candidates: "
                    f"{', '.join(sorted(CANDIDATES))}.")
    chosen = {canonical[a.strip().lower()] for a in answer}
    extra = sorted(chosen - TRIGGERING)
    if extra:
        raise Wrong(f"{_WHY_NOT[extra[0]]}. Which of the others create an object?")
    missing = sorted(TRIGGERING - chosen)
    if missing:
        raise Wrong(f"{len(missing)} more call(s) create an object. Think of copies and of large "
                    "files sent in parts.")
    return ("; ".join(_WHY[name] for name in sorted(TRIGGERING)) + ". The other three send "
            "no ObjectCreated event.")


trigger = Exercise(
    title="The S3 trigger",
    test=_trigger,
    hints=(
        "Three things are needed: the bucket, a statement in the function's resource policy "
        "that lets s3.amazonaws.com invoke it for this bucket, and the bucket's notification.",
        "s3.ensure_bucket(cloud) and s3.ensure_trigger(cloud) create what is missing.",
    ),
    solution_text="from lab import s3\ns3.ensure_bucket(cloud)\ns3.ensure_trigger(cloud)",
)

first_item = Exercise(
    title="The first upload's item",
    test=_first_item,
    hints=(
        "Upload a file to the bucket, then wait for its item: verify.wait_for_items(cloud, [key]).",
        "If no item comes, check the trigger first: ex.trigger.check(cloud).",
    ),
    solution_text=('key = "uploads/my first file.txt"\n'
                   's3.upload(cloud, key, "hello\\n")\n'
                   "verify.wait_for_items(cloud, [key])\n"
                   "ex.first_item.check(cloud, key)"),
)

q1 = Exercise(
    title="Which calls trigger the function",
    test=_triggering_calls,
    hints=(
        "The trigger listens to s3:ObjectCreated:*: only calls that create an object (a new "
        "object or a new version of one) count.",
        "Reading and deleting create nothing; neither does changing an existing object's tags.",
        "Three calls create objects: a plain upload, a copy, and the last step of a multipart "
        "upload.",
    ),
    solution_text='answer = {"PutObject", "CopyObject", "CompleteMultipartUpload"}',
)
