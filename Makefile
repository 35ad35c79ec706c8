# One entry point for people and CI. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

export UV_PYTHON_DOWNLOADS := never
# The suites start hundreds of Python processes (services, workers, command lines): each
# loads its imports from compiled bytecode (written by `install` for the dependencies, on
# first import for the project's own packages) instead of compiling them again, about 2 s of
# CPU less per process on two cores.
export PYTHONDONTWRITEBYTECODE :=
UV_VERSION := 0.13.9
TOOLS_DIR := $(HOME)/.cache/chat-devstack/tools
UV := $(or $(shell command -v uv 2>/dev/null),$(TOOLS_DIR)/bin/uv)
RUN := $(UV) run --frozen
PYTEST_ARGS ?=
# Processes `make test` runs the suites in (pytest-xdist): most tests wait on servers, not the
# CPU, so three keep two cores busy (four were slower: the starts of the JVMs, services and
# browsers then compete for the cores). A file's tests stay on one worker; see docs/testing.md.
TEST_WORKERS ?= 3

.PHONY: help install up down status logs reset test test-fast fault soak-faults lint typecheck format api-types compose-check k8s-check k8s-up k8s-down k8s-test

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(TOOLS_DIR)/bin/uv:
	python3 -m pip install --quiet --disable-pip-version-check --target $(TOOLS_DIR) uv==$(UV_VERSION)

install: $(UV) ## install what is missing: uv, system packages, Python and npm dependencies, Toxiproxy
	@scripts/install-system-packages.sh
	$(UV) sync --frozen --all-packages --compile-bytecode
	@scripts/install-node-packages.sh devstack
	@deploy/checks/build-go-tool.sh toxiproxy-server >/dev/null
	@scripts/install-node-packages.sh frontend

up: install ## start the infrastructure, the services and the UI; print where they listen
	$(RUN) devstack up

down: ## stop everything `make up` started
	$(RUN) devstack down

status: ## one line per component: pid, port, healthy
	$(RUN) devstack status

logs: ## the end of one component's log: make logs NAME=kafka
	$(RUN) devstack logs $(or $(NAME),$(error give NAME=component, e.g. make logs NAME=kafka))

reset: ## stop everything and delete all local state (downloads are kept)
	$(RUN) devstack reset

test: install ## the UI's unit tests and build while the infrastructure starts, then every Python suite
	$(RUN) devstack up --infra & infra=$$!; \
	  (cd frontend && npm test) && $(RUN) devstack prepare --only ui; ui=$$?; \
	  wait $$infra && exit $$ui
	$(RUN) pytest -n $(TEST_WORKERS) --durations=10 $(PYTEST_ARGS)

test-fast: install ## no servers needed: unit, contract-shape and UI unit tests, about a minute (docs/testing.md)
	cd frontend && npm test
	$(RUN) pytest -m "not infra" $(PYTEST_ARGS)

fault: install ## the fault suite at full load, on infrastructure of its own; prints the table
	FAULT_SCALE=full $(RUN) pytest tests/faults $(PYTEST_ARGS)

soak-faults: install ## the long audited run: 200,000 messages, a fault every 30 s (tests/faults/test_soak_faults.py); about 20 minutes here
	SOAK_MESSAGES=$${SOAK_MESSAGES:-200000} $(RUN) pytest -s tests/faults/test_soak_faults.py $(PYTEST_ARGS)

lint: install ## ruff lint and format check; the architecture's import contracts; ESLint on the UI
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) lint-imports
	cd frontend && npm run lint

format: install ## apply ruff's fixes and formatting
	$(RUN) ruff check --fix .
	$(RUN) ruff format .

api-types: install ## the services' OpenAPI documents into frontend/openapi/, then the UI's API types from them
	$(RUN) python scripts/export_openapi.py
	cd frontend && npm run api-types

compose-check: install ## docker compose up for real (stand-in images where no registry), smoke test, down; needs root
	PYTHON="$(RUN) python" UV="$(UV)" deploy/checks/compose-check.sh

typecheck: install ## mypy, strict on every src/ folder; tsc on the UI
	$(RUN) mypy
	cd frontend && npm run typecheck

k8s-check: ## every k8s overlay through a real kube-apiserver (server dry run); not in `make test`
	PYTHON="$(RUN) python" deploy/checks/k8s-check.sh

k8s-up: install ## a one-node Kubernetes cluster on this machine (root; builds its binaries once), kubeconfig in .devstack/cluster/
	@scripts/install-system-packages.sh cluster
	$(RUN) devstack cluster up

k8s-down: ## stop the one-node cluster and remove everything it left on the machine (checked)
	$(RUN) devstack cluster down

k8s-test: install ## the dev overlay on the one-node cluster: smoke, browser, pod deletions, scale-out, tilt ci, live update; a table; needs root
	@scripts/install-system-packages.sh cluster
	$(RUN) pytest tests/cluster -p no:cacheprovider $(PYTEST_ARGS)
