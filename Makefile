# The two commands a new user needs: `make run` (the hub on its embedded demo) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test setup clean bench

run: $(STAMP)
	$(BIN)/hub demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

setup: $(STAMP)
	$(BIN)/hub demo --setup-only

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .demo .pytest_cache
