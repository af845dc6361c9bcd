# Self-documenting: `make help` lists the targets.
PYTHON ?= python3.11
VENV := .venv
STAMP := $(VENV)/.installed
BIN := $(VENV)/bin

.PHONY: help demo test lint bench clean

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP) ## start the daemon against the built-in Jira simulator with sample data
	$(BIN)/bridge demo

test: $(STAMP) ## run the whole test suite
	$(BIN)/pytest -q

lint: $(STAMP) ## static checks
	$(BIN)/ruff check .

bench: $(STAMP) ## run benchmarks (never part of `make test`); NAME=webhook_ingest runs one
	$(BIN)/python -m bench $(NAME)

clean: ## remove the virtual environment and caches
	rm -rf $(VENV) .pytest_cache .ruff_cache
