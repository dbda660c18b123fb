# Backorder Desk. Two commands: `make run` and `make test`; both set everything up.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
UV_VERSION := 0.13.9
DB ?= backorder_desk

.PHONY: run test check lint format bench clean translations messages untranslated

# The virtualenv, with exactly the locked dependencies. uv itself is bootstrapped
# with pip and is part of the dev group, so `uv sync` keeps it.
$(BIN)/.synced: pyproject.toml uv.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@test -x $(BIN)/uv || $(BIN)/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(BIN)/uv sync --frozen --quiet
	@touch $@

# Customers' links in the emails it sends point at this server, on its PORT.
run: export SITE_URL ?= http://127.0.0.1:$(PORT)
run: $(BIN)/.synced translations
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_demo
	@echo ""
	@echo "  Backorder Desk is running on http://127.0.0.1:$(PORT)/"
	@echo "  Demo logins (password: demo): warehouse, service, purchasing, admin (superuser)"
	@echo ""
ifdef REDIS_URL
	@mkdir -p build
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start -f Procfile.dev -p $(PORT)
else
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)
endif

# The page checkers the browser tests run (axe-core, the Nu HTML checker), from
# npm at the versions package-lock.json pins; no install scripts (Java is the
# machine's own). Without npm the tests that need them skip, and fail in CI.
node_modules/.installed: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error && touch $@; \
	else \
	  echo "npm not found: the page checkers (axe-core, vnu) are not installed; their checks skip."; \
	fi

test: $(BIN)/.synced node_modules/.installed translations
	$(BIN)/pytest

check: $(BIN)/.synced
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python manage.py check

lint: check

format: $(BIN)/.synced
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The pages in Indonesian and Dutch: locale/*/LC_MESSAGES/django.po compiled to
# .mo (not committed). Without GNU gettext's msgfmt the pages stay in English.
translations: $(BIN)/.synced
	@if command -v msgfmt >/dev/null 2>&1; then \
	  $(BIN)/python manage.py compilemessages --ignore=.venv --ignore=node_modules -v 0; \
	else \
	  echo "msgfmt not found: the pages will be in English only."; \
	  echo "  To read them in Indonesian and Dutch: apt-get install gettext (Debian/Ubuntu), brew install gettext (macOS)."; \
	fi

# Regenerate the catalogues from the marked strings (after adding or changing
# any), then list what still needs a translation: `make untranslated`.
MAKEMESSAGES_ARGS := -l id -l nl --no-obsolete --ignore=.venv --ignore=node_modules --ignore=bench --ignore=tests --ignore=build --ignore=staticfiles
messages: $(BIN)/.synced
	$(BIN)/python manage.py makemessages $(MAKEMESSAGES_ARGS)
	$(BIN)/python manage.py check_translations --as-is || true

untranslated: $(BIN)/.synced
	$(BIN)/python manage.py check_translations

# Benchmarks (README, "Performance"): figures, not tests. `make bench` is the
# small scale (a few minutes); `make bench SCALE=full` seeds a million order
# lines into its own PostgreSQL database once and reuses it. BENCH_ARGS passes
# more options, e.g. BENCH_ARGS="--only B1,B3 --repeat 5".
SCALE ?= small
bench: $(BIN)/.synced
	$(BIN)/python -m bench --scale $(SCALE) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build staticfiles .pytest_cache .mypy_cache .ruff_cache node_modules
