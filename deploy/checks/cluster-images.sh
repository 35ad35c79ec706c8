#!/usr/bin/env bash
# cluster-images.sh [--rebuild] CONTAINERD_SOCKET: puts every image the dev overlay names
# (k8s/overlays/dev), and the pod sandbox image registry.k8s.io/pause:3.10, into the containerd
# that listens on CONTAINERD_SOCKET, in its `k8s.io` namespace (where its CRI plugin, and so the
# kubelet, looks), for a one-node cluster that reaches no image registry.
#
# What is missing is built with Docker first:
# - the third-party images as local stand-ins, pause included (deploy/standins/build.py);
# - ours (chat-app, chat-firebase-auth-emulator, chat-ui) by `docker compose build`, from the
#   definitions docker-compose.yml runs (the UI's `runtime` target, as for the dev overlay by
#   hand; Tilt builds the `dev` target under tags of its own). Compose, because it carries its
#   own BuildKit client: the Dockerfile's `RUN --mount` needs BuildKit, and `docker build` has it
#   only with the buildx plugin, which Debian's Docker lacks.
# Ours are built every time (Docker's layer cache makes an unchanged build take seconds, and an
# image that merely exists may hold older sources); a stand-in Docker has is not built again
# unless --rebuild; an image containerd holds with the same ID is not imported again: a second
# run takes seconds. Each step's time is printed at the end.
#
# Needs root: it installs Debian's docker.io and mmdebstrap when missing, and starts dockerd
# when no engine answers (stopping it again at the end).
#
# Environment:
#   PYTHON                  the workspace's Python (default: uv run --frozen python)
#   BUILD_EXTRA_CA_FILE     extra CA certificates for the builds' downloads (deploy/README.md);
#                           unset: this machine's own extra CA certificates, if it has some
#   CONTAINERD_SNAPSHOTTER  read by ctr: the snapshotter to unpack into (the node's; default
#                           overlayfs)
set -euo pipefail

cd "$(dirname "$0")/../.."
source deploy/checks/extra-ca.sh
PYTHON=${PYTHON:-${UV:-uv} run --frozen python}
PAUSE_IMAGE=registry.k8s.io/pause:3.10  # deploy/standins/build.py builds it
# Compose checks every variable the file needs, the run-time secrets too, even to build.
COMPOSE=(env POSTGRES_PASSWORD=unused JWT_SECRET=unused docker compose -p chat-images)

usage() {
  echo "usage: $0 [--rebuild] CONTAINERD_SOCKET" >&2
  exit 2
}
rebuild=""
socket=""
for argument in "$@"; do
  case $argument in
    --rebuild) rebuild=1 ;;
    -*) usage ;;
    *) [[ -z $socket ]] || usage; socket=$argument ;;
  esac
done
[[ -n $socket ]] || usage

work=$(mktemp -d)
STEPS_NAME=cluster-images
source deploy/checks/steps.sh
declare -a images=()

cleanup() {
  local status=$?
  stop_engine
  rm -rf "$work"
  print_timings
  if ((status == 0)); then say "done"; else say "FAILED (exit $status)"; fi
}
trap cleanup EXIT

ctr_() { ctr --address "$socket" --namespace k8s.io "$@"; }

containerd_answers() {
  if ! ctr_ version >/dev/null 2>"$work/ctr.log"; then
    say "no containerd answers on $socket:"
    cat "$work/ctr.log" >&2
    return 1
  fi
}

list_images() {
  local rendered
  if command -v kubectl >/dev/null; then
    rendered=$(kubectl kustomize k8s/overlays/dev --load-restrictor=LoadRestrictionsNone)
  elif command -v kustomize >/dev/null; then
    rendered=$(kustomize build --load-restrictor LoadRestrictionsNone k8s/overlays/dev)
  else
    say "rendering k8s/overlays/dev needs kubectl or kustomize"
    return 1
  fi
  mapfile -t images < <(
    sed -nE 's/^[ -]*image: *"?([^" ]+)"?$/\1/p' <<<"$rendered" | sort -u
    echo "$PAUSE_IMAGE"
  )
  say "${#images[@]} images: ${images[*]}"
}

build_stand_ins() {
  local flags=(--cluster)
  [[ -n $rebuild ]] || flags+=(--missing)
  # shellcheck disable=SC2086 # PYTHON is a command line
  stop_on_tls_error $PYTHON deploy/standins/build.py "${flags[@]}"
}

build_ours() {
  # Always built: Docker's layer cache makes an unchanged build take seconds, and an image
  # that merely exists may be of older sources.
  local wanted=("${images[@]}") services=()
  # The compose services that build them (one per image: several services share chat-app:dev).
  mapfile -t services < <("${COMPOSE[@]}" config --format json | python3 -c '
import json, sys
wanted, builders = set(sys.argv[1:]), {}
for name, service in json.load(sys.stdin)["services"].items():
    if "build" in service and service.get("image") in wanted:
        builders.setdefault(service["image"], name)
print("\n".join(builders.values()))' "${wanted[@]}")
  ((${#services[@]} > 0)) || return 0
  say "building with docker compose: ${services[*]}"
  stop_on_tls_error "${COMPOSE[@]}" build "${services[@]}"
}

check_built() {
  local image missing=()
  for image in "${images[@]}"; do
    docker image inspect "$image" >/dev/null 2>&1 || missing+=("$image")
  done
  ((${#missing[@]} == 0)) && return
  say "no image, and no way here to build it: ${missing[*]}"
  say "(neither a stand-in of deploy/standins/build.py nor built by docker-compose.yml)"
  return 1
}

# containerd_name IMAGE: the name containerd gives IMAGE, with the registry Docker implies.
containerd_name() {
  local first=${1%%/*}
  if [[ $1 != */* ]]; then
    echo "docker.io/library/$1"
  elif [[ $first == *.* || $first == *:* || $first == localhost ]]; then
    echo "$1"
  else
    echo "docker.io/$1"
  fi
}

# containerd_image_id NAME: the image's ID (its config's digest, which is Docker's image ID),
# or nothing when containerd has no such image.
containerd_image_id() {
  local manifest
  manifest=$(ctr_ images ls "name==$1" | awk 'NR > 1 { print $3 }')
  [[ -n $manifest ]] || return 0
  ctr_ content get "$manifest" | python3 -c '
import json, sys
print(json.load(sys.stdin).get("config", {}).get("digest", ""))'
}

# import_images: one `docker save` of every image containerd lacks (or holds in another
# version), so the layers the stand-ins share cross the pipe once.
import_images() {
  local image id wanted=()
  for image in "${images[@]}"; do
    id=$(docker image inspect --format '{{.Id}}' "$image")
    [[ $(containerd_image_id "$(containerd_name "$image")") == "$id" ]] || wanted+=("$image")
  done
  if ((${#wanted[@]} == 0)); then
    say "containerd has every image already"
    return
  fi
  say "importing ${wanted[*]}"
  docker save "${wanted[@]}" | ctr_ images import --all-platforms - >"$work/import.log" 2>&1 ||
    { cat "$work/import.log" >&2; return 1; }
}

check_imported() {
  local image line listed missing=()
  listed=$(ctr_ images ls)
  for image in "${images[@]}"; do
    line=$(awk -v name="$(containerd_name "$image")" '$1 == name' <<<"$listed")
    [[ -n $line ]] || { missing+=("$image"); continue; }
    awk '{ printf "  %-72s %s %s\n", $1, $4, $5 }' <<<"$line"
  done
  ((${#missing[@]} == 0)) && return
  say "containerd does not list: ${missing[*]}"
  return 1
}

step "containerd answers" containerd_answers
step "install missing packages" scripts/install-system-packages.sh containers
step "docker compose v2 plugin" deploy/checks/install-compose-plugin.sh
step "start the Docker engine (when none runs)" start_engine
use_machine_extra_ca "$work"
step "images the dev overlay names, and pause" list_images
step "stand-ins for unreachable images" build_stand_ins
step "our images (docker compose build)" build_ours
check_built
step "import into containerd (what it lacks)" import_images
step "containerd lists every image" check_imported
