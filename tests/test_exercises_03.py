"""Lesson 03's exercises: blank, likely wrong and right values for each (what the notebook hides)."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

import lab
from lab import iam, mock
from lab.checks import ____
from lab.exercises import iam_role as ex

BASIC, DYNAMODB, S3_READ = iam.SEED_POLICIES


_reused: dict[str, lab.Lab] = {}


@pytest.fixture(scope="module", autouse=True)
def _stop_the_reused_mock():
    yield
    _reused.clear()
    mock.stop()


@pytest.fixture
def iam_lab():
    """A moto connection with no role yet, reused between tests (a fresh mock costs ~2 s)."""
    if "lab" not in _reused or not mock.is_active():
        mock.stop()
        _reused["lab"] = lab.connect("moto", quiet=True)
    connection = _reused["lab"]
    iam.delete_role(connection)
    yield connection
    iam.delete_role(connection)


def _flat(text):
    """The sentence without its line breaks (the lab wraps long sentences)."""
    return " ".join(text.split())


def _create_role(cloud, service, action):
    """The notebook's build_role cell, with the learner's two values."""
    with ex.build_role.attempt(cloud) as attempt:
        trust_policy = {
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"Service": service},
                "Action": action,
            }],
        }
        response = cloud.client("iam").create_role(
            RoleName=cloud.names.role, AssumeRolePolicyDocument=json.dumps(trust_policy))
        print(response["Role"]["Arn"])
    return attempt.outcome


def _trust(cloud):
    return iam.get_role(cloud)["AssumeRolePolicyDocument"]


def _error(code, message, operation):
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


# -- build_role -----------------------------------------------------------------------------------
def test_build_role_blank_is_not_attempted_and_the_helper_creates_the_role(iam_lab, capsys):
    outcome = _create_role(iam_lab, ____, ____)
    assert outcome.status == "not attempted"
    assert capsys.readouterr().out.splitlines()[-1] == "✓ Created role Lambda-S3-DDB-Role"
    assert _trust(iam_lab) == iam.TRUST_POLICY
    assert iam.attached_policies(iam_lab) == []          # permissions come with the next exercise
    assert ex.build_role.evaluate(iam_lab).passed


def test_build_role_one_blank_left_is_not_attempted(iam_lab):
    assert _create_role(iam_lab, "lambda.amazonaws.com", ____).status == "not attempted"


def test_build_role_right_values_pass_twice_and_make_one_role(iam_lab, capsys):
    first = _create_role(iam_lab, "lambda.amazonaws.com", "sts:AssumeRole")
    assert first.passed
    assert "lets only the Lambda service assume it" in _flat(first.message)
    assert "arn:aws:iam::123456789012:role/Lambda-S3-DDB-Role" in capsys.readouterr().out
    again = _create_role(iam_lab, "lambda.amazonaws.com", "sts:AssumeRole")  # EntityAlreadyExists
    assert again.passed
    roles = iam_lab.client("iam").list_roles()["Roles"]
    assert [r["RoleName"] for r in roles] == ["Lambda-S3-DDB-Role"]


def test_build_role_the_success_sentence_keeps_the_answer_hidden(iam_lab):
    outcome = _create_role(iam_lab, "lambda.amazonaws.com", "sts:AssumeRole")
    assert "amazonaws.com" not in outcome.message and "sts:" not in outcome.message


@pytest.mark.parametrize("service, action, words", [
    ("lambda.amazon.com", "sts:AssumeRole", "end in '.amazonaws.com' (the domain of AWS's services), "
                                            "not '.amazon.com'"),
    ("lambda", "sts:AssumeRole", "'lambda' is the service's short name"),
    ("Lambda.amazonaws.com", "sts:AssumeRole", "has capital letters: service principals are written "
                                               "in lower case"),
    (" lambda.amazonaws.com", "sts:AssumeRole", "has spaces around it"),
    ("s3.amazonaws.com", "sts:AssumeRole", "S3 invokes the function, but it is the Lambda service "
                                           "that assumes the role"),
    ("ec2.amazonaws.com", "sts:AssumeRole", "the principal is EC2"),
    ("dynamodb.amazonaws.com", "sts:AssumeRole", "the principal is DynamoDB, what the function "
                                                 "writes to"),
    ("sns.amazonaws.com", "sts:AssumeRole", "is another AWS service (sns)"),
    ("arn:aws:iam::123456789012:root", "sts:AssumeRole", "the principal is an ARN"),
    ("", "sts:AssumeRole", "the principal is empty"),
    ("lambda.amazonaws.com", "sts:AssumeRoleWithWebIdentity",
     "is for apps whose users sign in with a web identity provider"),
    ("lambda.amazonaws.com", "sts:AssumeRoleWithSAML", "SAML identity provider"),
    ("lambda.amazonaws.com", "lambda:InvokeFunction", "the permission to run a function"),
    ("lambda.amazonaws.com", "AssumeRole", "AssumeRole belongs to STS"),
    ("lambda.amazonaws.com", "sts:*", "is a wildcard"),
    ("lambda.amazonaws.com", "sts:GetSessionToken", "is not the one that assumes a role"),
    ("sts:AssumeRole", "lambda.amazonaws.com", "the principal and the action are the wrong way "
                                               "round"),
])
def test_build_role_likely_wrong_values_each_get_their_sentence(iam_lab, service, action, words):
    outcome = _create_role(iam_lab, service, action)       # moto stores what IAM may refuse
    message = _flat(outcome.message)
    assert outcome.status == "wrong"
    assert words in message
    assert "update_assume_role_policy(RoleName=cloud.names.role" in message
    assert "iam.delete_role(cloud)" in message


def test_build_role_wrong_then_fixed_in_place_passes(iam_lab):
    assert _create_role(iam_lab, "s3.amazonaws.com", "sts:AssumeRole").status == "wrong"
    outcome = _create_role(iam_lab, "lambda.amazonaws.com", "sts:AssumeRole")
    assert outcome.status == "wrong"                         # CreateRole cannot change it: still S3
    assert "S3 invokes the function" in _flat(outcome.message)
    trust_policy = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": "sts:AssumeRole"}]}
    iam_lab.client("iam").update_assume_role_policy(RoleName=iam_lab.names.role,
                                                     PolicyDocument=json.dumps(trust_policy))
    assert ex.build_role.evaluate(iam_lab).passed


def test_build_role_an_extra_principal_is_wrong(iam_lab):
    outcome = _create_role(iam_lab, ["lambda.amazonaws.com", "s3.amazonaws.com"], "sts:AssumeRole")
    assert outcome.status == "wrong" and "the principal is S3" in _flat(outcome.message)


def test_build_role_the_trust_policy_may_come_back_url_encoded(iam_lab, monkeypatch):
    from urllib.parse import quote

    iam.ensure_trusted_role(iam_lab, quiet=True)
    role = dict(iam.get_role(iam_lab))
    role["AssumeRolePolicyDocument"] = quote(json.dumps(iam.TRUST_POLICY))
    monkeypatch.setattr(iam, "get_role", lambda cloud, name=None: role)
    assert ex.build_role.evaluate(iam_lab).passed


def test_build_role_without_a_role_says_so(iam_lab):
    outcome = ex.build_role.evaluate(iam_lab)
    assert outcome.status == "wrong" and "there is no role Lambda-S3-DDB-Role yet" in outcome.message


@pytest.mark.parametrize("message, words", [
    ('Invalid principal in policy: "SERVICE":"lambda.amazon.com"', "not '.amazon.com'"),
    ('Invalid principal in policy: "SERVICE":"lambda"', "the service's short name"),
    ('Invalid principal in policy: "SERVICE":"Lambda.amazonaws.com"', "has capital letters"),
    ("AssumeRole policy may only specify STS AssumeRole actions.", "must be an STS action"),
    ("Syntax errors in policy.", "Check the two values you filled in"),
])
def test_build_role_what_real_iam_refuses_is_explained(iam_lab, message, words):
    outcome = ex.build_role.outcome_of(iam_lab, _error("MalformedPolicyDocument", message,
                                                        "CreateRole"))
    assert outcome.status == "wrong" and words in _flat(outcome.message)
    assert "run the cell again" in _flat(outcome.message) or "hint()" in outcome.message


def test_build_role_access_denied_names_the_iam_action(iam_lab):
    outcome = ex.build_role.outcome_of(iam_lab, _error("AccessDenied", "not authorized",
                                                        "CreateRole"))
    assert "iam:CreateRole" in outcome.message


# -- build_policies -------------------------------------------------------------------------------
def _attach(cloud, policy_arns):
    """The notebook's build_policies cell, with the learner's list of ARNs."""
    with ex.build_policies.attempt(cloud) as attempt:
        for policy_arn in policy_arns:
            cloud.client("iam").attach_role_policy(RoleName=cloud.names.role, PolicyArn=policy_arn)
            print("attached", policy_arn)
    return attempt.outcome


@pytest.fixture
def role(iam_lab):
    iam.ensure_trusted_role(iam_lab, quiet=True)
    return iam_lab


def _blank_cell():
    return [f"arn:aws:iam::{____}:policy/{____}AWSLambdaBasicExecutionRole",
            f"arn:aws:iam::{____}:policy/AmazonDynamoDBFullAccess", ____]


def test_build_policies_blank_is_not_attempted_and_the_helper_attaches_them(role, capsys):
    assert _attach(role, _blank_cell()).status == "not attempted"
    assert capsys.readouterr().out.splitlines()[-1] == \
        "✓ Attached the seed's 3 managed policies to role Lambda-S3-DDB-Role"
    assert iam.attached_policies(role) == sorted(iam.SEED_POLICIES)
    assert ex.build_policies.evaluate(role).passed


def test_build_policies_blank_after_a_skipped_role_builds_both(iam_lab):
    assert _attach(iam_lab, _blank_cell()).status == "not attempted"
    assert ex.build_role.evaluate(iam_lab).passed and ex.build_policies.evaluate(iam_lab).passed


def test_build_policies_last_blank_left_is_not_attempted_and_all_get_attached(role):
    assert _attach(role, [BASIC, DYNAMODB, ____]).status == "not attempted"
    assert iam.attached_policies(role) == sorted(iam.SEED_POLICIES)


def test_build_policies_right_values_pass_twice_and_attach_each_once(role, capsys):
    outcome = _attach(role, list(iam.SEED_POLICIES))
    assert outcome.passed
    assert _flat(outcome.message).endswith("AWSLambdaBasicExecutionRole, AmazonDynamoDBFullAccess, "
                                           "AmazonS3ReadOnlyAccess.")
    assert _attach(role, list(iam.SEED_POLICIES)).passed
    assert iam.attached_policies(role) == sorted(iam.SEED_POLICIES)


@pytest.mark.parametrize("wrong, words", [
    ("arn:aws:iam::aws:policy/AWSLambdaBasicExecutionRole",
     "AWSLambdaBasicExecutionRole has a path: like other policies made for service roles, it lives "
     "under service-role/"),
    ("arn:aws:iam::123456789012:policy/service-role/AWSLambdaBasicExecutionRole",
     "123456789012 is an account id, and that is where customer-managed policies live"),
    ("arn:aws:iam::123456789012:policy/AmazonDynamoDBFullAccess", "their ARNs say aws where the "
                                                                  "account id would be"),
    ("AmazonS3ReadOnlyAccess", "that is the policy's name, and AttachRolePolicy takes its ARN"),
    ("arn:aws:iam::aws:policy/service-roleAWSLambdaBasicExecutionRole", "a path ends with '/'"),
    ("arn:aws:iam::aws:policy/service-role/AmazonS3ReadOnlyAccess",
     "AmazonS3ReadOnlyAccess has no path"),
    ("arn:aws:iam::AWS:policy/AmazonS3ReadOnlyAccess", "written in lower case: aws"),
    ("arn:aws:iam:us-east-1:aws:policy/AmazonS3ReadOnlyAccess", "IAM is global"),
    ("arn:aws:iam::aws:policy/amazons3readonlyaccess", "policy names are case-sensitive"),
    ("arn:aws:iam::aws:policy/AmazonS3ReadOnly", "is not one of the seed's three policies"),
    ("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess ", "has spaces around it"),
    ("arn:aws:iam::aws:AmazonS3ReadOnlyAccess", "after the owner comes policy/"),
    ("arn:aws:s3:::aws:policy/AmazonS3ReadOnlyAccess", "policies belong to 'iam'"),
])
def test_build_policies_likely_wrong_arns_each_get_their_sentence(role, wrong, words):
    outcome = _attach(role, [wrong])
    message = _flat(outcome.message)
    assert outcome.status == "wrong"
    assert words in message
    assert "Fix it and run the cell again" in message


def test_build_policies_a_missing_policy_lists_what_is_attached_and_missing(role):
    outcome = _attach(role, [BASIC, DYNAMODB])
    message = _flat(outcome.message)
    assert outcome.status == "wrong"
    assert "has AmazonDynamoDBFullAccess, AWSLambdaBasicExecutionRole attached, and still lacks " \
           "AmazonS3ReadOnlyAccess" in message


def test_build_policies_an_extra_policy_is_named_with_how_to_detach_it(role):
    extra = "arn:aws:iam::aws:policy/AmazonS3FullAccess"
    outcome = _attach(role, [*iam.SEED_POLICIES, extra])      # moto attaches it: AWS would too
    message = _flat(outcome.message)
    assert outcome.status == "wrong"
    assert f"also has {extra}, which the seed does not attach" in message
    assert "detach_role_policy(RoleName=cloud.names.role" in message


def test_build_policies_before_the_role_exists(iam_lab):
    outcome = _attach(iam_lab, [BASIC])
    assert outcome.status == "wrong"
    assert "there is no role Lambda-S3-DDB-Role to attach policies to yet" in _flat(outcome.message)


@pytest.mark.parametrize("code, message, words", [
    ("InvalidInput", "ARN AmazonS3ReadOnlyAccess is not valid.",
     "IAM refused the PolicyArn 'AmazonS3ReadOnlyAccess': that is the policy's name"),
    ("NoSuchEntity", "Policy arn:aws:iam::aws:policy/AWSLambdaBasicExecutionRole does not exist or "
                     "is not attachable.", "it lives under service-role/"),
    ("NoSuchEntity", "The role with name Lambda-S3-DDB-Role cannot be found.",
     "run the create_role exercise above first"),
    ("AccessDenied", "not authorized", "iam:AttachRolePolicy"),
])
def test_build_policies_what_real_iam_answers_is_explained(iam_lab, code, message, words):
    outcome = ex.build_policies.outcome_of(iam_lab, _error(code, message, "AttachRolePolicy"))
    assert outcome.status == "wrong" and words in _flat(outcome.message)


# -- the value exercise and the checks of the role ------------------------------------------------
@pytest.mark.parametrize("answer, status, words", [
    (____, "not attempted", "not attempted yet"),
    ("dynamodb:PutItem", "wrong", "the function does need dynamodb:PutItem"),
    ("dynamodb:*", "wrong", "is a wildcard"),
    ("s3:GetObject", "wrong", "is an action of 's3'"),
    ("DeleteTable", "wrong", 'write one IAM action as "service:Action"'),
    ("dynamodb:DropTable", "wrong", "DynamoDB has no action called 'DropTable'"),
    ("dynamodb:TransactWriteItems", "wrong", "name an IAM action"),
    ("dynamodb:DeleteTable", "correct", "could delete the table"),
    ("dynamodb:scan", "correct", "dynamodb:Scan"),
    ("dynamodb:PartiQLSelect", "correct", "dynamodb:PartiQLSelect"),
])
def test_q1_unneeded_action(answer, status, words):
    outcome = ex.q1.evaluate(answer)
    assert outcome.status == status and words in _flat(outcome.message)


def test_role_and_least_privilege_checks_follow_the_lesson(iam_lab):
    assert "there is no role" in ex.role.evaluate(iam_lab).message
    iam.ensure_trusted_role(iam_lab, quiet=True)
    assert "lacks" in _flat(ex.role.evaluate(iam_lab).message)
    iam.ensure_role(iam_lab, quiet=True)
    assert ex.role.evaluate(iam_lab).passed
    assert "no inline policy" in ex.least_privilege.evaluate(iam_lab).message
    iam.ensure_role(iam_lab, least_privilege=True, quiet=True)
    assert ex.least_privilege.evaluate(iam_lab).passed and ex.role.evaluate(iam_lab).passed
    iam_lab.client("iam").attach_role_policy(RoleName=iam_lab.names.role, PolicyArn=DYNAMODB)
    assert "still attached" in _flat(ex.least_privilege.evaluate(iam_lab).message)


def test_role_check_sends_a_wrong_trust_policy_to_build_role(iam_lab):
    _create_role(iam_lab, "s3.amazonaws.com", "sts:AssumeRole")
    iam.ensure_role(iam_lab, quiet=True)
    outcome = ex.role.evaluate(iam_lab)
    assert outcome.status == "wrong" and "ex.build_role.check(cloud)" in _flat(outcome.message)


def test_the_helpers_of_the_two_steps_are_idempotent(iam_lab, capsys):
    arn = iam.ensure_trusted_role(iam_lab)
    assert iam.ensure_trusted_role(iam_lab) == arn
    assert iam.attach_seed_policies(iam_lab) == list(iam.SEED_POLICIES)
    assert iam.attach_seed_policies(iam_lab) == []
    assert capsys.readouterr().out.splitlines() == [
        "✓ Created role Lambda-S3-DDB-Role",
        "✓ Role Lambda-S3-DDB-Role already exists",
        "✓ Attached the seed's 3 managed policies to role Lambda-S3-DDB-Role",
        "✓ Role Lambda-S3-DDB-Role already has the seed's 3 managed policies",
    ]


def test_the_permission_matrix_of_the_lesson(iam_lab):
    rows = iam.permission_matrix(iam_lab)
    needed = [r for r in rows if r["needed"] == "yes"]
    assert all(r["seed's policies"] == r["least privilege"] == "✓" for r in needed)
    unneeded = [r for r in rows if r["needed"] == "no"]
    assert sum(r["seed's policies"] == "✓" for r in unneeded) == 8
    assert sum(r["least privilege"] == "✓" for r in unneeded) == 1


def test_hints_and_solutions_of_the_builds(capsys):
    for exercise in (ex.build_role, ex.build_policies):
        for _ in exercise.hints:
            exercise.hint()
        exercise.solution()
    out = capsys.readouterr().out
    assert "Hint 3/3" in out
    assert '"Principal": {"Service": "lambda.amazonaws.com"}' in out
    assert '"arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",' in out
