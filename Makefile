# The two commands a new user needs: `make run` (the hub on its embedded demo) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test setup clean bench

run: $(STAMP)
	$(BIN)/hub demo

PEERS := tests/peers/node_modules/.package-lock.json

test: $(STAMP) $(PEERS)
	$(BIN)/python -m pytest -q

# Third-party GraphQL peers (npm registry) the conformance tests run against.
$(PEERS): tests/peers/package-lock.json
	npm ci --prefix tests/peers --no-audit --no-fund --loglevel=error

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
