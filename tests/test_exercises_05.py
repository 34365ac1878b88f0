"""Lesson 05's exercises: blank, likely wrong and right values for each (what the notebook hides)."""

from __future__ import annotations

import pytest

from lab import awslambda, dynamodb, pipeline, s3, verify
from lab import errors as lab_errors
from lab.checks import ____
from lab.exercises import s3_trigger as ex

CREATED = ["s3:ObjectCreated:*"]


@pytest.fixture
def cloud(lab_moto):
    """Lessons 01–04 built and the bucket created, as the lesson's exercises find them."""
    pipeline.prepare_lesson(lab_moto, "05")
    s3.ensure_bucket(lab_moto, quiet=True)
    return lab_moto


def _bucket_arn(cloud):
    return f"arn:aws:s3:::{cloud.names.bucket}"


def _right(cloud):
    return {"Principal": "s3.amazonaws.com", "SourceArn": _bucket_arn(cloud),
            "SourceAccount": cloud.account_id}


def _add_permission(cloud, **values):
    """The lesson's exercise cell with ``values`` in its blanks (a missing key: the line deleted)."""
    with ex.build_permission.attempt(cloud) as attempt:
        cloud.client("lambda").add_permission(
            FunctionName=cloud.names.function, StatementId=s3.permission_statement_id(cloud),
            Action="lambda:InvokeFunction", **values)
    return attempt.outcome


def _notify(cloud, function_arn, events):
    """The lesson's exercise cell with ``function_arn`` and ``events`` in its blanks."""
    with ex.build_trigger.attempt(cloud) as attempt:
        cloud.client("s3").put_bucket_notification_configuration(
            Bucket=cloud.names.bucket,
            NotificationConfiguration={"LambdaFunctionConfigurations": [{
                "Id": s3.TRIGGER_ID, "LambdaFunctionArn": function_arn, "Events": events}]})
    return attempt.outcome


def _function_arn(cloud):
    return awslambda.get_function(cloud)["FunctionArn"]


def _events(cloud):
    config = cloud.client("s3").get_bucket_notification_configuration(Bucket=cloud.names.bucket)
    return [entry["Events"] for entry in config.get("LambdaFunctionConfigurations", [])]


# --- build_permission -------------------------------------------------------------------------

def test_build_permission_blank_is_not_attempted_and_the_helper_adds_it(cloud, capsys):
    outcome = _add_permission(cloud, Principal=____, SourceArn=____, SourceAccount=____)
    assert outcome.status == "not attempted"
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"✓ Created invoke permission {cloud.names.bucket} → {cloud.names.function}")
    assert ex.build_permission.evaluate(cloud).passed
    assert s3.get_permission(cloud)["Condition"]["ArnLike"]["AWS:SourceArn"] == _bucket_arn(cloud)


def test_build_permission_right_values_pass_and_a_rerun_grades_what_is_there(cloud, capsys):
    outcome = _add_permission(cloud, **_right(cloud))
    assert outcome.passed
    assert outcome.message.endswith(f"S3 may invoke it, for bucket {cloud.names.bucket} of your "
                                    "account only.")
    again = _add_permission(cloud, **_right(cloud))   # AWS: ResourceConflictException
    assert again.passed
    assert len(s3.policy_statements(cloud)) == 1
    assert capsys.readouterr().out.count("✓ Let S3 invoke the function") == 2


@pytest.mark.parametrize("change, words", [
    ({"SourceArn": "arn:aws:s3:us-east-1:123456789012:{bucket}"},
     "S3 bucket ARNs have neither Region nor account id"),
    ({"SourceArn": "arn:aws:s3:::{bucket}-other"}, "names another bucket"),
    ({"SourceArn": "{function_arn}"}, "the SourceArn is the function's ARN"),
    ({"SourceArn": "*"}, "a wildcard lets S3 invoke the function for other buckets too"),
    ({"SourceArn": "arn:aws:s3:::*"}, "a wildcard lets S3 invoke the function for other buckets too"),
    ({"SourceArn": "{bucket}"}, "the SourceArn is the bucket's name; it must be the bucket's ARN"),
    ({"Principal": "s3.amazon.com"}, "service principals end in .amazonaws.com, not .amazon.com"),
    ({"Principal": "lambda.amazonaws.com"}, "'lambda.amazonaws.com', Lambda itself"),
    ({"Principal": "s3"}, "the Principal is 's3': a service is named by its service principal"),
    ({"SourceAccount": None}, "no SourceAccount. Bucket names are global"),
    ({"SourceAccount": "000000000000"}, "the SourceAccount is '000000000000', but the bucket "
                                        "belongs to your account, 123456789012"),
    ({"SourceArn": None}, "the statement has no SourceArn, so S3 may invoke the function for any"),
])
def test_build_permission_likely_mistakes_get_their_own_sentence(cloud, change, words):
    values = _right(cloud)
    for name, value in change.items():
        if value is None:
            del values[name]
        else:
            values[name] = value.format(bucket=cloud.names.bucket, function_arn=_function_arn(cloud))
    outcome = _add_permission(cloud, **values)
    assert outcome.status == "wrong"
    assert words in outcome.message
    assert "s3.remove_permission(cloud) removes the statement" in outcome.message
    # Re-running the cell (ResourceConflictException) still grades the wrong statement ...
    assert _add_permission(cloud, **_right(cloud)).status == "wrong"
    # ... until it is removed; then the right values pass.
    assert s3.remove_permission(cloud) is True
    assert _add_permission(cloud, **_right(cloud)).passed


def test_build_permission_a_wrong_statement_keeps_s3_from_being_notified(cloud):
    _add_permission(cloud, **{**_right(cloud), "SourceArn": f"arn:aws:s3:::{cloud.names.bucket}-x"})
    outcome = _notify(cloud, _function_arn(cloud), CREATED)
    assert outcome.status == "wrong"
    assert "S3 checked the function's policy, and it does not let S3 invoke the function" \
        in outcome.message
    assert "names another bucket" in outcome.message


def test_build_permission_without_the_function_names_lesson_04(cloud):
    awslambda.delete_function(cloud)
    outcome = _add_permission(cloud, **_right(cloud))
    assert outcome.status == "wrong"
    assert "run notebook 04_lambda_function first" in outcome.message


def test_build_permission_refused_principal_is_explained():
    sentence = ex._explain_add_permission(
        "InvalidParameterValueException",
        "The provided principal was invalid. Please check the principal and try again.", None)
    assert "A service is named by its service principal" in sentence
    sentence = ex._explain_add_permission(
        "ValidationException", "1 validation error detected: Value '*' at 'sourceArn' failed "
                               "to satisfy constraint.", None)
    assert "SourceArn is an ARN (arn:…)" in sentence


def test_build_permission_hints_get_more_specific(capsys):
    exercise = ex.build_permission
    exercise._hints_shown = 0
    for _ in range(3):
        exercise.hint()
    out = capsys.readouterr().out
    assert "Hint 1/3" in out and "neither Region nor account id" in out and "Hint 3/3" in out


# --- build_trigger ----------------------------------------------------------------------------

def test_build_trigger_blank_is_not_attempted_and_the_helper_sets_it(cloud, capsys):
    assert _notify(cloud, ____, ____).status == "not attempted"
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"✓ Created trigger {cloud.names.bucket} → {cloud.names.function}")
    assert _events(cloud) == [CREATED]
    assert ex.build_trigger.evaluate(cloud).passed
    assert ex.trigger.evaluate(cloud).passed


def test_build_trigger_right_values_pass_twice(cloud):
    s3.ensure_permission(cloud, quiet=True)
    outcome = _notify(cloud, _function_arn(cloud), CREATED)
    assert outcome.passed
    assert outcome.message.endswith("the bucket notifies S3ToDynamoProcessor of every "
                                    "object-created event (s3:ObjectCreated:*).")
    assert _notify(cloud, _function_arn(cloud), CREATED).passed
    assert _events(cloud) == [CREATED]


def test_build_trigger_without_the_permission_says_to_run_add_permission_first(cloud):
    outcome = _notify(cloud, _function_arn(cloud), CREATED)
    assert outcome.status == "wrong"
    assert "S3 checked the function's policy" in outcome.message
    assert "has no resource policy yet" in outcome.message
    assert "Fix the add_permission exercise above first." in outcome.message
    assert _events(cloud) == []


@pytest.mark.parametrize("events, words", [
    (["s3:ObjectCreated:Put"], "listens to s3:ObjectCreated:Put only: a copy (CopyObject) or a "
                               "large file sent in parts (CompleteMultipartUpload)"),
    (["s3:ObjectRemoved:*"], "none of these is an object-create event"),
    (["s3:ObjectCreated:*", "s3:ObjectRemoved:*"], "also listens to s3:ObjectRemoved:*"),
])
def test_build_trigger_accepted_wrong_events_are_graded(cloud, events, words):
    s3.ensure_permission(cloud, quiet=True)
    outcome = _notify(cloud, _function_arn(cloud), events)
    assert outcome.status == "wrong"
    assert words in outcome.message
    assert "the call replaces the bucket's whole configuration" in outcome.message
    assert _notify(cloud, _function_arn(cloud), CREATED).passed   # the fix: run it again


@pytest.mark.parametrize("events, words", [
    (["ObjectCreated:*"], "S3 refused the event 'ObjectCreated:*': event types start with 's3:'"),
    (["s3:ObjectCreated"], "S3 refused the event 's3:ObjectCreated': a type needs its last part"),
])
def test_build_trigger_events_s3_refuses_are_explained(cloud, events, words):
    s3.ensure_permission(cloud, quiet=True)
    outcome = _notify(cloud, _function_arn(cloud), events)
    assert outcome.status == "wrong"
    assert words in outcome.message


def test_build_trigger_an_unnamed_refused_event_is_explained():
    sentence = ex._explain_notification(
        "InvalidArgument", "The event is not supported for notifications", None)
    assert "S3 refused an event type (it does not say which)" in sentence


def test_build_trigger_the_function_name_is_not_its_arn(cloud):
    s3.ensure_permission(cloud, quiet=True)
    outcome = _notify(cloud, cloud.names.function, CREATED)
    assert outcome.status == "wrong"
    assert "S3 wants the function's full ARN in LambdaFunctionArn" in outcome.message


def test_build_trigger_an_arn_without_the_account_id(cloud):
    s3.ensure_permission(cloud, quiet=True)
    outcome = _notify(cloud, f"arn:aws:lambda:{cloud.region}::function:{cloud.names.function}",
                      CREATED)
    assert outcome.status == "wrong"
    assert "S3 could not find a function at that LambdaFunctionArn" in outcome.message
    assert "the account id (cloud.account_id)" in outcome.message


def test_build_trigger_without_the_bucket(lab_moto):
    pipeline.prepare_lesson(lab_moto, "05")
    outcome = _notify(lab_moto, "arn:aws:lambda:us-east-1:123456789012:function:x", CREATED)
    assert outcome.status == "wrong" and "run s3.ensure_bucket(cloud) above" in outcome.message


# --- the lab's helpers after a wrong or just-added permission ----------------------------------

def test_the_trigger_helper_names_a_wrong_statement_instead_of_aws_words(cloud):
    _add_permission(cloud, **{**_right(cloud), "SourceArn": _bucket_arn(cloud) + "-x"})
    with pytest.raises(lab_errors.AwsError, match=r"the statement s3-invoke-\S+ of its policy is not "
                                                   r"the lab's\. s3\.remove_permission\(cloud\)"):
        s3.ensure_trigger(cloud, quiet=True)
    assert s3.permission_is_right(cloud) is False
    s3.remove_permission(cloud)
    s3.ensure_trigger(cloud, quiet=True)
    assert s3.permission_is_right(cloud) and ex.trigger.evaluate(cloud).passed


def test_the_trigger_helper_retries_while_a_new_permission_is_not_visible_to_s3(cloud, monkeypatch):
    from botocore.exceptions import ClientError

    s3.ensure_permission(cloud, quiet=True)
    client = cloud.client("s3")
    real, calls = client.put_bucket_notification_configuration, []

    def not_visible_yet(**kwargs):
        calls.append(kwargs["Bucket"])
        if len(calls) < 3:
            raise ClientError({"Error": {"Code": "InvalidArgument", "Message": "Unable to validate "
                                         "the following destination configurations"}},
                              "PutBucketNotificationConfiguration")
        return real(**kwargs)

    monkeypatch.setattr(client, "put_bucket_notification_configuration", not_visible_yet)
    s3.set_trigger(cloud, _function_arn(cloud))  # retried on the local clock: no real wait
    assert len(calls) == 3 and _events(cloud) == [CREATED]


# --- the whole trigger, the first item, q1 ----------------------------------------------------

def test_trigger_check_names_the_missing_piece(cloud):
    assert "has no resource policy yet" in ex.trigger.evaluate(cloud).message
    s3.ensure_permission(cloud, quiet=True)
    assert "has no Lambda notification yet" in ex.trigger.evaluate(cloud).message
    s3.ensure_trigger(cloud, quiet=True)
    assert ex.trigger.evaluate(cloud).passed


def test_first_item_after_an_upload(cloud):
    s3.ensure_trigger(cloud, quiet=True)
    key = "uploads/my first file.txt"
    assert "there is no object" in ex.first_item.evaluate(cloud, key).message
    s3.upload(cloud, key, "hello\n")
    verify.wait_for_items(cloud, [key])
    assert ex.first_item.evaluate(cloud, key).passed
    assert [i["objectKey"] for i in dynamodb.scan_items(cloud)] == [key]
    assert ex.first_item.evaluate(cloud, "").status == "wrong"


@pytest.mark.parametrize("answer, status, words", [
    (____, "not attempted", "not attempted yet"),
    ({"PutObject", "GetObject"}, "wrong", "GetObject only reads"),
    ({"PutObject", "DeleteObject"}, "wrong", "s3:ObjectRemoved:Delete"),
    ({"PutObject", "CopyObject", "CompleteMultipartUpload", "PutObjectTagging"}, "wrong",
     "s3:ObjectTagging:Put, which is not an ObjectCreated event"),
    ({"PutObject"}, "wrong", "2 more call(s) create an object"),
    ("PutObject", "wrong", "give a set of call names"),
    ({"UploadPart"}, "wrong", "'UploadPart' is not one of the candidates"),
    ({"PutObject", "CopyObject", "CompleteMultipartUpload"}, "correct", "The other three send"),
    ({"putobject", "copyobject", "completemultipartupload"}, "correct", "The other three send"),
])
def test_q1_triggering_calls(answer, status, words):
    outcome = ex.q1.evaluate(answer)
    assert outcome.status == status
    assert words in outcome.message
