#!/usr/bin/env bash
# Prints the path of a kube-apiserver binary, building it first when it is not cached.
# Kubernetes publishes no module that `go install` can build: the main module replaces its
# k8s.io/* dependencies by ./staging folders and vendors them. So the module is copied, those
# replaces become the matching published versions, and the API server is built from that
# (about eight minutes on two cores, once per machine).
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-v1.32.4}
CACHE=${CHAT_TOOLS_DIR:-$HOME/.cache/chat-devstack/tools}
BINARY=$CACHE/bin/kube-apiserver-$K8S_VERSION

if [[ -x $BINARY ]]; then
  echo "$BINARY"
  exit 0
fi
source "$(dirname "$0")/go-module.sh"
echo "building kube-apiserver $K8S_VERSION from its Go module (about eight minutes)" >&2
writable_module_copy "k8s.io/kubernetes@$K8S_VERSION"
work=$module_copy
cd "$work"
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
mkdir -p "$CACHE/bin"
go build -mod=mod -trimpath \
  -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION" \
  -o "$BINARY.partial" ./cmd/kube-apiserver >&2
mv "$BINARY.partial" "$BINARY"
echo "$BINARY"
