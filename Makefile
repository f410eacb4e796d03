# ElGoose warehouse: the commands a newcomer needs.
#   make run            set up, then pull ElGoose -> bronze -> silver -> gold (OFFLINE=1: bundled fixtures)
#   make test           the whole test suite (what CI runs)
#   make airflow        Airflow's UI, scheduler, dag-processor and triggerer locally (OFFLINE=1 too)
#   make bench          the benchmark (SCALES="1 10 100" for 100x)
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint migrate airflow browser bench clean

# The pinned dependencies, then this project itself (packages elgoose, fake_elgoose, elgoose_local), editable.
$(STAMP): requirements.txt requirements-dev.txt constraints.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt -c constraints.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/elgoose-local run $(if $(OFFLINE),--offline)

migrate: $(STAMP)
	$(BIN)/elgoose-local migrate

test: $(STAMP) browser
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

airflow: $(STAMP)
	$(BIN)/elgoose-local airflow $(if $(OFFLINE),--offline)

# Headless Chromium for tests/test_browser.py (Playwright drives Debian's build; it never downloads one).
browser:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's chromium for the browser test"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else echo "no /usr/bin/chromium and cannot install it (needs root + apt-get): tests/test_browser.py will skip"; fi

bench: $(STAMP)
	SCALES="$(or $(SCALES),1 10)" $(BIN)/python -m bench $(BENCH_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf .local
