# packguard developer entry points. Everything installs and starts what it needs.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STATE := .packguard
DISTS := libs/common libs/analyzer libs/devstack libs/cli \
         services/gateway services/scheduler services/runner services/reporter
DEV_TOOLS := pytest pytest-asyncio pytest-timeout mypy ruff import-linter hypothesis \
             types-aiobotocore-s3 asyncpg-stubs types-pyyaml jsonschema matplotlib \
             kubernetes-validate schemathesis celery "psycopg[binary]" py-spy
PURL ?=

.PHONY: help venv up down logs status analyze test lint typecheck unit images k8s-test chaos bench

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/.installed: Makefile constraints.txt $(foreach d,$(DISTS),$(d)/pyproject.toml)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -qq -c constraints.txt $(foreach d,$(DISTS),-e $(d)) $(DEV_TOOLS)
	touch $@

venv: $(BIN)/.installed  ## create .venv with every packguard distribution installed

up: venv  ## start the local stack in the background; prints the API URL and a dev key
	$(BIN)/python -m packguard.devstack up --state-dir $(STATE)

down: venv  ## stop the local stack
	$(BIN)/python -m packguard.devstack down --state-dir $(STATE)

status: venv  ## show what is running
	$(BIN)/python -m packguard.devstack status --state-dir $(STATE)

logs:  ## follow the logs of every local process
	tail -n 50 -F $(STATE)/logs/*.log

analyze: up  ## analyze one package: make analyze PURL=pkg:pypi/six@1.16.0
	@test -n "$(PURL)" || { echo "usage: make analyze PURL=pkg:pypi/six@1.16.0" >&2; exit 2; }
	source $(STATE)/env && $(BIN)/packguard submit '$(PURL)' --wait

images: venv  ## build the analyzer and the four service images in the local engine
	$(BIN)/python -m packguard.devstack images --state-dir $(STATE)

.PHONY: dr-drill
dr-drill: venv  ## back up PostgreSQL to S3, restore it into a fresh server, compare
	$(BIN)/python -m packguard.devstack.dr_drill

bench: venv  ## every benchmark; a summary table, bench/results/latest.json, docs/img/bench_*.png
	$(BIN)/python -m bench

chaos: venv  ## kill and restart every part under load; ends "chaos: ... lost=0 duplicated=0"
	$(BIN)/python -m bench.chaos

k8s-test: venv  ## render and validate every Kustomize target (installs promtool/amtool as root)
	$(BIN)/pytest tests/unit/k8s -q

lint: venv  ## ruff, import contracts
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: venv  ## mypy --strict over every distribution
	$(BIN)/mypy libs/common/src libs/analyzer/src libs/devstack/src libs/cli/src \
	    services/gateway/src services/scheduler/src services/runner/src services/reporter/src

unit: venv  ## the fast tests: no sockets, no services
	$(BIN)/pytest tests/unit -q

test: venv lint typecheck  ## install and start everything the tests need, then run them all
	$(BIN)/pytest tests -q
