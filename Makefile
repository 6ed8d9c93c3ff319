# liveshop — two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

# Test services on this kind of machine; tests skip what is missing unless
# LIVESHOP_REQUIRE_SERVICES=1 (CI), where they fail.
export LIVESHOP_TEST_POSTGRES_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/test
export LIVESHOP_TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: run test lint fmt typecheck bench install clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/pip install -q --disable-pip-version-check -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

install: $(STAMP)

run: $(STAMP)
	$(BIN)/liveshop db upgrade
	$(BIN)/liveshop demo load
	$(BIN)/liveshop serve --host 127.0.0.1 --port 8000

test: $(STAMP) lint typecheck
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/liveshop bench --help

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
