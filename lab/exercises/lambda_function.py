"""Exercises of lesson 04 · Lambda function: the deployed function, the test invoke, decoding keys."""

from __future__ import annotations

import urllib.parse
from typing import Any

from lab import awslambda, dynamodb, iam
from lab.checks import Exercise, Wrong, require_connection

# The lesson's test event carries the key as S3 sends it for an upload named "samples/my file.txt".
SAMPLE_RAW_KEY = "samples/my+file.txt"
SAMPLE_KEY = "samples/my file.txt"
# The "Your turn" key, as it appears in an S3 event record.
RAW_KEY = "photos/summer+2025/beach%2Bsun.jpg"
DECODED_KEY = "photos/summer 2025/beach+sun.jpg"  # urllib.parse.unquote_plus(RAW_KEY)



def _function(cloud: Any) -> str:
    """Pass when the function runs handler/ on python3.12 as the lab's role, with its settings."""
    cloud = require_connection(cloud)
    name = cloud.names.function
    function = awslambda.get_function(cloud)
    if function is None:
        raise Wrong(f"there is no function {name} yet: run the create_function cell above, or "
                    "awslambda.ensure_function(cloud).")
    redeploy = "awslambda.ensure_function(cloud) puts it right."
    if function.get("Runtime") != awslambda.RUNTIME:
        raise Wrong(f"it runs on {function.get('Runtime')!r}, the seed chose "
                    f"{awslambda.RUNTIME!r}: {redeploy}")
    if function.get("Handler") != awslambda.HANDLER:
        raise Wrong(f"its handler is {function.get('Handler')!r}, so Lambda would look for the "
                    f"wrong file or function; it should be {awslambda.HANDLER!r} (file "
                    f"lambda_function.py, function lambda_handler): {redeploy}")
    role = iam.get_role(cloud)
    if role is None or function.get("Role") != role["Arn"]:
        raise Wrong(f"it does not run as the role {cloud.names.role} of lesson 03 (its role is "
                    f"{function.get('Role')!r}): {redeploy}")
    variables = (function.get("Environment") or {}).get("Variables") or {}
    if variables.get("TABLE_NAME") != cloud.names.table:
        raise Wrong(f"its environment variable TABLE_NAME is {variables.get('TABLE_NAME')!r}, so "
                    f"it would not write to {cloud.names.table}: {redeploy}")
    if function.get("CodeSha256") != awslambda.code_sha256(awslambda.build_zip()):
        raise Wrong("its code differs from handler/lambda_function.py (the CodeSha256 Lambda "
                    "reports is not the one of awslambda.build_zip()): deploy the current code "
                    f"with {redeploy}")
    return (f"{name} runs {awslambda.HANDLER} on {awslambda.RUNTIME} as {cloud.names.role}, "
            f"writes to {cloud.names.table}, and its code is the current handler/ "
            f"(CodeSha256 {function['CodeSha256']}).")


def _test_item(cloud: Any) -> str:
    """Pass when the test invoke stored an item for the decoded sample key."""
    cloud = require_connection(cloud)
    if awslambda.get_function(cloud) is None:
        raise Wrong(f"the function {cloud.names.function} does not exist yet: deploy it first.")
    keys = {item.get("objectKey") for item in dynamodb.scan_items(cloud)}
    if SAMPLE_KEY in keys:
        return (f"the table holds an item for {SAMPLE_KEY!r}: the handler decoded "
                f"{SAMPLE_RAW_KEY!r} back into the name that was uploaded.")
    if SAMPLE_RAW_KEY in keys:
        raise Wrong(f"the table holds {SAMPLE_RAW_KEY!r}, the key still URL-encoded: that is the "
                    "seed's bug. Deploy the lab's handler (awslambda.ensure_function(cloud)) and "
                    "invoke it again.")
    raise Wrong(f"no item for {SAMPLE_KEY!r} yet: run the cell that invokes the function with "
                "the sample event (awslambda.invoke(cloud, sample_event)).")


def _decoded_key(answer: Any) -> str:
    """Pass when ``answer`` is the name the uploader gave the object whose event key is RAW_KEY."""
    if not isinstance(answer, str):
        raise Wrong(f"write the object's name as a string, e.g. \"photos/…\"; you gave {answer!r}.")
    if answer == DECODED_KEY:
        return (f"{RAW_KEY!r} is {DECODED_KEY!r}: '+' was a space and '%2B' a real plus sign "
                "(urllib.parse.unquote_plus does exactly this).")
    if answer == RAW_KEY:
        raise Wrong("that is the key exactly as the event carries it, which is what the seed "
                    "stored. Decode it: what did '+' and '%2B' stand for before S3 encoded them?")
    if answer == urllib.parse.unquote(RAW_KEY):
        raise Wrong("'%2B' is right, it was a '+'. But S3 encodes keys like a web form, where a "
                    "'+' in the encoded text stands for a space.")
    if answer == RAW_KEY.replace("+", " "):
        raise Wrong("the spaces are right. One escape is left: '%2B' is the encoding of one "
                    "character (hex 2B in ASCII).")
    if answer.strip() != answer:
        raise Wrong("leading or trailing spaces are part of a key: remove them.")
    raise Wrong(f"{answer!r} is not the uploaded name. Decode {RAW_KEY!r} step by step: '+' "
                "and '%2B' are the only encoded parts.")


function = Exercise(
    title="The deployed function",
    test=_function,
    hints=(
        "Run the cells above that build the zip and create the function.",
        "awslambda.ensure_function(cloud) creates the function, or updates its code and settings "
        "when they differ from handler/ and the lab's configuration.",
    ),
    solution_text="from lab import awslambda\nawslambda.ensure_function(cloud)",
)

test_item = Exercise(
    title="The test invoke's item",
    test=_test_item,
    hints=(
        "Invoke the function with the sample event of this lesson, then check again.",
        "The event's key is samples/my+file.txt; the item's objectKey should be the decoded "
        "samples/my file.txt.",
    ),
    solution_text="result = awslambda.invoke(cloud, sample_event)\nex.test_item.check(cloud)",
)

q1 = Exercise(
    title="Decode an event key",
    test=_decoded_key,
    hints=(
        "Two things in the key are encoded: every '+' and the '%2B'.",
        "S3 encodes keys as an HTML form does: a space becomes '+', and characters that would be "
        "ambiguous, such as a real '+', become '%' and their hex code.",
        "'%2B' is hex 2B = 43, the ASCII code of '+'.",
    ),
    solution_text=(f"answer = {DECODED_KEY!r}\n"
                   f"# or: urllib.parse.unquote_plus({RAW_KEY!r})"),
)
