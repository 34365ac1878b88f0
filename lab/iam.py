"""IAM: the Lambda execution role ``Lambda-S3-DDB-Role`` and a least-privilege alternative (lesson 03)."""

from __future__ import annotations

import json
from typing import Any

from lab.aws import friendly, get_or_none, missing, report, settled
from lab.connection import Lab

TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{
        "Effect": "Allow",
        "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }],
}
# The three AWS managed policies the seed attached in the Console: path and name after "policy/".
SEED_POLICY_NAMES = (
    "service-role/AWSLambdaBasicExecutionRole",
    "AmazonDynamoDBFullAccess",
    "AmazonS3ReadOnlyAccess",
)
# Their ARNs in the aws partition (the seed's). In China and GovCloud regions the partition
# differs (arn:aws-cn:…, arn:aws-us-gov:…): use seed_policies(lab).
SEED_POLICIES = tuple(f"arn:aws:iam::aws:policy/{name}" for name in SEED_POLICY_NAMES)
# How long a new role (or a policy just attached) is given to spread through IAM before the lab
# relies on it. AWS: IAM User Guide, "Changes that I make are not always immediately visible".
PROPAGATION_SECONDS = 10.0


def seed_policies(lab: Lab) -> tuple[str, ...]:
    """The ARNs of the seed's three managed policies in the lab's partition (aws, aws-cn, …)."""
    return tuple(f"arn:{lab.partition}:iam::aws:policy/{name}" for name in SEED_POLICY_NAMES)


def settle(lab: Lab) -> None:
    """Give IAM time to spread a role or policy change (lab.aws.pause: free on the local cloud).

    Not on an endpoint: LocalStack and a moto server apply IAM changes at once, and a learner
    there would wait 10 s of real time for nothing at every change.
    """
    from lab.aws import pause

    if lab.backend == "endpoint":
        return
    pause(PROPAGATION_SECONDS)


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
             "Resource": f"arn:{lab.partition}:s3:::{names.bucket}/*"},
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


def ensure_trusted_role(lab: Lab, name: str | None = None, *, quiet: bool = False) -> str:
    """Get or create the role with Lambda's trust policy only, no permissions yet; return its ARN.

    Lesson 03's first step (the learner's ``create_role``). Prints one ✓ line.
    """
    name = name or lab.names.role
    role = get_role(lab, name)
    created = role is None
    if created:
        role = create_role(lab, name)
        settle(lab)
    report(created, "role", name, quiet=quiet)
    return role["Arn"]


def attach_seed_policies(lab: Lab, name: str | None = None, *, quiet: bool = False) -> list[str]:
    """Attach those of the seed's three managed policies the role lacks (lesson 03's second step).

    Creates the role first when it is missing. Prints one ✓ line; returns the ARNs it attached.
    """
    name = name or lab.names.role
    ensure_trusted_role(lab, name, quiet=True)
    attached = set(attached_policies(lab, name))
    added = [arn for arn in seed_policies(lab) if arn not in attached]
    with friendly(f"attach the seed's policies to IAM role {name}"):
        for arn in added:
            lab.client("iam").attach_role_policy(RoleName=name, PolicyArn=arn)
    if added:
        settle(lab)
    if not quiet:
        if len(added) == len(SEED_POLICIES):
            print(f"✓ Attached the seed's {len(added)} managed policies to role {name}")
        elif added:
            print(f"✓ Attached {', '.join(policy_name(arn) for arn in added)} to role {name}")
        else:
            print(f"✓ Role {name} already has the seed's {len(SEED_POLICIES)} managed policies")
    return added


def policy_name(arn: str) -> str:
    """The name at the end of a managed policy's ARN (its path dropped)."""
    return arn.rsplit("/", 1)[-1]


def attached_policies(lab: Lab, name: str | None = None) -> list[str]:
    """ARNs of the managed policies attached to the role, sorted."""
    name = name or lab.names.role

    def listing() -> list[str]:
        arns = []
        with friendly(f"list the policies of IAM role {name}"):
            paginator = lab.client("iam").get_paginator("list_attached_role_policies")
            for page in paginator.paginate(RoleName=name):
                arns.extend(p["PolicyArn"] for p in page["AttachedPolicies"])
        return sorted(arns)

    return settled(listing)  # a policy detached a moment ago may still be listed


def inline_policies(lab: Lab, name: str | None = None) -> list[str]:
    """Names of the role's inline policies, sorted."""
    name = name or lab.names.role

    def listing() -> list[str]:
        found = []
        with friendly(f"list the inline policies of IAM role {name}"):
            paginator = lab.client("iam").get_paginator("list_role_policies")
            for page in paginator.paginate(RoleName=name):
                found.extend(page["PolicyNames"])
        return sorted(found)

    return settled(listing)  # a policy deleted a moment ago may still be listed


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
    changed = created
    with friendly(f"set the permissions of IAM role {name}"):
        if least_privilege:
            iam.put_role_policy(RoleName=name, PolicyName=lab.names.least_privilege_policy,
                                PolicyDocument=json.dumps(least_privilege_policy(lab)))
            changed = True
            for arn in sorted(attached & set(seed_policies(lab))):
                iam.detach_role_policy(RoleName=name, PolicyArn=arn)
        else:
            for arn in seed_policies(lab):
                if arn not in attached:
                    iam.attach_role_policy(RoleName=name, PolicyArn=arn)
                    changed = True
            if lab.names.least_privilege_policy in inline_policies(lab, name):
                iam.delete_role_policy(RoleName=name, PolicyName=lab.names.least_privilege_policy)
    if changed:
        settle(lab)  # Lambda may not assume a role IAM has not spread yet
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


# -- reading policies, and IAM's decision in miniature (lesson 03) ----------------------------------
def as_list(value: Any) -> list[Any]:
    """``value`` as a list: policy fields hold either one string or a list of them."""
    return value if isinstance(value, list) else [value]


def policy_document(lab: Lab, arn: str) -> dict[str, Any]:
    """The JSON document of a managed policy's default version."""
    client = lab.client("iam")
    with friendly(f"read the managed policy {arn}"):
        version = client.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        return client.get_policy_version(PolicyArn=arn,
                                         VersionId=version)["PolicyVersion"]["Document"]


def seed_documents(lab: Lab) -> dict[str, dict[str, Any]]:
    """The documents of the seed's three managed policies, keyed by policy name."""
    return {policy_name(arn): policy_document(lab, arn) for arn in seed_policies(lab)}


def allows(documents: Any, action: str, resource: str) -> bool:
    """True when an ``Allow`` statement of ``documents`` matches ``action`` on ``resource``.

    IAM's decision in miniature: actions match case-insensitively, ``*`` and ``?`` are
    wildcards. Real IAM also weighs ``Deny`` statements, conditions, resource policies and
    boundaries; this sketch skips statements that carry a condition.
    """
    from fnmatch import fnmatchcase

    for document in documents:
        for statement in as_list(document["Statement"]):
            if statement["Effect"] != "Allow" or "Condition" in statement:
                continue
            if any(fnmatchcase(action.lower(), pattern.lower())
                   for pattern in as_list(statement["Action"])) and \
               any(fnmatchcase(resource, pattern) for pattern in as_list(statement["Resource"])):
                return True
    return False


def sample_requests(lab: Lab) -> list[dict[str, str]]:
    """Requests the function's credentials could make (by design, a bug or a thief) (lesson 03).

    Each: ``action``, ``arn`` (the resource), ``resource`` (it in words), ``needed`` ("yes"/"no").
    """
    names = lab.names
    table = lab.arn("dynamodb", f"table/{names.table}")
    log_group = lab.arn("logs", f"log-group:{names.log_group}")
    log_stream = f"{log_group}:log-stream:2025/11/25/[$LATEST]0f1e2d3c"
    rows = [
        ("dynamodb:PutItem", table, f"table {names.table}", "yes"),
        ("logs:CreateLogGroup", log_group, "its log group", "yes"),
        ("logs:CreateLogStream", log_stream, "a log stream in its group", "yes"),
        ("logs:PutLogEvents", log_stream, "a log stream in its group", "yes"),
        ("s3:GetObject", f"arn:{lab.partition}:s3:::{names.bucket}/uploads/hello.txt",
         "a file in the lab's bucket", "no"),
        ("dynamodb:Scan", table, f"table {names.table}", "no"),
        ("dynamodb:DeleteTable", table, f"table {names.table}", "no"),
        ("dynamodb:PutItem", lab.arn("dynamodb", "table/Payments"), "another table", "no"),
        ("s3:GetObject", f"arn:{lab.partition}:s3:::payroll-exports/2025/salaries.csv",
         "a file in another bucket", "no"),
        ("s3:PutObject", f"arn:{lab.partition}:s3:::{names.bucket}/uploads/copy.txt",
         "a file in the lab's bucket", "no"),
        ("sns:DeleteTopic", lab.arn("sns", names.topic), f"topic {names.topic}", "no"),
        ("lambda:DeleteFunction", lab.arn("lambda", f"function:{names.function}"),
         "the function itself", "no"),
        ("cloudwatch:DeleteAlarms", lab.arn("cloudwatch", f"alarm:{names.activity_alarm}"),
         "the alarm that watches it", "no"),
    ]
    return [{"action": action, "arn": arn, "resource": words, "needed": needed}
            for action, arn, words, needed in rows]


def permission_matrix(lab: Lab) -> list[dict[str, str]]:
    """For each of :func:`sample_requests`: ✓/✗ under the seed's policies and least privilege."""
    seed = list(seed_documents(lab).values())
    least = [least_privilege_policy(lab)]
    mark = {True: "✓", False: "✗"}
    return [{"action": r["action"], "resource": r["resource"], "needed": r["needed"],
             "seed's policies": mark[allows(seed, r["action"], r["arn"])],
             "least privilege": mark[allows(least, r["action"], r["arn"])]}
            for r in sample_requests(lab)]
