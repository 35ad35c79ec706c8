# shellcheck shell=bash
# Sourced by the checks that run as timed steps and may start a Docker engine of their own
# (compose-check.sh, cluster-images.sh). Set STEPS_NAME (each line's prefix) and `work` (a
# temporary folder) first; call stop_engine and print_timings from the script's exit trap.

declare -a timings=()
started_dockerd=""

say() { printf '[%s] %s\n' "$STEPS_NAME" "$*"; }

# step NAME COMMAND...: runs the command, and keeps its time for print_timings.
step() {
  local name=$1
  shift
  local started=$SECONDS
  say "$name"
  "$@"
  timings+=("$(printf '%-48s %5d s' "$name" $((SECONDS - started)))")
}

print_timings() {
  printf '\n'
  printf '%s\n' "${timings[@]}"
}

# start_engine: the running Docker engine, or one started here (stop_engine stops it by pid).
start_engine() {
  docker info >/dev/null 2>&1 && return
  dockerd --host unix:///var/run/docker.sock >"$work/dockerd.log" 2>&1 &
  started_dockerd=$!
  for _ in $(seq 60); do
    docker info >/dev/null 2>&1 && return
    sleep 0.5
  done
  cat "$work/dockerd.log" >&2
  return 1
}

stop_engine() {
  if [[ -n $started_dockerd ]]; then
    kill "$started_dockerd" 2>/dev/null || true
    wait "$started_dockerd" 2>/dev/null || true
  fi
}
