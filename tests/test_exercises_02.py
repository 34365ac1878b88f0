"""Lesson 02's exercises: blank, each likely wrong value with its own sentence, the right answers
(what the notebook never shows), and the helpers the lesson adds to lab.dynamodb."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from lab import dynamodb
from lab.checks import ____
from lab.errors import LabError
from lab.exercises import dynamodb_table as ex

LONG_KEY = "uploads/" + "deeply/nested/folder/" * 46 + "report.pdf"  # as in the lesson


@pytest.fixture
def cloud(lab_moto):
    """A fresh connection with no table yet (lesson 01's topic plays no part in these exercises)."""
    return lab_moto


def create_table(cloud, key=____, key_type=____, attribute=None, attribute_type=____,
                 enabled=____, view=____):
    """The lesson's exercise cell, with the learner's values; returns the attempt's outcome."""
    attribute = key if attribute is None else attribute
    with ex.build_table.attempt(cloud) as attempt:
        client = cloud.client("dynamodb")
        response = client.create_table(
            TableName=cloud.names.table,
            KeySchema=[{"AttributeName": key, "KeyType": key_type}],
            AttributeDefinitions=[{"AttributeName": attribute, "AttributeType": attribute_type}],
            BillingMode="PROVISIONED",
            ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
            StreamSpecification={"StreamEnabled": enabled, "StreamViewType": view},
        )
        print("CreateTable answered: status", response["TableDescription"]["TableStatus"])
        client.get_waiter("table_exists").wait(TableName=cloud.names.table)
        print("The waiter returned: the table is ACTIVE")
    return attempt.outcome


RIGHT_TABLE = dict(key="objectId", key_type="HASH", attribute_type="S", enabled=True,
                   view="NEW_IMAGE")


def update_ttl(cloud, enabled=____, attribute=____):
    """The lesson's TTL exercise cell, with the learner's values; returns the attempt's outcome."""
    with ex.build_ttl.attempt(cloud) as attempt:
        response = cloud.client("dynamodb").update_time_to_live(
            TableName=cloud.names.table,
            TimeToLiveSpecification={"Enabled": enabled, "AttributeName": attribute},
        )
        print("UpdateTimeToLive answered:", response["TimeToLiveSpecification"])
    return attempt.outcome


def _aws_error(code, message):
    return ClientError({"Error": {"Code": code, "Message": message}}, "UpdateTimeToLive")


def _lines_fit(outcome):
    """Each line of the sentence fits the learner's screen before any wrapping (lab.text)."""
    return all(len(line) <= 100 for line in f"✗ {outcome.message}".splitlines())


# -- q1 · write units of the long item ------------------------------------------------------------

def test_the_long_item_has_the_size_the_exercise_expects():
    assert dynamodb.item_bytes(dynamodb.example_item()) == 226
    assert dynamodb.item_bytes(dynamodb.example_item(object_key=LONG_KEY)) == ex.LONG_ITEM_BYTES
    assert len(LONG_KEY) == 984


def test_q1_blank_is_not_attempted():
    assert ex.q1.evaluate(____).status == "not attempted"


@pytest.mark.parametrize("answer, sentence", [
    (1, "Count every attribute name and value of long_item"),
    (1193, "looks like a size in bytes"),
    (1024, "looks like a size in bytes"),
    (1.5, "is not a whole number"),
    (3, "3 WCU would pay for up to 3,072 bytes"),
    ("2", "give a number of write capacity units"),
    (True, "give a number of write capacity units"),
])
def test_q1_wrong_answers_get_their_own_sentence(answer, sentence):
    outcome = ex.q1.evaluate(answer)
    assert outcome.status == "wrong"
    assert sentence in outcome.message


@pytest.mark.parametrize("answer", [2, 2.0])
def test_q1_two_is_right(answer):
    outcome = ex.q1.evaluate(answer)
    assert outcome.passed
    assert "⌈1,193 / 1,024⌉ = 2 WCU" in outcome.message


# -- build_table · CreateTable ---------------------------------------------------------------------

def test_build_table_blank_is_not_attempted_and_the_helper_builds_it_without_ttl(cloud, capsys):
    sent = []
    cloud.client("dynamodb").meta.events.register(
        "before-send.dynamodb.CreateTable", lambda request, **_: sent.append(request))
    outcome = create_table(cloud)
    assert outcome.status == "not attempted"
    assert "Create the table: not attempted yet" in outcome.message
    assert capsys.readouterr().out.splitlines()[-1] == f"✓ Created table {cloud.names.table}"
    assert len(sent) == 1, "only the helper's CreateTable reached the backend"
    assert ex.build_table.evaluate(cloud).passed
    assert dynamodb.get_ttl(cloud)["TimeToLiveStatus"] == "DISABLED", "TTL is the next exercise"


def test_build_table_right_answer_and_a_second_run(cloud, capsys):
    first = create_table(cloud, **RIGHT_TABLE)
    second = create_table(cloud, **RIGHT_TABLE)   # ResourceInUseException: graded as it is
    assert first.passed and second.passed
    assert "is ACTIVE: key objectId (HASH, S), stream NEW_IMAGE." in second.message
    assert _lines_fit(second)
    out = capsys.readouterr().out
    assert out.count("CreateTable answered: status ACTIVE") == 1
    assert out.count("The waiter returned") == 1
    assert out.count("✓ Create the table:") == 2
    names = cloud.client("dynamodb").list_tables()["TableNames"]
    assert names == [cloud.names.table]
    assert ex.build_table.check(cloud).passed


@pytest.mark.parametrize("values, sentence", [
    # AWS refuses these, and the lab refuses them the same way offline (moto would accept them)
    (dict(key_type="RANGE"), "AWS refused a key of type RANGE: a RANGE key is a sort key"),
    (dict(enabled=False), "AWS refused StreamEnabled=False with a StreamViewType"),
    (dict(attribute_type="String"), "AWS refused the AttributeType: it is a one-letter code"),
    (dict(attribute_type="s"), "AWS refused the AttributeType: it is a one-letter code"),
    (dict(view="new_image"), "AWS refused the StreamViewType: it is one of"),
    (dict(key_type="hash"), "AWS refused the KeyType: it is 'HASH' (partition key) or 'RANGE'"),
    (dict(key_type="PARTITION"), "AWS refused the KeyType"),
    # both refuse: the key is not among the attribute definitions
    (dict(attribute="ObjectId"), "must also be in AttributeDefinitions,\n  letter for letter "
                                 "(Keys: [objectId], AttributeDefinitions: [ObjectId])"),
    (dict(key="objectID", attribute="objectId"),
     "Keys: [objectID], AttributeDefinitions: [objectId]"),
    # Python, not AWS
    (dict(enabled="True"), "StreamEnabled is True or False, a Python bool without quotes; "
                           "you gave 'True'"),
])
def test_build_table_values_aws_refuses_get_their_own_sentence_and_build_nothing(
        cloud, values, sentence):
    outcome = create_table(cloud, **{**RIGHT_TABLE, **values})
    assert outcome.status == "wrong"
    assert sentence in outcome.message
    assert _lines_fit(outcome)
    assert dynamodb.get_table(cloud) is None


@pytest.mark.parametrize("values, sentences", [
    (dict(attribute_type="N"), ["objectId is declared as 'N' (number)", "writes objectId as a "
                                "string (S)", "delete it with dynamodb.delete_table(cloud)"]),
    (dict(attribute_type="B"), ["objectId is declared as 'B' (binary)",
                                "dynamodb.delete_table(cloud)"]),
    (dict(key="ObjectId"), ["its key is 'ObjectId', but names are case-sensitive",
                            "'Missing the key objectId'", "dynamodb.delete_table(cloud)"]),
    (dict(key="objectID"), ["its key is 'objectID', but names are case-sensitive"]),
    (dict(key="id"), ["its key is 'id', but the handler writes each upload under 'objectId'"]),
    (dict(view="NEW_AND_OLD_IMAGES"), ["its stream is NEW_AND_OLD_IMAGES",
                                       "which nothing reads", "two update_table calls",
                                       "{'StreamEnabled': False}"]),
    (dict(view="KEYS_ONLY"), ["its stream is KEYS_ONLY", "only the key",
                              "The pipeline uses NEW_IMAGE"]),
    (dict(view="OLD_IMAGE"), ["its stream is OLD_IMAGE", "for a new upload there is none"]),
])
def test_build_table_wrong_tables_get_their_own_sentence(cloud, values, sentences):
    outcome = create_table(cloud, **{**RIGHT_TABLE, **values})
    assert outcome.status == "wrong"
    for sentence in sentences:
        assert sentence in outcome.message
    assert _lines_fit(outcome)


def test_a_wrong_table_stays_wrong_until_deleted_then_the_right_call_passes(cloud):
    assert create_table(cloud, **{**RIGHT_TABLE, "attribute_type": "N"}).status == "wrong"
    again = create_table(cloud, **RIGHT_TABLE)   # ResourceInUseException: the N table is graded
    assert again.status == "wrong" and "declared as 'N'" in again.message
    assert dynamodb.delete_table(cloud) is True
    assert create_table(cloud, **RIGHT_TABLE).passed


def test_the_stream_sentence_for_a_stream_view_type_can_be_followed_on_aws_or_by_deleting(cloud):
    create_table(cloud, **{**RIGHT_TABLE, "view": "KEYS_ONLY"})
    client = cloud.client("dynamodb")
    client.update_table(TableName=cloud.names.table, StreamSpecification={"StreamEnabled": False})
    outcome = ex.build_table.evaluate(cloud)
    assert "the table has no stream (StreamEnabled is False)" in outcome.message
    assert _lines_fit(outcome)
    dynamodb.delete_table(cloud)
    assert create_table(cloud, **RIGHT_TABLE).passed


def test_a_table_without_a_stream_can_get_one_with_the_sentence_s_update_table(cloud):
    cloud.client("dynamodb").create_table(
        TableName=cloud.names.table, KeySchema=[{"AttributeName": "objectId", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "objectId", "AttributeType": "S"}],
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5})
    assert "the table has no stream" in ex.build_table.evaluate(cloud).message
    cloud.client("dynamodb").update_table(
        TableName=cloud.names.table,
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
    assert ex.build_table.evaluate(cloud).passed


def test_the_offline_refusals_apply_only_inside_the_attempt(cloud):
    create_table(cloud, **{**RIGHT_TABLE, "key_type": "RANGE"})
    cloud.client("dynamodb").create_table(   # moto itself accepts it
        TableName=cloud.names.table, KeySchema=[{"AttributeName": "objectId", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "objectId", "AttributeType": "S"}],
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5})
    outcome = ex.build_table.evaluate(cloud)
    assert "its key schema is [('objectId', 'RANGE')]" in outcome.message
    assert "AWS refuses a table without a HASH (partition) key" in outcome.message


def test_build_table_without_any_table_says_so(cloud):
    outcome = ex.build_table.evaluate(cloud)
    assert outcome.status == "wrong"
    assert f"there is no table {cloud.names.table} yet" in outcome.message


@pytest.mark.parametrize("message, sentence", [
    ("Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
     "AWS refused a key of type RANGE"),
    ("One or more parameter values were invalid: Table is being created with a stream disabled, "
     "UpdateViewType should not be specified", "AWS refused StreamEnabled=False"),
    ("1 validation error detected: Value 'String' at 'attributeDefinitions.1.member.attributeType' "
     "failed to satisfy constraint: Member must satisfy enum value set: [B, N, S]",
     "AWS refused the AttributeType"),
    ("1 validation error detected: Value 'new_image' at 'streamSpecification.streamViewType' "
     "failed to satisfy constraint: Member must satisfy enum value set: "
     "[NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES, KEYS_ONLY]", "AWS refused the StreamViewType"),
])
def test_aws_own_refusals_read_the_same_as_offline(lab_moto, message, sentence):
    assert sentence in ex._explain_create_table("ValidationException", message, lab_moto)


# -- build_ttl · UpdateTimeToLive ------------------------------------------------------------------

@pytest.fixture
def table(cloud):
    """The table as the lesson's table section leaves it: built, TTL still off."""
    dynamodb.ensure_table(cloud, ttl=False, quiet=True)
    return cloud


def test_build_ttl_blank_is_not_attempted_and_the_helper_turns_it_on(table, capsys):
    outcome = update_ttl(table)
    assert outcome.status == "not attempted"
    assert "Turn on time to live: not attempted yet" in outcome.message
    assert capsys.readouterr().out.splitlines()[-1] == \
        f"✓ Turned on time to live (attribute ttl) for table {table.names.table}"
    assert dynamodb.get_ttl(table) == {"TimeToLiveStatus": "ENABLED", "AttributeName": "ttl"}
    assert ex.build_ttl.evaluate(table).passed


def test_build_ttl_right_answer_and_a_second_run(table, capsys):
    first = update_ttl(table, True, "ttl")
    second = update_ttl(table, True, "ttl")
    assert first.passed and second.passed
    assert "TTL is ENABLED on 'ttl'" in second.message
    assert "deleted in the background,\n  typically within a few days" in second.message
    assert capsys.readouterr().out.count("✓ Turn on time to live:") == 2
    assert dynamodb.get_ttl(table) == {"TimeToLiveStatus": "ENABLED", "AttributeName": "ttl"}


def test_build_ttl_already_enabled_on_aws_is_graded_as_it_is(table):
    dynamodb.enable_ttl(table)
    error = _aws_error("ValidationException", "TimeToLive is already enabled")
    assert ex.build_ttl.outcome_of(table, error).passed


def test_build_ttl_on_aws_a_fix_over_another_attribute_is_graded_as_it_is(table):
    update_ttl(table, True, "TTL")
    error = _aws_error("ValidationException", "TimeToLive is active on a different AttributeName: "
                                              "current AttributeName is TTL")
    outcome = ex.build_ttl.outcome_of(table, error)
    assert outcome.status == "wrong"
    assert "TTL watches 'TTL'" in outcome.message
    assert "dynamodb.disable_ttl(cloud)" in outcome.message


@pytest.mark.parametrize("values, sentences", [
    ((True, "TTL"), ["TTL watches 'TTL', but names are case-sensitive", "writes the expiry into "
                     "'ttl'", "dynamodb.disable_ttl(cloud)", "up to an hour"]),
    ((True, "Ttl"), ["TTL watches 'Ttl', but names are case-sensitive"]),
    ((True, "ttl "), ["TTL watches 'ttl ', with a space", "dynamodb.disable_ttl(cloud)"]),
    ((True, " ttl"), ["TTL watches ' ttl', with a space"]),
    ((True, "expiresAt"), ["TTL watches 'expiresAt',\n  but the handler writes each item's expiry "
                           "into 'ttl'", "dynamodb.disable_ttl(cloud)"]),
    ((True, "timestamp"), ["TTL watches 'timestamp'"]),
    ((False, "ttl"), ["TTL is off for this table:", "Enabled=False turns it off, or leaves it off",
                      "Pass Enabled=True"]),
    (("True", "ttl"), ["Enabled is True or False, a Python bool without quotes; you gave 'True'"]),
    ((1, "ttl"), ["Enabled is True or False, a Python bool without quotes; you gave 1"]),
    ((True, ""), ["AttributeName is empty"]),
])
def test_build_ttl_wrong_values_get_their_own_sentence(table, values, sentences):
    outcome = update_ttl(table, *values)
    assert outcome.status == "wrong"
    for sentence in sentences:
        assert sentence in outcome.message
    assert _lines_fit(outcome)


def test_build_ttl_wrong_attribute_then_the_sentence_s_fix_passes(table):
    assert update_ttl(table, True, "expiresAt").status == "wrong"
    assert dynamodb.disable_ttl(table) is True
    assert dynamodb.disable_ttl(table) is False
    assert update_ttl(table, True, "ttl").passed


def test_build_ttl_without_a_table_says_to_create_it_first(cloud):
    outcome = update_ttl(cloud, True, "ttl")
    assert outcome.status == "wrong"
    assert f"there is no table {cloud.names.table} yet: run the create_table exercise" in \
        outcome.message


@pytest.mark.parametrize("status, attribute, passed, sentence", [
    ("ENABLING", "ttl", True, "TTL is ENABLING on 'ttl' (AWS takes up to an hour"),
    ("DISABLING", "ttl", False, "TTL is being turned off (DISABLING)"),
    ("ENABLING", "TTL", False, "TTL watches 'TTL'"),
])
def test_build_ttl_states_only_aws_shows(table, monkeypatch, status, attribute, passed, sentence):
    monkeypatch.setattr(dynamodb, "get_ttl",
                        lambda *_: {"TimeToLiveStatus": status, "AttributeName": attribute})
    outcome = ex.build_ttl.evaluate(table)
    assert outcome.passed is passed
    assert sentence in outcome.message


# -- the helpers and the whole-table check ---------------------------------------------------------

def test_ensure_ttl_refuses_to_move_ttl_to_another_attribute(table, capsys):
    update_ttl(table, True, "expiresAt")
    with pytest.raises(LabError, match=r"is on for the attribute 'expiresAt', not 'ttl': turn it "
                                       r"off with dynamodb\.disable_ttl\(cloud\) first"):
        dynamodb.ensure_ttl(table)
    dynamodb.disable_ttl(table)
    dynamodb.ensure_ttl(table)
    dynamodb.ensure_ttl(table)
    assert capsys.readouterr().out.splitlines()[-2:] == [
        f"✓ Turned on time to live (attribute ttl) for table {table.names.table}",
        f"✓ Time to live (attribute ttl) is already on for table {table.names.table}",
    ]


def test_ensure_ttl_without_a_table_names_the_lesson(cloud):
    with pytest.raises(LabError, match="run notebook 02_dynamodb_table first"):
        dynamodb.ensure_ttl(cloud)


def test_the_whole_table_check_reads_every_setting(table):
    outcome = ex.table.evaluate(table)
    assert outcome.status == "wrong" and "TTL is off for this table" in outcome.message
    dynamodb.ensure_ttl(table, quiet=True)
    outcome = ex.table.evaluate(table)
    assert outcome.passed
    assert "key objectId (S), NEW_IMAGE stream, TTL on 'ttl',\n  5 RCU / 5 WCU" in outcome.message
    assert "pass the connection made by connect()" in ex.table.evaluate("cloud").message


def test_the_lesson_in_order_with_right_answers(cloud):
    assert create_table(cloud, **RIGHT_TABLE).passed
    dynamodb.ensure_table(cloud, ttl=False, quiet=True)
    assert update_ttl(cloud, True, "ttl").passed
    dynamodb.ensure_ttl(cloud, quiet=True)
    assert ex.table.evaluate(cloud).passed
    assert dynamodb.ensure_table(cloud, quiet=True)   # later lessons: nothing changes
    assert ex.table.evaluate(cloud).passed


# -- Python mistakes in either cell ----------------------------------------------------------------

def test_a_value_typed_without_quotes_says_so(table):
    with ex.build_table.attempt(table) as attempt:
        table.client("dynamodb").create_table(
            KeySchema=[{"AttributeName": objectId, "KeyType": "HASH"}])  # noqa: F821
    assert attempt.outcome.status == "wrong"
    assert "objectId without quotes is read as a Python variable" in attempt.outcome.message
    assert 'text values need quotes, e.g. "objectId"' in attempt.outcome.message
    with ex.build_ttl.attempt(table) as attempt:
        table.client("dynamodb").update_time_to_live(
            TableName=table.names.table,
            TimeToLiveSpecification={"Enabled": true, "AttributeName": "ttl"})  # noqa: F821
    assert "Python spells the booleans True and False" in attempt.outcome.message
    assert "(you wrote true)" in attempt.outcome.message


def test_a_lost_variable_is_left_to_the_lab_s_own_sentence(table):
    with ex.build_ttl.attempt(table) as attempt:
        client.update_time_to_live()  # noqa: F821 - the cell that made client did not run
    assert attempt.outcome.status == "wrong"
    assert "NameError" in attempt.outcome.message
    assert "without quotes" not in attempt.outcome.message


@pytest.mark.parametrize("view, detail", [
    (None, "Invalid type for parameter StreamSpecification.StreamViewType, value: None"),
    (3, "Invalid type for parameter StreamSpecification.StreamViewType, value: 3"),
])
def test_a_value_of_the_wrong_python_type_gets_boto3_s_reason(cloud, view, detail):
    outcome = create_table(cloud, **{**RIGHT_TABLE, "view": view})
    assert outcome.status == "wrong"
    assert "boto3 refused the values before sending anything" in outcome.message
    assert detail in outcome.message.replace("\n    ", " ")
    assert dynamodb.get_table(cloud) is None


def test_the_size_rules_the_lesson_teaches_are_the_lab_s():
    """The notebook's own value_bytes/item_bytes cell agrees with lab.dynamodb on every item."""
    from pathlib import Path

    import nbformat

    path = Path(__file__).parents[1] / "notebooks" / "02_dynamodb_table.ipynb"
    cells = [c.source for c in nbformat.read(path, as_version=4).cells
             if c.cell_type == "code" and "def item_bytes" in c.source]
    assert len(cells) == 1
    taught = {}
    exec(cells[0], taught)  # noqa: S102 - the lesson's own cell, as a learner runs it
    for item in (dynamodb.example_item(), dynamodb.example_item(object_key=LONG_KEY),
                 {"objectId": "é", "n": 1000, "m": 123456789}):
        assert taught["item_bytes"](item) == dynamodb.item_bytes(item)
