"""IAM: the Lambda execution role ``Lambda-S3-DDB-Role`` and a least-privilege alternative (lesson 03)."""

from __future__ import annotations

import json
from typing import Any

from lab.aws import friendly, get_or_none, missing, report
from lab.connection import Lab

TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{
        "Effect": "Allow",
        "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }],
}
# The three AWS managed policies the seed attached in the Console.
SEED_POLICIES = (
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess",
    "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
)


def least_privilege_policy(lab: Lab) -> dict[str, Any]:
    """An inline policy allowing exactly what the handler does, on exactly the lab's resources."""
    names = lab.names
    log_group_arn = lab.arn("logs", f"log-group:{names.log_group}")
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "WriteEventItems", "Effect": "Allow", "Action": ["dynamodb:PutItem"],
             "Resource": lab.arn("dynamodb", f"table/{names.table}")},
            {"Sid": "ReadUploadedObjects", "Effect": "Allow", "Action": ["s3:GetObject"],
             "Resource": f"arn:aws:s3:::{names.bucket}/*"},
            {"Sid": "CreateLogGroup", "Effect": "Allow", "Action": ["logs:CreateLogGroup"],
             "Resource": log_group_arn},
            {"Sid": "WriteLogs", "Effect": "Allow",
             "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
             "Resource": f"{log_group_arn}:*"},
        ],
    }


def get_role(lab: Lab, name: str | None = None) -> dict[str, Any] | None:
    """The role (``get_role()['Role']``), or None when it does not exist."""
    name = name or lab.names.role
    response = get_or_none(lambda: lab.client("iam").get_role(RoleName=name),
                           absent="NoSuchEntity", action=f"read IAM role {name}")
    return response["Role"] if response else None


def require_role(lab: Lab) -> dict[str, Any]:
    """The role; MissingResource naming lesson 03 when it does not exist."""
    role = get_role(lab)
    if role is None:
        raise missing("IAM role", lab.names.role, "role")
    return role


def create_role(lab: Lab, name: str | None = None) -> dict[str, Any]:
    """Create the role with Lambda's trust policy (the raw call of lesson 03)."""
    name = name or lab.names.role
    with friendly(f"create IAM role {name}"):
        return lab.client("iam").create_role(
            RoleName=name,
            AssumeRolePolicyDocument=json.dumps(TRUST_POLICY),
            Description="Execution role of the S3ToDynamoProcessor Lambda (Event-Driven Integration Lab)",
        )["Role"]


def attached_policies(lab: Lab, name: str | None = None) -> list[str]:
    """ARNs of the managed policies attached to the role, sorted."""
    name = name or lab.names.role
    arns = []
    with friendly(f"list the policies of IAM role {name}"):
        for page in lab.client("iam").get_paginator("list_attached_role_policies").paginate(RoleName=name):
            arns.extend(p["PolicyArn"] for p in page["AttachedPolicies"])
    return sorted(arns)


def inline_policies(lab: Lab, name: str | None = None) -> list[str]:
    """Names of the role's inline policies, sorted."""
    name = name or lab.names.role
    found = []
    with friendly(f"list the inline policies of IAM role {name}"):
        for page in lab.client("iam").get_paginator("list_role_policies").paginate(RoleName=name):
            found.extend(page["PolicyNames"])
    return sorted(found)


def ensure_role(lab: Lab, name: str | None = None, *, least_privilege: bool = False,
                quiet: bool = False) -> str:
    """Get or create the role and give it its permissions; print one ✓ line; return its ARN.

    ``least_privilege=False`` attaches the seed's three managed policies;
    ``least_privilege=True`` puts the inline policy of :func:`least_privilege_policy` instead
    (and detaches the managed ones), so lesson 03 can compare the two.
    """
    name = name or lab.names.role
    role = get_role(lab, name)
    created = role is None
    if created:
        role = create_role(lab, name)
    iam = lab.client("iam")
    attached = set(attached_policies(lab, name))
    with friendly(f"set the permissions of IAM role {name}"):
        if least_privilege:
            iam.put_role_policy(RoleName=name, PolicyName=lab.names.least_privilege_policy,
                                PolicyDocument=json.dumps(least_privilege_policy(lab)))
            for arn in sorted(attached & set(SEED_POLICIES)):
                iam.detach_role_policy(RoleName=name, PolicyArn=arn)
        else:
            for arn in SEED_POLICIES:
                if arn not in attached:
                    iam.attach_role_policy(RoleName=name, PolicyArn=arn)
            if lab.names.least_privilege_policy in inline_policies(lab, name):
                iam.delete_role_policy(RoleName=name, PolicyName=lab.names.least_privilege_policy)
    report(created, "role", name, quiet=quiet)
    return role["Arn"]


def delete_role(lab: Lab, name: str | None = None) -> bool:
    """Detach managed policies, delete inline ones, then the role; True if it existed."""
    name = name or lab.names.role
    if get_role(lab, name) is None:
        return False
    iam = lab.client("iam")
    with friendly(f"delete IAM role {name}"):
        for arn in attached_policies(lab, name):
            iam.detach_role_policy(RoleName=name, PolicyArn=arn)
        for policy in inline_policies(lab, name):
            iam.delete_role_policy(RoleName=name, PolicyName=policy)
        iam.delete_role(RoleName=name)
    return True
