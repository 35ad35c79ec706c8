#!/usr/bin/env bash
# `make k8s-check`: every overlay in k8s/overlays, rendered, is accepted by a real Kubernetes
# API server: `kubectl apply --dry-run=server` runs the whole admission chain (defaulting,
# validation, Pod Security admission) without creating anything. The server is started here,
# on free loopback ports, from a private temporary folder: etcd, then kube-apiserver with a
# serving certificate, a service-account key pair and a static token, all made for this run
# and deleted with it. Both processes are stopped by their pids on exit, whatever happens.
#
# Needs kubectl, etcd (installed from Debian's etcd-server when missing, as root) and a
# kube-apiserver binary (deploy/checks/build-kubernetes.sh builds and caches one).
set -euo pipefail

cd "$(dirname "$0")/../.."
OVERLAYS=(k8s/overlays/dev k8s/overlays/prod)
PYTHON=${PYTHON:-python3}
source deploy/checks/free-ports.sh

elapsed_ms() { echo $((($(date +%s%N) - $1) / 1000000)); }

timed() {  # timed LABEL COMMAND...: runs the command, then prints how long it took
  local label=$1 start
  shift
  start=$(date +%s%N)
  "$@"
  printf '  %-58s %8.2f s\n' "$label" "$(elapsed_ms "$start")e-3"
}

wait_until() {  # wait_until SECONDS WHAT COMMAND...: retries the command until it succeeds
  local deadline=$((SECONDS + $1)) what=$2
  shift 2
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      echo "$what did not come up; its log:" >&2
      tail -n 30 "$work/$what.log" >&2
      return 1
    fi
    sleep 0.2
  done
}

find_apiserver() {
  apiserver=$(deploy/checks/build-kubernetes.sh kube-apiserver)
}

make_credentials() {
  # The server's own certificate, for 127.0.0.1, doubling as the CA kubectl checks it with.
  openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=k8s-check" \
    -addext "subjectAltName=IP:127.0.0.1" \
    -keyout "$work/serving.key" -out "$work/serving.crt" 2>/dev/null
  # The key pair the server signs and checks service-account tokens with.
  openssl genrsa -out "$work/service-account.key" 2048 2>/dev/null
  openssl rsa -in "$work/service-account.key" -pubout -out "$work/service-account.pub" 2>/dev/null
  # kubectl's identity: a static token of a cluster administrator.
  token=$(openssl rand -hex 24)
  echo "$token,k8s-check,k8s-check,system:masters" >"$work/tokens.csv"
}

start_etcd() {
  etcd --name k8s-check --data-dir "$work/etcd" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" \
    --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$etcd_peer_port" \
    --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer_port" \
    --initial-cluster "k8s-check=http://127.0.0.1:$etcd_peer_port" \
    >"$work/etcd.log" 2>&1 &
  etcd_pid=$!
  wait_until 30 etcd curl --silent --fail "http://127.0.0.1:$etcd_port/health"
}

start_apiserver() {
  "$apiserver" \
    --etcd-servers "http://127.0.0.1:$etcd_port" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$apiserver_port" \
    --tls-cert-file "$work/serving.crt" --tls-private-key-file "$work/serving.key" \
    --token-auth-file "$work/tokens.csv" --authorization-mode RBAC \
    --service-account-issuer https://kubernetes.default.svc \
    --service-account-key-file "$work/service-account.pub" \
    --service-account-signing-key-file "$work/service-account.key" \
    --service-cluster-ip-range 10.96.0.0/16 \
    --profiling=false \
    >"$work/kube-apiserver.log" 2>&1 &
  apiserver_pid=$!
  kubectl config set-cluster k8s-check --server "https://127.0.0.1:$apiserver_port" \
    --certificate-authority "$work/serving.crt" --embed-certs >/dev/null
  kubectl config set-credentials k8s-check --token "$token" >/dev/null
  kubectl config set-context k8s-check --cluster k8s-check --user k8s-check >/dev/null
  kubectl config use-context k8s-check >/dev/null
  wait_until 120 kube-apiserver kubectl get --raw /readyz
}

namespaces_of() {  # the Namespace documents of a rendered file (kustomize's layout: ---, kind:)
  awk '/^---$/ { if (ns) printf "---\n%s", doc; doc = ""; ns = 0; next }
       { doc = doc $0 "\n" }
       /^kind: Namespace$/ { ns = 1 }
       END { if (ns) printf "---\n%s", doc }' "$1"
}

create_namespaces() {  # create_namespaces RENDERED: for real, with the overlay's labels
  kubectl apply -f <(namespaces_of "$1") >/dev/null
}

dry_run() {  # dry_run RENDERED: kubectl's answers in RENDERED.out and .err, never fails
  kubectl apply --dry-run=server -f "$1" >"$1.out" 2>"$1.err" || true
}

check_overlay() {  # check_overlay PATH: every object of the rendered overlay is admitted
  local overlay=$1 rendered objects admitted
  rendered=$work/$(basename "$overlay").yaml
  timed "render $overlay" \
    kubectl kustomize --load-restrictor LoadRestrictionsNone "$overlay" -o "$rendered"
  # A dry run creates nothing, so the namespace the other objects go into must exist, with
  # the overlay's labels: they decide the Pod Security level its pods are held to.
  timed "create its namespace" create_namespaces "$rendered"
  timed "kubectl apply --dry-run=server" dry_run "$rendered"
  objects=$(grep -c '^kind:' "$rendered")
  admitted=$(grep -c '(server dry run)$' "$rendered.out" || true)
  # Warnings (a Pod Security violation, a deprecated API) fail the check too.
  if [[ -s $rendered.err ]] || ((admitted != objects)); then
    cat "$rendered.err" >&2
    echo "FAIL $overlay: $admitted of $objects objects admitted; the API server's words above" >&2
    return 1
  fi
  echo "  ok: all $objects objects of $overlay admitted, no warnings"
}

stop() {
  local pid
  for pid in ${apiserver_pid:-} ${etcd_pid:-}; do
    kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}

command -v kubectl >/dev/null || { echo "kubectl is required" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/k8s-check.XXXXXX")
trap stop EXIT
trap 'exit 130' INT TERM  # through the EXIT trap: servers stopped, folder deleted
export KUBECONFIG=$work/kubeconfig

total=$(date +%s%N)
echo "k8s-check: the overlays against a real kube-apiserver"
timed "etcd present (apt-get install etcd-server if not)" scripts/install-system-packages.sh kubernetes
timed "kube-apiserver binary (built and cached if absent)" find_apiserver
read -r etcd_port etcd_peer_port apiserver_port <<<"$(free_ports 3)"
timed "certificate, service-account keys, token" make_credentials
timed "start etcd on 127.0.0.1:$etcd_port" start_etcd
timed "start kube-apiserver on 127.0.0.1:$apiserver_port (until /readyz)" start_apiserver
echo "  server version: $(kubectl get --raw /version | grep -o '"gitVersion": *"[^"]*"' | cut -d'"' -f4)"
for overlay in "${OVERLAYS[@]}"; do
  check_overlay "$overlay"
done
printf '  %-58s %8.2f s\n' "total" "$(elapsed_ms "$total")e-3"
