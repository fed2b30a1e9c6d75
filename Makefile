# Two entry points for a fresh machine: `make demo` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
NODE_SERVERS := tests/mcp-servers/node_modules/.installed
EXT_DIR := extensions/jupyterlab-aura
EXT_NODE := $(EXT_DIR)/node_modules/.installed
LABEXT := aura_nb/labextension/package.json
LIVE_VIEW := aura_nb/notebook/static/run_view.js
LABEXT_LINK := $(VENV)/share/jupyter/labextensions/jupyterlab-aura
# Third-party MCP servers the Scratchpad is tested against; they need mcp<2, so they get their own venv.
THIRD_PARTY := .venv-third-party
THIRD_PARTY_OK := $(THIRD_PARTY)/.installed
THIRD_PARTY_PKGS := "mcp<2" mcp-server-duckdb==1.1.0 mcp-server-sqlite==2025.4.25 prometheus-mcp-server==1.6.2

.PHONY: demo test lint setup third-party

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

# The prebuilt JupyterLab renderer for run records, and the live view's anywidget module built from the same
# sources; the wheel ships both, the dev venv links the labextension.
$(LABEXT) $(LIVE_VIEW) &: $(INSTALLED) $(EXT_NODE) $(wildcard $(EXT_DIR)/src/*.ts) $(EXT_DIR)/style/index.css $(EXT_DIR)/build-live.js
	cd $(EXT_DIR) && PATH="$(abspath $(VENV))/bin:$$PATH" npm run build:prod
	mkdir -p $(dir $(LABEXT_LINK)) && ln -sfn $(abspath aura_nb/labextension) $(LABEXT_LINK)

$(THIRD_PARTY_OK): Makefile
	python3 -m venv $(THIRD_PARTY)
	$(THIRD_PARTY)/bin/pip install --quiet $(THIRD_PARTY_PKGS)
	touch $@

third-party: $(THIRD_PARTY_OK)

setup: $(INSTALLED) $(NODE_SERVERS) $(LABEXT) $(LIVE_VIEW) $(THIRD_PARTY_OK)

demo: $(INSTALLED)
	$(VENV)/bin/aura-nb demo

test: setup
	$(PY) -m pytest

lint: $(INSTALLED)
	$(VENV)/bin/ruff check aura_nb tests benchmarks scripts
	$(VENV)/bin/ruff format --check aura_nb tests benchmarks scripts
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
