#!/usr/bin/env bash
# Installs a folder's npm packages from its package-lock.json, once per lock file per machine:
#   install-node-packages.sh devstack
# The packages go to the tools cache under a name made of the folder and the lock file's hash,
# and the folder's node_modules becomes a link to them. The Firebase CLI that devstack runs pulls
# in re2, whose native part npm compiles from C++ when no prebuilt binary can be downloaded:
# about a minute of two cores on every clean checkout without the cache, nothing with it.
# A changed lock file gets a fresh directory; an interrupted install is never linked.
# Prints nothing when there is nothing to do.
set -euo pipefail

folder=${1:?usage: install-node-packages.sh FOLDER}
CACHE=${CHAT_TOOLS_DIR:-$HOME/.cache/chat-devstack/tools}
lock_hash=$(sha256sum "$folder/package-lock.json" | cut -c1-16)
target=$CACHE/node-packages/$(basename "$folder")-$lock_hash

if [[ ! -d $target/node_modules ]]; then
  echo "installing $folder's npm packages into $target"
  partial=$target.partial.$$
  rm -rf "$partial"
  mkdir -p "$partial"
  cp "$folder/package.json" "$folder/package-lock.json" "$partial/"
  (cd "$partial" && npm ci --no-audit --no-fund)
  rm -rf "$target"
  mv "$partial" "$target"
fi

link=$folder/node_modules
if [[ $(readlink "$link" 2>/dev/null) != "$target/node_modules" ]]; then
  rm -rf "$link"
  ln -s "$target/node_modules" "$link"
fi
