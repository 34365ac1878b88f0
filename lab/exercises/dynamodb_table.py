"""Exercises of lesson 02 · DynamoDB table: build the table and its TTL; an item's write units."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from lab import dynamodb
from lab.checks import (BuildExercise, Exercise, Outcome, Wrong, holds_blank,
                        require_connection)
from lab.connection import Lab
from lab.errors import LabError

FREE_TIER_UNITS = 25  # provisioned RCU and WCU each, per account and Region, always free
WRITE_UNIT_BYTES = 1024
# The lesson's long item: the worked example's 226 bytes with its 17-character objectKey
# replaced by a 984-character one (226 - 17 + 984), by the documented size rules.
LONG_ITEM_BYTES = 1193
LONG_ITEM_WCU = 2  # ⌈1193 / 1024⌉

KEY = dynamodb.PARTITION_KEY
ATTRIBUTE_TYPES = ("B", "N", "S")
VIEW_TYPES = ("NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY")
DELETE_AND_RETRY = ("A table's key cannot be changed: delete it with "
                    "dynamodb.delete_table(cloud),\n"
                    "  then run the create_table cell again")
_STREAM_WHY = {
    "NEW_AND_OLD_IMAGES": "each record also carries the item as it was before the change, "
                          "which nothing reads",
    "KEYS_ONLY": "each record carries only the key, not the item the pipeline reads",
    "OLD_IMAGE": "each record carries the item as it was before the change — for a new "
                 "upload there is none",
}


# -- what AWS refuses before it creates anything ------------------------------------------------
def _client_side(params: dict[str, Any], path: str, field: str) -> None:
    """A bool field given as something else: one sentence instead of botocore's validation dump."""
    value = (params.get(path) or {}).get(field)
    if value is not None and not isinstance(value, bool):
        raise LabError(f"{field} is True or False, a Python bool without quotes; you gave "
                       f"{value!r}.\n  Fix it and run the cell again.")


def _validation(message: str) -> Exception:
    from botocore.exceptions import ClientError

    return ClientError({"Error": {"Code": "ValidationException", "Message": message}},
                       "CreateTable")


def _precheck_create_table(params: dict[str, Any], cloud: Lab) -> None:
    """Refuse what AWS refuses in a CreateTable and moto lets through, with AWS's own error.

    moto creates a table whose only key is a RANGE key, takes any AttributeType and
    StreamViewType, and turns a stream on when StreamEnabled is False but a view type is given.
    AWS refuses all four. On the aws backend AWS itself answers, so nothing is checked there.
    """
    _client_side(params, "StreamSpecification", "StreamEnabled")
    if cloud.backend == "aws":
        return
    keys = params.get("KeySchema") or []
    for number, key in enumerate(keys, start=1):
        if key.get("KeyType") not in ("HASH", "RANGE"):
            return  # moto refuses it as AWS does
    for number, definition in enumerate(params.get("AttributeDefinitions") or [], start=1):
        kind = definition.get("AttributeType")
        if isinstance(kind, str) and kind not in ATTRIBUTE_TYPES:
            raise _validation(f"1 validation error detected: Value '{kind}' at "
                              f"'attributeDefinitions.{number}.member.attributeType' failed to "
                              "satisfy constraint: Member must satisfy enum value set: [B, N, S]")
    stream = params.get("StreamSpecification") or {}
    view = stream.get("StreamViewType")
    if isinstance(view, str) and view not in VIEW_TYPES:
        raise _validation(f"1 validation error detected: Value '{view}' at "
                          "'streamSpecification.streamViewType' failed to satisfy constraint: "
                          "Member must satisfy enum value set: "
                          "[NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES, KEYS_ONLY]")
    if keys and keys[0].get("KeyType") != "HASH":
        raise _validation("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
    if stream.get("StreamEnabled") is False and view is not None:
        raise _validation("One or more parameter values were invalid: Table is being created with "
                          "a stream disabled, UpdateViewType should not be specified")


# Names the lesson's cells define: a NameError for one of them is a lost variable (the lab says so).
_LESSON_NAMES = frozenset({"cloud", "ex", "client", "response", "dynamodb", "____"})


def _param_validation(message: str) -> str:
    """botocore's refusal of a value's type, without its header line."""
    detail = message.split("\n", 1)[-1].strip()
    return f"boto3 refused the values before sending anything:\n  {detail}"


def _precheck_ttl(params: dict[str, Any], cloud: Lab) -> None:
    """A non-bool Enabled, or an empty AttributeName: what botocore refuses, in one sentence."""
    _client_side(params, "TimeToLiveSpecification", "Enabled")
    if (params.get("TimeToLiveSpecification") or {}).get("AttributeName") == "":
        raise LabError("AttributeName is empty: name the attribute that holds each item's "
                       "expiry.")


@dataclasses.dataclass
class _PrecheckedBuild(BuildExercise):
    """A BuildExercise whose learner call is checked first for what AWS refuses and moto allows.

    ``precheck(params, cloud)`` runs on the parameters of ``operation`` before they are sent,
    only inside ``attempt``; it raises AWS's own error (or a LabError for a Python type mistake).
    """

    operation: str = ""
    precheck: Callable[[dict[str, Any], Lab], None] | None = None

    def attempt(self, cloud: Any) -> Any:
        return _Prechecked(super().attempt(cloud), self, cloud)

    def outcome_of(self, cloud: Any, error: BaseException | None) -> Outcome:
        """As BuildExercise does, plus a sentence for a value typed without its quotes."""
        name = getattr(error, "name", None) if isinstance(error, NameError) else None
        if name in ("true", "false"):
            return Outcome("wrong", f"{self.title}: Python spells the booleans True and False,\n"
                                    f"  with a capital letter (you wrote {name}).")
        if name and name not in _LESSON_NAMES:
            return Outcome("wrong", f"{self.title}: {name} without quotes is read as a Python "
                                    f"variable,\n  and there is none by that name: text values "
                                    f"need quotes, e.g. \"{name}\".")
        return super().outcome_of(cloud, error)


class _Prechecked:
    """Registers the precheck on the learner's dynamodb client for the duration of the block."""

    def __init__(self, inner: Any, exercise: _PrecheckedBuild, cloud: Any) -> None:
        self.inner, self.exercise, self.cloud = inner, exercise, cloud
        self.events: Any = None
        self.unique_id = f"eventlab-precheck-{exercise.operation}"
        self.event = f"before-parameter-build.dynamodb.{exercise.operation}"

    @property
    def outcome(self) -> Any:
        return self.inner.outcome

    def _handler(self, params: dict[str, Any], **_: Any) -> None:
        if self.exercise.precheck is not None and not holds_blank(params):
            self.exercise.precheck(params, self.cloud)

    def __enter__(self) -> Any:
        if isinstance(self.cloud, Lab):
            try:
                self.events = self.cloud.client("dynamodb").meta.events
            except LabError:
                self.events = None  # the learner's own call reports the same problem
            if self.events is not None:
                self.events.register(self.event, self._handler, unique_id=self.unique_id)
        return self.inner.__enter__()

    def __exit__(self, etype: Any, error: BaseException | None, tb: Any) -> bool:
        if self.events is not None:
            self.events.unregister(self.event, unique_id=self.unique_id)
        return self.inner.__exit__(etype, error, tb)


# -- build_table -------------------------------------------------------------------------------
def _built_table(cloud: Lab) -> str:
    """Pass when the table has the pipeline's key (objectId, S, HASH) and a NEW_IMAGE stream."""
    name = cloud.names.table
    table = dynamodb.get_table(cloud)
    if table is None:
        raise Wrong(f"there is no table {name} yet: fill in the blanks of create_table and run the "
                    "cell again.")
    status = table.get("TableStatus", "ACTIVE")
    if status == "DELETING":
        raise Wrong(f"table {name} is being deleted: wait a few seconds, then run the cell again.")
    key = [(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]]
    types = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
    if [kind for _, kind in key] != ["HASH"]:
        raise Wrong(f"its key schema is {key}.\n  A RANGE key is a sort key, and AWS refuses a "
                    "table without a HASH (partition) key:\n  this table has one key, objectId, "
                    f"of type HASH.\n  {DELETE_AND_RETRY}.")
    (attribute, _), = key
    if attribute != KEY:
        if attribute.lower() == KEY.lower():
            why = (f"its key is {attribute!r}, but names are case-sensitive:\n  the handler "
                   f"writes {KEY!r}, and every write would fail with 'Missing the key {KEY}'.")
        else:
            why = (f"its key is {attribute!r}, but the handler writes each upload under {KEY!r}:"
                   "\n  every write would fail.")
        raise Wrong(f"{why}\n  {DELETE_AND_RETRY}, with {KEY!r} in both places.")
    kind = types.get(KEY)
    if kind in ("N", "B"):
        word = {"N": "number", "B": "binary"}[kind]
        raise Wrong(f"objectId is declared as {kind!r} ({word}),\n  but the handler writes "
                    "objectId as a string (S): every write would fail with a type mismatch.\n  "
                    f"{DELETE_AND_RETRY}, with AttributeType 'S'.")
    if kind != "S":
        raise Wrong(f"objectId's AttributeType is {kind!r}, and AWS knows only the one-letter "
                    "codes 'S' (string),\n  'N' (number) and 'B' (binary).\n  "
                    f"{DELETE_AND_RETRY}, with 'S'.")
    stream = table.get("StreamSpecification") or {}
    view = stream.get("StreamViewType")
    if not stream.get("StreamEnabled"):
        raise Wrong("the table has no stream (StreamEnabled is False),\n  and the pipeline reads "
                    "its changes from one. Turn it on:\n    cloud.client('dynamodb').update_table("
                    "TableName=cloud.names.table,\n      StreamSpecification="
                    "{'StreamEnabled': True, "
                    "'StreamViewType': 'NEW_IMAGE'})")
    if view != "NEW_IMAGE":
        why = _STREAM_WHY.get(view, f"{view!r} is not a view type AWS knows")
        raise Wrong(f"its stream is {view}:\n  {why}.\n  The pipeline uses NEW_IMAGE, the item "
                    "as it is after the change.\n  To change a view type, turn the stream off, "
                    "then on again, with two update_table calls:\n    StreamSpecification="
                    "{'StreamEnabled': False}, then\n    StreamSpecification="
                    "{'StreamEnabled': True, 'StreamViewType': 'NEW_IMAGE'}\n  "
                    "(moto refuses the second call: offline, delete the table with "
                    "dynamodb.delete_table(cloud)\n  and run the cell again).")
    if status == "CREATING":
        raise Wrong(f"table {name} is still CREATING: the waiter in the cell waits until it is "
                    "ACTIVE;\n  run the cell again in a few seconds.")
    return f"table {name} is {status}: key objectId (HASH, S), stream NEW_IMAGE."


def _explain_create_table(code: str, message: str, cloud: Lab) -> str | None:
    if code == "ParamValidationError":
        return _param_validation(message)
    if code != "ValidationException":
        return None
    if "KeySchemaElement is not a HASH" in message:
        return ("AWS refused a key of type RANGE: a RANGE key is a sort key,\n  and every table "
                "needs a HASH (partition) key first.\n  objectId is this table's one key: "
                "KeyType 'HASH'.")
    if "not defined in AttributeDefinitions" in message:
        return ("AWS refused it: the key's AttributeName must also be in AttributeDefinitions,\n"
                f"  letter for letter ({message.split('. ', 1)[-1]}).\n  Use {KEY!r} in both "
                "places: names are case-sensitive.")
    if "stream disabled" in message:
        return ("AWS refused StreamEnabled=False with a StreamViewType:\n  a view type means "
                "something only for a stream that is on, and the pipeline needs the stream:\n  "
                "StreamEnabled True, StreamViewType 'NEW_IMAGE'.")
    if "attributeType" in message:
        return ("AWS refused the AttributeType: it is a one-letter code, 'S' (string),\n  "
                "'N' (number) or 'B' (binary). The handler writes objectId as a string.")
    if "keyType" in message:
        return ("AWS refused the KeyType: it is 'HASH' (partition key) or 'RANGE' (sort key),\n"
                "  in capitals. objectId is the partition key.")
    if "streamViewType" in message or "StreamViewType" in message:
        return ("AWS refused the StreamViewType: it is one of\n  NEW_IMAGE, OLD_IMAGE, "
                "NEW_AND_OLD_IMAGES or KEYS_ONLY, in capitals.")
    return None


def _build_table(cloud: Lab) -> str:
    return dynamodb.ensure_table(cloud, ttl=False)


# -- build_ttl ---------------------------------------------------------------------------------
def _built_ttl(cloud: Lab) -> str:
    """Pass when TTL is on (or turning on) for the attribute ``ttl``."""
    name = cloud.names.table
    if dynamodb.get_table(cloud) is None:
        raise Wrong(f"there is no table {name} to set a time to live on: run the create_table "
                    "exercise above first.")
    ttl = dynamodb.get_ttl(cloud)
    status = ttl.get("TimeToLiveStatus", "DISABLED")
    attribute = ttl.get("AttributeName")
    wanted = dynamodb.TTL_ATTRIBUTE
    if status == "DISABLING":
        raise Wrong("TTL is being turned off (DISABLING). AWS accepts the next TTL change only "
                    "once that has settled,\n  which can take up to an hour: run the cell again "
                    "then.")
    if status not in ("ENABLED", "ENABLING"):
        raise Wrong("TTL is off for this table:\n  Enabled=False turns it off, or leaves it "
                    "off. Pass Enabled=True.")
    if attribute != wanted:
        undo = ("\n  Turn it off with dynamodb.disable_ttl(cloud), then run the cell again with "
                f"{wanted!r}\n  (on AWS, the second change is accepted once the first has "
                "settled, up to an hour).")
        if attribute.strip() == wanted:
            raise Wrong(f"TTL watches {attribute!r}, with a space:\n  attribute names are "
                        f"matched exactly, so it would never find the handler's {wanted!r}."
                        + undo)
        if attribute.lower() == wanted:
            raise Wrong(f"TTL watches {attribute!r}, but names are case-sensitive:\n  the "
                        f"handler writes the expiry into {wanted!r}, so nothing would expire."
                        + undo)
        raise Wrong(f"TTL watches {attribute!r},\n  but the handler writes each item's expiry "
                    f"into {wanted!r}, so nothing would expire." + undo)
    settling = " (AWS takes up to an hour to finish turning it on)" if status == "ENABLING" else ""
    return (f"TTL is {status} on {wanted!r}{settling}.\n  An item whose {wanted} (epoch seconds) "
            "has passed is deleted in the background,\n  typically within a few days.")


def _explain_ttl(code: str, message: str, cloud: Lab) -> str | None:
    if code == "ParamValidationError":
        return _param_validation(message)
    if code in ("ResourceNotFoundException", "ResourceNotFound"):
        return (f"there is no table {cloud.names.table} yet: run the create_table exercise above "
                "first.")
    return None


def _table(cloud: Any) -> str:
    """Pass when the table has the seed's key, NEW_IMAGE stream, TTL and free-tier capacity."""
    require_connection(cloud, example="ex.table.check(cloud)")
    _built_table(cloud)  # the key, its type and the stream, each with its own sentence
    _built_ttl(cloud)
    table = dynamodb.require_table(cloud)
    mode = (table.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED")
    if mode != "PROVISIONED":
        raise Wrong(f"it is in {mode} mode; the lab provisions 5 read and 5 write units so the "
                    "throttle alarm has a limit to watch.\n  Delete it with "
                    "dynamodb.delete_table(cloud) and create it again.")
    throughput = table["ProvisionedThroughput"]
    rcu, wcu = throughput["ReadCapacityUnits"], throughput["WriteCapacityUnits"]
    if rcu > FREE_TIER_UNITS or wcu > FREE_TIER_UNITS:
        raise Wrong(f"it provisions {rcu} RCU / {wcu} WCU, more than the Free Tier's "
                    f"{FREE_TIER_UNITS} + {FREE_TIER_UNITS}:\n  lower them "
                    "(dynamodb.set_write_capacity(cloud, 5)).")
    return (f"key objectId (S), NEW_IMAGE stream, TTL on 'ttl',\n  {rcu} RCU / {wcu} WCU "
            f"provisioned (the Free Tier covers {FREE_TIER_UNITS} of each).")


def _long_item_wcu(answer: Any) -> str:
    """Pass when ``answer`` is the write units of one PutItem of the long item."""
    if isinstance(answer, bool) or not isinstance(answer, (int, float)):
        raise Wrong(f"give a number of write capacity units, e.g. 3; you gave {answer!r}.")
    if answer == LONG_ITEM_WCU:
        return (f"the item is {LONG_ITEM_BYTES:,} bytes, over 1 KB, so one write costs "
                f"⌈{LONG_ITEM_BYTES:,} / {WRITE_UNIT_BYTES:,}⌉ = {LONG_ITEM_WCU} WCU.")
    if answer == 1:
        raise Wrong("1 WCU pays for an item of up to 1,024 bytes. Count every attribute name "
                    "and value of long_item, not only the key's characters: is it still "
                    "under 1 KB?")
    if answer > 100:
        raise Wrong(f"{answer:,} looks like a size in bytes. Convert it: one WCU per started "
                    "1,024 bytes.")
    if answer != int(answer):
        raise Wrong(f"{answer} is not a whole number: DynamoDB rounds a write up to the next "
                    "whole unit.")
    raise Wrong(f"{answer:g} WCU would pay for up to {int(answer) * WRITE_UNIT_BYTES:,} bytes; "
                "add up long_item's attribute names and values again.")


build_table = _PrecheckedBuild(
    title="Create the table",
    test=_built_table,
    build=_build_table,
    exists=("ResourceInUseException",),
    explain=_explain_create_table,
    hints=(
        "The handler writes every upload under a string attribute called objectId; it is the "
        "table's only key.",
        "A table's one key is its partition key: KeyType 'HASH'. AttributeType is a one-letter "
        "code ('S' for string), and the same name goes in both lists.",
        "The stream must be on, and the pipeline reads the item as it is after each change: "
        "look at the four StreamViewType values.",
    ),
    solution_text=(
        "# create_table(...) with its blanks filled in; the rest of the cell stays as it is:\n"
        'KeySchema=[{"AttributeName": "objectId", "KeyType": "HASH"}],\n'
        'AttributeDefinitions=[{"AttributeName": "objectId", "AttributeType": "S"}],\n'
        'StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},'),
    operation="CreateTable",
    precheck=_precheck_create_table,
)

build_ttl = _PrecheckedBuild(
    title="Turn on time to live",
    test=_built_ttl,
    build=dynamodb.ensure_ttl,
    exists=("ValidationException",),
    explain=_explain_ttl,
    hints=(
        "Enabled is a Python bool; AttributeName names the attribute that holds each item's "
        "expiry.",
        "The handler writes each item's expiry (epoch seconds) into the attribute ttl: pass that "
        "name exactly, in lower case, with Enabled=True.",
    ),
    solution_text=("# update_time_to_live(...) with its blanks filled in:\n"
                   'TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"},'),
    operation="UpdateTimeToLive",
    precheck=_precheck_ttl,
)

table = Exercise(
    title="The S3ObjectEvents table",
    test=_table,
    hints=(
        "Run the cells above that create the table and turn on TTL.",
        "dynamodb.ensure_table(cloud) creates it as the seed did and turns on TTL.",
    ),
    solution_text="from lab import dynamodb\ndynamodb.ensure_table(cloud)",
)

q1 = Exercise(
    title="Write units of the long item",
    test=_long_item_wcu,
    hints=(
        "One WCU writes an item of up to 1 KB (1,024 bytes); each started KB more costs one more.",
        "Start from the worked example's 226 bytes: only objectKey changed, from 17 characters "
        "to len(long_key).",
        "226 - 17 + 984 = 1,193 bytes. How many started KB is that?",
    ),
    solution_text=("answer = 2   # 226 - 17 + 984 = 1,193 bytes; ⌈1193 / 1024⌉ = 2\n"
                   "# or: math.ceil(item_bytes(long_item) / 1024)"),
)
