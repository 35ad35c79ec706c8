#!/usr/bin/env bash
# `make compose-check`: runs the unmodified docker-compose.yml for real and smoke-tests it
# through its published ports, then removes it (containers, network, volumes).
#
# On a machine without an image registry it builds local stand-ins for the third-party images
# first (deploy/standins/); where an official image of the same name is already present, that
# one is used. It installs what is missing (as root: Debian's docker.io, and the compose v2
# plugin built from its Go module), and starts dockerd when none is running, stopping it again
# at the end. Needs root for those steps.
#
# Environment:
#   PYTHON               the workspace's Python (the Makefile passes `uv run --frozen python`)
#   BUILD_EXTRA_CA_FILE  a PEM file of extra CA certificates for builds behind a TLS proxy;
#                        unset: this machine's own extra CA certificates, if it has some
#                        (deploy/checks/extra-ca.sh), empty: none
#   COMPOSE_CHECK_KEEP=1 leave the stack running at the end (stop it with the printed command)
set -euo pipefail

cd "$(dirname "$0")/../.."
PYTHON=${PYTHON:-python3}
source deploy/checks/free-ports.sh
source deploy/checks/extra-ca.sh
PROJECT=chat-check
work=$(mktemp -d)
STEPS_NAME=compose-check
source deploy/checks/steps.sh

cleanup() {
  local status=$?
  if [[ -n ${stack_up:-} && -z ${COMPOSE_CHECK_KEEP:-} ]]; then
    if ((status != 0)); then
      docker compose -p "$PROJECT" ps --all || true
      docker compose -p "$PROJECT" logs --tail 40 || true
    fi
    local started=$SECONDS
    docker compose -p "$PROJECT" down --volumes --remove-orphans --timeout 30 >/dev/null 2>&1 || true
    timings+=("$(printf '%-48s %5d s' "docker compose down -v" $((SECONDS - started)))")
  fi
  [[ -n ${COMPOSE_CHECK_KEEP:-} ]] || stop_engine
  rm -rf "$work"
  print_timings
  if ((status == 0)); then say "passed"; else say "FAILED (exit $status)"; fi
}
trap cleanup EXIT

choose_ports() {
  # Free loopback ports for every published port, so the check runs beside `make up`.
  local names=(POSTGRES REDIS KAFKA CASSANDRA FIRESTORE FIREBASE_AUTH AUTH CHAT AGGREGATOR CONSUMER UI)
  local ports
  read -r -a ports < <(free_ports "${#names[@]}")
  for i in "${!names[@]}"; do
    export "${names[$i]}_HOST_PORT=${ports[$i]}"
  done
}

compose_up() {
  export POSTGRES_PASSWORD JWT_SECRET
  POSTGRES_PASSWORD=$(openssl rand -hex 24)
  JWT_SECRET=$(openssl rand -hex 32)
  stack_up=1
  # A download that fails on an untrusted certificate stops the builds at once, with the cause.
  stop_on_tls_error docker compose -p "$PROJECT" up --build --detach --wait --wait-timeout 900
}

step "install missing packages" scripts/install-system-packages.sh containers
step "docker compose v2 plugin" deploy/checks/install-compose-plugin.sh
step "start the Docker engine (when none runs)" start_engine
use_machine_extra_ca "$work"
step "stand-ins for unreachable images" $PYTHON deploy/standins/build.py
choose_ports
step "docker compose up --build --wait" compose_up
step "smoke test through the published ports" $PYTHON deploy/checks/compose_smoke.py
if [[ -n ${COMPOSE_CHECK_KEEP:-} ]]; then
  say "left running; stop it with: docker compose -p $PROJECT down --volumes"
fi
