"""Every lesson run as a learner runs it: JupyterLab in headless Chromium, through its menus.

`make browser` runs this file (it is left out of `make test`). It starts JupyterLab with the
command line `make lab` uses (`.venv/bin/jupyter lab notebooks/`, `--allow-root` as root) plus
what a headless run needs: `--no-browser`, a free loopback port and a token made here. Playwright
drives Debian's `chromium` (`/usr/bin/chromium`; no browser is downloaded). For each lesson it
double-clicks the notebook in the file browser (which starts a fresh kernel), clicks
Run → Run All Cells, waits until every code cell has an execution count, then fails on what a
learner would see go wrong:

- a stderr box or a traceback (an error output);
- a code cell left unexecuted (`[ ]` or `[*]`);
- an output line that JupyterLab breaks inside a word: plain-text outputs (and code blocks in
  Markdown outputs) wrap with `word-break: break-all`, so a line wider than the output area is
  cut wherever the edge falls ("t|he bucket"). Where the browser puts each break is read from
  the page itself; a break inside a URL, an ARN, a path or an id (a token no sentence could wrap
  at a space) is accepted;
- a chart that did not render: an `img` whose naturalWidth is 0, or a figure printed as text.

A first test runs a notebook made with one of each failure the same way, so a JupyterLab release
that renames what these checks look for fails here instead of passing everything.

All failures of a lesson are reported together, with the lesson, the cell's number (as
JupyterLab's status bar counts cells, from 1) and the offending text. A full-page screenshot of
each lesson goes to `build/browser/<lesson>.png`, the server's log to
`build/browser/jupyterlab.log` and a summary to `build/browser/report.txt`.

JupyterLab's settings and workspace live in a temporary folder for the run, which turns off
autosave (a run must never write the lessons' files; each tab is closed with "Discard") and the
news and update checks (nothing may reach the internet). Each kernel the test starts is shut down
by its id through the REST API, and the server is stopped by the process id it was started with.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
LESSONS = sorted(path.name for path in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
OUT = ROOT / "build" / "browser"
JUPYTER = ROOT / ".venv" / "bin" / "jupyter"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# A common laptop screen; the figures (~108 characters to a line) were read at 1280 px.
VIEWPORT = {"width": 1280, "height": 900}
SERVER_START_TIMEOUT_S = 120
LESSON_TIMEOUT_S = 300
# Chromium cannot capture a taller page in one image.
SCREENSHOT_MAX_HEIGHT = 16000

# Settings written to the run's own JupyterLab settings folder (see the module docstring).
SETTINGS = {
    "@jupyterlab/docmanager-extension:plugin": {"autosave": False},
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
}

# What a learner would see go wrong in the open notebook (runs in the page).
INSPECT_JS = (Path(__file__).parent / "inspect_notebook.js").read_text()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A JupyterLab server this test started on `root`/notebooks/, and the REST calls it makes."""

    def __init__(self, root: Path, tmp: Path, name: str = "jupyterlab") -> None:
        self.port = _free_port()
        self.token = secrets.token_hex(24)
        self.url = f"http://127.0.0.1:{self.port}"
        self.kernels: list[str] = []
        self.up_seconds = self.page_seconds = 0.0
        for plugin, values in SETTINGS.items():
            package, _, name = plugin.partition(":")
            path = tmp / "settings" / package / f"{name}.jupyterlab-settings"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        env = dict(
            os.environ,
            JUPYTERLAB_SETTINGS_DIR=str(tmp / "settings"),
            JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"),
        )
        command = [str(JUPYTER), "lab", "notebooks/"]
        if os.geteuid() == 0:
            command.append("--allow-root")  # as `make lab` does
        command += [
            "--no-browser",
            f"--port={self.port}",
            f"--ServerApp.token={self.token}",
            "--ServerApp.ip=127.0.0.1",
        ]
        OUT.mkdir(parents=True, exist_ok=True)
        self.log_path = OUT / f"{name}.log"
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            command, cwd=root, env=env, stdout=self._log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )

    def request(self, method: str, path: str) -> object:
        request = urllib.request.Request(
            f"{self.url}{path}", method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None

    def wait_until_up(self) -> None:
        start = time.monotonic()
        while time.monotonic() - start < SERVER_START_TIMEOUT_S:
            if self.process.poll() is not None:
                pytest.fail(f"JupyterLab exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                self.request("GET", "/api/status")
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.25)
                continue
            self.up_seconds = time.monotonic() - start
            return
        pytest.fail(
            f"JupyterLab did not answer within {SERVER_START_TIMEOUT_S} s:\n{self.log_tail()}"
        )

    def kernel_of(self, notebook: str, timeout: float = 60) -> str:
        """The id of the new kernel JupyterLab started for `notebook`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for session in self.request("GET", "/api/sessions"):
                kernel = (session.get("kernel") or {}).get("id")
                if session.get("path") == notebook and kernel and kernel not in self.kernels:
                    self.kernels.append(kernel)
                    return kernel
            time.sleep(0.25)
        pytest.fail(f"{notebook}: JupyterLab started no kernel within {timeout:.0f} s")

    def shutdown_kernel(self, kernel: str) -> None:
        try:
            self.request("DELETE", f"/api/kernels/{kernel}")
        except urllib.error.HTTPError as error:
            if error.code != 404:  # already gone is fine
                raise

    def stop(self) -> None:
        """Shut every kernel this test started that still runs, by id, then the server process."""
        try:
            running = {kernel["id"] for kernel in self.request("GET", "/api/kernels")}
            for kernel in self.kernels:
                if kernel in running:
                    self.shutdown_kernel(kernel)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        finally:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            self._log.close()

    def log_tail(self, lines: int = 40) -> str:
        self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@contextlib.contextmanager
def _jupyterlab(root: Path, tmp: Path, name: str = "jupyterlab"):
    if not JUPYTER.exists():
        pytest.fail(f"{JUPYTER} is missing: run `make setup` first")
    server = Server(root, tmp, name)
    try:
        server.wait_until_up()
        yield server
    finally:
        server.stop()


def _open_lab(browser, server: Server):
    """A page on `server`'s JupyterLab, once its file browser lists the notebooks."""
    start = time.monotonic()
    page = browser.new_page(viewport=VIEWPORT)
    page.set_default_timeout(60_000)
    page.goto(f"{server.url}/lab?token={server.token}")
    page.wait_for_selector(".jp-DirListing-item")
    server.page_seconds = time.monotonic() - start
    return page


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with _jupyterlab(ROOT, tmp_path_factory.mktemp("jupyterlab")) as started:
        yield started


@pytest.fixture(scope="module")
def page(browser, server):
    opened = _open_lab(browser, server)
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def report(server, page):
    OUT.mkdir(parents=True, exist_ok=True)
    lines = [
        f"JupyterLab answered in {server.up_seconds:.1f} s; its page listed the lessons "
        f"{server.page_seconds:.1f} s later. Seconds per lesson: open (kernel idle), run, check, "
        "screenshot, close."
    ]
    yield lines
    (OUT / "report.txt").write_text("\n".join(lines) + "\n")


def _menu(page, menu: str, item: str) -> None:
    """Click `menu` in JupyterLab's menu bar, then `item` in it."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{re.escape(menu)}$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$")).click()


def _kernel_idle(page) -> bool:
    status = page.locator(".jp-NotebookPanel .jp-Notebook-ExecutionIndicator").first
    return status.get_attribute("data-status") == "idle"


def _wait_for_run(page, code_cells: int) -> None:
    """Until no cell waits (`[*]`) and the kernel is idle for a second; LESSON_TIMEOUT_S at most."""
    deadline = time.monotonic() + LESSON_TIMEOUT_S
    settled_since = None
    while time.monotonic() < deadline:
        prompts = page.eval_on_selector_all(
            ".jp-NotebookPanel .jp-CodeCell .jp-InputPrompt",
            "prompts => prompts.map(prompt => prompt.textContent)",
        )
        if len(prompts) == code_cells and not any("*" in p for p in prompts) and _kernel_idle(page):
            settled_since = settled_since or time.monotonic()
            if time.monotonic() - settled_since > 1.0:
                return
        else:
            settled_since = None
        time.sleep(0.25)


def _screenshot(page, path: Path) -> None:
    """The whole notebook in one image: the window made as tall as the notebook, then restored."""
    scroller = page.locator(".jp-NotebookPanel .jp-WindowedPanel-outer").first
    hidden = scroller.evaluate("e => e.scrollHeight - e.clientHeight")
    height = min(VIEWPORT["height"] + max(0, hidden), SCREENSHOT_MAX_HEIGHT)
    scroller.evaluate("e => e.scrollTo(0, 0)")
    page.set_viewport_size({"width": VIEWPORT["width"], "height": height})
    page.wait_for_timeout(500)
    page.screenshot(path=str(path))
    page.set_viewport_size(VIEWPORT)


def _close_without_saving(page) -> None:
    _menu(page, "File", "Close Tab")
    discard = page.locator(".jp-Dialog-button", has_text=re.compile("^Discard$"))
    try:
        discard.click(timeout=5_000)
    except PlaywrightTimeout:  # no dialog: nothing had changed
        pass
    page.wait_for_selector(".jp-NotebookPanel", state="detached")


class _Stopwatch:
    """Seconds spent in each step of a lesson, for the report."""

    def __init__(self) -> None:
        self.start = self.last = time.monotonic()
        self.laps: list[tuple[str, float]] = []

    def lap(self, name: str) -> None:
        now = time.monotonic()
        self.laps.append((name, now - self.last))
        self.last = now

    def __str__(self) -> str:
        steps = ", ".join(f"{name} {seconds:.1f}" for name, seconds in self.laps)
        return f"{self.last - self.start:.1f} s ({steps})"


def _run_notebook(page, server: Server, notebook: Path, screenshot: Path | None = None):
    """Open `notebook` in the file browser, Run → Run All Cells, inspect, close, stop its kernel.

    Returns what inspect_notebook.js found and the stopwatch.
    """
    cells = json.loads(notebook.read_text())["cells"]
    code_cells = sum(cell["cell_type"] == "code" for cell in cells)
    clock = _Stopwatch()
    name = re.compile(f"^{re.escape(notebook.name)}$")
    page.locator(".jp-DirListing-itemText", has_text=name).dblclick()
    page.wait_for_selector(".jp-NotebookPanel .jp-CodeCell")
    kernel = server.kernel_of(notebook.name)
    try:
        page.wait_for_function(
            "() => document.querySelector('.jp-NotebookPanel .jp-Notebook-ExecutionIndicator')"
            "?.getAttribute('data-status') === 'idle'"
        )
        clock.lap("open")
        _menu(page, "Run", "Run All Cells")
        _wait_for_run(page, code_cells)
        clock.lap("run")
        found = page.evaluate(INSPECT_JS)
        assert "fatal" not in found, found.get("fatal")
        clock.lap("check")
        if screenshot:
            _screenshot(page, screenshot)
            clock.lap("screenshot")
    finally:
        _close_without_saving(page)
        server.shutdown_kernel(kernel)
        clock.lap("close")
    return found, clock


def _describe(failure: dict) -> str:
    where = f"cell {failure['cell']} {failure['prompt'] or '[ ]'}"
    if failure["kind"] == "word broken":
        return (
            f"{where}: a {failure['block']} line of {failure['length']} characters "
            f"({failure['columns']} fit) broken "
            f"inside a word at {', '.join(failure['broken'])}: {failure['text']!r}"
        )
    return f"{where}: {failure['kind']}: {failure['text']!r}"


# The self-check: a notebook with one of each failure (and lines that must pass), run the same way.
_LONG_SENTENCE = (
    "This sentence is written longer than the output area of JupyterLab, so that the browser "
    "has to break it somewhere inside one of its words, which is what learners should never see."
)
SELF_CHECK_CELLS = [
    ("markdown", "# One of each failure"),
    ("code", f"print({_LONG_SENTENCE!r})"),
    ("code", 'print("✓ Function arn:aws:lambda:us-east-1:123456789012:function:"'
             ' + "S3ToDynamoProcessor" * 4)'),
    ("code", 'print("A short line that fits.")'),
    ("code", 'import sys\nprint("a warning", file=sys.stderr)'),
    ("code", "import matplotlib.pyplot as plt\nfig, ax = plt.subplots(figsize=(3, 2))\n"
             "ax.plot([1, 2])\nplt.show()"),
    ("code", "from IPython.display import display\n"
             'display({"image/png": "bm90IGEgcG5n"}, raw=True)  # not a PNG'),
    ("code", "from IPython.display import Markdown\n"
             "words = ' '.join(['abcde'] * 30)\n"
             "lines = '\\n'.join('x' * k + ' ' + words for k in range(6))\n"
             "Markdown('```text\\n' + lines + '\\n```')"),
    ("code", 'raise ValueError("boom")'),
    ("code", 'print("never runs")'),
]


def test_the_checks_catch_each_failure_and_pass_what_wraps_well(browser, tmp_path):
    """A notebook made to fail each check fails exactly them; run as the lessons are run."""
    notebooks = tmp_path / "project" / "notebooks"
    notebooks.mkdir(parents=True)
    cells = [
        {"cell_type": kind, "metadata": {}, "source": source}
        | ({"execution_count": None, "outputs": []} if kind == "code" else {})
        for kind, source in SELF_CHECK_CELLS
    ]
    notebook = notebooks / "00_self_check.ipynb"
    notebook.write_text(text := json.dumps({
        "cells": cells, "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                    "language": "python"}},
    }))
    with _jupyterlab(tmp_path / "project", tmp_path / "lab", "jupyterlab-self-check") as server:
        for plugin, values in SETTINGS.items():
            applied = server.request("GET", f"/lab/api/settings/{plugin}")["settings"]
            assert {key: applied.get(key) for key in values} == values, plugin
        page = _open_lab(browser, server)
        try:
            found, _ = _run_notebook(page, server, notebook)
        finally:
            page.close()
    kinds = {(fail["cell"], fail["kind"], fail.get("block")) for fail in found["failures"]}
    assert sorted(kinds) == [
        (2, "word broken", "text"),
        (5, "stderr box", None),
        (7, "chart not rendered", None),
        (8, "word broken", "code block"),
        (9, "traceback", None),
        (10, "not executed", None),
    ], "\n".join(map(_describe, found["failures"]))
    broken = found["failures"][0]
    assert broken["text"] == _LONG_SENTENCE
    assert 80 <= broken["columns"] < len(_LONG_SENTENCE)
    assert all("|" in spot and " " not in spot for spot in broken["broken"])
    assert notebook.read_text() == text, "the run wrote the notebook: autosave or save on close"


@pytest.mark.parametrize("lesson", LESSONS)
def test_lesson_runs_cleanly_in_jupyterlab(lesson, server, page, report):
    """Opened from the file browser, Run All Cells: no error, no broken word, every chart drawn."""
    found, clock = _run_notebook(
        page, server, ROOT / "notebooks" / lesson, screenshot=OUT / f"{Path(lesson).stem}.png"
    )
    failures = [_describe(failure) for failure in found["failures"]]
    report.append(
        f"{lesson}: {clock}; {found['cells']} cells, {found['columns']} characters a line, "
        f"{len(failures)} failure(s)"
    )
    report.extend(f"  {line}" for line in failures)
    assert not failures, f"{lesson}: {len(failures)} failure(s)\n" + "\n".join(failures)
