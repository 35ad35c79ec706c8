# Sourced by the scripts that build a tool from its Go module source.

# writable_module_copy MODULE@VERSION: downloads the module through the Go module proxy and
# copies it into a writable folder (the module cache is read-only), named in $module_copy and
# removed when the calling shell exits. Call it directly, not in $(...): the removal is set up
# in the shell that runs it.
writable_module_copy() {
  command -v go >/dev/null || { echo "building $1 needs Go, which is not installed" >&2; return 1; }
  local module_dir
  module_dir=$(go mod download -json "$1" | python3 -c 'import json, sys; print(json.load(sys.stdin)["Dir"])')
  module_copy=$(mktemp -d)
  # shellcheck disable=SC2064 # the folder is known now, and must be removed at exit
  trap "chmod -R u+w '$module_copy'; rm -rf '$module_copy'" EXIT
  cp -r "$module_dir/." "$module_copy/"
  chmod -R u+w "$module_copy"
}
