#!/usr/bin/env bash
# Installs the Debian packages the local stack, its tests and its benchmarks need when they are
# missing (as root only; otherwise it says what to install): the Postgres server, the Redis
# server (the services' shared rate-limit counters), Chromium for the browser tests (driven by
# Playwright, which never downloads a browser of its own here) with the Noto emoji and CJK
# fonts, and wrk, the load generator of bench/. Java 17, Maven, Node.js and the Google Cloud
# SDK with its Firestore emulator are expected on the machine; devstack names whichever one is
# missing. First, and without root: a kustomize for the Kubernetes tests when kubectl is not
# installed (install-kustomize.sh).
#
# The opt-in checks name a group of their own:
#   install-system-packages.sh containers   Docker's engine and mmdebstrap (make compose-check)
#   install-system-packages.sh kubernetes   etcd, for the API server of make k8s-check
#   install-system-packages.sh cluster      a one-node cluster's parts (make k8s-up): containerd,
#                                           runc, the CNI plugins, iptables, conntrack, etcd,
#                                           and Docker's engine with mmdebstrap for the images
set -euo pipefail

missing=()
case ${1:-stack} in
  stack)
    "$(dirname "$0")/install-kustomize.sh"
    compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
    command -v runuser >/dev/null || missing+=(util-linux)
    command -v redis-server >/dev/null || missing+=(redis-server)
    command -v chromium >/dev/null || missing+=(chromium)
    command -v wrk >/dev/null || missing+=(wrk)
    # Without them the browser draws emoji and Chinese, Japanese and Korean text as empty boxes.
    [[ -e /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ]] || missing+=(fonts-noto-color-emoji)
    compgen -G "/usr/share/fonts/opentype/noto/NotoSansCJK*" >/dev/null || missing+=(fonts-noto-cjk)
    ;;
  containers)
    command -v dockerd >/dev/null || missing+=(docker.io containerd runc iptables)
    command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
    ;;
  kubernetes)
    command -v etcd >/dev/null || missing+=(etcd-server)
    ;;
  cluster)
    command -v etcd >/dev/null || missing+=(etcd-server)
    command -v dockerd >/dev/null || missing+=(docker.io)
    command -v containerd >/dev/null || missing+=(containerd)
    command -v runc >/dev/null || missing+=(runc)
    command -v iptables >/dev/null || missing+=(iptables)
    command -v conntrack >/dev/null || missing+=(conntrack)
    command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
    [[ -x /usr/lib/cni/bridge ]] || missing+=(containernetworking-plugins)
    # The pod sandbox (pause) stand-in is compiled from the Kubernetes sources, statically.
    command -v gcc >/dev/null || missing+=(gcc libc6-dev)
    ;;
  *)
    echo "usage: $0 [stack|containers|kubernetes|cluster]" >&2
    exit 2
    ;;
esac

if ((${#missing[@]} == 0)); then
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "missing Debian packages: ${missing[*]} (install them with apt-get, as root)" >&2
  exit 1
fi
echo "installing Debian packages: ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
