#!/usr/bin/env bash
# build-kubernetes.sh COMPONENT...: prints the path of each Kubernetes binary named (kube-apiserver,
# kubelet, kube-controller-manager, kube-scheduler, kube-proxy), one per line, building the
# missing ones first.
# Kubernetes publishes no module that `go install` can build: the main module replaces its
# k8s.io/* dependencies by ./staging folders and vendors them. So the module is copied, those
# replaces become the matching published versions, and the binaries are built from that, in one
# `go build` so they share their packages (the API server alone takes about eight minutes on two
# idle cores; all five about fifteen; once per machine).
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-v1.32.4}
CACHE=${CHAT_TOOLS_DIR:-$HOME/.cache/chat-devstack/tools}
(($# > 0)) || set -- kube-apiserver

missing=()
for component in "$@"; do
  [[ -x $CACHE/bin/$component-$K8S_VERSION ]] || missing+=("$component")
done
if ((${#missing[@]} > 0)); then
  source "$(dirname "$0")/go-module.sh"
  echo "building ${missing[*]} $K8S_VERSION from the Kubernetes Go module" >&2
  writable_module_copy "k8s.io/kubernetes@$K8S_VERSION"
  (
    cd "$module_copy"
    rm -rf vendor go.work go.work.sum
    # Staging modules (k8s.io/api, k8s.io/client-go, ...) are published as v0.MINOR.PATCH.
    staging_version=v0.${K8S_VERSION#v1.}
    for module in $(go mod edit -json | python3 -c '
import json, sys
for r in json.load(sys.stdin).get("Replace") or []:
    if r["New"]["Path"].startswith("./staging"):
        print(r["Old"]["Path"])'); do
      go mod edit -dropreplace="$module" -require="$module@$staging_version"
    done
    mkdir -p out "$CACHE/bin"
    go build -mod=mod -trimpath \
      -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION" \
      -o out/ "${missing[@]/#/./cmd/}" >&2
    for component in "${missing[@]}"; do
      mv "out/$component" "$CACHE/bin/$component-$K8S_VERSION"
    done
  )
fi
for component in "$@"; do
  echo "$CACHE/bin/$component-$K8S_VERSION"
done
