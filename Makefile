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
# No training cache in .rasa/: Rasa's `rasa test` scans the project for stories and
# trips over the cache's JSON files; the bootstrap retrains only when inputs change.
export RASA_MAX_CACHE_SIZE := 0

.DEFAULT_GOAL := help
.PHONY: help setup run run-prod test test-fast test-stories lint train index migration train-emotion train-context labels eval-nlu train-privacy eval-privacy eval-emotion eval-knowledge eval-conversations bench bench-load bench-scale bench-emotion bench-knowledge bench-routing bench-insights seed-insights report retention privacy-requests export-customer forget-customer telegram-webhook export-annotations user lock clean

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

run-prod: setup ## the production profile: 2 of each server behind HAProxy, on PostgreSQL, Redis and RabbitMQ (deploy/production.env)
	@./scripts/ensure-haproxy.sh
	@$(PY) -m bot.production $(ARGS)

test: setup ## run the whole test suite (sets up Chromium for the browser tests, HAProxy for the production profile's)
	@./scripts/ensure-chromium.sh
	@./scripts/ensure-haproxy.sh || echo "==> No HAProxy: the production profile's tests will be skipped, saying so"
	node --test tests/web/*.test.mjs
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: setup ## run the unit tests only (no servers, no browser)
	node --test tests/web/*.test.mjs
	$(PY) -m pytest -m "not integration and not browser" $(PYTEST_ARGS)

lint: $(VENV)/.installed ## ruff and mypy
	$(VENV)/bin/ruff check bot core nlu knowledge routing insights privacy tests
	$(VENV)/bin/ruff format --check bot core nlu knowledge routing insights privacy tests
	$(VENV)/bin/mypy

train: $(VENV)/.installed ## retrain the Rasa model even if nothing changed
	@$(PY) -m bot.bootstrap --force-train

index: $(VENV)/.installed ## rebuild the help-center index from data/knowledge (re-embeds changed articles)
	@$(PY) -m knowledge.build

migration: $(VENV)/.installed ## new schema migration drafted from the models: make migration MSG="add consent table"
	@$(PY) -m core.migrations revision --autogenerate -m "$(MSG)" \
		--metadata bot.store.schema:metadata --metadata routing.queue:metadata \
		--metadata routing.accounts:metadata --metadata insights.schema:metadata \
		--metadata bot.channels.inbox:metadata --metadata privacy.audit:metadata

train-emotion: $(VENV)/.installed ## fine-tune the message emotion model (uses ../shared/data when present; about 10 min on 2 cores)
	@$(PY) -m nlu.train $(ARGS)

train-context: $(VENV)/.installed ## train the context emotion model on the labelled conversations (about two minutes)
	@$(PY) -m nlu.train_context $(ARGS)

labels: $(VENV)/.installed ## check the labelled conversations, count their labels, print the double-labelling agreement
	@$(PY) -m nlu.labeling check && $(PY) -m nlu.labeling stats && $(PY) -m nlu.labeling agreement

eval-nlu: setup ## 5-fold cross-validation of the NLU pipeline (prints intent macro-F1)
	@$(PY) -m bot.evaluate_nlu

train-privacy: $(VENV)/.installed ## train the name and address model of privacy/ (about three minutes)
	@$(PY) -m privacy.train $(ARGS)

eval-privacy: $(VENV)/.installed ## personal-data detection per label, ours and Presidio's, against the targets
	@$(PY) -m privacy.evaluate $(ARGS)

eval-emotion: $(VENV)/.installed ## emotion scores on held-out data: one table against the targets
	@$(PY) -m nlu.evaluate

test-stories: setup ## Rasa's conversation tests (tests/test_stories.yml): every predicted action against the story
	@$(VENV)/bin/rasa test core --stories tests/test_stories.yml --model models/support.tar.gz --out results/test-stories

eval-knowledge: setup ## help-center retrieval: recall@k/MRR, BANKING77, CLINC150 out-of-scope
	@$(PY) -m knowledge.evaluate

eval-conversations: setup ## scripted conversations through the real stack: expected vs actual table
	@$(PY) -m bot.evaluate_conversations

bench: setup ## benchmarks: REST turn latency p50/p95 (prints numbers)
	@$(PY) -m bot.bench $(ARGS)

bench-load: setup ## side by side with a bare `rasa init` bot at 1/10/50 conversations: msg/s, p95, memory, turn profile (minutes; ARGS="--seconds 8")
	@$(PY) -m bot.bench_load $(ARGS)

bench-scale: setup ## the production profile under load with 1 and 2 Rasa servers: msg/s, p95, errors, turns in order, events relayed (a few minutes; ARGS="--seconds 10")
	@./scripts/ensure-haproxy.sh
	@$(PY) -m bot.bench_scale $(ARGS)

bench-emotion: $(VENV)/.installed ## emotion scorer latency p50/p95 and throughput, vs. one MiniLM encode
	@$(PY) -m nlu.bench

bench-knowledge: setup ## retrieval latency at 1k/100k/1M passages and index build time
	@$(PY) -m knowledge.bench

bench-routing: setup ## routing decision cost, handoff-to-console latency, console with 500 waiting
	@$(PY) -m bot.bench_routing $(ARGS)

bench-insights: $(VENV)/.installed ## dashboard and search latency at 100,000 conversations, SQLite and PostgreSQL
	@$(PY) -m insights.bench $(ARGS)

seed-insights: $(VENV)/.installed ## add synthetic conversations to the lead workspace: make seed-insights N=100000
	@$(PY) -m insights.seed --conversations $(or $(N),100000)

privacy-requests: $(VENV)/.installed ## carry out the erasures customers asked for in the chat now (the web front does it every minute)
	@$(PY) -m bot.privacy_requests --now

export-customer: $(VENV)/.installed ## everything held about one customer as JSON: make export-customer EMAIL=… [OUT=file.json]
	@$(PY) -m bot.customer_data export "$(EMAIL)" $(if $(OUT),--out "$(OUT)")

forget-customer: $(VENV)/.installed ## erase one customer from every store: make forget-customer EMAIL=…
	@$(PY) -m bot.customer_data forget "$(EMAIL)"

retention: $(VENV)/.installed ## erase conversations older than RETENTION_DAYS now (the web front does it daily)
	@$(PY) -m bot.retention $(if $(DAYS),--days $(DAYS))

report: $(VENV)/.installed ## the service's numbers: make report SINCE=2026-12-01 [UNTIL=…] [FORMAT=json]
	@$(PY) -m insights.report --since $(or $(SINCE),$(shell date -u +%Y-%m-01)) $(if $(UNTIL),--until $(UNTIL)) --format $(or $(FORMAT),table)

telegram-webhook: $(VENV)/.installed ## register the Telegram webhook with its secret token: make telegram-webhook URL=https://your.host/webhooks/telegram/webhook
	@$(PY) -m bot.channels.telegram $(URL)

export-annotations: $(VENV)/.installed ## write the leads' annotations as training and evaluation data
	@$(PY) -m insights.annotations export

user: $(VENV)/.installed ## create an agent console user: make user NAME=dana ROLE=agent (asks for a password)
	@$(PY) -m routing.accounts add $(NAME) --role $(or $(ROLE),agent) $(if $(DISPLAY_NAME),--name "$(DISPLAY_NAME)")

lock: ## re-resolve pyproject.toml's dependencies and rewrite requirements.lock
	@./scripts/lock.sh

clean: ## remove runtime data and trained models (keeps the environment)
	rm -rf data/runtime models .rasa results
