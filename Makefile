# runstash — every entry point a developer or CI needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
MEMBERS := protos/python services/metadata services/artifacts gateway clients/python server
STAMP := $(VENV)/.installed

.PHONY: install ui run test test-python test-ui lint protos check-protos bench client-venv clean \
	check-prereqs deploy-test deploy-bases wheels \
	test-lint-protos test-ui-built test-python-main

# Python keeps compiled bytecode (__pycache__, gitignored): with PYTHONDONTWRITEBYTECODE set in the
# caller's environment every process the tests start (servers, the stock client, `mlflow server`)
# compiled its imports from source again; `import mlflow` alone took ~3x as long.
unexport PYTHONDONTWRITEBYTECODE

install: $(STAMP)

$(STAMP): $(foreach m,$(MEMBERS),$(m)/pyproject.toml) requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check uv
	$(UV) pip install -q --python $(PY) $(foreach m,$(MEMBERS),-e ./$(m)) -r requirements-dev.txt
	touch $@

ui:
	$(MAKE) -C gateway/ui build

run: install ui
	$(VENV)/bin/runstash server

protos: install
	scripts/gen_protos.sh

check-protos: install
	scripts/check_protos.sh

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy protos/python/src services/metadata/src services/artifacts/src gateway/src clients/python/src server/src tests
	$(MAKE) -C gateway/ui lint typecheck

# The stock mlflow client lives in its own venv, apart from the server's.
client-venv:
	scripts/mlflow_client_venv.sh

# PYTEST_WORKERS=2 runs pytest on two xdist workers (most of the time is spent waiting on servers,
# clients and databases). A worker runs whole groups (one database's tests of a suite, or one file:
# tests/support/selection.py), so servers and module fixtures still start once per group. Tests
# marked `alone` assert on wall time: they run by themselves, before the others. One process by
# default until a full two-worker run is green on an unloaded machine (tests/README.md).
PYTEST_WORKERS ?= 0
PYTEST_MAIN := $(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup -m "not alone"
test-python: install client-venv
	$(PY) -m pytest -m alone
	$(PYTEST_MAIN)

# eslint and tsc run in `lint`; here: build, unit tests, browser tests against a real server.
test-ui: install client-venv
	$(MAKE) -C gateway/ui build unit e2e

# Says what is missing (tools, services, credentials) before anything runs deep inside.
check-prereqs:
	scripts/check_prereqs.sh

# Everything. TEST_JOBS=3 runs the three independent parts side by side (lint and protos; the UI's
# unit and browser tests; pytest): on 2 cores pytest and the browser tests mostly wait on servers.
# One after the other by default, like PYTEST_WORKERS. Before them, alone: the UI's node_modules
# and build (pytest serves and packages gateway/ui/dist, so nothing rebuilds it meanwhile: `-o
# build`) and the wall-time tests. With TEST_JOBS>1 each part's output comes whole when it ends.
TEST_JOBS ?= 1
test: check-prereqs install client-venv
	$(MAKE) -C gateway/ui build
	$(PY) -m pytest -m alone
	$(MAKE) --no-print-directory -j$(TEST_JOBS) --output-sync=target test-lint-protos test-ui-built test-python-main

test-lint-protos: lint check-protos
test-ui-built: install client-venv
	$(MAKE) -C gateway/ui -o build unit e2e
test-python-main: install client-venv
	$(PYTEST_MAIN)

# Containers built and run: deploy/compose.yaml's shape on local Debian bases, the tutorial through
# it with the stock client, one artifact replica stopped. Root on a fresh machine (engine, bases).
# What users install, in build/wheels/: the client `runstash` alone, or `runstash-server` (every service,
# the gateway's wheel carrying the built UI).
wheels: install ui
	rm -rf build/wheels
	for m in $(MEMBERS); do RUNSTASH_WHEEL_REQUIRE_UI=1 $(UV) build -q --wheel --out-dir build/wheels ./$$m || exit 1; done

deploy-bases:
	deploy/engine.sh
	deploy/local-bases.sh

deploy-test: client-venv
	deploy/deploy-test.sh

bench: install client-venv
	$(PY) bench/run_bench.py

clean:
	rm -rf $(VENV) .venv-mlflow build .pytest_cache .mypy_cache .ruff_cache
