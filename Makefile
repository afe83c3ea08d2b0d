# Every install step lives here: a fresh clone needs only `make demo` or `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CHROMIUM := /usr/bin/chromium
# apt-get needs root: CI runs as root; elsewhere ask sudo.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# The exact versions installed (made by uv from pyproject.toml: `make lock`, `make upgrade`).
LOCK := requirements.lock
LOCK_ARGS := pyproject.toml --extra test --universal --python-version 3.11 --quiet -o $(LOCK) \
	--custom-compile-command "make lock   (after any change to the dependencies in pyproject.toml; make upgrade takes the newest releases they allow, then runs the tests)"

.PHONY: install demo test lint unit bench browser clean lock upgrade uv

install: $(STAMP)

$(STAMP): pyproject.toml $(LOCK)
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c $(LOCK) -e '.[test]'
	touch $(STAMP)

uv:
	@test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet 'uv>=0.13,<1'

# The lock after a change of pyproject.toml: the versions already locked stay where they can.
lock: uv
	$(BIN)/uv pip compile $(LOCK_ARGS)

# The newest releases pyproject.toml allows, installed and tested.
upgrade: uv
	$(BIN)/uv pip compile --upgrade $(LOCK_ARGS)
	$(MAKE) test

demo: install
	$(BIN)/python -m importer.demo

lint: install
	$(BIN)/ruff check importer tests bench
	$(BIN)/ruff format --check importer tests bench
	$(BIN)/mypy

# The browser tests drive Debian's Chromium headless (`playwright install` downloads a browser
# build, which cannot be fetched here); install it only when it is missing.
# Linux only: elsewhere the browser tests skip themselves.
browser:
ifeq ($(shell uname -s),Linux)
	@test -x $(CHROMIUM) || ($(SUDO) apt-get update && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y chromium)
endif

# Two processes: the 2-core machines it runs on finish in ~55% of the time of one.
unit: install browser
	$(BIN)/pytest -q -n 2

test: browser lint unit

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
