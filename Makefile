# filmmag: `make run` serves the demo site on http://127.0.0.1:8000, `make test` runs every test.
# Needs Python 3.12+; the interpreter is found automatically (python3.13, python3.12, pyenv).

SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
HOST ?= 127.0.0.1
PORT ?= 8000
# make load: how long and how hard (wrk's duration syntax: 60s, 2m).
DURATION ?= 60s
CONNECTIONS ?= 32
WORKERS ?= 3

# The first interpreter that is Python 3.12 or newer.
PYTHON ?= $(shell for c in python3.13 python3.12 python3 \
	$$(pyenv root 2>/dev/null)/versions/3.13*/bin/python3 $$(pyenv root 2>/dev/null)/versions/3.12*/bin/python3 \
	$$HOME/.pyenv/versions/3.13*/bin/python3 $$HOME/.pyenv/versions/3.12*/bin/python3; do \
	command -v $$c >/dev/null 2>&1 && PYENV_VERSION= $$c -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null \
	&& { command -v $$c; break; }; done)

.PHONY: run serve test test-fast test-browser lint format check bench demo editor clean help node_modules \
	backup restore load lighthouse

help:
	@echo "make run     set up (venv, database, demo content) and serve on http://$(HOST):$(PORT)"
	@echo "make test    install the test requirements and run the whole suite"
	@echo "make backup  database + media into backups/filmmag-<time>.tar.gz (OUTPUT=path to choose)"
	@echo "make restore ARCHIVE=path  replace database + media with a backup (asks first)"
	@echo "make load    gunicorn + demo data under wrk on 127.0.0.1 (DURATION=60s CONNECTIONS=32)"
	@echo "make lint    ruff check + format check;  make check  Django checks + missing migrations"
	@echo "make bench   every page at 100,000 films (PostgreSQL) and 10,000 (SQLite): times, queries,"
	@echo "             bytes, req/s next to a bare view; searches; renditions and image bytes"
	@echo "make lighthouse  Lighthouse scores (mobile, desktop) of the demo on 127.0.0.1; reports in artifacts/lighthouse/"
	@echo "make editor  new admin password for 'editor' (and unlock it)"

$(BIN)/activate:
	@test -n "$(PYTHON)" || { echo "Python 3.12+ not found: install it (e.g. pyenv install 3.13) or pass PYTHON=/path/to/python3.12"; exit 1; }
	@echo "Creating $(VENV) with $(PYTHON)"
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/activate
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

# axe-core and vnu-jar for the browser tests. --ignore-scripts: vnu-jar's postinstall would
# download a Java runtime. Without npm the axe checks skip locally (and fail on CI).
node_modules: node_modules/.package-lock.json
node_modules/.package-lock.json: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --ignore-scripts --no-audit --no-fund; \
	else echo "npm not found: the accessibility checks will be skipped (apt-get install npm)"; \
	test "$$CI" != true; fi

run: $(VENV)/.installed
	DJANGO_DEBUG=true $(PY) manage.py migrate --noinput
	DJANGO_DEBUG=true $(PY) manage.py load_demo
	DJANGO_DEBUG=true $(PY) manage.py ensure_editor --site-url http://$(HOST):$(PORT)
	DJANGO_DEBUG=true $(PY) manage.py runserver $(HOST):$(PORT)

editor: $(VENV)/.installed
	DJANGO_DEBUG=true $(PY) manage.py migrate --noinput
	DJANGO_DEBUG=true $(PY) manage.py ensure_editor --reset-password --site-url http://$(HOST):$(PORT)
	DJANGO_DEBUG=true $(PY) manage.py axes_reset_username editor

test: $(VENV)/.installed-dev node_modules
	$(BIN)/pytest

test-fast: $(VENV)/.installed-dev
	$(BIN)/pytest --ignore=tests/browser -q

test-browser: $(VENV)/.installed-dev node_modules
	$(BIN)/pytest tests/browser

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

check: $(VENV)/.installed-dev
	DJANGO_SECRET_KEY="$${DJANGO_SECRET_KEY:-make-check-only}" $(PY) manage.py check
	DJANGO_SECRET_KEY="$${DJANGO_SECRET_KEY:-make-check-only}" $(PY) manage.py makemigrations --check --dry-run

# The synthetic catalogues are kept (PostgreSQL database filmmag_bench_<films>, .bench/ for
# SQLite) and reused; BENCH_OPTIONS="--rebuild" builds them again, "--skip-wrk" skips the load.
bench: $(VENV)/.installed-dev
	@command -v wrk >/dev/null 2>&1 || apt-get install -y -qq wrk >/dev/null 2>&1 \
		|| { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; } \
		|| echo "wrk not found (sudo apt-get install wrk): no requests/s ratios"
	$(PY) bench/scale.py --engine both $(BENCH_OPTIONS)
	$(PY) bench/run.py --catalogue
	$(PY) bench/run.py --only pictures

# Lighthouse from npm, pinned in its own package.json so the test suite's node_modules stay small;
# it drives Debian's Chromium (CHROME_PATH).
LIGHTHOUSE_MODULES := bench/lighthouse/node_modules/.package-lock.json
$(LIGHTHOUSE_MODULES): bench/lighthouse/package.json bench/lighthouse/package-lock.json
	cd bench/lighthouse && npm ci --ignore-scripts --no-audit --no-fund

lighthouse: $(VENV)/.installed $(LIGHTHOUSE_MODULES)
	CHROME_PATH=$${CHROME_PATH:-/usr/bin/chromium} $(PY) bench/lighthouse.py $(if $(LIGHTHOUSE_PORT),--port $(LIGHTHOUSE_PORT))

backup: $(VENV)/.installed
	$(PY) manage.py backup $(if $(OUTPUT),--output "$(OUTPUT)")

restore: $(VENV)/.installed
	@test -n "$(ARCHIVE)" || { echo "Usage: make restore ARCHIVE=backups/filmmag-<time>.tar.gz"; exit 2; }
	$(PY) manage.py restore "$(ARCHIVE)"

# wrk from Debian, installed when missing (needs root, as on CI).
load: $(VENV)/.installed
	@command -v wrk >/dev/null 2>&1 || apt-get install -y -qq wrk >/dev/null 2>&1 \
		|| { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; } \
		|| { echo "wrk is needed: sudo apt-get install wrk"; exit 1; }
	$(PY) bench/load.py --duration $(DURATION) --connections $(CONNECTIONS) --workers $(WORKERS)

clean:
	rm -rf $(VENV) node_modules bench/lighthouse/node_modules staticfiles .pytest_cache .ruff_cache
