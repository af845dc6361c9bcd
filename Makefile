# Self-documenting: `make help` lists the targets.
PYTHON ?= python3.11
VENV := .venv
STAMP := $(VENV)/.installed
BIN := $(VENV)/bin

.PHONY: help demo test browser screenshots lint bench clean

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP) ## start the daemon against the built-in Jira and Zoho simulators with sample data
	$(BIN)/bridge demo

CHROMIUM := /usr/bin/chromium

test: $(STAMP) browser ## run the whole test suite
	$(BIN)/pytest -q

browser: ## install the Chromium the browser tests drive (Debian package; they skip without it)
	@if [ ! -x $(CHROMIUM) ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
			>/dev/null || echo "chromium could not be installed: browser tests will be skipped"; \
	fi

screenshots: $(STAMP) browser ## re-take docs/screenshots/ with the browser tests
	BRIDGE_SCREENSHOTS_DIR=docs/screenshots $(BIN)/pytest -q tests/ui

lint: $(STAMP) ## static checks: ruff, and mypy (strict on the sync core)
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: $(STAMP) ## run benchmarks (never part of `make test`); NAME=webhook_ingest runs one
	$(BIN)/python -m bench $(NAME)

clean: ## remove the virtual environment and caches
	rm -rf $(VENV) .pytest_cache .ruff_cache
