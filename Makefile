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

.PHONY: run test lint fmt typecheck bench install clean assets system-deps

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

test: $(STAMP) system-deps lint typecheck
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

# Debian packages the browser tests need. Installs them when run as root with apt-get;
# otherwise says so and carries on (the browser tests then skip, or fail in CI).
system-deps:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update && apt-get install -y --no-install-recommends chromium fonts-liberation; \
	else \
		echo "system-deps: /usr/bin/chromium is missing and cannot be installed here (needs root" \
			"and apt-get): the browser tests will skip (fail with LIVESHOP_REQUIRE_SERVICES=1)."; \
	fi

# Browser libraries from npm (pinned in liveshop/web/assets), copied into the static files.
# The copies are committed, so `make run` needs no Node; this target refreshes them.
WEB_ASSETS := liveshop/web/assets
VENDOR := liveshop/web/static/vendor
assets:
	cd $(WEB_ASSETS) && npm install --no-audit --no-fund
	mkdir -p $(VENDOR)
	cp $(WEB_ASSETS)/node_modules/hls.js/dist/hls.min.js $(VENDOR)/hls.min.js
	cp $(WEB_ASSETS)/node_modules/hls.js/dist/hls.min.mjs $(VENDOR)/hls.min.mjs
	cp $(WEB_ASSETS)/node_modules/hls.js/LICENSE $(VENDOR)/hls.js.LICENSE

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
