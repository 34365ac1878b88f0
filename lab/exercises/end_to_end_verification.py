"""Exercises of lesson 07 · End-to-end verification: the seed's four checks, the alarm's sums."""

from __future__ import annotations

import json
from typing import Any

from lab import alarms, dynamodb, logs, s3
from lab.checks import Exercise, Wrong, require_connection
from lab.connection import Lab

ALARM_SUBJECT = 'ALARM: "{name}"'
OK_SUBJECT = 'OK: "{name}"'
LOG_WINDOW_MINUTES = 180  # check 2 reads the runs of the last three hours
FAILED_RUN = ("[ERROR]", "errorMessage", "\tStatus: timeout", "Task timed out")


def _connection(cloud: Any) -> Lab:
    return require_connection(cloud, example="ex.item_stored.check(cloud, key)")


def _item_stored(cloud: Any, key: Any) -> str:
    """Pass when the table holds an item for the uploaded ``key`` (decoded, as uploaded)."""
    cloud = _connection(cloud)
    if not isinstance(key, str) or not key:
        raise Wrong("pass the key you uploaded, as a string, e.g. 'verification/hello world.txt'.")
    items = [i for i in dynamodb.scan_items(cloud) if i.get("objectKey") == key]
    if items:
        newest = max(items, key=lambda item: item["timestamp"])
        return (f"{len(items)} item(s) for {key!r} in {cloud.names.table}; the newest has "
                f"objectId {newest['objectId']} and expires "
                f"{(newest['ttl'] - newest['timestamp']) // 3600} h after it was written.")
    encoded = [i["objectKey"] for i in dynamodb.scan_items(cloud)
               if i.get("objectKey") == key.replace(" ", "+")]
    if encoded:
        raise Wrong(f"the table holds {encoded[0]!r}, the key as S3 encodes it: the function must "
                    "decode keys with urllib.parse.unquote_plus (lesson 04).")
    if key in s3.list_keys(cloud):
        raise Wrong(f"{key!r} is in the bucket but the table has no item for it: check the "
                    "trigger (lesson 05) and read the function's logs (check 2).")
    raise Wrong(f"the bucket has no object {key!r}: upload it first (the cell above).")


def _invocations(cloud: Lab) -> list[dict[str, Any]]:
    """Each logged invocation: request id and its lines, START to REPORT, oldest first."""
    return logs.invocations(logs.recent_events(cloud, minutes=LOG_WINDOW_MINUTES))


def _logs_show_success(cloud: Any, key: Any) -> str:
    """Pass when an invocation logged storing ``key`` and ended with a REPORT and no error."""
    cloud = _connection(cloud)
    if not isinstance(key, str) or not key:
        raise Wrong("pass the key you uploaded, as a string.")
    runs = [run for run in _invocations(cloud)
            if any(key in line and "stored object event" in line for line in run["lines"])]
    if not runs:
        raise Wrong(f"no invocation logged 'stored object event' for {key!r}: upload it, wait a "
                    f"few seconds, and look at the log group {cloud.names.log_group}.")
    run = runs[-1]
    if not run["complete"]:
        raise Wrong(f"the run {run['request_id']} has not logged its REPORT line yet: wait a "
                    "few seconds and check again.")
    failures = [line for line in run["lines"] if any(mark in line for mark in FAILED_RUN)]
    if failures:
        raise Wrong(f"the run {run['request_id']} logged an error: {failures[0][:120]}")
    stored = next(json.loads(line) for line in run["lines"] if "stored object event" in line)
    return (f"request {run['request_id']} logged START, 'stored object event' (objectId "
            f"{stored['objectId']}), END and REPORT, and no error.")


def _history(cloud: Lab, item_type: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    paginator = cloud.client("cloudwatch").get_paginator("describe_alarm_history")
    for page in paginator.paginate(AlarmName=cloud.names.activity_alarm,
                                   HistoryItemType=item_type, ScanBy="TimestampAscending"):
        items.extend(page["AlarmHistoryItems"])
    return items


def _went_to(cloud: Lab, state: str) -> list[dict[str, Any]]:
    return [item for item in _history(cloud, "StateUpdate")
            if json.loads(item["HistoryData"])["newState"]["stateValue"] == state]


def _email_with(cloud: Lab, subject: str) -> dict[str, Any] | None:
    """The newest local email starting with ``subject`` (None on AWS: the mailbox is yours)."""
    if not cloud.is_local:
        return None
    mails = [m for m in cloud.inbox(cloud.names.email) if m["subject"].startswith(subject)]
    if not mails:
        from lab import sns

        subscription = sns.get_email_subscription(cloud)
        if subscription is None or subscription["pending"]:
            raise Wrong(f"no email reached {cloud.names.email}: its subscription is "
                        f"{'missing' if subscription is None else 'pending confirmation'}, and "
                        "SNS delivers nothing until it is confirmed (lesson 01).")
        raise Wrong(f"the alarm changed state but no email starting {subject!r} is in the inbox.")
    return mails[-1]


def _alarm_email(cloud: Any) -> str:
    """Pass when the activity alarm went to ALARM, notified the topic, and the email arrived."""
    cloud = _connection(cloud)
    name = cloud.names.activity_alarm
    if alarms.get_alarm(cloud, name) is None:
        raise Wrong(f"there is no alarm {name}: run notebook 06_cloudwatch_alarms first.")
    if not _went_to(cloud, "ALARM"):
        raise Wrong(f"{name} has never been in ALARM: upload more than 10 files within one "
                    "clock minute (each small item costs 1 WCU), then check again.")
    actions = [i for i in _history(cloud, "Action") if i["HistorySummary"].startswith(
        "Successfully executed action")]
    if not actions:
        raise Wrong(f"{name} went to ALARM but did not publish to the topic: its AlarmActions "
                    "must list the topic's ARN (lesson 06).")
    mail = _email_with(cloud, ALARM_SUBJECT.format(name=name))
    where = f"the email '{mail['subject']}' reached {mail['to']}" if mail else (
        f"SNS was notified; look for the email in the mailbox of {cloud.names.email}")
    return f"{name} went to ALARM and {where}."


def _back_to_ok(cloud: Any) -> str:
    """Pass when the activity alarm came back from ALARM to OK (and said so by email)."""
    cloud = _connection(cloud)
    name = cloud.names.activity_alarm
    alarm = alarms.get_alarm(cloud, name)
    if alarm is None:
        raise Wrong(f"there is no alarm {name}: run notebook 06_cloudwatch_alarms first.")
    if not _went_to(cloud, "ALARM"):
        raise Wrong(f"{name} has not been in ALARM yet, so it cannot come back: do check 3 first.")
    recovered = [i for i in _went_to(cloud, "OK")
                 if json.loads(i["HistoryData"])["oldState"]["stateValue"] == "ALARM"]
    if alarm["StateValue"] == "ALARM" or not recovered:
        raise Wrong(f"{name} is still in {alarm['StateValue']}, not back to OK. "
                    "Silence does not clear it (DynamoDB alarms ignore missing data): upload one "
                    "file, let that minute end (verify.pass_time(cloud, minutes=1)), and check "
                    "again.")
    mail = _email_with(cloud, OK_SUBJECT.format(name=name))
    where = f"the email '{mail['subject']}' arrived" if mail else "SNS was notified"
    return f"{name} went from ALARM back to OK and {where}."


def _fewest_uploads(answer: Any) -> str:
    """Pass for 11: the fewest small uploads in one minute that breach 'more than 10 WCU'."""
    if isinstance(answer, bool) or not isinstance(answer, (int, float)) or answer != int(answer):
        raise Wrong("give a whole number of uploads, e.g. answer = 7.")
    answer = int(answer)
    if answer == 10:
        raise Wrong("10 uploads make a Sum of 10.0 WCU, and the operator is "
                    "GreaterThanThreshold: 10.0 is not greater than 10.0.")
    if answer > 11:
        raise Wrong(f"{answer} uploads do fire the alarm, but fewer would too: what is the "
                    "smallest Sum that is greater than 10?")
    if answer < 10:
        raise Wrong(f"{answer} small uploads cost {answer} WCU in that minute, not more than 10.")
    return ("11 uploads × 1 WCU = 11.0, the smallest Sum greater than the threshold of 10.0, "
            "provided they land in the same clock minute.")


item_stored = Exercise(
    title="Check 1 · the upload became an item",
    test=_item_stored,
    hints=("Upload the file with s3.upload(cloud, key, body) or the raw put_object cell, then "
           "check again with the same key.",
           "An item's objectKey is the key exactly as you uploaded it, spaces included."),
    solution_text='s3.upload(cloud, "verification/hello world.txt", "Hello again!\\n")\n'
                  "# then run the check cell again with the same key",
)

logs_show_success = Exercise(
    title="Check 2 · the logs show a successful run",
    test=_logs_show_success,
    hints=("The function logs to /aws/lambda/S3ToDynamoProcessor: logs.newest_invocation(cloud) "
           "shows the newest run.",
           "A successful run has START, the handler's 'stored object event' line, END and "
           "REPORT, and no errorMessage."),
    solution_text='s3.upload(cloud, "verification/hello world.txt", "Hello again!\\n")\n'
                  'print(*logs.newest_invocation(cloud, containing="hello world")["lines"], '
                  'sep="\\n")\n'
                  "# then run the check cell again",
)

alarm_email = Exercise(
    title="Check 3 · the alarm fired and the email arrived",
    test=_alarm_email,
    hints=("The activity alarm fires when more than 10 WCU are consumed within one minute.",
           "Upload a dozen small files in one go, then verify.wait_for_alarm(cloud, "
           "cloud.names.activity_alarm, 'ALARM')."),
    solution_text="verify.wait_for_minute_room(cloud, seconds=30)   # one clock minute\n"
                  "for n in range(12):\n"
                  "    s3.upload(cloud, f'verification/burst-{n:02d}.txt', 'x')\n"
                  "verify.wait_for_alarm(cloud, cloud.names.activity_alarm, 'ALARM', timeout=900)\n"
                  "# then run the check cell again",
)

back_to_ok = Exercise(
    title="Check 4 · the alarm came back to OK",
    test=_back_to_ok,
    hints=("Waiting alone does not help: the alarm needs a new datapoint below the threshold.",
           "Upload one file, then let that minute end with verify.pass_time(cloud, minutes=1)."),
    solution_text="s3.upload(cloud, 'verification/calm.txt', 'x'); "
                  "verify.pass_time(cloud, minutes=1)\n"
                  "verify.wait_for_alarm(cloud, cloud.names.activity_alarm, 'OK', timeout=900)\n"
                  "# then run the check cell again",
)

q1 = Exercise(
    title="The fewest uploads that fire the alarm",
    test=_fewest_uploads,
    hints=("Each small item costs 1 write capacity unit; the alarm sums them per minute.",
           "The alarm's ComparisonOperator is GreaterThanThreshold and its Threshold is 10.0."),
    solution_text="answer = 11   # 11 WCU > 10 WCU; 10 would only equal the threshold",
)
