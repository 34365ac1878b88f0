"""Read a Python file in a notebook one definition at a time, without running it (lesson 04).

Lesson 04 reads the Lambda handler top-down: :func:`outline` lists what the file defines and
:func:`show` renders chosen definitions as a code block. Both only *read* the file (``ast``); to
call its functions, :func:`load_module` imports it under its own name without touching
``sys.path``.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib.util
import textwrap
import types
from pathlib import Path
from typing import Any

from lab.awslambda import HANDLER_DIR
from lab.errors import LabError

HANDLER_FILE = HANDLER_DIR / "lambda_function.py"

__all__ = ["HANDLER_FILE", "Definition", "definitions", "load_module", "outline", "show"]


@dataclasses.dataclass(frozen=True)
class Definition:
    """One top-level definition: its name, kind and lines (1-based, decorators included)."""

    name: str
    kind: str  # "function", "class" or "constant"
    first: int
    last: int


def definitions(path: Path = HANDLER_FILE) -> dict[str, Definition]:
    """The top-level functions, classes and assigned names of a Python file, in file order."""
    found: dict[str, Definition] = {}
    for node in ast.parse(Path(path).read_text(encoding="utf-8")).body:
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names, kind = [node.name], "function"
        elif isinstance(node, ast.ClassDef):
            names, kind = [node.name], "class"
        elif isinstance(node, ast.Assign):
            names, kind = [t.id for t in node.targets if isinstance(t, ast.Name)], "constant"
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names, kind = [node.target.id], "constant"
        else:
            continue
        for name in names:
            found[name] = Definition(name, kind, first, node.end_lineno or node.lineno)
    return found


def outline(path: Path = HANDLER_FILE) -> str:
    """One paragraph: the file's size and what it defines, in order (for ``print``)."""
    path = Path(path)
    found = definitions(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    counts = {kind: sum(d.kind == kind for d in found.values())
              for kind in ("function", "class", "constant")}
    plural = {"function": "functions", "class": "classes", "constant": "constants"}
    summary = f"{path.name}: {len(lines)} lines, " + ", ".join(
        f"{counts[kind]} {kind if counts[kind] == 1 else plural[kind]}" for kind in plural) + "."
    labels = {"constant": "Constants", "class": "Classes", "function": "Functions"}
    by_kind = [f"{labels[kind]}: " + ", ".join(d.name for d in found.values() if d.kind == kind)
               for kind in labels if counts[kind]]
    return "\n".join([summary, *(textwrap.fill(line, width=100, subsequent_indent="  ")
                                 for line in by_kind)])


def _code(path: Path, names: tuple[str, ...]) -> str:
    found = definitions(path)
    unknown = [name for name in names if name not in found]
    if unknown:
        raise LabError(f"{Path(path).name} has no top-level definition called "
                       f"{', '.join(map(repr, unknown))}; it defines: {', '.join(found)}.")
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    parts = ["\n".join(lines[found[n].first - 1:found[n].last]) for n in names]
    separator = "\n" if all(found[n].kind == "constant" for n in names) else "\n\n\n"
    return separator.join(parts)


def show(*names: str, path: Path = HANDLER_FILE) -> Any:
    """The source of the named top-level definitions, as a Markdown code block for the notebook.

    Args:
        names: functions, classes or constants of the file, shown in the order given.
        path: the file; the Lambda handler ``handler/lambda_function.py`` by default.

    Raises:
        LabError: a name that the file does not define at the top level.
    """
    from IPython.display import Markdown

    return Markdown("```python\n" + _code(Path(path), names) + "\n```")


def load_module(path: Path = HANDLER_FILE, name: str | None = None) -> types.ModuleType:
    """Import a Python file as a module (its top-level code runs; nothing is deployed or called)."""
    path = Path(path)
    spec = importlib.util.spec_from_file_location(name or path.stem, path)
    if spec is None or spec.loader is None:
        raise LabError(f"{path} cannot be loaded as a Python module.")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
