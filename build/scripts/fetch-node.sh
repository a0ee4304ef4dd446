#!/usr/bin/env bash
# Fetches the Node.js Droidway builds and runs with, from the npm registry (the one package
# source besides Debian's that setup may use), for hosts whose Node is older than 20.19 (stock
# Debian 12 ships 18; vite 7, @sveltejs/vite-plugin-svelte 6 and conf need >= 20.19 / 20).
#   node-linux-<arch>: the official node binary and its headers (node-gyp builds against them);
#   npm: the npm CLI, run by that node.
# Both are pinned by version and by the registry's sha512 integrity. Prints the folder to put
# first on PATH (it holds `node` and `npm`). Safe to run again: a good copy is kept.
#   bash build/scripts/fetch-node.sh [DEST]     # default DEST: .cache/node in the checkout
set -euo pipefail
cd "$(dirname "$0")/../.."

NODE_VERSION=20.19.6
NPM_VERSION=10.8.2
declare -A NODE_SHA512=(
  [x64]='nSaDjLjUZdsLMDckfinsQl+hvKifYUuzO7swyacVzrKAIi0ByaORSE1DpaRTjxfCq3mETV/3uTlKXStzd2nJWQ=='
  [arm64]='T28TZKZJ9yyf/ZZI1hVnzkvD3HhVrVe8O/5oSNO2WtlYVshqJrWuGnOOOk/7R3xF7psP2aVzHnbtQ1Q5UeWKmA=='
)
NPM_SHA512='x/AIjFIKRllrhcb48dqUNAAZl0ig9+qMuN91RpZo3Cb2+zuibfh+KISl6+kVVyktDz230JKc208UkQwwMqyB+w=='
REGISTRY=https://registry.npmjs.org

dest="$(realpath -m "${1:-.cache/node}")"
case "$(uname -m)" in
  x86_64 | amd64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "fetch-node: no Node.js package for $(uname -m)" >&2; exit 1 ;;
esac

# Downloads $1 into $2 and checks it against the base64 sha512 $3.
fetch() {
  curl -fsSL --retry 3 -o "$2" "$1"
  local got
  got="$(openssl dgst -sha512 -binary "$2" | base64 -w0)"
  if [ "$got" != "$3" ]; then
    echo "fetch-node: $1 does not match its pinned sha512 (got $got)" >&2
    rm -f "$2"
    exit 1
  fi
}

if [ ! -x "$dest/bin/node" ] || [ "$("$dest/bin/node" --version 2>/dev/null)" != "v$NODE_VERSION" ] ||
  [ ! -f "$dest/lib/npm/bin/npm-cli.js" ]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  echo "fetch-node: fetching node $NODE_VERSION ($arch) and npm $NPM_VERSION from $REGISTRY" >&2
  fetch "$REGISTRY/node-linux-$arch/-/node-linux-$arch-$NODE_VERSION.tgz" "$tmp/node.tgz" "${NODE_SHA512[$arch]}"
  fetch "$REGISTRY/npm/-/npm-$NPM_VERSION.tgz" "$tmp/npm.tgz" "$NPM_SHA512"
  mkdir -p "$tmp/node" "$tmp/npm"
  tar -xzf "$tmp/node.tgz" -C "$tmp/node" --strip-components=1
  tar -xzf "$tmp/npm.tgz" -C "$tmp/npm" --strip-components=1
  rm -rf "$dest.new"
  mkdir -p "$dest.new/lib"
  cp -a "$tmp/node/bin" "$tmp/node/include" "$dest.new/"
  cp -a "$tmp/npm" "$dest.new/lib/npm"
  # npm and npx as small scripts that run this node, whatever node is on the PATH.
  for tool in npm npx; do
    printf '#!/bin/sh\nexec "%s/bin/node" "%s/lib/npm/bin/%s-cli.js" "$@"\n' "$dest" "$dest" "$tool" >"$dest.new/bin/$tool"
    chmod 0755 "$dest.new/bin/$tool"
  done
  rm -rf "$dest"
  mv "$dest.new" "$dest"
fi
echo "$dest/bin"
