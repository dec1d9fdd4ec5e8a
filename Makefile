# netsuite-sync: every target works from a fresh clone (it builds .venv first).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app wsgi:create_app
STAMP  := $(VENV)/.installed

DEMO_DIR ?= $(CURDIR)/instance/demo

.PHONY: install lint format format-check typecheck test test-fast demo demo-reset bench worker scheduler sweep browser \
        sandbox-netsuite sandbox-splynx sync load-mappings automap-categories \
        export-customers match-customers export-invoices export-credit-notes \
        export-payments import-payments import-all-payments reconcile clean

install: $(STAMP)

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Debian's chromium for the browser tests (Playwright cannot download its own here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	  else echo "chromium is missing: sudo apt-get install chromium"; fi; }

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Not part of lint/test yet: the tree is formatted, and the type errors left are fixed, after the merge.
format-check: $(STAMP)
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

test: $(STAMP) browser lint
	$(BIN)/pytest

test-fast: $(STAMP)
	$(BIN)/pytest -x -q -m "not slow and not browser"

demo: $(STAMP)
	$(BIN)/python -m demo --dir $(DEMO_DIR) $(if $(PORT),--port $(PORT))

# Forget the demo: its database and secrets, and the .flaskenv that points the flask CLI at it.
demo-reset:
	rm -rf $(DEMO_DIR) .flaskenv

bench: $(STAMP)
	$(BIN)/python -m bench

worker: $(STAMP)
	$(FLASK) netsuite worker

scheduler: $(STAMP)
	$(FLASK) netsuite scheduler

sweep: $(STAMP)
	$(FLASK) netsuite sweep

sandbox-netsuite: $(STAMP)
	$(BIN)/python -m sandbox.netsuite --port 8801

sandbox-splynx: $(STAMP)
	$(BIN)/python -m sandbox.splynx --port 8802 --customers 200 --seed 1

# The manual syncs, as the cron jobs run them.
sync load-mappings automap-categories export-customers match-customers export-invoices \
export-credit-notes export-payments import-payments reconcile: $(STAMP)
	$(FLASK) netsuite $@

import-all-payments: $(STAMP)
	$(FLASK) netsuite import-payments --all

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache bench/results.json bench/throughput.png test-artifacts
