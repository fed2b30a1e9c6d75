# Two entry points for a fresh machine: `make demo` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
NODE_SERVERS := tests/mcp-servers/node_modules/.installed

.PHONY: demo test lint setup

$(INSTALLED): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[lab,test]'
	touch $@

$(NODE_SERVERS): tests/mcp-servers/package.json
	npm install --prefix tests/mcp-servers --no-audit --no-fund --loglevel=error
	touch $@

setup: $(INSTALLED) $(NODE_SERVERS)

demo: $(INSTALLED)
	$(VENV)/bin/aura-nb demo

test: setup
	$(PY) -m pytest

lint: $(INSTALLED)
	$(VENV)/bin/ruff check aura_nb tests benchmarks
	$(VENV)/bin/ruff format --check aura_nb tests benchmarks
	$(VENV)/bin/mypy
