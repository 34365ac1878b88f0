"""Exercises of lesson 04 · Lambda function: create the function, the test invoke, decoding keys."""

from __future__ import annotations

import re
import textwrap
import urllib.parse
from typing import Any

from lab import awslambda, dynamodb, iam
from lab.checks import BuildExercise, Exercise, Wrong, require_connection
from lab.connection import Lab

# The lesson's test event carries the key as S3 sends it for an upload named "samples/my file.txt".
SAMPLE_RAW_KEY = awslambda.SAMPLE_KEY  # "samples/my+file.txt"
SAMPLE_KEY = "samples/my file.txt"
# The "Your turn" key, as it appears in an S3 event record.
RAW_KEY = "photos/summer+2025/beach%2Bsun.jpg"
DECODED_KEY = "photos/summer 2025/beach+sun.jpg"  # urllib.parse.unquote_plus(RAW_KEY)



BUILD_TITLE = "Create the function"
_HANDLER_FORM = "<file without .py>.<function name>"
_FIX_IN_PLACE = ("Fix it in place with lambda_client.update_function_configuration("
                 "FunctionName=cloud.names.function, {setting}=…).")


def _say(text: str, title: str = BUILD_TITLE) -> str:
    """``text`` wrapped to ~100 columns, its first line shortened by the "✗ <title>: " prefix."""
    prefix = " " * (len(title) + 4)
    kept = text.replace(_HANDLER_FORM, _HANDLER_FORM.replace(" ", "\u00a0"))  # not split
    return textwrap.fill(kept, width=100, initial_indent=prefix, subsequent_indent="  ",
                         break_on_hyphens=False).removeprefix(prefix).replace("\u00a0", " ")


def _handler_problem(handler: str) -> str:
    """Why ``handler`` is not the setting that makes Lambda call handler/'s lambda_handler."""
    form = f"a handler is {_HANDLER_FORM}"
    module, _, name = handler.rpartition(".")
    if not module:
        why = (f"its handler is {handler!r}, a function name alone: {form}, and with no file part "
               "every invoke fails with Runtime.MalformedHandlerName.")
    elif module.endswith(".py"):
        why = (f"its handler is {handler!r}: {form}, and with the .py Lambda imports a module "
               f"called {module!r}, which fails with Runtime.ImportModuleError.")
    elif module == "lambda_function":
        why = (f"its handler is {handler!r}: {form}, and lambda_function.py has no function "
               f"called {name!r}, so every invoke fails with Runtime.HandlerNotFound.")
    elif module == "handler":
        why = (f"its handler is {handler!r}: {form}, and handler/ is the folder the zip was made "
               "from, not a file in it (Runtime.ImportModuleError: No module named 'handler').")
    else:
        why = (f"its handler is {handler!r}: {form}, so Lambda would import {module}.py, but the "
               "zip holds lambda_function.py.")
    return f"{why} {_FIX_IN_PLACE.format(setting='Handler')}"


def _runtime_problem(runtime: str) -> str:
    """Why ``runtime`` is not the runtime this lab deploys the handler on."""
    version = re.fullmatch(r"python3\.(\d+)", runtime)
    if runtime == "python3":
        why = ("'python3' names no version, but a runtime is one exact version of Python "
               "(AWS refuses 'python3' with InvalidParameterValueException).")
    elif version and int(version.group(1)) < 10:
        why = (f"it runs on {runtime!r}, an older Python than the seed's 3.12 (and one AWS "
               "retires sooner). The handler would not even import there: type hints like "
               "str | None need Python 3.10 or later.")
    elif version:
        why = (f"it runs on {runtime!r}. The handler would work there, but the seed chose Python "
               "3.12 and the rest of the lab (and its helper) deploys on it.")
    elif runtime.replace(" ", "").lower().startswith("python"):
        why = (f"{runtime!r} is how the Console writes it; the API's runtime identifiers are "
               "lower case without spaces, like python3.11.")
    else:
        why = (f"it runs on {runtime!r}, not Python: the handler is a Python file, and the seed "
               "chose Python 3.12.")
    return f"{why} {_FIX_IN_PLACE.format(setting='Runtime')}"


def _role_problem(role: str, cloud: Lab) -> str:
    """Why ``role`` (a Role value) is not the ARN of the lab's role."""
    name = cloud.names.role
    form = "arn:aws:iam::<account id>:role/<role name>"
    if role == name:
        return (f"{role!r} is the role's name, but Role takes the role's ARN, {form} (IAM ARNs "
                "have no region). iam.get_role(cloud) returns the role as a dict: look for its "
                "ARN there.")
    if re.fullmatch(r"arn:aws[a-z-]*:iam::role/.*", role):
        return (f"{role!r} has no account id: an IAM ARN leaves the region empty but not the "
                f"account, {form}. The account id is cloud.account_id — or take the role's ARN "
                "from iam.get_role(cloud).")
    if re.fullmatch(r"AROA[A-Z0-9]+", role):
        return (f"{role!r} is the role's RoleId; Role takes its ARN, {form}, which "
                "iam.get_role(cloud) also holds.")
    return (f"Role is {role!r}, but it should be the ARN of lesson 03's role {name}, {form}: "
            "iam.get_role(cloud) holds it.")


def _built_function(cloud: Lab) -> str:
    """Pass when the function exists, is Active, and runs handler/ as the lab deploys it."""
    name = cloud.names.function
    function = awslambda.get_function(cloud)
    if function is None:
        raise Wrong(_say(f"there is no function {name} yet: fill in the blanks of the "
                         "create_function cell and run it."))
    if function.get("Handler") != awslambda.HANDLER:
        raise Wrong(_say(_handler_problem(str(function.get("Handler")))))
    if function.get("Runtime") != awslambda.RUNTIME:
        raise Wrong(_say(_runtime_problem(str(function.get("Runtime")))))
    role = iam.get_role(cloud)
    if role is None:
        raise Wrong(_say(f"the role {cloud.names.role} of lesson 03 is missing: run "
                         "iam.ensure_role(cloud), then check again."))
    if function.get("Role") != role["Arn"]:
        raise Wrong(_say(_role_problem(str(function.get("Role")), cloud) + " "
                         + _FIX_IN_PLACE.format(setting="Role")))
    helper = "awslambda.ensure_function(cloud) puts every setting right."
    variables = (function.get("Environment") or {}).get("Variables") or {}
    if variables != awslambda.environment(cloud):
        raise Wrong(_say(f"its environment variables are {variables}, so the handler would not "
                         f"write to {cloud.names.table} as the lab expects; the cell gives them "
                         f"as Environment={{'Variables': {awslambda.environment(cloud)}}}. "
                         + helper))
    if (function.get("Timeout"), function.get("MemorySize")) != (awslambda.TIMEOUT_SECONDS,
                                                                 awslambda.MEMORY_MB):
        raise Wrong(_say(f"it has {function.get('MemorySize')} MB and a {function.get('Timeout')} "
                         f"s timeout; the lab uses {awslambda.MEMORY_MB} MB and "
                         f"{awslambda.TIMEOUT_SECONDS} s. " + helper))
    if function.get("CodeSha256") != awslambda.code_sha256(awslambda.build_zip()):
        raise Wrong(_say("its code is not the current handler/ (Lambda's CodeSha256 differs "
                         "from awslambda.code_sha256(awslambda.build_zip())). " + helper))
    if function.get("State") != "Active":
        raise Wrong(_say(f"it is {function.get('State')}, not Active yet: wait with "
                         "get_waiter(\"function_active_v2\") before you invoke it."))
    return _say(f"{name} is Active with the lab's handler, runtime, role and current code "
                f"(CodeSha256 {function['CodeSha256']}).")


def _explain_create_function(code: str, message: str, cloud: Lab) -> str | None:
    """Sentences for the AWS errors a learner's Runtime, Role or Handler can cause."""
    value = re.search(r"[Vv]alue '?(.*?)'? at '(\w+)'", message)
    if value and value.group(2) == "role":
        return _say(_role_problem(value.group(1), cloud))
    if value and value.group(2) == "runtime":
        return _say(_runtime_problem(value.group(1)))
    retired = re.search(r"runtime parameter of (\S+) is no longer supported", message)
    if retired:
        return _say(f"AWS no longer lets anyone create functions on {retired.group(1)}, a "
                    "retired runtime. The seed chose Python 3.12.")
    if code == "InvalidParameterValueException" and "cannot be assumed" in message:
        return _say("Lambda cannot assume the role you passed. Either no role has that ARN (check "
                    f"the account id, cloud.account_id, and the role name, {cloud.names.role}), "
                    "or, on AWS, the role is minutes old and IAM has not finished spreading it: "
                    "wait ten seconds and run the cell again.")
    if value and value.group(2) == "handler":
        return _say(f"AWS refused the handler {value.group(1)!r}: a handler is "
                    f"{_HANDLER_FORM}, with no spaces.")
    return None


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
                "the sample event (awslambda.invoke(cloud, awslambda.sample_event(cloud))).")


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


build_function = BuildExercise(
    title=BUILD_TITLE,
    test=_built_function,
    build=awslambda.ensure_function,
    exists=("ResourceConflictException",),
    explain=_explain_create_function,
    hints=(
        "Runtime is the language and its version as one lower-case word with a dot: the "
        "Console's 'Python 3.12'.",
        "Role takes an ARN, not a name: iam.get_role(cloud) returns lesson 03's role as a dict.",
        "Handler is <file without .py>.<function name>: the zip holds lambda_function.py, and "
        "the function Lambda calls is the one shown first in this lesson.",
    ),
    solution_text=(
        "# the three blanks of the cell's create_function call:\n"
        'Runtime="python3.12",\n'
        'Role=iam.get_role(cloud)["Arn"],   # or cloud.arn("iam", f"role/'
        '{cloud.names.role}", region=False)\n'
        'Handler="lambda_function.lambda_handler",'),
)

test_item = Exercise(
    title="The test invoke's item",
    test=_test_item,
    hints=(
        "Invoke the function with the sample event of this lesson, then check again.",
        "The event's key is samples/my+file.txt; the item's objectKey should be the decoded "
        "samples/my file.txt.",
    ),
    solution_text=("Run the lesson's invoke cell: awslambda.invoke(cloud, event) with\n"
                   "event = awslambda.sample_event(cloud); then check again."),
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
