# SafeHold: `make run` to try it, `make test` to check it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
FLASK := $(BIN)/flask --app inventory
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: run install install-test browser pg-client migrate seed layers test test-sqlite test-postgres api-fuzz bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

## Debian's Chromium, for the browser tests (they skip without it, except under CI=true)
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "Install Chromium (e.g. sudo apt-get install chromium) to run the browser tests."; fi; }

## PostgreSQL's client tools: pg_dump and pg_restore back up and restore a PostgreSQL database
pg-client:
	@command -v pg_dump >/dev/null 2>&1 && command -v pg_restore >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-client >/dev/null; \
	  else echo "Install PostgreSQL's client tools (e.g. sudo apt-get install postgresql-client) for PostgreSQL backups."; fi; }

install-test: $(VENV)/.installed-test

migrate: install
	$(FLASK) db upgrade

seed: migrate
	$(FLASK) seed-demo

## Set everything up, load demo data and serve http://127.0.0.1:$(PORT)
run: seed
	@echo "SafeHold is at http://127.0.0.1:$(PORT)"
	@echo "The scheduler runs inside the server (in production: flask --app inventory scheduler, its own process)."
	SAFEHOLD_SCHEDULER_IN_PROCESS=true $(FLASK) run --host 127.0.0.1 --port $(PORT)

## The import direction between the features ([tool.importlinter] in pyproject.toml)
layers: install-test
	$(BIN)/lint-imports --no-cache --no-logo

## The whole suite on SQLite, then on PostgreSQL where one is reachable (all but tests/unit,
## which never touch a database, and tests/browser, whose journeys check pages, not storage:
## the same pages' storage is tested through tests/web and tests/integration on both)
test: test-sqlite test-postgres

test-sqlite: install-test
	$(BIN)/python -m pytest -q

test-postgres: install-test
	@$(BIN)/python -m tests.postgres_available "$(PG_TEST_URL)"; status=$$?; \
	  if [ $$status -eq 3 ]; then exit 0; elif [ $$status -ne 0 ]; then exit $$status; fi; \
	  echo "PostgreSQL pass ($(PG_TEST_URL))"; \
	  SAFEHOLD_TEST_DATABASE_URL="$(PG_TEST_URL)" $(BIN)/python -m pytest -q --ignore=tests/unit \
	    --ignore=tests/browser

## Schemathesis against the API's own OpenAPI document, as the demo coordinator and the demo
## fitter, on a throwaway SQLite database (tests/fuzz/api_fuzz.py): no 5xx, no answer outside
## the document, nothing accepted that the document forbids. Fixed seed; FUZZ_ARGS="--examples 50".
api-fuzz: install-test
	$(BIN)/python -m tests.fuzz.api_fuzz $(FUZZ_ARGS)

## The benchmark (never part of `make test` or CI): builds, or reuses, the 1% and 100% datasets
## and times each measurement on both side by side (docs/benchmarks.md). On PostgreSQL:
## make bench BENCH_ARGS="--postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/bench"
bench: install
	$(BIN)/python -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
