"""`make setup` installs with uv when it can and falls back to pip (issue 10, Deliver 3).

The Makefile's real recipe runs here, under `make`, with stand-ins for the interpreter, pip and uv
that only record how they were called: `PYTHON=` names a fake interpreter whose `-m venv` makes a
fake `.venv/bin/python`, and PATH holds nothing but the few programs the recipe needs (plus a
fake `uv` when a test puts one there), so a uv installed on this machine cannot leak in.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAKE = shutil.which("make")

pytestmark = pytest.mark.skipif(MAKE is None, reason="make is not installed")

# Each stand-in appends "<who> <arguments>" to $SETUP_LOG; fails when its $FAIL_* variable is set.
_BASE_PYTHON = r"""#!/bin/sh
echo "base-python $*" >> "$SETUP_LOG"
case "$1 $2" in
  "-m venv")
    for dir; do :; done
    mkdir -p "$dir/bin" && cp "$FAKES/venv-python" "$dir/bin/python" ;;
  "-m pip")
    # python -m pip --python <venv python> install ... "uv>=...": the base interpreter's own pip
    [ -z "$FAIL_BASE_PIP" ] || exit 1
    cp "$FAKES/uv" "$(dirname "$4")/uv" ;;
esac
"""
_VENV_PYTHON = r"""#!/bin/sh
echo "venv-python $*" >> "$SETUP_LOG"
case "$*" in
  *ensurepip*) [ -z "$FAIL_ENSUREPIP" ] || exit 1 ;;
  *"-e .[dev]"*) [ -z "$FAIL_PIP_INSTALL" ] || exit 1 ;;
  *"uv>="*)
    [ -z "$FAIL_VENV_PIP_UV" ] || exit 1
    cp "$FAKES/uv" "$(dirname "$0")/uv" ;;
esac
"""
_UV = r"""#!/bin/sh
echo "uv($0) $*" >> "$SETUP_LOG"
[ -z "$FAIL_UV" ] || exit 1
"""

UV_INSTALL = "pip install --quiet --python .venv/bin/python -e .[dev] pip"
PIP_INSTALL = "venv-python -m pip install --quiet --disable-pip-version-check -e .[dev]"


@pytest.fixture
def project(tmp_path: Path):
    """A folder with the real Makefile and pyproject.toml, the stand-ins, and a bare PATH."""
    work = tmp_path / "project"
    work.mkdir()
    shutil.copy(ROOT / "Makefile", work / "Makefile")
    shutil.copy(ROOT / "pyproject.toml", work / "pyproject.toml")
    fakes = tmp_path / "fakes"
    fakes.mkdir()
    for name, text in [("base-python", _BASE_PYTHON), ("venv-python", _VENV_PYTHON), ("uv", _UV)]:
        (fakes / name).write_text(text)
        (fakes / name).chmod(0o755)
    path = tmp_path / "bin"
    path.mkdir()
    for tool in ("sh", "touch", "mkdir", "cp", "dirname", "id"):
        found = shutil.which(tool)
        assert found, tool
        (path / tool).symlink_to(found)
    return work, fakes, path


def _setup(project, *make_args: str, uv_on_path: bool = False, **failures: str):
    """Run `make setup` in the project; return (the process, the stand-ins' calls)."""
    work, fakes, path = project
    if uv_on_path:
        shutil.copy(fakes / "uv", path / "uv")
    log = work / "calls.log"
    env = {
        "PATH": str(path),
        "HOME": str(work),
        "SETUP_LOG": str(log),
        "FAKES": str(fakes),
        **{f"FAIL_{name.upper()}": value for name, value in failures.items()},
    }
    done = subprocess.run(
        [MAKE, "--no-print-directory", "setup", f"PYTHON={fakes / 'base-python'}", *make_args],
        cwd=work, env=env, capture_output=True, text=True, timeout=60,
    )
    calls = log.read_text().splitlines() if log.exists() else []
    return done, [c.replace(str(fakes / "base-python"), "python3") for c in calls]


def _installed(project) -> bool:
    return (project[0] / ".venv" / "bin" / ".installed").exists()


def test_uv_on_path_installs_the_lab_its_dev_extra_and_pip(project):
    done, calls = _setup(project, uv_on_path=True)
    assert done.returncode == 0, done.stderr
    path_uv = project[2] / "uv"
    assert calls == [
        "base-python -m venv --without-pip .venv",
        f"uv({path_uv}) {UV_INSTALL}",
    ]
    assert "with uv" in done.stdout
    assert _installed(project)


def test_without_uv_the_base_pythons_pip_puts_uv_into_the_venv(project):
    done, calls = _setup(project)
    assert done.returncode == 0, done.stderr
    assert calls[0] == "base-python -m venv --without-pip .venv"
    assert calls[1].startswith("base-python -m pip --python .venv/bin/python install ")
    assert calls[1].endswith(" uv>=0.5,<1")
    assert calls[2:] == [f"uv(.venv/bin/uv) {UV_INSTALL}"]
    assert not any("ensurepip" in call for call in calls)
    assert _installed(project)


def test_an_empty_uv_variable_hides_the_uv_on_path(project):
    done, calls = _setup(project, "UV=", uv_on_path=True)
    assert done.returncode == 0, done.stderr
    assert calls[-1] == f"uv(.venv/bin/uv) {UV_INSTALL}"


def test_without_a_base_pip_the_venvs_own_pip_installs_uv(project):
    done, calls = _setup(project, base_pip="1")
    assert done.returncode == 0, done.stderr
    assert calls[2:] == [
        "venv-python -m ensurepip --upgrade --default-pip",
        "venv-python -m pip install --quiet --disable-pip-version-check uv>=0.5,<1",
        f"uv(.venv/bin/uv) {UV_INSTALL}",
    ]


def test_when_uv_cannot_be_installed_pip_installs_the_same_extra(project):
    done, calls = _setup(project, base_pip="1", venv_pip_uv="1")
    assert done.returncode == 0, done.stderr
    assert not any(call.startswith("uv(") for call in calls)
    assert calls[-2:] == ["venv-python -m ensurepip --upgrade --default-pip", PIP_INSTALL]
    assert "with pip" in done.stdout
    assert _installed(project)


def test_when_uvs_install_fails_pip_takes_over(project):
    done, calls = _setup(project, uv_on_path=True, uv="1")
    assert done.returncode == 0, done.stderr
    assert calls[1].startswith("uv(")
    assert calls[-1] == PIP_INSTALL
    assert "uv could not install them: trying pip" in done.stdout


def test_installer_pip_forces_pip_even_with_uv_on_path(project):
    done, calls = _setup(project, "INSTALLER=pip", uv_on_path=True)
    assert done.returncode == 0, done.stderr
    assert calls == [
        "base-python -m venv --without-pip .venv",
        "venv-python -m ensurepip --upgrade --default-pip",
        PIP_INSTALL,
    ]


def test_a_failed_install_leaves_no_stamp_so_the_next_make_retries(project):
    done, _ = _setup(project, "INSTALLER=pip", pip_install="1")
    assert done.returncode != 0
    assert not _installed(project)


def test_a_second_setup_installs_nothing(project):
    first, _ = _setup(project, uv_on_path=True)
    assert first.returncode == 0, first.stderr
    (project[0] / "calls.log").unlink()
    again, calls = _setup(project, uv_on_path=True)
    assert again.returncode == 0, again.stderr
    assert calls == []


def test_ci_installs_exactly_as_the_readme_says():
    """.ci/run starts from no .venv and runs `make test`, whose setup is the recipe above."""
    ci = (ROOT / ".ci" / "run").read_text()
    assert "rm -rf .venv\nmake test\n" in ci
    readme = (ROOT / "README.md").read_text()
    assert "| set up and run every test | `make test` |" in readme


@pytest.mark.skipif(os.name != "posix", reason="make's recipes run under /bin/sh")
def test_make_lab_passes_lab_args_to_jupyter(project):
    work, fakes, path = project
    (work / ".venv" / "bin").mkdir(parents=True)
    (work / ".venv" / "bin" / ".installed").touch()
    done = subprocess.run(
        [MAKE, "-n", "lab", "LAB_ARGS=--no-browser --port=9999"],
        cwd=work, env={"PATH": str(path)}, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert ".venv/bin/jupyter lab notebooks/" in done.stdout
    assert done.stdout.rstrip().endswith("--no-browser --port=9999")
