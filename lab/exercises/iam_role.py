"""Exercises of lesson 03 · IAM role: the role Lambda assumes, its permissions, least privilege."""

from __future__ import annotations

import functools
import json
import re
import textwrap
import urllib.parse
from collections.abc import Callable
from typing import Any

from lab import iam
from lab.aws import friendly
from lab.checks import BuildExercise, Exercise, Wrong, require_connection
from lab.connection import Lab

# IAM actions of DynamoDB that are not API operation names of the same spelling.
_IAM_ONLY_ACTIONS = ("ConditionCheckItem", "PartiQLSelect", "PartiQLInsert", "PartiQLUpdate",
                     "PartiQLDelete")
# API calls that IAM authorises through the actions they contain, not through their own name.
_NOT_IAM_ACTIONS = ("TransactWriteItems", "TransactGetItems", "ExecuteStatement",
                    "BatchExecuteStatement", "ExecuteTransaction")
_CONSEQUENCE = {
    "deletetable": "a bug or a stolen credential could delete the table and every event in it",
    "deleteitem": "it could erase the events the pipeline recorded",
    "batchwriteitem": "it could overwrite or erase events in bulk",
    "updateitem": "it could rewrite recorded events",
    "updatetable": "it could change the table's capacity, stream or billing",
    "updatetimetolive": "it could turn off the expiry that keeps the table small",
    "scan": "it could read every item in the table",
    "query": "it could read items it never wrote",
    "getitem": "it could read items it never wrote",
    "batchgetitem": "it could read items in bulk",
    "createtable": "it could create tables (and costs) anywhere in the account",
}
LAMBDA_PRINCIPAL = "lambda.amazonaws.com"
ASSUME_ROLE = "sts:AssumeRole"
_ROLE_TITLE = "Create the role"
_EXECUTION_TITLE = "The execution role"
_UNNEEDED_TITLE = "A permission the function never needs"
_LEAST_TITLE = "The least-privilege role"
_POLICIES_TITLE = "Attach the seed's policies"
_SEED_NAMES = {iam.policy_name(arn): arn for arn in iam.SEED_POLICIES}
_FIX_IN_PLACE = (
    "CreateRole cannot change an existing role (a re-run answers EntityAlreadyExists): correct "
    "the cell and run it, then, in a new cell, "
    'cloud.client("iam").update_assume_role_policy(RoleName=cloud.names.role, '
    "PolicyDocument=json.dumps(trust_policy)). Or iam.delete_role(cloud), then run the cell again.")


def _wrap(title: str, text: str) -> str:
    """``text`` in lines under ~100 characters, the first one after "✗ <title>: "."""
    lead = len(title) + 4
    lines = textwrap.wrap(text, width=100, initial_indent="x" * lead, subsequent_indent="  ",
                          break_long_words=False, break_on_hyphens=False)
    return "\n".join([lines[0][lead:], *lines[1:]]) if lines else text


def _graded(title: str) -> Callable[[Callable[..., str]], Callable[..., str]]:
    """Wrap the sentences of a test (✓ and ✗ alike) for an exercise called ``title``."""
    def decorate(test: Callable[..., str]) -> Callable[..., str]:
        @functools.wraps(test)
        def graded(*values: Any) -> str:
            try:
                return _wrap(title, test(*values))
            except Wrong as wrong:
                raise Wrong(_wrap(title, str(wrong))) from None
        return graded
    return decorate


def _document(raw: Any) -> dict[str, Any]:
    """A policy document as a dict (IAM answers URL-encoded JSON on the wire; boto3 decodes it)."""
    if isinstance(raw, dict):
        return raw
    return json.loads(urllib.parse.unquote(raw))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _lambda_may_assume(trust: dict[str, Any]) -> bool:
    for statement in _as_list(trust.get("Statement", [])):
        if not isinstance(statement, dict) or not isinstance(statement.get("Principal"), dict):
            continue
        services = _as_list(statement["Principal"].get("Service", []))
        actions = [str(a).lower() for a in _as_list(statement.get("Action", []))]
        if statement.get("Effect") == "Allow" and LAMBDA_PRINCIPAL in services and \
                ASSUME_ROLE.lower() in actions:
            return True
    return False


# -- build_role: the trust policy -----------------------------------------------------------------
def _service_mistake(value: Any) -> str | None:
    """What is wrong with ``value`` as the trust policy's service principal (None: nothing)."""
    if value == LAMBDA_PRINCIPAL:
        return None
    if not isinstance(value, str):
        return (f"the principal is {value!r}, not a string: a service principal is written "
                "like 'service.amazonaws.com'.")
    text = value.strip()
    lowered = text.lower()
    if not text:
        return "the principal is empty, so the policy trusts no service at all."
    if text == LAMBDA_PRINCIPAL:
        return (f"the principal {value!r} has spaces around it, and IAM compares principals "
                "character by character.")
    if lowered == LAMBDA_PRINCIPAL:
        return (f"the principal {value!r} has capital letters: service principals are written "
                "in lower case, and IAM compares them exactly.")
    if lowered in ("lambda.amazon.com", "lambda.aws.com", "lambda.aws.amazon.com"):
        return (f"the principal {value!r} is close, but service principals end in "
                "'.amazonaws.com' (the domain of AWS's services), not '.amazon.com'.")
    if lowered in ("lambda", "aws lambda", "awslambda", "aws-lambda", "aws:lambda"):
        return (f"the principal {value!r} is the service's short name; a trust policy names a "
                "service by its service principal: the service's name followed by "
                "'.amazonaws.com'.")
    if lowered == "s3.amazonaws.com":
        return ("the principal is S3. S3 invokes the function, but it is the Lambda service that "
                "assumes the role to run your code (S3's right to invoke is a different policy, "
                "on the function, in lesson 05).")
    if lowered == "ec2.amazonaws.com":
        return ("the principal is EC2, the service of most examples (roles for virtual "
                "machines). This role is assumed by the service that runs your function.")
    if lowered == "dynamodb.amazonaws.com":
        return ("the principal is DynamoDB, what the function writes to. The role is assumed by "
                "the service that runs the function.")
    if lowered.startswith("sts:") or lowered == "assumerole":
        return (f"the principal is {value!r}, which is an action, not a principal: did you swap "
                "the two blanks?")
    if lowered.startswith("arn:"):
        return (f"the principal is an ARN ({value!r}). ARNs name accounts, users and roles (the "
                "principal key \"AWS\"); under \"Service\" a service is named by its service "
                "principal.")
    if lowered.startswith("lambda"):
        return (f"the principal {value!r} is not Lambda's service principal: write the service's "
                "name followed by '.amazonaws.com', nothing else.")
    if lowered.endswith(".amazonaws.com"):
        return (f"the principal {value!r} is another AWS service "
                f"({lowered.split('.', 1)[0]}); the role is for the service that runs your "
                "function.")
    return (f"the principal {value!r} is not a service principal (they read like "
            "'service.amazonaws.com').")


def _action_mistake(value: Any) -> str | None:
    """What is wrong with ``value`` as the trust policy's action (None: nothing)."""
    if not isinstance(value, str):
        return f"the action is {value!r}, not a string like 'service:Action'."
    lowered = value.strip().lower()
    if value.lower() == ASSUME_ROLE.lower():
        return None
    if not lowered:
        return "the action is empty: the statement must say what the service may do with the role."
    if lowered == ASSUME_ROLE.lower():
        return f"the action {value!r} has spaces around it; IAM compares actions exactly."
    if lowered == "sts:assumerolewithwebidentity":
        return ("the action is sts:AssumeRoleWithWebIdentity, which is for apps whose users sign "
                "in with a web identity provider (Cognito, Google, GitHub Actions…). An AWS "
                "service assumes a role with STS's plain AssumeRole action.")
    if lowered == "sts:assumerolewithsaml":
        return ("the action is sts:AssumeRoleWithSAML, which is for people signed in through a "
                "SAML identity provider. An AWS service assumes a role with STS's plain "
                "AssumeRole action.")
    if lowered == "lambda:invokefunction":
        return ("the action is lambda:InvokeFunction, the permission to run a function (it goes "
                "in the function's resource policy, lesson 05). A trust policy says who may "
                "assume the role, and assuming a role is an action of STS.")
    if lowered == "assumerole":
        return ("IAM writes every action as 'service:Action', and AssumeRole belongs to STS, the "
                "Security Token Service.")
    if lowered in ("*", "sts:*") or "*" in lowered:
        return (f"the action {value!r} is a wildcard, which allows more than assuming the role: "
                "name the one action.")
    if lowered.endswith(".amazonaws.com"):
        return (f"the action is {value!r}, which is a principal, not an action: did you swap the "
                "two blanks?")
    return (f"the action {value!r} is not the one that assumes a role: assuming a role is done "
            "through STS, the Security Token Service.")


def _trust_problems(trust: dict[str, Any]) -> list[str]:
    """Sentences saying why ``trust`` does not let exactly Lambda assume the role."""
    statements = [s for s in _as_list(trust.get("Statement", [])) if isinstance(s, dict)]
    allowing = [s for s in statements if s.get("Effect") == "Allow"]
    if not allowing:
        return ['the trust policy has no statement with "Effect": "Allow", so no one may '
                "assume the role."]
    problems: list[str] = []
    services, actions = [], []
    for statement in allowing:
        principal = statement.get("Principal")
        if not isinstance(principal, dict) or "Service" not in principal:
            problems.append(f"the statement's Principal is {principal!r}; a service is named "
                            'with {"Service": "<its service principal>"}.')
            continue
        services.extend(_as_list(principal["Service"]))
        actions.extend(_as_list(statement.get("Action", [])))
    for service in services:
        mistake = _service_mistake(service)
        if mistake and mistake not in problems:
            problems.append(mistake)
    if services and not actions:
        problems.append("the statement has no Action: it must say what the service may do.")
    for action in actions:
        mistake = _action_mistake(action)
        if mistake and mistake not in problems:
            problems.append(mistake)
    swapped = [problem for problem in problems if "swap" in problem]
    if len(swapped) == 2:
        problems = [p for p in problems if p not in swapped]
        problems.insert(0, "the principal and the action are the wrong way round: swap the two "
                           "blanks.")
    if not problems and not _lambda_may_assume(trust):
        problems.append("the principal and the action must stand in the same Allow statement.")
    return problems


@_graded(_ROLE_TITLE)
def _built_role(cloud: Lab) -> str:
    """Pass when the role exists and its trust policy lets the Lambda service, and only it, in."""
    name = cloud.names.role
    role = iam.get_role(cloud)
    if role is None:
        raise Wrong(f"there is no role {name} yet: fill in both blanks and run the cell "
                    "(RoleName=cloud.names.role).")
    problems = _trust_problems(_document(role["AssumeRolePolicyDocument"]))
    if problems:
        raise Wrong(f"role {name} exists, but " + " Also, ".join(problems) + " " + _FIX_IN_PLACE)
    return f"{name} exists, and its trust policy lets only the Lambda service assume it."


def _explain_create_role(code: str, message: str, cloud: Lab) -> str | None:
    if code == "MalformedPolicyDocument":
        found = re.search(r'"service"\s*:\s*"([^"]*)"', message, re.IGNORECASE)
        if found:
            mistake = _service_mistake(found.group(1)) or "IAM did not accept it."
            text = f"IAM refused the trust policy: {mistake} Fix it and run the cell again."
        elif "action" in message.lower():
            text = ("IAM refused the trust policy's Action: in a trust policy it must be an STS "
                    "action that assumes a role (lambda:InvokeFunction, for example, is the right "
                    "to run a function, not to become the role). Fix it and run the cell again.")
        else:
            text = (f"IAM refused the trust policy ({message}). Check the two values you filled "
                    "in; hint() helps.")
        return _wrap(_ROLE_TITLE, text)
    if code == "AccessDenied":
        return _wrap(_ROLE_TITLE, "your AWS identity may not create roles (it needs the IAM "
                                  "action iam:CreateRole): ask whoever manages the account.")
    return None


# -- build_policies: the three managed policies ---------------------------------------------------
def _arn_mistake(arn: str, cloud: Lab) -> str:
    """Why ``arn`` is not one of the seed's managed policies' ARNs, in a sentence or two."""
    text = arn.strip()
    if not text.lower().startswith("arn:"):
        if text.lower() in {name.lower() for name in _SEED_NAMES}:
            return ("that is the policy's name, and AttachRolePolicy takes its ARN "
                    "(arn:aws:iam::<owner>:policy/<path><name>).")
        return ("that is not an ARN: a managed policy's ARN reads "
                "arn:aws:iam::<owner>:policy/<path><name>.")
    if text != arn:
        return "it has spaces around it, and IAM compares ARNs exactly."
    parts = text.split(":", 5)
    if len(parts) != 6:
        return ("it does not have an ARN's six parts (arn:aws:iam::<owner>:policy/…); the region "
                "part stays empty because IAM is global, hence the '::'.")
    _, partition, service, region, owner, resource = parts
    if partition != cloud.partition:
        return (f"its partition is {partition!r}, but {cloud.region} is in the "
                f"{cloud.partition!r} partition: the ARN starts arn:{cloud.partition}:iam::.")
    if service != "iam":
        return f"it names the service {service!r}, but policies belong to 'iam'."
    if region:
        return (f"it has a region ({region!r}), but IAM is global: the region part stays empty, "
                "hence the '::'.")
    if owner == cloud.account_id or owner.isdigit():
        return (f"{owner} is an account id, and that is where customer-managed policies live, the "
                "ones an account writes itself. AWS managed policies belong to AWS: their ARNs "
                "say aws where the account id would be.")
    if owner.lower() == "aws" and owner != "aws":
        return "the owner of AWS managed policies is written in lower case: aws."
    if owner != "aws":
        return (f"its owner part is {owner!r}, but AWS managed policies belong to the account "
                "called aws.")
    if not resource.startswith("policy/"):
        return "after the owner comes policy/, then the path and the name."
    path, _, name = resource[len("policy/"):].rpartition("/")
    path = f"{path}/" if path else ""
    if name not in _SEED_NAMES and name.startswith("service-role"):
        return "a path ends with '/': the name comes after 'service-role/'."
    if name not in _SEED_NAMES:
        near = [known for known in _SEED_NAMES if known.lower() == name.lower()]
        if near:
            return f"policy names are case-sensitive, and this one is spelt {near[0]}."
        return (f"{name!r} is not one of the seed's three policies ({', '.join(_SEED_NAMES)}); "
                "check the spelling.")
    wanted_path = _SEED_NAMES[name].split(":policy/", 1)[1][:-len(name)]
    if wanted_path and not path:
        return (f"{name} has a path: like other policies made for service roles, it lives under "
                "service-role/, between policy/ and its name.")
    if path and not wanted_path:
        return (f"{name} has no path (of the three, only AWSLambdaBasicExecutionRole has one): "
                f"drop {path!r}.")
    return f"the path of {name} is not {path!r}."


def _explain_attach(code: str, message: str, cloud: Lab) -> str | None:
    lowered = message.lower()
    if code == "NoSuchEntity" and "role" in lowered and "policy" not in lowered:
        return _wrap(_POLICIES_TITLE, f"there is no role {cloud.names.role} to attach policies "
                                      "to yet: run the create_role exercise above first.")
    if code == "AccessDenied":
        return _wrap(_POLICIES_TITLE, "your AWS identity may not attach policies to roles (it "
                                      "needs the IAM action iam:AttachRolePolicy): ask whoever "
                                      "manages the account.")
    if code not in ("NoSuchEntity", "InvalidInput", "ValidationError", "ValidationException"):
        return None
    found = re.search(r"(?:Policy|ARN) (.*) (?:does not exist|is not valid)", message)
    if found:
        arn = found.group(1)
        sentence = (f"IAM has no policy {arn!r}: " if code == "NoSuchEntity"
                    else f"IAM refused the PolicyArn {arn!r}: ") + _arn_mistake(arn, cloud)
    else:
        sentence = (f"IAM refused a PolicyArn ({message}). A managed policy's ARN reads "
                    "arn:aws:iam::<owner>:policy/<path><name>.")
    return _wrap(_POLICIES_TITLE, sentence + " Fix it and run the cell again (policies attached "
                                             "before it stay attached; attaching twice is "
                                             "harmless).")


@_graded(_POLICIES_TITLE)
def _built_policies(cloud: Lab) -> str:
    """Pass when exactly the seed's three managed policies are attached to the role."""
    name = cloud.names.role
    if iam.get_role(cloud) is None:
        raise Wrong(f"there is no role {name} yet to attach policies to: run the create_role "
                    "exercise above first.")
    attached = iam.attached_policies(cloud)
    seed = iam.seed_policies(cloud)
    missing = [arn for arn in seed if arn not in attached]
    extra = [arn for arn in attached if arn not in seed]
    if missing:
        have = ", ".join(iam.policy_name(arn) for arn in attached) or "no managed policy"
        lack = ", ".join(iam.policy_name(arn) for arn in missing)
        raise Wrong(f"{name} has {have} attached, and still lacks {lack}. Put every ARN in "
                    "policy_arns and run the cell again (attaching one twice is harmless).")
    if extra:
        raise Wrong(f"{name} also has {', '.join(extra)}, which the seed does not attach: "
                    'detach it with cloud.client("iam").detach_role_policy('
                    "RoleName=cloud.names.role, PolicyArn=<that ARN>).")
    return (f"{name} has the seed's three managed policies: "
            f"{', '.join(iam.policy_name(arn) for arn in iam.SEED_POLICIES)}.")


# -- checks of the role as the lesson goes on ------------------------------------------------------
def _role_with_trust(cloud: Lab) -> dict[str, Any]:
    role = iam.get_role(cloud)
    if role is None:
        raise Wrong(f"there is no role {cloud.names.role} yet: run the create_role cell above, "
                    "or iam.ensure_role(cloud).")
    if not _lambda_may_assume(_document(role["AssumeRolePolicyDocument"])):
        raise Wrong(f"the trust policy of {cloud.names.role} does not let lambda.amazonaws.com "
                    "call sts:AssumeRole, so Lambda could not use it: ex.build_role.check(cloud) "
                    "says what is off and how to fix it in place.")
    return role


@_graded(_EXECUTION_TITLE)
def _role(cloud: Any) -> str:
    """Pass when the role trusts Lambda and carries either permission set of the lesson."""
    cloud = require_connection(cloud)
    _role_with_trust(cloud)
    attached = set(iam.attached_policies(cloud))
    name = cloud.names.role
    if attached >= set(iam.seed_policies(cloud)):
        return (f"{name} trusts the Lambda service and has the seed's three managed policies "
                "(AWSLambdaBasicExecutionRole, AmazonDynamoDBFullAccess, AmazonS3ReadOnlyAccess).")
    if cloud.names.least_privilege_policy in iam.inline_policies(cloud):
        return (f"{name} trusts the Lambda service and has the least-privilege inline policy "
                f"{cloud.names.least_privilege_policy}.")
    missing = sorted(arn.rsplit("/", 1)[-1] for arn in set(iam.seed_policies(cloud)) - attached)
    raise Wrong(f"{name} lacks {', '.join(missing)}, so the function could not do its job: "
                "attach the seed's policies with iam.ensure_role(cloud), or use "
                "iam.ensure_role(cloud, least_privilege=True).")


@_graded(_LEAST_TITLE)
def _least_privilege(cloud: Any) -> str:
    """Pass when the role has the least-privilege inline policy and no managed policy at all."""
    cloud = require_connection(cloud)
    _role_with_trust(cloud)
    policy_name = cloud.names.least_privilege_policy
    if policy_name not in iam.inline_policies(cloud):
        raise Wrong(f"the role has no inline policy {policy_name} yet: run "
                    "iam.ensure_role(cloud, least_privilege=True).")
    with friendly(f"read the inline policy {policy_name}"):
        raw = cloud.client("iam").get_role_policy(RoleName=cloud.names.role,
                                                  PolicyName=policy_name)["PolicyDocument"]
    if _document(raw) != iam.least_privilege_policy(cloud):
        raise Wrong(f"the inline policy {policy_name} differs from "
                    "iam.least_privilege_policy(cloud): put it back with "
                    "iam.ensure_role(cloud, least_privilege=True).")
    attached = iam.attached_policies(cloud)
    if attached:
        names = ", ".join(arn.rsplit("/", 1)[-1] for arn in attached)
        raise Wrong(f"managed policies are still attached ({names}); permissions add up, so "
                    "the role still has everything they allow: "
                    "iam.ensure_role(cloud, least_privilege=True) detaches them.")
    return (f"{cloud.names.role} has only {policy_name}: PutItem on one table, GetObject in one "
            "bucket, and its own log group.")


def _dynamodb_actions() -> dict[str, str]:
    """Every DynamoDB IAM action this botocore knows, keyed by its lower-case name."""
    import botocore.session

    session = botocore.session.get_session()
    names = set(session.get_service_model("dynamodb").operation_names)
    names |= set(session.get_service_model("dynamodbstreams").operation_names)
    names |= set(_IAM_ONLY_ACTIONS)
    return {name.lower(): name for name in names}


@_graded(_UNNEEDED_TITLE)
def _unneeded_action(answer: Any) -> str:
    """Pass when ``answer`` is a DynamoDB action the seed allows but the function never needs."""
    if not isinstance(answer, str) or ":" not in answer:
        raise Wrong('write one IAM action as "service:Action", e.g. "s3:GetObject"; '
                    f"you gave {answer!r}.")
    service, _, action = answer.strip().partition(":")
    if service.lower() != "dynamodb":
        raise Wrong(f"{answer!r} is an action of {service!r}; the question is about the "
                    'table, so the action starts with "dynamodb:".')
    if "*" in action or "?" in action:
        raise Wrong(f"{answer!r} is a wildcard for many actions: name exactly one.")
    lowered = action.lower()
    if lowered in {name.lower() for name in _NOT_IAM_ACTIONS}:
        raise Wrong(f"{action} is an API call that IAM authorises through the actions inside it "
                    "(PutItem, GetItem, PartiQLSelect…): name an IAM action.")
    known = _dynamodb_actions()
    if lowered not in known:
        raise Wrong(f"DynamoDB has no action called {action!r} (IAM actions read like "
                    "dynamodb:GetItem or dynamodb:DeleteTable).")
    if known[lowered] == "PutItem":
        raise Wrong("the function does need dynamodb:PutItem: it is the one call it makes to "
                    "the table. Name one it never makes.")
    consequence = _CONSEQUENCE.get(lowered, "the function never calls it")
    return (f"dynamodb:{known[lowered]} — AmazonDynamoDBFullAccess allows it on every table "
            f"(\"dynamodb:*\" on \"*\"), the least-privilege policy does not: {consequence}.")


role = Exercise(
    title=_EXECUTION_TITLE,
    test=_role,
    hints=(
        "Run the cells above that create the role and attach the policies.",
        "iam.ensure_role(cloud) creates it with Lambda's trust policy and the seed's policies.",
    ),
    solution_text=("Run the cell with iam.ensure_role under *Back to the seed's role*, or build "
                   "the two steps\nwith the lab's helpers:\n"
                   "iam.ensure_trusted_role(cloud)\niam.attach_seed_policies(cloud)"),
)

q1 = Exercise(
    title=_UNNEEDED_TITLE,
    test=_unneeded_action,
    hints=(
        "The handler makes exactly one call to DynamoDB. Which one? Every other DynamoDB "
        "action is an answer.",
        "Look at the matrix above: which DynamoDB rows are allowed by the seed's policies but "
        "not needed?",
        'For example, the action that deletes a whole table is "dynamodb:DeleteTable".',
    ),
    solution_text=('answer = "dynamodb:DeleteTable"   # or dynamodb:Scan, dynamodb:DeleteItem, '
                   "… anything but PutItem"),
)

least_privilege = Exercise(
    title=_LEAST_TITLE,
    test=_least_privilege,
    hints=(
        "iam.ensure_role(cloud, least_privilege=True) puts the inline policy and detaches the "
        "managed ones.",
    ),
    solution_text=("Run the cell under *Switching the role to least privilege* again: it puts "
                   "the inline policy\non the role and detaches the three managed ones."),
)

build_role = BuildExercise(
    title=_ROLE_TITLE,
    test=_built_role,
    build=iam.ensure_trusted_role,
    exists=("EntityAlreadyExists",),
    explain=_explain_create_role,
    hints=(
        "The principal is the AWS service that will use the role: the one that runs your "
        "function. The action is what that service does with the role.",
        "A service principal is the service's name followed by '.amazonaws.com'. Assuming a "
        "role is an action of STS, the Security Token Service, written 'sts:<Action>'.",
        "The service is lambda; the STS action's name says it: it assumes a role.",
    ),
    solution_text=("The two blanks of the trust policy:\n"
                   '"Principal": {"Service": "lambda.amazonaws.com"},\n'
                   '"Action": "sts:AssumeRole",'),
)

build_policies = BuildExercise(
    title=_POLICIES_TITLE,
    test=_built_policies,
    build=iam.attach_seed_policies,
    explain=_explain_attach,
    hints=(
        "An AWS managed policy's ARN reads arn:aws:iam::<owner>:policy/<path><name>. The owner "
        "is not your account.",
        "AWS managed policies belong to the account called aws. Most have no path; "
        "AWSLambdaBasicExecutionRole, made for service roles, has the path service-role/.",
        "The third blank is a whole ARN, built like the two above it, for AmazonS3ReadOnlyAccess.",
    ),
    solution_text=("The three ARNs, in order:\n"
                   + "".join(f'"{arn}",\n' for arn in iam.SEED_POLICIES).rstrip("\n")),
)
