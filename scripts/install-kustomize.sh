#!/usr/bin/env bash
# Makes sure the Kubernetes tests can render the kustomizations in k8s/: kubectl has kustomize
# built in, a standalone kustomize does too. When neither is on PATH, builds kustomize from its
# Go module into the tools cache (about two minutes on two cores, once per machine); the tests
# look there as well. Prints nothing when there is nothing to do.
set -euo pipefail

KUSTOMIZE_VERSION=${KUSTOMIZE_VERSION:-v5.8.1}
CACHE=${CHAT_TOOLS_DIR:-$HOME/.cache/chat-devstack/tools}

if command -v kubectl >/dev/null || command -v kustomize >/dev/null \
  || [[ -x $CACHE/bin/kustomize ]]; then
  exit 0
fi
command -v go >/dev/null || {
  echo "neither kubectl nor kustomize is installed, and Go is not there to build kustomize" >&2
  exit 1
}
echo "building kustomize $KUSTOMIZE_VERSION from its Go module into $CACHE/bin"
mkdir -p "$CACHE/bin"
GOBIN=$CACHE/bin go install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION"
