#!/usr/bin/env python3
"""The lowest versions pyproject.toml allows, installed and tested (CI's minimum-versions step).

    python .ci/minimum_versions.py            print the constraints: every dependency (and the
                                              dev extra's) pinned to its range's lower bound
    python .ci/minimum_versions.py --test     install them into .venv-minimum and run the unit
                                              tests there (not the notebooks, not the browser)

A range's lower bound is the oldest release the project claims to work with; this step keeps the
claim true. The dependencies' own dependencies are left to the resolver (their newest compatible
releases), as a user's install would get them. Installs with uv when it is found (.venv's, or on
PATH), else with pip; prints how long each part took.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv-minimum"
CONSTRAINTS = ROOT / "build" / "minimum-constraints.txt"
# The unit tests: tests/ without the notebooks (nbval) and the browser run. addopts is replaced so
# that nbval's options are not needed.
PYTEST_ARGS = ["-q", "-p", "no:cacheprovider", "-o", "addopts=", "--ignore=tests/browser",
               "tests"]


def lower_bounds() -> dict[str, str]:
    """``{distribution: lowest allowed version}`` for every dependency and the dev extra."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    bounds: dict[str, str] = {}
    for text in project["dependencies"] + project["optional-dependencies"]["dev"]:
        requirement = Requirement(text)
        lows = [spec.version for spec in requirement.specifier if spec.operator in (">=", "==", "~=")]
        if not lows:
            raise SystemExit(f"{text}: no lower bound, so its minimum cannot be tested")
        low = max(lows, key=lambda v: tuple(int(p) for p in v.split(".") if p.isdigit()))
        name = requirement.name.lower()
        if bounds.setdefault(name, low) != low:  # moto appears twice (two sets of extras)
            raise SystemExit(f"{name}: two different lower bounds, {bounds[name]} and {low}")
    return bounds


def constraints() -> str:
    return "".join(f"{name}=={version}\n" for name, version in sorted(lower_bounds().items()))


def _uv() -> str | None:
    local = ROOT / ".venv" / "bin" / "uv"
    return str(local) if local.exists() else shutil.which("uv")


def _timed(what: str, command: list[str], **options) -> float:
    started = time.monotonic()
    print(f"· {what}", flush=True)
    subprocess.run(command, check=True, cwd=ROOT, **options)
    return time.monotonic() - started


def test() -> int:
    CONSTRAINTS.parent.mkdir(exist_ok=True)
    CONSTRAINTS.write_text(constraints())
    print(f"The lowest versions pyproject.toml allows ({CONSTRAINTS.relative_to(ROOT)}):")
    print(CONSTRAINTS.read_text(), end="")
    shutil.rmtree(VENV, ignore_errors=True)
    python = str(VENV / "bin" / "python")
    uv = _uv()
    took = _timed("a fresh venv", [sys.executable, "-m", "venv", "--without-pip", str(VENV)])
    if uv:
        took += _timed(f"installing them with uv ({uv})",
                       [uv, "pip", "install", "--quiet", "--python", python, "-e", ".[dev]",
                        "-c", str(CONSTRAINTS)])
    else:
        took += _timed("pip", [python, "-m", "ensurepip", "--default-pip"],
                       stdout=subprocess.DEVNULL)
        took += _timed("installing them with pip",
                       [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "-e", ".[dev]", "-c", str(CONSTRAINTS)])
    env = {name: value for name, value in os.environ.items() if not name.startswith("EVENTLAB_")}
    try:
        tests = _timed("the unit tests at the lowest versions",
                       [python, "-m", "pytest", *PYTEST_ARGS], env=env)
    except subprocess.CalledProcessError as failure:
        print(f"✗ The unit tests fail at the lowest versions pyproject.toml allows "
              f"(exit {failure.returncode}): raise the failing minimum.")
        return 1
    print(f"✓ The unit tests pass at the lowest versions: set-up {took:.0f} s, tests {tests:.0f} s")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--test", action="store_true",
                        help="install the lowest versions into .venv-minimum and run the unit tests")
    if parser.parse_args().test:
        return test()
    print(constraints(), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
