# Every install step lives here: a fresh clone needs only `make demo` or `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CHROMIUM := /usr/bin/chromium
# apt-get needs root: CI runs as root; elsewhere ask sudo.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install demo test lint unit bench browser clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: install
	$(BIN)/python -m importer.demo

lint: install
	$(BIN)/ruff check importer tests bench
	$(BIN)/ruff format --check importer tests bench
	$(BIN)/mypy

# The browser tests drive Debian's Chromium headless (`playwright install` downloads a browser
# build, which cannot be fetched here); install it only when it is missing.
browser:
	@test -x $(CHROMIUM) || ($(SUDO) apt-get update && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y chromium)

unit: install browser
	$(BIN)/pytest -q

test: browser lint unit

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
