# sirene — the two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SIRENE := $(BIN)/sirene
# The PostgreSQL leg of the tests runs when this server answers (CI makes it mandatory).
SIRENE_TEST_POSTGRES_URL ?= postgresql://postgres@127.0.0.1:5432/sirene_test
export SIRENE_TEST_POSTGRES_URL
DEMO_USER ?= demo
DEMO_PASSWORD ?= sirene-demo
# `make run PORT=8140 HOST=0.0.0.0`: the server listens there and the public URL (links, Twilio callbacks)
# follows, unless SIRENE_PUBLIC_URL is set explicitly.
HOST ?= 127.0.0.1
PORT ?= 8000
RUN_URL_HOST := $(if $(filter 0.0.0.0 ::,$(HOST)),127.0.0.1,$(HOST))
SIRENE_PUBLIC_URL ?= http://$(RUN_URL_HOST):$(PORT)

.PHONY: run test install dev lint typecheck migrations-check test-sqlite test-postgres bench messages screenshot clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed
dev: $(VENV)/.installed-dev

# The demo writes texts with links (Slack posts, replies): they point where the server listens too.
run: install
	$(SIRENE) migrate --verbosity 0
	SIRENE_PUBLIC_URL=$(SIRENE_PUBLIC_URL) $(SIRENE) demo --user $(DEMO_USER) --password $(DEMO_PASSWORD)
	@echo ""
	@echo "  sirene runs on $(SIRENE_PUBLIC_URL)/  —  demo login: $(DEMO_USER) / $(DEMO_PASSWORD)"
	@echo ""
	SIRENE_PUBLIC_URL=$(SIRENE_PUBLIC_URL) $(SIRENE) run --host $(HOST) --port $(PORT)

lint: dev
	$(BIN)/ruff check sirene conftest.py
	$(BIN)/lint-imports

typecheck: dev
	$(BIN)/mypy sirene

migrations-check: dev
	$(BIN)/sirene makemigrations --check --dry-run

test-sqlite: dev
	@echo "== pytest on SQLite =="
	env -u SIRENE_DATABASE_URL $(BIN)/pytest -q -p no:randomly

test-postgres: dev
	@# Creates the database when the server answers and it is absent; says why whenever the leg does not run.
	@$(BIN)/python -m sirene.core.testdb "$(SIRENE_TEST_POSTGRES_URL)"; rc=$$?; \
	if [ $$rc = 0 ]; then \
	  echo "== pytest on PostgreSQL ($(SIRENE_TEST_POSTGRES_URL)) =="; \
	  SIRENE_DATABASE_URL=$(SIRENE_TEST_POSTGRES_URL) SIRENE_DB_CONN_MAX_AGE=0 $(BIN)/pytest -q; \
	elif [ $$rc = 3 ] && [ "$${SIRENE_REQUIRE_POSTGRES:-0}" != "1" ]; then \
	  echo ""; echo "!! PostgreSQL leg SKIPPED: no server at $(SIRENE_TEST_POSTGRES_URL) (set SIRENE_TEST_POSTGRES_URL) !!"; echo ""; \
	else \
	  echo "PostgreSQL leg cannot run (see the line above)"; exit 1; \
	fi

test: lint typecheck migrations-check test-sqlite test-postgres

bench: install
	$(SIRENE) bench grouping
	$(SIRENE) bench kb
	$(SIRENE) bench detect
	$(SIRENE) bench escalation

messages: dev
	cd sirene && ../$(BIN)/sirene makemessages -l de --ignore "tests/*" && ../$(BIN)/sirene compilemessages -l de

screenshot: dev
	$(BIN)/python -m sirene.web.screenshot docs/screenshot-cases.png

clean:
	rm -rf $(VENV) var/*.sqlite3*
