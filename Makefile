# branchserve — the two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_ARGS ?=
export DJANGO_SETTINGS_MODULE := branchserve.settings

.PHONY: demo test lint typecheck pytest bench messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $@ $(VENV)/.installed

## make demo: set up, seed the demo province once, serve it on http://127.0.0.1:8000
demo: $(VENV)/.installed
	BRANCHSERVE_DEMO=1 $(BIN)/branchserve migrate --noinput --verbosity 0
	BRANCHSERVE_DEMO=1 $(BIN)/branchserve demo --if-empty $(DEMO_ARGS)
	BRANCHSERVE_DEMO=1 $(BIN)/branchserve serve --demo

## make test: ruff, mypy and pytest (SQLite, or PostgreSQL when DATABASE_URL is set)
test: lint typecheck pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy branchserve

pytest: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -q

## make bench: the benchmarks, one JSON line each
bench: $(VENV)/.installed-dev
	$(BIN)/python bench/sim_speed.py
	$(BIN)/python bench/integrity_eval.py
	$(BIN)/python bench/queue_load.py

## make messages: refresh and compile the zh-Hans translations
messages: $(VENV)/.installed-dev
	$(BIN)/python -m branchserve.core.messages

clean:
	rm -rf $(VENV) var
