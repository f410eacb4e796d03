# ElGoose warehouse: the commands a newcomer needs.
#   make run            set up, then pull ElGoose -> bronze -> silver -> gold (OFFLINE=1: bundled fixtures)
#   make test           the whole test suite (what CI runs)
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint migrate airflow bench clean

$(STAMP): requirements.txt requirements-dev.txt constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt -c constraints.txt
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python scripts/elgoose_local.py run $(if $(OFFLINE),--offline)

migrate: $(STAMP)
	$(BIN)/python scripts/elgoose_local.py migrate

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf .local
