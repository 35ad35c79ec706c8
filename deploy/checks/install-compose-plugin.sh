#!/usr/bin/env bash
# Makes `docker compose` (v2) available when it is not: builds the plugin from its Go module
# (Debian ships only compose 1.29, which rejects this repository's compose file) and caches
# the binary, so the build (about five minutes on two cores) happens once per machine.
# `go install` cannot be used: the module carries `exclude` directives.
set -euo pipefail

COMPOSE_VERSION=${COMPOSE_VERSION:-v2.40.3}
CACHE=${CHAT_TOOLS_DIR:-$HOME/.cache/chat-devstack/tools}
BINARY=$CACHE/bin/docker-compose-$COMPOSE_VERSION
PLUGIN_DIR=${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins

if docker compose version >/dev/null 2>&1; then
  exit 0
fi
if [[ ! -x $BINARY ]]; then
  source "$(dirname "$0")/go-module.sh"
  echo "building docker compose $COMPOSE_VERSION from its Go module (about five minutes)"
  writable_module_copy "github.com/docker/compose/v2@$COMPOSE_VERSION"
  work=$module_copy
  mkdir -p "$CACHE/bin"
  (cd "$work" && go build -trimpath \
      -ldflags "-s -w -X github.com/docker/compose/v2/internal.Version=$COMPOSE_VERSION" \
      -o "$BINARY.partial" ./cmd)
  mv "$BINARY.partial" "$BINARY"
fi
mkdir -p "$PLUGIN_DIR"
ln -sf "$BINARY" "$PLUGIN_DIR/docker-compose"
docker compose version
