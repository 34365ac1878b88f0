"""Execute the workbook headless: in order, one fresh kernel per notebook, with progress."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

NOTEBOOKS_DIR = Path(__file__).resolve().parent.parent / "notebooks"


@dataclasses.dataclass
class NotebookRun:
    """What happened to one notebook: its path, seconds taken, and the failure if any."""

    path: Path
    seconds: float
    error: str | None = None


def lessons(directory: Path = NOTEBOOKS_DIR) -> list[Path]:
    """The lesson notebooks, in order (``00_…`` first)."""
    return sorted(p for p in directory.glob("[0-9][0-9]_*.ipynb"))


def _failure(path: Path, notebook: object, error: Exception) -> str:
    """``<notebook>, cell <n>: <ErrorName>: <message>`` (n counts every cell, from 1, as Jupyter shows)."""
    for number, cell in enumerate(getattr(notebook, "cells", []), 1):
        for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            if output.get("output_type") == "error":
                return f"{path.name}, cell {number}: {output.get('ename')}: {output.get('evalue')}"
    return f"{path.name}: {type(error).__name__}: {error}"


def execute(path: Path, *, timeout: int = 600) -> tuple[object, NotebookRun]:
    """Run one notebook top to bottom in a fresh kernel started in its folder."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}},
                            # the kernel's own start-up warnings would interleave with progress
                            extra_arguments=["--IPKernelApp.log_level=ERROR"])
    started = time.perf_counter()
    try:
        client.execute()
    except Exception as error:  # noqa: BLE001 - reported with notebook, cell and error
        return notebook, NotebookRun(path, time.perf_counter() - started,
                                     _failure(path, notebook, error))
    merge_streams(notebook)
    drop_run_metadata(notebook)
    return notebook, NotebookRun(path, time.perf_counter() - started)


def drop_run_metadata(notebook: object) -> None:
    """Remove what changes on every run without being output: execution timings, kernel times."""
    for cell in getattr(notebook, "cells", []):
        metadata = cell.get("metadata", {})
        metadata.pop("execution", None)
        metadata.pop("ExecuteTime", None)


def merge_streams(notebook: object) -> None:
    """Join consecutive stdout (or stderr) outputs of a cell into one, in place; collapse redraws.

    The kernel sends printed text in chunks as its output buffer is flushed, so where one
    ``print`` is split depends on timing; stored outputs should not.
    """
    for cell in getattr(notebook, "cells", []):
        merged: list = []
        for output in cell.get("outputs", []):
            previous = merged[-1] if merged else None
            if (previous is not None and output.get("output_type") == "stream"
                    and previous.get("output_type") == "stream"
                    and previous.get("name") == output.get("name")):
                previous["text"] += output["text"]
            else:
                merged.append(output)
        for output in merged:
            if output.get("output_type") == "stream":
                output["text"] = collapse_redraws(output["text"])
        if "outputs" in cell:
            cell["outputs"] = merged


def collapse_redraws(text: str) -> str:
    """Keep what a terminal shows of lines redrawn with carriage returns (a progress bar).

    ``"a: 0/6 |  |\ra: 6/6 |##|\n"`` → ``"a: 6/6 |##|\n"``: how often a bar redraws depends on
    real time, its final text does not. tests/nbval_sanitize.cfg applies the same rule.
    """
    return "\n".join(line.rsplit("\r", 1)[-1] if "\r" in line.rstrip("\r") else line
                     for line in text.split("\n"))


def run_all(paths: list[Path], *, output: Path | None, in_place: bool) -> list[NotebookRun]:
    """Execute ``paths`` in order; write executed copies + HTML to ``output`` or back in place.

    Stops at the first failing notebook (later lessons depend on earlier ones).
    """
    import nbformat

    runs = []
    if output is not None:
        output.mkdir(parents=True, exist_ok=True)
    for number, path in enumerate(paths, 1):
        print(f"[{number}/{len(paths)}] {path.name} …", end=" ", flush=True)
        notebook, run = execute(path)
        runs.append(run)
        print(f"{'ok' if run.error is None else 'FAILED'} ({run.seconds:.1f} s)", flush=True)
        if run.error is not None:
            if output is not None:
                nbformat.write(notebook, output / path.name)
            break
        if in_place:
            nbformat.write(notebook, path)
        if output is not None:
            from nbconvert import HTMLExporter

            nbformat.write(notebook, output / path.name)
            html, _ = HTMLExporter().from_notebook_node(notebook)
            (output / path.with_suffix(".html").name).write_text(html, encoding="utf-8")
    return runs
