# The workbook's commands. `make lab` sets up .venv and opens JupyterLab; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup lab test test-full run regenerate bench reliability clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $@

setup: $(BIN)/.installed  ## create .venv and install the lab with its test tools

# JupyterLab refuses to start as root (Docker, root WSL) without --allow-root.
ROOT_FLAG := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root)

lab: setup  ## set up and open the workbook in JupyterLab
	$(BIN)/jupyter lab notebooks/ $(ROOT_FLAG)

test: setup  ## unit tests + every notebook under nbval (strict)
	$(BIN)/python -m pytest

test-full: setup  ## the same, with the full (slow) reliability runs
	EVENTLAB_FULL=1 $(BIN)/python -m pytest

run: setup  ## execute the whole workbook headless into build/ (notebooks + HTML)
	$(BIN)/eventlab run

regenerate: setup  ## re-execute the notebooks in place: refresh their stored outputs
	$(BIN)/eventlab regenerate

bench: setup  ## the benchmarks (they print ratios measured in one run)
	$(BIN)/python bench/pipeline_throughput.py
	$(BIN)/python bench/notebook_times.py

reliability: setup  ## the reliability figures (what was tried, what held)
	$(BIN)/eventlab reliability

clean:
	rm -rf $(VENV) build
