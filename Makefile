# Brightbasket support assistant. `make help` lists the commands.
# `make run` and `make test` each set up whatever is missing first.

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONDONTWRITEBYTECODE := 1
export RASA_TELEMETRY_ENABLED := false

.DEFAULT_GOAL := help
.PHONY: help setup run test test-fast lint train eval-nlu bench lock clean

help: ## list the commands
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.lock pyproject.toml
	@echo "==> Creating the Python 3.10 environment from requirements.lock (about 5 minutes the first time)"
	@PYTHON_BIN=$$(./scripts/find-python.sh) && [ -x $(PY) ] || $$PYTHON_BIN -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $@

node_modules/.installed: package.json package-lock.json
	@echo "==> Installing front-end packages from package-lock.json"
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

setup: $(VENV)/.installed node_modules/.installed ## set up everything missing: environment, front-end packages, sample store, trained model
	@$(PY) -m bot.bootstrap

run: setup ## run the assistant: Rasa server, action server and web chat (Ctrl-C stops all)
	@$(PY) -m bot.launcher

test: setup ## run the whole test suite (sets up Chromium for the browser tests)
	@./scripts/ensure-chromium.sh
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: setup ## run the unit tests only (no servers, no browser)
	$(PY) -m pytest -m "not integration and not browser" $(PYTEST_ARGS)

lint: $(VENV)/.installed ## ruff and mypy
	$(VENV)/bin/ruff check bot nlu knowledge routing tests
	$(VENV)/bin/ruff format --check bot nlu knowledge routing tests
	$(VENV)/bin/mypy

train: $(VENV)/.installed ## retrain the Rasa model even if nothing changed
	@$(PY) -m bot.bootstrap --force-train

eval-nlu: setup ## 5-fold cross-validation of the NLU pipeline (prints intent macro-F1)
	@$(PY) -m bot.evaluate_nlu

bench: setup ## benchmarks: REST turn latency p50/p95 (prints numbers)
	@$(PY) -m bot.bench

lock: ## re-resolve pyproject.toml's dependencies and rewrite requirements.lock
	@./scripts/lock.sh

clean: ## remove runtime data and trained models (keeps the environment)
	rm -rf data/runtime models
