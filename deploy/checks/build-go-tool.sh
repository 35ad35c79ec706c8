#!/usr/bin/env bash
# build-go-tool.sh NAME...: prints the path of each tool named, one per line, building the
# missing ones first from their Go modules (through the module proxy) and caching them as
# $CHAT_TOOLS_DIR/bin/NAME-VERSION. Names: tilt, coredns, metrics-server, toxiproxy-server,
# toxiproxy-cli, registry. Build logs and times go to stderr, so `$(build-go-tool.sh tilt)`
# is the binary.
#
# Each module is built from a writable copy with `-mod=mod`: `go install MODULE@VERSION` asks
# the proxy for the module's version list, which it does not serve for every module here, and
# some modules (tilt, distribution) ship a vendor/modules.txt without the vendored code.
#
# coredns and metrics-server are built without cgo, as static binaries, so a container image
# needs nothing but the binary. Without a registry to pull a base image from, such an image is
# a one-file tarball imported by Docker, for example:
#   bin=$(deploy/checks/build-go-tool.sh metrics-server); root=$(mktemp -d)
#   cp "$bin" "$root/metrics-server"
#   tar -C "$root" -c metrics-server |
#     docker import --change 'ENTRYPOINT ["/metrics-server"]' - metrics-server:v0.8.0
set -euo pipefail

CACHE=${CHAT_TOOLS_DIR:-$HOME/.cache/chat-devstack/tools}

# recipe NAME: sets module, version, package, ldflags and cgo (0: static, empty: Go's default).
recipe() {
  cgo=0 prepare=:
  case $1 in
    tilt)
      # Only this version is on the proxy. The release stamps main.version; without it the
      # binary calls itself 0.33.22-dev (internal/cli's devVersion constant).
      module=github.com/tilt-dev/tilt version=v0.34.0 package=./cmd/tilt cgo=
      ldflags="-X main.version=0.34.0 -X main.date=$(date -u +%Y-%m-%d)"
      prepare=tilt_without_web_ui ;;
    coredns)
      # The version is CoreDNS's own constant (coremain.CoreVersion); the main package is the root.
      module=github.com/coredns/coredns version=v1.14.7 package=.
      ldflags="" ;;
    metrics-server)
      module=sigs.k8s.io/metrics-server version=v0.8.0 package=./cmd/metrics-server
      ldflags="-X k8s.io/client-go/pkg/version.gitVersion=v0.8.0" ;;
    toxiproxy-server | toxiproxy-cli)
      module=github.com/Shopify/toxiproxy/v2 version=v2.5.0 package=./cmd/${1#toxiproxy-}
      ldflags="-X github.com/Shopify/toxiproxy/v2.Version=2.5.0" ;;
    registry)
      module=github.com/distribution/distribution/v3 version=v3.0.0 package=./cmd/registry
      ldflags="-X github.com/distribution/distribution/v3/version.version=v3.0.0" ;;
    *)
      echo "unknown tool '$1' (tilt, coredns, metrics-server, toxiproxy-server," \
        "toxiproxy-cli, registry)" >&2
      return 1 ;;
  esac
}

# tilt_without_web_ui: a release build of Tilt serves its web UI from files embedded at build
# time, which its module does not hold (they are built with yarn from web/), and refuses to start
# without them. One page in their place says where the same information is.
tilt_without_web_ui() {
  cat >pkg/assets/build/index.html <<'PAGE'
<!doctype html>
<title>Tilt</title>
<p>This Tilt was built from its Go module without its web UI. The terminal (<code>tilt up</code>)
and <code>tilt get uiresources</code> show the state of every resource.</p>
PAGE
}

# build NAME BINARY: builds the tool into BINARY, in a subshell so that the module copy is
# removed when it ends (writable_module_copy removes it when its shell exits).
build() (
  source "$(dirname "$0")/go-module.sh"
  echo "building $1 $version from $module" >&2
  SECONDS=0
  writable_module_copy "$module@$version"
  cd "$module_copy"
  $prepare
  mkdir -p "$(dirname "$2")"
  # A partial file first, so a stopped build never leaves a binary that looks cached.
  CGO_ENABLED=${cgo:-$(go env CGO_ENABLED)} \
    go build -mod=mod -trimpath -ldflags "-s -w $ldflags" -o "$2.partial" "$package" >&2
  mv "$2.partial" "$2"
  echo "built $1 $version in $((SECONDS / 60))m$((SECONDS % 60))s: $2" >&2
)

(($# > 0)) || { echo "usage: $0 NAME..." >&2; exit 2; }
for name in "$@"; do
  recipe "$name"
  binary=$CACHE/bin/$name-$version
  [[ -x $binary ]] || build "$name" "$binary"
  echo "$binary"
done
