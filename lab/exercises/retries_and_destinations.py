"""Exercises of lesson 11 · Retries and destinations: the on-failure destination, a poison event, duplicates."""

from __future__ import annotations

import contextlib
import io
import re
from typing import Any

from lab import awslambda, destinations, dynamodb, iam, sqs
from lab.checks import BuildExercise, Exercise, Wrong, require_connection
from lab.connection import Lab

RECORD_KEYS = ("requestContext", "requestPayload", "responseContext", "responsePayload",
               "timestamp", "version")
ATTEMPTS = destinations.RETRY_ATTEMPTS + 1  # the first attempt and Lambda's two retries
SEED_ITEMS_FOR_TWO_DELIVERIES = 2  # the seed's uuid4 ids: every delivery is a new item
_ARN_PARTS = ("arn", "partition", "service", "region", "account id", "queue name")
_REJECTED_VALUE = re.compile(r"Value '(.*?)' at '([\w.]+)'")
_NAMED_ARN = re.compile(r"\bon (arn:\S+)")


# -- build_destination ------------------------------------------------------------------------

def _expected_queue_arn(cloud: Lab) -> str:
    return destinations.failure_queue_arn(cloud) or cloud.arn("sqs", destinations.queue_name(cloud))


def _destination_problem(value: str, cloud: Lab) -> str | None:
    """What is wrong with ``value`` as the failure queue's ARN; None when it is that ARN."""
    name = destinations.queue_name(cloud)
    wanted = _expected_queue_arn(cloud)
    if value == wanted:
        return None
    how = "pass the queue's ARN: the cell above printed it, and hint() says where else to find it."
    if value.startswith(("https://", "http://")):
        return (f"that is the queue's URL ({value}), the address only the SQS API uses. Lambda, "
                f"like every other service, names a queue by its ARN, arn:aws:sqs:<region>:"
                f"<account id>:<name>: {how}")
    if value == name:
        return (f"{value!r} is the queue's name; Lambda needs the queue's full ARN, which also "
                f"says where the queue is (region and account): {how}")
    if value.startswith(f"arn:{cloud.partition}:lambda:") or value == cloud.names.function:
        return ("that is a Lambda function's ARN — the function itself. Lambda would hand the "
                "failed event straight back to the function that just failed on it three times. "
                f"The destination is the queue {name}: {how}")
    parts, right = value.split(":"), wanted.split(":")
    if len(parts) != len(right):
        return (f"{value!r} is not an SQS queue's ARN: that has {len(right)} parts separated by "
                f"':' ({', '.join(_ARN_PARTS)}); yours has {len(parts)}. {how[0].upper()}{how[1:]}")
    for part, mine, theirs in zip(_ARN_PARTS, parts, right):
        if mine == theirs:
            continue
        if part == "account id" and not mine:
            return (f"the account id is missing from {value!r} (two colons in a row). An SQS ARN "
                    f"needs it, {theirs} (cloud.account_id); without it the ARN points at no "
                    f"queue, and the role's permission (which names the full ARN) does not "
                    f"cover it: {how}")
        return (f"the {part} part of your ARN is {mine!r}, but the failure queue's is {theirs!r}: "
                f"{how}")
    return f"{value!r} is not the failure queue's ARN: {how}"


def _built_destination(cloud: Lab) -> str:
    """Pass when the function retries twice, then sends failed events to the failure queue's ARN."""
    function = cloud.names.function
    config = destinations.get_async_config(cloud)
    if config is None:
        raise Wrong(f"{function} has no asynchronous invocation settings of its own yet: run the "
                    "cell with the queue's ARN in place of ____.")
    retries = config.get("MaximumRetryAttempts")
    if retries != destinations.RETRY_ATTEMPTS:
        raise Wrong(f"MaximumRetryAttempts is {retries}: Lambda would try an event only "
                    f"{(retries or 0) + 1} time(s) before giving up on it, and a failure that heals "
                    "by itself (a throttled write) would land in the queue too. The lesson keeps "
                    "the default: put MaximumRetryAttempts=2 back and run the cell again.")
    target = destinations.on_failure_target(config)
    if target is None:
        raise Wrong(f"{function} has no OnFailure destination: DestinationConfig needs "
                    "{'OnFailure': {'Destination': <the queue's ARN>}}. Run the cell again.")
    problem = _destination_problem(target, cloud)
    if problem:
        raise Wrong(problem + " Running the cell again replaces the settings.")
    if destinations.failure_queue_arn(cloud) is None:
        raise Wrong(f"the destination names {destinations.queue_name(cloud)}, but that queue "
                    "does not exist: run the cell that creates it (above), then this one again.")
    return (f"{function} retries a failed event {retries} times, then sends it to "
            f"{destinations.queue_name(cloud)}.")


def _explain_put_config(code: str, message: str, cloud: Lab) -> str | None:
    rejected = _REJECTED_VALUE.search(message)
    value, field = (rejected.group(1), rejected.group(2)) if rejected else ("", "")
    if code == "ValidationException" and field.lower() == "maximumretryattempts":
        return (f"MaximumRetryAttempts can be 0, 1 or 2, not {value}: Lambda retries an "
                "asynchronous event at most twice. Put 2 back and run the cell again.")
    if code == "ValidationException" and "destination" in field.lower():
        return "AWS refused the Destination: " + (_destination_problem(value, cloud) or
                                                  "it must be an ARN.")
    if code == "InvalidParameterValueException" and "InvokeFunction" in message:
        return ("that is a Lambda function's ARN: Lambda would have to invoke a function, and "
                "the role may not. The destination is the failure queue's ARN.")
    if code == "InvalidParameterValueException" and "SendMessage" in message:
        named = _NAMED_ARN.search(message)
        problem = _destination_problem(named.group(1).rstrip(".,"), cloud) if named else None
        if problem:
            return problem
        return (f"AWS says the role may not send to that queue ({message}). Either the "
                "Destination is not exactly the queue's ARN (is the account id in it?) — the "
                "role's policy names that exact ARN — or IAM has not spread the new policy yet: "
                "wait ten seconds and run the cell again.")
    if code == "ResourceNotFoundException":
        return (f"AWS found no such function: FunctionName stays cloud.names.function "
                f"({cloud.names.function}).")
    return None


# -- the poison event, the replay, the clean-up -------------------------------------------------

def _record(cloud: Lab) -> dict[str, Any]:
    """The newest invocation record in the failure queue, waiting a little as the lesson does."""
    queue = destinations.queue_name(cloud)
    if sqs.get_queue_url(cloud, queue) is None:
        raise Wrong(f"there is no queue {queue}: run the cells of section 1 from the top.")
    with contextlib.redirect_stdout(io.StringIO()):  # the check says it in its own sentence
        record = destinations.failure_record(cloud, timeout=None if cloud.is_local else 20)
    if record is None:
        if sqs.receive_messages(cloud, queue):
            raise Wrong(f"the messages in {queue} are not Lambda invocation records: send "
                        "nothing to the queue by hand.")
        raise Wrong(f"{queue} holds no invocation record yet: Lambda sends it only after the "
                    "third failed attempt — let time pass (both retries), then check again.")
    return record


def _destination(cloud: Any) -> str:
    """Pass when the failure queue holds the record of an S3 event that failed all three attempts."""
    cloud = require_connection(cloud)
    record = _record(cloud)
    missing = [key for key in RECORD_KEYS if key not in record]
    if missing:
        raise Wrong(f"that is not a Lambda invocation record: it lacks {', '.join(missing)}.")
    context = record["requestContext"]
    condition = context.get("condition")
    if condition != "RetriesExhausted":
        raise Wrong(f"the record's condition is {condition!r}, not 'RetriesExhausted': this "
                    "event was given up for another reason (EventAgeExceeded: it waited in "
                    "Lambda's queue longer than MaximumEventAgeInSeconds).")
    count = context.get("approximateInvokeCount")
    if count != ATTEMPTS:
        raise Wrong(f"the record says {count} attempt(s), not {ATTEMPTS}: put "
                    "MaximumRetryAttempts=2 back (the exercise's cell), then upload again.")
    if (record.get("responseContext") or {}).get("functionError") != "Unhandled":
        raise Wrong("the record has no functionError: it was not a failed invocation.")
    keys = destinations.event_keys(record.get("requestPayload"))
    if not keys:
        raise Wrong("the record's requestPayload is not an S3 event: upload a file to the "
                    "bucket while the function is broken, not a hand-made event.")
    if destinations.on_failure_target(destinations.get_async_config(cloud)) is None:
        raise Wrong(f"{cloud.names.function} has no on-failure destination any more: the next "
                    "poison event would be dropped after its retries.")
    error = (record.get("responsePayload") or {}).get("errorType", "an error")
    return (f"Lambda tried {count} times, then sent the S3 event of {keys[0]!r} to "
            f"{destinations.queue_name(cloud)} (RetriesExhausted, {error}).")


def _one_item(cloud: Any) -> str:
    """Pass when exactly one item stands for the event in the failure record, however often delivered."""
    cloud = require_connection(cloud)
    event = _record(cloud).get("requestPayload")
    keys = destinations.event_keys(event)
    if not keys:
        raise Wrong("the record in the queue holds no S3 event to replay.")
    key, event_time = keys[0], event["Records"][0].get("eventTime")
    copies = [item for item in dynamodb.scan_items(cloud)
              if item.get("objectKey") == key and item.get("eventTime") == event_time]
    if not copies:
        table = awslambda.require_function(cloud).get("Environment", {}).get(
            "Variables", {}).get("TABLE_NAME")
        if table != cloud.names.table:
            raise Wrong(f"the function still writes to {table!r}: fix its TABLE_NAME "
                        "(awslambda.ensure_function(cloud)), then replay the event.")
        raise Wrong(f"no item for {key!r} yet: replay the event from the record "
                    "(awslambda.invoke(cloud, record['requestPayload'])).")
    if len(copies) > 1:
        raise Wrong(f"{len(copies)} items for one event: the function must derive objectId "
                    "from the event and write only if it is new (lesson 04).")
    return (f"one item for the upload of {key!r}: a redelivered event gets the same objectId, "
            "and the conditional write stores nothing the second time.")


def _seed_items(answer: Any) -> str:
    """Pass for 2: the seed's random ids store every delivery of the same event."""
    if isinstance(answer, bool) or not isinstance(answer, (int, float)) or answer != int(answer):
        raise Wrong("give a whole number of items, e.g. answer = 5.")
    answer = int(answer)
    if answer == 1:
        raise Wrong("1 is what the lab's handler stores. The seed's handler took a new "
                    "uuid.uuid4() as objectId on every run, and wrote without a condition.")
    if answer == 0:
        raise Wrong("0 would mean the seed's handler refused both deliveries; it stored whatever "
                    "it was given. How many times did it run?")
    if answer != SEED_ITEMS_FOR_TWO_DELIVERIES:
        raise Wrong(f"{answer} is not it: count the deliveries, and remember that each "
                    "uuid.uuid4() is new.")
    return ("2: every delivery draws a new uuid4, so the condition-free put_item stores a "
            "second item for the same upload. Counting uploads from the table would be wrong.")


def _cleaned_up(cloud: Any) -> str:
    """Pass when the queue, inline policy and asynchronous settings of lesson 11 are gone again."""
    cloud = require_connection(cloud)
    name = cloud.names.function
    if destinations.get_async_config(cloud) is not None:
        raise Wrong(f"{name} still has asynchronous invocation settings: "
                    "destinations.remove(cloud) deletes them.")
    if destinations.policy_name(cloud) in iam.inline_policies(cloud):
        raise Wrong(f"the role {cloud.names.role} still has the inline policy "
                    f"{destinations.policy_name(cloud)}: destinations.remove(cloud) deletes it.")
    if sqs.get_queue_url(cloud, destinations.queue_name(cloud)) is not None:
        raise Wrong(f"the queue {destinations.queue_name(cloud)} still exists: "
                    "destinations.remove(cloud) deletes it.")
    variables = awslambda.require_function(cloud).get("Environment", {}).get("Variables", {})
    if variables != awslambda.environment(cloud):
        raise Wrong(f"{name} does not have the lab's settings ({variables}): "
                    "awslambda.ensure_function(cloud) puts them back.")
    return (f"no queue, no extra policy, no asynchronous settings; {name} writes to "
            f"{cloud.names.table} again.")


build_destination = BuildExercise(
    title="Send failed events to the queue",
    test=_built_destination,
    build=destinations.ensure_on_failure,
    explain=_explain_put_config,
    hints=(
        "Lambda names every other resource by its ARN, never by a URL or a bare name.",
        "An SQS queue's ARN reads arn:aws:sqs:<region>:<account id>:<queue name>; the cell that "
        "created the queue printed it, and destinations.failure_queue_arn(cloud) returns it.",
    ),
    solution_text=("queue_arn = destinations.failure_queue_arn(cloud)   # the ARN the queue's cell "
                   "printed\n"
                   'DestinationConfig={"OnFailure": {"Destination": queue_arn}}   '
                   "# MaximumRetryAttempts stays 2"),
)

destination = Exercise(
    title="Section 1 · the poison event reached the queue",
    test=_destination,
    hints=("The record only arrives after the third attempt: let a minute pass, then two more "
           "(verify.pass_time), and run the check again.",
           "Nothing arrives when the function has no destination: run the exercise's cell, or "
           "destinations.ensure_on_failure(cloud), before the upload."),
    solution_text="Run the cells of section 1 in order: the destination (the exercise), the bad "
                  "deploy, the upload, then let three minutes pass; the record waits in the queue.",
)

one_item = Exercise(
    title="Section 2 · two deliveries, one item",
    test=_one_item,
    hints=("The event to replay is record['requestPayload']: exactly what S3 sent.",
           "Fix TABLE_NAME first (awslambda.ensure_function(cloud)), then invoke the function "
           "with that event, twice."),
    solution_text="Fix the deploy with the lab's helper for the function, then run the replay "
                  "cell: it invokes the function twice with the record's requestPayload.",
)

q2 = Exercise(
    title="Items the seed's handler would store",
    test=_seed_items,
    hints=("The seed's handler wrote item = {'objectId': str(uuid.uuid4()), …} with a plain "
           "put_item.",
           "Two deliveries, two runs of the handler, two different uuid4 values."),
    solution_text="answer = 2   # a new uuid4 per run and no condition: one item per delivery",
)

cleaned_up = Exercise(
    title="Lesson 11 · cleaned up",
    test=_cleaned_up,
    hints=("Undo in reverse: the asynchronous invocation settings, the inline policy, the queue.",
           "destinations.remove(cloud) does all three; awslambda.ensure_function(cloud) puts "
           "TABLE_NAME back."),
    solution_text="Run the clean-up cell at the end of the lesson (it calls the lab's helper "
                  "that deletes the settings, the policy and the queue).",
)
