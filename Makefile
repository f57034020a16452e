# Smart-0DTE — every target sets itself up: a fresh machine needs only `make run` or `make test`.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install run test lint bench dashboard clean browser

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip setuptools wheel
	$(PY) -m pip install -q -e '.[dev,ray]'
	@touch $(STAMP)

# Debian's Chromium for browser tests and PNG export; never a downloaded browser.
browser:
	@command -v chromium >/dev/null 2>&1 || test -x /usr/bin/chromium || \
	  { test "$$(id -u)" = 0 && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	    || echo "warning: /usr/bin/chromium missing and not root: the browser tests will fail"; }

run: install
	$(VENV)/bin/smart0dte ui --demo

dashboard: install
	$(VENV)/bin/smart0dte dashboard

lint: install
	$(VENV)/bin/ruff check engine tools agent tests benchmarks
	$(VENV)/bin/lint-imports

test: install browser
	$(VENV)/bin/lint-imports
	$(VENV)/bin/ruff check engine tools agent tests benchmarks
	$(PY) -m pytest -q -ra

bench: install
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
