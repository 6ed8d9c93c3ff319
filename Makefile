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

.PHONY: run test lint fmt typecheck contracts bench install clean assets system-deps screenshots fuzz \
	messages compile-messages mark-templates

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/pip install -q --disable-pip-version-check -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

install: $(STAMP)

run: $(STAMP) system-deps
	$(BIN)/liveshop db upgrade
	$(BIN)/liveshop demo load
	LIVESHOP_DEMO_VIDEO=1 $(BIN)/liveshop serve --host 127.0.0.1 --port 8000

# Three workers on the CI machine's two cores: the suite waits on servers, browsers, ffmpeg and
# PostgreSQL far more than it computes (two workers kept ~1.2 cores busy). A file's tests stay on one worker, so its
# module- and package-scoped servers are started once per worker. tests/scheduling.py can
# hand the files out longest first (LIVESHOP_TEST_LONGEST_FIRST=1; seconds per file from the
# last runs, in .pytest_cache, else tests/file_seconds.json); off by default (see there).
# pytest-randomly shuffles the order every run and prints its seed; `pytest --randomly-seed=N`
# repeats one.
test: $(STAMP) system-deps lint typecheck contracts
	$(BIN)/pytest -q --durations=15 -n 3 --dist loadfile

# The browser tests write their screenshots to a temporary folder; this refreshes the
# committed ones in docs/screenshots on purpose.
screenshots: $(STAMP) system-deps
	LIVESHOP_SCREENSHOTS_DIR=docs/screenshots $(BIN)/pytest -q -p no:randomly tests/browser

# A longer signed-in schemathesis run over every operation than the one in `make test`
# (tests/test_fuzz_api.py); LIVESHOP_FUZZ_EXAMPLES sets the examples per operation.
fuzz: $(STAMP)
	LIVESHOP_FUZZ_EXAMPLES=$${LIVESHOP_FUZZ_EXAMPLES:-60} $(BIN)/pytest -q -p no:randomly \
		-p no:xdist tests/test_fuzz_api.py

# Translations (issue 21). `make messages` after marking new strings: extracts every marked
# string (Python, templates, web/js_messages.py) into liveshop/locale/messages.pot, updates each
# language's .po (new messages arrive empty; tests/test_i18n_catalogs.py then names what each
# language misses), fills the English ones and compiles the .mo files (committed, so `make run`
# needs no build step). Translate in liveshop/locale/<lang>/LC_MESSAGES/messages.po, then
# `make compile-messages`.
LOCALE_DIR := liveshop/locale
LANGUAGES := en_GB en_US id th ms vi de fr it es
BABEL_KEYWORDS := -k _l -k lazy_gettext -k plural_noop:1,2 -k ngettext:1,2 -k pgettext:1c,2
messages: $(STAMP)
	$(BIN)/pybabel -q extract -F babel.cfg $(BABEL_KEYWORDS) --no-location --sort-output \
		--add-comments=Translators: --project=liveshop -o $(LOCALE_DIR)/messages.pot .
	@for lang in $(LANGUAGES); do \
		$(BIN)/pybabel -q update -i $(LOCALE_DIR)/messages.pot -d $(LOCALE_DIR) -l $$lang \
			--init-missing --no-fuzzy-matching --ignore-obsolete; \
	done
	$(BIN)/python -m liveshop.core.i18n_catalogs fill-english
	$(MAKE) compile-messages

compile-messages: $(STAMP)
	$(BIN)/pybabel -q compile -d $(LOCALE_DIR) --use-fuzzy

# A first pass over templates with unmarked text (wraps it in _(); read the result).
mark-templates: $(STAMP)
	$(BIN)/python -m liveshop.web.i18n_scan $$(find liveshop/web/templates -name '*.html')

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: $(STAMP)
	$(BIN)/mypy

# The layers contract in pyproject.toml (import-linter): no package imports one above it.
contracts: $(STAMP)
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/liveshop bench --help

# Debian packages beyond Python: chromium + fonts-liberation (browser tests), nginx +
# libnginx-mod-rtmp (live video: RTMP ingest to HLS) and ffmpeg (stream posters, video
# tests); fonts-dejavu-core + fonts-thai-tlwg (shipping labels in Vietnamese and Thai),
# poppler-utils + zbar-tools (the label tests read the PDF's text and scan its barcodes). As root with apt-get the missing ones are installed (one `apt-get update`);
# otherwise this says plainly what is off and carries on.
system-deps:
	@missing=""; off=""; \
	[ -x /usr/bin/chromium ] || { missing="$$missing chromium fonts-liberation"; \
		off="$$off\n  - the browser tests skip (fail with LIVESHOP_REQUIRE_SERVICES=1)"; }; \
	[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null || missing="$$missing nginx"; \
	[ -e /usr/lib/nginx/modules/ngx_rtmp_module.so ] || missing="$$missing libnginx-mod-rtmp"; \
	case "$$missing" in *nginx*) \
		off="$$off\n  - live video is OFF: OBS cannot go live (no RTMP ingest, no HLS)";; esac; \
	command -v ffmpeg >/dev/null || { missing="$$missing ffmpeg"; \
		off="$$off\n  - no stream posters, and the video tests skip"; }; \
	[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing="$$missing fonts-dejavu-core"; \
	[ -e /usr/share/fonts/truetype/tlwg/Garuda.ttf ] || { missing="$$missing fonts-thai-tlwg"; \
		off="$$off\n  - Thai addresses are missing from shipping labels"; }; \
	command -v pdftotext >/dev/null || missing="$$missing poppler-utils"; \
	command -v zbarimg >/dev/null || missing="$$missing zbar-tools"; \
	case "$$missing" in *poppler*|*zbar*) \
		off="$$off\n  - the label tests skip";; esac; \
	if [ -z "$$missing" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "system-deps: installing$$missing"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends $$missing; } \
		|| echo -e "system-deps: apt-get failed; until it works:$$off"; \
	else \
		echo -e "system-deps: missing$$missing and cannot install them here (needs root and" \
			"apt-get: run 'sudo make system-deps'). Until then:$$off"; \
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
