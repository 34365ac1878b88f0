"""lab.source: lesson 04 reads the handler one top-level definition at a time."""

from __future__ import annotations

import textwrap

import pytest

from lab import source
from lab.errors import LabError

SAMPLE = textwrap.dedent('''\
    """A module."""
    import functools

    LIMIT = 3
    NAME: str = "x"
    A = B = 1


    class Skip(Exception):
        """Skipped."""


    @functools.lru_cache(maxsize=None)
    def cached(n):
        return n * 2


    def main(event, context):
        return cached(LIMIT)
    ''')


@pytest.fixture
def sample(tmp_path):
    path = tmp_path / "sample.py"
    path.write_text(SAMPLE)
    return path


def test_definitions_are_the_top_level_names_in_file_order(sample):
    found = source.definitions(sample)
    assert list(found) == ["LIMIT", "NAME", "A", "B", "Skip", "cached", "main"]
    assert {name: d.kind for name, d in found.items()} == {
        "LIMIT": "constant", "NAME": "constant", "A": "constant", "B": "constant",
        "Skip": "class", "cached": "function", "main": "function"}


def test_a_decorated_function_starts_at_its_decorator(sample):
    cached = source.definitions(sample)["cached"]
    lines = SAMPLE.splitlines()
    assert lines[cached.first - 1] == "@functools.lru_cache(maxsize=None)"
    assert lines[cached.last - 1] == "    return n * 2"


def test_show_renders_the_named_definitions_as_one_python_block(sample):
    shown = source.show("cached", "main", path=sample).data
    assert shown.startswith("```python\n@functools.lru_cache(maxsize=None)\ndef cached(n):")
    assert "    return n * 2\n\n\ndef main(event, context):" in shown
    assert shown.endswith("    return cached(LIMIT)\n```")


def test_constants_are_shown_one_per_line(sample):
    assert source.show("LIMIT", "NAME", path=sample).data == \
        '```python\nLIMIT = 3\nNAME: str = "x"\n```'


def test_an_unknown_name_says_what_the_file_defines(sample):
    with pytest.raises(LabError, match=r"sample.py has no top-level definition called 'handler'; "
                                       r"it defines: LIMIT, NAME"):
        source.show("handler", path=sample)


def test_outline_counts_and_lists_the_definitions(sample):
    assert source.outline(sample) == (
        "sample.py: 19 lines, 2 functions, 1 class, 4 constants.\n"
        "Constants: LIMIT, NAME, A, B\nClasses: Skip\nFunctions: cached, main")


def test_the_default_file_is_the_lambda_handler():
    assert source.HANDLER_FILE.name == "lambda_function.py"
    first = source.outline().splitlines()[0]
    assert first.startswith("lambda_function.py: ") and " 12 functions, 2 classes" in first
    assert max(len(line) for line in source.outline().splitlines()) <= 100
    assert source.show("lambda_handler").data.startswith(
        "```python\ndef lambda_handler(event: Any, context: Any)")


def test_load_module_imports_the_file_without_deploying_it(sample):
    module = source.load_module(sample)
    assert module.__name__ == "sample" and module.main({}, None) == 6
    handler = source.load_module()
    assert handler.object_id(handler.parse_record(
        {"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
         "s3": {"bucket": {"name": "b"}, "object": {"key": "a+b.txt"}}})) == handler.object_id(
        handler.ObjectEvent(bucket="b", key="a b.txt", event_name="ObjectCreated:Put"))
