"""The hub's tests: one package, so tests/conftest.py is one module whether pytest loads it or a test
imports from it (``from tests.conftest import ...``), and the run has one run id."""
