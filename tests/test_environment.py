"""pyproject.toml and environment.yml must ask for the same packages with the same versions."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent


def _normalise(requirement: str) -> tuple[str, str]:
    """('name[extras]', 'sorted specifiers') with spaces removed and names lower-cased."""
    match = re.match(r"^\s*([A-Za-z0-9_.\-]+(?:\[[^\]]*\])?)\s*(.*)$", requirement)
    assert match, requirement
    name, spec = match.groups()
    return name.lower(), ",".join(sorted(part.strip() for part in spec.split(",") if part.strip()))


def _pyproject_requirements() -> set[tuple[str, str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = project["dependencies"] + project["optional-dependencies"]["dev"]
    return {_normalise(r) for r in wanted}


def _environment_requirements() -> tuple[set[tuple[str, str]], dict]:
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    found = set()
    for entry in environment["dependencies"]:
        if isinstance(entry, dict):
            found |= {_normalise(r) for r in entry["pip"] if not r.startswith("-e")}
        elif not entry.startswith(("python=", "pip")):
            found.add(_normalise(entry))
    return found, environment


def test_environment_yml_lists_exactly_the_pyproject_dependencies():
    found, _ = _environment_requirements()
    assert found == _pyproject_requirements()


def test_environment_yml_installs_the_project_and_matches_the_lambda_runtime():
    _, environment = _environment_requirements()
    pip_section = next(e for e in environment["dependencies"] if isinstance(e, dict))["pip"]
    assert "-e ." in pip_section
    assert "python=3.12" in environment["dependencies"]
    assert environment["channels"] == ["conda-forge"]


def test_normalise_catches_a_drift():
    assert _normalise("pandas>=2.1,<4") != _normalise("pandas>=2.2,<4")
    assert _normalise("pandas >=2.1, <4") == _normalise("pandas<4,>=2.1")


def _installed_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def _satisfies(requirement: Requirement, version: str) -> bool:
    return version != "not installed" and requirement.specifier.contains(version, prereleases=True)


def test_the_installed_versions_satisfy_pyprojects_ranges():
    """Whichever installer made this environment (uv, or pip as the fallback: `make setup`), every
    requirement of the project and its dev extra holds, the extras' own requirements included
    (PEP 508 requirements, evaluated with `packaging` as pip and uv read them)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wrong = []
    for text in project["dependencies"] + project["optional-dependencies"]["dev"]:
        requirement = Requirement(text)
        version = _installed_version(requirement.name)
        if not _satisfies(requirement, version):
            wrong.append(f"{text}: {version}")
            continue
        for extra in requirement.extras:  # e.g. moto[dynamodb,…]: what each extra pulls in
            for needed in map(Requirement, metadata.requires(requirement.name) or []):
                if needed.marker is None or not needed.marker.evaluate({"extra": extra}):
                    continue
                found = _installed_version(needed.name)
                if not _satisfies(needed, found):
                    wrong.append(f"{requirement.name}[{extra}] needs {needed}: {found}")
    assert not wrong, wrong


def test_the_installed_versions_check_catches_a_version_out_of_range():
    assert not _satisfies(Requirement("jupyterlab>=4.2,<5"), "5.0.0")
    assert not _satisfies(Requirement("jupyterlab>=4.2,<5"), "not installed")
    assert _satisfies(Requirement("jupyterlab>=4.2,<5"), "4.6.6")
    assert _installed_version("no-such-package-eventlab") == "not installed"
