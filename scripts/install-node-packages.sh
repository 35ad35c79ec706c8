#!/usr/bin/env bash
# Installs a folder's npm packages from its package-lock.json, once per lock file per machine:
#   install-node-packages.sh devstack
#   install-node-packages.sh frontend
# `npm ci` runs once per lock file, in the tools cache under a name made of the folder and the
# lock file's hash; the folder's node_modules is then a hard-linked copy of that tree (seconds,
# and no space; a plain copy where the cache is on another file system). The Firebase CLI that
# devstack runs pulls in re2, whose native part npm compiles from C++ when no prebuilt binary
# can be downloaded: about a minute of two cores on every clean checkout without the cache;
# the UI's packages take half a minute more. node_modules/.package-lock-hash marks which lock
# file a copy came from, so a changed lock file installs again. An interrupted install is
# never used. Prints nothing when there is nothing to do.
#
# Files in the copy share their contents with the cache: a tool that rewrote a file of an
# installed package in place would change the cache too (npm, Next.js and the Firebase CLI
# write new files only, under their own cache folders).
set -euo pipefail

folder=${1:?usage: install-node-packages.sh FOLDER}
CACHE=${CHAT_TOOLS_DIR:-$HOME/.cache/chat-devstack/tools}
lock_hash=$(sha256sum "$folder/package-lock.json" | cut -c1-16)
target=$CACHE/node-packages/$(basename "$(cd "$folder" && pwd)")-$lock_hash
installed=$folder/node_modules
mark=$installed/.package-lock-hash

if [[ -f $mark && $(cat "$mark") == "$lock_hash" ]]; then
  exit 0
fi

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

rm -rf "$installed"
cp -al "$target/node_modules" "$installed" 2>/dev/null || cp -a "$target/node_modules" "$installed"
echo "$lock_hash" >"$mark"
