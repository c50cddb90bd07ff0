# The two commands: `make run` (set up, then build the graph) and `make test` (set up, lint, then test).
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3

.PHONY: run test lint system-deps bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

# Java (HermiT), Chromium (browser tests) and Virtuoso 7 (large-server tests) from Debian, when missing and when we may install them.
system-deps:
	@if ! command -v java >/dev/null 2>&1 || ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1 || ! command -v virtuoso-t >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless chromium chromium-driver virtuoso-opensource-7-bin >/dev/null; \
	  else echo "note: java, chromium or virtuoso missing; install default-jre-headless, chromium, chromium-driver and virtuoso-opensource-7-bin (Debian) for the reasoner, browser and Virtuoso tests"; fi; \
	fi

run: system-deps $(VENV)/.installed
	$(VENV)/bin/ipvkg build

# ruff (pyflakes and pycodestyle rules, 120 columns; the formatter's layout) and mypy over ipvkg/, as configured in
# pyproject.toml
lint: $(VENV)/.installed
	$(PY) -m ruff check ipvkg
	$(PY) -m ruff format --check ipvkg
	$(PY) -m mypy

# one worker per core (pytest-xdist); a file's tests stay together, so its module fixtures (servers, builds)
# start once
test: system-deps $(VENV)/.installed lint
	$(PY) -m pytest -n auto --dist loadfile

bench: $(VENV)/.installed
	$(PY) bench/run.py

clean:
	rm -rf build .pytest_cache
