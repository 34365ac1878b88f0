# The workbook's commands. `make lab` sets up .venv and opens JupyterLab; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup lab test test-full browser run regenerate bench reliability clean

# The installer: uv (the same packages and version ranges as pip, in seconds instead of minutes:
# bench/setup_time.py) when it is on PATH or can be installed into .venv from PyPI, else pip.
# `make setup INSTALLER=pip` forces pip; `UV=/path/to/uv` names the uv to use (`UV=` hides it).
INSTALLER ?= uv
UV ?= $(shell command -v uv 2>/dev/null)
UV_REQUIREMENT := uv>=0.5,<1
PIP_FLAGS := --quiet --disable-pip-version-check

# The venv starts without pip (ensurepip costs seconds): uv is installed into it by $(PYTHON)'s
# own pip, else by the venv's pip; uv then installs the lab, its test tools and pip. ensurepip
# runs only for the pip fallback, which is also taken when uv's install fails.
$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv --without-pip $(VENV)
	@uv="$(UV)"; \
	if [ "$(INSTALLER)" = uv ] && [ -z "$$uv" ]; then \
	    if $(PYTHON) -m pip --python $(BIN)/python install $(PIP_FLAGS) "$(UV_REQUIREMENT)" \
	           2>/dev/null \
	       || { $(BIN)/python -m ensurepip --upgrade --default-pip >/dev/null \
	            && $(BIN)/python -m pip install $(PIP_FLAGS) "$(UV_REQUIREMENT)"; }; then \
	        uv=$(BIN)/uv; \
	    fi; \
	fi; \
	if [ "$(INSTALLER)" = uv ] && [ -n "$$uv" ]; then \
	    echo "Installing the lab and its test tools with uv ($$uv)"; \
	    "$$uv" pip install --quiet --python $(BIN)/python -e ".[dev]" pip && exit 0; \
	    echo "uv could not install them: trying pip"; \
	fi; \
	echo "Installing the lab and its test tools with pip (a few minutes)"; \
	$(BIN)/python -m ensurepip --upgrade --default-pip >/dev/null \
	&& $(BIN)/python -m pip install $(PIP_FLAGS) -e ".[dev]"
	touch $@

setup: $(BIN)/.installed  ## create .venv and install the lab with its test tools

# JupyterLab refuses to start as root (Docker, root WSL) without --allow-root.
# LAB_ARGS: more options for `jupyter lab`, e.g. `make lab LAB_ARGS=--no-browser`.
ROOT_FLAG := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root)

lab: setup  ## set up and open the workbook in JupyterLab
	$(BIN)/jupyter lab notebooks/ $(ROOT_FLAG) $(LAB_ARGS)

test: setup  ## unit tests + every notebook under nbval (strict)
	$(BIN)/python -m pytest

test-full: setup  ## the same, with the full (slow) reliability runs
	EVENTLAB_FULL=1 $(BIN)/python -m pytest

# Needs Debian's chromium at /usr/bin/chromium (apt-get install chromium); downloads nothing.
browser: setup  ## every lesson run through JupyterLab's menus in headless Chromium (screenshots in build/browser/)
	$(BIN)/python -m pytest tests/browser

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
