# The two commands a new user needs: `make run` (the hub on its embedded demo) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint setup clean bench messages

run: $(STAMP)
	$(BIN)/hub demo

PEERS := tests/peers/node_modules/.package-lock.json

CHROMIUM := /usr/bin/chromium
GRAPHIQL := .demo/graphiql.stamp

NGINX := /usr/sbin/nginx
PODMAN := /usr/bin/podman

test: $(STAMP) $(PEERS) $(GRAPHIQL) $(CHROMIUM) $(NGINX) $(PODMAN)
	$(BIN)/python -m pytest -q

# The static checks (settings in pyproject.toml): ruff, mypy --strict, the layers' import contracts.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# GraphiQL's files, served by the hub offline (npm pack from the registry, integrity-checked).
$(GRAPHIQL): hub/graphql/graphiql.py | $(STAMP)
	$(BIN)/hub graphiql install --force --dir .demo/graphiql
	touch $@

# The browser tests' Chromium: Debian's package, driven by Playwright (never `playwright install`),
# with a CJK font for the demo's Chinese names. Installed as root or under CI; elsewhere the browser
# tests skip, saying so.
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ] || [ "$$CI" = true ]; then \
	  echo "installing Chromium (apt-get) for the browser tests"; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq \
	    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null; \
	else \
	  echo "note: $(CHROMIUM) is missing and installing it needs root (apt-get install chromium);" \
	    "the browser tests will skip"; \
	fi

# The deployment tests' parts from Debian: nginx terminating TLS in front of two replicas
# (tests/deploy/test_topology.py), and podman, runc and debootstrap to build and start the image
# with no image registry (docker/podman/: settings passed as CONTAINERS_CONF, nothing under /etc).
# Installed as root or under CI; elsewhere those tests skip, saying so.
$(NGINX) $(PODMAN):
	@if [ "$$(id -u)" = 0 ] || [ "$$CI" = true ]; then \
	  echo "installing nginx, podman, runc, debootstrap (apt-get) for the deployment tests"; \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq \
	    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light podman runc debootstrap >/dev/null; \
	else \
	  echo "note: $@ is missing and installing it needs root (apt-get install nginx-light podman runc debootstrap);" \
	    "the deployment tests that need it will skip"; \
	fi

# Third-party GraphQL peers (npm registry) the conformance tests run against.
$(PEERS): tests/peers/package-lock.json
	npm ci --prefix tests/peers --no-audit --no-fund --loglevel=error

setup: $(STAMP)
	$(BIN)/hub demo --setup-only

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,dev]'
	touch $(STAMP)

# The console's message catalogues (hub/admin/i18n.py): extract the English strings from the
# templates and the console's Python, merge them into each language's .po (new ones empty, for a
# translator), and compile the .mo files that are committed beside them.
LOCALE := hub/admin/locale
messages: $(STAMP)
	$(BIN)/pybabel extract -F $(LOCALE)/babel.cfg -k N_ --no-location --sort-output --omit-header \
	  -o $(LOCALE)/console.pot .
	$(BIN)/pybabel update -i $(LOCALE)/console.pot -d $(LOCALE) -D console \
	  --no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel compile -d $(LOCALE) -D console --statistics

bench: $(STAMP) $(PEERS)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .demo .pytest_cache .ruff_cache .mypy_cache .import_linter_cache
