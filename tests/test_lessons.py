"""What every lesson promises a learner and an instructor: imports first, a time estimate, a
build-it-yourself exercise in each building lesson, no answer in sight, stored outputs that read
well anywhere (nothing truncated, one line per progress bar, no run-to-run metadata)."""

from __future__ import annotations

import re

import nbformat
import pytest

from lab import checks
from lab.workbook import lessons

LESSONS = lessons()
BUILDING = ("01", "02", "03", "04", "05", "06")
IMPORT = re.compile(r"^\s*(import \w|from [\w.]+ import )", re.MULTILINE)


def _read(path):
    return nbformat.read(path, as_version=4)


def _code(notebook):
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def _outputs_text(cell):
    for output in cell.get("outputs", []):
        if "text" in output:
            yield output["text"]
        for key, value in output.get("data", {}).items():
            if key.startswith("text/") and isinstance(value, str):
                yield value


def _solutions():
    """Every exercise's solution, as the code lines a learner would otherwise copy."""
    import importlib
    import pkgutil

    import lab.exercises

    found = []
    for module_info in pkgutil.iter_modules(lab.exercises.__path__):
        module = importlib.import_module(f"lab.exercises.{module_info.name}")
        for name, value in vars(module).items():
            if isinstance(value, (checks.Exercise, checks.BuildExercise)):
                for line in value.solution_text.splitlines():
                    code = line.split("#")[0].strip()
                    if len(code) >= 12 and not code.startswith(("import ", "from ")):
                        found.append((f"{module_info.name}.{name}", code))
    return found


def _squash(text):
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_all_imports_are_in_the_first_code_cell(path):
    later = [cell.source for cell in _code(_read(path))[1:] if IMPORT.search(cell.source)]
    assert later == []


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_the_goal_gives_a_time_estimate(path):
    goal = _read(path).cells[0].source
    match = re.search(r"\*\*Time\.\*\* About (\d+) minutes", goal)
    assert match, "the first cell says **Time.** About N minutes"
    assert 5 <= int(match.group(1)) <= 30


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_no_self_test_and_no_graded_answer_in_a_notebook(path):
    notebook = _read(path)
    assert not [c for c in notebook.cells if "self-test" in c.get("metadata", {}).get("tags", [])]
    assert not [c.source for c in _code(notebook) if ".evaluate(" in c.source]


def test_no_solution_is_visible_in_any_notebook():
    everything = ""
    for path in LESSONS:
        for cell in _read(path).cells:
            everything += _squash(cell.source)
            everything += "".join(_squash(text) for text in _outputs_text(cell))
    solutions = _solutions()
    assert len(solutions) >= 10
    shown = [(where, code) for where, code in solutions if _squash(code) in everything]
    assert shown == []


@pytest.mark.parametrize("number", BUILDING)
def test_every_building_lesson_has_a_build_it_yourself_cell(number):
    path = next(p for p in LESSONS if p.name.startswith(number))
    cells = [c.source for c in _code(_read(path)) if ".attempt(cloud)" in c.source]
    assert cells and all("____" in source for source in cells)
    assert all("cloud.client(" in source for source in cells)


def test_a_failure_lesson_builds_the_on_failure_destination():
    sources = [c.source for p in LESSONS if p.name >= "10" for c in _code(_read(p))]
    assert any(".attempt(cloud)" in s and "DestinationConfig" in s and "____" in s for s in sources)


COLUMNS = 107  # what JupyterLab's output area holds at 1280 px (measured by tests/browser)
UNBREAKABLE = re.compile(r"^(https?://|arn:|/|[\w.-]*[:/][\w.:/-]+$|[0-9a-f-]{20,}$)")


def breaks_inside_a_word(line):
    """Where JupyterLab (``word-break: break-all``) would cut ``line`` inside a word: the cut
    positions whose word is not a URL, an ARN, a path or an id (those cannot break elsewhere)."""
    cuts = []
    for cut in range(COLUMNS, len(line), COLUMNS):
        if line[cut - 1].isspace() or line[cut].isspace():
            continue
        start = len(line[:cut].rsplit(None, 1)[0]) if " " in line[:cut].strip() else 0
        word = line[start:].split(None, 1)[0] if line[start:].split() else ""
        if not UNBREAKABLE.match(word.strip("\"'(<[")) and len(word) < COLUMNS:
            cuts.append(cut)
    return cuts


def test_the_word_break_rule_catches_sentences_and_spares_urls():
    assert breaks_inside_a_word("word " * 30)
    assert not breaks_inside_a_word("short line")
    assert not breaks_inside_a_word("x" * 100 + " https://sns.us-east-1.amazonaws.com/unsubscribe.html?"
                                    "SubscriptionArn=arn:aws:sns:us-east-1:123456789012:t:abc")


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_no_stored_line_breaks_inside_a_word_in_jupyterlab(path):
    broken = [(number, line) for number, cell in enumerate(_read(path).cells, 1)
              for text in _outputs_text(cell) for line in text.splitlines()
              if breaks_inside_a_word(line.expandtabs(8))]
    assert broken == []


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_stored_outputs_read_well_anywhere(path):
    notebook = _read(path)
    for cell in _code(notebook):
        assert "execution" not in cell.metadata, "run-to-run execution metadata is stored"
        for text in _outputs_text(cell):
            assert "\r" not in text, "a progress bar stored as one line per refresh"
            assert not re.search(r"\w\.\.\.(\s|$|\))", text), f"a truncated value: {text[:300]}"
            assert "Traceback" not in text
        assert not [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
