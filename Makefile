# Two commands do everything on a fresh machine with Python 3.11 and make:
#   make run   - set up .venv and publish a release of seeds/ into outputs/
#   make test  - set up .venv with dev tools and run the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_DEV := $(VENV)/.installed-dev
INPUT ?= seeds
OUTPUT ?= outputs
# pytest processes; a test file stays in one (its module fixtures are made once)
TEST_WORKERS ?= 2

export DO_NOT_TRACK := 1
export GX_ANALYTICS_ENABLED := false

.PHONY: run test check lint types install install-dev lock clean

run: $(STAMP_RUN)
	$(BIN)/pipeline run --input $(INPUT) --output $(OUTPUT)

test: $(STAMP_DEV)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

check: lint types test

lint: $(STAMP_DEV)
	$(BIN)/ruff check src flows tests
	$(BIN)/ruff format --check src flows tests

types: $(STAMP_DEV)
	$(BIN)/mypy

install: $(STAMP_RUN)
install-dev: $(STAMP_DEV)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "pip==26.3" "setuptools==80.9.0" "wheel==0.45.1"

# Locked versions first, then the project itself without re-resolving anything.
$(STAMP_RUN): $(VENV)/bin/python requirements.lock pyproject.toml
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

$(STAMP_DEV): $(VENV)/bin/python requirements-dev.lock pyproject.toml
	$(BIN)/python -m pip install --quiet -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@ $(STAMP_RUN)

# Regenerate the lock files after changing dependencies in pyproject.toml.
lock: $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --strip-extras --no-header -o requirements.lock pyproject.toml
	$(BIN)/pip-compile --quiet --strip-extras --no-header --extra dev -o requirements-dev.lock pyproject.toml

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
