"""S3: the upload bucket, the permission for S3 to invoke the Lambda, and the trigger (lesson 05)."""

from __future__ import annotations

from typing import Any

from lab.aws import (error_code, error_message, friendly, missing, pause, report, retrying,
                     translated, wait_until)
from lab.connection import Lab
from lab.errors import AwsError, BucketNameTaken

TRIGGER_ID = "s3-object-created-to-lambda"
CREATED_EVENTS = ["s3:ObjectCreated:*"]
# A statement just added to the function's policy can take a few seconds to be visible to S3's
# destination check ("Unable to validate the following destination configurations"; AWS re:Post
# Knowledge Center, "Unable to validate destination configurations" for Lambda destinations).
PERMISSION_SETTLE_SECONDS = 5.0
PERMISSION_VISIBILITY_TIMEOUT = 60.0
# How long a just-deleted bucket name may answer OperationAborted before it can be created again.
RECREATE_TIMEOUT = 120.0


def permission_statement_id(lab: Lab) -> str:
    """The StatementId of the function policy statement that lets this bucket invoke it."""
    return f"s3-invoke-{lab.names.bucket}"[:100]


def get_bucket(lab: Lab, name: str | None = None) -> dict[str, Any] | None:
    """``{"Name", "Region"}`` when the bucket exists in this account, else None.

    A bucket of that name owned by someone else raises BucketNameTaken.
    """
    from botocore.exceptions import ClientError

    name = name or lab.names.bucket
    try:
        # ExpectedBucketOwner: a bucket of that name in another account answers 403, not 200.
        response = lab.client("s3").head_bucket(Bucket=name, ExpectedBucketOwner=lab.account_id)
    except ClientError as error:
        code = error_code(error)
        if code in ("404", "NoSuchBucket", "NotFound"):
            return None
        if code in ("403", "AccessDenied", "Forbidden"):
            raise _forbidden(name) from None
        raise translated(error, f"read bucket {name}") from None
    region = response.get("BucketRegion") or response["ResponseMetadata"]["HTTPHeaders"].get(
        "x-amz-bucket-region", lab.region)
    return {"Name": name, "Region": region}


def _forbidden(name: str) -> BucketNameTaken:
    """HeadBucket's 403: another account owns the name, or this identity may not list it.

    AWS (HeadBucket): "To use this operation, you must have permissions to perform the
    s3:ListBucket action"; with ExpectedBucketOwner, a bucket of another account also answers 403.
    """
    return BucketNameTaken(
        f"S3 answered 403 Forbidden for bucket {name}: either it belongs to another AWS account "
        "(bucket names are global; set EVENTLAB_BUCKET to another name, or pass bucket=... to "
        "lab.connect()), or your identity lacks s3:ListBucket on it (ask whoever manages the "
        "account)."
    )


def _taken(name: str) -> BucketNameTaken:
    return BucketNameTaken(
        f"The bucket name {name} belongs to another AWS account (bucket names are global): "
        "set EVENTLAB_BUCKET to another name, or pass bucket=... to lab.connect()."
    )


def bucket_region(lab: Lab, name: str | None = None) -> str:
    """The region a bucket lives in, from GetBucketLocation (which answers from any region).

    AWS (GetBucketLocation): a bucket in us-east-1 has a null LocationConstraint; "EU" is the
    legacy name of eu-west-1.
    """
    name = name or lab.names.bucket
    with friendly(f"read the location of bucket {name}"):
        location = lab.client("s3").get_bucket_location(Bucket=name).get("LocationConstraint")
    return {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(location, location)


def _require_region(lab: Lab, bucket: dict[str, Any]) -> None:
    """Refuse, in one sentence, a bucket of this account that lives in another region.

    AWS (S3 User Guide, "Amazon S3 Event Notifications"): the destination function must be in
    the bucket's region, so the lab's trigger cannot work across regions.
    """
    region = bucket_region(lab, bucket["Name"])
    if region != lab.region:
        raise AwsError(
            f"The bucket {bucket['Name']} is in {region}, not in the lab's region {lab.region}: "
            "S3 notifies only functions of its own region. Set EVENTLAB_BUCKET to a bucket of "
            f"{lab.region} (or unset it), or EVENTLAB_REGION={region}, and connect again.",
            code="WrongRegion")


def require_bucket(lab: Lab) -> dict[str, Any]:
    """The bucket; MissingResource naming lesson 05 when it does not exist."""
    bucket = get_bucket(lab)
    if bucket is None:
        raise missing("S3 bucket", lab.names.bucket, "bucket")
    return bucket


def create_bucket(lab: Lab, name: str | None = None) -> None:
    """Create the bucket in the lab's region (the raw call of lesson 05)."""
    from botocore.exceptions import ClientError

    name = name or lab.names.bucket
    kwargs: dict[str, Any] = {"Bucket": name}
    if lab.region != "us-east-1":  # us-east-1 is the one region that takes no LocationConstraint
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": lab.region}
    try:
        # A name deleted moments ago is still being released: S3 answers OperationAborted ("A
        # conflicting conditional operation is currently in progress against this resource.
        # Please try again.") for a while — AWS: S3 API Reference, "Error responses".
        retrying(lambda: lab.client("s3").create_bucket(**kwargs),
                 retry_if=lambda error: error_code(error) == "OperationAborted",
                 what=f"S3 to release the bucket name {name}", timeout=RECREATE_TIMEOUT,
                 interval=5.0)
    except ClientError as error:
        if error_code(error) == "BucketAlreadyExists":
            raise _taken(name) from None
        raise translated(error, f"create bucket {name}") from None


def ensure_bucket(lab: Lab, name: str | None = None, *, quiet: bool = False) -> str:
    """Get or create the bucket, wait until it exists; print one ✓ line; return its name."""
    name = name or lab.names.bucket
    bucket = get_bucket(lab, name)
    created = bucket is None
    if bucket is not None:
        _require_region(lab, bucket)
    if created:
        create_bucket(lab, name)
        wait_until(lambda: get_bucket(lab, name), what=f"bucket {name} to exist", timeout=60,
                   interval=2)
    report(created, "bucket", name, quiet=quiet)
    return name


def allow_s3_to_invoke(lab: Lab) -> bool:
    """Add the function policy statement letting this bucket invoke the Lambda; False if present.

    SourceArn limits it to this bucket and SourceAccount to this account, so no other
    bucket (a name can move to another account after deletion) can invoke the function.
    """
    from botocore.exceptions import ClientError

    from lab import awslambda

    awslambda.require_function(lab)
    if permission_statement_id(lab) in _policy_statement_ids(lab):
        return False
    try:
        retrying(lambda: lab.client("lambda").add_permission(
            FunctionName=lab.names.function, StatementId=permission_statement_id(lab),
            Action="lambda:InvokeFunction", Principal="s3.amazonaws.com",
            SourceArn=bucket_arn(lab), SourceAccount=lab.account_id),
            retry_if=_update_in_progress, what=f"the update of {lab.names.function} to finish",
            timeout=awslambda.READY_TIMEOUT, interval=2.0)
    except ClientError as error:
        # Lambda answers ResourceConflictException both for "The statement id (…) provided
        # already exists" and for an update in progress (retried above): only the first means
        # the statement is there.
        if error_code(error) == "ResourceConflictException" and "already exists" in \
                error_message(error):
            return False
        raise translated(error, f"allow S3 to invoke {lab.names.function}") from None
    return True


def _update_in_progress(error: BaseException) -> bool:
    from lab import awslambda

    return awslambda._update_in_progress(error)


def bucket_arn(lab: Lab) -> str:
    """The bucket's ARN: ``arn:aws:s3:::<name>`` (bucket ARNs hold no Region and no account id).

    The partition follows the region: ``arn:aws-cn:s3:::<name>`` in China, ``arn:aws-us-gov:…``
    in GovCloud.
    """
    return f"arn:{lab.partition}:s3:::{lab.names.bucket}"


def policy_statements(lab: Lab) -> list[dict[str, Any]]:
    """Every statement of the function's resource policy (empty when it has none)."""
    import json

    from botocore.exceptions import ClientError

    try:
        policy = lab.client("lambda").get_policy(FunctionName=lab.names.function)["Policy"]
    except ClientError as error:
        if error_code(error) == "ResourceNotFoundException":
            return []
        raise translated(error, f"read the policy of {lab.names.function}") from None
    statements = json.loads(policy).get("Statement", [])
    return statements if isinstance(statements, list) else [statements]


def get_permission(lab: Lab) -> dict[str, Any] | None:
    """The policy statement with the lab's StatementId (:func:`permission_statement_id`), or None."""
    sid = permission_statement_id(lab)
    return next((s for s in policy_statements(lab) if s.get("Sid") == sid), None)


def ensure_permission(lab: Lab, *, quiet: bool = False) -> str:
    """Get or add the statement letting this bucket invoke the function; print one ✓ line.

    Returns the statement id. A statement already there under that id is kept as it is (the
    lesson's check says when it is wrong; :func:`remove_permission` removes it). Then gives the
    statement — added now or by the cell before — time to become visible to S3's destination
    check (lab.aws.pause: free on the local cloud, a few seconds on AWS).
    """
    created = allow_s3_to_invoke(lab)
    pause(PERMISSION_SETTLE_SECONDS)
    report(created, "invoke permission", f"{lab.names.bucket} → {lab.names.function}", quiet=quiet)
    return permission_statement_id(lab)


def remove_permission(lab: Lab, statement_id: str | None = None) -> bool:
    """Remove one statement (default: the lab's) from the function's policy; False if absent."""
    from botocore.exceptions import ClientError

    statement_id = statement_id or permission_statement_id(lab)
    try:
        lab.client("lambda").remove_permission(FunctionName=lab.names.function,
                                               StatementId=statement_id)
    except ClientError as error:
        if error_code(error) == "ResourceNotFoundException":
            return False
        raise translated(error, f"remove statement {statement_id} of {lab.names.function}") from None
    return True


def _policy_statement_ids(lab: Lab) -> set[str]:
    """The Sids of the function's resource policy (empty when it has none)."""
    return {statement.get("Sid", "") for statement in policy_statements(lab)}


def get_trigger(lab: Lab) -> dict[str, Any] | None:
    """The bucket's Lambda notification configuration for the function, or None."""
    require_bucket(lab)
    with friendly(f"read the notifications of bucket {lab.names.bucket}"):
        config = lab.client("s3").get_bucket_notification_configuration(Bucket=lab.names.bucket)
    for entry in config.get("LambdaFunctionConfigurations", []):
        if entry["LambdaFunctionArn"].split(":")[6] == lab.names.function:
            return entry
    return None


def permission_is_right(lab: Lab) -> bool:
    """True when the lab's statement is the one :func:`allow_s3_to_invoke` adds, field by field."""
    statement = get_permission(lab)
    if statement is None:
        return False
    principal = statement.get("Principal")
    service = principal.get("Service") if isinstance(principal, dict) else principal
    conditions = {name.lower(): value for entries in (statement.get("Condition") or {}).values()
                  for name, value in entries.items()}
    return (statement.get("Effect") == "Allow" and service == "s3.amazonaws.com"
            and conditions.get("aws:sourcearn") == bucket_arn(lab)
            and conditions.get("aws:sourceaccount") == lab.account_id)


def _destination_refused(error: BaseException) -> bool:
    return error_code(error) == "InvalidArgument" and "Unable to validate" in error_message(error)


def set_trigger(lab: Lab, function_arn: str, *,
                timeout: float = PERMISSION_VISIBILITY_TIMEOUT) -> None:
    """Notify the function on every object-created event (the raw call of lesson 05).

    PutBucketNotificationConfiguration replaces the bucket's whole configuration, so the lab
    reads it first and keeps every other notification (another function, a queue, a topic,
    EventBridge); only the lab's own entry (``TRIGGER_ID``) is replaced.

    S3 refuses a Lambda destination it may not invoke. When the lab's statement is right, the
    refusal means a permission just added is not visible to S3 yet: the call is retried (through
    lab.aws.wait_until) for up to ``timeout`` seconds. A wrong statement raises AwsError saying
    how to remove it.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    action = f"set the notification of bucket {lab.names.bucket}"
    client = lab.client("s3")
    with friendly(f"read the notifications of bucket {lab.names.bucket}"):
        current = client.get_bucket_notification_configuration(Bucket=lab.names.bucket)
    configuration = {key: value for key, value in current.items()
                     if key != "ResponseMetadata" and value}
    others = [entry for entry in configuration.get("LambdaFunctionConfigurations", [])
              if entry.get("Id") != TRIGGER_ID]
    configuration["LambdaFunctionConfigurations"] = [*others, {
        "Id": TRIGGER_ID, "LambdaFunctionArn": function_arn, "Events": CREATED_EVENTS}]

    def refused_while_spreading(error: BaseException) -> bool:
        if not _destination_refused(error):
            return False
        if not permission_is_right(lab):
            raise AwsError(
                f"S3 may not invoke {lab.names.function} for bucket {lab.names.bucket}: the "
                f"statement {permission_statement_id(lab)} of its policy is not the lab's. "
                "s3.remove_permission(cloud) removes it; then run this cell again.",
                code="InvalidArgument") from None
        return True

    try:
        retrying(lambda: client.put_bucket_notification_configuration(
            Bucket=lab.names.bucket, NotificationConfiguration=configuration),
            retry_if=refused_while_spreading, timeout=timeout, interval=3.0,
            what=f"S3 to see the permission to invoke {lab.names.function}")
    except (ClientError, BotoCoreError) as error:
        raise translated(error, action) from None


def ensure_trigger(lab: Lab, *, quiet: bool = False) -> str:
    """Get or create invoke permission + notification; print one ✓ line; return the function ARN."""
    from lab import awslambda

    function_arn = awslambda.require_function(lab)["FunctionArn"]
    _require_region(lab, require_bucket(lab))
    allow_s3_to_invoke(lab)
    existing = get_trigger(lab)
    created = existing is None or existing["Events"] != CREATED_EVENTS
    if created:
        set_trigger(lab, function_arn)
    report(created, "trigger", f"{lab.names.bucket} → {lab.names.function}", quiet=quiet)
    return function_arn


def upload(lab: Lab, key: str, body: bytes | str = b"", *, bucket: str | None = None) -> dict[str, Any]:
    """Upload one object; returns ``{"Key", "ETag", "VersionId"}``.

    One PutObject per upload: a missing lab bucket is recognised from S3's NoSuchBucket answer
    (and named with its lesson) rather than checked before every upload.
    """
    from botocore.exceptions import ClientError

    bucket = bucket or lab.names.bucket
    data = body.encode() if isinstance(body, str) else body
    try:
        response = lab.client("s3").put_object(Bucket=bucket, Key=key, Body=data)
    except ClientError as error:
        if error_code(error) == "NoSuchBucket" and bucket == lab.names.bucket:
            raise missing("S3 bucket", bucket, "bucket") from None
        raise translated(error, f"upload {key!r} to bucket {bucket}") from None
    return {"Key": key, "ETag": response["ETag"], "VersionId": response.get("VersionId")}


def list_keys(lab: Lab, name: str | None = None) -> list[str]:
    """Every key in the bucket, sorted (empty when the bucket does not exist)."""
    name = name or lab.names.bucket
    if get_bucket(lab, name) is None:
        return []
    keys = []
    with friendly(f"list bucket {name}"):
        for page in lab.client("s3").get_paginator("list_objects_v2").paginate(Bucket=name):
            keys.extend(obj["Key"] for obj in page.get("Contents", []))
    return sorted(keys)


def empty_bucket(lab: Lab, name: str | None = None) -> int:
    """Delete every object version and delete marker; returns how many were deleted.

    Everything is listed before anything is deleted: moto resumes a listing at the exact
    version its marker names, so deleting page by page stopped it after the first 1000.
    """
    name = name or lab.names.bucket
    client = lab.client("s3")
    deleted = 0
    with friendly(f"empty bucket {name}"):
        batch = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                 for page in client.get_paginator("list_object_versions").paginate(Bucket=name)
                 for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
        errors = []
        for start in range(0, len(batch), 1000):
            chunk = batch[start:start + 1000]
            # AWS (DeleteObjects): the request succeeds even when single keys fail; each failed
            # key is listed under Errors (Key, VersionId, Code, Message), Quiet or not.
            response = client.delete_objects(Bucket=name, Delete={"Objects": chunk, "Quiet": True})
            errors.extend(response.get("Errors", []))
            deleted += len(chunk) - len(response.get("Errors", []))
    if errors:
        first = errors[0]
        raise AwsError(
            f"Could not empty bucket {name}: S3 refused to delete {len(errors)} of {len(batch)} "
            f"object versions, e.g. {first.get('Key')!r} with {first.get('Code')}: "
            f"{first.get('Message')}", code=str(first.get("Code", "")))
    return deleted


def delete_bucket(lab: Lab, name: str | None = None) -> int | None:
    """Empty and delete the bucket; None if it did not exist, else the number of objects deleted."""
    name = name or lab.names.bucket
    if get_bucket(lab, name) is None:
        return None
    deleted = empty_bucket(lab, name)
    client = lab.client("s3")
    with friendly(f"delete bucket {name}"):
        client.delete_bucket(Bucket=name)
    wait_until(lambda: get_bucket(lab, name) is None, what=f"bucket {name} to be deleted",
               timeout=60, interval=2)
    return deleted
