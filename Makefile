# fieldcrm: `make demo` runs the app with demo data on SQLite; `make test` runs the tests.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml requirements.lock | sha1sum | cut -c1-12)
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_ACCOUNTS ?= 2000
JOBS ?= auto

PWA_SOURCES := $(shell find pwa/src pwa/public pwa/scripts pwa/index.html pwa/package.json pwa/package-lock.json pwa/vite.config.ts pwa/tsconfig.json -type f 2>/dev/null)

.PHONY: install pwa demo serve migrate test lint bench clean

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	@rm -f $(VENV)/.installed-*; touch $(STAMP)

## pwa: install the PWA's npm packages and build it into pwa/dist (the API serves it at /)
pwa/dist/index.html: $(PWA_SOURCES)
	cd pwa && npm ci --no-audit --no-fund --loglevel=error && npm run build

pwa: pwa/dist/index.html

install: $(STAMP) pwa

## demo: set up from nothing, migrate a SQLite database, load demo data and serve at http://$(HOST):$(PORT)
demo: install
	$(BIN)/fieldcrm demo --accounts $(DEMO_ACCOUNTS)
	$(BIN)/fieldcrm vapid
	@echo "The app: http://$(HOST):$(PORT)/  (on a phone on this network: HOST=0.0.0.0 make demo, then this machine's address)"
	@echo "Sign in as hq, director, manager or rep with password fieldcrm-demo. API docs: http://$(HOST):$(PORT)/schema"
	$(BIN)/fieldcrm serve --worker --host $(HOST) --port $(PORT)

serve: install
	$(BIN)/fieldcrm serve --migrate --host $(HOST) --port $(PORT)

migrate: install
	$(BIN)/fieldcrm migrate

## test: the whole suite on the database DATABASE_URL names (SQLite when unset)
test: install
	@if [[ "$${DATABASE_URL:-}" == postgres* ]]; then echo "== tests on PostgreSQL ($${DATABASE_URL})"; \
	else echo "== tests on SQLite (PostgreSQL-only tests are left out; run DATABASE_URL=postgresql://... make test for them)"; fi
	cd pwa && npm test --silent && npm run --silent size
	$(BIN)/python -m pytest -n $(JOBS) -q -rs

lint: install
	$(BIN)/ruff check backend push tests bench
	$(BIN)/ruff format --check backend push tests bench
	$(BIN)/mypy
	cd pwa && npm run typecheck

bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) pwa/node_modules pwa/dist fieldcrm.db fieldcrm.db-wal fieldcrm.db-shm .pytest_cache .mypy_cache .ruff_cache
