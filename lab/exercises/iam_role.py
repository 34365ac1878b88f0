"""Exercises of lesson 03 · IAM role: the role Lambda assumes, its permissions, least privilege."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from lab import iam
from lab.aws import friendly
from lab.checks import Exercise, Wrong, require_connection
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



def _document(raw: Any) -> dict[str, Any]:
    """A policy document as a dict (IAM answers URL-encoded JSON on the wire; boto3 decodes it)."""
    if isinstance(raw, dict):
        return raw
    return json.loads(urllib.parse.unquote(raw))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _lambda_may_assume(trust: dict[str, Any]) -> bool:
    for statement in _as_list(trust.get("Statement", [])):
        services = _as_list((statement.get("Principal") or {}).get("Service", []))
        actions = [a.lower() for a in _as_list(statement.get("Action", []))]
        if statement.get("Effect") == "Allow" and "lambda.amazonaws.com" in services and \
                "sts:assumerole" in actions:
            return True
    return False


def _role_with_trust(cloud: Lab) -> dict[str, Any]:
    role = iam.get_role(cloud)
    if role is None:
        raise Wrong(f"there is no role {cloud.names.role} yet: run the create_role cell above, "
                    "or iam.ensure_role(cloud).")
    if not _lambda_may_assume(_document(role["AssumeRolePolicyDocument"])):
        raise Wrong(f"the trust policy of {cloud.names.role} does not let lambda.amazonaws.com "
                    "call sts:AssumeRole, so Lambda could not use it: delete the role "
                    "(iam.delete_role(cloud)) and create it with iam.TRUST_POLICY.")
    return role


def _role(cloud: Any) -> str:
    """Pass when the role trusts Lambda and carries either permission set of the lesson."""
    cloud = require_connection(cloud)
    _role_with_trust(cloud)
    attached = set(iam.attached_policies(cloud))
    name = cloud.names.role
    if attached >= set(iam.SEED_POLICIES):
        return (f"{name} trusts lambda.amazonaws.com and has the seed's three managed policies "
                "(AWSLambdaBasicExecutionRole, AmazonDynamoDBFullAccess, AmazonS3ReadOnlyAccess).")
    if cloud.names.least_privilege_policy in iam.inline_policies(cloud):
        return (f"{name} trusts lambda.amazonaws.com and has the least-privilege inline policy "
                f"{cloud.names.least_privilege_policy}.")
    missing = sorted(arn.rsplit("/", 1)[-1] for arn in set(iam.SEED_POLICIES) - attached)
    raise Wrong(f"{name} lacks {', '.join(missing)}, so the function could not do its job: "
                "attach the seed's policies with iam.ensure_role(cloud), or use "
                "iam.ensure_role(cloud, least_privilege=True).")


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
    title="The execution role",
    test=_role,
    hints=(
        "Run the cells above that create the role and attach the policies.",
        "iam.ensure_role(cloud) creates it with Lambda's trust policy and the seed's policies.",
    ),
    solution_text="from lab import iam\niam.ensure_role(cloud)",
)

q1 = Exercise(
    title="A permission the function never needs",
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
    title="The least-privilege role",
    test=_least_privilege,
    hints=(
        "iam.ensure_role(cloud, least_privilege=True) puts the inline policy and detaches the "
        "managed ones.",
    ),
    solution_text="from lab import iam\niam.ensure_role(cloud, least_privilege=True)",
)
