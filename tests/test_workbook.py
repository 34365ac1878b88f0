"""The headless runner: executes notebooks in order, writes notebooks + HTML, names a failing cell."""

from __future__ import annotations

import nbformat
import pytest

from lab import cli
from lab.workbook import lessons, merge_streams, run_all


def _notebook(path, *sources):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# A lesson")] + [
        nbformat.v4.new_code_cell(source) for source in sources]
    nbformat.write(notebook, path)
    return path


def test_lessons_are_the_numbered_notebooks_in_order():
    names = [p.name for p in lessons()]
    assert names == sorted(names)
    assert names[0] == "00_welcome_and_setup.ipynb" and names[-1] == "11_retries_and_destinations.ipynb"
    assert len(names) == 12


def test_run_all_writes_executed_notebooks_and_html(tmp_path):
    good = _notebook(tmp_path / "00_good.ipynb", "print(6 * 7)")
    runs = run_all([good], output=tmp_path / "build", in_place=False)
    assert [r.error for r in runs] == [None]
    executed = nbformat.read(tmp_path / "build" / "00_good.ipynb", as_version=4)
    assert executed.cells[1].outputs[0]["text"] == "42\n"
    assert "42" in (tmp_path / "build" / "00_good.html").read_text()
    assert nbformat.read(good, as_version=4).cells[1].outputs == []  # not in place


def test_a_failing_cell_is_named_and_later_notebooks_do_not_run(tmp_path, capsys):
    bad = _notebook(tmp_path / "01_bad.ipynb", "x = 1", "raise ValueError('the table is missing')",
                    "print('never')")
    later = _notebook(tmp_path / "02_later.ipynb", "print('later')")
    runs = run_all([bad, later], output=tmp_path / "build", in_place=False)
    assert len(runs) == 1
    assert runs[0].error == "01_bad.ipynb, cell 3: ValueError: the table is missing"
    assert "[1/2] 01_bad.ipynb … FAILED" in capsys.readouterr().out


def test_the_command_exits_non_zero_naming_the_notebook(monkeypatch, tmp_path, capsys):
    bad = _notebook(tmp_path / "03_bad.ipynb", "1 / 0")
    monkeypatch.setattr("lab.workbook.lessons", lambda: [bad])
    assert cli.main(["run", "--output", str(tmp_path / "build")]) == 1
    assert "✗ 03_bad.ipynb, cell 2: ZeroDivisionError: division by zero" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="No notebook matches 99"):
        cli.main(["run", "99"])


def test_split_stream_outputs_are_merged_and_others_kept_apart():
    cell = nbformat.v4.new_code_cell("print('a:', 1)", outputs=[
        nbformat.v4.new_output("stream", name="stdout", text="a:"),
        nbformat.v4.new_output("stream", name="stdout", text=" 1\n"),
        nbformat.v4.new_output("stream", name="stderr", text="warning\n"),
        nbformat.v4.new_output("stream", name="stdout", text="b\n"),
        nbformat.v4.new_output("execute_result", data={"text/plain": "2"}, execution_count=1),
        nbformat.v4.new_output("stream", name="stdout", text="c\n"),
    ])
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# title"), cell])
    merge_streams(notebook)
    assert [(o["output_type"], o.get("name"), o.get("text")) for o in cell["outputs"]] == [
        ("stream", "stdout", "a: 1\n"), ("stream", "stderr", "warning\n"),
        ("stream", "stdout", "b\n"), ("execute_result", None, None), ("stream", "stdout", "c\n")]
    assert "outputs" not in notebook.cells[0]


def test_a_headless_run_prints_no_kernel_warning(tmp_path, capfd):
    good = _notebook(tmp_path / "00_quiet.ipynb", "print('fine')")
    run_all([good], output=None, in_place=False)
    captured = capfd.readouterr()
    assert "Kernel is running over TCP" not in captured.out + captured.err
    assert "[1/1] 00_quiet.ipynb … ok" in captured.out


def test_the_lesson_folder_holds_only_lessons():
    from lab.workbook import NOTEBOOKS_DIR

    others = sorted(p.name for p in NOTEBOOKS_DIR.iterdir()
                    if p.suffix != ".ipynb" and not p.name.startswith("."))
    assert others == []


def test_make_lab_allows_root_only_for_root():
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    printed = subprocess.run(["make", "-n", "-W", "pyproject.toml", "lab", "BIN=/x"], cwd=root,
                             capture_output=True, text=True).stdout
    import os

    line = next(line for line in printed.splitlines() if "jupyter lab" in line)
    assert line.rstrip().endswith("--allow-root") is (os.geteuid() == 0)


def test_progress_redraws_collapse_to_the_final_line():
    from lab.workbook import collapse_redraws

    assert collapse_redraws("up: 0/6 |  |\rup: 3/6 |# |\rup: 6/6 |##|\ndone\n") == "up: 6/6 |##|\ndone\n"
    assert collapse_redraws("plain\ntext\n") == "plain\ntext\n"
    assert collapse_redraws("windows line\r\n") == "windows line\r\n"


def test_the_sanitize_file_collapses_redraws_as_regenerate_does():
    import configparser
    import re
    from pathlib import Path

    config = configparser.ConfigParser()
    config.read(Path(__file__).resolve().parent / "nbval_sanitize.cfg")
    section = config["progress-bar-redraws"]
    live = "uploading: 0/6 |   |\ruploading: 4/6 |## |\ruploading: 6/6 |###|\n✓ 6 uploads\n"
    assert re.sub(section["regex"], section.get("replace", ""), live) == \
        "uploading: 6/6 |###|\n✓ 6 uploads\n"


def test_a_progress_bar_that_redraws_is_stored_as_one_line_and_passes_nbval(tmp_path):
    """Regenerate, then nbval strict on the same notebook: the redraws differ, the result not."""
    import subprocess
    import sys
    from pathlib import Path

    source = ("import time\nfrom lab.progress import progress\n"
              "for _ in progress(range(4), desc='uploading'):\n    time.sleep(0.35)\nprint('done')")
    path = _notebook(tmp_path / "00_bar.ipynb", source)
    [run] = run_all([path], output=None, in_place=True)
    assert run.error is None
    [text] = [o["text"] for o in nbformat.read(path, as_version=4).cells[1].outputs]
    assert text.startswith("uploading: 4/4 |") and "\r" not in text and text.endswith("|\ndone\n")
    sanitize = Path(__file__).resolve().parent / "nbval_sanitize.cfg"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval",
         "--nbval-sanitize-with", str(sanitize), "--nbval-current-env", str(path),
         "-o", "addopts=", "-o", "testpaths="],
        capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-2000:]
