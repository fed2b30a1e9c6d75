# Two entry points for a fresh machine: `make demo` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
NODE_SERVERS := tests/mcp-servers/node_modules/.installed
EXT_DIR := extensions/jupyterlab-aura
EXT_NODE := $(EXT_DIR)/node_modules/.installed
LABEXT := aura_nb/labextension/package.json
LABEXT_LINK := $(VENV)/share/jupyter/labextensions/jupyterlab-aura

.PHONY: demo test lint setup

$(INSTALLED): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[lab,test]'
	touch $@

$(NODE_SERVERS): tests/mcp-servers/package.json
	npm install --prefix tests/mcp-servers --no-audit --no-fund --loglevel=error
	touch $@

$(EXT_NODE): $(EXT_DIR)/package.json
	npm install --prefix $(EXT_DIR) --no-audit --no-fund --loglevel=error
	touch $@

# The prebuilt JupyterLab renderer for run records; the wheel ships it, the dev venv links it.
$(LABEXT): $(INSTALLED) $(EXT_NODE) $(wildcard $(EXT_DIR)/src/*.ts) $(EXT_DIR)/style/index.css
	cd $(EXT_DIR) && PATH="$(abspath $(VENV))/bin:$$PATH" npm run build:prod
	mkdir -p $(dir $(LABEXT_LINK)) && ln -sfn $(abspath aura_nb/labextension) $(LABEXT_LINK)

setup: $(INSTALLED) $(NODE_SERVERS) $(LABEXT)

demo: $(INSTALLED)
	$(VENV)/bin/aura-nb demo

test: setup
	$(PY) -m pytest

lint: $(INSTALLED)
	$(VENV)/bin/ruff check aura_nb tests benchmarks
	$(VENV)/bin/ruff format --check aura_nb tests benchmarks
	$(VENV)/bin/mypy
