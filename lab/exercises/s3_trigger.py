"""Exercises of lesson 05 · S3 trigger: the invoke permission, the notification, the first item."""

from __future__ import annotations

import re
import urllib.parse
from typing import Any

from lab import awslambda, dynamodb, s3
from lab.aws import friendly
from lab.checks import BuildExercise, Exercise, Wrong, require_connection
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



_REMOVE = ("s3.remove_permission(cloud) removes the statement (RemovePermission with the same "
           "FunctionName and StatementId); then run the cell again.")


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _principals(statement: dict[str, Any]) -> list[str]:
    """Who a statement names: ``{"Service": "s3.amazonaws.com"}`` → ``["s3.amazonaws.com"]``."""
    principal = statement.get("Principal")
    if isinstance(principal, dict):
        return [str(p) for values in principal.values() for p in _as_list(values)]
    return [str(principal)] if principal else []


def _condition(statement: dict[str, Any], key: str) -> str | None:
    """The value a statement's Condition gives ``key`` (any operator, any case), or None."""
    for entries in (statement.get("Condition") or {}).values():
        for name, value in entries.items():
            if name.lower() == key.lower():
                return ", ".join(str(v) for v in _as_list(value))
    return None


def _principal_problem(principal: str) -> str | None:
    if principal == "s3.amazonaws.com":
        return None
    if principal == "s3.amazon.com":
        return ("the Principal is 's3.amazon.com': service principals end in .amazonaws.com, "
                "not .amazon.com.")
    if principal == "lambda.amazonaws.com":
        return ("the Principal is 'lambda.amazonaws.com', Lambda itself. The Principal is who "
                "will call the function: the S3 service.")
    if principal.lower() in ("s3", "aws:s3", "amazon s3", "s3.amazonaws"):
        return (f"the Principal is {principal!r}: a service is named by its service principal, "
                "its full domain name <service>.amazonaws.com.")
    return (f"the Principal is {principal!r}, but the caller is the S3 service: its service "
            "principal is <service>.amazonaws.com.")


def _source_arn_problem(source_arn: str | None, cloud: Lab) -> str | None:
    bucket, wanted = cloud.names.bucket, s3.bucket_arn(cloud)
    if source_arn == wanted:
        return None
    if source_arn is None:
        return ("the statement has no SourceArn, so S3 may invoke the function for any bucket: "
                "pass the bucket's ARN as SourceArn.")
    parts = source_arn.split(":", 5)
    if "*" in source_arn:
        return (f"the SourceArn is {source_arn!r}: a wildcard lets S3 invoke the function for "
                "other buckets too. Name the lab's bucket only.")
    if source_arn == bucket:
        return ("the SourceArn is the bucket's name; it must be the bucket's ARN "
                "(arn:aws:s3:::…).")
    if source_arn.startswith(f"arn:{cloud.partition}:lambda:"):
        return ("the SourceArn is the function's ARN. SourceArn names the resource S3 acts for, "
                "the bucket: pass the bucket's ARN.")
    if len(parts) == 6 and parts[2] == "s3" and parts[5] == bucket and (parts[3] or parts[4]):
        return (f"the SourceArn is {source_arn!r}, but S3 bucket ARNs have neither Region nor "
                f"account id: {wanted}. S3 checks the exact ARN, so this one never matches.")
    if len(parts) == 6 and parts[2] == "s3":
        return (f"the SourceArn {source_arn!r} names another bucket; the lab's bucket is "
                f"{bucket} (cloud.names.bucket).")
    return f"the SourceArn is {source_arn!r}; it must be the ARN of the bucket {bucket}."


def _source_account_problem(source_account: str | None, cloud: Lab) -> str | None:
    if source_account == cloud.account_id:
        return None
    if source_account is None:
        return ("the statement has no SourceAccount. Bucket names are global: if the bucket is "
                "ever deleted, another account can create one with the same name — and the same "
                "ARN, which holds no account id. SourceAccount=cloud.account_id shuts it out.")
    return (f"the SourceAccount is {source_account!r}, but the bucket belongs to your account, "
            f"{cloud.account_id} (cloud.account_id): S3 would never match it.")


def _statement_problem(statement: dict[str, Any], cloud: Lab) -> str | None:
    """What is wrong with one statement letting S3 invoke the function, or None."""
    principals = _principals(statement)
    for principal in principals or ["(none)"]:
        problem = _principal_problem(principal)
        if problem:
            return problem
    if statement.get("Effect") != "Allow" or not any(
            a in ("lambda:InvokeFunction", "lambda:*", "*") for a in _as_list(statement.get("Action"))):
        return "the statement must Allow the action lambda:InvokeFunction."
    return (_source_arn_problem(_condition(statement, "aws:SourceArn"), cloud)
            or _source_account_problem(_condition(statement, "aws:SourceAccount"), cloud))


def _permission_problem(cloud: Lab) -> str | None:
    """Why S3 may not invoke the function for the lab's bucket (a sentence), or None when it may."""
    function = cloud.names.function
    if awslambda.get_function(cloud) is None:
        return f"the function {function} does not exist yet: run notebook 04_lambda_function first."
    statements = s3.policy_statements(cloud)
    if not statements:
        return (f"{function} has no resource policy yet, so nothing outside your account may "
                "invoke it: run the add_permission cell.")
    if any(_statement_problem(s, cloud) is None for s in statements):
        return None
    sid = s3.permission_statement_id(cloud)
    ours = [s for s in statements if s.get("Sid") == sid]
    statement = ours[0] if ours else statements[-1]
    problem = _statement_problem(statement, cloud)
    if ours:
        return f"{problem} {_REMOVE}"
    return (f"statement {statement.get('Sid')!r}: {problem} Remove it with "
            f"s3.remove_permission(cloud, {statement.get('Sid')!r}).")


def _built_permission(cloud: Lab) -> str:
    """Pass when the function's policy lets s3.amazonaws.com invoke it for the lab's bucket only."""
    problem = _permission_problem(cloud)
    if problem:
        raise Wrong(problem)
    return f"S3 may invoke it, for bucket {cloud.names.bucket} of your account only."


def _explain_add_permission(code: str, message: str, cloud: Lab) -> str | None:
    if code == "ResourceNotFoundException":
        return (f"the function {cloud.names.function} does not exist yet: run notebook "
                "04_lambda_function first.")
    if code == "InvalidParameterValueException" and "principal" in message.lower():
        return (f"AWS refused the Principal ({message}). A service is named by its service "
                "principal, <service>.amazonaws.com.")
    if code in ("InvalidParameterValueException", "ValidationException"):
        return (f"AWS refused a value: {message} SourceArn is an ARN (arn:…) and SourceAccount "
                "a 12-digit account id, as a string.")
    return None


def _notification_entries(cloud: Lab) -> list[dict[str, Any]]:
    with friendly(f"read the notifications of bucket {cloud.names.bucket}"):
        config = cloud.client("s3").get_bucket_notification_configuration(Bucket=cloud.names.bucket)
    return config.get("LambdaFunctionConfigurations", [])


def _events_problem(events: list[str]) -> str | None:
    wanted = s3.CREATED_EVENTS[0]
    if set(events) == {wanted}:
        return None
    shown = ", ".join(events)
    created = [e for e in events if e.startswith("s3:ObjectCreated:")]
    if not created:
        return (f"the notification listens to {shown}, and none of these is an object-create "
                "event: uploads would not invoke the function.")
    if wanted not in events:
        return (f"the notification listens to {shown} only: a copy (CopyObject) or a large file "
                "sent in parts (CompleteMultipartUpload) would not invoke the function. The seed "
                "chose All object create events: the * type of the ObjectCreated family.")
    extra = ", ".join(e for e in events if e != wanted)
    return (f"the notification also listens to {extra}: the function would run for those too. "
            "The seed triggers on object-create events only.")


def _built_trigger(cloud: Lab) -> str:
    """Pass when the bucket notifies the lab's function of every object-created event, only those."""
    bucket, name = cloud.names.bucket, cloud.names.function
    if s3.get_bucket(cloud) is None:
        raise Wrong(f"there is no bucket {bucket} yet: run s3.ensure_bucket(cloud) above.")
    function = awslambda.get_function(cloud)
    if function is None:
        raise Wrong(f"the function {name} does not exist yet: run notebook 04_lambda_function first.")
    entries = _notification_entries(cloud)
    mine = [e for e in entries if e["LambdaFunctionArn"] == function["FunctionArn"]]
    if not mine:
        others = ", ".join(e["LambdaFunctionArn"] for e in entries)
        raise Wrong(f"{bucket} notifies {others} but not {name}: pass the function's ARN, then "
                    "run the cell again." if others else
                    f"{bucket} has no Lambda notification yet: run the "
                    "put_bucket_notification_configuration cell.")
    events = list(dict.fromkeys(event for entry in mine for event in entry["Events"]))
    problem = _events_problem(events)
    if problem:
        raise Wrong(f"{problem} Run the cell again with the right Events: the call replaces the "
                    "bucket's whole configuration.")
    return f"the bucket notifies {name} of every object-created event ({', '.join(events)})."


def _explain_notification(code: str, message: str, cloud: Lab) -> str | None:
    if code == "NoSuchBucket":
        return f"there is no bucket {cloud.names.bucket} yet: run s3.ensure_bucket(cloud) above."
    if code != "InvalidArgument":
        return None
    if "not well formed" in message.lower():
        return ("S3 wants the function's full ARN in LambdaFunctionArn, arn:aws:lambda:<region>:"
                "<account id>:function:<name>, not its name: awslambda.get_function(cloud) "
                "holds it as FunctionArn.")
    if "not supported for notifications" in message.lower():
        named = re.search(r"event '([^']*)'", message)
        event = named.group(1) if named else None
        if event and not event.startswith("s3:"):
            return (f"S3 refused the event {event!r}: event types start with 's3:', "
                    f"e.g. 's3:{event}'.")
        if event and event.count(":") == 1:
            return (f"S3 refused the event {event!r}: a type needs its last part, e.g. "
                    f"{event + ':Put'!r} for one type or {event + ':*'!r} for all of them.")
        return ("S3 refused an event type (it does not say which). Types read "
                "s3:<family>:<type>, with * for every type of a family.")
    if "unable to validate" in message.lower():
        problem = _permission_problem(cloud)
        if problem:
            return ("S3 checked the function's policy, and it does not let S3 invoke the function "
                    f"for this bucket: {problem} Fix the add_permission exercise above first.")
        return ("S3 could not find a function at that LambdaFunctionArn: check its parts, the "
                "account id (cloud.account_id) too. If you just added the permission, S3 may not "
                "see it yet: wait a few seconds and run the cell again.")
    return None


def _trigger(cloud: Any) -> str:
    """Pass when the bucket exists, S3 may invoke the function for it, and it notifies on creates."""
    cloud = require_connection(cloud)
    if s3.get_bucket(cloud) is None:
        raise Wrong(f"there is no bucket {cloud.names.bucket} yet: run s3.ensure_bucket(cloud).")
    problem = _permission_problem(cloud)
    if problem:
        raise Wrong(problem)
    _built_trigger(cloud)
    return (f"S3 may invoke {cloud.names.function} for {cloud.names.bucket} only, and the bucket "
            "notifies it of every object-created event (s3:ObjectCreated:*).")


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
        return f"{keys.count(key)} item(s) for {key!r}: the trigger works, and the key is decoded."
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


build_permission = BuildExercise(
    title="Let S3 invoke the function",
    test=_built_permission,
    build=s3.ensure_permission,
    exists=("ResourceConflictException",),
    explain=_explain_add_permission,
    hints=(
        "Principal is who may call the function: a service is named by its service principal, "
        "<service>.amazonaws.com.",
        "SourceArn is the bucket's ARN. S3 bucket ARNs are shorter than most: bucket names are "
        "global, so the ARN holds neither Region nor account id — its two fields stay empty.",
        "SourceAccount is the 12-digit id of the account that owns the bucket: cloud.account_id.",
    ),
    solution_text=("# the three blanks of add_permission:\n"
                   'Principal="s3.amazonaws.com",\n'
                   'SourceArn=f"arn:{cloud.partition}:s3:::{cloud.names.bucket}",\n'
                   "SourceAccount=cloud.account_id,"),
)

build_trigger = BuildExercise(
    title="Notify the function",
    test=_built_trigger,
    build=s3.ensure_trigger,
    explain=_explain_notification,
    hints=(
        "LambdaFunctionArn is the function's full ARN: awslambda.get_function(cloud) returns the "
        "function's configuration, which holds it.",
        "Events is a list of event types, each s3:<family>:<type>; * stands for every type of a "
        "family.",
        "The family of every create event is ObjectCreated.",
    ),
    solution_text=("# the two blanks of the LambdaFunctionConfigurations entry:\n"
                   '"LambdaFunctionArn": awslambda.get_function(cloud)["FunctionArn"],\n'
                   '"Events": ["s3:ObjectCreated:*"],'),
)

trigger = Exercise(
    title="The S3 trigger",
    test=_trigger,
    hints=(
        "Three things are needed: the bucket, a statement in the function's resource policy "
        "that lets s3.amazonaws.com invoke it for this bucket, and the bucket's notification.",
        "s3.ensure_bucket(cloud) and s3.ensure_trigger(cloud) create what is missing.",
    ),
    solution_text="s3.ensure_bucket(cloud); s3.ensure_trigger(cloud)   # the lab's helpers",
)

first_item = Exercise(
    title="The first upload's item",
    test=_first_item,
    hints=(
        "Upload a file to the bucket, then wait for its item: verify.wait_for_items(cloud, [key]).",
        "If no item comes, check the trigger first: ex.trigger.check(cloud).",
    ),
    solution_text=("# upload a file, wait for its item, then check with the file's key:\n"
                   's3.upload(cloud, "notes/hello.txt", "hello\\n")\n'
                   'verify.wait_for_items(cloud, ["notes/hello.txt"])\n'
                   'ex.first_item.check(cloud, "notes/hello.txt")'),
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
